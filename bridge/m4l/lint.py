"""Lint a device's patcher JSON against Max's object table and Ableton's guidelines.

``lint(patcher)`` returns problems as strings (empty: clean). It reads only the JSON, so it
checks a built device the way Max would load it: every cord between existing boxes and
in-range inlets/outlets (counts recomputed from each box's text, arguments included), the
JSON's own counts right, whole-pixel rects, the presentation inside the device's 169 px,
opening in presentation, unique parameter long names (and the required ones present), no
``print``/``loadbang``/``js``, and every ``send``/``receive`` name local (``---``) and
paired.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from bridge.m4l import objects
from bridge.m4l.patch import DEVICE_HEIGHT

FORBIDDEN = {"print": "prints to the Max console",
             "loadbang": "initialise from live.thisdevice instead",
             "loadmess": "initialise from live.thisdevice instead",
             "js": "runs on the low-priority thread; keep to native objects",
             "node.script": "a separate process; keep to native objects"}
NAMED = {"send", "receive", "value", "pv", "forward", "coll", "buffer~", "table"}


def boxes(patcher: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["box"] for entry in patcher["patcher"]["boxes"]]


def lines(patcher: dict[str, Any]) -> list[tuple[str, int, str, int]]:
    return [(ln["patchline"]["source"][0], ln["patchline"]["source"][1],
             ln["patchline"]["destination"][0], ln["patchline"]["destination"][1])
            for ln in patcher["patcher"]["lines"]]


def expected_counts(box: dict[str, Any]) -> tuple[int, int]:
    if box["maxclass"] == "newobj":
        return objects.io_counts(box.get("text", ""))
    if box["maxclass"] == "message":
        return (2, 1)
    return objects.ui_counts(box["maxclass"])


def lint(patcher: dict[str, Any], required: Iterable[str] = ()) -> list[str]:
    problems: list[str] = []
    top = patcher["patcher"]
    every = boxes(patcher)
    ids = Counter(b["id"] for b in every)
    problems += [f"box id {i} is used {n} times" for i, n in ids.items() if n > 1]
    by_id = {b["id"]: b for b in every}
    counts: dict[str, tuple[int, int]] = {}
    for box in every:
        label = f"{box['id']} ({box.get('text') or box['maxclass']})"
        problems += _box_problems(box, label, top)
        try:
            counts[box["id"]] = expected_counts(box)
        except objects.UnknownObjectError as exc:
            problems.append(f"{label}: {exc}")
            continue
        if counts[box["id"]] != (box["numinlets"], box["numoutlets"]):
            problems.append(f"{label}: JSON says {box['numinlets']} inlets/"
                            f"{box['numoutlets']} outlets, the object has "
                            f"{counts[box['id']][0]}/{counts[box['id']][1]}")
    for src, outlet, dst, inlet in lines(patcher):
        if src not in by_id or dst not in by_id:
            problems.append(f"cord {src}:{outlet} -> {dst}:{inlet} names a missing box")
            continue
        if src in counts and not 0 <= outlet < counts[src][1]:
            problems.append(f"cord from {src} ({by_id[src].get('text')}) outlet {outlet}: "
                            f"it has {counts[src][1]}")
        if dst in counts and not 0 <= inlet < counts[dst][0]:
            problems.append(f"cord to {dst} ({by_id[dst].get('text')}) inlet {inlet}: "
                            f"it has {counts[dst][0]}")
    problems += _patcher_problems(top, every, required)
    return problems


def _box_problems(box: dict[str, Any], label: str, top: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("patching_rect", "presentation_rect"):
        rect = box.get(key)
        if rect is not None and any(float(v) != int(v) for v in rect):
            problems.append(f"{label}: {key} {rect} is not on whole pixels")
    if box.get("presentation"):
        x, y, w, h = box["presentation_rect"]
        height, width = top["openrect"][3], top.get("devicewidth") or top["openrect"][2]
        if x < 0 or y < 0 or y + h > height or x + w > width:
            problems.append(f"{label}: presentation_rect {box['presentation_rect']} leaves "
                            f"the device's {width:g} x {height:g}")
    if box["maxclass"] == "newobj":
        name, args, _ = objects.split(box.get("text", ""))
        name = objects.canonical(name)
        if name in FORBIDDEN:
            problems.append(f"{label}: no {name}: {FORBIDDEN[name]}")
        if name in NAMED and args and not args[0].startswith("---"):
            problems.append(f"{label}: {name} name {args[0]!r} is global; prefix it ---")
    return problems


def _patcher_problems(top: dict[str, Any], every: list[dict[str, Any]],
                      required: Iterable[str]) -> list[str]:
    problems = []
    if top.get("openinpresentation") != 1:
        problems.append("the device does not open in presentation mode")
    if top["openrect"][3] != DEVICE_HEIGHT:
        problems.append(f"openrect height {top['openrect'][3]} is not {DEVICE_HEIGHT}")
    params = [b for b in every if b.get("parameter_enable")]
    longnames = [b["saved_attribute_attributes"]["valueof"]["parameter_longname"]
                 for b in params]
    problems += [f"parameter long name {n!r} is used {c} times"
                 for n, c in Counter(longnames).items() if c > 1]
    problems += [f"required parameter {n!r} is missing" for n in required
                 if n not in longnames]
    for b in params:
        if not b["maxclass"].startswith("live."):
            problems.append(f"{b['id']}: parameter {b.get('varname')} is not a live.* object")
    listed = {k for k in top.get("parameters", {}) if k.startswith("obj-")}
    if listed != {b["id"] for b in params}:
        problems.append(f"patcher.parameters lists {sorted(listed)}, the parameter boxes are "
                        f"{sorted(b['id'] for b in params)}")
    sends, receives = set(), set()
    for b in every:
        if b["maxclass"] == "newobj":
            name, args, _ = objects.split(b.get("text", ""))
            if objects.canonical(name) == "send" and args:
                sends.add(args[0])
            if objects.canonical(name) == "receive" and args:
                receives.add(args[0])
    problems += [f"[r {n}] has no [s {n}]" for n in sorted(receives - sends)]
    problems += [f"[s {n}] has no [r {n}]" for n in sorted(sends - receives)]
    return problems
