"""The OSC protocol: every address Continuo speaks, declared once.

The daemon's router binds its handlers to the ``in`` routes, the sender builds ``out``
messages from them, ``continuo osc-doc`` writes ``docs/osc.md`` from them, and the Max for
Live device is checked against them. Argument types are OSC's: ``i`` int32, ``f`` float32
(an ``i`` is accepted where ``f`` is declared), ``s`` string, ``any`` one of the three.

Clients open a session with ``/continuo/session/hello``; every session-scoped message then
carries the session id as its first argument. Replies go to the host that sent the hello, on
the port it named (or the daemon's ``--reply-port``).
"""

from __future__ import annotations

from dataclasses import dataclass

IN, OUT = "in", "out"
TYPES = ("i", "f", "s", "any")


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    doc: str = ""
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"argument {self.name}: unknown OSC type {self.type!r}")


@dataclass(frozen=True)
class Route:
    address: str
    direction: str
    args: tuple[Arg, ...]
    doc: str
    repeat: tuple[Arg, ...] = ()   # a trailing group that repeats zero or more times

    def __post_init__(self) -> None:
        if self.direction not in (IN, OUT):
            raise ValueError(f"{self.address}: direction must be 'in' or 'out'")
        if not self.address.startswith("/continuo/"):
            raise ValueError(f"{self.address}: outside the /continuo/ namespace")
        seen_optional = False
        for arg in self.args:
            if seen_optional and not arg.optional:
                raise ValueError(f"{self.address}: required argument after an optional one")
            seen_optional |= arg.optional
        if self.repeat and seen_optional:
            raise ValueError(f"{self.address}: optional arguments cannot precede a repeat")

    @property
    def min_args(self) -> int:
        return sum(not a.optional for a in self.args)

    @property
    def signature(self) -> str:
        """Compact form for docs and errors, e.g. ``s:session i:pitch [f:beat] (s:tag f:p)*``."""
        parts = [f"[{a.type}:{a.name}]" if a.optional else f"{a.type}:{a.name}" for a in self.args]
        if self.repeat:
            parts.append("(" + " ".join(f"{a.type}:{a.name}" for a in self.repeat) + ")*")
        return " ".join(parts)


SESSION = Arg("session", "s", "session id returned by hello")


def _in(address: str, doc: str, *args: Arg, repeat: tuple[Arg, ...] = ()) -> Route:
    return Route(address, IN, args, doc, repeat)


def _out(address: str, doc: str, *args: Arg, repeat: tuple[Arg, ...] = ()) -> Route:
    return Route(address, OUT, args, doc, repeat)


ROUTES: tuple[Route, ...] = (
    # -- session lifecycle ------------------------------------------------------------
    _in("/continuo/session/hello",
        "Open or refresh a session (idempotent: devices send it as their heartbeat). "
        "Replies /continuo/session/ready.",
        Arg("instance", "s", "client-chosen id, unique per device instance (printable "
                             "characters; not `midi`, the MIDI port's own session); a hello "
                             "from another port moves the session there and tells the old "
                             "port /continuo/session/panic"),
        Arg("reply_port", "i", "UDP port this client listens on; 0 = the daemon's --reply-port")),
    _out("/continuo/session/ready", "Handshake reply: the session is open.",
         SESSION, Arg("version", "s", "daemon version"), Arg("model", "s", "model name")),
    _in("/continuo/session/bye", "Close a session; its sounding notes are released first.",
        SESSION),
    _in("/continuo/session/panic",
        "Release every note of the session now (note-offs, then CC 123) and cancel its "
        "response; the notes (and sustain pedal) the daemon hears the performer hold are "
        "let go too, so a note-off lost on the way cannot keep call mode from answering; "
        "in a band, the band's (it plays as one: every member is told).", SESSION),
    _out("/continuo/session/panic",
         "Release everything you play for this session and drop queued notes.", SESSION),
    _out("/continuo/session/state",
         "What the session is doing: idle, listening, responding or accompanying.",
         SESSION, Arg("state", "s")),
    # -- service ------------------------------------------------------------------------
    _in("/continuo/ping", "Liveness check. Replies /continuo/ping/reply.",
        Arg("session", "s", "reply on this session's port", optional=True)),
    _out("/continuo/ping/reply", "Answer to ping.", Arg("version", "s")),
    _in("/continuo/status/get", "Ask for the daemon's (and a session's) status.",
        Arg("session", "s", "include this session's state", optional=True)),
    _out("/continuo/status/reply", "Status as key/value pairs (see Status keys).",
         repeat=(Arg("key", "s"), Arg("value", "any"))),
    _out("/continuo/error", "Something a client sent could not be used.",
         Arg("address", "s", "address of the offending message ('' if unparseable)"),
         Arg("message", "s", "what was wrong")),
    # -- performance input ----------------------------------------------------------------
    _in("/continuo/note/in", "The performer played a note (velocity 0 = note-off).",
        SESSION, Arg("pitch", "i", "0-127"), Arg("velocity", "i", "0-127"),
        Arg("beat", "f", "song position in beats (quarter notes) when it was played")),
    _in("/continuo/pedal/in",
        "The performer's sustain pedal (controller 64) moved: a note let go while it is down "
        "still sounds to the phrase, which call mode answers once the pedal lifts.",
        SESSION, Arg("value", "i", "0-127: down from 64"),
        Arg("beat", "f", "song position in beats (quarter notes) when it moved")),
    _in("/continuo/transport/set",
        "Transport state: on change and at least every sixteenth note while playing.",
        SESSION, Arg("tempo", "f", "bpm"), Arg("beat", "f", "song position in beats"),
        Arg("playing", "i", "1 while the transport runs"),
        Arg("numerator", "i", "time signature"), Arg("denominator", "i", "time signature")),
    # -- control --------------------------------------------------------------------------
    _in("/continuo/param/set", "Set a session parameter (see the parameter table).",
        SESSION, Arg("name", "s"), Arg("value", "any")),
    _in("/continuo/param/get",
        "Ask for a parameter's value ('' for all). Replies /continuo/param/value. `styles` "
        "asks for the style tags the model knows: one reply with a string for each.",
        SESSION, Arg("name", "s")),
    _out("/continuo/param/value", "A parameter's current value (for `styles`: every style "
         "tag the model knows, in its table's order, a string each): the answer to a set or "
         "a get, and, in a band, what another member set a band-wide parameter to.",
         SESSION, Arg("name", "s"), repeat=(Arg("value", "any"),)),
    _in("/continuo/generate/start",
        "Start a continuation now (any mode but off): it starts on the next grid position.",
        SESSION),
    _in("/continuo/generate/stop", "Stop the running continuation; its notes are released.",
        SESSION),
    _in("/continuo/phrase/end", "The performer's phrase ends here (call mode).", SESSION),
    # -- generated output -------------------------------------------------------------------
    _out("/continuo/note/out",
         "A generated note, sent ahead of time: play it at `beat` for `duration` beats.",
         SESSION, Arg("pitch", "i"), Arg("velocity", "i", "1-127"),
         Arg("beat", "f", "song position to start at"), Arg("duration", "f", "in beats"),
         Arg("channel", "i", "1-16"),
         Arg("delay_ms", "f", "milliseconds from sending to the start, by the daemon's clock")),
    _out("/continuo/note/cancel",
         "Drop queued notes that start at or after `beat` and release what they sound.",
         SESSION, Arg("beat", "f")),
    _out("/continuo/tags/update", "Top style tags of the recent input, most likely first.",
         SESSION, repeat=(Arg("tag", "s"), Arg("probability", "f"))),
)

BY_ADDRESS: dict[str, Route] = {r.address + ":" + r.direction: r for r in ROUTES}


def route(address: str, direction: str) -> Route:
    """The route for ``address`` in ``direction`` (KeyError if there is none)."""
    return BY_ADDRESS[address + ":" + direction]


def routes(direction: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.direction == direction)
