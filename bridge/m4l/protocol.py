"""The device's OSC plumbing, built from the route registry and recorded as it is built.

Every message the device sends has the same three-stage shape, so both the builder and the
contract test (:mod:`bridge.m4l.contract`) can read it off the patch:

    payload  ->  [prepend nosession]  ->  [prepend /continuo/...]  ->  [s ---tx]
    (pack / message / prepend NAME)       session slot                 address stage

The payload of a route with fixed types is a ``pack`` generated from the route's argument
types (``pack 0 0 0.`` for ``i i f``): wire it by argument name with ``Sender.inlet``, so a
renamed or retyped argument changes the patch or fails the build. The session slot is a
``prepend`` (or, for session-only messages, a message box to bang) whose text every
``/continuo/session/ready`` replaces through ``[r ---session] -> [prepend set]``.
``---tx`` is gated by the connection; ``hello`` travels on ``---hello`` ungated.

Incoming messages go through one ``route`` holding every ``out`` address of the registry;
``OscIn.handle`` wires an address's outlet and records what its handler unpacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.m4l.patch import Box, Patch
from bridge.osc.routes import IN, OUT, Route, route, routes

SESSION_SLOT = "nosession"       # a session slot's text until the first ready
HELLO_BUS = "---hello"           # ungated: hello goes out before any session exists
TX_BUS = "---tx"                 # session-scoped messages, gated by the connection
SESSION_BUS = "---session"       # the session id from ready, to every session slot
PACK_ATOMS = {"i": "0", "f": "0.", "s": "s"}


def is_session_scoped(rt: Route) -> bool:
    return bool(rt.args) and rt.args[0].name == "session" and not rt.args[0].optional


def pack_text(types: tuple[str, ...] | list[str]) -> str:
    """``pack`` whose inlets hold the given OSC types: ``("i", "f")`` -> ``pack 0 0.``."""
    return "pack " + " ".join(PACK_ATOMS[t] for t in types)


@dataclass(frozen=True)
class Sent:
    """A message the device sends: its address and every argument's OSC type."""

    address: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class Received:
    """An address the device routes; ``types`` is what its handler unpacks (None: nothing)."""

    address: str
    outlet: int
    handler: str
    types: tuple[str, ...] | None


@dataclass
class Sender:
    address: str
    entry: Box                       # where the payload (or, session-only, a bang) goes in
    names: tuple[str, ...] = ()      # argument names by inlet of a generated pack

    def inlet(self, name: str) -> int:
        """The pack inlet for argument ``name`` (KeyError if the route has no such arg)."""
        if name not in self.names:
            raise KeyError(f"{self.address} has no argument {name!r} "
                           f"(it has {', '.join(self.names) or 'none'})")
        return self.names.index(name)


@dataclass
class OscOut:
    patch: Patch
    sent: list[Sent] = field(default_factory=list)
    slots: list[Box] = field(default_factory=list)

    def sender(self, address: str) -> Sender:
        """Build the send chain of an ``in`` route whose arguments all have fixed types."""
        rt = route(address, IN)
        scoped = is_session_scoped(rt)
        payload = rt.args[1:] if scoped else rt.args
        if rt.repeat or any(a.type == "any" or a.optional for a in payload):
            raise ValueError(f"{address}: variable arguments; use open_sender() and feed()")
        if scoped and not payload:            # session only: bang the slot
            entry = slot = self.patch.message(SESSION_SLOT)
            self.slots.append(slot)
        else:
            entry = self.patch.box(pack_text([a.type for a in payload]))
            slot = self._slot(entry) if scoped else entry
        self._address_stage(rt, slot)
        self.sent.append(Sent(address, ("s",) * scoped + tuple(a.type for a in payload)))
        return Sender(address, entry, tuple(a.name for a in payload))

    def open_sender(self, address: str) -> Sender:
        """A session-scoped send chain whose payloads the caller builds and ``feed`` s."""
        rt = route(address, IN)
        if not is_session_scoped(rt):
            raise ValueError(f"{address}: open senders are for session-scoped routes")
        slot = self.patch.box(f"prepend {SESSION_SLOT}")
        self.slots.append(slot)
        self._address_stage(rt, slot)
        return Sender(address, slot)

    def feed(self, sender: Sender, box: Box, outlet: int, types: tuple[str, ...]) -> None:
        """Connect a payload producer to an open sender, declaring its argument types."""
        self.patch.connect(box, outlet, sender.entry, 0, fanout=True)
        self.sent.append(Sent(sender.address, ("s", *types)))

    def _slot(self, payload: Box) -> Box:
        slot = self.patch.box(f"prepend {SESSION_SLOT}")
        self.slots.append(slot)
        self.patch.connect(payload, 0, slot, 0)
        return slot

    def _address_stage(self, rt: Route, source: Box) -> None:
        stage = self.patch.box(f"prepend {rt.address}")
        bus = self.patch.box(f"s {TX_BUS if is_session_scoped(rt) else HELLO_BUS}")
        self.patch.connect(source, 0, stage, 0, fanout=True)
        self.patch.connect(stage, 0, bus, 0)

    def finish(self) -> None:
        """Wire ``[r ---session] -> [prepend set]`` to every session slot."""
        self.patch.row()
        receive = self.patch.box(f"r {SESSION_BUS}")
        setter = self.patch.box("prepend set")
        self.patch.connect(receive, 0, setter, 0)
        for slot in self.slots:         # "set ID" into the left inlet: no output
            self.patch.connect(setter, 0, slot, 0, fanout=True)


@dataclass
class OscIn:
    """One ``route`` with every ``out`` address of the registry, in registry order."""

    patch: Patch
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.addresses = list(dict.fromkeys(r.address for r in routes(OUT)))
        self.router = self.patch.box("route " + " ".join(self.addresses))

    def outlet(self, address: str) -> int:
        route(address, OUT)                  # KeyError for an address the daemon never sends
        return self.addresses.index(address)

    def handle(self, address: str, box: Box, inlet: int = 0,
               types: tuple[str, ...] | None = None, handler: Box | None = None) -> None:
        """Wire ``address`` to ``box``; ``types``: what ``handler`` (default ``box``) unpacks,
        session included."""
        self.patch.connect(self.router, self.outlet(address), box, inlet, fanout=True)
        self.received.append(Received(address, self.outlet(address), (handler or box).id,
                                      types))
