"""The process's timer resolution, which the note scheduler's asyncio timers depend on.

Windows wakes a waiting thread on its timer tick: 15.6 ms unless the process asks for a
finer one, and the event loop's waits (a MIDI note-on's moment is one) follow it, so notes
through a loopback MIDI port would land up to a tick late. While the daemon runs it asks for
1 ms (``timeBeginPeriod``), as audio and MIDI programs on Windows do. Elsewhere the loop's
waits are fine already (epoll on Linux: whole milliseconds, rounded up; kqueue on macOS:
nanoseconds) and this does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

PERIOD_MS = 1


@contextlib.contextmanager
def fine_timers(period_ms: int = PERIOD_MS) -> Iterator[bool]:
    """Ask for ``period_ms`` timer resolution while the block runs; True if it was granted
    (Windows), False where there is nothing to ask (elsewhere) or the request failed."""
    if sys.platform != "win32":
        yield False
        return
    import ctypes

    winmm = ctypes.WinDLL("winmm")
    granted = winmm.timeBeginPeriod(period_ms) == 0          # TIMERR_NOERROR
    if not granted:
        log.warning("Windows refused %d ms timer resolution: MIDI notes may land up to "
                    "15.6 ms late", period_ms)
    try:
        yield granted
    finally:
        if granted:
            winmm.timeEndPeriod(period_ms)
