"""A Python stand-in for the Max for Live device, for the daemon's tests and benchmark.

It speaks exactly what the patch speaks, over real UDP: the same addresses with the same
argument types (checked by :func:`bridge.osc.codec.encode` against the ``in`` routes), a
listen port of its own and a separate socket to send from (as ``udpreceive``/``udpsend``),
hello on start and every ``HEARTBEAT_MS``, "not connected" after ``WATCHDOG_MS`` without a
ready or reply, the transport on every change and every sixteenth note while playing, the
parameters again on each (re)connect, and session messages only while connected.

What the daemon sends is played the way the patch plays it: a note starts ``delay_ms``
after it arrives and stops ``duration`` beats later at the current tempo; a cancel opens a
new generation (older notes play only before the cut) and releases what sounds if the cut
is not in the future; a panic, the transport stopping and ``close`` release everything.
``notes`` records every note played with its on and off times, so a test can assert that
every note-on has its note-off (``sounding()`` is empty once the notes are over).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from bridge.config import Config
from bridge.live.params import param
from bridge.m4l.device import HEARTBEAT_MS, WATCHDOG_MS
from bridge.m4l.playback import NO_CUT
from bridge.osc.codec import Message, OscDecodeError, decode, encode
from bridge.osc.routes import IN, OUT, route

log = logging.getLogger(__name__)

HELLO = route("/continuo/session/hello", IN).address
BYE = route("/continuo/session/bye", IN).address
NOTE_IN = route("/continuo/note/in", IN).address
PEDAL_IN = route("/continuo/pedal/in", IN).address
TRANSPORT = route("/continuo/transport/set", IN).address
PARAM_SET = route("/continuo/param/set", IN).address
GENERATE = route("/continuo/generate/start", IN).address
PANIC_IN = route("/continuo/session/panic", IN).address
READY = route("/continuo/session/ready", OUT).address
NOTE_OUT = route("/continuo/note/out", OUT).address
CANCEL = route("/continuo/note/cancel", OUT).address
PANIC_OUT = route("/continuo/session/panic", OUT).address
STATE = route("/continuo/session/state", OUT).address
TAGS = route("/continuo/tags/update", OUT).address
ERROR = route("/continuo/error", OUT).address
REPLIES = {route(a, OUT).address for a in ("/continuo/ping/reply", "/continuo/status/reply",
                                           "/continuo/param/value")}
SIXTEENTH = 0.25   # beats
_instances = itertools.count(1)


@dataclass
class Played:
    """One generated note as the stand-in played it (times: the event loop's clock)."""

    pitch: int
    velocity: int
    channel: int
    beat: float
    on_at: float
    off_at: float | None = None


@dataclass
class _Queued:
    handle: asyncio.TimerHandle
    generation: int
    beat: float


@dataclass
class _Transport:
    tempo: float = 120.0
    beat: float = 0.0          # at `since` (loop time)
    since: float = 0.0
    playing: bool = False
    numerator: int = 4
    denominator: int = 4


@dataclass
class DeviceStandIn(asyncio.DatagramProtocol):
    host: str = Config.osc_host
    port: int = Config.osc_port
    instance: str = ""
    session: str | None = None
    connected: bool = False
    received: list[tuple[float, Message]] = field(default_factory=list)
    notes: list[Played] = field(default_factory=list)
    tags: list[tuple[str, float]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    state: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    on_message: Callable[[Message], None] | None = None

    def __post_init__(self) -> None:
        self.instance = self.instance or f"m4l-{next(_instances)}-{random.randrange(2**16)}"
        self.transport_state = _Transport()
        self._listen: asyncio.DatagramTransport | None = None
        self._send_socket: asyncio.DatagramTransport | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._queued: list[_Queued] = []
        self._offs: dict[int, asyncio.TimerHandle] = {}
        self._generation, self._latest_cut, self._older_cut = 0, NO_CUT, NO_CUT
        self._ready = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    async def open(cls, host: str = Config.osc_host, port: int = Config.osc_port,
                   reply_port: int = 0, **kwargs: Any) -> DeviceStandIn:
        """Bind the listen port (0: any free one), open the send socket, say hello."""
        device = cls(host=host, port=port, **kwargs)
        loop = asyncio.get_running_loop()
        device.transport_state.since = loop.time()
        await loop.create_datagram_endpoint(lambda: device, local_addr=(host, reply_port))
        sender, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                        remote_addr=(host, port))
        device._send_socket = cast(asyncio.DatagramTransport, sender)
        device._heartbeat()
        device._arm("watchdog", WATCHDOG_MS / 1000, device._lost)
        return device

    @property
    def reply_port(self) -> int:
        if self._listen is None:
            raise RuntimeError("not open")
        return int(self._listen.get_extra_info("sockname")[1])

    async def wait_ready(self, timeout: float = 2.0) -> str:
        """The session id once a ready has arrived (asyncio.TimeoutError if none does)."""
        await asyncio.wait_for(self._ready.wait(), timeout)
        assert self.session is not None
        return self.session

    def close(self, bye: bool = True) -> None:
        """Like deleting the device: everything off, bye, sockets closed."""
        self.all_off()
        if bye:
            self._send_session(BYE)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for t in (self._listen, self._send_socket):
            if t is not None:
                t.close()

    async def __aenter__(self) -> DeviceStandIn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # -- what the device sends ---------------------------------------------------------

    def hello(self) -> None:
        self._send(HELLO, [self.instance, self.reply_port])

    def note_on(self, pitch: int, velocity: int = 100) -> bool:
        return self._send_session(NOTE_IN, pitch, velocity, self.beat())

    def note_off(self, pitch: int) -> bool:
        return self._send_session(NOTE_IN, pitch, 0, self.beat())

    def pedal(self, value: int) -> bool:
        """The sustain pedal (CC 64) moved to ``value``, as the patch forwards it."""
        return self._send_session(PEDAL_IN, value, self.beat())

    def set_param(self, name: str, value: Any) -> bool:
        """Typed as the device types it (mode and style strings, temperature a float, ...);
        remembered and sent again on every (re)connect."""
        spec = param(name)
        self.params[spec.name] = spec.kind(value)
        return self._send_session(PARAM_SET, spec.name, self.params[spec.name])

    def generate(self) -> bool:
        return self._send_session(GENERATE)

    def panic(self) -> bool:
        """The Panic button: everything off here, and the daemon told."""
        self.all_off()
        return self._send_session(PANIC_IN)

    def transport(self, *, tempo: float | None = None, beat: float | None = None,
                  playing: bool | None = None, numerator: int | None = None,
                  denominator: int | None = None) -> None:
        """Change the transport (as Live would) and report it; while playing, it is also
        reported every sixteenth note."""
        t, now = self.transport_state, self._now()
        t.beat, t.since = self.beat(), now
        was_playing = t.playing
        if tempo is not None:
            t.tempo = float(tempo)
        if beat is not None:
            t.beat = float(beat)
        if playing is not None:
            t.playing = bool(playing)
        t.numerator = t.numerator if numerator is None else int(numerator)
        t.denominator = t.denominator if denominator is None else int(denominator)
        if was_playing and not t.playing:
            self._stop_generated()
        self.report_transport()
        if t.playing:
            self._arm("sixteenth", self._until_next_sixteenth(), self._sixteenth)
        else:
            self._disarm("sixteenth")

    def beat(self) -> float:
        t = self.transport_state
        if not t.playing:
            return t.beat
        return t.beat + (self._now() - t.since) * t.tempo / 60.0

    def report_transport(self) -> bool:
        t = self.transport_state
        return self._send_session(TRANSPORT, t.tempo, self.beat(), int(t.playing),
                                  t.numerator, t.denominator)

    # -- what it plays -------------------------------------------------------------------

    def sounding(self) -> list[Played]:
        """Notes on and not yet off: empty once the daemon's notes have all finished."""
        return [n for n in self.notes if n.off_at is None]

    def all_off(self) -> None:
        """Drop the queue and release every sounding note (the patch's all-notes-off)."""
        for queued in self._queued:
            queued.handle.cancel()
        self._queued.clear()
        self._release_all()

    # -- receiving -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._listen = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            messages = decode(data)
        except OscDecodeError as exc:
            log.warning("stand-in %s: malformed OSC from %s:%s: %s", self.instance,
                        addr[0], addr[1], exc)
            return
        for message in messages:
            self.received.append((self._now(), message))
            self._handle(message)
            if self.on_message is not None:
                self.on_message(message)

    def _handle(self, m: Message) -> None:
        a = m.args
        if m.address == READY:
            self._arm("watchdog", WATCHDOG_MS / 1000, self._lost)
            new = not self.connected or a[0] != self.session
            self.session, self.connected = str(a[0]), True
            self._ready.set()
            if new:
                self._on_connect()
        elif m.address in REPLIES:
            self._arm("watchdog", WATCHDOG_MS / 1000, self._lost)
        elif m.address == NOTE_OUT:
            self._queue(int(a[1]), int(a[2]), float(a[3]), float(a[4]), int(a[5]), float(a[6]))
        elif m.address == CANCEL:
            self._cancel(float(a[1]))
        elif m.address == PANIC_OUT:
            self.all_off()
        elif m.address == TAGS:
            self.tags = [(str(a[i]), float(a[i + 1])) for i in range(1, len(a) - 1, 2)]
        elif m.address == STATE:
            self.state = str(a[1])
        elif m.address == ERROR:
            self.errors.append((str(a[0]), str(a[1])))

    def _on_connect(self) -> None:
        for name, value in self.params.items():
            self._send_session(PARAM_SET, name, value)
        self.report_transport()

    def _lost(self) -> None:
        self.connected = False
        self._ready.clear()
        self._arm("watchdog", WATCHDOG_MS / 1000, self._lost)

    # -- the scheduler (pipe -> generation check -> makenote) --------------------------

    def _queue(self, pitch: int, velocity: int, beat: float, duration: float, channel: int,
               delay_ms: float) -> None:
        loop = asyncio.get_running_loop()
        length = duration * 60.0 / self.transport_state.tempo
        channel = min(16, max(1, channel))
        generation = self._generation
        queued: _Queued
        handle = loop.call_later(max(0.0, delay_ms) / 1000.0, lambda: self._due(
            queued, pitch, velocity, beat, length, channel))
        queued = _Queued(handle, generation, beat)
        self._queued.append(queued)

    def _due(self, queued: _Queued, pitch: int, velocity: int, beat: float, length: float,
             channel: int) -> None:
        self._queued.remove(queued)
        if not self._playable(queued.generation, beat):
            return
        note = Played(pitch, velocity, channel, beat, self._now())
        self.notes.append(note)
        self._offs[id(note)] = asyncio.get_running_loop().call_later(
            length, self._release, note)

    def _playable(self, generation: int, beat: float) -> bool:
        current = self._generation
        return (generation >= current or (generation == current - 1 and beat < self._latest_cut)
                or (generation < current - 1 and beat < self._older_cut))

    def _cancel(self, beat: float) -> None:
        if beat <= self.beat() + 0.001:
            self._release_all()
        self._older_cut = min(beat, self._latest_cut, self._older_cut)
        self._latest_cut = beat
        self._generation += 1

    def _release(self, note: Played) -> None:
        self._offs.pop(id(note), None)
        if note.off_at is None:
            note.off_at = self._now()

    def _release_all(self) -> None:
        for note in self.sounding():
            handle = self._offs.pop(id(note), None)
            if handle is not None:
                handle.cancel()
            note.off_at = self._now()

    def _stop_generated(self) -> None:
        self.all_off()

    # -- timers and sockets ------------------------------------------------------------------

    def _heartbeat(self) -> None:
        self.hello()
        self.report_transport()
        self._arm("heartbeat", HEARTBEAT_MS / 1000, self._heartbeat)

    def _sixteenth(self) -> None:
        self.report_transport()
        self._arm("sixteenth", self._until_next_sixteenth(), self._sixteenth)

    def _until_next_sixteenth(self) -> float:
        """Seconds to the next sixteenth-note boundary (metro 16n @quantize 16n)."""
        beats = SIXTEENTH - self.beat() % SIXTEENTH
        if beats < SIXTEENTH / 16:          # on the boundary now: the next one
            beats += SIXTEENTH
        return beats * 60.0 / self.transport_state.tempo

    def _arm(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._disarm(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _disarm(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _send_session(self, address: str, *args: Any) -> bool:
        """Session messages pass only while connected, as through the patch's gate."""
        if not self.connected or self.session is None:
            return False
        self._send(address, [self.session, *args])
        return True

    def _send(self, address: str, args: list[Any]) -> None:
        if self._send_socket is None or self._send_socket.is_closing():
            return
        self._send_socket.sendto(encode(address, args, IN))
