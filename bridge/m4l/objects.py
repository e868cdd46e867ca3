"""Inlet and outlet counts of Max objects, for the boxes the device builder writes.

``max_objects.json`` (vendored from Ableton's maxdevtools, MIT, Copyright (c) 2024 Ableton
AG) holds the counts of each object's default instance, measured in Max 8.6, and Max's
aliases. Arguments change some of them; :func:`io_counts` applies the rules for the classes
whose counts depend on their arguments, trusts the table for the classes listed as
argument-insensitive, and raises :class:`UnknownObjectError` for anything else, so a box
whose counts we cannot vouch for never reaches a device.

Rules (checked against patches saved by Max 8, see tests/m4l/test_m4l_objects.py):
``route a b`` / ``routepass`` / ``select 1 2``: one inlet and one outlet per argument plus
one (the extra outlet takes what matched nothing, each extra inlet replaces an argument);
``trigger b i``: one outlet per argument; ``pack 0 0.`` / ``pak``: one inlet per argument;
``unpack``: one outlet per argument; ``gate N``: N outlets; ``pipe 0 0 100``: the last
argument is the delay (its own inlet), the others are the stored elements (an inlet and
an outlet each); ``expr``: as many inlets as the highest ``$i3``/``$f3``/``$s3`` index;
``udpsend HOST PORT``: one inlet; ``send NAME``: one inlet; ``receive NAME``: no inlet.
Words starting with ``@`` are attributes and never change counts.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

TABLE_FILE = "max_objects.json"


class UnknownObjectError(ValueError):
    """An object whose inlet/outlet counts cannot be determined."""


@cache
def table() -> dict[str, Any]:
    return json.loads(resources.files("bridge.m4l").joinpath(TABLE_FILE)
                      .read_text(encoding="utf-8"))


def tokens(text: str) -> list[str]:
    """A box's text split into atoms as Max does: whitespace, "double quotes" group."""
    out: list[str] = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        out.append(match.group(1) if match.group(2) is None else match.group(2))
    return out


def split(text: str) -> tuple[str, list[str], list[str]]:
    """``"pack 0 0. @x 1"`` -> (class name, positional arguments, attribute words)."""
    words = tokens(text)
    if not words:
        raise UnknownObjectError("empty object box")
    args = words[1:]
    first_attr = next((i for i, w in enumerate(args) if w.startswith("@")), len(args))
    return words[0], args[:first_attr], args[first_attr:]


def canonical(name: str) -> str:
    """The class an alias stands for (``t`` -> ``trigger``, ``sel`` -> ``select``)."""
    return table()["aliases"].get(name, name)


def default_entry(name: str) -> dict[str, Any]:
    objects = table()["objects"]
    entry = objects.get(name) or objects.get(canonical(name))
    if entry is None:
        raise UnknownObjectError(f"{name!r} is not a Max object known to {TABLE_FILE}")
    return entry


_ARITH = {"+", "-", "*", "/", "%", "rminus", "rdiv", "==", "!=", ">", "<", ">=", "<=", "&&",
          "||", "&", "|", "<<", ">>"}

# Classes whose counts do not depend on their arguments (verified or documented): the
# table's default counts hold for any arguments.
ARG_INSENSITIVE = _ARITH | {
    "append", "prepend", "delay", "metro", "makenote", "ctlout", "noteout", "random", "int",
    "float", "change", "tosymbol", "fromsymbol", "uzi", "flush", "midiformat", "midiparse",
    "midiin", "midiout", "transport", "live.observer", "live.path", "live.object",
    "live.thisdevice", "clip", "maximum", "minimum", "udpreceive", "freebang", "closebang",
    "loadbang", "deferlow", "defer", "speedlim", "plugsync~", "onebang", "togedge",
}


def _count_args(name: str, args: list[str]) -> tuple[int, int] | None:
    n = len(args)
    if name in ("route", "routepass", "select"):
        return None if n == 0 else (n + 1, n + 1)
    if name == "trigger":
        return None if n == 0 else (1, n)
    if name in ("pack", "pak"):
        return None if n == 0 else (n, 1)
    if name == "unpack":
        return None if n == 0 else (1, n)
    if name == "gate":
        return (2, _int_arg(name, args[0]) if n else 1)
    if name == "bangbang":
        return (1, _int_arg(name, args[0]) if n else 2)
    if name == "pipe":
        return (2, 1) if n <= 1 else (n, n - 1)
    if name == "udpsend":
        if n < 2:
            raise UnknownObjectError("udpsend needs HOST and PORT arguments")
        return (1, 0)
    if name == "send":
        if n < 1:
            raise UnknownObjectError("send needs a name")
        return (1, 0)
    if name == "receive":
        return (0, 1) if n else (1, 1)
    if name == "expr":
        indices = [int(m) for m in re.findall(r"\$[ifs](\d+)", " ".join(args))]
        if not indices:
            raise UnknownObjectError(f"expr without inputs: {' '.join(args)!r}")
        return (max(indices), 1)
    raise KeyError(name)


def _int_arg(name: str, word: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise UnknownObjectError(f"{name}: argument {word!r} is not a count") from None


def io_counts(text: str) -> tuple[int, int]:
    """(numinlets, numoutlets) of the object box ``text``, arguments accounted for."""
    word, args, _attrs = split(text)
    name = canonical(word)
    if name.startswith("zl.") or name == "zl":
        return (2, 2)        # every zl mode: 2 inlets, 2 outlets, whatever the arguments
    try:
        counts = _count_args(name, args)
    except KeyError:
        counts = None
        if args and name not in ARG_INSENSITIVE:
            raise UnknownObjectError(
                f"{text!r}: no rule for how arguments change the counts of {name!r}; "
                "add one to bridge/m4l/objects.py") from None
    if counts is not None:
        return counts
    entry = default_entry(word)
    if entry["numinlets"] == 0 and entry["numoutlets"] == 0:
        raise UnknownObjectError(f"{text!r}: {name!r} has no usable default counts")
    return entry["numinlets"], entry["numoutlets"]


def ui_counts(maxclass: str) -> tuple[int, int]:
    """Counts of a UI object (``live.dial``, ``message``, ``comment``, ...) by maxclass."""
    entry = table()["objects"].get(maxclass)
    if entry is None or entry.get("maxclass") != maxclass:
        raise UnknownObjectError(f"{maxclass!r} is not a UI object known to {TABLE_FILE}")
    return entry["numinlets"], entry["numoutlets"]


def is_ui(maxclass: str) -> bool:
    entry = table()["objects"].get(maxclass)
    return entry is not None and entry.get("maxclass") not in (None, "newobj")


_TRIGGER_TYPES = {"b": "bang", "i": "int", "f": "float"}


def outlet_types(text: str) -> list[str]:
    """Outlet types Max would show for ``text`` (cosmetic: Max recomputes them on load)."""
    word, args, _ = split(text)
    name = canonical(word)
    n_out = io_counts(text)[1]
    if name == "trigger" and args:
        return [_TRIGGER_TYPES.get(a, "int" if re.fullmatch(r"-?\d+", a) else "")
                for a in args]
    if name == "select" and args:
        return ["bang"] * len(args) + [""]
    if name == "unpack" and args:
        return [atom_type(a) if atom_type(a) in ("int", "float") else "" for a in args]
    default = list(default_entry(word)["outlettype"]) if not name.startswith("zl") else []
    return (default + [""] * n_out)[:n_out] if default else [""] * n_out


def atom_type(word: str) -> str:
    """``"3"`` -> int, ``"3."`` -> float, anything else -> symbol (Max's parsing)."""
    if re.fullmatch(r"[-+]?\d+", word):
        return "int"
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+\.?\d*[eE][-+]?\d+)", word):
        return "float"
    return "symbol"
