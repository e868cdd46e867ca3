"""A quote: bars the music played some bars back, offered to a draw as a hint it may take.

Music returns to what it played: a tune's first strain comes again, a groove goes round, a
song's verse repeats with another turn. A draw that quotes is given, while it samples the
quote's span, a bonus (in logits: a choice's :class:`Quoting`'s, a plan's ``PLAN_BONUS``) on
the token that would go on with the quoted notes at the place the draw has reached: the time
token to the quote's next onset, the PART and pitch of a quoted note at this instant, then
that note's velocity and duration. So the model follows the quote where its own ideas agree
and leaves it where they do not; once it has left, the bonus points at the quote's next note
from wherever it is.

Of a choice's draws (:func:`draws`) some are free and the rest quote (none when a style is
asked for: the request is to leave what was heard behind, and quotes drew the continuation
back to the prompt's genre: style control 0.750 -> 0.664), each quoting one of its
:class:`Quoting`'s lags (bars back) for ``QUOTE_BARS`` bars: a tune's (``TUNE``) half free,
quoting the bars heard 5-8 back at a bonus of 2; a groove's (``GROOVE``, drums alone) nearly
all quoting, the latest bars first, at a bonus of 3, for a groove goes round where a tune
moves on; a loop's (:func:`loop`: music heard going round exactly, a riff looped, a drum
machine's pattern) as a groove's, whole turns back. The choice hears bars heard before,
played again, as voters beside the draws (:func:`voters`): a tune's first strain (8 bars
back) and its latest bars, a groove's latest bars, a loop's next turn; a choice under a
style request, which quotes nothing and hears no voter, keeps to the key it heard. A
groove's or a loop's answer drawn alone, with no choice, quotes its latest bars too
(:func:`alone`). The choice itself (:mod:`bridge.live.choice`) keeps out a draw that copies
more bars note for note than the most copying free draw, so the quotes are varied rather
than repeated (a performer's bars are never copied exactly by the music itself), and takes
a little from each draw for the bars it copies; not a loop's, which
the music copies itself. Measured on the continuation benchmark: docs/musicality.md,
"Candidates that quote the prompt", "A groove goes round", "Bars heard before as voters", "A
loop goes round", "A style request keeps the key it heard" and "A line played alone goes on
alone".

Accompany mode's plans quote too, as :mod:`bridge.live.plan_quote` chooses.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np

from bridge.music.likeness import Bars
from bridge.music.loop import period
from bridge.music.piece import Note
from bridge.music.tokenize import note_tokens, to_tick
from bridge.vocab import (
    BASS,
    DRUMS,
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

QUOTE_BARS = 4              # a choice's quote's length

Event = tuple[int, int, int, int, int]   # tick, part (-1: none), note, velocity, duration


@dataclass(frozen=True)
class Quoting:
    """How a choice's draws quote the bars heard before."""

    free: float                 # the share of the draws that quote nothing (at least one)
    bonus: float                # logits on the token that goes on with a quote
    lags: tuple[int, ...]       # the bars back the quoting draws quote, in turn
    # the choice's voters: (bars back, weight): the QUOTE_BARS bars heard from that far
    # back, played again, and how much a draw's likeness to them counts (voters())
    voters: tuple[tuple[int, float], ...] = ()
    single: bool = False        # does an answer drawn alone (no choice) quote the first lag?
    copies: bool = False        # may a draw copy bars heard note for note, as a loop does?


TUNE = Quoting(free=0.5, bonus=2.0, lags=(8, 7, 6, 5), voters=((8, 0.3), (4, 0.2)))
GROOVE = Quoting(free=0.125, bonus=3.0, lags=(4, 5, 6, 7), voters=((4, 1.0),),
                 single=True)                                        # drums alone
LONGEST_LAG = 8             # a loop's quotes reach no further back than a tune's
PULSE = replace(GROOVE, bonus=8.0)   # a bass drawn under drums alone, led to the kick's hits
KICKS = frozenset({35, 36})          # the kick drums' keys (General MIDI)


def loop(turn: int, rest: int = 0) -> Quoting:
    """How a choice quotes music heard going round every ``turn`` bars exactly, ``rest``
    whole bars of silence ago (:func:`bridge.music.loop.period`): nearly every draw quoting
    it a whole number of turns back, as if it had gone on through the silence, the voter its
    next turn, and a draw free to copy the bars heard (the music does); as many draws, as
    hard, as a groove's."""
    lags = tuple(lag for lag in range(turn, LONGEST_LAG + rest + 1, turn)
                 if lag >= QUOTE_BARS + rest)
    [(_, weight)] = GROOVE.voters
    return replace(GROOVE, lags=lags, voters=((lags[0], weight),), copies=True)


def for_a_drummer(gen: Generation, heard: Sequence[Note]) -> bool:
    """Does ``gen`` play a bass (no drums) where drums were heard and no pitched part but
    those it plays (a bass for a drummer: its own answers before may have been heard)? Then
    its draws quote the kick's hits as the bass's (:func:`quoted`), its time led to them bar
    for bar, as a bass player locks to the kick drum (:data:`PULSE`)."""
    return gen.parts is not None and BASS in gen.parts and DRUMS not in gen.parts \
        and any(n.drum for n in heard) and all(n.drum or n.part in gen.parts for n in heard)


def quoted(heard: Sequence[Note], how: Quoting) -> Sequence[Note]:
    """What draws quoting as ``how`` says quote of ``heard``: all of it, or as a
    :data:`PULSE` (a bass for a drummer, :func:`for_a_drummer`) the kick's hits as the
    bass's, their drum keys kept (a pitched draw never plays them: only its time is led).
    Val, 10 Groove takes, seeds 0-1, a bass drawn hearing no drums: 1.69 notes a beat, 0.30
    of them on a place in the bar where the kick played; quoting the kick: 1.08 and 0.74
    (docs/musicality.md, "A bass under a drummer")."""
    if how is not PULSE:
        return heard
    return [replace(n, part=BASS) for n in heard if n.drum and n.pitch in KICKS]


def quoting(gen: Generation, heard: Sequence[Note] = ()) -> Quoting:
    """How ``gen``'s choice quotes ``heard``: as a :func:`loop` when what it heard of the
    parts it plays goes round exactly (a drum machine's pattern under a bass played live),
    else as a groove when ``gen`` plays drums alone, as a pulse when it plays a bass for a
    drummer (:func:`for_a_drummer`), else as a tune."""
    if for_a_drummer(gen, heard):
        return PULSE
    found = period(ours(gen, heard), gen.cursor.meter, gen.first_tick)
    if found is not None:
        return loop(*found)
    return GROOVE if gen.constraints.drums is True else TUNE


@dataclass(frozen=True)
class Quote:
    events: tuple[Event, ...]    # the quoted notes where the draw would play them, by tick
    begin: int | None            # the tick the bonus begins at (None: wherever the draw is)
    end: int                     # ... and ends at
    bonus: float                 # logits on the token that goes on with it
    steers: frozenset[int] | None = None   # the parts whose onsets lead its time (None: all)

    @classmethod
    def of(cls, notes: Sequence[Note], meter: Meter, start: int, lag: int,
           bars: int = QUOTE_BARS, bonus: float = TUNE.bonus,
           steers: frozenset[int] | None = None) -> Quote | None:
        """The notes of ``notes`` from ``lag`` bars before ``start`` for ``bars`` bars (at
        most up to ``start``), moved ``lag`` bars on; None if there are none. ``steers``:
        the parts whose onsets the time token is led to (None: every part's). What lay
        before the bar of the first note heard is not quoted: nothing was played there yet,
        and quoting that silence would hold the draw back until the quote's first note."""
        if not notes:
            return None
        heard = meter.bar_start(to_tick(min(n.start for n in notes)))
        source = meter.shift(start, -lag)
        source_end = min(meter.shift(start, -max(lag - bars, 0)), start)
        shift = start - source
        begin = heard + shift if heard > source else None
        source = max(source, heard)
        # a live session hears up to HEARD_NOTES notes: most lie a tick or more outside the
        # span, which their beats tell before a tick is computed
        lo, hi = (source - 1) / TICKS_PER_BEAT, (source_end + 1) / TICKS_PER_BEAT
        events = sorted(
            (to_tick(n.start) + shift, n.part,
             *note_tokens(n.pitch, n.velocity, n.duration * TICKS_PER_BEAT, n.drum))
            for n in notes if lo < n.start < hi and source <= to_tick(n.start) < source_end)
        if not events:
            return None
        return cls(tuple(events), begin, source_end + shift, bonus, steers)

    def bias(self, gen: Generation) -> np.ndarray | None:
        """The bonus for ``gen``'s next token (None: the quote has nothing to say there)."""
        c = gen.cursor
        now = c.tick
        if now >= self.end or (self.begin is not None and now < self.begin):
            return None
        played = set()                       # the notes it has struck at this instant
        for n in reversed(gen.notes):
            if to_tick(n.start) < now:
                break
            played.add(note_token(n.pitch, n.drum))
        at, later = self._span(now)          # the quoted notes at now, then the first after
        here = [e for e in self.events[at:later] if e[2] not in played]
        if not here and later == len(self.events):
            return None
        out = np.zeros(VOCAB_SIZE, dtype=np.float32)
        if c.expect == EXPECT_TIME_OR_NOTE:
            for _, part, note, _, _ in here:
                if part == c.part or part < 0:
                    out[note] = self.bonus
                else:
                    out[PART_BASE + part] = self.bonus
            lead = None if here else next(
                (e[0] for e in islice(self.events, later, None)
                 if self.steers is None or e[1] in self.steers), None)
            if lead is not None:             # on to the next onset of a part it steers by
                step = c.copy().time_tokens(lead)
                if step:
                    out[step[0]] = self.bonus
        elif c.expect == EXPECT_NOTE:
            for _, part, note, _, _ in here:
                if part == c.part or part < 0:
                    out[note] = self.bonus
        elif c.expect in (EXPECT_VEL, EXPECT_DUR) and gen.decoder.pending is not None:
            tick, note = gen.decoder.pending
            at, after = self._span(tick)
            for e in self.events[at:after]:
                if e[2] == note:
                    out[e[3] if c.expect == EXPECT_VEL else e[4]] = self.bonus
        return out if out.any() else None

    def _span(self, tick: int) -> tuple[int, int]:
        """Where the quoted notes at ``tick`` begin and end among the events (in order of
        their tick)."""
        return bisect_left(self.events, (tick,)), bisect_left(self.events, (tick + 1,))


def quotes(notes: Sequence[Note], meter: Meter, start: int, plays: frozenset[int] | None,
           how: Quoting = TUNE) -> Iterator[Quote]:
    """The quotes of ``notes`` a choice starting at ``start`` in the parts ``plays`` (None:
    any) draws from, made as they are asked for: one per lag of ``how`` that finds notes
    (before ``start``), at its bonus, their time led by the onsets of those parts."""
    for lag in how.lags:
        q = Quote.of(notes, meter, start, lag, bonus=how.bonus, steers=plays)
        if q is not None:
            yield q


def _offered(gen: Generation, heard: Sequence[Note], how: Quoting) -> Iterator[Quote]:
    """The quotes of ``heard`` that ``how`` offers draws of ``gen``, from where it starts."""
    return quotes(quoted(heard, how), gen.cursor.meter, gen.first_tick, gen.parts, how)


def choosing(gen: Generation, candidates: int, heard: Sequence[Note],
             how: Quoting | None = None) -> list[Generation]:
    """The draws a choice of ``candidates`` makes of ``gen`` (:func:`draws`), quoting
    ``heard`` (the notes heard before it starts) as ``how`` (default: its :func:`quoting`)
    says."""
    how = how or quoting(gen, heard)
    return draws(gen, candidates, list(_offered(gen, heard, how)), how.free)


def alone(gen: Generation, heard: Sequence[Note]) -> Quote | None:
    """The quote an answer drawn alone follows (one that plays as it is sampled, with no
    choice among others): a groove's latest bars heard (a single free draw of drums scored
    0.768 on the continuation benchmark's grooves, one quoting the bars 4 back 0.843); a
    loop's, its latest whole turns; a tune's none (a lone quote copies bars a tune's music
    never repeats so exactly, and no choice keeps it out)."""
    how = quoting(gen, heard)
    return next(_offered(gen, heard, how), None) if how.single else None


def heard_bars(heard: Sequence[Note], meter: Meter, start: int) -> Bars:
    """The bars ``heard`` lies on, up to ``start``."""
    first = round(heard[0].start * TICKS_PER_BEAT) if heard else start
    return Bars.spanning(meter, first, start - 1)


def draws(gen: Generation, candidates: int, offered: Sequence[Quote],
          free: float = TUNE.free) -> list[Generation]:
    """``candidates`` siblings of ``gen`` (its seed ``s`` draws candidate ``i`` with
    ``s * candidates + i``; no seed: the worker's): the first ``free`` share of them free
    (at least one), the rest quoting the ``offered`` quotes in turn (all free when none is
    offered)."""
    k = candidates
    free = max(1, math.ceil(k * free)) if offered else k
    out = []
    for i in range(k):
        g = gen.sibling(None if gen.seed is None else gen.seed * k + i)
        g.quote = offered[(i - free) % len(offered)] if i >= free else None
        out.append(g)
    return out


def again(notes: Sequence[Note], meter: Meter, start: int, bars: int = QUOTE_BARS,
          back: int | None = None) -> list[Note]:
    """The notes of ``bars`` bars from ``back`` bars before ``start`` (default: the
    ``bars`` just before it) played again from ``start``."""
    source = meter.shift(start, -(bars if back is None else back))
    until = meter.shift(source, bars)
    shift = (start - source) / TICKS_PER_BEAT
    return [replace(n, start=n.start + shift) for n in notes
            if source <= to_tick(n.start) < min(until, start)]


def ours(gen: Generation, heard: Sequence[Note]) -> list[Note]:
    """The notes of ``heard`` in the parts ``gen`` plays (drums alone: the drums)."""
    drums = gen.constraints.drums
    return [n for n in heard if gen.plays(n) and (drums is None or n.drum == drums)]


def voters(gen: Generation, heard: Sequence[Note], how: Quoting | None = None
           ) -> list[tuple[list[Note], float]]:
    """What the :func:`bridge.music.likeness.consensus` of ``gen``'s draws hears beside
    them, and how much each counts: the voters of ``how`` (default: its :func:`quoting`),
    the bars of what was ``heard`` in the parts it plays (drums alone: the drums) from so
    many bars back, played again (a tune's first strain and its latest bars; a groove's
    latest bars; a loop's next turn). None where nothing was heard there."""
    mine = ours(gen, heard)
    out = []
    for back, weight in (how or quoting(gen, heard)).voters:
        notes = again(mine, gen.cursor.meter, gen.first_tick, back=back)
        if notes:
            out.append((notes, weight))
    return out
