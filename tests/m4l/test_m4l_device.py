"""The device, run in a simulator of Max's message passing (tests/m4l/maxsim.py).

Each test loads the built patch, drives it as Live and the daemon would (parameters,
transport, MIDI in, datagrams in) and checks what leaves it: OSC datagrams with their
argument types, notes on the track's output, all-notes-off.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.config import Config
from bridge.live.params import MODES, param
from bridge.m4l.device import (
    HEARTBEAT_MS,
    LONGNAMES,
    PORT_BASE,
    PORT_SPAN,
    PORT_STRIDE,
    STATUS_OFFLINE,
    STYLE_CHOICES,
    STYLE_VALUES,
    WATCHDOG_MS,
    build,
)
from bridge.model.checkpoint import shipped_styles
from bridge.osc.routes import IN, route
from tests.m4l.maxsim import Sim

LIVE_ID = 5
PORT = PORT_BASE + LIVE_ID % PORT_SPAN


def osc_types(args: list[Any]) -> tuple[str, ...]:
    return tuple("i" if isinstance(a, int) else "f" if isinstance(a, float) else "s"
                 for a in args)


def sent(sim: Sim, address: str) -> list[list[Any]]:
    return [args for _, a, args, _ in sim.sent if a == address]


@pytest.fixture(scope="module")
def patcher() -> dict[str, Any]:
    return build().patch.to_json()


@pytest.fixture
def sim(patcher: dict[str, Any]) -> Sim:
    s = Sim(patcher, live_id=LIVE_ID)
    s.load()
    return s


@pytest.fixture
def live(sim: Sim) -> Sim:
    """Loaded and connected: the daemon answered the hello."""
    sim.deliver("/continuo/session/ready", session_of(sim), "0.1.0", "tiny")
    return sim


def session_of(sim: Sim) -> str:
    """The instance id the device said hello with (the daemon uses it as the session id)."""
    if not hasattr(sim, "sid"):
        sim.sid = sent(sim, "/continuo/session/hello")[0][0]   # type: ignore[attr-defined]
    return sim.sid  # type: ignore[attr-defined,no-any-return]


# -- load, hello, heartbeat, ports ---------------------------------------------------------

def test_load_says_hello_on_its_own_port(sim: Sim) -> None:
    assert sim.udp_port == Config.osc_port
    assert sim.listen_port == PORT
    hellos = sent(sim, "/continuo/session/hello")
    assert hellos and all(h == hellos[0] for h in hellos)
    instance, port = hellos[0]
    assert instance.startswith(f"m4l-{LIVE_ID}-") and port == PORT
    assert osc_types(hellos[0]) == ("s", "i")
    # nothing session-scoped leaves before a session exists
    assert {a for _, a, _, _ in sim.sent} == {"/continuo/session/hello"}
    assert sim.text_of(_status(sim)) == STATUS_OFFLINE


def _status(sim: Sim) -> str:
    return next(i for i, o in sim.objs.items() if o.kind == "comment" and
                o.text == STATUS_OFFLINE)


def test_instances_differ(patcher: dict[str, Any]) -> None:
    a, b = Sim(patcher, live_id=5, seed=1), Sim(patcher, live_id=6, seed=2)
    a.load()
    b.load()
    assert a.listen_port != b.listen_port
    assert session_of(a) != session_of(b)


def test_the_instance_id_survives_another_load_bang(sim: Sim) -> None:
    first = sent(sim, "/continuo/session/hello")[-1]
    for o in sim.of("live.thisdevice"):
        o.out(0, ["bang"])
    assert sent(sim, "/continuo/session/hello")[-1] == first


def test_heartbeat_repeats_hello(sim: Sim) -> None:
    before = len(sent(sim, "/continuo/session/hello"))
    sim.advance(2 * HEARTBEAT_MS + 10)            # (before the watchdog gives up)
    assert len(sent(sim, "/continuo/session/hello")) == before + 2


def test_ready_connects_and_sends_the_parameters(live: Sim) -> None:
    sid = session_of(live)
    assert live.text_of(_status(live)) == "connected 0.1.0 tiny"
    order = [args[1] for args in sent(live, "/continuo/param/set")]
    params = {args[1]: args for args in sent(live, "/continuo/param/set")}
    assert set(params) == {"mode", "style", "temperature", "length_bars", "trade_bars",
                           "part", "role", "band"}
    assert order[-1] == "band"                    # joined once its part and role are set
    assert params["band"] == [sid, "band", ""] and params["role"] == [sid, "role", "perform"]
    assert params["part"] == [sid, "part", "auto"]
    assert params["mode"] == [sid, "mode", param("mode").default]
    assert params["style"] == [sid, "style", ""]
    assert params["temperature"] == [sid, "temperature", param("temperature").default]
    assert osc_types(params["temperature"]) == ("s", "s", "f")
    assert params["length_bars"] == [sid, "length_bars", 0]
    assert osc_types(params["length_bars"]) == ("s", "s", "i")
    assert params["trade_bars"] == [sid, "trade_bars", 0]
    assert osc_types(params["trade_bars"]) == ("s", "s", "i")
    transport = sent(live, "/continuo/transport/set")
    assert transport and osc_types(transport[-1]) == ("s", "f", "f", "i", "i", "i")
    assert transport[-1] == [sid, 120.0, 0.0, 0, 4, 4]


def test_every_datagram_fits_its_route(live: Sim) -> None:
    live.set_transport(playing=True)
    live.midi_in(0x90, 60, 100)
    live.set_param("Generate", 1)
    live.advance(2 * HEARTBEAT_MS)
    for _, address, args, _ in live.sent:
        rt = route(address, IN)
        assert len(args) == len(rt.args)
        for a, t in zip(rt.args, osc_types(args), strict=True):
            assert a.type in (t, "any"), (address, args)


def test_silence_means_not_connected_and_a_new_port(live: Sim) -> None:
    live.sent.clear()
    live.advance(WATCHDOG_MS + 1)
    assert live.text_of(_status(live)) == STATUS_OFFLINE
    moved = PORT_BASE + (LIVE_ID + PORT_STRIDE) % PORT_SPAN
    assert live.listen_port == moved
    assert sent(live, "/continuo/session/hello")[-1][1] == moved
    live.sent.clear()
    live.midi_in(0x90, 60, 100)                    # gated while not connected
    live.advance(HEARTBEAT_MS)
    assert {a for _, a, _, _ in live.sent} == {"/continuo/session/hello"}
    # the same session comes back: a reconnect, so the parameters go again
    live.deliver("/continuo/session/ready", session_of(live), "0.1.0", "tiny")
    assert len(sent(live, "/continuo/param/set")) == 8


def test_ready_again_does_not_resend(live: Sim) -> None:
    live.sent.clear()
    for _ in range(3):
        live.deliver("/continuo/session/ready", session_of(live), "0.1.0", "tiny")
        live.advance(HEARTBEAT_MS)
    assert sent(live, "/continuo/param/set") == []
    assert live.text_of(_status(live)).startswith("connected")


# -- parameters --------------------------------------------------------------------------

def test_parameters(patcher: dict[str, Any]) -> None:
    boxes = [b["box"] for b in patcher["patcher"]["boxes"] if b["box"].get("parameter_enable")]
    values = {b["varname"]: b["saved_attribute_attributes"]["valueof"] for b in boxes}
    assert set(values) == {"Mode", "Temperature", "Length", "Style", "Thru", "Generate",
                           "Panic", "Daemon Port", "Band", "Part", "Role",
                           "Trade"}                                         # never change
    assert set(values) == set(LONGNAMES.values())
    assert values["Mode"]["parameter_enum"] == list(MODES)
    temp = param("temperature")
    assert (values["Temperature"]["parameter_mmin"], values["Temperature"]["parameter_mmax"]) \
        == (temp.low, temp.high)
    assert values["Length"]["parameter_mmax"] == param("length_bars").high
    assert (values["Trade"]["parameter_mmin"], values["Trade"]["parameter_mmax"]) == (
        0, param("trade_bars").high)
    assert values["Style"]["parameter_enum"][0] == "auto" == STYLE_CHOICES[0]
    assert shipped_styles() == STYLE_VALUES and STYLE_VALUES[0] == ""   # the model's table
    assert values["Daemon Port"]["parameter_invisible"] == 1
    assert values["Part"]["parameter_enum"] == list(param("part").choices)
    assert values["Role"]["parameter_enum"] == list(param("role").choices)
    assert values["Band"]["parameter_enum"][0] == "alone"


def test_parameter_changes_go_to_the_daemon(live: Sim) -> None:
    sid = session_of(live)
    live.sent.clear()
    live.set_param("Temperature", 1.5)
    live.set_param("Length", 4)
    live.set_param("Mode", MODES.index("accompany"))
    live.set_param("Style", STYLE_CHOICES.index("folk/jig"))
    live.set_param("Trade", 4)
    assert sent(live, "/continuo/param/set") == [
        [sid, "temperature", 1.5], [sid, "length_bars", 4], [sid, "mode", "accompany"],
        [sid, "style", "folk/jig"], [sid, "trade_bars", 4]]
    live.set_param("Generate", 1)
    assert sent(live, "/continuo/generate/start") == [[sid]]
    live.sent.clear()
    live.set_param("Part", param("part").choices.index("bass"))
    live.set_param("Role", param("role").choices.index("play"))
    live.set_param("Band", 1)
    assert sent(live, "/continuo/param/set") == [
        [sid, "part", "bass"], [sid, "role", "play"], [sid, "band", "A"]]


def test_daemon_port_parameter(sim: Sim) -> None:
    sim.set_param("Daemon Port", 9555.0)
    assert sim.udp_port == 9555


# -- input forwarding and thru -----------------------------------------------------------------

def test_notes_go_to_the_daemon_with_their_beat(live: Sim) -> None:
    sid = session_of(live)
    live.set_transport(tempo=120.0, beat=8.0, playing=True)
    live.advance(250)                                   # half a beat
    live.midi_in(0x90, 60, 100)
    live.midi_in(0x80, 60, 64)
    notes = sent(live, "/continuo/note/in")
    assert notes == [[sid, 60, 100, 8.5], [sid, 60, 0, 8.5]]
    assert osc_types(notes[0]) == ("s", "i", "i", "f")
    # thru (on by default): the notes go on to the track
    assert [m for _, m in live.midi_out] == [(0x90, 60, 100), (0x90, 60, 0)]


def test_thru_off_releases_held_notes_and_blocks(live: Sim) -> None:
    live.midi_in(0x90, 62, 90)
    live.set_param("Thru", 0)
    live.midi_in(0x90, 64, 90)
    assert [m for _, m in live.midi_out] == [(0x90, 62, 90), (0x90, 62, 0)]
    assert [a[1] for a in sent(live, "/continuo/note/in")] == [62, 64]


def test_transport_cadence(live: Sim) -> None:
    live.sent.clear()
    live.set_transport(tempo=120.0, playing=True)       # a change: reported at once
    assert sent(live, "/continuo/transport/set")[-1][3] == 1
    live.advance(1000)                                  # 2 beats = 8 sixteenths
    reports = sent(live, "/continuo/transport/set")
    assert len(reports) >= 1 + 8
    live.sent.clear()
    live.set_transport(tempo=90.0)
    assert sent(live, "/continuo/transport/set")[-1][1] == 90.0
    live.set_transport(playing=False)
    assert sent(live, "/continuo/transport/set")[-1][3] == 0


# -- playback ------------------------------------------------------------------------------

def note_out(sim: Sim, pitch: int, beat: float, duration: float, delay_ms: float,
             channel: int = 1, velocity: int = 100) -> None:
    sim.deliver("/continuo/note/out", session_of(sim), pitch, velocity, beat, duration,
                channel, delay_ms)


def test_notes_play_at_their_delay_and_stop_after_their_duration(live: Sim) -> None:
    live.set_transport(tempo=120.0, playing=True)
    start = live.now
    note_out(live, 67, beat=4.0, duration=1.0, delay_ms=100.0, channel=3, velocity=80)
    note_out(live, 36, beat=4.0, duration=0.5, delay_ms=100.0, channel=10)
    live.advance(1000)
    assert [(t - start, p, v, c) for t, p, v, c in live.notes] == [
        (100.0, 67, 80, 3), (100.0, 36, 100, 10), (350.0, 36, 0, 10), (600.0, 67, 0, 3)]


def test_cancel_drops_what_starts_at_or_after_the_cut(live: Sim) -> None:
    live.set_transport(tempo=120.0, beat=0.0, playing=True)
    note_out(live, 60, beat=0.5, duration=0.25, delay_ms=250.0)    # before the cut: plays
    note_out(live, 62, beat=1.5, duration=0.25, delay_ms=750.0)    # after it: dropped
    live.deliver("/continuo/note/cancel", session_of(live), 1.0)
    note_out(live, 64, beat=1.25, duration=0.25, delay_ms=625.0)   # new generation: plays
    live.advance(2000)
    assert [p for _, p, v, _ in live.notes if v] == [60, 64]
    assert _balanced(live)


def test_a_cut_now_releases_what_sounds(live: Sim) -> None:
    live.set_transport(tempo=120.0, beat=0.0, playing=True)
    note_out(live, 60, beat=0.0, duration=4.0, delay_ms=0.0)
    live.advance(100)
    live.deliver("/continuo/note/cancel", session_of(live), 0.0)
    assert live.notes[-1][1:3] == (60, 0)
    live.advance(3000)
    assert _balanced(live)


def test_two_cuts(live: Sim) -> None:
    live.set_transport(tempo=120.0, beat=0.0, playing=True)
    note_out(live, 60, beat=2.5, duration=0.25, delay_ms=1250.0)   # cut by the first cut
    live.deliver("/continuo/note/cancel", session_of(live), 2.0)
    note_out(live, 62, beat=2.75, duration=0.25, delay_ms=1375.0)  # before the second: plays
    note_out(live, 63, beat=3.5, duration=0.25, delay_ms=1750.0)   # after it: dropped
    live.deliver("/continuo/note/cancel", session_of(live), 3.0)
    note_out(live, 65, beat=3.25, duration=0.25, delay_ms=1625.0)  # newest: plays
    live.advance(3000)
    assert [p for _, p, v, _ in live.notes if v] == [62, 65]


def _balanced(sim: Sim) -> bool:
    """Every note-on has its note-off, on the same channel."""
    sounding: dict[tuple[int, int], int] = {}
    for _, pitch, vel, channel in sim.notes:
        key = (pitch, channel)
        sounding[key] = sounding.get(key, 0) + (1 if vel else -1)
    return all(n == 0 for n in sounding.values())


# -- safety --------------------------------------------------------------------------------

def _sounding_then(sim: Sim, action: Any) -> None:
    sim.set_transport(tempo=120.0, playing=True)
    note_out(sim, 60, beat=0.0, duration=8.0, delay_ms=0.0, channel=2)
    note_out(sim, 72, beat=2.0, duration=1.0, delay_ms=1000.0)     # still queued
    sim.midi_in(0x90, 50, 100)                                      # held by the performer
    sim.advance(10)
    action()
    sim.advance(3000)          # (still connected: within the watchdog's time)


def test_daemon_panic(live: Sim) -> None:
    _sounding_then(live, lambda: live.deliver("/continuo/session/panic", session_of(live)))
    assert [p for _, p, v, _ in live.notes if v] == [60] and _balanced(live)
    assert (0x90, 50, 0) in [m for _, m in live.midi_out]          # thru note released
    assert sorted(c for _, ctl, v, c in live.ccs if ctl == 123 and v == 0) == list(range(1, 17))
    assert sent(live, "/continuo/session/panic") == []             # not echoed back


def test_panic_button(live: Sim) -> None:
    _sounding_then(live, lambda: live.set_param("Panic", 1))
    assert _balanced(live) and len(live.ccs) == 16
    assert sent(live, "/continuo/session/panic") == [[session_of(live)]]


def test_transport_stop_releases_generated_notes(live: Sim) -> None:
    _sounding_then(live, lambda: live.set_transport(playing=False))
    assert [p for _, p, v, _ in live.notes if v] == [60] and _balanced(live)
    assert (0x90, 50, 0) not in [m for _, m in live.midi_out]      # the performer's: kept
    assert live.ccs == []


def test_device_off_and_delete(live: Sim) -> None:
    _sounding_then(live, lambda: live.set_enabled(False))
    assert _balanced(live) and len(live.ccs) == 16
    assert sent(live, "/continuo/session/panic") == [[session_of(live)]]
    live.free()
    assert sent(live, "/continuo/session/bye") == [[session_of(live)]]


def test_display(live: Sim) -> None:
    def shown(initial: str) -> str:
        return next(live.text_of(i) for i, o in live.objs.items()
                    if o.kind == "comment" and o.text == initial)
    live.deliver("/continuo/session/state", session_of(live), "listening")
    live.deliver("/continuo/tags/update", session_of(live), "jazz", 0.6, "pop", 0.25,
                 "folk", 0.1, "drums", 0.05)
    live.deliver("/continuo/error", "/continuo/param/set", "temperature out of range")
    assert shown("state: -") == "state: listening"
    assert shown("tags: -") == "tags: jazz 0.6 pop 0.25 folk 0.1"
    assert shown("") == "error: /continuo/param/set temperature out of range"


# The Style menu as shipped so far. Live saves a menu's index, so a new shipped model must
# keep these first, in this order (a fine-tune appends the styles it adds).
SHIPPED_STYLE_MENU = (
    "auto", "drums", "folk", "pop", "drums/afrobeat", "drums/afrocuban", "drums/blues",
    "drums/country", "drums/dance", "drums/funk", "drums/gospel", "drums/highlife",
    "drums/hiphop", "drums/jazz", "drums/latin", "drums/middleeastern", "drums/neworleans",
    "drums/pop", "drums/punk", "drums/reggae", "drums/rock", "drums/soul", "folk/ashover",
    "folk/christmas", "folk/hornpipe", "folk/jig", "folk/morris", "folk/playford",
    "folk/reel", "folk/slipjig", "folk/waltz")


def test_the_style_menu_only_grows_at_its_end() -> None:
    assert STYLE_CHOICES[:len(SHIPPED_STYLE_MENU)] == SHIPPED_STYLE_MENU
