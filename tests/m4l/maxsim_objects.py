"""What each Max object of the device does with a message, for :mod:`bridge.m4l.maxsim`:
messages, lists, numbers, sends and the Live API stubs. The clocked objects (pipe, makenote,
metro, delay, the MIDI objects) are in :mod:`bridge.m4l.maxsim_timing`."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bridge.m4l import objects

if TYPE_CHECKING:
    from bridge.m4l.maxsim import Obj

Msg = list[Any]
BANG: Msg = ["bang"]
Handler = Callable[["Obj", int, Msg], None]


def atom(word: str) -> Any:
    kind = objects.atom_type(word)
    return int(word) if kind == "int" else float(word) if kind == "float" else word


def num(msg: Msg) -> float:
    return msg[0] if msg and isinstance(msg[0], (int, float)) else 0


def init_state(o: Obj) -> None:
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


def param_value(o: Obj) -> Msg:
    spec = o.attrs["saved_attribute_attributes"]["valueof"]
    value = o.state["value"]
    return [float(value)] if spec["parameter_type"] == 0 else [int(value)]


def ui(o: Obj, inlet: int, msg: Msg) -> None:
    if not o.attrs.get("parameter_enable"):
        return
    if msg == BANG:
        o.out(0, param_value(o))
    elif msg[0] == "set":
        o.state["value"] = msg[1]
    else:
        o.state["value"] = msg[0]
        o.out(0, param_value(o))


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


def coerce(template: Any, value: Any) -> Any:
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
                items[inlet + k] = coerce(items[inlet + k], value)
    if inlet == 0:
        o.out(0, list(items))


def _unpack(o: Obj, inlet: int, msg: Msg) -> None:
    for k in reversed(range(min(len(o.args), len(msg)))):
        o.out(k, [coerce(o.args[k], msg[k])])


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
        o.state["arg"] = coerce(arg, num(msg))
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
    o.out(0, [max(coerce(o.args[0], num(msg)), o.args[0])])


def _clip(o: Obj, inlet: int, msg: Msg) -> None:
    o.out(0, [min(max(num(msg), o.args[0]), o.args[1])])


def _change(o: Obj, inlet: int, msg: Msg) -> None:
    if o.state.get("last", 0) != num(msg):
        o.state["last"] = num(msg)
        o.out(0, [num(msg)])


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


MESSAGE_OBJECTS: dict[str, Handler] = {
    "trigger": _trigger, "pack": _pack, "pak": _pack, "unpack": _unpack, "prepend": _prepend,
    "append": _prepend, "message": _message, "comment": _text, "live.comment": _text,
    "zl.slice": _zl, "zl.reg": _zl, "zl.change": _zl, "route": _route, "select": _select,
    "gate": _gate, "int": _number, "float": _number, "+": _arith, "*": _arith, "%": _arith,
    "/": _arith, "rdiv": _arith, "expr": _expr, "maximum": _maximum, "clip": _clip,
    "change": _change, "midiin": _nothing, "midiout": _nothing, "send": _send,
    "receive": _nothing, "udpsend": _udpsend, "udpreceive": _udpreceive,
    "live.path": _live_path, "live.observer": _observer, "live.thisdevice": _nothing,
    "random": _random, "tosymbol": _tosymbol, "uzi": _uzi, "freebang": _nothing,
}
