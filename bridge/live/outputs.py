"""Where a session's generated notes go: to its device over OSC, or to a MIDI port.

Both outputs take beat-stamped notes and share one small interface: ``play``,
``cancel_from`` (barge-in: drop what has not started, release what sounds), ``panic``
(release everything), ``close``, and ``status`` (what they sent, for status replies).

- :class:`OscNotes` sends each note ahead of time, ``SEND_AHEAD`` before its start (at once
  when that moment has passed), stamped with its beat and the daemon's estimate of the
  milliseconds until it, so the device plays it on the beat with its own timing objects.
  Cancels and panics go to the device as ``/continuo/note/cancel`` and
  ``/continuo/session/panic``. A pitch struck again on its channel where (or before) the
  note before it ends is kept ``REPEAT_GAP_S`` apart from it (:meth:`OscNotes.apart`),
  by where the device will let that note go (it times a note's length in milliseconds
  when the note arrives, so a faster tempo since holds it past its beat).
- :class:`MidiNotes` hands notes to a :class:`bridge.timing.scheduler.NoteScheduler`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable
from typing import Any, Protocol

from bridge.music.piece import Note
from bridge.osc.routes import OUT, route
from bridge.timing.clock import BeatClock
from bridge.timing.latency import summary_ms
from bridge.timing.scheduler import NoteScheduler

DRUM_CHANNEL = 10
SEND_AHEAD = 0.25      # seconds before a note's start that it leaves for the device
REPEAT_GAP_S = 0.01    # a pitch struck again is let go at least this long before
SHORTEST_S = 0.025     # a pitched note lasts at least this long (shorter: a click)
NOTE_OUT = route("/continuo/note/out", OUT).address
NOTE_CANCEL = route("/continuo/note/cancel", OUT).address
PANIC_OUT = route("/continuo/session/panic", OUT).address


class Output(Protocol):
    def play(self, note: Note, channel: int) -> None: ...
    def cancel_from(self, beat: float) -> None: ...
    def panic(self) -> None: ...
    def close(self) -> None: ...
    def status(self) -> dict[str, Any]: ...


def channel_of(note: Note, channel: int) -> int:
    return DRUM_CHANNEL if note.drum else channel


class OscNotes:
    """Notes to one device session. ``send(address, args)`` delivers to its reply port."""

    def __init__(self, session: str, clock: BeatClock, send: Callable[[str, list[Any]], Any],
                 loop: asyncio.AbstractEventLoop) -> None:
        self.session, self.clock, self._send, self.loop = session, clock, send, loop
        self._ids = itertools.count()
        self._pending: dict[int, tuple[Note, int, asyncio.TimerHandle]] = {}
        self._sent_until = float("-inf")   # song beat when the last note sent ends
        self._offs: dict[tuple[int, int], tuple[float, float, float]] = {}
        #   (channel, pitch) -> its last note sent: (its beat as sent, loop times of its on
        #   and its off at the device)
        self.sent = 0
        self.skipped = 0                   # none of it left once the pitch was let go
        clock.add_listener(self._rearm)

    def play(self, note: Note, channel: int) -> None:
        when = self.clock.time_at(note.start) - SEND_AHEAD
        if when <= self.loop.time():       # due already: now, not a loop iteration later
            self._send_note(note, channel_of(note, channel))
            return
        key = next(self._ids)
        handle = self.loop.call_at(when, self._deliver, key)
        self._pending[key] = (note, channel_of(note, channel), handle)

    def _deliver(self, key: int) -> None:
        note, channel, _ = self._pending.pop(key)
        self._send_note(note, channel)

    def _send_note(self, note: Note, channel: int) -> None:
        placed = self.apart(note, channel)
        if placed is None:
            self.skipped += 1
            return
        start, end = placed
        now, spb = self.loop.time(), self.clock.seconds_per_beat
        delay_s = max(0.0, self.clock.time_at(start) - now)
        self._send(NOTE_OUT, [self.session, note.pitch, note.velocity, float(note.start),
                              float(end - start), channel, round(delay_s * 1000.0, 3)])
        self._sent_until = max(self._sent_until, end)
        on = now + delay_s
        self._offs[(channel, note.pitch)] = (note.start, on, on + (end - start) * spb)
        self.sent += 1

    def apart(self, note: Note, channel: int) -> tuple[float, float] | None:
        """Where ``note`` starts and ends as sent (beats); None: not sent. The device times
        each note's on and off from the message that brought it, so when a pitch is struck
        again on its channel right where the note before ends, the two messages' different
        journeys can put that note's off after the new note's on, which ends the new note
        at once (on, on, off). So a note ends ``REPEAT_GAP_S`` before the next note of its
        pitch and channel waiting to be sent, where that one starts before it ends or
        within the gap after; and a note struck before the gap after one already sent is
        let go (its start known too late to shorten that one: a note on the drums' channel
        meeting a drum of its number, or one the tempo has held on) starts the gap after
        that, or, with nothing of it left by then, is not sent (``skipped``).

        A pitched note lasts at least ``SHORTEST_S`` (a note the model drew a tick long at
        a fast tempo was a click), up to the gap before its pitch comes again; what is left
        of one kept apart that is shorter is not sent (at 180 bpm, stubs of 5 ms)."""
        spb = self.clock.seconds_per_beat
        gap, shortest = REPEAT_GAP_S / spb, 0.0 if channel == DRUM_CHANNEL else SHORTEST_S / spb
        start, end = note.start, note.end
        sent = self._offs.get((channel, note.pitch))
        before = None if sent is None else self.clock.beat_at(sent[2])
        if before is not None and start - gap < before:
            if before + gap >= end - gap / 2 and before > start + gap:
                return None
            start = min(before + gap, end - gap / 2)
            if end - start < shortest:             # the note before sounded for it
                return None
        reach = max(end, start + shortest) + gap
        repeat = min((n.start for n, ch, _ in self._pending.values()
                      if ch == channel and n.pitch == note.pitch and start < n.start <= reach),
                     default=None)
        if repeat is not None:
            end = max(min(end, repeat - gap), start + (repeat - start) / 2)
        end = max(end, min(start + shortest, math.inf if repeat is None else repeat - gap))
        return (start, end) if end - start >= shortest - 1e-9 else None

    def _rearm(self, _reason: str) -> None:
        for key, (note, channel, handle) in list(self._pending.items()):
            handle.cancel()
            self._pending[key] = (note, channel, self.loop.call_at(
                self.clock.time_at(note.start) - SEND_AHEAD, self._deliver, key))

    def cancel_from(self, beat: float) -> None:
        for key, (note, _, handle) in list(self._pending.items()):
            if note.start >= beat:
                handle.cancel()
                del self._pending[key]
        if self._sent_until > beat:   # the device may hold or sound notes from here on
            self._send(NOTE_CANCEL, [self.session, float(beat)])
            self._sent_until = beat
            now = self.loop.time()     # it drops those from the cut; a cut come, it lets
            released = beat <= self.clock.beat_at(now) + 1e-3     # go of what sounds
            self._offs = {key: (at, on, min(off, now) if released and on <= now else off)
                          for key, (at, on, off) in self._offs.items() if at < beat}

    def panic(self) -> None:
        for _, _, handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        self._offs.clear()                 # the device lets go of everything
        self._send(PANIC_OUT, [self.session])

    def close(self) -> None:
        self.panic()
        self.clock.remove_listener(self._rearm)

    def status(self) -> dict[str, Any]:
        return {"notes_out": self.sent, "notes_skipped": self.skipped}


class MidiNotes:
    """Notes to a MIDI port through the scheduler (which guarantees every note-off)."""

    def __init__(self, scheduler: NoteScheduler) -> None:
        self.scheduler = scheduler
        self.ports = "ok"               # "lost" while the MIDI server is away

    def play(self, note: Note, channel: int) -> None:
        self.scheduler.schedule(note.pitch, note.velocity, note.start, note.duration,
                                channel_of(note, channel))

    def cancel_from(self, beat: float) -> None:
        self.scheduler.cancel_from(beat)

    def panic(self) -> None:
        self.scheduler.panic()

    def close(self) -> None:
        self.scheduler.close()

    def status(self) -> dict[str, Any]:
        """Note-ons sent, how early they are sent and how late after that they left."""
        scheduler = self.scheduler
        return {"notes_out": scheduler.stats.notes, "midi_ports": self.ports,
                "midi_lead_ms": round(scheduler.lead_s * 1e3, 3),
                "midi_timer_lead_ms": round(scheduler.timer_lead_s * 1e3, 3),
                **summary_ms("midi_late", scheduler.stats.recent)}
