"""The grammar of a token stream: where a stream stands on its bar grid
(:class:`bridge.vocab.meter.Meter`) and what may come next (:class:`Cursor`,
:func:`allowed_mask`), so encoder, decoder and sampler agree (see :mod:`bridge.vocab`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.vocab.meter import Meter
from bridge.vocab.tokens import (
    BAR,
    BEAT_BASE,
    BOS,
    DRUM_BASE,
    DRUMS,
    DUR_BASE,
    EOS,
    K_BAR,
    K_BEAT,
    K_DRUM,
    K_DUR,
    K_PART,
    K_PITCH,
    K_SUB,
    K_VEL,
    KIND,
    MAX_BEATS_PER_BAR,
    NO_PART,
    PART_BASE,
    PARTS,
    PITCH_BASE,
    SUB_BASE,
    TICKS_PER_BEAT,
    VEL_BASE,
    VOCAB_SIZE,
    beat_token,
    part_notes,
    part_token,
    sub_token,
    token_name,
)

EXPECT_TIME_OR_NOTE, EXPECT_VEL, EXPECT_DUR, EXPECT_NOTE = 0, 1, 2, 3   # NOTE: after a PART


@dataclass
class Cursor:
    """Where a token stream stands, in absolute ticks on the bars of ``meter``.

    ``bar_start`` is the first tick of the current bar (``None`` before the first BAR, which
    lands on ``origin``), ``beat``/``sub`` the position inside it; ``part`` is the part of
    the notes that follow (``NO_PART`` before the first PART); ``chord`` is the order key
    (:func:`order_key`) of the last note at this instant (-1 when none yet): the next note
    here must come after it in part and token order. ``advance`` accepts notes out of that
    order (a performer's chord arrives as played); ``allowed`` never offers them.
    """

    meter: Meter
    origin: int = 0
    bar_start: int | None = None
    beat: int = 0
    sub: int = 0
    expect: int = EXPECT_TIME_OR_NOTE
    chord: int = -1
    part: int = NO_PART

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
                      self.chord, self.part)

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
            if self.part == NO_PART:
                raise ValueError("a note before the first PART")
            if (kind == K_DRUM) != (self.part == DRUMS):
                raise ValueError(f"{token_name(token)} in part {PARTS[self.part]}")
            self.expect = EXPECT_VEL
            self.chord = max(self.chord, order_key(self.part, token))
        elif self.expect == EXPECT_NOTE:
            raise ValueError(f"{token_name(token)} where a note was due (after a PART)")
        elif kind == K_PART:
            if self.bar_start is None:
                raise ValueError("a PART before the first BAR")
            self.part = token - PART_BASE
            self.expect = EXPECT_NOTE
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

    def part_tokens(self, part: int) -> list[int]:
        """The PART token (if any) that puts the cursor in ``part``, followed."""
        if part == self.part:
            return []
        token = part_token(part)
        self.advance(token)
        return [token]

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

    def bar_tokens(self, tick: int, max_bars: int | None = None) -> list[int]:
        """The BARs that move the cursor to the bar line at or before ``tick`` (none once it
        is there or past it), followed; ``max_bars`` as in :meth:`time_tokens`. What a
        generation that resumes at ``tick`` is fed: a BAR is written in every bar, empty or
        not, so it says nothing of what follows, where a BEAT or SUB says an event does."""
        return self.time_tokens(max(self.meter.bar_start(tick), self.tick), max_bars)

    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary of the tokens that may come next."""
        return allowed_mask(self.expect, self.bar_start is not None, self.beat, self.sub,
                            self.bar_ticks, self.chord, self.part)


def order_key(part: int, token: int) -> int:
    """Where a note stands in the order of one instant: by part, then by token."""
    return part * VOCAB_SIZE + token


_MASKS: dict[tuple[int, bool, int, int, int, int, int], np.ndarray] = {}


def allowed_mask(expect: int, in_bar: bool, beat: int, sub: int, bar_ticks: int,
                 chord: int = -1, part: int = NO_PART) -> np.ndarray:
    """The grammar as a cached read-only mask (see :meth:`Cursor.allowed`)."""
    key = (expect, in_bar, beat, sub, bar_ticks, chord, part)
    mask = _MASKS.get(key)
    if mask is not None:
        return mask
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    last_part, last_token = divmod(chord, VOCAB_SIZE) if chord >= 0 else (NO_PART, -1)
    if expect == EXPECT_VEL:
        mask[VEL_BASE:DUR_BASE] = True
    elif expect == EXPECT_DUR:
        mask[DUR_BASE:PART_BASE] = True
    else:
        if expect == EXPECT_TIME_OR_NOTE:
            mask[BAR] = True
            mask[EOS] = True
        if in_bar:
            if part != NO_PART:
                lo, hi = part_notes(part)
                mask[max(lo, last_token + 1 if last_part == part else lo):hi] = True
                if last_part > part:
                    mask[lo:hi] = False          # this part has had its turn at this instant
            if expect == EXPECT_TIME_OR_NOTE:
                for q in range(len(PARTS)):
                    if q != part and q > last_part:     # (NO_PART is -1: any part)
                        mask[part_token(q)] = True
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


def lowest_notes(tokens: list[int], bars: int) -> dict[int, int]:
    """Each part whose notes sound in the last ``bars`` bars of ``tokens`` (from their
    ``bars``-th last BAR; the part in effect there read from the tokens before), and its
    lowest note there: a pitch, or a drum's key."""
    arr = np.asarray(tokens, dtype=np.int64)
    kinds = KIND[arr] if len(arr) else np.zeros(0, dtype=KIND.dtype)
    lines = np.flatnonzero(arr == BAR)
    first = int(lines[-bars]) if len(lines) >= bars else 0
    switches = np.flatnonzero(kinds == K_PART)
    notes = np.flatnonzero((kinds == K_PITCH) | (kinds == K_DRUM))
    notes = notes[notes >= first]
    j = np.searchsorted(switches, notes) - 1
    notes, j = notes[j >= 0], j[j >= 0]                 # (before any PART: no part)
    parts = arr[switches[j]] - PART_BASE
    values = arr[notes] - np.where(kinds[notes] == K_PITCH, PITCH_BASE, DRUM_BASE)
    out: dict[int, int] = {}
    for q in np.unique(parts).tolist():
        out[q] = int(values[parts == q].min())
    return out
