"""Session parameters: declared once, set by OSC, by MIDI CC, or as daemon defaults.

Each :class:`Param` knows its type, range, default and default MIDI CC. ``validate``
turns a raw value (OSC int/float/string, or text from the command line) into the typed
value or raises :class:`ParamError` with a message fit for an error reply. Values that
contradict each other (``ORDERED``: ``pitch_low`` above ``pitch_high``) are refused by
:func:`check_together`, whichever of the two was set last.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.vocab import BASS, PART_SETS, REGISTER_TOP
from bridge.vocab import PARTS as NOTE_PARTS

MODES = ("off", "call", "accompany", "manual")
PARTS = ("auto", *PART_SETS, *NOTE_PARTS)     # what Continuo plays
PLAYS = ("auto", *NOTE_PARTS)                 # what the performer plays
ROLES = ("perform", "listen", "play")         # what a band member does (bridge.live.band)
MAX_BAND_NAME = 64
DRUM_INPUT_CHANNEL = 10   # a performer's notes on this MIDI channel are drums (auto)
CHANNELS = ("one", "parts")
PART_CHANNELS = {"melody": 1, "harmony": 2, "bass": 3, "drums": DRUM_INPUT_CHANNEL}


def is_drum(part: str, channel: int | None, asked: str = "auto") -> bool:
    """Is a performer's note a drum note: its part (``plays``; a band member's ``part``) is
    drums, or auto and it came on MIDI channel 10, or auto, with no channel (OSC), to a
    session ``asked`` to play drums (its own ``part``: on the device's track what is played
    and what Continuo plays go to one instrument, a drum kit)?"""
    if part != "auto":
        return part == "drums"
    return channel == DRUM_INPUT_CHANNEL or (channel is None and asked == "drums")


GRIDS = (0.25, 0.5, 1.0, 2.0, 4.0)
ANSWER_ON = ("bar", "grid")   # where call mode's answer comes in (bridge.live.phrase)
TOUCH = ("player", "together")   # how Continuo strikes its chords (bridge.music.touch)
GUIDANCE = 1.0        # how strongly a requested style acts, by default (sampling.guide;
#                       chosen by the style-control benchmark: docs/musicality.md)
STYLE_WEIGHTS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)   # the guidance weights continuo eval
#                       --task styles tries by default (bridge.evaluate.styles)
ACCOMPANY_TEMPERATURE = 0.7   # accompany mode samples at this share of `temperature`
#                       (accompaniment benchmark: docs/musicality.md)
CANDIDATES = 16      # a continuation (`continuo continue`, call mode's answer) is chosen
#                       among this many draws by default, the one most like the others
#                       (bridge.music.likeness; continuation benchmark: docs/musicality.md)
MAX_CANDIDATES = 32
STYLES = "styles"     # not a parameter: /continuo/param/get SESSION styles lists them


class ParamError(ValueError):
    """A parameter name or value that cannot be used."""


def _shown(raw: Any) -> str:
    """A value as an error quotes it: an OSC float32 as sent (0.3, not 0.30000001192...)."""
    return format(raw, ".7g") if isinstance(raw, float) else repr(raw)


def known_style(style: str, styles: Sequence[str]) -> str:
    """``style`` as the model's table names it (case and spaces aside), or a
    :class:`ParamError` that lists every style the table has (none: any name)."""
    name = style.strip().lower()
    if styles and name not in styles:
        shown = style if len(style) <= 40 else style[:37] + "..."
        raise ParamError(f"style {shown!r} is not one the model knows; it knows: "
                         f"{', '.join(s for s in styles if s)}")
    return name


@dataclass(frozen=True)
class Param:
    name: str
    kind: type            # int, float, str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    cc: int | None = None  # default MIDI CC number (0-127 mapped over the range)

    def validate(self, raw: Any, styles: Sequence[str] = ()) -> Any:
        value = self._coerce(raw)
        if self.name == "style":
            return known_style(value, styles)
        if self.name == "band" and (len(value) > MAX_BAND_NAME or not value.isprintable()):
            raise ParamError(f"band must be a name of at most {MAX_BAND_NAME} printable "
                             f"characters; got {_shown(raw)}")
        if self.kind is str and self.choices:
            value = value.lower()                # names as the table has them (CALL: call)
        if self.choices and value not in self.choices:
            raise ParamError(f"{self.name} must be one of "
                             f"{', '.join(str(c) for c in self.choices)}; got {_shown(raw)}")
        if (self.low is not None and not value >= self.low) or \
                (self.high is not None and not value <= self.high):
            raise ParamError(f"{self.name} must be within {_fmt(self.low)}..{_fmt(self.high)};"
                             f" got {_shown(raw)}")
        return value

    def from_cc(self, value: int, styles: Sequence[str] = ()) -> Any:
        """A 0-127 controller value spread over the parameter's range or choices."""
        options: Sequence[Any] = styles if self.name == "style" else self.choices
        if options:
            return options[min(len(options) - 1, value * len(options) // 128)]
        assert self.low is not None and self.high is not None
        x = self.low + (self.high - self.low) * value / 127.0
        return round(x) if self.kind is int else round(x, 3)

    def _coerce(self, raw: Any) -> Any:
        try:
            if self.kind is str:
                if not isinstance(raw, str):
                    raise TypeError
                return raw.strip()
            if isinstance(raw, bool):
                raise TypeError
            if self.kind is int:
                if isinstance(raw, float) and not raw.is_integer():
                    raise TypeError
                return int(raw)
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise ParamError(f"{self.name} takes {self.kind.__name__} values; got {_shown(raw)}") \
                from None
        if not math.isfinite(value):             # (also from text: "nan", "inf")
            raise ParamError(f"{self.name} takes finite values; got {_shown(raw)}")
        return value


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


PARAMS: tuple[Param, ...] = (
    Param("mode", str, "call", "off, call (call-and-response), accompany (continuous, once "
          "it has heard the key: two bars, or one holding five pitch classes; with the host's "
          "song stopped, once it plays) or manual (only on request)", choices=MODES, cc=102),
    Param("temperature", float, 1.0, "sampling temperature: lower is safer, higher is wilder "
          f"(accompany mode plays at {ACCOMPANY_TEMPERATURE:g} of it: an accompanist keeps "
          "steadier than a soloist)", 0.1, 2.0, cc=103),
    Param("top_p", float, 0.95, "nucleus sampling: keep the most likely tokens up to this mass",
          0.05, 1.0, cc=104),
    Param("length_bars", int, 0, "response length in bars (0 = as long as the call)",
          0, 16, cc=105),
    Param("style", str, "", "target style tag, e.g. jazz or folk/jig ('' = follow the input)",
          cc=106),
    Param("guidance", float, GUIDANCE, "how strongly the style acts: 0 = it only conditions "
          "the model; higher pulls further toward it, times the model's strength for it (its "
          "genre's, or from the genre the performer is heard in; the model then runs twice "
          "per step)",
          0.0, 8.0, cc=114),
    Param("pitch_low", int, 0, "lowest pitch (drums: GM drum key) generated; at most "
          "pitch_high", 0, 127, cc=107),
    Param("pitch_high", int, 127, "highest pitch (drums: GM drum key) generated; at least "
          "pitch_low", 0, 127, cc=108),
    Param("channel", int, 1, "MIDI channel of generated pitched notes (drums use 10)",
          1, 16, cc=109),
    Param("channels", str, "one", "MIDI channels: one (every generated pitched note on "
          "`channel`) or parts (melody 1, harmony 2, bass 3, drums 10: what Continuo plays, "
          "and with plays auto what the performer plays)", choices=CHANNELS),
    Param("touch", str, "player", "how Continuo strikes the notes of its chords: player "
          "(spread as the performer's latest chords were, a few milliseconds apart, the "
          "melody first; at once where the performer strikes theirs at once) or together "
          "(at one instant, on the grid)", choices=TOUCH),
    Param("seed", int, -1, "random seed for reproducible responses (-1 = random)",
          -1, 2**31 - 1),
    Param("candidates", int, CANDIDATES, "call mode's answer is chosen among this many "
          "draws, made while the performer is silent, half of them quoting bars heard 5-8 "
          "bars before in the model's own way (drums alone: 7 in 8, the latest bars "
          "first; music going round exactly, a loop: 7 in 8, whole turns back, free to "
          "copy it): of those playing every part asked for, the one most like the others "
          "and like bars heard before, played again "
          "(a tune's first strain and latest bars, a groove's latest, a loop's next turn) "
          "(1 = one draw; more "
          "costs CPU after each phrase; fewer, at least 4, where the answer is due sooner "
          "than this session's choices have shown so many can be drawn; an answer due "
          "before the choice is made plays one draw)", 1, MAX_CANDIDATES),
    Param("part", str, "auto", "the part Continuo plays: melody, harmony, bass, drums, "
          "accompaniment (harmony and bass), pitched (any but drums), or auto (drums after "
          "drums, else pitched; both, each drawn from its own notes, where the performer "
          "played 4 or more notes of each in the last 4 bars; in accompany mode the parts "
          "the performer does not play: harmony and bass under a melody, a bass under "
          "drums); a bass stays at or below "
          f"pitch {REGISTER_TOP[BASS]} unless pitch_low lies above it",
          choices=PARTS),
    Param("plays", str, "auto", "the part the performer plays: melody, harmony, bass, drums, "
          "or auto (channel 10 is drums, other channels melody; OSC notes, without a "
          "channel, drums where `part` is drums, else melody)", choices=PLAYS),
    Param("phrase_beats", float, 1.0, "silence (beats) that ends a phrase in call mode",
          0.25, 8.0),
    Param("grid", float, 1.0, "responses start on the next multiple of this many beats "
          "(call mode's answer to a phrase: see `answer_on`)", choices=GRIDS),
    Param("answer_on", str, "bar", "where call mode's answer comes in once the phrase has "
          "ended: bar (the next bar line, so a rest inside a phrase is not answered unless "
          "it reaches one) or grid (the next `grid` line)", choices=ANSWER_ON),
    Param("trade_bars", int, 0, "call mode trading: the answer comes in this many bars after "
          "the bar line the call began on (a first note a beat or less before a line begins "
          "it there), however the performer breathes or holds a note, and lasts as long "
          "(`length_bars` 0); the performer's next note is the next call (trading fours: 4; "
          "0 = answer the phrase once it has ended, see `phrase_beats`)", 0, 16),
    Param("lookahead_beats", float, 2.0, "how far ahead accompany mode plans", 0.5, 8.0),
    Param("band", str, "", "the band this session plays in: sessions of one band share one "
          "model stream and one clock ('' = alone; case and spacing do not count)"),
    Param("role", str, "perform", "in a band: perform (a person plays this session's "
          "`part`), listen (context only: a chord track or a clip, in its `part`) or play "
          "(Continuo plays `part` out of this session)", choices=ROLES),
)

# set on any member of a band, these are set on the band's stream (the others are the
# member's own: its channel, range, part and role)
BAND_WIDE: tuple[str, ...] = ("mode", "temperature", "top_p", "length_bars", "style",
                              "guidance", "seed", "candidates", "phrase_beats", "grid",
                              "answer_on", "trade_bars", "lookahead_beats", "touch")

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}

# (low, high) pairs whose values must not cross
ORDERED: tuple[tuple[str, str], ...] = (("pitch_low", "pitch_high"),)

# Controller numbers that trigger actions (value >= 64), beside the parameters' own CCs.
ACTIONS: dict[str, int] = {"generate": 110, "stop": 111, "panic": 112, "phrase_end": 113}


def param(name: str) -> Param:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ParamError(f"unknown parameter {name!r} (one of {', '.join(BY_NAME)})") from None


def cc_map(overrides: Mapping[str, str]) -> dict[int, str]:
    """Controller number -> parameter or action name: the defaults, then ``overrides``
    (``--cc NAME=CC``); a :class:`ParamError` names the first that cannot be used."""
    names: dict[str, int] = {p.name: p.cc for p in PARAMS if p.cc is not None}
    names.update(ACTIONS)
    for name, raw in overrides.items():
        if name not in names and name not in BY_NAME:
            raise ParamError(f"--cc {name}={raw}: no parameter or action called {name!r}")
        try:
            number = int(raw)
        except ValueError:
            raise ParamError(f"--cc {name}={raw}: not a controller number") from None
        if not 0 <= number <= 119:
            raise ParamError(f"--cc {name}={raw}: controllers 0-119 only")
        names[name] = number
    mapping: dict[int, str] = {}
    for name, number in names.items():
        if number in mapping:
            raise ParamError(f"CC {number} is mapped to both {mapping[number]} and {name}")
        mapping[number] = name
    return mapping


def settings(pairs: Mapping[str, str], styles: Sequence[str] = ()) -> dict[str, Any]:
    """``--set NAME=VALUE`` pairs as session parameters, each validated as OSC's are and
    checked together; a :class:`ParamError` names the pair that cannot be used."""
    out = {}
    for name, raw in pairs.items():
        try:
            out[name] = param(name).validate(raw, styles)
        except ParamError as exc:
            raise ParamError(f"--set {name}={raw}: {exc}") from None
    check_together({**defaults(), **out})
    return out


def check_together(values: dict[str, Any]) -> None:
    """Raise :class:`ParamError` if ``values`` contradict each other (see ``ORDERED``)."""
    for low, high in ORDERED:
        if low in values and high in values and values[low] > values[high]:
            raise ParamError(f"{low} {values[low]} is above {high} {values[high]}: set "
                             f"{high} first, or a lower {low}")


def defaults() -> dict[str, Any]:
    return {p.name: p.default for p in PARAMS}
