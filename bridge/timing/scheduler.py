"""The note scheduler: beat-stamped notes played on a MIDI output at the right moment.

Each note is two asyncio timers (``loop.call_at``): its note-on at ``clock.time_at(start)``
and, once it sounds, its note-off at ``clock.time_at(end)``. No polling, no sleeps. When the
clock's map moves (tempo, relocation, start/stop) every timer is re-armed from its beats.

Guarantees:

- Every note-on sent gets its note-off: sounding notes live in a table keyed by
  ``(channel, pitch)``; a new note on a sounding key first releases the old one; cancels,
  ``panic`` and ``close`` release what sounds.
- Nothing is dropped silently: a note whose start has passed is sent at once and counted as
  late (``stats``); only a relocation that leaves a whole pending note behind (its end
  already past) skips it, counted in ``stats.skipped``.
- A relocation back before a sounding note's start releases that note at once.

Sending early, so that notes land on the grid where they are heard:

- ``lead_s``: the MIDI system's own latency (the clock's ticks reached us one hop late, and
  what we send reaches the instrument one hop later; ``bridge.midi.hop`` measures a hop).
  Every message leaves this much before its beat's time.
- the loop's own timer lateness: an asyncio timer fires about a millisecond late at the
  median on Linux (its wait is rounded up to whole milliseconds). The scheduler measures how
  late its timers fire and arms them that much early (the median of the recent ones, at
  most ``TIMER_LEAD_MAX_S``), so a message leaves at its due time at the median.

A note's lateness (``stats``) is how long after its due time (its beat's time less
``lead_s``) its note-on left.

Channels are 1-16 here, as in session parameters and OSC; messages carry mido's 0-15.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral
from statistics import median
from typing import Protocol

import mido

from bridge.timing.clock import POSITION, START, BeatClock
from bridge.timing.latency import window

log = logging.getLogger(__name__)

ALL_NOTES_OFF = 123
RELOCATE_TOLERANCE_S = 0.05  # a sounding note survives a jump back by less than this
TIMER_LEAD_MAX_S = 0.002     # the most the timers are armed early for their own lateness
TIMER_SAMPLES = 64           # timer firings the estimate of their lateness looks at


class SchedulerError(ValueError):
    """A note the scheduler cannot play, or a closed scheduler."""


class MidiTarget(Protocol):
    """Where the scheduler sends: a MIDI output port, or a recording fake in tests."""

    def send(self, message: mido.Message) -> None: ...


SentHook = Callable[[mido.Message, float], None]


@dataclass
class TimingStats:
    """How punctual the note-ons were (seconds after their time, by the loop's clock)."""

    notes: int = 0                 # note-ons sent
    late: int = 0                  # ... more than ``late_s`` after their time
    late_total_s: float = 0.0
    late_max_s: float = 0.0
    skipped: int = 0               # pending notes a relocation left wholly behind
    recent: deque[float] = field(default_factory=window)   # every note-on's lateness

    @property
    def late_mean_s(self) -> float:
        return self.late_total_s / self.late if self.late else 0.0


@dataclass(eq=False)
class _Note:
    id: int
    channel: int                   # 0-15
    pitch: int
    velocity: int
    start: float                   # beats
    end: float
    handle: asyncio.TimerHandle | None = None


class NoteScheduler:
    def __init__(self, clock: BeatClock, output: MidiTarget, *,
                 loop: asyncio.AbstractEventLoop | None = None,
                 on_sent: SentHook | None = None, late_s: float = 0.002,
                 lead_s: float = 0.0) -> None:
        if not (math.isfinite(lead_s) and 0.0 <= lead_s <= 1.0):
            raise SchedulerError(f"lead {lead_s!r} s: need 0-1 s")
        self.clock = clock
        self.output = output
        self.loop = loop or asyncio.get_running_loop()
        self.on_sent = on_sent
        self.late_s = late_s
        self.lead_s = lead_s
        self.stats = TimingStats()
        self._timer_late: deque[float] = deque(maxlen=TIMER_SAMPLES)
        self.timer_lead_s = 0.0        # how early the timers are armed for their lateness
        self._ids = itertools.count(1)
        self._pending: dict[int, _Note] = {}
        self._sounding: dict[tuple[int, int], _Note] = {}
        self._channels: set[int] = set()
        self._closed = False
        clock.add_listener(self._on_clock)

    @property
    def late(self) -> int:
        return self.stats.late

    @property
    def pending(self) -> int:
        """Notes scheduled that have not started."""
        return len(self._pending)

    @property
    def sounding(self) -> int:
        return len(self._sounding)

    # -- scheduling ------------------------------------------------------------------------

    def schedule(self, pitch: int, velocity: int, beat: float, duration_beats: float,
                 channel: int = 1) -> int:
        """Play a note at ``beat`` for ``duration_beats`` on ``channel`` (1-16); its id."""
        if self._closed:
            raise SchedulerError("the scheduler is closed")
        pitch = _int_in("pitch", pitch, 0, 127)
        velocity = _int_in("velocity", velocity, 1, 127)
        channel = _int_in("channel", channel, 1, 16)
        try:
            start, length = float(beat), float(duration_beats)
        except (TypeError, ValueError):
            start = length = math.nan
        if not (math.isfinite(start) and math.isfinite(length) and length > 0):
            raise SchedulerError(f"note at beat {beat!r} for {duration_beats!r} beats: "
                                 "need a finite beat and a positive duration")
        note = _Note(next(self._ids), channel - 1, pitch, velocity, start, start + length)
        self._pending[note.id] = note
        self._arm_on(note)
        return note.id

    def cancel(self, note_id: int) -> bool:
        """Drop a pending note or release a sounding one; False if it is neither."""
        note = self._pending.pop(note_id, None)
        if note is not None:
            _disarm(note)
            return True
        for sounding in list(self._sounding.values()):
            if sounding.id == note_id:
                self._release(sounding)
                return True
        return False

    def cancel_from(self, beat: float) -> int:
        """Drop pending notes starting at or after ``beat`` and release all sounding notes
        (barge-in). Returns how many pending notes were dropped."""
        dropped = [n for n in self._pending.values() if n.start >= beat]
        for note in dropped:
            del self._pending[note.id]
            _disarm(note)
        self._release_all()
        return len(dropped)

    def cancel_all(self) -> int:
        """Drop every pending note and release every sounding one."""
        return self.cancel_from(-math.inf)

    def panic(self) -> None:
        """Cancel everything, a note-off for every sounding note, then CC 123 (all notes
        off) on every channel this scheduler has played on."""
        self.cancel_all()
        for channel in sorted(self._channels):
            self._send(mido.Message("control_change", channel=channel,
                                    control=ALL_NOTES_OFF, value=0))

    def close(self) -> None:
        """Panic and stop: no timer is left behind, nothing more is scheduled."""
        if self._closed:
            return
        self.panic()
        self._closed = True
        self.clock.remove_listener(self._on_clock)

    # -- timers ----------------------------------------------------------------------------

    def _due(self, beat: float) -> float:
        """When a message for ``beat`` should leave (the loop's time)."""
        return self.clock.time_at(beat) - self.lead_s

    def _arm(self, note: _Note, beat: float, action: Callable[[_Note], None]) -> None:
        fire = self._due(beat) - self.timer_lead_s
        ahead = fire if fire > self.loop.time() else None     # None: due at once
        note.handle = self.loop.call_at(fire, self._timer, note, action, ahead)

    def _arm_on(self, note: _Note) -> None:
        self._arm(note, note.start, self._start)

    def _arm_off(self, note: _Note) -> None:
        self._arm(note, note.end, self._release)

    def _timer(self, note: _Note, action: Callable[[_Note], None], fire: float | None) -> None:
        """A timer fired: how late it fired (the timers' own lead learns from it, unless it
        was due at once), then its action."""
        if fire is not None:
            self._timer_late.append(self.loop.time() - fire)
            self.timer_lead_s = min(max(median(self._timer_late), 0.0), TIMER_LEAD_MAX_S)
        action(note)

    def _start(self, note: _Note) -> None:
        if self._pending.pop(note.id, None) is None:
            return
        key = (note.channel, note.pitch)
        previous = self._sounding.get(key)
        if previous is not None:
            self._release(previous)            # re-trigger: its off goes first
        self._count(self.loop.time() - self._due(note.start))
        self._sounding[key] = note             # before sending: a hook may cancel it
        self._channels.add(note.channel)
        self._arm_off(note)
        self._send(mido.Message("note_on", channel=note.channel, note=note.pitch,
                                velocity=note.velocity))

    def _release(self, note: _Note) -> None:
        _disarm(note)
        key = (note.channel, note.pitch)
        if self._sounding.get(key) is not note:
            return
        del self._sounding[key]
        self._send(mido.Message("note_off", channel=note.channel, note=note.pitch,
                                velocity=0))

    def _release_all(self) -> None:
        for note in list(self._sounding.values()):
            self._release(note)

    def _on_clock(self, reason: str) -> None:
        """The clock's map moved: re-arm every timer from its beats."""
        now = self.loop.time()
        relocated = reason in (POSITION, START)
        for note in list(self._pending.values()):
            _disarm(note)
            if relocated and self._due(note.end) <= now:
                del self._pending[note.id]
                self.stats.skipped += 1
                log.debug("note %d (beats %.3f-%.3f) skipped: the clock moved past it",
                          note.id, note.start, note.end)
            else:
                self._arm_on(note)
        for note in list(self._sounding.values()):
            if relocated and self._due(note.start) > now + RELOCATE_TOLERANCE_S:
                self._release(note)            # the clock jumped back before it began
            else:
                _disarm(note)
                self._arm_off(note)

    # -- output ----------------------------------------------------------------------------

    def _count(self, lateness: float) -> None:
        stats = self.stats
        stats.notes += 1
        stats.recent.append(lateness)
        if lateness > self.late_s:
            stats.late += 1
            stats.late_total_s += lateness
            stats.late_max_s = max(stats.late_max_s, lateness)

    def _send(self, message: mido.Message) -> None:
        try:
            self.output.send(message)
        except Exception:
            log.exception("MIDI output failed to send %s", message)
            return
        if self.on_sent is not None:
            try:
                self.on_sent(message, self.loop.time())
            except Exception:
                log.exception("on_sent hook failed on %s", message)


def _disarm(note: _Note) -> None:
    if note.handle is not None:
        note.handle.cancel()
        note.handle = None


def _int_in(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or \
            not low <= value <= high:
        raise SchedulerError(f"{name} must be an integer {low}-{high}; got {value!r}")
    return int(value)
