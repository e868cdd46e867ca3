"""Every session the daemon serves: opening, finding, expiring and closing them.

OSC sessions open with ``/continuo/session/hello``; their replies go to the host that said
hello, on the port it named (or ``--reply-port``). Replies that name no open session go
back to where the message came from, and errors also to the port a hello named or, for a
session closed lately, to the port it had. A session that has not been heard from for
``session_timeout`` seconds is closed like a ``bye`` (its notes released): one timer per
session, pushed back lazily, no polling. The MIDI port session lives as long as the daemon.

Admission is fair: when all ``max_sessions`` are taken, a new hello closes the oldest
session that has sent nothing but hellos and pings (a flood of hellos cannot lock out a
device that plays), else the one silent longest if it has been silent ``EVICT_SILENT_S``;
only then is it refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bridge import __version__
from bridge.config import Config
from bridge.live.band import Band, BandOutput, band_key
from bridge.live.engine import Engine
from bridge.live.events import Event, Failed
from bridge.live.outputs import PANIC_OUT, OscNotes, Output
from bridge.live.params import settings
from bridge.live.session import Session
from bridge.osc.events import message_of
from bridge.osc.router import OscRequestError
from bridge.osc.routes import IN, route
from bridge.timing.clock import BeatClock

log = logging.getLogger(__name__)

Address = tuple[str, int]
PORT_SESSION = "midi"     # the MIDI port's own session: no client may take the name
MAX_ID = 64
EVICT_SILENT_S = 10.0     # a full daemon closes a session silent this long for a new one
GONE = 256                # closed sessions whose reply address is remembered
HELLO = route("/continuo/session/hello", IN).address


class Hub:
    def __init__(self, config: Config, engine: Engine, styles: tuple[str, ...],
                 model_name: str, loop: asyncio.AbstractEventLoop,
                 send: Callable[[str, list[Any], Address], Any]) -> None:
        self.config, self.engine, self.styles = config, engine, styles
        self.model_name, self.loop, self.send = model_name, loop, send
        self.sessions: dict[str, Session] = {}
        self.bands: dict[str, Band] = {}
        self.addresses: dict[str, Address] = {}
        self._seen: dict[str, float] = {}
        self._used: set[str] = set()          # sessions that sent more than hello and ping
        self._gone: dict[str, Address] = {}   # recently closed sessions' reply addresses
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self.defaults = session_defaults(config, styles)
        self.started = time.monotonic()

    # -- addressing ------------------------------------------------------------------------

    def reply_address(self, sender: Address, session: str | None) -> Address:
        """Where replies about ``session`` go (the router's reply policy): its reply
        address while it is open, else back to the sender."""
        if session is not None and session in self.addresses:
            return self.addresses[session]
        return sender

    def sender(self, sid: str) -> Callable[[str, list[Any]], None]:
        """``send(address, args)`` to a session's client, while it has one."""
        def send(address: str, args: list[Any]) -> None:
            destination = self.addresses.get(sid)
            if destination is None:
                return
            try:
                self.send(address, args, destination)
            except Exception:   # a message we built wrong must not break the session
                log.exception("session %s: could not send %s %r", sid, address, args)
        return send

    def notifier(self, sid: str) -> Callable[[Event], None]:
        """The OSC adapter of a session's events: each as its message, to its client."""
        send = self.sender(sid)
        return lambda event: send(*message_of(event))

    # -- sessions ----------------------------------------------------------------------------

    def hello(self, instance: str, reply_port: int, host: str) -> Session:
        if not 0 <= reply_port < 65536:
            raise OscRequestError(f"reply_port {reply_port} is not a UDP port (0 = default)")
        named = (host, reply_port or self.config.reply_port)
        if not instance or len(instance) > MAX_ID or not instance.isprintable():
            raise OscRequestError(f"instance id must be 1-{MAX_ID} printable characters",
                                  also=named)
        session = self.sessions.get(instance)
        if instance == PORT_SESSION or self.is_port(instance):
            raise OscRequestError(f"{instance!r} is the daemon's MIDI port session, not a "
                                  "client's: choose another instance id", also=named)
        if session is None and len(self.sessions) >= self.config.max_sessions \
                and not self._make_room():
            raise OscRequestError(
                f"too many sessions ({self.config.max_sessions}), all of them in use: close "
                "one with /continuo/session/bye", also=named)
        moved = self.addresses.get(instance)
        if moved is not None and moved != named:     # another port (a device reopened, or two
            log.warning("session %s: replies move from %s:%d to %s:%d", instance, *moved,
                        *named)                      # of one id): the old one lets go
            self.send(PANIC_OUT, [instance], moved)
        self.addresses[instance] = named
        if session is None:
            clock = BeatClock(self.loop.time(), self.config.tempo)
            output = OscNotes(instance, clock, self.sender(instance), self.loop)
            session = self.add(instance, clock, output, notify=self.notifier(instance))
            log.info("session %s opened (replies to %s:%d)", instance,
                     *self.addresses[instance])
        self.touch(instance)
        return session

    def is_port(self, sid: str) -> bool:
        """Is ``sid`` a session of the daemon's own (the MIDI port's), which no client opens,
        closes or lets expire?"""
        return sid in self.sessions and sid not in self.addresses

    def add(self, sid: str, clock: BeatClock, output: Output,
            notify: Callable[[str, list[Any]], Any] | None = None) -> Session:
        session = Session(sid, engine=self.engine, clock=clock, output=output,
                          styles=self.styles, loop=self.loop, notify=notify,
                          params={**self.defaults, "band": ""}, prepare=self.config.prepare,
                          on_band=self.join_band)
        self.sessions[sid] = session
        if self.defaults.get("band"):
            session.set_param("band", self.defaults["band"])
        return session

    # -- bands -------------------------------------------------------------------------------

    def join_band(self, session: Session, name: str) -> None:
        """``session`` joins band ``name`` (its first member makes it: the band's stream on
        that member's clock), leaving the one it was in; '' leaves (and an empty band
        ends)."""
        self._leave_band(session)
        key = band_key(name)
        if not key:
            session.restyle()            # it may have taken the band's style meanwhile
            session.resume()
            return
        band = self.bands.get(key)
        if band is None:
            band = self.bands[key] = Band(name)
            band.stream = Session(f"band:{name}", engine=self.engine, clock=session.clock,
                                  output=BandOutput(band), styles=self.styles,
                                  loop=self.loop, notify=band.notify,
                                  params={**self.defaults, "band": "", "mode": "off"},
                                  prepare=self.config.prepare)
            log.info("band %s formed", name)
        band.join(session)

    def _leave_band(self, session: Session) -> None:
        """``session`` leaves its band, if any; a band without members ends."""
        band = session.band
        if band is not None:
            band.leave(session)
            if not band.members:
                band.close()
                del self.bands[band_key(band.name)]

    def get(self, sid: str) -> Session:
        """An open session, marked as in use (it sent more than hello or ping)."""
        session = self.sessions.get(sid)
        if session is None:
            raise OscRequestError(f"unknown session {sid!r}: send /continuo/session/hello "
                                  "first", also=self._gone.get(sid))
        self.touch(sid)
        self._used.add(sid)
        return session

    def _make_room(self) -> bool:
        """Close one session for a new one (see the module docstring); False if none may."""
        osc = [sid for sid in self.sessions if sid in self.addresses]   # not the MIDI one
        unused = [sid for sid in osc if sid not in self._used]
        now = self.loop.time()
        silent = [sid for sid in osc if now - self._seen.get(sid, now) >= EVICT_SILENT_S]
        victims = unused or silent
        if not victims:
            return False
        sid = min(victims, key=lambda s: self._seen.get(s, 0.0))
        log.warning("session %s closed to make room for a new one (%d open, the most)",
                    sid, len(self.sessions))
        self.notifier(sid)(Failed(sid, (
            f"session {sid} was closed to make room for another (the daemon serves "
            f"{self.config.max_sessions}); send /continuo/session/hello to open it again"),
            about=HELLO))
        self.bye(sid)
        return True

    def touch(self, sid: str) -> None:
        """The client is alive; (re)arm its expiry lazily."""
        self._seen[sid] = self.loop.time()
        if sid not in self._expiry and sid in self.addresses:
            self._arm_expiry(sid)

    def _arm_expiry(self, sid: str) -> None:
        when = self._seen[sid] + self.config.session_timeout
        self._expiry[sid] = self.loop.call_at(when, self._expire, sid)

    def _expire(self, sid: str) -> None:
        self._expiry.pop(sid, None)
        if sid not in self.sessions:
            return
        if self.loop.time() < self._seen[sid] + self.config.session_timeout - 1e-3:
            self._arm_expiry(sid)
            return
        log.info("session %s: no message for %.0f s, closing", sid,
                 self.config.session_timeout)
        self.bye(sid)

    def bye(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None:
            self._leave_band(session)         # (not to play alone: it closes)
            session.close()
            log.info("session %s closed", sid)
        handle = self._expiry.pop(sid, None)
        if handle is not None:
            handle.cancel()
        address = self.addresses.pop(sid, None)
        if address is not None:
            self._gone.pop(sid, None)
            self._gone[sid] = address
            while len(self._gone) > GONE:
                del self._gone[next(iter(self._gone))]
        self._seen.pop(sid, None)
        self._used.discard(sid)

    def close_all(self) -> None:
        for sid in list(self.sessions):
            self.bye(sid)

    # -- status ------------------------------------------------------------------------------

    def status(self, sid: str | None) -> list[tuple[str, Any]]:
        pairs: list[tuple[str, Any]] = [
            ("version", __version__), ("model", self.model_name),
            ("device", str(self.engine.device)), ("sessions", len(self.sessions)),
            ("uptime", round(time.monotonic() - self.started, 1)),
            *self.engine.health().items(), *self.engine.latency_ms().items()]
        if sid is not None:
            pairs += self.get(sid).status()
        return pairs


def session_defaults(config: Config, styles: tuple[str, ...]) -> dict[str, Any]:
    """Session parameters from ``--set NAME=VALUE``, validated (bad ones stop startup)."""
    return settings(config.pairs("set"), styles)
