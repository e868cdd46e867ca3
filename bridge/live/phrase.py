"""Where the performer's phrase begins and ends, in beats (no timers, no I/O).

A phrase ends when nothing has sounded for ``phrase_beats`` (a pitched note let go while the
sustain pedal of its channel is down still sounds until it lifts), and its answer comes in on the
next bar line from there (``answer_on`` bar: a rest inside a phrase is not answered when the
performer plays on before the bar line), or on the next ``grid`` position (``answer_on``
grid). Trading (``trade_bars`` N), the answer comes in N bars after the bar line the call
began on (where the last answer ended, when the performer comes in about then), whatever the
performer does meanwhile. A note opens a new phrase once the last one's answer was due, or
has begun; :meth:`Phrase.call_bars` is the call's length in whole bars (for ``length_bars``
0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_CALL_BARS = 8
PICKUP_BEATS = 1.0    # a call's first note this close before a bar line is a pickup into
#                       that bar, where the call begins (trading; the call benchmark's tunes)


def ceil_to_grid(beat: float, grid: float) -> float:
    """The first multiple of ``grid`` at or after ``beat`` (with a hair of tolerance)."""
    return math.ceil(beat / grid - 1e-6) * grid


class BarLines(Protocol):
    """The song's bar lines, in beats (a session's: :class:`bridge.live.songtime.SongTime`,
    which follows the host's time signature where it changes)."""

    def floor(self, beat: float) -> float:
        """The bar line at or before ``beat``."""

    def ceil(self, beat: float) -> float:
        """The first bar line at or after ``beat``."""

    def on(self, line: float, bars: int) -> float:
        """The bar line ``bars`` bars after the bar line ``line``."""

    def length(self, beat: float) -> float:
        """The length (beats) of the bar ``beat`` lies in."""


@dataclass(frozen=True)
class EvenBars:
    """Bars of ``beats`` beats from beat 0."""

    beats: float

    def floor(self, beat: float) -> float:
        return math.floor(beat / self.beats + 1e-6) * self.beats

    def ceil(self, beat: float) -> float:
        return ceil_to_grid(beat, self.beats)

    def on(self, line: float, bars: int) -> float:
        return line + bars * self.beats

    def length(self, beat: float) -> float:
        return self.beats


def bar_lines(bars: float | BarLines) -> BarLines:
    """``bars`` as bar lines: a bar length is bars of it from beat 0."""
    return EvenBars(float(bars)) if isinstance(bars, int | float) else bars


@dataclass
class Phrase:
    sounding: set[tuple[int, bool]] = field(default_factory=set)
    start: float | None = None          # first note of the current phrase
    last_release: float | None = None   # when the last sounding note was released
    call_bar: float | None = None   # the bar line the phrase began on (a pickup: the next)
    answered: bool = False          # an answer to it has begun
    turn: float | None = None       # where the last answer ends: the performer's turn
    pedals: set[int | None] = field(default_factory=set)   # the channels whose sustain
    #                                 pedal is down (None: a source without channels, OSC)
    sustained: dict[tuple[int, bool], int | None] = field(default_factory=dict)   # let go
    #                                 under a pedal: -> its channel

    @property
    def silent(self) -> bool:
        return not self.sounding

    def note_on(self, key: tuple[int, bool], beat: float, params: Mapping[str, Any],
                bars: float | BarLines) -> None:
        """A note starts; it opens a new phrase once the last one's answer was due or has
        begun (a rest the answer did not come in after is inside the phrase, which goes
        on)."""
        if self.answered or (self.silent and (
                self.start is None or self.last_release is None
                or beat >= self.response_start(params, bars) - 1e-6)):
            self.start, self.answered = beat, False
            self.call_bar = self._bar_line(beat, bar_lines(bars))
        self.sustained.pop(key, None)             # struck again: held by a key now
        self.sounding.add(key)

    def _bar_line(self, beat: float, bars: BarLines) -> float:
        """The bar line a call begun at ``beat`` began on: the performer's turn, from half
        a bar before it to a bar after; else its own bar's, or the next within a pickup."""
        if self.turn is not None and \
                -bars.length(self.turn) / 2 <= beat - self.turn < bars.length(self.turn):
            return self.turn
        return bars.floor(beat + PICKUP_BEATS)

    def answer(self, end: float) -> None:
        """An answer to the phrase has begun; it ends at ``end``, where the performer's turn
        begins."""
        self.answered, self.turn = True, end

    def note_off(self, key: tuple[int, bool], beat: float, channel: int | None = None
                 ) -> None:
        """A note is let go; a pitched one (``key``: pitch, drum) still sounds while the
        sustain pedal of its ``channel`` is down (MIDI's rule: another channel's pedal,
        a comping player's, held a melody's phrase open)."""
        if channel in self.pedals and not key[1]:
            self.sustained[key] = channel
        else:
            self._release({key}, beat)

    def set_pedal(self, down: bool, beat: float, channel: int | None = None) -> None:
        """The sustain pedal of ``channel`` goes down, or up: the notes it held end at
        ``beat``."""
        if down:
            self.pedals.add(channel)
            return
        self.pedals.discard(channel)
        held = {key for key, ch in self.sustained.items() if ch == channel}
        if held:
            for key in held:
                del self.sustained[key]
            self._release(held, beat)

    def _release(self, keys: set[tuple[int, bool]], beat: float) -> None:
        self.sounding -= keys
        if self.silent:
            self.last_release = beat

    def end_beat(self, phrase_beats: float) -> float | None:
        """When silence will have lasted ``phrase_beats`` (None while notes sound)."""
        if not self.silent or self.last_release is None:
            return None
        return self.last_release + phrase_beats

    def response_start(self, params: Mapping[str, Any], bars: float | BarLines
                       ) -> float | None:
        """Where the answer to the phrase comes in, by the session's ``params``
        (``trade_bars``: the trade's bar line, notes sounding or not; else ``phrase_beats``,
        ``answer_on``, ``grid``, and None while notes sound), on the song's ``bars``."""
        lines = bar_lines(bars)
        if params["trade_bars"] and self.call_bar is not None and not self.answered:
            return lines.on(self.call_bar, params["trade_bars"])
        end = self.end_beat(params["phrase_beats"])
        if end is None:
            return None
        return lines.ceil(end) if params["answer_on"] == "bar" else \
            ceil_to_grid(end, params["grid"])

    def call_bars(self, bars: float | BarLines) -> int:
        """The call's length rounded up to whole bars (1..MAX_CALL_BARS)."""
        if self.start is None or self.last_release is None:
            return 1
        lines, count, line = bar_lines(bars), 0, self.start
        while line < self.last_release - 1e-6 and count < MAX_CALL_BARS:
            line, count = line + lines.length(line), count + 1
        return max(1, count)

    def reset(self) -> None:
        self.sounding.clear()
        self.sustained.clear()
        self.start = self.last_release = self.call_bar = self.turn = None
        self.answered = False
