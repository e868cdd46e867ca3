"""OSC on the wire for Continuo's routes: checked encoding, defensive decoding.

``encode`` checks a message against its route (``out`` for the daemon, ``in`` for clients)
and builds it with python-osc's ``OscMessageBuilder``. ``decode`` turns a datagram into flat
:class:`Message` s: bundles are unpacked and their time tags ignored (a message is handled
when it arrives). Decoding walks the packet here with python-osc's ``osc_types`` readers
rather than its ``OscBundle``/``OscMessage``, which loop forever on a negative bundle element
size, skip an unknown type tag with only a log line (shifting the arguments after it), pad a
truncated float with zeros and ignore trailing bytes.

Argument rules (``check_args``): ``i`` is an int32 (a Python ``bool`` is not an int here),
``f`` a finite float32 (an int is accepted and becomes a float), ``s`` a string, ``any`` one
of the three. Decoded ``d`` (double) arrives as a float and ``h`` (int64) as an int, so both
pass where they fit; ``T``/``F`` arrive as bools and are refused, since no route takes one.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import osc_types

from bridge.osc.routes import IN, OUT, Arg, Route, route

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38
DECODABLE_TAGS = "ifdshTF"        # what a client may send; anything else is refused
MAX_BUNDLE_DEPTH = 8
_BUNDLE = b"#bundle\x00"
_SIZES = {"i": 4, "f": 4, "d": 8, "h": 8}
_READERS = {"i": osc_types.get_int, "f": osc_types.get_float, "d": osc_types.get_double,
            "h": osc_types.get_int64, "s": osc_types.get_string}

_EXPECTED = {"i": "an int32 (i)", "f": "a number (f)", "s": "a string (s)",
             "any": "an int32, float or string"}


class OscError(ValueError):
    """Base of the codec's errors; the message is fit for a ``/continuo/error`` reply."""


class OscDecodeError(OscError):
    """A datagram that is not usable OSC. ``address`` is set when it could be read."""

    def __init__(self, reason: str, address: str = "") -> None:
        super().__init__(reason)
        self.address = address


class OscArgumentError(OscError):
    """Arguments that do not fit a route (count, type or range), or an unknown address."""


@dataclass(frozen=True)
class Message:
    """One decoded OSC message: ``str()`` gives ``ADDRESS arg arg ...`` for printing."""

    address: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return " ".join([self.address, *(format_arg(a) for a in self.args)])


def format_arg(value: Any) -> str:
    """One argument for humans: strings bare (quoted when empty or spaced), floats short."""
    if isinstance(value, str):
        return repr(value) if not value or any(c.isspace() for c in value) else value
    if isinstance(value, float):
        text = f"{value:.7g}"   # float32 carries about 7 significant digits
        return text if any(c in text for c in ".ein") else text + ".0"
    return str(value)


# -- checking arguments against a route ---------------------------------------------------

def check_args(rt: Route, args: Sequence[Any]) -> tuple[Any, ...]:
    """``args`` checked against ``rt``: ints where ``f`` is declared become floats.

    Raises :class:`OscArgumentError` naming the route's signature and what was wrong.
    """
    if isinstance(args, (str, bytes)):
        raise OscArgumentError(f"{rt.address}: arguments must be a sequence, not one "
                               f"{type(args).__name__}")
    args = tuple(args)
    problem = _count_problem(rt, len(args))
    if problem:
        raise OscArgumentError(f"{_takes(rt)}; {problem}")
    specs = arg_specs(rt, len(args))
    return tuple(_check_value(rt, i, spec, value)
                 for i, (spec, value) in enumerate(zip(specs, args, strict=True)))


def arg_specs(rt: Route, n: int) -> list[Arg]:
    """The declared :class:`Arg` for each of ``n`` positions (repeat groups unrolled)."""
    specs = list(rt.args[:n])
    while len(specs) < n and rt.repeat:
        specs.append(rt.repeat[(len(specs) - len(rt.args)) % len(rt.repeat)])
    return specs


def split_args(rt: Route, args: Sequence[Any]) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """Checked ``args`` as (name -> value for the fixed arguments present, repeat groups)."""
    named = {spec.name: value for spec, value in zip(rt.args, args, strict=False)}
    rest, width = tuple(args[len(rt.args):]), len(rt.repeat)
    groups = [rest[j:j + width] for j in range(0, len(rest), width)] if width else []
    return named, groups


def _takes(rt: Route) -> str:
    return f"{rt.address} takes {rt.signature or 'no arguments'}"


def _count_problem(rt: Route, n: int) -> str:
    fixed, least = len(rt.args), rt.min_args
    if rt.repeat:
        if n < fixed:
            return f"got {n} argument{'s' * (n != 1)}, need at least {fixed}"
        if (n - fixed) % len(rt.repeat):
            names = " ".join(a.name for a in rt.repeat)
            return f"got {n} arguments: the last ({names}) group is incomplete"
        return ""
    if least <= n <= fixed:
        return ""
    need = str(fixed) if least == fixed else f"{least} to {fixed}"
    return f"got {n} argument{'s' * (n != 1)}, need {need}"


def _check_value(rt: Route, index: int, spec: Arg, value: Any) -> Any:
    kind = spec.type
    if isinstance(value, bool):
        problem = f"got boolean {value} (T/F); send 1 or 0 as an int instead"
    elif isinstance(value, int) and kind in ("i", "any", "f"):
        if kind == "f":
            return _check_value(rt, index, spec, float(value))
        if INT32_MIN <= value <= INT32_MAX:
            return value
        problem = f"got int {value}, outside int32"
    elif isinstance(value, float) and kind in ("f", "any"):
        if math.isfinite(value) and abs(value) <= FLOAT32_MAX:
            return value
        problem = f"got float {value!r}, not a finite float32"
    elif isinstance(value, str) and kind in ("s", "any"):
        if "\x00" not in value:
            return value
        problem = "got a string containing NUL"
    else:
        problem = f"got {describe(value)}"
    raise OscArgumentError(f"{_takes(rt)}; argument {index + 1} ({spec.name}) must be "
                           f"{_EXPECTED[kind]}: {problem}")


def describe(value: Any) -> str:
    """A value as an error message shows it: its OSC-ish type and a short repr."""
    kind = {bool: "boolean", int: "int", float: "float", str: "string"}.get(type(value))
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{kind} {text}" if kind else f"{type(value).__name__} {text}"


# -- encoding -------------------------------------------------------------------------------

def encode(address: str, args: Sequence[Any] = (), direction: str = OUT) -> bytes:
    """The datagram for ``address`` with ``args``, checked against its ``direction`` route."""
    try:
        rt = route(address, direction)
    except KeyError:
        other = IN if direction == OUT else OUT
        hint = ""
        try:
            route(address, other)
            hint = f" (it is an {other!r} route)"
        except KeyError:
            pass
        raise OscArgumentError(f"no {direction!r} route {address!r}{hint}") from None
    values = check_args(rt, args)
    specs = arg_specs(rt, len(values))
    return _build(address, [(_tag(spec.type, value), value)
                            for spec, value in zip(specs, values, strict=True)])


def encode_raw(address: str, args: Sequence[Any] = ()) -> bytes:
    """An unchecked datagram, typed by Python type (bool T/F, int i/h, float f, str s).

    For tests and tools that must send what the routes forbid; the daemon never uses it.
    """
    def tag(value: Any) -> str:
        if isinstance(value, bool):
            return "T" if value else "F"
        if isinstance(value, int):
            return "i" if INT32_MIN <= value <= INT32_MAX else "h"
        return {float: "f", str: "s"}[type(value)]
    return _build(address, ((tag(v), v) for v in args))


def _tag(kind: str, value: Any) -> str:
    if kind != "any":
        return kind
    return "i" if isinstance(value, int) else "f" if isinstance(value, float) else "s"


def _build(address: str, typed: Any) -> bytes:
    builder = OscMessageBuilder(address=address)
    for tag, value in typed:
        builder.add_arg(value, tag)
    return builder.build().dgram


# -- decoding -------------------------------------------------------------------------------

def decode(datagram: bytes) -> list[Message]:
    """The messages in one datagram, bundles flattened in order; time tags are ignored.

    Raises :class:`OscDecodeError` with a reason for anything malformed; a bundle with one
    bad element is refused as a whole (bundles are atomic in OSC).
    """
    data = bytes(datagram)
    if not data:
        raise OscDecodeError("empty packet")
    messages: list[Message] = []
    _walk(data, 0, messages)
    return messages


def _walk(data: bytes, depth: int, out: list[Message]) -> None:
    if data.startswith(b"/"):
        out.append(_message(data))
        return
    if not data.startswith(_BUNDLE):
        raise OscDecodeError(f"not OSC: a packet starts with '/' or '#bundle', this one with "
                             f"{data[:8]!r}")
    if depth >= MAX_BUNDLE_DEPTH:
        raise OscDecodeError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    index = len(_BUNDLE) + 8          # skip the time tag: messages run when they arrive
    if len(data) < index:
        raise OscDecodeError("truncated bundle: no complete time tag")
    while index < len(data):
        if index + 4 > len(data):
            raise OscDecodeError(f"truncated bundle: element size at byte {index} is cut off")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or index + size > len(data):
            raise OscDecodeError(f"bad bundle element size {size} at byte {index - 4} "
                                 f"({len(data) - index} bytes left)")
        _walk(data[index:index + size], depth + 1, out)
        index += size


def _message(data: bytes) -> Message:
    try:
        address, index = osc_types.get_string(data, 0)
    except (osc_types.ParseError, UnicodeDecodeError):
        raise OscDecodeError("unreadable address (not a NUL-terminated UTF-8 string)") from None
    if index == len(data):  # no type tag string at all: an old-style message without args
        return Message(address)
    try:
        tags, index = osc_types.get_string(data, index)
    except (osc_types.ParseError, UnicodeDecodeError):
        raise OscDecodeError("unreadable type tag string", address) from None
    if not tags.startswith(","):
        raise OscDecodeError(f"type tag string {tags!r} does not start with ','", address)
    unsupported = sorted(set(tags[1:]) - set(DECODABLE_TAGS))
    if unsupported:
        raise OscDecodeError(f"unsupported OSC type tag {', '.join(unsupported)} in {tags!r} "
                             f"(use {', '.join(DECODABLE_TAGS)})", address)
    args: list[Any] = []
    for number, tag in enumerate(tags[1:], 1):
        if tag in "TF":
            args.append(tag == "T")
            continue
        size = _SIZES.get(tag, 0)
        if index + size > len(data):   # python-osc would pad a short float with zeros
            raise OscDecodeError(f"truncated: argument {number} ({tag}) needs {size} bytes, "
                                 f"{len(data) - index} left", address)
        try:
            value, index = _READERS[tag](data, index)
        except UnicodeDecodeError:
            raise OscDecodeError(f"argument {number} (s) is not valid UTF-8", address) from None
        except osc_types.ParseError:
            raise OscDecodeError(f"truncated: argument {number} (s) is not a complete OSC "
                                 "string", address) from None
        args.append(value)
    if index != len(data):
        raise OscDecodeError(f"{len(data) - index} bytes after the arguments of type tags "
                             f"{tags!r}", address)
    return Message(address, tuple(args))
