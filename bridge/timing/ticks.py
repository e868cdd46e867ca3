"""The MIDI-clock ticks the beat clock follows (:mod:`bridge.timing.clock`): a window of the
latest ``(count, arrival time)`` pairs, and what it says of the master's tempo and of when
its latest tick really fell.

- The tempo is the mean of the spans half the window long, per tick counted, that lie near
  their median (a late or early tick spoils two spans of two dozen, and is left out; ticks
  that arrive on a JACK period's boundaries round the spans both ways, and are averaged).
- The latest tick's time is the window's recent half projected forward at that tempo
  (median).
- A tempo changed at once (a tempo automation's step, a new song): the median would follow
  it only once half its window is past it (notes up to 0.1 s off at 120 -> 180 bpm), so when
  the last ``midi_step_ticks`` gaps all lie off the tempo the same way, by more than
  ``midi_step`` and by five times what the window's jitter would make of their sum, only the
  ticks since the step are kept (and counted on with fewer than ``midi_min_ticks``).
- Ticks lost on the way (a wireless link, a hub): a gap of ``m + 1`` ticks beyond what jitter
  makes, followed by a tick on time, means ``m`` ticks never came, and they are counted (the
  song position is counted in ticks: each one lost left it a tick behind the master for
  good). A gap followed by ticks close together was ticks held up, each counted once as it
  came; by another as long, a tempo that slowed at once (a step).

Times are seconds; ``per_tick`` is the clock's tempo in seconds per tick.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.timing.clock import ClockConfig

log = logging.getLogger(__name__)

STEP_JITTERS = 5     # a step's gaps lie off by this many times what jitter makes of them,
LOST_JITTERS = 4     # a gap of lost ticks by this many
TRIM = 0.02          # spans this near the median are averaged (see seconds_per_tick)


class TickWindow:
    def __init__(self, config: ClockConfig) -> None:
        self.config = config
        self.ticks: deque[tuple[int, float]] = deque(maxlen=config.midi_window)
        self.count = 0                 # ticks counted so far (lost ones included)
        self.min_ticks = config.midi_min_ticks   # ticks an estimate needs (fewer after a
        #                                          step: those since it)
        self.maybe_lost = 0            # ticks the last gap may have lost (the next says)

    def __len__(self) -> int:
        return len(self.ticks)

    @property
    def last_time(self) -> float:
        return self.ticks[-1][1]

    def clear(self) -> None:
        """Start again (the master paused or restarted its ticks)."""
        self.ticks.clear()
        self.min_ticks, self.maybe_lost = self.config.midi_min_ticks, 0

    def add(self, now: float, per_tick: float | None) -> int:
        """A tick came at ``now``; ``per_tick`` None: not after the ticks before (the first
        after a start), so no gap is judged. Returns the ticks found lost before it."""
        lost = 0 if per_tick is None or not self.ticks else \
            self._count_lost(now - self.last_time, per_tick)
        self.count += 1
        self.ticks.append((self.count, now))
        return lost

    def _count_lost(self, pause: float, per_tick: float) -> int:
        lost, self.maybe_lost = self.maybe_lost, 0
        if lost and 0.6 * per_tick <= pause <= 1.6 * per_tick:
            n, t = self.ticks.pop()             # the tick after the gap
            self.ticks.append((n + lost, t))
            self.count += lost
            log.info("MIDI clock: %d tick(s) lost, counted", lost)
            return lost
        if not lost and pause - per_tick >= max(
                0.6 * per_tick, LOST_JITTERS * math.sqrt(2) * self.jitter(per_tick, 1)):
            self.maybe_lost = round(pause / per_tick) - 1   # if the next comes on time
        return 0

    def stepped(self, per_tick: float) -> bool:
        """Did the tempo change at once? Then only the ticks since the step are kept."""
        k, ticks = self.config.midi_step_ticks, self.ticks
        if len(ticks) < max(self.min_ticks, 2 * k + 1) or self.maybe_lost:
            return False                        # (a gap that may be ticks lost: the next says)
        gaps = [ticks[-i][1] - ticks[-i - 1][1] - (ticks[-i][0] - ticks[-i - 1][0]) * per_tick
                for i in range(1, k + 1)]
        least, most = self.config.midi_step * per_tick / 2, per_tick * 0.6
        if not (all(least < g < 1.5 * per_tick for g in gaps)          # each gap off, and by
                or all(-most < g < -least for g in gaps)):             # at most 2.5 times or
            return False      # 1/2.5 (ticks held up come close together, then on time again)
        if abs(sum(gaps)) <= max(self.config.midi_step * k * per_tick,
                                 STEP_JITTERS * math.sqrt(2) * self.jitter(per_tick, k)):
            return False
        for _ in range(len(ticks) - (k + 1)):
            ticks.popleft()
        self.min_ticks = k + 1
        return True

    def jitter(self, per_tick: float, skip: int) -> float:
        """How far the window's ticks but the last ``skip`` stray about a line at
        ``per_tick`` (a robust standard deviation; 0 with too few)."""
        older = list(self.ticks)[:-skip]
        if len(older) < 3:
            return 0.0
        last = older[-1][0]
        line = [t - (n - last) * per_tick for n, t in older]
        centre = median(line)
        return 1.4826 * median(abs(x - centre) for x in line)

    def seconds_per_tick(self) -> float | None:
        """The half-window spans per tick counted, averaged over those within ``TRIM`` of
        their median (None: too few ticks). The median alone keeps out a late tick's spans
        but, where ticks arrive on a JACK period's boundaries, picks the commonest rounded
        span: 119.68 bpm for 120, the notes drifting until the drift rule moved them."""
        ticks = self.ticks
        if len(ticks) < self.min_ticks:
            return None
        span = len(ticks) // 2
        spans = [(ticks[i + span][1] - ticks[i][1]) / (ticks[i + span][0] - ticks[i][0])
                 for i in range(len(ticks) - span)]
        middle = median(spans)
        near = [x for x in spans if abs(x - middle) <= TRIM * middle] or [middle]
        return sum(near) / len(near)

    def smoothed_time(self, per_tick: float) -> float:
        """The latest tick's time: the recent half window projected forward (median)."""
        last = self.ticks[-1][0]
        recent = list(self.ticks)[len(self.ticks) // 2:]
        return median(t + (last - n) * per_tick for n, t in recent)
