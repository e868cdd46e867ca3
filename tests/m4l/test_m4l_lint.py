"""Graph lint: the device is clean, and each rule catches the defect it is for."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from bridge.m4l.device import LONGNAMES, build
from bridge.m4l.lint import lint

Patcher = dict[str, Any]


@pytest.fixture(scope="module")
def clean() -> Patcher:
    return build().patch.to_json()


def box(patcher: Patcher, text: str) -> dict[str, Any]:
    return next(b["box"] for b in patcher["patcher"]["boxes"] if b["box"].get("text") == text)


def param_box(patcher: Patcher, longname: str) -> dict[str, Any]:
    return next(b["box"] for b in patcher["patcher"]["boxes"]
                if b["box"].get("varname") == longname)


def test_the_device_is_clean(clean: Patcher) -> None:
    assert lint(clean, LONGNAMES.values()) == []


def _add_box(p: Patcher, text: str, **extra: Any) -> None:
    p["patcher"]["boxes"].append({"box": {"id": "obj-999", "maxclass": "newobj", "text": text,
                                          "numinlets": 1, "numoutlets": 0,
                                          "patching_rect": [0.0, 0.0, 40.0, 22.0], **extra}})


def _cord(p: Patcher, src: str, outlet: int, dst: str, inlet: int) -> None:
    p["patcher"]["lines"].append({"patchline": {"source": [src, outlet],
                                                "destination": [dst, inlet]}})


DEFECTS: dict[str, tuple[Callable[[Patcher], None], str]] = {
    "missing box": (lambda p: _cord(p, "obj-1", 0, "obj-nope", 0), "missing box"),
    "outlet out of range": (
        lambda p: _cord(p, box(p, "udpreceive")["id"], 1, box(p, "zl.reg")["id"], 0),
        "outlet 1"),
    "inlet out of range": (
        lambda p: _cord(p, box(p, "zl.reg")["id"], 0, box(p, "udpreceive")["id"], 1),
        "inlet 1"),
    "wrong counts in the JSON": (
        lambda p: box(p, "pipe 0 0 0. 0 0. 0.").update(numinlets=2), "the object has 6/5"),
    "print": (lambda p: _add_box(p, "print debug"), "no print"),
    "loadbang": (lambda p: _add_box(p, "loadbang", numoutlets=1), "live.thisdevice"),
    "unknown object": (lambda p: _add_box(p, "mystery.external 3"), "mystery.external"),
    "global send": (lambda p: _add_box(p, "s tempo"), "prefix it ---"),
    "unpaired receive": (lambda p: _add_box(p, "r ---nobody", numinlets=0, numoutlets=1),
                         "[r ---nobody] has no [s ---nobody]"),
    "off the device": (lambda p: param_box(p, "Panic").update(
        presentation_rect=[146.0, 160.0, 15.0, 15.0]), "leaves the device"),
    "half pixel": (lambda p: box(p, "zl.reg").update(patching_rect=[10.5, 0.0, 40.0, 22.0]),
                   "whole pixels"),
    "duplicate long name": (lambda p: param_box(p, "Thru")["saved_attribute_attributes"]
                            ["valueof"].update(parameter_longname="Mode"), "'Mode' is used 2"),
    "not in presentation": (lambda p: p["patcher"].update(openinpresentation=0),
                            "presentation mode"),
    "wrong height": (lambda p: p["patcher"].update(openrect=[0.0, 0.0, 480.0, 200.0]), "169"),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_rule_catches_its_defect(clean: Patcher, name: str) -> None:
    mutate, expected = DEFECTS[name]
    broken = copy.deepcopy(clean)
    mutate(broken)
    problems = lint(broken, LONGNAMES.values())
    assert any(expected in problem for problem in problems), problems


def test_required_parameters(clean: Patcher) -> None:
    assert lint(clean, ["Mode", "Feedback"]) == ["required parameter 'Feedback' is missing"]
