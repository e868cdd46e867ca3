"""The UDP transport over real loopback sockets: the server answers, and keeps answering."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

import pytest

from bridge.osc.codec import Message, OscArgumentError, encode_raw
from bridge.osc.router import Reply, Router
from bridge.osc.transport import OscClient, OscPortError, OscServer, request_sync

HOST = "127.0.0.1"
WAIT = 2.0   # generous: loopback answers in microseconds, CI machines can be slow


def make_router() -> Router:
    router = Router()
    router.bind("/continuo/ping", lambda r: Reply("/continuo/ping/reply", ("0.1.0",)))
    router.bind("/continuo/note/in", lambda r: Reply(
        "/continuo/note/out", (r.session, r["pitch"], r["velocity"], r["beat"], 1, 1, 0)))
    return router


@contextlib.asynccontextmanager
async def serving(router: Router | None = None):
    server = OscServer(router or make_router())
    host, port = await server.start(HOST, 0)
    assert host == HOST and port > 0
    client = await OscClient.open(HOST, port)
    try:
        yield server, client
    finally:
        client.close()
        server.close()


def test_valid_malformed_and_unknown_packets_are_answered():
    async def go():
        async with serving() as (_, client):
            assert await client.request("/continuo/ping", timeout=WAIT, count=1) == [
                Message("/continuo/ping/reply", ("0.1.0",))]
            client.send_raw(b"\x00garbage")
            (error,) = await client.collect(WAIT, count=1)
            assert error.address == "/continuo/error" and error.args[0] == ""
            assert "malformed OSC packet" in error.args[1]
            client.send_raw(struct.pack(">8sQi", b"#bundle\x00", 1, -4))  # hangs python-osc
            (error,) = await client.collect(WAIT, count=1)
            assert error.args == ("", "malformed OSC packet: bad bundle element size -4 at "
                                      "byte 16 (0 bytes left)")
            client.send("/continuo/bogus", check=False)
            (error,) = await client.collect(WAIT, count=1)
            assert error.args == ("/continuo/bogus", "unknown address /continuo/bogus")
            client.send("/continuo/note/in", ["s1", 60, 100], check=False)
            (error,) = await client.collect(WAIT, count=1)
            assert "got 3 arguments, need 4" in error.args[1]
            # still serving, and ints were coerced where floats are declared
            assert await client.request("/continuo/note/in", ["s1", 60, 100, 4], WAIT, 1) == [
                Message("/continuo/note/out", ("s1", 60, 100, 4.0, 1.0, 1, 0.0))]
    asyncio.run(go())


def test_a_bundle_with_a_future_time_tag_is_answered_at_once():
    far_future = struct.pack(">II", 0xFFFFFFF0, 0)
    ping = encode_raw("/continuo/ping")
    packet = b"#bundle\x00" + far_future + (struct.pack(">i", len(ping)) + ping) * 2

    async def go():
        async with serving() as (_, client):
            client.send_raw(packet)
            replies = await client.collect(WAIT, count=2)
            assert [m.address for m in replies] == ["/continuo/ping/reply"] * 2
    asyncio.run(go())


def test_handler_crash_does_not_stop_the_server(caplog):
    router = make_router()
    router.bind("/continuo/generate/start", lambda r: 1 / 0)

    async def go():
        async with serving(router) as (_, client):
            (error,) = await client.request("/continuo/generate/start", ["s1"], WAIT, 1)
            assert error.args == ("/continuo/generate/start",
                                  "internal error: ZeroDivisionError: division by zero")
            assert (await client.request("/continuo/ping", (), WAIT, 1))[0].args == ("0.1.0",)
    asyncio.run(go())
    assert "Traceback" in caplog.text


def test_replies_and_sends_come_from_the_server_port():
    async def go():
        async with serving() as (server, client):
            raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            raw.bind((HOST, 0))
            raw.setblocking(False)
            loop = asyncio.get_running_loop()
            try:
                raw.sendto(encode_raw("/continuo/ping"), server.address)
                data, source = await asyncio.wait_for(loop.sock_recvfrom(raw, 1024), WAIT)
                assert source == server.address
                assert server.sender.send("/continuo/tags/update", ["s1", "jazz", 1],
                                          raw.getsockname())
                data, source = await asyncio.wait_for(loop.sock_recvfrom(raw, 1024), WAIT)
                assert source == server.address
                assert b",ssf" in data
            finally:
                raw.close()
            with pytest.raises(OscArgumentError, match="got 2 arguments"):
                server.sender.send("/continuo/tags/update", ["s1", "jazz"], client.address)
    asyncio.run(go())


def test_sending_after_close_is_dropped():
    async def go():
        server = OscServer(make_router())
        await server.start(HOST, 0)
        server.close()
        assert not server.sender.send("/continuo/ping/reply", ["v"], (HOST, 9))
    asyncio.run(go())


def test_a_port_in_use_is_a_clear_error():
    async def go():
        async with serving() as (server, _):
            port = server.address[1]
            with pytest.raises(OscPortError, match=f"^OSC port {port} on 127.0.0.1 is in use$"):
                await OscServer(make_router()).start(HOST, port)
            with pytest.raises(OSError) as info:
                await OscClient.open(HOST, 9000, reply_port=port)
            assert str(info.value) == f"reply port {port} on 127.0.0.1 is in use"
            assert info.value.errno is not None
    asyncio.run(go())


def test_unbindable_host_is_a_clear_error():
    async def go():
        with pytest.raises(OscPortError, match=r"^cannot open OSC port 0 on 192\.0\.2\.1: "):
            await OscServer(make_router()).start("192.0.2.1", 0)   # TEST-NET, not local
    asyncio.run(go())


def test_client_drops_malformed_replies(caplog):
    async def go():
        listener = await OscClient.open(HOST, 9)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            raw.sendto(b"junk", listener.address)
            raw.sendto(encode_raw("/continuo/ping/reply", ["v"]), listener.address)
            assert await listener.collect(WAIT, count=1) == [
                Message("/continuo/ping/reply", ("v",))]
        finally:
            raw.close()
            listener.close()
    caplog.set_level(logging.WARNING)
    asyncio.run(go())
    assert "malformed OSC from 127.0.0.1" in caplog.text


def test_collect_returns_what_arrived_by_the_timeout():
    async def go():
        async with serving() as (_, client):
            client.send("/continuo/ping")
            client.send("/continuo/ping")
            assert len(await client.collect(0.3)) == 2
            assert await client.receive(0.05) is None
    asyncio.run(go())


def test_request_sync_against_a_server_in_another_loop():
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = OscServer(make_router())
    try:
        _, port = asyncio.run_coroutine_threadsafe(server.start(HOST, 0), loop).result(WAIT)
        assert request_sync("/continuo/ping", port=port, timeout=WAIT, count=1) == [
            Message("/continuo/ping/reply", ("0.1.0",))]
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()
