"""A loop on simulated time: what a session needs of asyncio's loop (``time``,
``call_at``, ``call_later``, ``call_soon``, ``call_soon_threadsafe``), with time that moves
only when told to.

The accompaniment benchmark runs the daemon's own session, accompanist and engine on it:
``run_until(t)`` runs every callback due by ``t`` in time order, the clock standing at each
one's time while it runs, and ``settle`` after each (the engine's ``drain``: the worker's
work takes no simulated time, as on an infinitely fast machine; the bench measures the real
one). Nothing sleeps and nothing depends on the host's speed, so a run is repeatable.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any


class SimHandle:
    """What ``call_at`` returns: ``cancel()`` keeps it from running."""

    __slots__ = ("args", "cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable, args: tuple) -> None:
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class SimLoop:
    def __init__(self, start: float = 0.0,
                 settle: Callable[[], None] | None = None) -> None:
        self._now = float(start)
        self._timers: list[tuple[float, int, SimHandle]] = []
        self._ready: deque[SimHandle] = deque()
        self._seq = itertools.count()
        self.settle = settle or (lambda: None)

    def time(self) -> float:
        return self._now

    def call_at(self, when: float, fn: Callable, *args: Any) -> SimHandle:
        handle = SimHandle(float(when), fn, args)
        heapq.heappush(self._timers, (handle.when, next(self._seq), handle))
        return handle

    def call_later(self, delay: float, fn: Callable, *args: Any) -> SimHandle:
        return self.call_at(self._now + delay, fn, *args)

    def call_soon(self, fn: Callable, *args: Any) -> SimHandle:
        handle = SimHandle(self._now, fn, args)
        self._ready.append(handle)
        return handle

    call_soon_threadsafe = call_soon

    def run_until(self, when: float) -> None:
        """Run what is due by ``when`` in order (and what that schedules, if due), then
        stand at ``when``."""
        while True:
            if self._ready:
                self._run(self._ready.popleft())
            elif self._timers and self._timers[0][0] <= when:
                handle = heapq.heappop(self._timers)[2]
                if not handle.cancelled:
                    self._now = max(self._now, handle.when)
                    self._run(handle)
            else:
                break
        self._now = max(self._now, when)

    def _run(self, handle: SimHandle) -> None:
        if not handle.cancelled:
            handle.fn(*handle.args)
            self.settle()
