"""The event vocabulary: every token Continuo's models read or write is defined here.

Time is beat-relative and tempo-free. A *beat* is a quarter note; it divides into
``TICKS_PER_BEAT`` = 24 ticks, the least common multiple of 16ths (6), 32nds (3) and
triplet 16ths (4), and also MIDI clock's 24 ppq. A piece is a stream of

    BAR                      the cursor moves to the start of the next bar
    BEAT_b   (b = 1..7)      ... to beat b of the current bar (must move forward)
    SUB_t    (t = 1..23)     ... to tick t of the current beat (must move forward)
    PITCH_p | DRUM_p         a note starts at the cursor: pitched (0..127) or GM drum (0..127)
    VEL_v    (v = 0..15)     its velocity bin
    DUR_d    (d = 0..95)     its duration bin (exact ticks to 2 beats, then coarser to 16 beats)

Notes at the same time follow each other with no time token between, in token order (pitched
notes by rising pitch, then drums by rising key), so one instant never holds the same note
twice. Every note carries its duration, so a generated note's release is known the moment
it is emitted. BOS opens a sequence, EOS ends a piece, PAD fills batches. Style tags
condition generation through the model's style table (see ``STYLES``), not through event
tokens.

:class:`Cursor` is the grammar: it follows a token stream, knows where in time it stands,
and says which tokens may come next (``allowed``), so encoder, decoder and sampler agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VOCAB_VERSION = 1

TICKS_PER_BEAT = 24
MAX_BEATS_PER_BAR = 8
N_PITCHES = 128
N_VELOCITY_BINS = 16


def _duration_ticks() -> tuple[int, ...]:
    exact = range(1, 49)                      # to 2 beats: every tick
    coarse = [*range(51, 97, 3), *range(102, 193, 6), *range(204, 385, 12)]
    return (*exact, *coarse)


DURATION_TICKS: tuple[int, ...] = _duration_ticks()   # 96 bins, 1 tick .. 16 beats
N_DURATIONS = len(DURATION_TICKS)

# -- token id layout ----------------------------------------------------------------------

PAD, BOS, EOS, BAR = 0, 1, 2, 3
BEAT_BASE = 4                                  # BEAT_1 .. BEAT_7
SUB_BASE = BEAT_BASE + MAX_BEATS_PER_BAR - 1   # SUB_1 .. SUB_23
PITCH_BASE = SUB_BASE + TICKS_PER_BEAT - 1
DRUM_BASE = PITCH_BASE + N_PITCHES
VEL_BASE = DRUM_BASE + N_PITCHES
DUR_BASE = VEL_BASE + N_VELOCITY_BINS
VOCAB_SIZE = DUR_BASE + N_DURATIONS

# token kinds, for grammar and masks
K_SPECIAL, K_BAR, K_BEAT, K_SUB, K_PITCH, K_DRUM, K_VEL, K_DUR = range(8)


def _kinds() -> np.ndarray:
    kinds = np.empty(VOCAB_SIZE, dtype=np.int8)
    kinds[:BAR] = K_SPECIAL
    kinds[BAR] = K_BAR
    kinds[BEAT_BASE:SUB_BASE] = K_BEAT
    kinds[SUB_BASE:PITCH_BASE] = K_SUB
    kinds[PITCH_BASE:DRUM_BASE] = K_PITCH
    kinds[DRUM_BASE:VEL_BASE] = K_DRUM
    kinds[VEL_BASE:DUR_BASE] = K_VEL
    kinds[DUR_BASE:VOCAB_SIZE] = K_DUR
    kinds.setflags(write=False)
    return kinds


KIND = _kinds()


def beat_token(beat: int) -> int:
    assert 1 <= beat < MAX_BEATS_PER_BAR, beat
    return BEAT_BASE + beat - 1


def sub_token(tick: int) -> int:
    assert 1 <= tick < TICKS_PER_BEAT, tick
    return SUB_BASE + tick - 1


def note_token(pitch: int, drum: bool) -> int:
    assert 0 <= pitch < N_PITCHES, pitch
    return (DRUM_BASE if drum else PITCH_BASE) + pitch


def velocity_bin(velocity: int) -> int:
    """MIDI velocity 1..127 -> bin 0..15 (8 velocities per bin)."""
    return min(max(velocity, 1), 127) // 8


def bin_velocity(vbin: int) -> int:
    """Bin -> a representative MIDI velocity (the bin's centre, never 0)."""
    return max(1, min(127, vbin * 8 + 4))


_DUR_EDGES = np.array(DURATION_TICKS, dtype=np.float64)


def duration_bin(ticks: float) -> int:
    """Duration in ticks -> nearest bin (clipped to 1 tick .. 16 beats)."""
    i = int(np.searchsorted(_DUR_EDGES, ticks))
    if i == 0:
        return 0
    if i >= N_DURATIONS:
        return N_DURATIONS - 1
    return i if (_DUR_EDGES[i] - ticks) < (ticks - _DUR_EDGES[i - 1]) else i - 1


def duration_step(dbin: int) -> int:
    """Width in ticks of the duration grid around bin ``dbin`` (the round-trip tolerance)."""
    if dbin + 1 < N_DURATIONS:
        return DURATION_TICKS[dbin + 1] - DURATION_TICKS[dbin]
    return DURATION_TICKS[dbin] - DURATION_TICKS[dbin - 1]


def token_name(token: int) -> str:
    kind = KIND[token]
    if kind == K_SPECIAL:
        return ("PAD", "BOS", "EOS")[token]
    if kind == K_BAR:
        return "BAR"
    if kind == K_BEAT:
        return f"BEAT_{token - BEAT_BASE + 1}"
    if kind == K_SUB:
        return f"SUB_{token - SUB_BASE + 1}"
    if kind == K_PITCH:
        return f"PITCH_{token - PITCH_BASE}"
    if kind == K_DRUM:
        return f"DRUM_{token - DRUM_BASE}"
    if kind == K_VEL:
        return f"VEL_{token - VEL_BASE}"
    return f"DUR_{token - DUR_BASE}"


# -- grammar -------------------------------------------------------------------------------

EXPECT_TIME_OR_NOTE, EXPECT_VEL, EXPECT_DUR = 0, 1, 2


class Meter:
    """The bar grid in ticks: a sorted list of ``(downbeat_tick, bar_ticks)`` changes.

    Bars before the first change extend it backwards; a change cuts short the bar it falls in.
    Bars longer than ``MAX_BEATS_PER_BAR`` beats are halved until they fit the BEAT tokens.
    It keeps the last ``MAX_CHANGES`` changes (a live meter may change for ever).
    """

    MAX_CHANGES = 64

    def __init__(self, changes: list[tuple[int, int]] | None = None) -> None:
        self.changes: list[tuple[int, int]] = []
        for tick, length in changes or [(0, 4 * TICKS_PER_BEAT)]:
            self.set(tick, length)

    @staticmethod
    def bar_ticks_of(numerator: int, denominator: int) -> int:
        """Ticks in one bar of ``numerator/denominator`` (quarter-note beats)."""
        length = round(numerator * 4 * TICKS_PER_BEAT / denominator)
        while length > MAX_BEATS_PER_BAR * TICKS_PER_BEAT:
            length //= 2
        return max(length, 1)

    def set(self, tick: int, bar_ticks: int) -> None:
        """From ``tick`` (a downbeat) on, bars last ``bar_ticks``."""
        if bar_ticks <= 0:
            raise ValueError(f"bar length {bar_ticks} ticks")
        while bar_ticks > MAX_BEATS_PER_BAR * TICKS_PER_BEAT:
            bar_ticks //= 2
        self.changes = [c for c in self.changes if c[0] < tick]
        if self.changes and self.changes[-1][1] == bar_ticks and self.bar_start(tick) == tick:
            return          # the same bars on the same downbeats: nothing changes
        self.changes.append((tick, bar_ticks))
        del self.changes[:-self.MAX_CHANGES]

    def _change_at(self, tick: int) -> int:
        i = 0
        while i + 1 < len(self.changes) and self.changes[i + 1][0] <= tick:
            i += 1
        return i

    def bar_start(self, tick: int) -> int:
        """First tick of the bar that contains ``tick``."""
        i = self._change_at(tick)
        origin, length = self.changes[i]
        return origin + ((tick - origin) // length) * length

    def next_beat(self, tick: int) -> int:
        """The first beat line of the bar grid at or after ``tick``."""
        bar = self.bar_start(tick)
        beat = bar + -(-(tick - bar) // TICKS_PER_BEAT) * TICKS_PER_BEAT
        return beat if beat < bar + self.bar_length(bar) else bar + self.bar_length(bar)

    def bar_length(self, bar_start: int) -> int:
        """Length of the bar starting at ``bar_start`` (cut short by a change inside it)."""
        i = self._change_at(bar_start)
        length = self.changes[i][1]
        if i + 1 < len(self.changes):
            length = min(length, self.changes[i + 1][0] - bar_start)
        return length


@dataclass
class Cursor:
    """Where a token stream stands, in absolute ticks on the bars of ``meter``.

    ``bar_start`` is the first tick of the current bar (``None`` before the first BAR, which
    lands on ``origin``), ``beat``/``sub`` the position inside it; ``chord`` is the highest
    note token at this instant (-1 when none yet): the next note here must come after it in
    token order. ``advance`` accepts notes out of that order (a
    performer's chord arrives as played); ``allowed`` never offers them.
    """

    meter: Meter
    origin: int = 0
    bar_start: int | None = None
    beat: int = 0
    sub: int = 0
    expect: int = EXPECT_TIME_OR_NOTE
    chord: int = -1

    @property
    def tick(self) -> int:
        """The absolute tick the cursor points at (``origin`` before the first bar)."""
        if self.bar_start is None:
            return self.origin
        return self.bar_start + self.beat * TICKS_PER_BEAT + self.sub

    @property
    def bar_ticks(self) -> int:
        return self.meter.bar_length(self.origin if self.bar_start is None else self.bar_start)

    def copy(self) -> Cursor:
        return Cursor(self.meter, self.origin, self.bar_start, self.beat, self.sub, self.expect,
                      self.chord)

    def advance(self, token: int) -> None:
        """Follow one token; raises ``ValueError`` on a token the grammar forbids."""
        kind = KIND[token]
        if self.expect == EXPECT_VEL:
            if kind != K_VEL:
                raise ValueError(f"{token_name(token)} where a velocity was due")
            self.expect = EXPECT_DUR
        elif self.expect == EXPECT_DUR:
            if kind != K_DUR:
                raise ValueError(f"{token_name(token)} where a duration was due")
            self.expect = EXPECT_TIME_OR_NOTE
        elif kind in (K_PITCH, K_DRUM):
            if self.bar_start is None:
                raise ValueError("a note before the first BAR")
            self.expect = EXPECT_VEL
            self.chord = max(self.chord, token)
        elif kind == K_BAR:
            if self.bar_start is None:
                self.bar_start = self.origin
            else:
                self.bar_start += self.bar_ticks
            self.beat = self.sub = 0
            self.chord = -1
        elif kind == K_BEAT:
            beat = token - BEAT_BASE + 1
            if self.bar_start is None or beat <= self.beat or \
                    beat * TICKS_PER_BEAT >= self.bar_ticks:
                raise ValueError(f"BEAT_{beat} does not move forward inside the bar")
            self.beat, self.sub, self.chord = beat, 0, -1
        elif kind == K_SUB:
            sub = token - SUB_BASE + 1
            if self.bar_start is None or sub <= self.sub or \
                    self.beat * TICKS_PER_BEAT + sub >= self.bar_ticks:
                raise ValueError(f"SUB_{sub} does not move forward inside the bar")
            self.sub, self.chord = sub, -1
        elif token not in (BOS, EOS):
            raise ValueError(f"unexpected token {token_name(token)}")

    def time_tokens(self, tick: int, max_bars: int | None = None) -> list[int]:
        """The time tokens that move the cursor to ``tick`` (not before it), following them.
        With ``max_bars``, a longer silence is told in that many BARs: the bars between are
        left out and the cursor lands on ``tick`` all the same (live input, where a song
        position may jump far ahead; these tokens do not decode back to the same ticks)."""
        if tick < self.tick or (self.bar_start is not None and tick == self.tick):
            if tick < self.tick:
                raise ValueError(f"tick {tick} lies before the cursor at {self.tick}")
            return []
        out: list[int] = []
        target_bar = self.meter.bar_start(tick)
        while self.bar_start is None or self.bar_start < target_bar:
            if max_bars is not None and self.bar_start is not None and len(out) >= max_bars - 1:
                self.bar_start = self.meter.bar_start(target_bar - 1)   # skip to the last
            out.append(BAR)
            self.advance(BAR)
        offset = tick - self.bar_start
        beat, sub = divmod(offset, TICKS_PER_BEAT)
        if beat > self.beat:
            out.append(beat_token(beat))
            self.advance(out[-1])
        if sub > self.sub:
            out.append(sub_token(sub))
            self.advance(out[-1])
        return out

    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary of the tokens that may come next."""
        return allowed_mask(self.expect, self.bar_start is not None, self.beat, self.sub,
                            self.bar_ticks, self.chord)


_MASKS: dict[tuple[int, bool, int, int, int, int], np.ndarray] = {}


def allowed_mask(expect: int, in_bar: bool, beat: int, sub: int, bar_ticks: int,
                 chord: int = -1) -> np.ndarray:
    """The grammar as a cached read-only mask (see :meth:`Cursor.allowed`)."""
    key = (expect, in_bar, beat, sub, bar_ticks, chord)
    mask = _MASKS.get(key)
    if mask is not None:
        return mask
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    if expect == EXPECT_VEL:
        mask[VEL_BASE:DUR_BASE] = True
    elif expect == EXPECT_DUR:
        mask[DUR_BASE:] = True
    else:
        mask[BAR] = True
        mask[EOS] = True
        if in_bar:
            mask[max(PITCH_BASE, chord + 1):VEL_BASE] = True
            pos = beat * TICKS_PER_BEAT + sub
            for b in range(beat + 1, MAX_BEATS_PER_BAR):
                if b * TICKS_PER_BEAT < bar_ticks:
                    mask[beat_token(b)] = True
            for t in range(sub + 1, TICKS_PER_BEAT):
                if pos - sub + t < bar_ticks:
                    mask[sub_token(t)] = True
    mask.setflags(write=False)
    _MASKS[key] = mask
    return mask


# -- style taxonomy ------------------------------------------------------------------------

GENRES: tuple[str, ...] = ("pop", "folk", "jazz", "drums", "classical")

SUBSTYLES: dict[str, tuple[str, ...]] = {
    "pop": (),
    "folk": ("ashover", "christmas", "hornpipe", "jig", "morris", "playford", "reel",
             "slipjig", "waltz"),
    "jazz": ("bebop", "cool", "free", "fusion", "hardbop", "postbop", "swing", "traditional"),
    "drums": ("afrobeat", "afrocuban", "blues", "country", "dance", "funk", "gospel",
              "highlife", "hiphop", "jazz", "latin", "middleeastern", "neworleans", "pop",
              "punk", "reggae", "rock", "soul"),
    "classical": ("chorale", "quartet"),
}

PERCUSSION_GENRES = frozenset({"drums"})   # genres whose parts are drum kits, not pitches

NO_STYLE = ""  # unconditioned generation

# The default style table of a generator: no style, every genre, every genre/sub-style.
STYLES: tuple[str, ...] = (
    NO_STYLE,
    *GENRES,
    *(f"{g}/{s}" for g in GENRES for s in SUBSTYLES[g]),
)


def style_tag(labels: tuple[str, ...] | list[str]) -> str:
    """Manifest labels ``(genre, sub?)`` -> a style tag ``genre`` or ``genre/sub``."""
    if not labels:
        return NO_STYLE
    return labels[0] if len(labels) == 1 else f"{labels[0]}/{labels[1]}"


def genre_of(tag: str) -> str:
    return tag.split("/", 1)[0]
