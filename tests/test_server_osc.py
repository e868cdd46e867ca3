"""`continuo run` end to end over real UDP loopback, through the device stand-in."""

from __future__ import annotations

import asyncio
import signal
import socket

import pytest

from bridge.bench import osc as bench_osc
from bridge.bench.daemon import free_udp_port
from bridge.live import status
from bridge.m4l.standin import DeviceStandIn
from bridge.osc.codec import encode_raw
from bridge.osc.transport import OscClient
from tests.waiting import until

pytestmark = pytest.mark.slow


def note_outs(device: DeviceStandIn) -> list[tuple[float, tuple]]:
    return [(t, m.args) for t, m in device.received if m.address == "/continuo/note/out"]


async def play(device: DeviceStandIn, pitches, step_s: float = 0.25) -> None:
    for p in pitches:
        device.note_on(p, 90)
        await asyncio.sleep(step_s * 0.8)
        device.note_off(p)
        await asyncio.sleep(step_s * 0.2)


def test_call_mode_answers_beat_stamped_on_the_bar_line_and_tags_arrive(daemon):
    proc, port = daemon("--no-midi", "--set", "seed=4", "--set", "length_bars=1")

    async def go():
        device = await DeviceStandIn.open("127.0.0.1", port)
        await device.wait_ready(5)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        await play(device, [60, 62, 64, 65, 67, 65, 64, 62])
        last_release = device.beat()
        await until(lambda: note_outs(device), 5), proc.log()
        await until(lambda: device.tags, 5)
        await asyncio.sleep(2.5)
        device.close()
        return device, last_release

    device, last_release = asyncio.run(go())
    outs = note_outs(device)
    beats = [args[3] for _, args in outs]
    first = min(beats)
    assert first == pytest.approx(4 * round(first / 4), abs=1e-4), "starts on a bar line"
    assert last_release + 0.9 <= first <= last_release + 5.1, (last_release, beats)
    assert all(first <= b < first + 4.0 for b in beats), (first, beats)   # one bar of 4/4
    for _, args in outs:
        session, pitch, velocity, _beat, duration, channel, delay_ms = args
        assert session == device.session and 0 <= pitch <= 127 and 1 <= velocity <= 127
        assert duration > 0 and 1 <= channel <= 16 and delay_ms >= 0
    assert device.tags and all(0.0 <= p <= 1.0 for _, p in device.tags)
    assert device.errors == []


def test_every_status_key_is_documented(daemon):
    reply = free_udp_port()
    proc, port = daemon("--no-midi", "--set", "seed=5", "--set", "length_bars=1",
                        "--reply-port", str(reply))

    async def go():
        device = await DeviceStandIn.open("127.0.0.1", port)
        await device.wait_ready(5)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        await play(device, [60, 64, 67, 72])
        await until(lambda: note_outs(device) and device.tags, 5), proc.log()
        async with await OscClient.open("127.0.0.1", port, reply_port=reply) as client:
            daemon_only = await bench_osc.status(client)
            (with_session,) = await bench_osc.session_status(client, [device], wait_s=2.0)
        device.close()
        return daemon_only, with_session

    daemon_only, with_session = asyncio.run(go())
    for values, scopes in ((daemon_only, {status.DAEMON}),
                           (with_session, {status.DAEMON, status.SESSION})):
        described = {k: status.describe(k) for k in values}
        assert all(described.values()), [k for k, d in described.items() if d is None]
        assert {d.scope for d in described.values()} == scopes
    assert {"feed_ms_p99", "tag0", "answers_ready", "temperature", "notes_out"} \
        <= set(with_session)


def test_accompany_keeps_producing_ahead(daemon):
    proc, port = daemon("--no-midi", "--set", "mode=accompany", "--set", "seed=5",
                        "--set", "grid=0.5")

    async def go():
        device = await DeviceStandIn.open("127.0.0.1", port)
        await device.wait_ready(5)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        await play(device, [60, 62, 64, 65, 67, 69, 71, 72])   # a bar that says its key
        await asyncio.sleep(4.0)
        device.close()
        return device

    device = asyncio.run(go())
    outs = note_outs(device)
    assert len(outs) >= 8, proc.log()
    beats = sorted(args[3] for _, args in outs)
    assert beats[-1] - beats[0] >= 4.0, "the accompaniment covers several bars"
    # planned and sent ahead of its beat (how punctually under load is the benchmark's
    # "sessions_on_time"; a test on a shared machine checks the behaviour, not the timing)
    t = device.transport_state            # playing since `since` at `beat`, 120 bpm
    ahead = [arrived < t.since + (args[3] - t.beat) * 60.0 / t.tempo for arrived, args in outs]
    assert sum(ahead) >= 0.75 * len(outs), f"{sum(ahead)} of {len(outs)} notes sent ahead"
    assert device.errors == []


def test_sigterm_mid_response_releases_every_note(daemon):
    proc, port = daemon("--no-midi", "--set", "seed=6", "--set", "length_bars=8")

    async def go():
        device = await DeviceStandIn.open("127.0.0.1", port)
        await device.wait_ready(5)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        await play(device, [60, 64, 67, 72])
        await until(lambda: device.sounding(), 8), proc.log()
        code = await asyncio.get_running_loop().run_in_executor(
            None, proc.stop, signal.SIGTERM)
        await until(lambda: not device.sounding(), 2)
        sounding = device.sounding()
        device.close(bye=False)
        return code, sounding, device

    code, sounding, device = asyncio.run(go())
    assert code == 0, proc.log()
    assert sounding == [], "every note-on has its note-off"
    assert any(m.address == "/continuo/session/panic" for _, m in device.received)
    assert "stopped in" in proc.log()


def test_a_native_crash_leaves_every_threads_traceback_in_the_log(daemon):
    proc, _ = daemon("--no-midi")
    proc.proc.send_signal(signal.SIGSEGV)            # what a crashing MIDI driver raises
    assert proc.proc.wait(timeout=10) == -signal.SIGSEGV
    proc.stop()                                      # reads the log to its end
    assert "Fatal Python error: Segmentation fault" in proc.log()
    assert 'File "' in proc.log()            # the threads' Python frames (whichever took it)


def test_bad_input_gets_an_error_reply_and_the_daemon_keeps_serving(daemon):
    # errors about messages naming no known session go to --reply-port: listen there
    reply_port = free_udp_port()
    proc, port = daemon("--no-midi", "--reply-port", str(reply_port))

    async def go():
        async with await OscClient.open("127.0.0.1", port, reply_port=reply_port) as client:
            me = client.address[1]
            client.send("/continuo/session/hello", ["tester", me])
            await client.collect(0.5)
            bad = [
                b"\x00garbage",                                            # not OSC
                encode_raw("/continuo/nope", [1]),                         # unknown address
                encode_raw("/continuo/note/in", ["tester", "sixty", 90, 0.0]),  # wrong type
                encode_raw("/continuo/note/in", ["tester", 300, 90, 0.0]),   # out of range
                encode_raw("/continuo/pedal/in", ["tester", 128, 0.0]),      # out of range
                encode_raw("/continuo/param/set", ["tester", "temperature", 99.0]),
                encode_raw("/continuo/param/set", ["tester", "mode", "loud"]),
                encode_raw("/continuo/note/in", ["nobody", 60, 90, 0.0]),   # unknown session
                encode_raw("/continuo/transport/set", ["tester", 0.0, 0.0, 1, 4, 4]),
            ]
            errors = []
            for datagram in bad:
                client.send_raw(datagram)
                errors += [m for m in await client.collect(0.4)
                           if m.address == "/continuo/error"]
            pong = await client.request("/continuo/ping", ["tester"], timeout=1.0)
            return errors, pong

    errors, pong = asyncio.run(go())
    assert len(errors) == 9, errors
    assert any("temperature" in m.args[1] for m in errors)
    assert any("value 128 is outside 0-127" in m.args[1] for m in errors)
    assert any("unknown session" in m.args[1] for m in errors)
    assert pong and pong[0].address == "/continuo/ping/reply"
    assert proc.proc.poll() is None, "still serving"


def test_two_instances_side_by_side(daemon):
    proc, port = daemon("--no-midi", "--set", "length_bars=1")

    async def go():
        a = await DeviceStandIn.open("127.0.0.1", port)
        b = await DeviceStandIn.open("127.0.0.1", port)
        await a.wait_ready(5)
        await b.wait_ready(5)
        for d in (a, b):
            d.transport(tempo=120.0, beat=0.0, playing=True)
        await asyncio.gather(play(a, [60, 62, 64]), play(b, [48, 50, 52]))
        await until(lambda: note_outs(a) and note_outs(b), 6)
        a.close()
        b.close()
        return a, b

    a, b = asyncio.run(go())
    assert a.session != b.session
    assert note_outs(a) and note_outs(b), proc.log()
    assert {args[0] for _, args in note_outs(a)} == {a.session}
    assert {args[0] for _, args in note_outs(b)} == {b.session}


def test_port_in_use_is_one_clear_line(daemon, tiny_model_dir):
    import subprocess
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        busy = s.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "bridge", "run", "--model",
                              str(tiny_model_dir), "--no-midi", "--osc-port", str(busy)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert "cannot start" in lines[-1] and str(busy) in lines[-1]
    assert "another continuo running?" in lines[-1]


def test_a_host_that_is_none_here_is_one_clear_line(tiny_model_dir):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bridge", "run", "--model", str(tiny_model_dir),
                          "--no-midi", "--osc-host", "192.0.2.1"],       # (TEST-NET: not ours)
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    last = [line for line in out.stderr.splitlines() if line.strip()][-1]
    assert "cannot start" in last and "192.0.2.1" in last and "--osc-host" in last
    assert "another continuo" not in last


def test_a_client_asks_for_the_styles_the_model_knows_and_an_unknown_one_lists_them(
        daemon, tiny_model_dir):
    from bridge.model.checkpoint import read_meta

    known = [s for s in read_meta(tiny_model_dir / "generator")["config"]["styles"] if s]
    _, port = daemon("--no-midi")

    async def go():
        async with await OscClient.open("127.0.0.1", port) as client:
            client.send("/continuo/session/hello", ["tester", client.address[1]])
            await client.collect(0.5)
            styles = await client.request("/continuo/param/get", ["tester", "styles"],
                                          timeout=2.0)
            client.send("/continuo/param/set", ["tester", "style", "polka"])
            errors = [m for m in await client.collect(0.5) if m.address == "/continuo/error"]
            return styles, errors

    styles, errors = asyncio.run(go())
    assert styles[0].address == "/continuo/param/value"
    assert list(styles[0].args) == ["tester", "styles", *known]
    assert len(errors) == 1 and all(s in errors[0].args[1] for s in known)
