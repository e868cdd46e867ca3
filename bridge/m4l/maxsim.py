"""A small simulator of Max's message passing, for the objects the Continuo device uses.

The device's test bench (tests/m4l/test_m4l_device.py); ``Sim(patcher)`` raises
``NotImplementedError`` for an object it does not model.

It runs the built patch's JSON, not the builder's records: boxes, cords and send/receive
buses as Max would load them. Semantics modelled (from Max's reference): outlets fire right
to left; the left inlet is hot, the others store; fan-out goes to the rightmost destination
first; ``trigger`` converts per argument; ``pipe``/``makenote``/``delay``/``metro`` run on a
virtual millisecond clock; message boxes take ``set``. Live is stubbed: ``live.thisdevice``,
``live.path``, ``live.observer``, the transport and the ``live.*`` parameters (restored and
output on load, as Live does). What the patch sends over UDP and to the track's MIDI output
is recorded with the virtual time. It models our understanding of Max, so it checks the
wiring and the order of operations, not Max itself.
"""

from __future__ import annotations

import ast
import heapq
import itertools
import random
import re
from dataclasses import dataclass, field
from typing import Any

from bridge.m4l import objects

Msg = list[Any]
BANG: Msg = ["bang"]


def atom(word: str) -> Any:
    kind = objects.atom_type(word)
    return int(word) if kind == "int" else float(word) if kind == "float" else word


def num(msg: Msg) -> float:
    return msg[0] if msg and isinstance(msg[0], (int, float)) else 0


@dataclass
class Transport:
    tempo: float = 120.0
    beat: float = 0.0        # at `since` ms
    since: float = 0.0
    playing: bool = False
    numerator: int = 4
    denominator: int = 4

    def beat_at(self, now: float) -> float:
        return self.beat + ((now - self.since) * self.tempo / 60000.0 if self.playing else 0.0)


@dataclass
class Obj:
    sim: Sim
    id: str
    kind: str
    args: list[Any]
    text: str
    attrs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def out(self, outlet: int, msg: Msg) -> None:
        self.sim.emit(self.id, outlet, msg)


class Sim:
    def __init__(self, patcher: dict[str, Any], *, live_id: int = 5, seed: int = 7) -> None:
        top = patcher["patcher"]
        self.now = 0.0
        self.rng = random.Random(seed)
        self.live_id = live_id
        self.transport = Transport()
        self.live: dict[str, Any] = {"is_playing": 0, "tempo": 120.0,
                                     "signature_numerator": 4, "signature_denominator": 4}
        self.sent: list[tuple[float, str, list[Any], int]] = []   # time, address, args, port
        self.notes: list[tuple[float, int, int, int]] = []        # time, pitch, vel, channel
        self.ccs: list[tuple[float, int, int, int]] = []          # time, ctl, value, channel
        self.midi_out: list[tuple[float, tuple[int, ...]]] = []   # thru: raw messages
        self.udp_port = 0
        self.listen_port = 0
        self._queue: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self.objs: dict[str, Obj] = {}
        self.x: dict[str, float] = {}
        for entry in top["boxes"]:
            b = entry["box"]
            self.x[b["id"]] = b["patching_rect"][0]
            if b["maxclass"] == "newobj":
                word, args, attrs = objects.split(b["text"])
                kind = objects.canonical(word)
                attr = {attrs[i][1:]: attrs[i + 1] for i in range(0, len(attrs) - 1, 2)}
                self.objs[b["id"]] = Obj(self, b["id"], kind, [atom(a) for a in args],
                                         b["text"], attr)
            else:
                self.objs[b["id"]] = Obj(self, b["id"], b["maxclass"],
                                         objects.tokens(b.get("text") or ""), b.get("text", ""),
                                         dict(b))
        self.cords: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for ln in top["lines"]:
            (s, o), (d, i) = ln["patchline"]["source"], ln["patchline"]["destination"]
            self.cords.setdefault((s, o), []).append((d, i))
        for key in self.cords:       # Max: the rightmost destination first
            self.cords[key].sort(key=lambda di: -self.x[di[0]])
        for o in self.objs.values():
            _init(o)

    # -- driving it -------------------------------------------------------------------------

    def load(self) -> None:
        """Live restores the parameters with an initial value (each outputs it), then
        live.thisdevice bangs."""
        for o in self.params():
            if o.attrs["saved_attribute_attributes"]["valueof"]["parameter_initial_enable"]:
                o.out(0, _param_value(o))
        for o in self.of("live.thisdevice"):
            o.out(0, BANG)

    def params(self) -> list[Obj]:
        return [o for o in self.objs.values() if o.attrs.get("parameter_enable")]

    def param(self, longname: str) -> Obj:
        return next(o for o in self.params() if o.attrs["varname"] == longname)

    def set_param(self, longname: str, value: Any) -> None:
        o = self.param(longname)
        if o.kind == "live.button":
            o.out(0, BANG)
            return
        o.state["value"] = value
        o.out(0, _param_value(o))

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objs.values() if o.kind == kind]

    def text_of(self, box_id: str) -> str:
        return " ".join(str(a) for a in self.objs[box_id].state.get("shown", [])) or \
            self.objs[box_id].text

    def deliver(self, address: str, *args: Any) -> None:
        """A datagram from the daemon reaches udpreceive (on the scheduler thread)."""
        for o in self.of("udpreceive"):
            o.out(0, [address, *args])

    def midi_in(self, *data: int) -> None:
        for o in self.of("midiin"):
            for byte in data:
                o.out(0, [byte])

    def set_transport(self, *, tempo: float | None = None, beat: float | None = None,
                      playing: bool | None = None) -> None:
        t = self.transport
        t.beat, t.since = t.beat_at(self.now), self.now
        if tempo is not None:
            t.tempo = tempo
            self._observe("tempo", tempo)
        if beat is not None:
            t.beat = beat
        if playing is not None and playing != t.playing:
            t.playing = playing
            for o in self.of("transport"):            # transport reports state changes
                o.out(6, [int(playing)])
            self._observe("is_playing", int(playing))
            for o in self.of("metro"):
                if isinstance(o.args[0], str) and o.state.get("on"):
                    _metro_arm(o)

    def set_enabled(self, on: bool) -> None:
        for o in self.of("live.thisdevice"):
            o.out(1, [int(on)])

    def free(self) -> None:
        for o in self.of("freebang"):
            o.out(0, BANG)

    def advance(self, ms: float) -> None:
        end = self.now + ms
        while self._queue and self._queue[0][0] <= end:
            when, _, callback = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            callback()
        self.now = end

    def after(self, ms: float, callback: Any) -> list[bool]:
        alive = [True]
        heapq.heappush(self._queue, (self.now + max(0.0, ms), next(self._seq),
                                     lambda: alive[0] and callback()))
        return alive

    def _observe(self, prop: str, value: Any) -> None:
        self.live[prop] = value
        for o in self.of("live.observer"):
            if o.args[0] == prop and o.state.get("bound"):
                o.out(0, [value])

    # -- message passing -----------------------------------------------------------------------

    def emit(self, box_id: str, outlet: int, msg: Msg) -> None:
        for dst, inlet in list(self.cords.get((box_id, outlet), [])):
            self.receive(self.objs[dst], inlet, list(msg))

    def receive(self, o: Obj, inlet: int, msg: Msg) -> None:
        handler = HANDLERS.get(o.kind) or (_ui if o.kind.startswith("live.") else None)
        if handler is None:
            raise NotImplementedError(f"maxsim: no model of {o.kind!r} ({o.text})")
        handler(o, inlet, msg)


# -- object models --------------------------------------------------------------------------------

def _init(o: Obj) -> None:
    if o.kind in ("pack", "pak"):
        o.state["items"] = list(o.args) or [0, 0]
    elif o.kind == "pipe":
        o.state["items"] = list(o.args[:-1]) if len(o.args) > 1 else [0]
        o.state["delay"] = o.args[-1] if o.args else 0
        o.state["pending"] = []
    elif o.kind == "message":
        o.state["content"] = [_msg_atom(a) for a in o.args]
    elif o.kind in ("prepend", "append"):
        o.state["fix"] = list(o.args)
    elif o.kind in ("int", "float"):
        o.state["value"] = o.args[0] if o.args else 0
    elif o.kind == "gate":
        o.state["open"] = int(o.args[1]) if len(o.args) > 1 else 0
    elif o.kind == "expr":
        o.state["values"] = [0] * objects.io_counts(o.text)[0]
    elif o.kind == "makenote":
        o.state.update(vel=o.args[0] if o.args else 0, dur=o.args[1] if len(o.args) > 1 else 0,
                       held=[])
    elif o.attrs.get("parameter_enable"):
        spec = o.attrs["saved_attribute_attributes"]["valueof"]
        o.state["value"] = spec["parameter_initial"][0]
    elif o.kind in ("noteout", "ctlout"):
        o.state["cold"] = [0, o.args[0] if o.args else 0, o.args[1] if len(o.args) > 1 else 1]


def _msg_atom(word: str) -> Any:
    return "" if word == "" else atom(word)


def _param_value(o: Obj) -> Msg:
    spec = o.attrs["saved_attribute_attributes"]["valueof"]
    value = o.state["value"]
    return [float(value)] if spec["parameter_type"] == 0 else [int(value)]


def _ui(o: Obj, inlet: int, msg: Msg) -> None:
    if not o.attrs.get("parameter_enable"):
        return
    if msg == BANG:
        o.out(0, _param_value(o))
    elif msg[0] == "set":
        o.state["value"] = msg[1]
    else:
        o.state["value"] = msg[0]
        o.out(0, _param_value(o))


def _text(o: Obj, inlet: int, msg: Msg) -> None:
    if msg and msg[0] == "set":
        o.state["shown"] = msg[1:]


def _trigger(o: Obj, inlet: int, msg: Msg) -> None:
    for k in reversed(range(len(o.args))):
        code = o.args[k]
        if code == "b":
            o.out(k, BANG)
        elif code == "i":
            o.out(k, [int(num(msg))])
        elif code == "f":
            o.out(k, [float(num(msg))])
        elif code in ("l", "a"):
            o.out(k, msg)
        elif code == "s":
            o.out(k, [msg[0]])
        else:
            o.out(k, [code])


def _coerce(template: Any, value: Any) -> Any:
    if isinstance(template, float):
        return float(value) if isinstance(value, (int, float)) else 0.0
    if isinstance(template, int):
        return int(value) if isinstance(value, (int, float)) else 0
    return value


def _pack(o: Obj, inlet: int, msg: Msg) -> None:
    items = o.state["items"]
    if msg != BANG:
        for k, value in enumerate(msg):
            if inlet + k < len(items):
                items[inlet + k] = _coerce(items[inlet + k], value)
    if inlet == 0:
        o.out(0, list(items))


def _unpack(o: Obj, inlet: int, msg: Msg) -> None:
    for k in reversed(range(min(len(o.args), len(msg)))):
        o.out(k, [_coerce(o.args[k], msg[k])])


def _prepend(o: Obj, inlet: int, msg: Msg) -> None:
    if msg and msg[0] == "set":
        o.state["fix"] = msg[1:]
        return
    o.out(0, o.state["fix"] + msg if o.kind == "prepend" else msg + o.state["fix"])


def _message(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 1:
        o.state["content"] = msg
    elif msg and msg[0] == "set":
        o.state["content"] = msg[1:]
    else:
        o.out(0, list(o.state["content"]))


def _zl(o: Obj, inlet: int, msg: Msg) -> None:
    mode = o.kind[3:]
    if mode == "slice":
        n = o.args[0]
        if msg[n:]:
            o.out(1, msg[n:])
        o.out(0, msg[:n])
    elif mode == "reg":
        if inlet == 1:
            o.state["stored"] = msg
        elif msg == BANG:
            if "stored" in o.state:
                o.out(0, o.state["stored"])
        else:
            o.state["stored"] = msg
            o.out(0, msg)
    elif mode == "change":
        if msg == ["zlclear"]:
            o.state.pop("last", None)
        elif o.state.get("last") != msg:
            o.state["last"] = msg
            o.out(0, msg)
    else:
        raise NotImplementedError(o.kind)


def _route(o: Obj, inlet: int, msg: Msg) -> None:
    for k, arg in enumerate(o.args):
        if msg and msg[0] == arg:
            o.out(k, msg[1:] or BANG)
            return
    o.out(len(o.args), msg)


def _select(o: Obj, inlet: int, msg: Msg) -> None:
    for k, arg in enumerate(o.args):
        if msg and msg[0] == arg:
            o.out(k, BANG)
            return
    o.out(len(o.args), msg)


def _gate(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 0:
        o.state["open"] = int(num(msg))
    elif o.state["open"] > 0:
        o.out(o.state["open"] - 1, msg)


def _number(o: Obj, inlet: int, msg: Msg) -> None:
    cast = float if o.kind == "float" else int
    if inlet == 1:
        o.state["value"] = cast(num(msg))
    else:
        if msg != BANG:
            o.state["value"] = cast(num(msg))
        o.out(0, [o.state["value"]])


ARITH = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "%": lambda a, b: a % b if b else 0,
         "/": lambda a, b: (a / b if isinstance(a, float) else a // b) if b else 0,
         "rdiv": lambda a, b: (b / a if isinstance(b, float) else b // a) if a else 0}


def _arith(o: Obj, inlet: int, msg: Msg) -> None:
    arg = o.state.get("arg", o.args[0] if o.args else 0)
    if inlet == 1:
        o.state["arg"] = _coerce(arg, num(msg))
        return
    a = float(num(msg)) if isinstance(arg, float) else int(num(msg))
    o.out(0, [ARITH[o.kind](a, arg)])


def _expr(o: Obj, inlet: int, msg: Msg) -> None:
    values = o.state["values"]
    values[inlet] = num(msg)
    if inlet != 0:
        return
    o.out(0, [_evaluate(o.text.split(" ", 1)[1], values)])


_EXPR_NODES = (ast.Expression, ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Call,
               ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Add, ast.Sub, ast.Mult,
               ast.Div, ast.Mod, ast.And, ast.Or, ast.USub, ast.Not, ast.Eq, ast.NotEq, ast.Lt,
               ast.LtE, ast.Gt, ast.GtE)


def _evaluate(text: str, values: list[Any]) -> Any:
    """An expr expression with C operators, on $i/$f inputs (arithmetic only, no names)."""
    code = text.replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"\$i(\d+)", lambda m: f"int(v[{int(m.group(1)) - 1}])", code)
    code = re.sub(r"\$f(\d+)", lambda m: f"float(v[{int(m.group(1)) - 1}])", code)
    tree = ast.parse(code, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _EXPR_NODES) or (
                isinstance(node, ast.Name) and node.id not in ("v", "int", "float", "min", "max")):
            raise NotImplementedError(f"maxsim: expr {text!r} is beyond the model")
    result = eval(compile(tree, "<expr>", "eval"),
                  {"__builtins__": {}, "int": int, "float": float, "min": min, "max": max},
                  {"v": values})
    return int(result) if isinstance(result, (bool, int)) else result


def _maximum(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 1:
        o.args[0] = num(msg)
        return
    o.out(0, [max(_coerce(o.args[0], num(msg)), o.args[0])])


def _clip(o: Obj, inlet: int, msg: Msg) -> None:
    o.out(0, [min(max(num(msg), o.args[0]), o.args[1])])


def _change(o: Obj, inlet: int, msg: Msg) -> None:
    if o.state.get("last", 0) != num(msg):
        o.state["last"] = num(msg)
        o.out(0, [num(msg)])


def _pipe(o: Obj, inlet: int, msg: Msg) -> None:
    items, n = o.state["items"], len(o.state["items"])
    if msg == ["clear"]:
        for alive in o.state["pending"]:
            alive[0] = False
        o.state["pending"] = []
        return
    if inlet == n:
        o.state["delay"] = num(msg)
        return
    for k, value in enumerate(msg):
        if inlet + k < n:
            items[inlet + k] = _coerce(items[inlet + k], value)
        elif inlet + k == n:
            o.state["delay"] = value
    if inlet != 0:
        return
    snapshot = list(items)

    def fire() -> None:
        for k in reversed(range(n)):
            o.out(k, [snapshot[k]])
    o.state["pending"].append(o.sim.after(o.state["delay"], fire))


def _makenote(o: Obj, inlet: int, msg: Msg) -> None:
    if msg == ["flush"]:
        for pitch, alive in o.state["held"]:
            if alive[0]:
                alive[0] = False
                o.out(1, [0])
                o.out(0, [pitch])
        o.state["held"] = []
        return
    if inlet == 1:
        o.state["vel"] = num(msg)
        return
    if inlet == 2:
        o.state["dur"] = num(msg)
        return
    pitch = num(msg)
    o.out(1, [o.state["vel"]])
    o.out(0, [pitch])
    entry: list[Any] = [pitch, None]

    def off() -> None:
        o.out(1, [0])
        o.out(0, [pitch])
    entry[1] = o.sim.after(o.state["dur"], off)
    o.state["held"].append(entry)


def _noteout(o: Obj, inlet: int, msg: Msg) -> None:
    cold = o.state["cold"]
    if inlet:
        cold[inlet] = int(num(msg))
        return
    if o.kind == "noteout":
        o.sim.notes.append((o.sim.now, int(num(msg)), cold[1], cold[2]))
    else:
        o.sim.ccs.append((o.sim.now, cold[1], int(num(msg)), cold[2]))


def _flush(o: Obj, inlet: int, msg: Msg) -> None:
    held: list[int] = o.state.setdefault("held", [])
    if msg == BANG:
        for pitch in list(held):
            o.out(1, [0])
            o.out(0, [pitch])
        held.clear()
        return
    pitch, vel = int(msg[0]), int(msg[1]) if len(msg) > 1 else 0
    if vel and pitch not in held:
        held.append(pitch)
    elif not vel and pitch in held:
        held.remove(pitch)
    o.out(1, [vel])
    o.out(0, [pitch])


def _midiparse(o: Obj, inlet: int, msg: Msg) -> None:
    byte = int(msg[0])
    if byte & 0x80:
        o.state["status"], o.state["data"] = byte, []
        return
    o.state["data"].append(byte)
    status, data = o.state["status"], o.state["data"]
    if status >> 4 in (0x8, 0x9) and len(data) == 2:
        o.out(6, [(status & 0x0F) + 1])
        o.out(0, [data[0], data[1] if status >> 4 == 0x9 else 0])
        o.state["data"] = []
    elif status >> 4 == 0xB and len(data) == 2:
        o.out(6, [(status & 0x0F) + 1])
        o.out(2, [data[0], data[1]])
        o.state["data"] = []


def _midiformat(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 6:
        o.state["channel"] = int(num(msg))
        return
    channel = o.state.get("channel", 1) - 1
    if inlet == 0:
        o.sim.midi_out.append((o.sim.now, (0x90 | channel, int(msg[0]), int(msg[1]))))
    elif inlet == 2:
        o.sim.midi_out.append((o.sim.now, (0xB0 | channel, int(msg[0]), int(msg[1]))))


def _transport(o: Obj, inlet: int, msg: Msg) -> None:
    t, now = o.sim.transport, o.sim.now
    o.out(7, [t.beat_at(now) * 480.0])
    o.out(6, [int(t.playing)])
    o.out(5, [t.numerator, t.denominator])
    o.out(4, [float(t.tempo)])


def _metro_arm(o: Obj) -> None:
    if o.state.get("timer"):
        o.state["timer"][0] = False
    interval = o.args[0]
    if isinstance(interval, str):                 # tempo-relative: 16n, only while playing
        t = o.sim.transport
        if not t.playing:
            return
        beat = t.beat_at(o.sim.now)
        step = 4.0 / int(interval[:-1])
        wait = (step - beat % step) or step
        ms = wait * 60000.0 / t.tempo
    else:
        ms = float(interval)

    def tick() -> None:
        o.out(0, BANG)
        _metro_arm(o)
    o.state["timer"] = o.sim.after(ms, tick)


def _metro(o: Obj, inlet: int, msg: Msg) -> None:
    on = msg != ["stop"] and num(msg) != 0
    o.state["on"] = on
    if o.state.get("timer"):
        o.state["timer"][0] = False
        o.state["timer"] = None
    if on:
        if not isinstance(o.args[0], str):
            o.out(0, BANG)
        _metro_arm(o)


def _delay(o: Obj, inlet: int, msg: Msg) -> None:
    if o.state.get("timer"):
        o.state["timer"][0] = False
    if msg != ["stop"]:
        o.state["timer"] = o.sim.after(float(o.args[0]), lambda: o.out(0, BANG))


def _send(o: Obj, inlet: int, msg: Msg) -> None:
    for r in o.sim.objs.values():
        if r.kind == "receive" and r.args == o.args:
            r.out(0, msg)


def _udpsend(o: Obj, inlet: int, msg: Msg) -> None:
    if msg[0] == "port":
        o.sim.udp_port = int(msg[1])
    else:
        o.sim.sent.append((o.sim.now, msg[0], msg[1:], o.sim.udp_port))


def _udpreceive(o: Obj, inlet: int, msg: Msg) -> None:
    if msg[0] == "port":
        o.sim.listen_port = int(msg[1])


def _live_path(o: Obj, inlet: int, msg: Msg) -> None:
    if msg[:2] == ["path", "this_device"]:
        o.out(0, ["id", o.sim.live_id])
    elif msg[:2] == ["path", "live_set"]:
        o.out(0, ["id", 1])


def _observer(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 1 and msg[0] == "id":
        o.state["bound"] = True
        o.out(0, [o.sim.live[o.args[0]]])


def _random(o: Obj, inlet: int, msg: Msg) -> None:
    o.out(0, [o.sim.rng.randrange(int(o.args[0]))])


def _tosymbol(o: Obj, inlet: int, msg: Msg) -> None:
    o.out(0, [o.attrs.get("separator", " ").join(str(a) for a in msg)])


def _uzi(o: Obj, inlet: int, msg: Msg) -> None:
    for k in range(1, int(o.args[0]) + 1):
        o.out(2, [k])
        o.out(0, BANG)
    o.out(1, BANG)


def _nothing(o: Obj, inlet: int, msg: Msg) -> None:
    pass


HANDLERS = {
    "trigger": _trigger, "pack": _pack, "pak": _pack, "unpack": _unpack, "prepend": _prepend,
    "append": _prepend, "message": _message, "comment": _text, "live.comment": _text,
    "zl.slice": _zl, "zl.reg": _zl, "zl.change": _zl, "route": _route, "select": _select,
    "gate": _gate, "int": _number, "float": _number, "+": _arith, "*": _arith, "%": _arith,
    "/": _arith, "rdiv": _arith, "expr": _expr, "maximum": _maximum, "clip": _clip,
    "change": _change, "pipe": _pipe, "makenote": _makenote, "noteout": _noteout,
    "ctlout": _noteout, "flush": _flush, "midiin": _nothing, "midiparse": _midiparse,
    "midiformat": _midiformat, "midiout": _nothing, "transport": _transport,
    "metro": _metro, "delay": _delay, "send": _send, "receive": _nothing,
    "udpsend": _udpsend, "udpreceive": _udpreceive, "live.path": _live_path,
    "live.observer": _observer, "live.thisdevice": _nothing, "random": _random,
    "tosymbol": _tosymbol, "uzi": _uzi, "freebang": _nothing,
}
