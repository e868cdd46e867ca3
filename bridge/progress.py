"""Progress of a long command (eval, data build, batch continue): one line on stderr every few
seconds, terminal or not, so a log file or a CI job shows it is alive and how far it is.

    reading: 120/941 units (13 %), 0:25 elapsed, ~2:49 left

Nothing is written for work that ends before the first interval; the last line always is.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

EVERY_S = 5.0


def clock_text(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, what: str, total: int | None = None, unit: str = "", *,
                 every: float | None = None, enabled: bool = True, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.every = EVERY_S if every is None else every
        self.enabled = enabled
        self.stream = stream
        self.clock = clock
        self.done = 0
        self.started = clock()
        self._next = self.started + self.every
        self._wrote_done: int | None = None   # ``done`` when the last line was written

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self.enabled and self.clock() >= self._next:
            self._write(note)

    def close(self, note: str = "") -> None:
        """The final line (only if an interval line was written before and the count has
        moved since, or ``note`` says something)."""
        if self.enabled and (note or self._wrote_done not in (None, self.done)):
            self._write(note)
        self.enabled = False

    def line(self, note: str = "") -> str:
        elapsed = self.clock() - self.started
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            text = (f"{self.what}: {self.done}/{self.total}{unit} "
                    f"({100 * self.done / self.total:.0f} %), {clock_text(elapsed)} elapsed")
            if 0 < self.done < self.total:
                text += f", ~{clock_text(elapsed / self.done * (self.total - self.done))} left"
        else:
            text = f"{self.what}: {self.done}{unit}, {clock_text(elapsed)} elapsed"
        return f"{text}; {note}" if note else text

    def _write(self, note: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(self.line(note) + "\n")
        stream.flush()
        self._wrote_done = self.done
        self._next = self.clock() + self.every
