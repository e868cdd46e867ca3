"""Waiting for something that happens on another thread or process, in the tests: one
helper that polls and fails the test, saying what never happened, when the time is up.
(Session logic is tested on a simulated clock instead where it can be: tests/live/test_band.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

Said = str | Callable[[], Any]


def _failure(condition: Callable[[], Any], timeout: float, what: Said) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"not within {timeout:g} s: {said or getattr(condition, '__name__', '')}")


async def until(condition: Callable[[], Any], timeout: float = 3.0, what: Said = "") -> None:
    """Poll ``condition`` every 5 ms on the running loop; fail if it is false for
    ``timeout`` seconds (``what``, or a callable giving it, says what was awaited)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            raise _failure(condition, timeout, what)
        await asyncio.sleep(0.005)


def wait_until(condition: Callable[[], Any], timeout: float = 3.0, what: Said = "") -> None:
    """:func:`until` for a test without a loop (it sleeps this thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise _failure(condition, timeout, what)
        time.sleep(0.005)
