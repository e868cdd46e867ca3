"""`continuo run` end to end through real JACK MIDI ports, synced to MIDI clock.

The test is the performer's rig (``bridge.bench.midi.Rig``): it sends MIDI clock (24 ppq)
and notes into ``Continuo In`` and listens on ``Continuo Out``.
"""

from __future__ import annotations

import signal
import time

import pytest

from bridge.bench.midi import Rig
from bridge.live.status import describe

pytestmark = [pytest.mark.jack, pytest.mark.slow]


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
    rig = Rig(bpm=100.0, name="test")
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


def test_bars_through_the_midi_ports_are_the_time_signature_given(daemon):
    """MIDI clock carries no time signature: --signature 3/4 puts the answer on the next
    bar line of bars of three (the phrase ends at 3.9: beat 6, where 4/4 has beat 4)."""
    proc, _ = daemon("--midi-api", "jack", "--signature", "3/4", "--set", "length_bars=1",
                     "--set", "seed=1")
    rig = Rig(bpm=120.0, name="test")
    try:
        rig.start_clock()
        last_release = rig.play([60, 62, 64, 67], start=1.0)
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        first = rig.beat(rig.notes_on()[0][0])
        expected = -(-(last_release + 1.0) // 3.0) * 3.0
        assert expected == 6.0 and abs(first - expected) < 0.2, (first, expected)
        rig.wait_for(lambda: not unreleased(rig.received) and rig.notes_on(), timeout=15)
    finally:
        rig.close()
    assert proc.stop() == 0


@pytest.mark.parametrize("lift", [64, 121])
def test_a_phrase_held_by_the_sustain_pedal_is_answered_after_it_lifts(daemon, lift):
    """CC 64 down, keys let go: no answer while the pedal holds the phrase; lifted (CC 64
    at 0, or CC 121, reset all controllers), the answer comes in a beat later, on the
    grid."""
    proc, _ = daemon("--midi-api", "jack", "--set", "length_bars=1", "--set", "seed=1")
    rig = Rig(bpm=120.0, name="test")
    try:
        rig.start_clock()
        rig.at_beat(0.5)
        rig.cc(64, 127)
        rig.play([60, 62, 64, 67], start=1.0)
        rig.at_beat(6.0)                                  # three beats of pedal alone
        assert not rig.notes_on(), proc.log()
        lifted = rig.beat(rig.cc(lift, 0))
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        first = rig.beat(rig.notes_on()[0][0])
        assert abs(first - -(-(lifted + 1.0) // 1.0)) < 0.2, (first, lifted)
        rig.wait_for(lambda: not unreleased(rig.received) and rig.notes_on(), timeout=15)
    finally:
        rig.close()
    assert proc.stop() == 0


def test_midi_clock_gone_without_a_stop_stops_the_accompaniment_until_it_comes_back(daemon):
    """The master's ticks stop with no Stop (switched off, a cable pulled): within a few
    seconds the accompaniment stops, every note released (it played on for ever at the last
    tempo); when the ticks come back it accompanies again."""
    proc, _ = daemon("--midi-api", "jack", "--set", "mode=accompany", "--set", "seed=1")
    rig = Rig(bpm=120.0, name="test")
    try:
        rig.start_clock()
        rig.play([60, 62, 64, 67, 65, 64, 62, 60], start=1.0)
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        rig.cut.set()
        time.sleep(3.5)                                   # 2 s for the daemon to tell
        quiet = len(rig.notes_on())
        time.sleep(2.0)
        assert len(rig.notes_on()) == quiet, proc.log()
        assert not unreleased(rig.received)
        assert "no Stop: stopped" in proc.log()
        rig.cut.clear()
        assert rig.wait_for(lambda: len(rig.notes_on()) > quiet, timeout=10), proc.log()
    finally:
        rig.close()
    assert proc.stop() == 0


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_a_stop_mid_response_releases_every_note(daemon, how):
    """Stopped while it plays, by a supervisor (SIGTERM) or a closed terminal (SIGHUP):
    every note it sounds is released, CC 123 sent (the forced exit of a second SIGINT:
    tests/test_server_signals.py)."""
    proc, _ = daemon("--midi-api", "jack", "--set", "length_bars=8", "--set", "seed=2")
    rig = Rig(bpm=120.0, name="test")
    try:
        rig.start_clock()
        rig.play([60, 64, 67, 72], start=1.0)
        assert rig.wait_for(lambda: len(rig.notes_on()) >= 3, timeout=8), proc.log()
        assert unreleased(rig.received), "expected notes sounding mid-response"
        code = proc.stop(getattr(signal, how))
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
    rig = Rig(bpm=120.0, name="test")
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
    rig = Rig(bpm=120.0, name="test")
    try:
        cc = rig.mido.Message
        rig.send(cc("control_change", control=param("length_bars").cc, value=127))
        rig.send(cc("control_change", control=param("temperature").cc, value=0))
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
        rig.send(cc("control_change", control=ACTIONS["generate"], value=127))
        assert rig.wait_for(lambda: rig.notes_on(), timeout=8), proc.log()
        rig.send(cc("control_change", control=ACTIONS["panic"], value=127))
        assert rig.wait_for(lambda: not unreleased(rig.received), timeout=3)
        sent = asyncio.run(status())                       # what left, and how punctually
        rig.wait_for(lambda: len(rig.notes_on()) >= sent["notes_out"], timeout=2)
        assert sent["notes_out"] == sent["midi_late_ms_n"] == len(rig.notes_on()) >= 1
        assert sent["midi_late_ms_p50"] <= sent["midi_late_ms_max"]
        assert 0 < sent["midi_lead_ms"] < 50        # two hops, measured at startup
        assert [k for k in sent if describe(k) is None] == []     # docs/osc.md
    finally:
        rig.close()
    assert proc.stop() == 0


def test_a_midi_performer_and_a_device_in_one_band(daemon):
    """`continuo run --band live`: the port session performs, a device on the same band
    plays the bass; the phrase played into Continuo In is answered out of the device."""
    import asyncio

    from bridge.bench.osc import open_device
    from bridge.m4l.standin import NOTE_OUT

    proc, port = daemon("--midi-api", "jack", "--band", "live", "--set", "length_bars=1",
                        "--set", "seed=4")
    rig = Rig(bpm=120.0, name="test")

    async def main() -> list:
        device = await open_device(port, part="bass", role="play", band="live")
        try:
            await asyncio.sleep(0.3)
            rig.start_clock()
            await asyncio.to_thread(rig.play, [60, 64, 67, 72], 1.0)
            for _ in range(160):
                if any(m.address == NOTE_OUT for _, m in device.received):
                    break
                await asyncio.sleep(0.05)
            return [m for _, m in device.received if m.address == NOTE_OUT]
        finally:
            device.close()

    try:
        notes = asyncio.run(main())
        assert notes, proc.log()                   # the band's bass, out of the device
        assert not rig.notes_on()                  # nothing back out of the performer's port
    finally:
        rig.close()
    assert proc.stop() == 0
