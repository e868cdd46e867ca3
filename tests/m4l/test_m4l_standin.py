"""The device stand-in against a tiny fake daemon over loopback UDP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
from pythonosc.parsing import osc_types

import bridge.m4l.standin as standin_module
from bridge.m4l.device import build
from bridge.m4l.standin import DeviceStandIn
from bridge.osc.codec import Message, decode, encode
from bridge.osc.routes import OUT
from tests.waiting import until

HOST = "127.0.0.1"


def type_tags(datagram: bytes) -> tuple[str, ...]:
    _, index = osc_types.get_string(datagram, 0)
    tags, _ = osc_types.get_string(datagram, index)
    return tuple(tags[1:])


class FakeDaemon(asyncio.DatagramProtocol):
    """Answers hello with ready (to the port the hello names) and records everything."""

    def __init__(self) -> None:
        self.answering = True
        self.got: list[tuple[Message, tuple[str, ...], tuple[str, int]]] = []
        self.replies: dict[str, tuple[str, int]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        for message in decode(data):
            self.got.append((message, type_tags(data), (addr[0], addr[1])))
            if message.address == "/continuo/session/hello" and self.answering:
                instance, port = message.args
                self.replies[instance] = (addr[0], port)
                self.send(instance, "/continuo/session/ready", instance, "0.1.0", "fake")

    def send(self, sid: str, address: str, *args: Any) -> None:
        assert self.transport is not None
        self.transport.sendto(encode(address, args, OUT), self.replies[sid])

    def of(self, address: str) -> list[Message]:
        return [m for m, _, _ in self.got if m.address == address]


Scenario = Callable[[FakeDaemon, DeviceStandIn], Awaitable[None]]


def run(scenario: Scenario) -> None:
    async def go() -> None:
        loop = asyncio.get_running_loop()
        daemon = FakeDaemon()
        transport, _ = await loop.create_datagram_endpoint(lambda: daemon,
                                                           local_addr=(HOST, 0))
        port = transport.get_extra_info("sockname")[1]
        device = await DeviceStandIn.open(HOST, port)
        try:
            await device.wait_ready(2.0)
            await scenario(daemon, device)
        finally:
            device.close()
            transport.close()
    asyncio.run(go())


def test_handshake_and_its_own_ports() -> None:
    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        hello, tags, sender = next(g for g in daemon.got
                                   if g[0].address == "/continuo/session/hello")
        assert hello.args == (device.instance, device.reply_port) and tags == ("s", "i")
        assert sender[1] != device.reply_port          # sends from another socket, as Max
        assert device.connected and device.session == device.instance
    run(scenario)


def _spoken(scenario_daemon: FakeDaemon) -> set[tuple[str, tuple[str, ...]]]:
    return {(m.address, tags) for m, tags, _ in scenario_daemon.got}


def test_every_message_matches_the_patch() -> None:
    device_speaks = {(s.address, s.types) for s in build().sent}
    seen: set[tuple[str, tuple[str, ...]]] = set()

    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        device.set_param("mode", "accompany")
        device.set_param("style", "")
        device.set_param("temperature", 0.8)
        device.set_param("length_bars", 2)
        device.transport(tempo=100.0, beat=4.0, playing=True)
        device.note_on(60, 90)
        device.pedal(127)
        device.note_off(60)
        device.pedal(0)
        device.generate()
        device.panic()
        device.close()
        await until(lambda: bool(daemon.of("/continuo/session/bye")))
        seen.update(_spoken(daemon))
    run(scenario)
    assert seen == device_speaks


def test_parameters_are_sent_again_on_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standin_module, "HEARTBEAT_MS", 40)
    monkeypatch.setattr(standin_module, "WATCHDOG_MS", 150)

    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        device.set_param("temperature", 1.25)
        daemon.answering = False
        await until(lambda: not device.connected)
        assert not device.note_on(60)                 # gated while not connected
        before = len(daemon.of("/continuo/param/set"))
        daemon.answering = True
        await until(lambda: device.connected)
        await until(lambda: len(daemon.of("/continuo/param/set")) > before)
        assert daemon.of("/continuo/param/set")[-1].args == (device.session, "temperature",
                                                              1.25)
        hellos = daemon.of("/continuo/session/hello")
        assert len(hellos) >= 4 and len(set(hellos)) == 1
    run(scenario)


def test_transport_every_sixteenth_while_playing() -> None:
    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        device.transport(tempo=600.0, beat=0.0, playing=True)   # a sixteenth: 25 ms
        await until(lambda: len(daemon.of("/continuo/transport/set")) >= 10)
        beats = [m.args[2] for m in daemon.of("/continuo/transport/set")]
        assert beats == sorted(beats) and beats[-1] > 1.0
        device.transport(playing=False)
        await until(lambda: daemon.of("/continuo/transport/set")[-1].args[3] == 0)
    run(scenario)


def test_plays_the_daemons_notes_and_releases_every_one() -> None:
    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        sid = device.session
        assert sid is not None
        device.transport(tempo=600.0, beat=0.0, playing=False)
        daemon.send(sid, "/continuo/note/out", sid, 60, 100, 0.5, 0.2, 1, 30.0)
        daemon.send(sid, "/continuo/note/out", sid, 36, 110, 0.5, 0.1, 10, 30.0)
        await until(lambda: len(device.notes) == 2 and not device.sounding())
        assert sorted((n.pitch, n.velocity, n.channel) for n in device.notes) == \
            [(36, 110, 10), (60, 100, 1)]
        assert all(n.off_at is not None and n.off_at >= n.on_at for n in device.notes)
    run(scenario)


def test_cancel_and_panic() -> None:
    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        sid = device.session
        assert sid is not None
        device.transport(tempo=120.0, beat=0.0, playing=False)  # the beat stays 0
        daemon.send(sid, "/continuo/note/out", sid, 60, 100, 0.5, 0.1, 1, 40.0)
        daemon.send(sid, "/continuo/note/out", sid, 62, 100, 1.5, 0.1, 1, 80.0)
        daemon.send(sid, "/continuo/note/cancel", sid, 1.0)
        daemon.send(sid, "/continuo/note/out", sid, 64, 100, 1.25, 0.1, 1, 60.0)
        await until(lambda: len(daemon.got) > 0 and len(device.received) >= 5)
        await asyncio.sleep(0.2)
        assert [n.pitch for n in device.notes] == [60, 64] and not device.sounding()
        daemon.send(sid, "/continuo/note/out", sid, 67, 100, 2.0, 8.0, 1, 0.0)
        daemon.send(sid, "/continuo/note/out", sid, 69, 100, 3.0, 1.0, 1, 5000.0)
        await until(lambda: len(device.sounding()) == 1)
        daemon.send(sid, "/continuo/session/panic", sid)
        await until(lambda: not device.sounding())
        await asyncio.sleep(0.05)
        assert [n.pitch for n in device.notes] == [60, 64, 67]     # 69 was dropped
    run(scenario)


def test_tags_state_and_errors_are_kept() -> None:
    async def scenario(daemon: FakeDaemon, device: DeviceStandIn) -> None:
        sid = device.session
        assert sid is not None
        daemon.send(sid, "/continuo/tags/update", sid, "jazz", 0.5, "pop", 0.25)
        daemon.send(sid, "/continuo/session/state", sid, "listening")
        daemon.send(sid, "/continuo/error", "/continuo/param/set", "bad value")
        await until(lambda: bool(device.errors))
        assert device.tags == [("jazz", 0.5), ("pop", 0.25)]
        assert device.state == "listening"
        assert device.errors == [("/continuo/param/set", "bad value")]
    run(scenario)
