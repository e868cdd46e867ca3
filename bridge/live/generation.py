"""A generation: one continuation the loop asks for and the worker samples.

The loop builds it (where it starts, where it ends, how to sample), the worker fills in its
tokens and notes and calls back; ``cancel()`` is safe from any thread. A generation made
with ``hold`` is a prepared one: the worker samples it up to its first note and parks it
until the loop resumes it (``Engine.resume``) or drops it.

A generation never strikes a note it still sounds: its mask leaves out, at each instant, the
pitches (and drum keys) of its own notes that have not yet ended. The grammar
(:class:`bridge.vocab.Cursor`) already keeps one instant free of repeated notes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bridge.model.sampling import NOTE_NOW, Constraints
from bridge.model.stream import State
from bridge.music.piece import Note
from bridge.music.tokenize import Decoder, to_tick
from bridge.vocab import BAR, EXPECT_TIME_OR_NOTE, K_BEAT, K_SUB, KIND, Cursor, note_token


@dataclass
class Generation:
    """One continuation being sampled. The loop creates it; the worker runs it."""

    session: str
    prefix: list[int]                 # tokens fed before sampling (not emitted)
    cursor: Cursor                    # grammar position after the prefix
    end_tick: int                     # stop before any time token reaching this tick
    constraints: Constraints = field(default_factory=Constraints)
    temperature: float = 1.0
    top_p: float = 0.95
    guidance: float = 0.0             # how strongly its style acts (see sampling.guide)
    seed: int | None = None
    note_now: bool = False            # a response: its first token is a note, at the cursor
    max_tokens: int = 4096
    hold: bool = False                # prepared: the worker parks it after its first note
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
    sounding: dict[int, int] = field(default_factory=dict)  # note token -> its end tick
    requested: float = 0.0            # perf_counter() when the loop asked for it
    started: float = 0.0

    def cancel(self) -> None:
        """Stop as soon as the worker sees it (thread-safe: a plain attribute write)."""
        self.cancelled = True

    def recipe(self) -> tuple:
        """Everything that decides what it samples, taken before the worker moves its
        cursor: two generations with the same recipe from the same state are the same."""
        c = self.cursor
        return (self.session, tuple(self.prefix), c.origin, c.bar_start, c.beat, c.sub,
                c.expect, c.chord, tuple(c.meter.changes), self.end_tick, self.constraints,
                self.temperature, self.top_p, self.guidance, self.seed, self.note_now,
                self.max_tokens, tuple(sorted(self.sounding.items())))

    def mask(self) -> np.ndarray:
        mask = self.cursor.allowed() & self.constraints.mask()
        if self.note_now and not self.tokens and (mask & NOTE_NOW).any():
            mask = mask & NOTE_NOW           # (with no note in range it starts with time)
        if self.sounding and self.cursor.expect == EXPECT_TIME_OR_NOTE:
            now = self.cursor.tick
            busy = [t for t, end in self.sounding.items() if end > now]
            if len(busy) < len(self.sounding):
                self.sounding = {t: self.sounding[t] for t in busy}
            if busy:
                mask = mask.copy()
                mask[busy] = False
        return mask

    def take(self, token: int) -> Note | None:
        """Follow a sampled token; the note it completes, if any."""
        self.tokens.append(token)
        note = self.decoder.feed(token)
        if note is not None:
            self.notes.append(note)
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
