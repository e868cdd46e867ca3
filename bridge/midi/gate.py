"""The Python callback of an rtmidi input, attached and detached without crashing rtmidi.

python-rtmidi 1.5.8 (RtMidi 5.0) calls a Python callback from its input thread (JACK's
process thread on JACK) and races with ``cancel_callback()`` in two ways:

- The input thread reads the callback's pointers, then waits for the GIL. Meanwhile
  ``cancel_callback()`` drops the only reference to the ``(func, data)`` tuple they point
  to, and the waiting call then unpacks freed memory.
- ``cancelCallback()`` clears the function and its data one after the other while the
  input thread may be reading them, and the input thread can then call a null function.

Either kills the process with SIGSEGV. It was seen at shutdown with MIDI clock running;
under a flood of clock ticks one close in a few dozen crashed (tests/midi/test_gate.py).
The gate avoids both. It keeps the tuple alive as long as the port (found with
``gc.get_referents``), and the input thread cancels the callback itself, from inside the
next call, where no other thread reads those fields. If no message comes within ``QUIET_S``
the input is quiet and the closing thread cancels instead. A call that was already on its
way then finds the kept tuple and a closed gate, and ``DRAIN_S`` lets it finish before the
port closes: closing a JACK port waits for the process cycle while holding the GIL, and
that call needs the GIL.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

import rtmidi

log = logging.getLogger(__name__)

QUIET_S = 0.05    # how long the input thread gets to cancel its own callback
DRAIN_S = 0.02    # what a call already on its way gets to finish after a cancel from outside

Target = Callable[[tuple[list[int], float], object], None]


class CallbackGate:
    """``rt``'s callback: calls ``target(event, data)`` until :meth:`close`."""

    def __init__(self, rt: rtmidi.MidiIn, target: Target) -> None:
        self._rt = rt
        self._target = target
        self._open = True
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self.cancelled_by: str | None = None      # which thread cancelled: for tests and logs
        rt.set_callback(self._call)
        self._kept = kept_by(rt, self._call)

    def _call(self, event: tuple[list[int], float], data: object = None) -> None:
        if self._open:
            self._target(event, data)
        else:
            self._cancel("input")

    def close(self) -> None:
        """No more calls into Python, and none left on its way; returns at once if closed."""
        if not self._open:
            return
        self._open = False
        if not self._cancelled.wait(QUIET_S):             # the GIL is free meanwhile
            self._cancel("closer")
            time.sleep(DRAIN_S)
        log.debug("callback cancelled by the %s thread", self.cancelled_by)

    def _cancel(self, by: str) -> None:
        with self._lock:
            if self._cancelled.is_set():
                return
            try:
                self._rt.cancel_callback()
            except Exception:                             # a deleted port has none left
                log.debug("cancel_callback failed", exc_info=True)
            self.cancelled_by = by
            self._cancelled.set()


def kept_by(rt: rtmidi.MidiIn, func: Callable) -> tuple | None:
    """The ``(func, data)`` tuple that ``rt`` passes to its input thread, so that a
    reference of ours outlives ``cancel_callback()``; None where python-rtmidi keeps the
    callback some other way (newer releases hold it safely themselves)."""
    for ref in gc.get_referents(rt):
        if type(ref) is tuple and len(ref) == 2 and ref[0] == func:
            return ref
    log.debug("python-rtmidi keeps no (func, data) tuple here; nothing to hold")
    return None
