"""The JACK server going away under a running daemon, and coming back."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bridge.bench.daemon import Daemon
from bridge.midi import jack
from bridge.midi.ports import list_ports
from bridge.osc.transport import OscClient
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow]


def _free_name(prefix: str) -> str:
    return next(f"{prefix}-{n}" for n in range(jack.NAMES) if not jack.running(f"{prefix}-{n}"))


def _midi_status(port: int) -> dict:
    async def ask():
        async with await OscClient.open("127.0.0.1", port, reply_port=0) as client:
            client.send("/continuo/status/get", ["midi"])
            for message in await client.collect(1.0):
                if message.address == "/continuo/status/reply":
                    return dict(zip(message.args[::2], message.args[1::2], strict=True))
        return {}
    return asyncio.run(ask())


def _our_ports(name: str) -> list[str]:
    with jack.using(name):
        found = list_ports(["jack"])["jack"]
    return [p for p in found.get("inputs", []) + found.get("outputs", []) if "Continuo" in p]


def test_a_lost_jack_server_is_told_and_the_ports_come_back(tiny_model_dir):
    if not jack.available():
        pytest.skip("jackd is not installed (apt-get install jackd2)")
    name = _free_name("continuo-fault")
    server = jack.start_server(name)
    proc = Daemon(str(tiny_model_dir), ["--midi-api", "jack", "--set", "seed=1"],
                  env=jack.client_env(name), device="cpu")
    try:
        proc.wait_ready(60)
        assert _midi_status(proc.port)["midi_ports"] == "ok"
        assert len(_our_ports(name)) == 2
        os.kill(server.pid, signal.SIGKILL)                 # the server dies at once
        server.wait()
        wait_until(lambda: "went away" in proc.log(), 15, what=proc.log)
        status = _midi_status(proc.port)
        assert status["midi_ports"] == "lost" and status["state"] == "idle"
        assert proc.log().count("went away") == 1           # told once
        server = jack.start_server(name)                    # and it comes back
        wait_until(lambda: "ports made again" in proc.log(), 40, what=proc.log)
        assert _midi_status(proc.port)["midi_ports"] == "ok"
        assert len(_our_ports(name)) == 2
        os.kill(server.pid, signal.SIGKILL)                 # away again, then SIGTERM
        server.wait()
        wait_until(lambda: proc.log().count("went away") == 2, 15, what=proc.log)
        assert proc.stop() == 0
        assert "stopped in" in proc.log()
    finally:
        proc.stop()
        jack.stop_server(server)
        jack.remove_shm(name)
