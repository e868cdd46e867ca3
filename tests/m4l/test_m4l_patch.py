"""The patch DSL: boxes with checked counts, cords in range, parameters, the JSON."""

from __future__ import annotations

import pytest

from bridge.m4l.patch import DEVICE_HEIGHT, ParamSpec, Patch, PatchError, amxdtype


def test_boxes_take_their_counts_from_their_text() -> None:
    p = Patch(200)
    route = p.box("route /a /b /c")
    assert (route.numinlets, route.numoutlets) == (4, 4)
    pack = p.box("pack 0 0 0")
    assert (pack.numinlets, pack.numoutlets) == (3, 1)
    dial = p.box("live.dial")
    assert (dial.maxclass, dial.numinlets, dial.numoutlets) == ("live.dial", 1, 2)
    assert p.message("hello").numinlets == 2
    assert p.comment("note").numoutlets == 0


def test_cords_must_be_in_range_and_fanout_explicit() -> None:
    p = Patch(200)
    a, b, c = p.box("t b b"), p.box("pack 0 0"), p.box("gate 1")
    p.connect(a, 1, b, 1)
    with pytest.raises(PatchError, match="no outlet 2"):
        p.connect(a, 2, b, 0)
    with pytest.raises(PatchError, match="no inlet 2"):
        p.connect(a, 0, b, 2)
    with pytest.raises(PatchError, match="order with trigger"):
        p.connect(a, 1, c, 1)
    p.connect(a, 1, c, 1, fanout=True)
    with pytest.raises(PatchError, match="duplicate"):
        p.connect(a, 1, c, 1, fanout=True)
    assert p.sources(c, 1) == [(a, 1)]
    assert {box.id for box, _ in p.targets(a, 1)} == {b.id, c.id}


def test_rects_are_whole_pixels_and_long_names_unique() -> None:
    p = Patch(200)
    with pytest.raises(PatchError, match="whole pixels"):
        p.box("t b", (0, 0.5, 10, 10))
    spec = ParamSpec("Gain", "Gain", "float", 0.5)
    p.parameter("live.dial", spec, None, (0, 0, 40, 48))
    with pytest.raises(PatchError, match="used twice"):
        p.parameter("live.dial", spec)
    with pytest.raises(PatchError, match="live"):
        p.parameter("message", ParamSpec("X", "X", "int", 0))


def test_to_json_has_what_max_expects() -> None:
    p = Patch(300)
    with p.section("one"):
        dial = p.parameter("live.dial", ParamSpec("Gain", "Gain", "float", 0.5, 0.0, 1.0,
                                                 annotation="How loud."), None, (4, 4, 44, 48))
        t = p.box("t f")
        p.connect(dial, 0, t, 0)
    top = p.to_json()["patcher"]
    assert top["openrect"] == [0.0, 0.0, 300.0, float(DEVICE_HEIGHT)]
    assert top["openinpresentation"] == 1
    assert top["classnamespace"] == "box"
    assert top["project"]["amxdtype"] == amxdtype("mmmm") == 1835887981
    assert top["parameters"][dial.id] == ["Gain", "Gain", 0]
    box = next(b["box"] for b in top["boxes"] if b["box"]["id"] == dial.id)
    assert box["parameter_enable"] == 1 and box["varname"] == "Gain"
    assert box["presentation"] == 1 and box["presentation_rect"] == [4.0, 4.0, 44.0, 48.0]
    valueof = box["saved_attribute_attributes"]["valueof"]
    assert valueof["parameter_longname"] == "Gain" and valueof["parameter_type"] == 0
    assert valueof["parameter_initial"] == [0.5] and valueof["parameter_initial_enable"] == 1
    assert box["annotation"] == "How loud."
    assert top["lines"] == [{"patchline": {"source": [dial.id, 0], "destination": [t.id, 0]}}]
    assert p.to_json() == p.to_json()
