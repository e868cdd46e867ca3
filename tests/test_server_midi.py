"""`continuo run` end to end through real JACK MIDI ports, synced to MIDI clock.

The test is the performer's rig: it sends MIDI clock (24 ppq) and notes into
``Continuo In`` and listens on ``Continuo Out``.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from bridge.midi.ports import open_input, open_output

pytestmark = [pytest.mark.jack, pytest.mark.slow]


class Rig:
    """MIDI clock and notes out to the daemon, its notes back in (with arrival times)."""

    def __init__(self, bpm: float) -> None:
        import mido

        self.mido = mido
        self.received: list[tuple[float, object]] = []
        self.out = open_output("jack", virtual_name="rig out", client_name="rig_out",
                               connect_to="Continuo In")
        self.inp = open_input("jack", virtual_name="rig in", client_name="rig_in",
                              connect_to="Continuo Out",
                              callback=lambda m, t: self.received.append((t, m)))
        time.sleep(0.1)                      # a few JACK periods after connecting
        self.bpm = bpm
        self.t0 = 0.0
        self._stop = threading.Event()
        self._clock = threading.Thread(target=self._run_clock, daemon=True)

    def start_clock(self) -> None:
        self.t0 = time.monotonic() + 0.05
        self._clock.start()

    def beat(self, t: float) -> float:
        return (t - self.t0) * self.bpm / 60.0

    def _run_clock(self) -> None:
        tick_s = 60.0 / self.bpm / 24
        self.out.send(self.mido.Message("start"))
        n = 0
        while not self._stop.is_set():
            wait = self.t0 + n * tick_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.out.send(self.mido.Message("clock"))
            n += 1

    def at_beat(self, beat: float) -> None:
        wait = self.t0 + beat * 60.0 / self.bpm - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def play(self, pitches: list[int], start: float, step: float = 0.5) -> float:
        """Play a phrase of eighth notes; the beat of its last release."""
        for i, pitch in enumerate(pitches):
            self.at_beat(start + i * step)
            self.out.send(self.mido.Message("note_on", note=pitch, velocity=90))
            self.at_beat(start + i * step + step * 0.8)
            self.out.send(self.mido.Message("note_off", note=pitch))
        return start + (len(pitches) - 1) * step + step * 0.8

    def notes_on(self) -> list[tuple[float, object]]:
        return [(t, m) for t, m in self.received if m.type == "note_on" and m.velocity > 0]

    def wait_for(self, predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def close(self) -> None:
        self._stop.set()
        if self._clock.is_alive():
            self._clock.join(timeout=2)
        self.out.close()
        self.inp.close()


def unreleased(messages) -> set[tuple[int, int]]:
    """(channel, pitch) of note-ons with no later note-off (CC 123 releases a channel)."""
    sounding: set[tuple[int, int]] = set()
    for _, m in messages:
        if m.type == "note_on" and m.velocity > 0:
            sounding.add((m.channel, m.note))
        elif m.type in ("note_off", "note_on"):
            sounding.discard((m.channel, m.note))
    return sounding


def test_call_and_response_lands_on_the_midi_clock_grid(daemon):
    proc, _ = daemon("--midi-api", "jack", "--set", "length_bars=1", "--set", "seed=1")
    rig = Rig(bpm=100.0)
    try:
        rig.start_clock()
        last_release = rig.play([60, 62, 64, 67], start=1.0)
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        first_t, _ = rig.notes_on()[0]
        first = rig.beat(first_t)
        # the phrase ends after a beat of silence; the answer starts on the next beat
        expected = -(-(last_release + 1.0) // 1.0)
        assert abs(first - expected) < 0.2, (first, expected)
        rig.wait_for(lambda: not unreleased(rig.received) and rig.notes_on(), timeout=15)
        assert not unreleased(rig.received)
    finally:
        rig.close()
    assert proc.stop() == 0


def test_sigterm_mid_response_releases_every_note(daemon):
    proc, _ = daemon("--midi-api", "jack", "--set", "length_bars=8", "--set", "seed=2")
    rig = Rig(bpm=120.0)
    try:
        rig.start_clock()
        rig.play([60, 64, 67, 72], start=1.0)
        assert rig.wait_for(lambda: len(rig.notes_on()) >= 3, timeout=8), proc.log()
        assert unreleased(rig.received), "expected notes sounding mid-response"
        code = proc.stop(signal.SIGTERM)
        time.sleep(0.2)
        assert code == 0, proc.log()
        assert not unreleased(rig.received)
        assert any(m.type == "control_change" and m.control == 123 for _, m in rig.received)
        assert "stopped in" in proc.log()
    finally:
        rig.close()


def test_its_own_output_looped_back_is_ignored(daemon):
    proc, _ = daemon("--midi-api", "jack", "--set", "length_bars=1", "--set", "seed=3")
    import subprocess

    subprocess.run(["jack_connect", "continuo_out:Continuo Out", "continuo_in:Continuo In"],
                   check=True, capture_output=True)
    rig = Rig(bpm=120.0)
    try:
        rig.start_clock()
        rig.play([60, 62, 64], start=1.0)
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        time.sleep(3.0)
        # had the daemon heard its own answer, it would barge in on itself over and over
        assert proc.log().count("barge-in") == 0, proc.log()
    finally:
        rig.close()
    assert proc.stop() == 0


def test_controllers_set_parameters_and_trigger_actions(daemon):
    import asyncio

    from bridge.bench.daemon import free_udp_port
    from bridge.live.params import ACTIONS, param
    from bridge.osc.transport import OscClient

    reply = free_udp_port()
    proc, port = daemon("--midi-api", "jack", "--set", "mode=manual", "--reply-port", str(reply))
    rig = Rig(bpm=120.0)
    try:
        cc = rig.mido.Message
        rig.out.send(cc("control_change", control=param("length_bars").cc, value=127))
        rig.out.send(cc("control_change", control=param("temperature").cc, value=0))
        time.sleep(0.3)

        async def status():
            async with await OscClient.open("127.0.0.1", port, reply_port=reply) as client:
                replies = await client.request("/continuo/status/get", ["midi"], timeout=2.0)
                args = replies[0].args
                return dict(zip(args[::2], args[1::2], strict=True))

        values = asyncio.run(status())
        assert values["length_bars"] == 16 and values["temperature"] == pytest.approx(0.1)
        rig.start_clock()
        rig.play([60, 62, 64], start=1.0)
        assert not rig.notes_on()                          # manual: nothing unasked
        rig.out.send(cc("control_change", control=ACTIONS["generate"], value=127))
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        rig.out.send(cc("control_change", control=ACTIONS["panic"], value=127))
        assert rig.wait_for(lambda: not unreleased(rig.received), timeout=3)
    finally:
        rig.close()
    assert proc.stop() == 0
