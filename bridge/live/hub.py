"""Every session the daemon serves: opening, finding, expiring and closing them.

OSC sessions open with ``/continuo/session/hello``; their replies go to the host that said
hello, on the port it named (or ``--reply-port``). A session that has not been heard from
for ``session_timeout`` seconds is closed like a ``bye`` (its notes released): one timer per
session, pushed back lazily, no polling. The MIDI port session lives as long as the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bridge import __version__
from bridge.config import Config
from bridge.live.engine import Engine
from bridge.live.outputs import OscNotes, Output
from bridge.live.params import ParamError, param
from bridge.live.session import Session
from bridge.live.status import TOP_TAGS
from bridge.osc.router import OscRequestError
from bridge.timing.clock import BeatClock

log = logging.getLogger(__name__)

Address = tuple[str, int]
MAX_ID = 64


class Hub:
    def __init__(self, config: Config, engine: Engine, styles: tuple[str, ...],
                 model_name: str, loop: asyncio.AbstractEventLoop,
                 send: Callable[[str, list[Any], Address], Any]) -> None:
        self.config, self.engine, self.styles = config, engine, styles
        self.model_name, self.loop, self.send = model_name, loop, send
        self.sessions: dict[str, Session] = {}
        self.addresses: dict[str, Address] = {}
        self._seen: dict[str, float] = {}
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self.defaults = session_defaults(config, styles)
        self.started = time.monotonic()

    # -- addressing ------------------------------------------------------------------------

    def reply_address(self, sender: Address, session: str | None) -> Address:
        """Where replies about ``session`` go (the router's reply policy)."""
        if session is not None and session in self.addresses:
            return self.addresses[session]
        return sender[0], self.config.reply_port

    def notifier(self, sid: str) -> Callable[[str, list[Any]], Any]:
        def notify(address: str, args: list[Any]) -> None:
            destination = self.addresses.get(sid)
            if destination is None:
                return
            try:
                self.send(address, args, destination)
            except Exception:   # a message we built wrong must not break the session
                log.exception("session %s: could not send %s %r", sid, address, args)
        return notify

    # -- sessions ----------------------------------------------------------------------------

    def hello(self, instance: str, reply_port: int, host: str) -> Session:
        if not instance or len(instance) > MAX_ID:
            raise OscRequestError(f"instance id must be 1-{MAX_ID} characters")
        if not 0 <= reply_port < 65536:
            raise OscRequestError(f"reply_port {reply_port} is not a UDP port (0 = default)")
        self.addresses[instance] = (host, reply_port or self.config.reply_port)
        session = self.sessions.get(instance)
        if session is None:
            if len(self.sessions) >= self.config.max_sessions:
                del self.addresses[instance]
                raise OscRequestError(f"too many sessions ({self.config.max_sessions}); "
                                      "close one with /continuo/session/bye")
            clock = BeatClock(self.loop.time(), self.config.tempo)
            output = OscNotes(instance, clock, self.notifier(instance), self.loop)
            session = self.add(instance, clock, output, notify=self.notifier(instance))
            log.info("session %s opened (replies to %s:%d)", instance,
                     *self.addresses[instance])
        self.touch(instance)
        return session

    def add(self, sid: str, clock: BeatClock, output: Output,
            notify: Callable[[str, list[Any]], Any] | None = None) -> Session:
        session = Session(sid, engine=self.engine, clock=clock, output=output,
                          styles=self.styles, loop=self.loop, notify=notify,
                          params=self.defaults, prepare=self.config.prepare)
        self.sessions[sid] = session
        return session

    def get(self, sid: str) -> Session:
        session = self.sessions.get(sid)
        if session is None:
            raise OscRequestError(f"unknown session {sid!r}: send /continuo/session/hello "
                                  "first")
        self.touch(sid)
        return session

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
            session.close()
            log.info("session %s closed", sid)
        handle = self._expiry.pop(sid, None)
        if handle is not None:
            handle.cancel()
        self.addresses.pop(sid, None)
        self._seen.pop(sid, None)

    def close_all(self) -> None:
        for sid in list(self.sessions):
            self.bye(sid)

    # -- status ------------------------------------------------------------------------------

    def status(self, sid: str | None) -> list[tuple[str, Any]]:
        pairs: list[tuple[str, Any]] = [
            ("version", __version__), ("model", self.model_name),
            ("device", str(self.engine.device)), ("sessions", len(self.sessions)),
            ("uptime", round(time.monotonic() - self.started, 1)),
            *self.engine.latency_ms().items()]
        if sid is not None:
            s = self.get(sid)
            clock = s.clock.snapshot(self.loop.time())
            pairs += [("state", s.state), ("late", s.accompanist.late),
                      *((f"answers_{k}", n) for k, n in s.responder.counts.items()),
                      *s.output.status().items(),
                      *((k, v) for k, v in s.params.items()),
                      ("tempo", clock["tempo"]), ("beat", clock["beat"]),
                      ("playing", int(clock["playing"])), ("clock", clock["source"]),
                      ("signature", clock["signature"])]
            pairs += [(f"tag{i}", f"{t} {p:.2f}") for i, (t, p) in enumerate(s.tags[:TOP_TAGS])]
        return pairs


def session_defaults(config: Config, styles: tuple[str, ...]) -> dict[str, Any]:
    """Session parameters from ``--set NAME=VALUE``, validated (bad ones stop startup)."""
    out = {}
    for name, raw in config.pairs("set").items():
        p = param(name)
        value: Any = raw
        if p.kind is not str:
            try:
                value = float(raw) if p.kind is float else int(raw)
            except ValueError:
                raise ParamError(f"--set {name}={raw}: {name} takes {p.kind.__name__} "
                                 "values") from None
        out[name] = p.validate(value, styles)
    return out
