"""A quote: bars the music played some bars back, offered to a draw as a hint it may take.

Music returns to what it played: a tune's first strain comes again, a groove goes round, a
song's verse repeats with another turn. A draw that quotes is given, while it samples the
quote's span, a bonus (``QUOTE_BONUS``, in logits) on the token that would go on with the
quoted notes at the place the draw has reached: the time token to the quote's next onset,
the PART and pitch of a quoted note at this instant, then that note's velocity and
duration. So the model follows the quote where its own ideas agree and leaves it where they
do not; once it has left, the bonus points at the quote's next note from wherever it is.

Of a choice's draws (:func:`draws`) half are free and half quote (none when a style is
asked for: the request is to leave what was heard behind, and quotes drew the continuation
back to the prompt's genre: style control 0.750 -> 0.664), each quoting one of
``QUOTE_LAGS`` (bars back) for ``QUOTE_BARS`` bars; :func:`allowed` keeps out of the choice a
draw that copies more bars note for note than the most copying free draw, so the quotes are
varied rather than repeated (a performer's bars are never copied exactly by the music
itself). Measured on the continuation benchmark: docs/musicality.md, "Candidates that quote
the prompt".

Accompany mode's plans (one draw each) quote the bars ``PLAN_LAG`` back: an accompanist
that knows the changes it just heard, and leaves them where the melody asks for others
(the accompaniment benchmark: docs/musicality.md, "Plans that quote the changes").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bridge.music.likeness import Bars, bar_contents, copied_bars
from bridge.music.piece import Note
from bridge.music.tokenize import note_tokens, to_tick
from bridge.vocab import (
    EXPECT_DUR,
    EXPECT_NOTE,
    EXPECT_TIME_OR_NOTE,
    EXPECT_VEL,
    PART_BASE,
    TICKS_PER_BEAT,
    VOCAB_SIZE,
    Meter,
    note_token,
)

if TYPE_CHECKING:
    from bridge.live.generation import Generation

QUOTE_BONUS = 2.0           # logits on the token that goes on with the quote
QUOTE_BARS = 4              # a quote's length
QUOTE_LAGS = (8, 7, 6, 5)   # the bars back a choice's quoting draws quote, in turn
PLAN_LAG = 4                # the bars back an accompany plan quotes (the changes just heard)

Event = tuple[int, int, int, int, int]   # tick, part (-1: none), note, velocity, duration


def bars_back(meter: Meter, tick: int, bars: int) -> int:
    """The tick ``bars`` bars before ``tick``, at the same place in its bar."""
    bar = meter.bar_start(tick)
    offset = tick - bar
    for _ in range(bars):
        bar = meter.bar_start(bar - 1)
    return bar + min(offset, meter.bar_length(bar))


@dataclass(frozen=True)
class Quote:
    events: tuple[Event, ...]    # the quoted notes where the draw would play them, by tick
    end: int                     # the tick the bonus ends at

    @classmethod
    def of(cls, notes: Sequence[Note], meter: Meter, start: int, lag: int,
           bars: int = QUOTE_BARS) -> Quote | None:
        """The notes of ``notes`` from ``lag`` bars before ``start`` for ``bars`` bars (at
        most up to ``start``), moved ``lag`` bars on; None if there are none."""
        source = bars_back(meter, start, lag)
        source_end = min(bars_back(meter, start, max(lag - bars, 0)), start)
        shift = start - source
        events = sorted(
            (to_tick(n.start) + shift, n.part,
             *note_tokens(n.pitch, n.velocity, n.duration * TICKS_PER_BEAT, n.drum))
            for n in notes if source <= to_tick(n.start) < source_end)
        if not events:
            return None
        return cls(tuple(events), source_end + shift)

    def bias(self, gen: Generation) -> np.ndarray | None:
        """The bonus for ``gen``'s next token (None: the quote has nothing to say there)."""
        c = gen.cursor
        now = c.tick
        if now >= self.end:
            return None
        played = set()                       # the notes it has struck at this instant
        for n in reversed(gen.notes):
            if to_tick(n.start) < now:
                break
            played.add((to_tick(n.start), note_token(n.pitch, n.drum)))
        ahead = [e for e in self.events if e[0] >= now and (e[0], e[2]) not in played]
        if not ahead:
            return None
        out = np.zeros(VOCAB_SIZE, dtype=np.float32)
        here = [e for e in ahead if e[0] == now]
        if c.expect == EXPECT_TIME_OR_NOTE:
            for _, part, note, _, _ in here:
                if part == c.part or part < 0:
                    out[note] = QUOTE_BONUS
                else:
                    out[PART_BASE + part] = QUOTE_BONUS
            if not here:
                step = c.copy().time_tokens(ahead[0][0])
                if step:
                    out[step[0]] = QUOTE_BONUS
        elif c.expect == EXPECT_NOTE:
            for _, part, note, _, _ in here:
                if part == c.part or part < 0:
                    out[note] = QUOTE_BONUS
        elif c.expect in (EXPECT_VEL, EXPECT_DUR) and gen.decoder.pending is not None:
            tick, note = gen.decoder.pending
            for e in self.events:
                if e[0] == tick and e[2] == note:
                    out[e[3] if c.expect == EXPECT_VEL else e[4]] = QUOTE_BONUS
        return out if out.any() else None


def quotes(notes: Sequence[Note], meter: Meter, start: int,
           lags: Sequence[int] = QUOTE_LAGS) -> list[Quote]:
    """The quotes of ``notes`` a choice starting at ``start`` draws from: one per lag that
    finds notes (before ``start``)."""
    return [q for q in (Quote.of(notes, meter, start, lag) for lag in lags) if q is not None]


def heard_bars(heard: Sequence[Note], meter: Meter, start: int) -> Bars:
    """The bars ``heard`` lies on, up to ``start``."""
    first = round(heard[0].start * TICKS_PER_BEAT) if heard else start
    return Bars.spanning(meter, first, start - 1)


def draws(gen: Generation, candidates: int, offered: Sequence[Quote]) -> list[Generation]:
    """``candidates`` siblings of ``gen`` (its seed ``s`` draws candidate ``i`` with
    ``s * candidates + i``; no seed: the worker's): the first half free, the rest quoting
    the ``offered`` quotes in turn (all free when none is offered)."""
    k = candidates
    free = k - k // 2 if offered else k
    out = []
    for i in range(k):
        g = gen.sibling(None if gen.seed is None else gen.seed * k + i)
        if i >= free:
            g.quote = offered[(i - free) % len(offered)]
        out.append(g)
    return out


def allowed(spans: Sequence[Sequence[Note]], gens: Sequence[Generation], bars: Bars,
            heard: Sequence[Note], heard_bars: Bars) -> list[int]:
    """The candidates a choice chooses among: the free ones, and those quoting that copy no
    more bars of ``heard`` (on ``heard_bars``) note for note than the most copying free one."""
    free = [i for i, g in enumerate(gens) if g.quote is None]
    if len(free) == len(gens):
        return free
    source = {b for b in bar_contents(heard, heard_bars) if b}
    copies = [copied_bars(s, bars, source) for s in spans]
    most = max((copies[i] for i in free), default=0)
    return [i for i, g in enumerate(gens) if g.quote is None or copies[i] <= most]
