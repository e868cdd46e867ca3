"""Is the MIDI server still there? A JACK server can go away under a running daemon: its
ports then take messages that go nowhere, and nothing tells the client (python-rtmidi
reports them open, sends without error and calls no error callback; measured with jackd2
1.9.21). So a :class:`ServerWatch` asks the server every ``CHECK_S`` seconds, off the event
loop (``jack_wait --check`` in a worker thread, ~10 ms), tells its owner once when the
server is lost and once when it is back, and while it is gone asks again with backoff
(``RETRY_S`` doubling to ``RETRY_MAX_S``). Other MIDI APIs have no server to lose.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from bridge.midi import jack

log = logging.getLogger(__name__)

CHECK_S = 2.0
RETRY_S = 1.0
RETRY_MAX_S = 30.0


def jack_server_name() -> str:
    """The JACK server this process's clients reach."""
    return os.environ.get("JACK_DEFAULT_SERVER") or "default"


class ServerWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, server: str,
                 on_lost: Callable[[], None], on_back: Callable[[], None],
                 check: Callable[[str], bool] = jack.running) -> None:
        self.loop, self.server = loop, server
        self.on_lost, self.on_back, self.check = on_lost, on_back, check
        self.up = True
        self.retry = RETRY_S
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False

    def start(self) -> None:
        self._arm(CHECK_S)

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()

    def _arm(self, delay: float) -> None:
        if not self._stopped:
            self._timer = self.loop.call_later(delay, self._ask)

    def _ask(self) -> None:
        future = self.loop.run_in_executor(None, self.check, self.server)
        future.add_done_callback(self._answered)

    def _answered(self, future: asyncio.Future) -> None:
        if self._stopped:
            return
        try:
            running = bool(future.result())
        except Exception:
            log.exception("checking the JACK server %r failed", self.server)
            running = self.up
        if self.up and not running:
            self.up, self.retry = False, RETRY_S
            self._tell(self.on_lost)
        elif not self.up and running:
            self.up = self._tell(self.on_back)     # ports that fail to open: try again
        if self.up:
            self._arm(CHECK_S)
        else:
            self._arm(self.retry)
            self.retry = min(self.retry * 2, RETRY_MAX_S)

    def _tell(self, callback: Callable[[], None]) -> bool:
        try:
            callback()
            return True
        except Exception:
            log.exception("the MIDI server watch's callback failed")
            return False
