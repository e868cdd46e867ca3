"""A recording output, and the tiny model's engine on simulated time (``sim``) or running
on a real loop (``run_live``), for session tests."""

from __future__ import annotations

import asyncio

import pytest

from bridge.live.engine import Engine
from bridge.timing.simloop import SimLoop


class Recorder:
    """An Output that records what a session asks of it."""

    def __init__(self, clock=None, loop=None) -> None:
        self.clock, self.loop = clock, loop
        self.played: list = []
        self.played_at: list[float] = []      # song beat when each note was handed over
        self.cancels: list[float] = []
        self.panics = 0
        self.closed = False

    def play(self, note, channel):
        self.played.append((note, channel))
        if self.clock is not None:
            self.played_at.append(self.clock.beat_at(self.loop.time()))

    def cancel_from(self, beat):
        self.cancels.append(beat)

    def panic(self):
        self.panics += 1

    def close(self):
        self.closed = True

    def status(self):
        return {"notes_out": len(self.played)}


@pytest.fixture
def run_live(models):
    """Run ``body(engine, loop)`` inside a loop with a started engine."""
    generator, tagger = models

    def runner(body):
        async def main():
            loop = asyncio.get_running_loop()
            engine = Engine(generator, tagger, "cpu", loop)
            engine.start()
            try:
                return await body(engine, loop)
            finally:
                assert engine.stop(2.0)
        return asyncio.run(main())
    return runner


class Sim:
    """Sessions on simulated time: the engine's work runs between the loop's callbacks (no
    worker thread, so it takes no simulated time) and time moves only when told."""

    def __init__(self, generator, tagger, tempo: float) -> None:
        self.engine = Engine(generator, tagger)
        self.loop = SimLoop(settle=self.engine.drain)
        self.beat_s = 60.0 / tempo

    def run(self, beats: float) -> None:
        """Let ``beats`` beats pass (what the test asked of the engine is done first, as
        the worker would have done it by then)."""
        self.engine.drain()
        self.loop.run_until(self.loop.time() + beats * self.beat_s)

    def until(self, predicate, beats: float = 64.0, step: float = 1 / 24) -> None:
        """Let time pass, a tick at a time, until ``predicate()``; fail after ``beats``."""
        end = self.loop.time() + beats * self.beat_s
        self.engine.drain()
        while not predicate():
            assert self.loop.time() < end, f"not within {beats:g} beats"
            self.run(step)


@pytest.fixture
def sim(models):
    """``sim(tempo)``: a :class:`Sim` on the tiny models."""
    generator, tagger = models
    return lambda tempo=120.0: Sim(generator, tagger, tempo)
