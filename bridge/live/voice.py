"""What Continuo plays in a session: which parts, on which MIDI channels, in which style, and
the :class:`Generation` that asks the worker for them.

A soloist's voice follows its parameters (``part``, and on auto what the performer played
last: drums after drums, both after both); a band's stream plays its play members' parts,
each member's as it asks (:meth:`Voice.for_band`). A generation starts from the session's
context as it stands (what the performer holds cut at now, Continuo's committed notes kept),
knows the notes Continuo still sounds at its start, and enters the parts asked for; drums
beside pitched parts are drawn apart, each from the context of its side alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from bridge.live import parts
from bridge.live.context import Context
from bridge.live.generation import Generation
from bridge.live.songtime import SongTime
from bridge.model.sampling import Constraints
from bridge.music.piece import Note
from bridge.vocab import DRUMS, TICKS_PER_BEAT


def draw_seed(seed: int, tick: int) -> int:
    """The seed of what is drawn from song tick ``tick``: the session's ``seed`` makes a
    performance repeatable, but one seed for every draw would draw the same numbers every
    time (an accompaniment's plan that starts alike would end alike at every step, and an
    answer to a call like the last would repeat it note for note)."""
    return (seed * 1_000_003 + tick) % 2**63


class Voice:
    def __init__(self, sid: str, params: Mapping[str, Any], styles: tuple[str, ...],
                 time: SongTime, context: Context,
                 heard: Callable[[], str | None] = lambda: None) -> None:
        self.sid, self.params, self.styles = sid, params, styles
        self.time, self.context = time, context
        self.heard = heard                   # the genre the performer is heard playing
        self.last_drum = False               # the performer's last note was drums
        self.onsets: dict[bool, deque[float]] = {   # drum? -> the performer's latest onsets
            drum: deque(maxlen=parts.SIDE_NOTES) for drum in (True, False)}   # (stream beats)
        self.band_asks: tuple[frozenset[int], ...] | None = None   # a band's stream: the
        #                                   parts each of its play members asks for

    def parts(self) -> frozenset[int] | None:
        """The parts Continuo plays (None: any pitched part)."""
        if self.band_asks is not None:
            return frozenset().union(*self.band_asks)
        return parts.output_parts(self.params, self.last_drum, self.playing_both())

    def playing_both(self) -> bool:
        """Has the performer lately played drums beside pitched notes? Lately in stream
        time, which a loop does not take back: counted in song beats, a loop's last pass
        (a melody) stood in its next (drums alone) as played lately, and drums were answered
        with chords and a bass."""
        now = self.time.tick(self.time.now_beat()) / TICKS_PER_BEAT
        return parts.playing_both(self.onsets, now - parts.SIDE_BARS * self.time.bar_beats)

    def performer_played(self, drum: bool, beat: float) -> None:
        """The performer struck a note (drums or not) at song beat ``beat``."""
        self.last_drum = drum
        self.onsets[drum].append(self.time.tick(beat) / TICKS_PER_BEAT)

    def channel(self, note: Note) -> int:
        """The MIDI channel a generated note leaves on."""
        return parts.out_channel(self.params, note)

    @property
    def style_index(self) -> int:
        """The session's style in the model's table (0: none)."""
        style = self.params["style"]
        return self.styles.index(style) if style in self.styles else 0

    @property
    def guided(self) -> bool:
        """Does the worker keep an unstyled twin of the state to guide toward the style?"""
        return self.style_index != 0 and self.params["guidance"] > 0

    def for_band(self, asks: tuple[frozenset[int], ...]) -> bool:
        """A band's stream plays these parts, one set per play member; True if the parts
        it plays changed."""
        before = self.parts() if self.band_asks is not None else None
        self.band_asks = asks
        self.keep_apart()                    # each side heard alone from the start
        return self.parts() != before

    def keep_apart(self) -> tuple[Context, Context] | None:
        """Where it plays drums beside pitched parts, or pitched parts where drums were
        heard (a bass for a drummer), the contexts of each side alone
        (:meth:`Context.keep_apart`); else none."""
        playing = self.parts()
        apart = playing is not None and (len(playing) > 1 if DRUMS in playing
                                         else self.context.heard_drums())
        return self.context.keep_apart(self.style_index if apart else None,
                                       self.time.tick(self.time.now_beat()), self.guided)

    def generations(self, start: float, end: float, *, note_now: bool,
                    on_done: Callable[[Generation, str], None],
                    on_note: Callable[[Generation, Note], None] | None = None
                    ) -> list[Generation]:
        """What it plays from song beat ``start`` to ``end``: a continuation of the context;
        where it plays drums beside pitched parts, two: the pitched parts drawn from the
        context of the pitched parts alone, and the drums from that of the drums alone
        (:mod:`bridge.live.context`) with the seed + 1; where it plays pitched parts alone
        and drums were heard, those from the pitched parts alone (nothing heard there: they
        come in from a silence, as ``continuo continue --part`` has them; a bass for a
        drummer hearing the drums played its hits, 4.2 notes a beat: docs/musicality.md,
        "A bass under a drummer")."""
        playing = self.parts()
        asks = self.band_asks if self.band_asks is not None else \
            ([] if playing is None else [playing])
        sides = self.keep_apart()
        if sides is None:
            return [self._generation(self.context, playing, asks, 0, start, end, note_now,
                                     on_done, on_note)]
        drums, tune = sides
        if DRUMS not in playing:
            return [self._generation(tune, playing, asks, 0, start, end, note_now, on_done,
                                     on_note)]
        pitched = [ask - {DRUMS} for ask in asks if ask - {DRUMS}]
        return [self._generation(tune, playing - {DRUMS}, pitched, 0, start, end,
                                 note_now, on_done, on_note),
                self._generation(drums, frozenset((DRUMS,)), [frozenset((DRUMS,))], 1,
                                 start, end, note_now, on_done, on_note)]

    def _generation(self, context: Context, playing: frozenset[int] | None,
                    asks: list[frozenset[int]], seed_offset: int, start: float, end: float,
                    note_now: bool, on_done: Callable[[Generation, str], None],
                    on_note: Callable[[Generation, Note], None] | None) -> Generation:
        """A continuation of ``context`` playing ``playing`` (None: any pitched part),
        bringing in the part sets ``asks`` its context lacks."""
        now_tick, start_tick = self.time.tick(self.time.now_beat()), self.time.tick(start)
        prefix, cursor = context.prefix(now_tick, start_tick, resume=not note_now)
        p = self.params
        gen = Generation(
            context.sid, prefix, cursor, end_tick=self.time.tick(end),
            constraints=Constraints(p["pitch_low"], p["pitch_high"],
                                    drums=parts.drums_constraint(playing)),
            parts=playing,
            temperature=p["temperature"], top_p=p["top_p"],
            guidance=context.engine.guidance(self.style_index, p["guidance"], self.heard()),
            seed=None if p["seed"] < 0 else draw_seed(p["seed"] + seed_offset, start_tick),
            note_now=note_now,
            not_before=0 if note_now else start_tick, heard_until=None if note_now else now_tick,
            on_note=on_note, on_done=on_done)
        gen.sounding = context.sounding_after(start_tick)
        if asks:
            gen.bring_in(asks, [*context.history, *prefix])
        return gen
