"""Inlet/outlet counts: the rules for arguments, checked against patches saved by Max 8."""

from __future__ import annotations

import pytest

from bridge.m4l.objects import UnknownObjectError, atom_type, io_counts, split, tokens, ui_counts

# Boxes as Max 7/8 saved them in public patches (text -> numinlets, numoutlets).
SAVED_BY_MAX = {
    "sel 0 1 2 3": (5, 5),
    "sel 0 1 2 3 4": (6, 6),
    "sel 0 1 2 3 4 5 6 7 8 9": (11, 11),
    "route /mnbm/grid/key": (2, 2),
    "route /ipinterfaces /ip": (3, 3),
    "route /pitch /gatedpitch /amplitude /quality": (5, 5),
    "route /quat_viz /quat /lin_accel /gyro /stability /activity /steps": (8, 8),
    "pack s 0": (2, 1),
    "pack s 0 0": (3, 1),
    "pack s 0. 0. 0.": (4, 1),
    "pack s 0 0 0. b": (5, 1),
    "pipe 0 0": (2, 1),
    "pipe 0 0 500": (3, 2),
    "pipe 0 0 0 0.": (4, 3),
    "pipe 0 0 0 0 0": (5, 4),
    "pipe 0 0 0 0 0 0 0 0 0 0 0 0": (12, 11),
    "unpack 0 0 0.": (1, 3),
    "unpack 0 0 0. 0. 0 0": (1, 6),
    "gate 3": (2, 3),
    "gate 3 1": (2, 3),
    "gate 32": (2, 32),
    "udpsend 127.0.0.1 7000": (1, 0),
    "udpreceive": (1, 1),
    "r ---MacroNo": (0, 1),
    "r ---filterType": (0, 1),
    "expr $i1^$i2": (2, 1),
    "expr $i1 * 80 - 40": (1, 1),
    "expr $i1*200./$i3": (3, 1),
    "expr $i1 + $i2 + $i3": (3, 1),
    "tosymbol @separator /": (1, 1),
    "midiparse @hires 1": (1, 8),
    "midiformat @hires 1": (7, 2),
    "ctlout 123": (3, 0),
    "ctlout 123 1": (3, 0),
    "makenote 100 500": (3, 2),
}


@pytest.mark.parametrize(("text", "counts"), sorted(SAVED_BY_MAX.items()))
def test_counts_match_what_max_saved(text: str, counts: tuple[int, int]) -> None:
    assert io_counts(text) == counts


def test_defaults_and_aliases_come_from_the_table() -> None:
    assert io_counts("route") == (2, 2)
    assert io_counts("t b b i") == (1, 3)
    assert io_counts("trigger") == (1, 2)
    assert io_counts("s ---x") == (1, 0)
    assert io_counts("del 100") == (2, 1)
    assert io_counts("f 1.5") == (2, 1)
    assert io_counts("!/ 60000.") == (2, 1)
    assert io_counts("zl.slice 6") == (2, 2)
    assert io_counts("live.observer tempo") == (2, 2)
    assert ui_counts("live.dial") == (1, 2)
    assert ui_counts("message") == (2, 1)


@pytest.mark.parametrize("text", ["nosuchobject 1", "udpsend", "expr 3 + 4", "sprintf %d",
                                  "funnel 3", "send", ""])
def test_unknown_counts_fail_loudly(text: str) -> None:
    with pytest.raises(UnknownObjectError):
        io_counts(text)


def test_an_argument_sensitive_object_without_a_rule_is_refused() -> None:
    with pytest.raises(UnknownObjectError, match="no rule"):
        io_counts("notein 5")          # a channel argument drops an outlet
    assert io_counts("notein") == (1, 3)


def test_text_parsing() -> None:
    assert tokens('style ""') == ["style", ""]
    assert tokens('a "b c" d') == ["a", "b c", "d"]
    assert split("metro 16n @quantize 16n") == ("metro", ["16n"], ["@quantize", "16n"])
    assert [atom_type(w) for w in ("0", "0.", "-3", "1e9", "s", "16n", "")] == \
        ["int", "float", "int", "float", "symbol", "symbol", "symbol"]
