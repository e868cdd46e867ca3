"""The running generations, stepped together: one token for every one of them per step,
fed as one batch (the inference worker's inner loop, :mod:`bridge.live.engine`).

Each generation starts from a copy of its session's state brought to where it begins by its
``prefix``; a guided one carries two rows (styled and unstyled) and samples from their mix
(:func:`bridge.model.sampling.guide`). The batch holds the running generations' rows, in
their order: those that start are stacked onto it, those that end or park leave it in place
(:meth:`bridge.model.stream.State.keep`: the rest move up, nothing is copied out or
allocated; a parked one takes a copy of its rows).

A prepared generation (``hold``) parks after its first note and waits for ``resume``.
Notes and ends go to the loop through the worker's :class:`bridge.live.handover.Handover`:
a step's notes are handed over before its tokens are fed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bridge.live.generation import Generation
from bridge.live.handover import Handover
from bridge.model.sampling import guide, sample
from bridge.model.stream import State, Streamer, stack
from bridge.music.tokenize import Decoder


class Stepper:
    def __init__(self, streamer: Streamer, results: Handover, stats: dict[str, int],
                 first_note: Any, caught: Callable[..., None]) -> None:
        self.streamer, self.results, self.stats = streamer, results, stats
        self.first_note = first_note          # seconds, request -> first note (a window)
        self.caught = caught                  # log and count a fault the worker survives
        self.active: list[Generation] = []
        self.parked: dict[str, Generation] = {}   # prepared, at their first note; per session
        self._batch: State | None = None      # the active generations' rows, in order
        self._rng = random.Random()           # for generations without a seed

    def begin(self, gens: Generation | Sequence[Generation], base: State | None) -> None:
        """Start ``gens`` from their session's state ``base`` (None: the session is gone):
        one generation, or siblings from one place (a choice's candidates), whose common
        prefix is fed once."""
        gens = [gens] if isinstance(gens, Generation) else list(gens)
        assert all(g.prefix == gens[0].prefix for g in gens), "siblings share a prefix"
        for gen in gens:
            if base is None or gen.cancelled:
                self.finish(gen, "cancelled" if gen.cancelled else "no session")
        gens = [g for g in gens if base is not None and not g.cancelled]
        if not gens:
            return
        start = base.clone()
        self.streamer.feed_each(start, gens[0].prefix)
        for gen in gens:
            gen.started = time.perf_counter()
            gen.rows = base.batch
            gen.rng = random.Random(gen.seed) if gen.seed is not None else self._rng
            gen.decoder = Decoder(gen.cursor)
            self.stats["prepared" if gen.hold or gen.candidate else "generations"] += 1
            if gen.hold:
                self.parked.pop(gen.session, None)     # the session's older one is stale
        self._join(gens, [start] * len(gens))

    def resume(self, gen: Generation) -> None:
        if self.parked.get(gen.session) is not gen:
            return               # still on its way to its first note (it goes on), or over
        del self.parked[gen.session]
        if gen.cancelled:
            self.finish(gen, "cancelled")
            return
        self.stats["generations"] += 1
        state, gen.state = gen.state, None
        self._join([gen], [state])

    def forget(self, session: str) -> None:
        """The session closed: its parked answer goes."""
        self.parked.pop(session, None)

    def cancel_all(self) -> None:
        for gen in list(self.active):
            gen.cancel()

    def fail_all(self, exc: Exception) -> None:
        """A batched step failed: every running generation ends with the reason ``error``."""
        for gen in self.active:
            self.fail(gen, exc)
        self.active, self._batch = [], None
        self.results.hand_over()

    def fail(self, gen: Generation, exc: Exception) -> None:
        gen.error = gen.error or f"{type(exc).__name__}: {exc}"
        self.finish(gen, "error")

    def finish(self, gen: Generation, reason: str) -> None:
        gen.state = None
        if gen.on_done is not None:
            self.results.post(gen.on_done, gen, reason)

    # -- a step --------------------------------------------------------------------------

    def step(self) -> None:
        """One token for every running generation, fed as one batch."""
        batch = self.current()
        logits = self.logits(batch.logits.float().cpu().numpy())    # [B, V] -> each's [V]
        chosen = [self._choose_safely(g, x) for g, x in zip(self.active, logits, strict=True)]
        if None in chosen:
            finished = [g for g, t in zip(self.active, chosen, strict=True) if t is None]
            self._leave([t is None for t in chosen])
            chosen = [t for t in chosen if t is not None]
            for gen in finished:
                self.finish(gen, gen.reason)
            if not self.active:
                self.results.hand_over()
                return
            batch = self.current()
        self.results.hand_over()          # the notes go out before the tokens are fed
        self.streamer.feed(batch, [t for g, t in zip(self.active, chosen, strict=True)
                                   for _ in range(g.rows)])
        self.stats["steps"] += 1
        self._park()

    def current(self) -> State:
        """The running generations' states as one batch."""
        assert self._batch is not None, "no generation is running"
        return self._batch

    def logits(self, rows: np.ndarray) -> list[np.ndarray]:
        """Each running generation's logits from the batch's rows (a guided one has two)."""
        out, at = [], 0
        for gen in self.active:
            out.append(rows[at] if gen.rows == 1 else guide(rows[at], rows[at + 1],
                                                             gen.guidance))
            at += gen.rows
        return out

    def _choose(self, gen: Generation, logits: np.ndarray) -> int | None:
        """The generation's next token, or None when it is over (reason in ``gen.reason``)."""
        if gen.cancelled:
            return _done(gen, "cancelled")
        if len(gen.tokens) >= gen.max_tokens:
            return _done(gen, "max_tokens")
        bias = gen.bias()
        if bias is not None:
            logits = logits + bias
        token = sample(logits, gen.mask(), gen.temperature, gen.top_p, gen.rng)
        if gen.passes_end(token):
            return _done(gen, "end")
        note = gen.take(token)
        if note is not None and gen.plays(note):
            first = not gen.played and not gen.hold and not gen.candidate
            gen.played += 1
            if first:
                self.first_note.append(time.perf_counter() - gen.requested)
            urgent = first and gen.note_now     # a response's: the performer waits for it
            if gen.on_note is not None:
                self.results.post(gen.on_note, gen, note, urgent=urgent)
        return token

    def _choose_safely(self, gen: Generation, logits: np.ndarray) -> int | None:
        """:meth:`_choose`; a generation it fails for ends with the reason ``error``."""
        try:
            return self._choose(gen, logits)
        except Exception as exc:
            self.caught("session %s: a generation failed", gen.session)
            gen.error = f"{type(exc).__name__}: {exc}"
            return _done(gen, "error")

    def _park(self) -> None:
        """Prepared generations that have their first note wait for ``resume``."""
        held = [g.hold and g.played > 0 for g in self.active]   # read once: the loop
        if any(held):                                           # may clear hold meanwhile
            for gen, parks in zip(self.active, held, strict=True):
                if parks:
                    self.parked[gen.session] = gen
            self._leave(held, keep_state=True)

    def _join(self, gens: list[Generation], states: list[State]) -> None:
        """``gens`` start running, from ``states`` (their rows, one state each), after the
        running ones: one batch copy."""
        rows = ([] if self._batch is None else [self._batch]) + states
        self._batch = rows[0] if len(rows) == 1 else stack(rows)
        self.active.extend(gens)

    def _leave(self, leaving: list[bool], keep_state: bool = False) -> None:
        """The active generations flagged in ``leaving`` stop running (with a copy of their
        rows when ``keep_state``); the others' rows move up in place."""
        batch, kept, rows, at = self._batch, [], [], 0
        assert batch is not None
        for gen, leaves in zip(self.active, leaving, strict=True):
            if not leaves:
                kept.append(gen)
                rows.extend(range(at, at + gen.rows))
            elif keep_state:
                gen.state = batch.row(at, gen.rows)
            at += gen.rows
        self.active = kept
        self._batch = batch.keep(rows) if kept else None


def _done(gen: Generation, reason: str) -> None:
    gen.reason = reason
    return None
