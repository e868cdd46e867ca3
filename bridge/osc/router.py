"""Routing incoming OSC to handlers, with every failure turned into an error reply.

A :class:`Router` knows nothing of sockets: ``dispatch(datagram, sender)`` decodes, checks
each message against its ``in`` route, calls the bound handler with a :class:`Request`, and
returns the :class:`Reply` s to send. Nothing a client sends makes it raise; an unknown
address, a wrong argument, a handler's :class:`OscRequestError` or a handler crash becomes a
``/continuo/error`` reply (and a log line), and the next datagram is served as usual.

Where replies go is the daemon's policy, not the router's. A reply with ``destination=None``
is addressed by the ``reply_address(sender, session)`` callable given to the router:
``sender`` is the (host, port) the datagram came from and ``session`` the session id the
message names (its ``session`` argument; for a message whose arguments failed the check, its
first argument when the route starts with ``session`` and that is a string), else ``None``.
Errors about unparseable datagrams or unknown addresses get ``session=None``. Without a
callable, replies go back to the sender. An :class:`OscRequestError` may name one more
address its error goes to (``also``: a hello's reply port, say). Every reply ``dispatch``
returns has a destination.

Bad input is logged as a WARNING, its text cut to ``LOG_CHARS``, at most ``WARN_BURST``
lines in a row and then ``WARN_PER_S`` a second (a line says how many were left out);
``counts`` holds how many of each kind arrived, for status.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bridge.osc.codec import (
    Message,
    OscArgumentError,
    OscDecodeError,
    check_args,
    decode,
    split_args,
)
from bridge.osc.routes import BY_ADDRESS, IN, OUT, Route, route, routes

log = logging.getLogger(__name__)

Sender = tuple[str, int]
ReplyAddress = Callable[[Sender, str | None], Sender]
ERROR = route("/continuo/error", OUT).address
LOG_CHARS = 300           # a bad message's text in a log line is cut to this
REPLY_CHARS = 1200        # ... and in an error reply (room for a list of the valid values)
WARN_BURST = 20           # warnings in a row before the rate limit applies
WARN_PER_S = 2.0          # ... then this many a second
BAD_KINDS = ("malformed", "unknown_address", "bad_arguments", "refused", "internal")


class OscRequestError(Exception):
    """Raised by a handler for a well-formed request it cannot use (e.g. a bad value).

    Its message becomes the ``/continuo/error`` reply, e.g.
    ``except ParamError as e: raise OscRequestError(str(e)) from e``; ``also`` is one more
    address to send it to (besides the reply policy's).
    """

    def __init__(self, message: str, also: Sender | None = None) -> None:
        super().__init__(message)
        self.also = also


class WarnLimiter:
    """A token bucket for warning lines: ``WARN_BURST`` at once, ``WARN_PER_S`` after."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.tokens = float(WARN_BURST)
        self.last = clock()
        self.left_out = 0

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(WARN_BURST, self.tokens + (now - self.last) * WARN_PER_S)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.left_out += 1
        return False


class RouteBindingError(ValueError):
    """A handler bound to an address that is no ``in`` route, twice, or missing."""


@dataclass(frozen=True)
class Request:
    """A checked message: ``args`` after coercion (ints where ``f`` is declared are floats).

    ``named`` maps each fixed argument present to its value (an absent optional argument is
    not in it); ``repeat`` holds the trailing repeat groups as tuples.
    """

    address: str
    args: tuple[Any, ...]
    named: dict[str, Any]
    repeat: list[tuple[Any, ...]]
    sender: Sender

    def __getitem__(self, name: str) -> Any:
        return self.named[name]

    @property
    def session(self) -> str | None:
        return self.named.get("session")


@dataclass(frozen=True)
class Reply:
    """A message to send: ``destination`` (host, port), or ``None`` for the sender's reply
    address as the daemon's ``reply_address`` says."""

    address: str
    args: tuple[Any, ...] = ()
    destination: Sender | None = None

    @classmethod
    def error(cls, address: str, message: str, destination: Sender | None = None) -> Reply:
        return cls(ERROR, (address, message), destination)


Handler = Callable[[Request], Reply | Iterable[Reply] | None]


def _to_sender(sender: Sender, session: str | None) -> Sender:
    return sender


class Router:
    def __init__(self, reply_address: ReplyAddress | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.reply_address = reply_address or _to_sender
        self._handlers: dict[str, Handler] = {}
        self.counts: Counter[str] = Counter({kind: 0 for kind in BAD_KINDS})
        self._warn = WarnLimiter(clock)

    # -- set-up (raises: these are programming errors, found at startup) -------------------

    def bind(self, address: str, handler: Handler) -> None:
        if address + ":" + IN not in BY_ADDRESS:
            kind = "an 'out' route" if address + ":" + OUT in BY_ADDRESS else "no route"
            raise RouteBindingError(f"cannot bind {address}: it is {kind}; handlers serve "
                                    f"'in' routes only")
        if address in self._handlers:
            raise RouteBindingError(f"{address} is already bound")
        self._handlers[address] = handler

    def handler(self, address: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`bind`."""
        def decorate(fn: Handler) -> Handler:
            self.bind(address, fn)
            return fn
        return decorate

    def check_bound(self) -> None:
        missing = [r.address for r in routes(IN) if r.address not in self._handlers]
        if missing:
            raise RouteBindingError(f"no handler for {', '.join(missing)}")

    # -- serving (never raises) -------------------------------------------------------------

    def dispatch(self, datagram: bytes, sender: Sender) -> list[Reply]:
        """Replies to one datagram, each with its destination resolved."""
        try:
            messages = decode(datagram)
        except OscDecodeError as exc:
            return self._error("malformed", sender, None, _clip(exc.address),
                               f"malformed OSC packet: {exc}")
        except Exception as exc:  # a bug in decoding must not stop the server
            log.error("decoding a datagram from %s failed", _show(sender), exc_info=True)
            return self._error("internal", sender, None, "", f"internal error: {exc!r}",
                               logged=True)
        replies: list[Reply] = []
        for message in messages:
            replies.extend(self.handle(message, sender))
        return replies

    def handle(self, message: Message, sender: Sender) -> list[Reply]:
        """Replies to one decoded message."""
        rt = BY_ADDRESS.get(message.address + ":" + IN)
        if rt is None:
            address = _clip(message.address)
            return self._error("unknown_address", sender, None, address, _unknown(address))
        try:
            args = check_args(rt, message.args)
        except OscArgumentError as exc:
            return self._error("bad_arguments", sender, _session_hint(rt, message.args),
                               rt.address, str(exc))
        named, groups = split_args(rt, args)
        request = Request(rt.address, args, named, groups, sender)
        handler = self._handlers.get(rt.address)
        if handler is None:
            log.error("no handler bound for %s", rt.address)
            return self._error("internal", sender, request.session, rt.address,
                               f"internal error: {rt.address} is not served", logged=True)
        try:
            replies = _checked_replies(handler(request))
        except OscRequestError as exc:
            return self._error("refused", sender, request.session, rt.address, str(exc),
                               also=exc.also)
        except Exception as exc:
            log.error("handler for %s failed on %s from %s", rt.address,
                      _clip(repr(args), LOG_CHARS), _show(sender), exc_info=True)
            return self._error("internal", sender, request.session, rt.address,
                               f"internal error: {type(exc).__name__}: {exc}", logged=True)
        if any(r.destination is None for r in replies):
            here = self._resolve(sender, request.session)
            replies = [r if r.destination else Reply(r.address, r.args, here) for r in replies]
        return replies

    def _error(self, kind: str, sender: Sender, session: str | None, address: str,
               message: str, logged: bool = False, also: Sender | None = None) -> list[Reply]:
        self.counts[kind] += 1
        if not logged and self._warn.allow():
            left_out, self._warn.left_out = self._warn.left_out, 0
            log.warning("OSC error from %s: %s: %s%s", _show(sender),
                        address or "(unparseable)", _clip(message, LOG_CHARS),
                        f" ({left_out} more bad messages not logged)" if left_out else "")
        message = _clip(message, REPLY_CHARS)
        here = self._resolve(sender, session)
        replies = [Reply.error(address, message, here)]
        if also is not None and tuple(also) != here:
            replies.append(Reply.error(address, message, (also[0], int(also[1]))))
        return replies

    def _resolve(self, sender: Sender, session: str | None) -> Sender:
        try:
            host, port = self.reply_address(sender, session)
            return (host, int(port))
        except Exception:
            log.error("reply_address failed for %s (session %r); replying to the sender",
                      _show(sender), session, exc_info=True)
            return sender


def _checked_replies(result: Any) -> list[Reply]:
    """A handler's return value as checked replies (raises on anything unusable)."""
    if result is None:
        return []
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError("handler returned an awaitable; handlers are plain functions")
    items = [result] if isinstance(result, Reply) else list(result)
    checked = []
    for reply in items:
        if not isinstance(reply, Reply):
            raise TypeError(f"handler returned {type(reply).__name__}, not a Reply")
        rt = BY_ADDRESS.get(reply.address + ":" + OUT)
        if rt is None:
            raise OscArgumentError(f"handler replied on {reply.address}, which is no 'out' route")
        checked.append(Reply(reply.address, check_args(rt, reply.args), reply.destination))
    return checked


def _session_hint(rt: Route, args: tuple[Any, ...]) -> str | None:
    if rt.args and rt.args[0].name == "session" and args and isinstance(args[0], str):
        return args[0]
    return None


def _unknown(address: str) -> str:
    if address + ":" + OUT in BY_ADDRESS:
        return f"{address} is sent by the daemon, not to it"
    close = difflib.get_close_matches(address, [r.address for r in routes(IN)], 1, 0.8)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown address {address}{hint}"


def _clip(address: str, limit: int = 200) -> str:
    """An address short enough to echo in an error reply and a log line."""
    return address if len(address) <= limit else address[:limit - 3] + "..."


def _show(sender: Sender) -> str:
    return f"{sender[0]}:{sender[1]}"
