"""`continuo m4l build / inspect / diagram`, and the committed diagram being current."""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

from click.testing import CliRunner

from bridge.cli import main
from bridge.m4l import render
from bridge.m4l.diagram import render as render_diagram
from bridge.osc.routes import OUT, routes

ROOT = Path(__file__).resolve().parents[2]
DEVICE = ROOT / "max4live" / "Continuo.amxd"
DIAGRAM = ROOT / "docs" / "img" / "signal-flow.svg"


def test_build_writes_the_device(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "Continuo.amxd"
    result = CliRunner().invoke(main, ["m4l", "build", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render()


def test_build_check(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["m4l", "build", "--check", "-o", str(DEVICE)]).exit_code == 0
    stale = tmp_path / "old.amxd"
    stale.write_bytes(render()[:-3] + b"x\n\x00")
    result = runner.invoke(main, ["m4l", "build", "--check", "-o", str(stale)])
    assert result.exit_code == 1 and "stale" in result.output
    missing = runner.invoke(main, ["m4l", "build", "--check", "-o", str(tmp_path / "no")])
    assert missing.exit_code == 1 and "is missing" in missing.output
    missing = runner.invoke(main, ["m4l", "diagram", "--check", "-o", str(tmp_path / "no")])
    assert missing.exit_code == 1 and "is missing" in missing.output


def test_inspect() -> None:
    result = CliRunner().invoke(main, ["m4l", "inspect", str(DEVICE)])
    assert result.exit_code == 0, result.output
    for expected in ("ampf  mmmm (midi device)", "meta  0", "amxdtype 1835887981",
                     "Temperature", "Daemon Port", "/continuo/note/in s i i f",
                     "/continuo/note/out", "lint: 0 problem(s)"):
        assert expected in result.output


def test_inspect_refuses_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.amxd"
    junk.write_bytes(b"not a device at all")
    result = CliRunner().invoke(main, ["m4l", "inspect", str(junk)])
    assert result.exit_code != 0 and "not a device" in result.output


def test_diagram_is_svg_naming_every_daemon_message(tmp_path: Path) -> None:
    text = render_diagram()
    assert xml.dom.minidom.parseString(text).documentElement.tagName == "svg"
    for r in routes(OUT):
        assert r.address in text
    assert render_diagram() == text
    out = tmp_path / "flow.svg"
    assert CliRunner().invoke(main, ["m4l", "diagram", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == text


def test_committed_diagram_is_current() -> None:
    result = CliRunner().invoke(main, ["m4l", "diagram", "--check", "-o", str(DIAGRAM)])
    assert result.exit_code == 0, "docs/img/signal-flow.svg is stale: run `continuo m4l " \
                                  "diagram`"
