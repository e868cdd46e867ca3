"""MIDI ports without a MIDI server: API choice, error messages, message parsing."""

from __future__ import annotations

import os
import sys

import mido
import pytest
import rtmidi
from click.testing import CliRunner

from bridge.cli import main
from bridge.midi import ports
from bridge.midi.ports import MidiInput, MidiOutput, MidiUnavailable


@pytest.fixture
def no_jack(monkeypatch):
    """Point JACK clients at a server that does not exist."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"continuo-none-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")


@pytest.fixture
def no_alsa(monkeypatch):
    monkeypatch.setattr(ports, "ALSA_SEQUENCER", "/nonexistent/snd/seq")


def test_available_apis_are_named_ours():
    apis = ports.available_apis()
    assert set(apis) <= {"jack", "alsa", "coremidi", "winmm"}
    assert len(apis) == len(set(apis))


@pytest.mark.parametrize("platform, order", [
    ("linux", ("jack", "alsa")), ("darwin", ("coremidi", "jack")), ("win32", ("winmm",)),
])
def test_auto_order_per_platform(platform, order):
    assert ports._platform_order(platform) == order


def test_unknown_api():
    with pytest.raises(MidiUnavailable, match="unknown MIDI API 'oss'"):
        ports.open_output("oss")


@pytest.mark.skipif(rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api(), reason="no JACK")
def test_jack_without_a_server_says_so(no_jack):
    with pytest.raises(MidiUnavailable) as info:
        ports.open_output("jack", client_name="tno_out")
    assert str(info.value) == "no MIDI API works: jack: JACK server not running?"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux order")
def test_auto_lists_every_failure_on_one_line(no_jack, no_alsa):
    with pytest.raises(MidiUnavailable) as info:
        ports.open_input("auto", client_name="tno_in")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("no MIDI API works: jack: ")
    assert "; alsa: no ALSA sequencer (no /nonexistent/snd/seq)" in message


def test_windows_hint(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(MidiUnavailable) as info:
        ports.open_output("auto")
    assert "winmm: " in str(info.value) and "loopMIDI" in str(info.value)
    assert "--midi-in/--midi-out" in str(info.value)


def test_list_ports_reports_errors(no_jack, no_alsa):
    found = ports.list_ports(["jack", "alsa", "oss"])
    assert found["alsa"] == {"error": "no ALSA sequencer (no /nonexistent/snd/seq)"}
    assert "error" in found["jack"] and "error" in found["oss"]


def test_reason_drops_rtmidi_prefix():
    error = rtmidi.SystemError("MidiInJack::initialize: JACK server not running?")
    assert ports._reason(error) == "JACK server not running?"
    assert ports._reason(ValueError()) == "ValueError"


def test_cli_reports_an_unavailable_api(no_jack, no_alsa):
    result = CliRunner().invoke(main, ["ports", "--api", "alsa"])
    assert result.exit_code == 1
    assert result.output == "alsa: unavailable: no ALSA sequencer (no /nonexistent/snd/seq)\n"
    if rtmidi.API_MACOSX_CORE not in rtmidi.get_compiled_api():
        result = CliRunner().invoke(main, ["ports", "--api", "coremidi"])
        assert "coremidi: unavailable: not compiled into python-rtmidi" in result.output


# -- the port classes, on a fake rtmidi object ---------------------------------------------

class FakeRt:
    def __init__(self) -> None:
        self.sent: list[list[int]] = []
        self.callback = None
        self.ignored = None
        self.closed = False

    def send_message(self, data): self.sent.append(list(data))
    def ignore_types(self, **kw): self.ignored = kw
    def set_callback(self, func): self.callback = func
    def cancel_callback(self): self.callback = None
    def close_port(self): self.closed = True
    def delete(self): pass


def test_output_validates_and_sends_bytes():
    rt = FakeRt()
    out = MidiOutput("Test Out", rt=rt, api="fake", connected=None)
    out.send(mido.Message("note_on", note=60, velocity=1))
    assert rt.sent == [[0x90, 60, 1]]
    with pytest.raises(TypeError):
        out.send([0x90, 60, 1])
    out.panic()
    assert len(rt.sent) == 17 and rt.sent[-1] == [0xBF, 120, 0]
    out.reset()
    assert len(rt.sent) == 17 + 32
    out.close()
    assert rt.closed
    with pytest.raises(ValueError):
        out.send(mido.Message("note_on"))


def test_input_parses_counts_and_drops():
    rt = FakeRt()
    got = []
    inp = MidiInput("Test In", rt=rt, api="fake", connected=None,
                    callback=lambda m, when: got.append((m, when)))
    assert rt.ignored == {"sysex": True, "timing": False, "active_sense": True}
    for data in ([0x90, 60], [0x90, 200, 3], [0xF4], [], [0x90, 60, 100], [0xF8]):
        rt.callback((data, 0.0))
    assert [m.type for m, _ in got] == ["note_on", "clock"]
    assert inp.dropped == 4 and inp.received == 2
    assert all(isinstance(when, float) for _, when in got)

    def broken(message, when):
        raise RuntimeError("daemon bug")

    inp.callback = broken
    rt.callback(([0x80, 60, 0], 0.0))             # logged, not raised into rtmidi's thread
    inp.callback = None
    rt.callback(([0x80, 61, 0], 0.0))
    assert inp.poll() == mido.Message("note_off", note=61, velocity=0)
    inp.close()
    assert rt.callback is None and rt.closed


class _Closing:
    """A port that writes down what is done to it."""

    def __init__(self, name: str, api: str, done: list[str]) -> None:
        self.name, self.api, self.done, self.closed = name, api, done, False

    def stop_callbacks(self) -> None:
        self.done.append(f"stop {self.name}")

    def close(self) -> None:            # once, as mido's ports (their __del__ closes too)
        if not self.closed:
            self.closed = True
            self.done.append(f"close {self.name}")


class _In(_Closing, MidiInput):
    pass


class _Out(_Closing, MidiOutput):
    pass


@pytest.mark.parametrize("api", ["jack", "coremidi"])
def test_close_all_stops_inputs_first_and_closes_jack_ports_apart(monkeypatch, api):
    """JACK's client library crashes unregistering a port while it handles the graph change
    the port closed before it caused (close_all's docstring): its ports close apart."""
    done: list[str] = []
    monkeypatch.setattr(ports.time, "sleep", lambda s: done.append(f"wait {s}"))
    ports.close_all(_In("in", api, done), _Out("out", api, done))
    wait = [f"wait {ports.SETTLE_S}"] if api == "jack" else []
    assert done == ["stop in", "close out", *wait, "close in"]
