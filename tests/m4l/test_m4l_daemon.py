"""The device stand-in against the real daemon (`continuo run --no-midi` on a tiny model).

Every message the device sends must be accepted (no /continuo/error), the daemon's answer
must arrive as notes the stand-in plays, and every one of them must be released.
The stand-in listens on a port of its own, named in its hello, as each device instance does.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from bridge.m4l.standin import DeviceStandIn
from tests.waiting import until

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_call_and_response_through_the_device_protocol(daemon) -> None:
    proc, port = daemon("--no-midi", "--set", "seed=1", "--reply-port", str(free_port()))

    async def go() -> DeviceStandIn:
        device = await DeviceStandIn.open("127.0.0.1", port)   # its own port, named in hello
        await device.wait_ready(5.0)
        device.set_param("mode", "call")
        device.set_param("style", "")
        device.set_param("temperature", 1.0)
        device.set_param("length_bars", 1)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        for pitch in (60, 62, 64, 67):                    # eighth notes, then silence
            device.note_on(pitch, 90)
            await asyncio.sleep(0.2)
            device.note_off(pitch)
            await asyncio.sleep(0.05)
        await until(lambda: bool(device.notes), 10.0), proc.log()
        await until(lambda: not device.sounding() and device.state != "responding",
                           15.0), proc.log()
        device.close()
        await asyncio.sleep(0.1)
        return device

    device = asyncio.run(go())
    assert device.errors == [], device.errors
    assert device.notes and all(n.off_at is not None for n in device.notes)
    assert proc.stop() == 0


def test_ready_goes_to_the_port_the_hello_names(daemon) -> None:
    proc, port = daemon("--no-midi", "--reply-port", str(free_port()))

    async def go() -> None:
        device = await DeviceStandIn.open("127.0.0.1", port)   # any other free port
        try:
            await device.wait_ready(3.0)
        finally:
            device.close()

    try:
        asyncio.run(go())
    finally:
        proc.stop()
