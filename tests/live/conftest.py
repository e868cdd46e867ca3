"""A recording output and a running engine (on the tiny model) for session tests."""

from __future__ import annotations

import asyncio

import pytest

from bridge.live.engine import Engine


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
