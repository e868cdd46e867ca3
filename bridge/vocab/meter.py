"""The bar grid the tokens count in: bar lines in ticks, and where the meter changes."""

from __future__ import annotations

from bridge.vocab.tokens import MAX_BEATS_PER_BAR, TICKS_PER_BEAT


class Meter:
    """The bar grid in ticks: a sorted list of ``(downbeat_tick, bar_ticks)`` changes.

    Bars before the first change extend it backwards; a change cuts short the bar it falls in.
    A bar longer than ``MAX_BEATS_PER_BAR`` beats is split to fit the BEAT tokens
    (:meth:`fit`).
    It keeps the last ``MAX_CHANGES`` changes (a live meter may change for ever).
    """

    MAX_CHANGES = 64

    def __init__(self, changes: list[tuple[int, int]] | None = None) -> None:
        self.changes: list[tuple[int, int]] = []
        for tick, length in changes or [(0, 4 * TICKS_PER_BEAT)]:
            self.set(tick, length)

    @staticmethod
    def bar_ticks_of(numerator: int, denominator: int) -> int:
        """Ticks in one bar of ``numerator/denominator`` (quarter-note beats)."""
        return max(Meter.fit(round(numerator * 4 * TICKS_PER_BEAT / denominator)), 1)

    @staticmethod
    def fit(bar_ticks: int) -> int:
        """A bar the BEAT tokens can count: one longer than ``MAX_BEATS_PER_BAR`` beats is
        split into the fewest equal bars of whole beats that fit (9/4: three of 3 beats, so
        every line stays on a beat), else halved until it fits (11/4: 5.5 beats)."""
        most = MAX_BEATS_PER_BAR * TICKS_PER_BEAT
        if bar_ticks > most and bar_ticks % TICKS_PER_BEAT == 0:
            beats = bar_ticks // TICKS_PER_BEAT
            for parts in range(2, beats):
                if beats % parts == 0 and beats // parts <= MAX_BEATS_PER_BAR:
                    return bar_ticks // parts
        while bar_ticks > most:
            bar_ticks //= 2
        return bar_ticks

    def set(self, tick: int, bar_ticks: int) -> None:
        """From ``tick`` (a downbeat) on, bars last ``bar_ticks``."""
        if bar_ticks <= 0:
            raise ValueError(f"bar length {bar_ticks} ticks")
        bar_ticks = self.fit(bar_ticks)
        self.changes = [c for c in self.changes if c[0] < tick]
        if self.changes and self.changes[-1][1] == bar_ticks and self.bar_start(tick) == tick:
            return          # the same bars on the same downbeats: nothing changes
        self.changes.append((tick, bar_ticks))
        del self.changes[:-self.MAX_CHANGES]

    def _change_at(self, tick: int) -> int:
        i = 0
        while i + 1 < len(self.changes) and self.changes[i + 1][0] <= tick:
            i += 1
        return i

    def bar_start(self, tick: int) -> int:
        """First tick of the bar that contains ``tick``."""
        i = self._change_at(tick)
        origin, length = self.changes[i]
        return origin + ((tick - origin) // length) * length

    def bar_index(self, tick: int) -> int:
        """Which bar ``tick`` is in, counted from the first change's downbeat (bar 0;
        negative before it), a bar cut short by a change counting as one."""
        i = self._change_at(tick)
        index = sum(-(-(self.changes[j + 1][0] - origin) // length)
                    for j, (origin, length) in enumerate(self.changes[:i]))
        origin, length = self.changes[i]
        return index + (tick - origin) // length

    def next_beat(self, tick: int, beat_ticks: int = TICKS_PER_BEAT) -> int:
        """The first beat line of the bar grid at or after ``tick``, beats ``beat_ticks``
        long (a quarter note; a dotted quarter in 6/8)."""
        bar = self.bar_start(tick)
        beat = bar + -(-(tick - bar) // beat_ticks) * beat_ticks
        return beat if beat < bar + self.bar_length(bar) else bar + self.bar_length(bar)

    def lines(self, bar_start: int, count: int) -> list[int]:
        """``count + 1`` bar lines (ticks) from the one at ``bar_start`` on."""
        out = [bar_start]
        for _ in range(count):
            out.append(out[-1] + self.bar_length(out[-1]))
        return out

    def shift(self, tick: int, bars: int) -> int:
        """The tick ``bars`` bars after ``tick`` (before it when negative), at the same
        place in its bar (at most its end, where that bar is shorter)."""
        bar = self.bar_start(tick)
        offset = tick - bar
        for _ in range(abs(bars)):
            bar = bar + self.bar_length(bar) if bars > 0 else self.bar_start(bar - 1)
        return bar + min(offset, self.bar_length(bar))

    def bar_length(self, bar_start: int) -> int:
        """Length of the bar starting at ``bar_start`` (cut short by a change inside it)."""
        i = self._change_at(bar_start)
        length = self.changes[i][1]
        if i + 1 < len(self.changes):
            length = min(length, self.changes[i + 1][0] - bar_start)
        return length
