"""A generation: one continuation the loop asks for and the worker samples.

The loop builds it (where it starts, where it ends, how to sample), the worker fills in its
tokens and notes and calls back; ``cancel()`` is safe from any thread. A generation made
with ``hold`` is a prepared one: the worker samples it up to its first note and parks it
until the loop resumes it (``Engine.resume``) or drops it.

A generation never strikes a note it still sounds: its mask leaves out, at each instant, the
pitches (and drum keys) of its own notes that have not yet ended. The grammar
(:class:`bridge.vocab.Cursor`) already keeps one instant free of repeated notes.

A generation asked for some ``parts`` (the bass; the accompaniment: harmony and bass)
writes the whole texture as the model hears it but plays those parts only: its other notes
are heard (they stay in its context, so its bass knows the harmony it sits under) and never
played. (Forcing every note into the part made the model write its melody into the bass: a
"bass" at the melody's pitch.) A part asked for that the context lacks (a bass under a
melody played alone) is brought in (``bring_in``, :mod:`bridge.live.entry`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from bridge.live.entry import (
    ENTRY_BARS,
    at_most,
    ceilings,
    entering,
    part_bias,
    part_tokens,
    register_top,
)
from bridge.model.sampling import NOTE_NOW, Constraints
from bridge.music.piece import Note
from bridge.music.tokenize import Decoder, to_tick
from bridge.vocab import (
    BAR,
    EXPECT_NOTE,
    EXPECT_TIME_OR_NOTE,
    K_BEAT,
    K_DRUM,
    K_PART,
    K_PITCH,
    K_SUB,
    KIND,
    MAX_BEATS_PER_BAR,
    PART_BASE,
    PARTS,
    TICKS_PER_BEAT,
    VOCAB_SIZE,
    Cursor,
    beat_token,
    lowest_notes,
    note_token,
    part_notes,
    sub_token,
)

if TYPE_CHECKING:                    # the worker's state: the engine alone touches it
    from bridge.live.quote import Quote
    from bridge.model.stream import State


def _part_notes() -> np.ndarray:
    """Per part, the note tokens it may play: drums its drum keys, the others pitches."""
    out = np.zeros((len(PARTS), VOCAB_SIZE), dtype=bool)
    for q in range(len(PARTS)):
        lo, hi = part_notes(q)
        out[q, lo:hi] = True
    out.setflags(write=False)
    return out


PART_NOTES = _part_notes()


@lru_cache(maxsize=1024)
def _part_allowed(constraints: Constraints, part: int) -> np.ndarray:
    """The notes the constraints allow ``part`` in its register (:func:`register_top`)."""
    notes = constraints.mask() & PART_NOTES[part]
    top = register_top(constraints, part)
    return notes if top is None else notes & at_most(top)


@lru_cache(maxsize=256)
def _part_room(constraints: Constraints) -> tuple[int, ...]:
    """Per part, how many notes the constraints allow it in its register."""
    return tuple(int(np.count_nonzero(_part_allowed(constraints, q)))
                 for q in range(len(PARTS)))


@lru_cache(maxsize=1024)
def _resume_mask(ahead: int, beat: int, in_bar: bool) -> np.ndarray:
    """The tokens that keep a cursor ``ahead`` ticks before the tick a plan resumes at
    (counted from its bar's start, ``beat`` its beat) from placing an event before it:
    time tokens that land there or past it, and the BAR and beats on the way to it.

    A plan that resumes later (accompaniment re-plans from the edge of what it committed; a
    continuation starts after its prompt) draws its first event from the model's own odds
    of what comes first once nothing came before the edge. Fed time tokens up to the edge
    instead, the model reads them as an event there: in its training data a BEAT or SUB is
    always followed by one (after a BEAT fed where the music had no event, Nottingham's val
    tunes, the model moved on with 11 % of its probability)."""
    mask = np.ones(VOCAB_SIZE, dtype=bool)
    mask[(KIND == K_PITCH) | (KIND == K_DRUM) | (KIND == K_PART)] = False   # here: too soon
    if in_bar:
        for b in range(1, MAX_BEATS_PER_BAR):        # a beat that ends before: too soon
            mask[beat_token(b)] = (b + 1) * TICKS_PER_BEAT > ahead
        for t in range(1, TICKS_PER_BEAT):
            mask[sub_token(t)] = beat * TICKS_PER_BEAT + t >= ahead
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=64)
def _heard_only(parts: frozenset[int], part: int) -> np.ndarray:
    """The tokens that keep a resumed plan to the notes of the parts it does not play
    (``part``: the cursor's) between what it has heard and where its own notes may start."""
    mask = np.ones(VOCAB_SIZE, dtype=bool)
    for q in parts:
        mask[PART_BASE + q] = False
    if part in parts:
        mask[(KIND == K_PITCH) | (KIND == K_DRUM)] = False
    mask.setflags(write=False)
    return mask


@dataclass(eq=False)
class Generation:
    """One continuation being sampled. The loop creates it; the worker runs it. Each is
    itself (compared by identity): two candidates of one choice may hold the same recipe,
    seedless, and the worker's state holds tensors (``recipe`` compares what they draw)."""

    session: str
    prefix: list[int]                 # tokens fed before sampling (not emitted)
    cursor: Cursor                    # grammar position after the prefix
    end_tick: int                     # stop before any time token reaching this tick
    constraints: Constraints = field(default_factory=Constraints)
    temperature: float = 1.0
    top_p: float = 0.95
    guidance: float = 0.0             # how strongly its style acts (see sampling.guide)
    parts: frozenset[int] | None = None   # the parts it plays (others heard only); None: all
    entering: frozenset[int] = frozenset()   # parts it plays that its context lacks
    entered: bool = False             # ... and one of them has played a note since
    under: tuple[tuple[int, int], ...] = ()   # ... each (part, the highest pitch it may play)
    on_the_bar: bool = False          # ... and they wait for a bar line however far it lies
    #                                   (an accompany plan's: the next plan reaches it)
    seed: int | None = None
    note_now: bool = False            # a response: its first token is a note, at the cursor
    not_before: int = 0               # a plan resumed here: none of its notes before this tick
    heard_until: int | None = None    # ... and no note of any part before this one (what
    #                                   its context holds is all that sounded; None: not_before)
    max_tokens: int = 4096
    hold: bool = False                # prepared: the worker parks it after its first note
    candidate: bool = False           # one draw of a choice (bridge.live.choice): prepared,
    #                                   heard only if chosen
    quote: Quote | None = None        # a hint it may follow (bridge.live.quote)
    on_note: Callable[[Generation, Note], None] | None = None
    on_done: Callable[[Generation, str], None] | None = None
    cancelled: bool = False
    reason: str = ""                  # why it ended: end, cancelled, max_tokens, no session,
    #                                   error (then ``error`` says what went wrong)
    error: str = ""
    # worker-side
    state: State | None = None
    rows: int = 1                     # its state's rows: 2 = styled and unstyled (guided)
    rng: random.Random | None = None  # the seed's own, else the worker's
    decoder: Decoder | None = None
    tokens: list[int] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)   # every note decoded so far
    played: int = 0                   # how many of them it played (see ``parts``)
    sounding: dict[int, int] = field(default_factory=dict)  # note token -> its end tick
    requested: float = 0.0            # perf_counter() when the loop asked for it
    started: float = 0.0

    def cancel(self) -> None:
        """Stop as soon as the worker sees it (thread-safe: a plain attribute write)."""
        self.cancelled = True

    def sibling(self, seed: int | None) -> Generation:
        """Another draw of the same recipe from the same place (a candidate: see
        :func:`bridge.music.likeness.consensus`), with ``seed``; nothing sampled yet and no
        callbacks (the caller's to set)."""
        return replace(self, prefix=list(self.prefix), cursor=self.cursor.copy(), seed=seed,
                       on_note=None, on_done=None, cancelled=False, reason="", error="",
                       state=None, rows=1, rng=None, decoder=None, tokens=[], notes=[],
                       entered=False, played=0, sounding=dict(self.sounding),
                       requested=0.0, started=0.0)

    @property
    def first_tick(self) -> int:
        """The earliest tick its notes may start at, before the worker moves its cursor:
        the cursor's, or where a resumed plan's own notes begin."""
        return max(self.not_before, self.cursor.tick)

    def asked(self) -> tuple:
        """What was asked for, taken before the worker moves its cursor: where it starts
        and ends, what it plays and how it samples, whatever was heard before it."""
        return (self.session, self.cursor.tick, tuple(self.cursor.meter.changes),
                self.end_tick, self.constraints, self.parts, self.temperature, self.top_p,
                self.guidance, self.seed, self.note_now, self.not_before, self.max_tokens)

    def recipe(self) -> tuple:
        """Everything that decides what it samples, taken before the worker moves its
        cursor: two generations with the same recipe from the same state are the same."""
        c = self.cursor
        return (*self.asked(), tuple(self.prefix), c.origin, c.bar_start, c.beat, c.sub,
                c.expect, c.chord, c.part, self.entering, self.under, self.heard_until,
                self.quote, tuple(sorted(self.sounding.items())))

    def mask(self) -> np.ndarray:
        c = self.cursor
        mask = c.allowed() & self.constraints.mask()
        if c.expect in (EXPECT_TIME_OR_NOTE, EXPECT_NOTE):
            busy = self._busy(c.tick)
            if busy:
                mask = mask.copy()
                mask[busy] = False
            if c.expect == EXPECT_TIME_OR_NOTE:
                mask = self._playable_parts(mask, busy)
        if self.note_now and not self.tokens and (mask & NOTE_NOW).any():
            mask = mask & NOTE_NOW           # (with no note in range it starts with time)
        if c.tick < self.not_before and c.expect == EXPECT_TIME_OR_NOTE:
            heard = self.not_before if self.heard_until is None or self.parts is None \
                else self.heard_until            # (playing every part, none to imagine)
            if c.tick < heard:
                mask = mask & _resume_mask(heard - (c.bar_start or 0), c.beat,
                                           c.bar_start is not None)
            else:                            # the others' notes it imagines until then
                mask = mask & _heard_only(self.parts, c.part)
        elif self.entering and not self.entered:
            if self._entry(c) and (mask & part_tokens(self.entering)).any():
                mask = mask & NOTE_NOW       # the part enters here, after what comes before it
            elif self.on_the_bar and c.expect == EXPECT_TIME_OR_NOTE:
                mask = mask & ~part_tokens(self.entering)      # not before its bar line
        if c.expect in (EXPECT_TIME_OR_NOTE, EXPECT_NOTE):
            ceiling = self._ceiling(c.part)
            if ceiling is not None:
                mask = mask & at_most(ceiling)
        return mask

    def _ceiling(self, part: int) -> int | None:
        """The highest pitch ``part`` may play: in its register (:func:`register_top`), and
        coming in under the parts above it (:meth:`_under`)."""
        top, under = register_top(self.constraints, part), self._under(part)
        return top if under is None else under if top is None else min(top, under)

    def _under(self, part: int) -> int | None:
        """The highest pitch ``part`` may play coming in under the parts above it."""
        return next((top for q, top in self.under if q == part), None) if self.under else None

    def _entry(self, c: Cursor) -> bool:
        """Is the cursor at the instant where the parts ``entering`` come in: the first bar
        line it may play at (any beat where none comes before its end), as parts came in
        while the model learnt (``data.arrange``)? ``on_the_bar``: a bar line only. An
        accompany plan, a beat or two long, reaches no bar line, and took any beat: the
        parts came in on the beat after the melody's first, and again on any beat after two
        bars of rest. Accompanying a melody heard alone (``continuo eval --task
        accompaniment --alone``, val, 40 pieces a dataset, seed 0), against any beat:
        Nottingham +0.039 (standard error 0.014), POP909 -0.002 (0.015)."""
        if c.expect != EXPECT_TIME_OR_NOTE or c.sub != 0 or c.bar_start is None:
            return False
        return c.beat == 0 or (not self.on_the_bar
                               and c.bar_start + c.bar_ticks >= self.end_tick)

    def bring_in(self, asks: Sequence[frozenset[int]], context: list[int]) -> None:
        """Bring in the parts of ``asks`` that ``context`` lacks (:func:`entering`), under
        the parts above them that it holds (:func:`ceilings`, where the constraints leave
        them a pitch there)."""
        sounding = lowest_notes(context, ENTRY_BARS)
        self.entering = entering(asks, sounding)
        allowed = self.constraints.mask()
        self.under = tuple((q, top) for q, top in ceilings(self.entering, sounding)
                           if top >= 0 and (allowed & at_most(top)
                                            & PART_NOTES[q]).any())

    def _busy(self, now: int) -> list[int]:
        """The note tokens still sounding at ``now`` (forgetting those that ended)."""
        busy = [t for t, end in self.sounding.items() if end > now]
        if len(busy) < len(self.sounding):
            self.sounding = {t: self.sounding[t] for t in busy}
        return busy

    def _playable_parts(self, mask: np.ndarray, busy: list[int]) -> np.ndarray:
        """``mask`` without the PART tokens after which no note could be played (all out of
        range, above the part's ceiling or sounding): a PART must be followed by a note."""
        room = _part_room(self.constraints)
        for q in np.flatnonzero(mask[PART_BASE:PART_BASE + len(PARTS)]):
            under = self._under(q)
            if under is None and room[q] > len(busy):
                continue                     # more notes allowed than can be sounding
            notes = _part_allowed(self.constraints, q)
            if under is not None:
                notes = notes & at_most(under)
            if busy:
                notes = notes.copy()
                notes[busy] = False
            if not notes.any():
                mask = mask.copy()
                mask[PART_BASE + q] = False
        return mask

    def bias(self) -> np.ndarray | None:
        """Logits to add before sampling (None: nothing): ``ENTRY_BIAS`` on the PART tokens
        of the parts ``entering``, all along (favoured only until their first note, a bass
        that entered went on at the melody's pitch: mean 66 against 50), and its quote's
        bonus."""
        bias = part_bias(self.entering) if self.entering else None
        hint = self.quote.bias(self) if self.quote is not None else None
        if hint is None:
            return bias
        return hint if bias is None else bias + hint

    def plays(self, note: Note) -> bool:
        """Is this note of a part it plays (else heard only)?"""
        return self.parts is None or note.part in self.parts

    def take(self, token: int) -> Note | None:
        """Follow a sampled token; the note it completes, if any."""
        self.tokens.append(token)
        note = self.decoder.feed(token)
        if note is not None:
            self.notes.append(note)
            self.entered = self.entered or note.part in self.entering
            self.sounding[note_token(note.pitch, note.drum)] = to_tick(note.end)
        return note

    def passes_end(self, token: int) -> bool:
        """Would this time token move the cursor to or past ``end_tick``?"""
        kind = KIND[token]
        c = self.cursor
        if token == BAR:
            start = c.origin if c.bar_start is None else c.bar_start + c.bar_ticks
            return start >= self.end_tick
        if kind in (K_BEAT, K_SUB):
            probe = c.copy()
            probe.advance(token)
            return probe.tick >= self.end_tick
        return False
