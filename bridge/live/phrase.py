"""Where the performer's phrase begins and ends, in beats (no timers, no I/O).

A phrase ends when nothing has sounded for ``phrase_beats``, and its answer comes in on the
next bar line from there (``answer_on`` bar: a rest inside a phrase is not answered when the
performer plays on before the bar line), or on the next ``grid`` position (``answer_on``
grid). A note opens a new phrase once the last one's answer was due; :meth:`Phrase.call_bars`
is the call's length in whole bars (for ``length_bars`` 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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

    def note_on(self, key: tuple[int, bool], beat: float, params: Mapping[str, Any],
                bar_beats: float) -> None:
        """A note starts; it opens a new phrase once the last one's answer was due (a rest
        the answer did not come in after is inside the phrase, which goes on)."""
        if self.silent and (self.start is None or self.last_release is None
                            or beat >= self.response_start(params, bar_beats) - 1e-6):
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

    def response_start(self, params: Mapping[str, Any], bar_beats: float) -> float | None:
        """Where the answer to the phrase comes in, by the session's ``params``
        (``phrase_beats``, ``answer_on``, ``grid``); None while notes sound."""
        end = self.end_beat(params["phrase_beats"])
        step = bar_beats if params["answer_on"] == "bar" else params["grid"]
        return None if end is None else ceil_to_grid(end, step)

    def call_bars(self, bar_beats: float) -> int:
        """The call's length rounded up to whole bars (1..MAX_CALL_BARS)."""
        if self.start is None or self.last_release is None:
            return 1
        bars = math.ceil((self.last_release - self.start) / bar_beats - 1e-6)
        return max(1, min(MAX_CALL_BARS, bars))

    def reset(self) -> None:
        self.sounding.clear()
        self.start = self.last_release = None
