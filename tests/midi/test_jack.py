"""Real MIDI ports on the session's private JACK server (see tests/conftest.py).

Each test uses its own client names (JACK renames duplicates) and waits a few periods after
connecting before it sends. Waits are generous; nothing here measures latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import select
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest
import rtmidi
from click.testing import CliRunner

from bridge.cli import main
from bridge.midi.echo import EchoFilter
from bridge.midi.ports import MidiUnavailable, open_input, open_output
from bridge.timing.clock import BeatClock
from bridge.timing.scheduler import NoteScheduler

pytestmark = pytest.mark.jack

SETTLE_S = 0.05        # a few periods (256 frames at 48 kHz = 5.3 ms) after connecting
TIMEOUT_S = 5.0
PEER = Path(__file__).with_name("_peer.py")


class Inbox:
    """Collects (message, when) from an input's callback on rtmidi's thread."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[mido.Message, float]] = queue.Queue()

    def __call__(self, message: mido.Message, when: float) -> None:
        self.queue.put((message, when))

    def take(self, count: int) -> list[mido.Message]:
        return [self.queue.get(timeout=TIMEOUT_S)[0] for _ in range(count)]

    def empty_after(self, seconds: float) -> bool:
        time.sleep(seconds)
        return self.queue.empty()


def jack_connect(source: str, destination: str) -> None:
    subprocess.run(["jack_connect", source, destination], check=True, timeout=10,
                   capture_output=True)
    time.sleep(SETTLE_S)


@contextlib.contextmanager
def raw_output(client: str, port: str):
    """A bare rtmidi output, to send bytes our own ports would refuse."""
    rt = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, client)
    rt.open_virtual_port(port)
    try:
        yield rt
    finally:
        rt.close_port()
        rt.delete()


def test_virtual_ports_carry_notes_and_clock():
    inbox = Inbox()
    out = open_output("jack", virtual_name="Loop Out", client_name="tloop_out")
    inp = open_input("jack", virtual_name="Loop In", client_name="tloop_in", callback=inbox)
    try:
        assert out.api == inp.api == "jack"
        jack_connect("tloop_out:Loop Out", "tloop_in:Loop In")
        sent = [
            mido.Message("note_on", channel=2, note=60, velocity=100),
            mido.Message("clock"), mido.Message("start"), mido.Message("clock"),
            mido.Message("songpos", pos=64), mido.Message("continue"),
            mido.Message("active_sensing"),                            # ignored
            mido.Message("sysex", data=(0x7D, 1, 2)),                  # ignored
            mido.Message("stop"),
            mido.Message("control_change", channel=2, control=64, value=127),
            mido.Message("note_off", channel=2, note=60, velocity=0),
        ]
        for message in sent:
            out.send(message)
        expected = [m for m in sent if m.type not in ("active_sensing", "sysex")]
        assert inbox.take(len(expected)) == expected
        assert inbox.empty_after(0.05)
        assert inp.dropped == 0 and inp.received == len(expected)
    finally:
        inp.close()
        out.close()


def test_ports_connect_by_name():
    inbox = Inbox()
    out = open_output("auto", virtual_name="Name Out", client_name="tname_out")
    inp = open_input("jack", virtual_name="Name In", client_name="tname_in",
                     connect_to="tname_out:Name Out", callback=inbox)
    second = open_output("jack", virtual_name="Second Out", client_name="tname_second",
                         connect_to="TNAME_IN:name in")          # substring, any case
    try:
        assert out.api == "jack"                                # auto found the server
        assert inp.connected == "tname_out:Name Out"
        assert second.connected == "tname_in:Name In"
        time.sleep(SETTLE_S)
        out.send(mido.Message("note_on", note=40, velocity=1))
        second.send(mido.Message("note_on", note=41, velocity=2))
        got = sorted(m.note for m in inbox.take(2))
        assert got == [40, 41]
        with pytest.raises(MidiUnavailable, match="no port matching 'no such port'"):
            open_input("jack", client_name="tname_missing", connect_to="no such port")
    finally:
        for port in (second, inp, out):
            port.close()


def test_two_processes_play_to_each_other():
    inbox = Inbox()
    out = open_output("jack", virtual_name="Duo Out", client_name="tduo_out")
    inp = open_input("jack", virtual_name="Duo In", client_name="tduo_in", callback=inbox)
    peer = subprocess.Popen([sys.executable, str(PEER), "tduo_out:Duo Out", "tduo_in:Duo In"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([peer.stdout], [], [], 20)
        assert ready and peer.stdout.readline().strip() == "ready"
        time.sleep(SETTLE_S)
        sent = []
        for pitch in range(48, 64):
            sent.append(mido.Message("note_on", channel=1, note=pitch, velocity=pitch))
            sent.append(mido.Message("note_off", channel=1, note=pitch, velocity=0))
        for message in sent:
            out.send(message)
        assert inbox.take(len(sent)) == [m.copy(note=m.note + 12) for m in sent]
        out_text, _ = peer.communicate("", timeout=20)
        assert out_text.strip() == f"echoed {len(sent)}"
    finally:
        if peer.poll() is None:
            peer.kill()
            peer.wait()
        inp.close()
        out.close()


def test_malformed_input_is_counted_and_dropped():
    inbox = Inbox()
    with raw_output("tbad_raw", "Bad Out") as raw:
        inp = open_input("jack", virtual_name="Bad In", client_name="tbad_in",
                         connect_to="tbad_raw:Bad Out", callback=inbox)
        try:
            time.sleep(SETTLE_S)
            for data in ([0x90, 60], [0x90, 200, 3], [0xF4], [0x90, 61, 100]):
                raw.send_message(data)
            assert inbox.take(1) == [mido.Message("note_on", note=61, velocity=100)]
            assert inp.dropped == 3 and inp.received == 1
        finally:
            inp.close()


def test_scheduler_output_looped_back_is_filtered_as_echo():
    """The daemon's wiring: scheduler -> Continuo Out -> (user loop) -> Continuo In."""
    out = open_output("jack", virtual_name="Echo Out", client_name="techo_out")
    echoes: list[mido.Message] = []
    played: list[mido.Message] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        echo = EchoFilter()

        def handle(message: mido.Message, when: float) -> None:
            (echoes if echo.is_echo(message, when) else played).append(message)

        inp = open_input("jack", virtual_name="Echo In", client_name="techo_in",
                         callback=lambda m, when: loop.call_soon_threadsafe(handle, m, when))
        try:
            with raw_output("techo_player", "Player") as player:
                jack_connect("techo_out:Echo Out", "techo_in:Echo In")
                jack_connect("techo_player:Player", "techo_in:Echo In")
                clock = BeatClock(loop.time(), 400.0)
                scheduler = NoteScheduler(clock, out, on_sent=echo.sent)
                for i in range(8):
                    scheduler.schedule(60 + i, 100, 0.2 + 0.25 * i, 0.2)
                await asyncio.sleep(0.3)
                player.send_message([0x90, 90, 80])              # the performer plays along
                player.send_message([0x80, 90, 0])
                deadline = loop.time() + TIMEOUT_S
                while len(echoes) < 16 and loop.time() < deadline:
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.2)                         # past the echo window:
                player.send_message([0x90, 60, 100])             # a note we also played
                while len(played) < 3 and loop.time() < deadline:
                    await asyncio.sleep(0.02)
                scheduler.close()
                await asyncio.sleep(0.1)
        finally:
            inp.close()

    try:
        asyncio.run(run())
    finally:
        out.close()
    ons = [m.note for m in echoes if m.type == "note_on"]
    assert ons == list(range(60, 68))
    assert [(m.type, m.note) for m in played] == [
        ("note_on", 90), ("note_off", 90), ("note_on", 60)]
    assert echoes[-1].type == "control_change"                   # close(): CC 123, echoed


def test_ports_command_lists_our_ports():
    out = open_output("jack", virtual_name="Cli Out", client_name="tcli_out")
    inp = open_input("jack", virtual_name="Cli In", client_name="tcli_in")
    try:
        result = CliRunner().invoke(main, ["ports", "--api", "jack"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == "jack:"
        outputs_at = next(i for i, line in enumerate(lines) if "outputs" in line)
        assert "    tcli_out:Cli Out" in lines[:outputs_at]      # a source we can read
        assert "    tcli_in:Cli In" in lines[outputs_at:]        # a destination
    finally:
        inp.close()
        out.close()
