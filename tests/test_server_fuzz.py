"""Fuzzing every route of a running daemon with edge values (seeded, bounded): afterwards it
answers a ping at once, its worker is healthy, and a normal session still gets its
continuation."""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from bridge.live.params import PARAMS
from bridge.m4l.standin import DeviceStandIn
from bridge.osc.codec import encode_raw
from bridge.osc.routes import IN, routes
from bridge.osc.transport import OscClient

pytestmark = pytest.mark.slow

SESSION = "fuzz"
INTS = [0, 1, -1, 127, 128, 2**31 - 1, -2**31, 65535, 65536]
FLOATS = [0.0, -0.0, 1e-30, -1.0, 1e6, 1e8, -1e8, 3e38, -3e38, math.inf, -math.inf,
          math.nan, 0.24999, 400.0001, 19.999]
STRINGS = ["", SESSION, "x" * 3000, "\u00f1\u00e9", "nobody", "a/b", " ", "1.5"]
MESSAGES = 1500


def _value(rng: random.Random, wanted: str):
    """An edge value, of the declared type four times in five."""
    kind = wanted if rng.random() < 0.8 else rng.choice("ifs")
    if kind == "any":
        kind = rng.choice("ifs")
    return {"i": lambda: rng.choice(INTS), "f": lambda: rng.choice(FLOATS),
            "s": lambda: rng.choice(STRINGS)}[kind]()


def _messages(rng: random.Random):
    """Edge-valued messages for every route, parameter sets and crossing ranges among them."""
    ins = routes(IN)
    for _ in range(MESSAGES):
        rt = rng.choice(ins)
        args = [SESSION if a.name == "session" and rng.random() < 0.8 else _value(rng, a.type)
                for a in rt.args if not a.optional or rng.random() < 0.5]
        if rt.repeat and rng.random() < 0.5:
            args += [_value(rng, a.type) for a in rt.repeat] * rng.randrange(1, 4)
        if rng.random() < 0.1:                       # a wrong count
            args = args[:-1] if args and rng.random() < 0.5 else [*args, 7]
        yield rt.address, args
        if rng.random() < 0.15:                      # parameters by name, edge values
            p = rng.choice(PARAMS)
            yield "/continuo/param/set", [SESSION, p.name, _value(rng, "any")]
        if rng.random() < 0.03:                      # ranges crossing, either order
            low, high = rng.sample(range(128), 2)
            yield "/continuo/param/set", [SESSION, "pitch_low", max(low, high)]
            yield "/continuo/param/set", [SESSION, "pitch_high", min(low, high)]


def test_fuzzing_every_route_leaves_the_daemon_serving(daemon):
    proc, port = daemon("--no-midi", "--set", "seed=2", "--set", "length_bars=1")

    async def go():
        async with await OscClient.open("127.0.0.1", port, reply_port=0) as fuzzer:
            fuzzer.send("/continuo/session/hello", [SESSION, fuzzer.address[1]])
            await fuzzer.collect(0.3)
            rng = random.Random(15)
            for i, (address, args) in enumerate(_messages(rng)):
                fuzzer.send_raw(encode_raw(address, args))
                if i % 50 == 0:
                    await asyncio.sleep(0.005)        # let the daemon breathe, as a client
            await fuzzer.collect(1.0)
            loop = asyncio.get_running_loop()
            asked = loop.time()
            pong = await _reply(fuzzer, "/continuo/ping", "/continuo/ping/reply")
            waited = loop.time() - asked
            status = await _reply(fuzzer, "/continuo/status/get", "/continuo/status/reply")
            fuzzer.send("/continuo/session/bye", [SESSION])
        device = await DeviceStandIn.open("127.0.0.1", port)
        await device.wait_ready(5)
        device.transport(tempo=120.0, beat=0.0, playing=True)
        for p in (60, 62, 64, 65):
            device.note_on(p, 90)
            await asyncio.sleep(0.2)
            device.note_off(p)
            await asyncio.sleep(0.05)
        for _ in range(250):
            if device.notes:
                break
            await asyncio.sleep(0.02)
        device.panic()
        await asyncio.sleep(0.3)
        device.close()
        return pong, waited, status, device

    pong, waited, status, device = asyncio.run(go())
    assert pong is not None and waited < 2.0, proc.log()[-3000:]
    pairs = dict(zip(status.args[::2], status.args[1::2], strict=True))
    assert pairs["worker"] == "ok", proc.log()[-3000:]
    assert sum(v for k, v in pairs.items() if k.startswith("bad_")) > 0
    assert device.notes and not device.errors, proc.log()[-3000:]
    assert not device.sounding()                         # every note it got has ended
    assert proc.stop() == 0


async def _reply(client: OscClient, address: str, answer: str):
    """The first ``answer`` to ``address`` within two seconds (other replies skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    client.send(address, [])
    while (left := deadline - loop.time()) > 0:
        message = await client.receive(left)
        if message is None or message.address == answer:
            return message
    return None
