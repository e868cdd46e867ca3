"""A small patch-building DSL: boxes, cords and ``live.*`` parameters -> ``.maxpat`` JSON.

``Patch.box("pack 0 0.")`` creates an object box whose inlet/outlet counts come from
:mod:`bridge.m4l.objects` (arguments accounted for); ``Patch.box("live.dial")`` a UI object;
``message``/``comment`` the two text boxes; ``parameter`` a ``live.*`` object that Live
saves, automates and maps. ``connect`` refuses out-of-range outlets/inlets and, unless told
``fanout=True``, a second cord from one outlet (Max orders fan-out by screen position:
order with ``trigger`` instead). Boxes without a ``patching_rect`` are laid out in
sections (one column each, rows top to bottom) so the patch reads like its source.
``to_json`` gives ``{"patcher": {...}}``, deterministic for a given build.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bridge.m4l import objects

DEVICE_HEIGHT = 169                      # Live shows every device 169 px high
DEVICE_TYPES = {"midi": "mmmm", "audio": "aaaa", "instrument": "iiii"}
APPVERSION = {"major": 8, "minor": 6, "revision": 0, "architecture": "x64", "modernui": 1}
TEXT_CLASSES = ("newobj", "message", "comment", "live.comment")
PARAM_TYPES = {"float": 0, "int": 1, "enum": 2}
VISIBILITY = {"automated": 0, "stored": 1, "hidden": 2}   # parameter_invisible

UI_SIZES = {"live.dial": (44, 48), "live.numbox": (44, 15), "live.menu": (100, 15),
            "live.tab": (120, 18), "live.toggle": (15, 15), "live.button": (15, 15),
            "live.text": (44, 15)}
ROW_H, H_GAP, V_GAP, SECTION_GAP, TOP, WRAP_X, ROW_W = 22, 12, 14, 60, 20, 1500, 900


def amxdtype(tag: str) -> int:
    """``project.amxdtype`` for a device type tag: its four ASCII bytes, big-endian."""
    return int.from_bytes(tag.encode("ascii"), "big")


class PatchError(ValueError):
    """A box or cord that would not work in Max."""


@dataclass(frozen=True)
class ParamSpec:
    """A ``live.*`` parameter: the long name is the one Live saves, automates and maps."""

    longname: str
    shortname: str
    type: str                              # float, int or enum
    initial: float | int
    mmin: float = 0.0
    mmax: float = 1.0
    enum: tuple[str, ...] = ()
    unitstyle: int = 1                     # 0 int, 1 float, 9 custom/enum ...
    visibility: str = "automated"          # automated, stored (only) or hidden
    annotation: str = ""
    initial_enable: bool = True            # restore (and output) `initial` on load

    def valueof(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "parameter_longname": self.longname, "parameter_shortname": self.shortname,
            "parameter_type": PARAM_TYPES[self.type],
            "parameter_mmin": self.mmin, "parameter_mmax": self.mmax,
            "parameter_initial_enable": int(self.initial_enable),
            "parameter_initial": [self.initial],
            "parameter_unitstyle": self.unitstyle,
            "parameter_invisible": VISIBILITY[self.visibility],
        }
        if self.enum:
            value["parameter_enum"] = list(self.enum)
            value["parameter_mmax"] = len(self.enum) - 1
        if self.annotation:
            value["parameter_annotation_name"] = self.shortname
        return value


@dataclass
class Box:
    id: str
    maxclass: str
    text: str | None
    numinlets: int
    numoutlets: int
    outlettype: list[str]
    patching_rect: tuple[int, int, int, int]
    presentation_rect: tuple[int, int, int, int] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    param: ParamSpec | None = None

    @property
    def name(self) -> str:
        """The object class of a newobj (``pack``), else the maxclass."""
        return objects.split(self.text)[0] if self.maxclass == "newobj" and self.text else \
            self.maxclass

    def to_json(self) -> dict[str, Any]:
        box: dict[str, Any] = {
            "id": self.id, "maxclass": self.maxclass,
            "numinlets": self.numinlets, "numoutlets": self.numoutlets,
            "patching_rect": [float(v) for v in self.patching_rect],
        }
        if self.numoutlets:
            box["outlettype"] = list(self.outlettype)
        if self.text is not None:
            box["text"] = self.text
        if self.presentation_rect is not None:
            box["presentation"] = 1
            box["presentation_rect"] = [float(v) for v in self.presentation_rect]
        if self.param is not None:
            box["parameter_enable"] = 1
            box["varname"] = self.param.longname
            box["saved_attribute_attributes"] = {"valueof": self.param.valueof()}
            if self.param.annotation:
                box["annotation"] = self.param.annotation
                box["annotation_name"] = self.param.shortname
        elif self.maxclass.startswith("live.") and self.maxclass != "live.comment":
            box["parameter_enable"] = 0
        box.update(self.attrs)
        return {"box": box}


@dataclass
class _Column:
    x0: int
    x: int
    y: int
    row_h: int = 0
    right: int = 0


class Patch:
    def __init__(self, width: int, height: int = DEVICE_HEIGHT, device: str = "midi") -> None:
        self.width, self.height, self.device_type = width, height, DEVICE_TYPES[device]
        self.boxes: list[Box] = []
        self.lines: list[tuple[str, int, str, int]] = []
        self._by_id: dict[str, Box] = {}
        self._col = _Column(0, 0, TOP)
        self._next_x, self._band_top, self._band_bottom = 0, TOP, TOP

    # -- boxes --------------------------------------------------------------------------

    def box(self, text_or_maxclass: str, patching_rect: tuple[int, int, int, int] | None = None,
            presentation_rect: tuple[int, int, int, int] | None = None, **attrs: Any) -> Box:
        """An object box (``"pack 0 0."``) or a UI object by maxclass (``"live.dial"``)."""
        if objects.is_ui(text_or_maxclass):
            maxclass, text = text_or_maxclass, attrs.pop("text", None)
            ins, outs = objects.ui_counts(maxclass)
            types = list(objects.table()["objects"][maxclass]["outlettype"])
        else:
            maxclass, text = "newobj", text_or_maxclass
            ins, outs = objects.io_counts(text)
            types = objects.outlet_types(text)
        return self._add(maxclass, text, ins, outs, types, patching_rect, presentation_rect,
                         attrs)

    def message(self, text: str, patching_rect: tuple[int, int, int, int] | None = None,
                presentation_rect: tuple[int, int, int, int] | None = None,
                **attrs: Any) -> Box:
        return self._add("message", text, 2, 1, [""], patching_rect, presentation_rect, attrs)

    def comment(self, text: str, patching_rect: tuple[int, int, int, int] | None = None,
                presentation_rect: tuple[int, int, int, int] | None = None,
                maxclass: str = "comment", **attrs: Any) -> Box:
        ins, outs = objects.ui_counts(maxclass)
        return self._add(maxclass, text, ins, outs, [], patching_rect, presentation_rect, attrs)

    def parameter(self, maxclass: str, spec: ParamSpec,
                  patching_rect: tuple[int, int, int, int] | None = None,
                  presentation_rect: tuple[int, int, int, int] | None = None,
                  **attrs: Any) -> Box:
        """A ``live.*`` object saved with the set (``parameter_enable``), named ``spec``."""
        if not maxclass.startswith("live."):
            raise PatchError(f"{spec.longname}: parameters must be live.* objects")
        if any(b.param and b.param.longname == spec.longname for b in self.boxes):
            raise PatchError(f"parameter long name {spec.longname!r} is used twice")
        new = self.box(maxclass, patching_rect, presentation_rect, **attrs)
        new.param = spec
        return new

    def _add(self, maxclass: str, text: str | None, ins: int, outs: int, types: list[str],
             patching_rect: tuple[int, int, int, int] | None,
             presentation_rect: tuple[int, int, int, int] | None,
             attrs: dict[str, Any]) -> Box:
        for rect in (patching_rect, presentation_rect):
            if rect is not None and any(int(v) != v for v in rect):
                raise PatchError(f"{text or maxclass}: rect {rect} is not on whole pixels")
        if patching_rect is None:
            size = (presentation_rect[2], presentation_rect[3]) if presentation_rect else \
                UI_SIZES.get(maxclass) or (_text_width(text or maxclass), ROW_H)
            patching_rect = self._place(*size)
        new = Box(f"obj-{len(self.boxes) + 1}", maxclass, text, ins, outs, types,
                  tuple(int(v) for v in patching_rect),
                  None if presentation_rect is None else tuple(int(v) for v in presentation_rect),
                  dict(attrs))
        self.boxes.append(new)
        self._by_id[new.id] = new
        return new

    def __getitem__(self, box_id: str) -> Box:
        return self._by_id[box_id]

    # -- cords --------------------------------------------------------------------------

    def connect(self, src: Box, outlet: int, dst: Box, inlet: int, *,
                fanout: bool = False) -> None:
        if not 0 <= outlet < src.numoutlets:
            raise PatchError(f"{src.text or src.maxclass!r} has no outlet {outlet}")
        if not 0 <= inlet < dst.numinlets:
            raise PatchError(f"{dst.text or dst.maxclass!r} has no inlet {inlet}")
        if (src.id, outlet, dst.id, inlet) in self.lines:
            raise PatchError(f"duplicate cord {src.text!r}:{outlet} -> {dst.text!r}:{inlet}")
        if not fanout and any(s == src.id and o == outlet for s, o, _, _ in self.lines):
            raise PatchError(f"{src.text or src.maxclass!r} outlet {outlet} already has a "
                             "cord: order with trigger, or pass fanout=True where order "
                             "does not matter")
        self.lines.append((src.id, outlet, dst.id, inlet))

    def chain(self, *boxes: Box) -> Box:
        """Connect each box's left outlet to the next one's left inlet; the last box."""
        for a, b in itertools.pairwise(boxes):
            self.connect(a, 0, b, 0)
        return boxes[-1]

    def sources(self, dst: Box, inlet: int) -> list[tuple[Box, int]]:
        return [(self._by_id[s], o) for s, o, d, i in self.lines if d == dst.id and i == inlet]

    def targets(self, src: Box, outlet: int) -> list[tuple[Box, int]]:
        return [(self._by_id[d], i) for s, o, d, i in self.lines if s == src.id and o == outlet]

    # -- patching-view layout -----------------------------------------------------------

    @contextmanager
    def section(self, title: str) -> Iterator[None]:
        """Lay out the boxes made inside as one titled column of rows; columns fill bands
        about WRAP_X wide, top to bottom."""
        if self._next_x > WRAP_X:
            self._next_x, self._band_top = 0, self._band_bottom + SECTION_GAP
        self._col = _Column(self._next_x, self._next_x, self._band_top)
        self.comment(f"-- {title} --", fontface=1)
        self.row()
        yield
        self._next_x = self._col.right + SECTION_GAP
        self._band_bottom = max(self._band_bottom, self._col.y + self._col.row_h)

    def row(self) -> None:
        col = self._col
        col.y += col.row_h + V_GAP if col.row_h else 0
        col.x, col.row_h = col.x0, 0

    def _place(self, w: int, h: int) -> tuple[int, int, int, int]:
        col = self._col
        if col.x > col.x0 and col.x + w > col.x0 + ROW_W:     # a long row wraps
            self.row()
        rect = (col.x, col.y, w, h)
        col.x += w + H_GAP
        col.row_h = max(col.row_h, h)
        col.right = max(col.right, col.x)
        return rect

    # -- output -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        width = max(b.patching_rect[0] + b.patching_rect[2] for b in self.boxes) + 40
        height = max(b.patching_rect[1] + b.patching_rect[3] for b in self.boxes) + 40
        params: dict[str, Any] = {b.id: [b.param.longname, b.param.shortname, 0]
                                  for b in self.boxes if b.param}
        params["inherited_shortname"] = 1
        patcher = {
            "fileversion": 1, "appversion": dict(APPVERSION), "classnamespace": "box",
            "rect": [40.0, 80.0, float(min(width, 1600)), float(min(height, 900))],
            "openrect": [0.0, 0.0, float(self.width), float(self.height)],
            "openinpresentation": 1, "devicewidth": float(self.width),
            "default_fontsize": 10.0, "default_fontface": 0, "default_fontname": "Arial Bold",
            "gridonopen": 1, "gridsize": [8.0, 8.0], "gridsnaponopen": 1,
            "objectsnaponopen": 1, "statusbarvisible": 2, "toolbarvisible": 1,
            "description": "", "digest": "", "tags": "", "style": "",
            "boxes": [b.to_json() for b in self.boxes],
            "lines": [{"patchline": {"source": [s, o], "destination": [d, i]}}
                      for s, o, d, i in self.lines],
            "parameters": params,
            "dependency_cache": [],
            "latency": 0, "is_mpe": 0, "autosave": 0,
            "project": {
                "version": 1, "amxdtype": amxdtype(self.device_type), "readonly": 0,
                "devpathtype": 0, "devpath": ".", "sortmode": 0, "viewmode": 0,
                "includepackages": 0, "autoorganize": 1, "hideprojectwindow": 1,
                "showdependencies": 1, "autolocalize": 0, "detailsvisible": 0,
                "contents": {"patchers": {}, "code": {}}, "layout": {}, "searchpath": {},
            },
        }
        return {"patcher": patcher}


def _text_width(text: str) -> int:
    return max(30, 7 * len(text) + 14)
