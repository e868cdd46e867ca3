"""Results from the inference worker to the asyncio loop, one batch per step.

The worker posts callbacks (a note for a session, a generation's end, tags) as it produces
them, and ``hand_over`` gives the loop the batch so far in one ``call_soon_threadsafe``, in
order. When the batch holds a response's first note (``post(..., urgent=True)``), the worker
waits until the loop has run it (``WAIT_S`` at most): the loop then has the interpreter to
itself and sends the note at once, instead of waiting up to the interpreter's thread-switch
interval (5 ms) for the generating worker to let go. Other batches (notes planned ahead,
ends, tags) do not wait, so the loop's work overlaps the worker's matrix products, which run
without the interpreter lock.

Without a loop (command-line tools, the bench's in-process runs) callbacks run at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

WAIT_S = 0.002   # the worker waits at most this long for the loop to take a first note


class Handover:
    def __init__(self, loop: asyncio.AbstractEventLoop | None, wait_s: float = WAIT_S) -> None:
        self.loop, self.wait_s = loop, wait_s
        self._outbox: list[tuple[Callable, tuple]] = []
        self._urgent = False                 # the outbox holds a response's first note
        self._delivered = threading.Event()

    def post(self, fn: Callable, *args: Any, urgent: bool = False) -> None:
        """``fn(*args)`` on the loop, with the next hand-over (worker thread)."""
        if self.loop is None:
            fn(*args)
            return
        self._outbox.append((fn, args))
        self._urgent |= urgent

    def hand_over(self) -> None:
        """Give the loop what was posted so far in one callback (worker thread); wait
        until it has run it if that holds something urgent."""
        if not self._outbox:
            return
        batch, self._outbox = self._outbox, []
        urgent, self._urgent = self._urgent, False
        self._delivered.clear()
        try:
            self.loop.call_soon_threadsafe(self._deliver, batch)
        except RuntimeError:                # the loop has closed: nobody is listening
            log.debug("event loop closed; %d callbacks dropped", len(batch))
            return
        if urgent:
            self._delivered.wait(self.wait_s)

    def _deliver(self, batch: list[tuple[Callable, tuple]]) -> None:
        """On the loop: run the worker's callbacks in order, then let the worker go on."""
        try:
            for fn, args in batch:
                try:
                    fn(*args)
                except Exception:
                    log.exception("callback %s from the inference worker failed", fn)
        finally:
            self._delivered.set()
