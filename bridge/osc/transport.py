"""OSC over asyncio UDP: the daemon's server and sender, and a small client.

:class:`OscServer` is a ``DatagramProtocol`` that only hands datagrams to the
:class:`~bridge.osc.router.Router` and sends back what it returns; its :class:`OscSender`
sends the daemon's own messages (notes, tags) from the same socket, so everything the
daemon sends comes from its listen port. :class:`OscClient` is for ``continuo send``, tests
and device stand-ins: it listens on its reply port and sends from it, so a daemon replying
to either the sender's port or the reply port reaches it.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from bridge.osc.codec import Message, OscDecodeError, decode, encode, encode_raw
from bridge.osc.router import Reply, Router, Sender
from bridge.osc.routes import IN, OUT

log = logging.getLogger(__name__)


class OscPortError(OSError):
    """A UDP port that cannot be bound, e.g. "OSC port 9000 on 127.0.0.1 is in use"."""


async def _bind(protocol: asyncio.DatagramProtocol, host: str, port: int,
                what: str) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: protocol,
                                                           local_addr=(host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = f"{what} {port} on {host} is in use"
        else:
            message = f"cannot open {what} {port} on {host}: {exc.strerror or exc}"
        error = OscPortError(message)
        error.errno = exc.errno
        raise error from exc
    return transport


def _bound(transport: asyncio.DatagramTransport | None) -> Sender:
    if transport is None:
        raise RuntimeError("not started")
    host, port = transport.get_extra_info("sockname")[:2]
    return (host, port)


class OscSender:
    """Sends checked ``out`` messages from the server's socket."""

    def __init__(self) -> None:
        self._transport: asyncio.DatagramTransport | None = None

    def send(self, address: str, args: Sequence[Any], destination: Sender) -> bool:
        """Encode (raises OscArgumentError on a bad message) and send; False once closed."""
        return self._send(encode(address, args, OUT), destination)

    def send_reply(self, reply: Reply) -> bool:
        if reply.destination is None:
            raise ValueError(f"reply {reply.address} has no destination")
        return self.send(reply.address, reply.args, reply.destination)

    def _send(self, datagram: bytes, destination: Sender) -> bool:
        if self._transport is None or self._transport.is_closing():
            log.debug("OSC socket closed; dropped a message to %s:%s", *destination)
            return False
        self._transport.sendto(datagram, destination)
        return True


class OscServer(asyncio.DatagramProtocol):
    """The daemon's OSC socket: decode and dispatch through the router, send the replies."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.sender = OscSender()
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self, host: str, port: int) -> Sender:
        """Bind (port 0: any free one) and return the bound (host, port); OscPortError if not."""
        await _bind(self, host, port, "OSC port")
        log.info("OSC listening on %s:%d", *self.address)
        return self.address

    @property
    def address(self) -> Sender:
        return _bound(self._transport)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = self.sender._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        for reply in self.router.dispatch(data, (addr[0], addr[1])):
            try:
                self.sender.send_reply(reply)
            except Exception:
                log.error("could not send %s to %s", reply.address, reply.destination,
                          exc_info=True)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" from an earlier send: a client that has gone away.
        log.debug("OSC socket: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.warning("OSC socket lost: %s", exc)


class OscClient(asyncio.DatagramProtocol):
    """Sends to one daemon from its reply port and queues the messages that come back."""

    def __init__(self) -> None:
        self.target: Sender = ("127.0.0.1", 0)
        self._transport: asyncio.DatagramTransport | None = None
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()

    @classmethod
    async def open(cls, host: str = "127.0.0.1", port: int = 9000,
                   reply_port: int = 0) -> OscClient:
        """A client for the daemon at host:port, listening on reply_port (0 = any free)."""
        client = cls()
        client.target = await _resolve(host, port)
        local = _local_host(client.target[0])
        await _bind(client, local, reply_port, "reply port")
        return client

    @property
    def address(self) -> Sender:
        """The (host, port) this client listens and sends on."""
        return _bound(self._transport)

    def send(self, address: str, args: Sequence[Any] = (), *, check: bool = True) -> None:
        """Send to the daemon; ``check=False`` sends unchecked (to test the daemon's errors)."""
        self.send_raw(encode(address, args, IN) if check else encode_raw(address, args))

    def send_raw(self, datagram: bytes) -> None:
        if self._transport is None:
            raise RuntimeError("client is not open")
        self._transport.sendto(datagram, self.target)

    async def receive(self, timeout: float) -> Message | None:
        """The next message, or None if none arrives within ``timeout`` seconds."""
        if not self._inbox.empty():
            return self._inbox.get_nowait()
        try:
            return await asyncio.wait_for(self._inbox.get(), max(timeout, 0.0))
        except asyncio.TimeoutError:
            return None

    async def replies(self, timeout: float) -> AsyncIterator[Message]:
        """Each message that arrives within ``timeout`` seconds from now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (message := await self.receive(deadline - loop.time())) is not None:
            yield message

    async def collect(self, timeout: float, count: int | None = None) -> list[Message]:
        """Messages arriving within ``timeout`` s, returning early once ``count`` arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        got: list[Message] = []
        while count is None or len(got) < count:
            message = await self.receive(deadline - loop.time())
            if message is None:
                break
            got.append(message)
        return got

    async def request(self, address: str, args: Sequence[Any] = (), timeout: float = 1.0,
                      count: int | None = None) -> list[Message]:
        self.send(address, args)
        return await self.collect(timeout, count)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def __aenter__(self) -> OscClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            for message in decode(data):
                self._inbox.put_nowait(message)
        except OscDecodeError as exc:
            log.warning("malformed OSC from %s:%s: %s", addr[0], addr[1], exc)

    def error_received(self, exc: Exception) -> None:
        log.debug("OSC client socket: %s", exc)


def request_sync(address: str, args: Sequence[Any] = (), *, host: str = "127.0.0.1",
                 port: int = 9000, reply_port: int = 0, timeout: float = 1.0,
                 count: int | None = None) -> list[Message]:
    """Blocking form of :meth:`OscClient.request` (not from inside a running event loop)."""
    async def go() -> list[Message]:
        async with await OscClient.open(host, port, reply_port) as client:
            return await client.request(address, args, timeout, count)
    return asyncio.run(go())


async def _resolve(host: str, port: int) -> Sender:
    """host as an IP address (IPv4 preferred, as the daemon binds 127.0.0.1 by default)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise OscPortError(f"cannot resolve OSC host {host!r}: {exc.strerror}") from exc
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return (str(infos[0][4][0]), port)


def _local_host(target_ip: str) -> str:
    """Where a client listens: loopback for a local daemon, every interface otherwise."""
    ip = ipaddress.ip_address(target_ip)
    if ip.is_loopback:
        return "::1" if ip.version == 6 else "127.0.0.1"
    return "::" if ip.version == 6 else "0.0.0.0"
