"""Where the performer's phrase begins and ends, in beats (no timers, no I/O).

A phrase starts with the first note after silence and ends when nothing has sounded for
``phrase_beats``; the response then starts on the next grid position at or after that
moment. ``response_beats`` is the call's length in whole bars (for ``length_bars = 0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_CALL_BARS = 8


def ceil_to_grid(beat: float, grid: float) -> float:
    """The first multiple of ``grid`` at or after ``beat`` (with a hair of tolerance)."""
    return math.ceil(beat / grid - 1e-6) * grid


@dataclass
class Phrase:
    sounding: set[tuple[int, bool]] = field(default_factory=set)
    start: float | None = None          # first note of the current phrase
    last_release: float | None = None   # when the last sounding note was released

    @property
    def silent(self) -> bool:
        return not self.sounding

    def note_on(self, key: tuple[int, bool], beat: float, phrase_beats: float) -> None:
        """A note starts; after ``phrase_beats`` of silence it opens a new phrase."""
        if self.silent and (self.start is None or self.last_release is None
                            or beat - self.last_release >= phrase_beats - 1e-6):
            self.start = beat
        self.sounding.add(key)

    def note_off(self, key: tuple[int, bool], beat: float) -> None:
        self.sounding.discard(key)
        if self.silent:
            self.last_release = beat

    def end_beat(self, phrase_beats: float) -> float | None:
        """When silence will have lasted ``phrase_beats`` (None while notes sound)."""
        if not self.silent or self.last_release is None:
            return None
        return self.last_release + phrase_beats

    def response_start(self, phrase_beats: float, grid: float) -> float | None:
        end = self.end_beat(phrase_beats)
        return None if end is None else ceil_to_grid(end, grid)

    def call_bars(self, bar_beats: float) -> int:
        """The call's length rounded up to whole bars (1..MAX_CALL_BARS)."""
        if self.start is None or self.last_release is None:
            return 1
        bars = math.ceil((self.last_release - self.start) / bar_beats - 1e-6)
        return max(1, min(MAX_CALL_BARS, bars))

    def reset(self) -> None:
        self.sounding.clear()
        self.start = self.last_release = None
