"""End to end through real MIDI ports (JACK), as a performer's rig drives the daemon.

The rig sends MIDI clock (24 ppq at 120 bpm, from ``start``) and notes into ``Continuo In``
and listens on ``Continuo Out``. Per trial it plays a phrase (3 notes of 20 ms, 10 ms apart),
then CC 110 = 127 (the ``generate`` action); the daemon (manual mode, grid 0.25 beat) answers
from the next quarter-beat grid line at least ``PREP_S`` ahead (``READY_LEAD_S`` when its
answer was kept ready). Then CC 111 (``stop``).

Two figures per trial, from the rig's own clock (it knows exactly when each of its clock
ticks was due, so it knows when every beat is):

    lateness          first note-on's arrival - the time of the grid line it belongs to
                      (the nearest one; grid lines are 125 ms apart): how far off the grid
                      the note lands after both JACK hops, the daemon's MIDI-clock follower
                      and its scheduler. This is ``e2e_midi_ms``.
    trigger_to_note   first note-on's arrival - the moment the rig sent the CC: mostly the
                      wait for the grid line (10-155 ms by design), reported for completeness
    rig_tick_late     how late the rig's own clock ticks left after their due times (its
                      thread's sleeps): the grid the daemon can follow is that much behind
                      the rig's; the rig's error, not the daemon's
    clock_lag         how far the daemon's beat is behind the rig's (``LagProbe``: asked
                      over OSC during the trials), over all of them and only while the
                      daemon was answering: the clock follower's share of ``lateness``

Each JACK hop (input and output) takes up to a period, so the period is reported with
them. The daemon sends its notes early by two hops, which it measured through JACK at startup
(``lead_ms``). From the daemon's status after the trials:

    sent_late         how late the daemon's note-ons (all of them, not only the first)
                      left after their due time (the beat's time less ``lead_ms``) by its
                      own clock: its scheduler's share of ``lateness``
    lead_ms           how early notes leave for the two hops (``--midi-latency``)
    timer_lead_ms     how early the scheduler arms its timers for their own lateness
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
import time
from typing import Any

from bridge.bench.stats import summary
from bridge.live.params import ACTIONS

BPM, GRID = 120.0, 0.25
SCALE = (60, 62, 64, 65, 67, 69, 71, 72)


class Rig:
    """A performer's rig on JACK: MIDI clock and notes into ``Continuo In``, everything from
    ``Continuo Out`` back, stamped on arrival (``received``; note-on times in ``note_ons``).
    Used by the benchmark and the daemon's MIDI tests."""

    def __init__(self, bpm: float = BPM, name: str = "bench") -> None:
        import mido

        from bridge.midi.ports import open_input, open_output

        self.mido, self.bpm = mido, bpm
        self.note_ons: list[float] = []
        self.received: list[tuple[float, Any]] = []
        self._arrived = threading.Event()
        self.out = open_output("jack", virtual_name=f"{name} out",
                               client_name=f"{name}_rig_out", connect_to="Continuo In")
        self.inp = open_input("jack", virtual_name=f"{name} in", client_name=f"{name}_rig_in",
                              connect_to="Continuo Out", callback=self._on_message)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.cut = threading.Event()         # set: the clock's ticks do not reach the daemon
        self._clock = threading.Thread(target=self._run_clock, daemon=True)
        self.t0 = 0.0
        self.tick_late: list[float] = []     # each clock tick's send after its due time
        time.sleep(0.1)                      # a few JACK periods after connecting

    def _on_message(self, message: Any, when: float) -> None:
        self.received.append((when, message))
        if message.type == "note_on" and message.velocity > 0:
            self.note_ons.append(when)
            self._arrived.set()

    def send(self, message: Any) -> None:
        with self._lock:                     # the clock thread sends too
            self.out.send(message)

    def start_clock(self) -> None:
        self.t0 = time.monotonic() + 0.05
        self._clock.start()

    def beat(self, t: float) -> float:
        return (t - self.t0) * self.bpm / 60.0

    def time_of(self, beat: float) -> float:
        return self.t0 + beat * 60.0 / self.bpm

    def _run_clock(self) -> None:
        tick_s = 60.0 / self.bpm / 24
        n = 0
        self._sleep_until(self.t0)
        self.send(self.mido.Message("start"))
        while not self._stop.is_set():
            due = self.t0 + n * tick_s
            self._sleep_until(due)
            self.tick_late.append(time.monotonic() - due)
            if not self.cut.is_set():        # (a cable pulled: the master plays on)
                self.send(self.mido.Message("clock"))
            n += 1

    @staticmethod
    def _sleep_until(t: float) -> None:
        wait = t - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def at_beat(self, beat: float) -> None:
        """Wait until ``beat`` of the rig's clock."""
        self._sleep_until(self.time_of(beat))

    def play(self, pitches: list[int], start: float, step: float = 0.5) -> float:
        """Play notes ``step`` beats apart (each held 80 % of that) from beat ``start``;
        the beat of the last release."""
        for i, pitch in enumerate(pitches):
            self.at_beat(start + i * step)
            self.send(self.mido.Message("note_on", note=pitch, velocity=90))
            self.at_beat(start + i * step + step * 0.8)
            self.send(self.mido.Message("note_off", note=pitch))
        return start + (len(pitches) - 1) * step + step * 0.8

    def notes_on(self) -> list[tuple[float, Any]]:
        return [(t, m) for t, m in self.received if m.type == "note_on" and m.velocity > 0]

    @staticmethod
    def wait_for(predicate: Any, timeout: float) -> bool:
        """Poll ``predicate`` (every 20 ms) for at most ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            time.sleep(0.02)
        return bool(predicate())

    def cc(self, control: int, value: int = 127) -> float:
        self.send(self.mido.Message("control_change", control=control, value=value))
        return time.monotonic()

    def phrase(self, rng: random.Random, notes: int = 3) -> None:
        for _ in range(notes):
            pitch = rng.choice(SCALE)
            self.send(self.mido.Message("note_on", note=pitch, velocity=rng.randint(60, 110)))
            time.sleep(0.02)
            self.send(self.mido.Message("note_off", note=pitch))
            time.sleep(0.01)

    def wait_note(self, after: float, timeout: float) -> float | None:
        """Arrival time of the first note-on after ``after`` (monotonic), or None."""
        end = time.monotonic() + timeout
        while True:
            hits = [t for t in self.note_ons if t > after]
            if hits:
                return hits[0]
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._arrived.clear()
            self._arrived.wait(min(left, 0.05))

    def close(self) -> None:
        self._stop.set()
        if self._clock.is_alive():
            self._clock.join(timeout=2)
        from bridge.midi.ports import close_all

        close_all(self.inp, self.out)


def daemon_timing(port: int, reply_port: int) -> dict:
    """The daemon's own figures from its MIDI session's status over OSC: ``sent_late``,
    ``lead_ms`` and ``timer_lead_ms``."""
    from bridge.bench.osc import HOST, from_status, status
    from bridge.live.midi_session import SID
    from bridge.osc.transport import OscClient

    async def ask() -> dict:
        async with await OscClient.open(HOST, port, reply_port=reply_port) as client:
            pairs = await status(client, SID)
        return {"sent_late": from_status(pairs, "midi_late"),
                "lead_ms": pairs.get("midi_lead_ms"),
                "timer_lead_ms": pairs.get("midi_timer_lead_ms")}

    return asyncio.run(ask())


class LagProbe:
    """How far the daemon's beat is behind the rig's, asked over OSC every ``every_s`` from
    a thread of its own while the trials run: its MIDI session's ``beat`` from a status
    request against the rig's beat halfway between asking and the reply (both processes
    read the same monotonic clock). ``samples``: (asked, round trip, lag in ms)."""

    def __init__(self, rig: Rig, port: int, reply_port: int, every_s: float = 0.05) -> None:
        self.rig, self.port, self.reply_port, self.every_s = rig, port, reply_port, every_s
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> LagProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    async def _run(self) -> None:
        from bridge.bench.osc import HOST, status
        from bridge.live.midi_session import SID
        from bridge.osc.transport import OscClient

        async with await OscClient.open(HOST, self.port, reply_port=self.reply_port) as client:
            while not self._stop.is_set():
                before = time.monotonic()
                beat = (await status(client, SID)).get("beat")
                after = time.monotonic()
                if beat is not None:
                    lag = self.rig.beat((before + after) / 2) - float(beat)
                    self.samples.append((before, after - before, lag * 60e3 / self.rig.bpm))
                await asyncio.sleep(self.every_s)

    def lag(self, spans: list[tuple[float, float]] | None = None) -> dict | None:
        """The lag's summary over the probes with the quicker half of the round trips (the
        reply's moment is known to half its round trip); with ``spans``, only the probes
        asked inside one of them."""
        found = sorted((rtt, lag) for asked, rtt, lag in self.samples
                       if spans is None or any(a <= asked <= b for a, b in spans))
        return summary([lag for _, lag in found[:max(1, len(found) // 2)]]) if found else None


def trials(n: int, seed: int = 0, daemon: tuple[int, int] | None = None) -> dict:
    """``n`` trials through the daemon's ports (JACK must be the current server); with
    ``daemon`` (its OSC port and the reply port to use), its clock's lag behind the rig's
    too (``clock_lag``: over all the trials, and only while the daemon was answering)."""
    rng = random.Random(seed)
    rig = Rig()
    lateness, trigger, missed, answering = [], [], 0, []
    probe = LagProbe(rig, *daemon) if daemon else contextlib.nullcontext()
    try:
        rig.start_clock()
        time.sleep(1.0)                      # the daemon's clock follower locks on
        with probe:
            for _ in range(n):
                rig.phrase(rng)
                sent = rig.cc(ACTIONS["generate"])
                arrived = rig.wait_note(sent, 2.0)
                if arrived is None:
                    missed += 1
                else:
                    grid = round(rig.beat(arrived) / GRID) * GRID
                    lateness.append((arrived - rig.time_of(grid)) * 1e3)
                    trigger.append((arrived - sent) * 1e3)
                    answering.append((sent, arrived))
                rig.cc(ACTIONS["stop"])
                time.sleep(0.03)
    finally:
        rig.close()
    lag = {"all": probe.lag(), "answering": probe.lag(answering)} if daemon else None
    return {"trials": n, "missed": missed, "lateness": summary(lateness),
            "trigger_to_note": summary(trigger), "raw_ms": lateness,
            "rig_tick_late": summary([x * 1e3 for x in rig.tick_late]), "clock_lag": lag,
            "grid_beats": GRID, "bpm": BPM, "grid_ms": math.floor(GRID * 60e3 / BPM)}
