"""The contract between the device's patch and the OSC route registry.

``check(patcher, ...)`` reads what the patch sends and routes from its box texts alone and
compares it with :mod:`bridge.osc.routes` as it stands when called (so a test can add a
route and watch the check fail):

- **Sent** (walking back from ``udpsend``): each message leaves through an address stage
  ``[prepend /continuo/...]``, fed by a session slot ``[prepend nosession]`` /
  ``[nosession(`` (a session id first) or directly by its payload. Argument types come
  from the payload's text: ``pack 0 0.`` -> ``i f``, a message box's atoms, ``prepend
  NAME`` + a typed ``trigger``. Each (address, types) must be an ``in`` route declaring
  exactly those types (``any`` takes all three; the daemon's leniency, an int where a float
  is declared, is not used: a beat sent as an int would lose its fraction); the payload
  packs must have every inlet wired.
- **Coverage**: every ``in`` route is sent or listed as deliberately not sent, never both.
- **Routed**: the ``route`` after ``udpreceive`` names every ``out`` route, each outlet is
  wired, and it names no address the daemon does not send. Where a handler unpacks the
  arguments (``[zl.slice 1]`` -> ``[unpack ...]``), the unpacked types match the route.
- **Records**: what the builder recorded (:class:`~bridge.m4l.protocol.Sent`,
  :class:`~bridge.m4l.protocol.Received`) agrees with what the texts say.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.m4l import objects
from bridge.m4l.lint import boxes, lines
from bridge.m4l.protocol import SESSION_SLOT, Received, Sent
from bridge.osc.routes import IN, OUT, Route, routes

OSC_TYPE = {"int": "i", "float": "f", "symbol": "s"}
CONTROL = {"port", "host"}       # udpsend's own messages, not OSC


class InferenceError(ValueError):
    """A payload whose argument types cannot be read from its box texts."""


class Graph:
    def __init__(self, patcher: dict[str, Any]) -> None:
        self.box = {b["id"]: b for b in boxes(patcher)}
        self.cords = lines(patcher)

    def sources(self, box_id: str, inlet: int) -> list[tuple[str, int]]:
        return [(s, o) for s, o, d, i in self.cords if d == box_id and i == inlet]

    def targets(self, box_id: str, outlet: int) -> list[tuple[str, int]]:
        return [(d, i) for s, o, d, i in self.cords if s == box_id and o == outlet]

    def words(self, box_id: str) -> tuple[str, list[str]]:
        """(class, arguments) of a newobj; ("message"/maxclass, atoms) otherwise."""
        b = self.box[box_id]
        if b["maxclass"] == "newobj":
            name, args, _ = objects.split(b.get("text", ""))
            return objects.canonical(name), args
        return b["maxclass"], objects.tokens(b.get("text") or "")

    def named(self, kind: str, name: str) -> list[str]:
        return [i for i in self.box if self.words(i) == (kind, [name])]

    def of_class(self, kind: str) -> list[str]:
        return [i for i in self.box if self.words(i)[0] == kind]


# -- types ----------------------------------------------------------------------------------

def atom_types(atoms: list[str]) -> tuple[str, ...]:
    if any("$" in a for a in atoms):
        raise InferenceError(f"{' '.join(atoms)!r}: $-arguments have no fixed type")
    return tuple(OSC_TYPE[objects.atom_type(a)] for a in atoms)


def infer(g: Graph, box_id: str, outlet: int = 0) -> set[tuple[str, ...]]:
    """Every argument-type tuple the box can send from ``outlet``."""
    kind, args = g.words(box_id)
    if kind == "message":
        return {atom_types(args)}
    if kind in ("pack", "pak"):
        return {atom_types(args)}
    if kind in ("prepend", "append") and args:
        fed = _union(g, box_id, 0)
        own = atom_types(args)
        return {own + t if kind == "prepend" else t + own for t in fed}
    if kind == "trigger" and args:
        code = args[outlet]
        if code in ("i", "f", "s"):
            return {(code,)}
        if code in ("l", "a"):
            return _union(g, box_id, 0)
    raise InferenceError(f"{box_id} ({g.box[box_id].get('text')}): cannot read the types "
                         f"it sends")


def _union(g: Graph, box_id: str, inlet: int) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for src, outlet in g.sources(box_id, inlet):
        found |= infer(g, src, outlet)
    if not found:
        raise InferenceError(f"{box_id} ({g.box[box_id].get('text')}): nothing feeds it")
    return found


def accepts(rt: Route, types: tuple[str, ...], exact: bool = False) -> str:
    """'' if ``rt`` takes arguments of ``types``, else what is wrong."""
    n, fixed = len(types), len(rt.args)
    if rt.repeat:
        if n < fixed or (n - fixed) % len(rt.repeat):
            return f"{n} arguments do not fit {rt.signature}"
    elif not rt.min_args <= n <= fixed:
        return f"{n} arguments, the route takes {rt.signature or 'none'}"
    specs = list(rt.args) + [rt.repeat[k % len(rt.repeat)] for k in range(n - fixed)]
    for got, spec in zip(types, specs, strict=False):
        ok = spec.type == "any" or got == spec.type or (
            not exact and spec.type == "f" and got == "i")
        if not ok:
            return f"argument {spec.name} is {got}, the route says {spec.type}"
    return ""


# -- what the patch sends ---------------------------------------------------------------

def sent_by_texts(g: Graph, problems: list[str]) -> set[tuple[str, tuple[str, ...]]]:
    senders = g.of_class("udpsend")
    if len(senders) != 1:
        problems.append(f"expected one udpsend, found {len(senders)}")
        return set()
    stages: set[str] = set()
    seen: set[str] = set()
    todo = [s for s, _ in g.sources(senders[0], 0)]
    while todo:
        box_id = todo.pop()
        if box_id in seen:
            continue
        seen.add(box_id)
        kind, args = g.words(box_id)
        if kind in ("prepend", "message") and args and args[0] in CONTROL:
            continue
        if kind == "prepend" and len(args) == 1 and args[0].startswith("/"):
            stages.add(box_id)
        elif kind == "receive":
            for send in g.named("send", args[0]):
                todo += [s for s, _ in g.sources(send, 0)]
        elif kind == "gate":
            todo += [s for s, _ in g.sources(box_id, g.box[box_id]["numinlets"] - 1)]
        else:
            problems.append(f"{box_id} ({g.box[box_id].get('text')}) feeds udpsend but is no "
                            "address stage [prepend /continuo/...]")
    found: set[tuple[str, tuple[str, ...]]] = set()
    for stage in sorted(stages):
        address = g.words(stage)[1][0]
        for src, outlet in g.sources(stage, 0):
            try:
                found |= {(address, t) for t in _stage_input(g, src, outlet, problems)}
            except InferenceError as exc:
                problems.append(f"{address}: {exc}")
    return found


def _stage_input(g: Graph, src: str, outlet: int,
                 problems: list[str]) -> set[tuple[str, ...]]:
    kind, args = g.words(src)
    if kind == "message" and args == [SESSION_SLOT]:
        return {("s",)}
    if kind == "prepend" and args == [SESSION_SLOT]:
        payloads = [(s, o) for s, o in g.sources(src, 0) if g.words(s) != ("prepend", ["set"])]
        if not payloads:
            raise InferenceError(f"session slot {src} has no payload")
        found: set[tuple[str, ...]] = set()
        for s, o in payloads:
            _check_pack_wired(g, s, problems)
            found |= {("s", *t) for t in infer(g, s, o)}
        return found
    _check_pack_wired(g, src, problems)
    return infer(g, src, outlet)


def _check_pack_wired(g: Graph, box_id: str, problems: list[str]) -> None:
    if g.words(box_id)[0] in ("pack", "pak"):
        for inlet in range(g.box[box_id]["numinlets"]):
            if not g.sources(box_id, inlet):
                problems.append(f"{box_id} ({g.box[box_id]['text']}): inlet {inlet} is not "
                                "wired, so that argument is never set")


# -- what the patch routes ------------------------------------------------------------------

def routed_by_texts(g: Graph, problems: list[str]) -> dict[str, list[str]]:
    """address -> the boxes its route outlet feeds."""
    receivers = g.of_class("udpreceive")
    if len(receivers) != 1:
        problems.append(f"expected one udpreceive, found {len(receivers)}")
        return {}
    routers = [d for d, _ in g.targets(receivers[0], 0) if g.words(d)[0] == "route"]
    if len(routers) != 1:
        problems.append("udpreceive does not feed exactly one route")
        return {}
    router = routers[0]
    return {address: [d for d, _ in g.targets(router, k)]
            for k, address in enumerate(g.words(router)[1])}


def _unpacked_types(g: Graph, handlers: list[str]) -> dict[str, tuple[str, ...]]:
    """handler box id -> ("s", unpacked types) for [zl.slice 1] -> [unpack ...] chains."""
    found = {}
    for first in handlers:
        if g.words(first) != ("zl.slice", ["1"]):
            continue
        for box_id, _ in g.targets(first, 1):
            kind, args = g.words(box_id)
            if kind == "unpack":
                found[box_id] = ("s", *atom_types(args))
    return found


# -- the check --------------------------------------------------------------------------------

def check(patcher: dict[str, Any], *, not_sent: Iterable[str] = (),
          sent: Iterable[Sent] | None = None,
          received: Iterable[Received] | None = None) -> list[str]:
    problems: list[str] = []
    g = Graph(patcher)
    ins = {r.address: r for r in routes(IN)}
    outs = {r.address: r for r in routes(OUT)}
    texts = sent_by_texts(g, problems)
    for address, types in sorted(texts):
        if address not in ins:
            problems.append(f"the device sends {address}, which is no 'in' route")
            continue
        wrong = accepts(ins[address], types, exact=True)
        if wrong:
            problems.append(f"the device sends {address} with types {' '.join(types)}: {wrong}")
    addresses = {a for a, _ in texts}
    skipped = set(not_sent)
    for address in sorted(ins):
        if address in addresses and address in skipped:
            problems.append(f"{address} is sent but listed as not sent")
        elif address not in addresses and address not in skipped:
            problems.append(f"'in' route {address} is neither sent by the device nor listed "
                            "as deliberately not sent")
    if sent is not None:
        recorded = {(s.address, s.types) for s in sent}
        problems += [f"recorded but not in the patch: {a} {' '.join(t)}"
                     for a, t in sorted(recorded - texts)]
        problems += [f"in the patch but not recorded: {a} {' '.join(t)}"
                     for a, t in sorted(texts - recorded)]

    routed = routed_by_texts(g, problems)
    for address in sorted(outs):
        if address not in routed:
            problems.append(f"the daemon sends {address} but the device does not route it")
        elif not routed[address]:
            problems.append(f"{address} is routed to nothing")
    problems += [f"the device routes {a}, which is no 'out' route" for a in sorted(routed)
                 if a not in outs]
    for address, handlers in sorted(routed.items()):
        for types in _unpacked_types(g, handlers).values():
            wrong = accepts(outs[address], types, exact=True) if address in outs else ""
            if wrong:
                problems.append(f"the device unpacks {address} as {' '.join(types)}: {wrong}")
    if received is not None:
        for r in received:
            unpacked = _unpacked_types(g, routed.get(r.address, []))
            if r.types is not None and unpacked.get(r.handler) != r.types:
                problems.append(f"{r.address}: recorded handler {r.handler} unpacks "
                                f"{r.types}, its text says {unpacked.get(r.handler)}")
    return problems
