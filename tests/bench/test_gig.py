"""The gig (``continuo bench --gig``): its figures from the stand-in's notes and the daemon's
memory, and a short gig against the daemon on the tiny model (no timing is asserted)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bridge.bench.gig import ACCOMPANY_EVERY, _memory, struck_while_sounding
from bridge.bench.report import _rounds
from bridge.bench.run import GIG_MIN_MINUTES, targets
from bridge.cli import main
from bridge.m4l.standin import Played


def played(pitch: int, on: float, off: float | None, channel: int = 1) -> Played:
    return Played(pitch, 100, channel, on, on_at=on, off_at=off)


def test_a_note_struck_while_its_pitch_sounds_is_counted():
    notes = [played(60, 0.0, 1.0), played(60, 0.5, 1.5),     # struck again while sounding
             played(60, 1.5, 2.0),                            # after the last one ended
             played(62, 0.0, None), played(62, 3.0, 4.0),     # the first never ended
             played(64, 0.0, 1.0), played(64, 0.5, 1.0, channel=2)]   # another channel
    assert struck_while_sounding(notes) == 2
    assert struck_while_sounding([]) == 0


def test_memory_growth_is_measured_over_the_second_half():
    flat = _memory([(t / 2, 400.0 + (30.0 if t < 10 else 0.0)) for t in range(40)])
    assert flat["growth_second_half"] == 0.0 and flat["peak"] == 430.0
    rising = _memory([(float(t), 400.0 + 2.0 * t) for t in range(21)])
    assert rising["growth_second_half"] == pytest.approx(20.0)   # 2 MB a minute
    assert rising["first"] == 400.0 and rising["last"] == 440.0
    assert _memory([]) is None


def test_the_gig_targets_need_a_gig_long_enough():
    gig = {"minutes": GIG_MIN_MINUTES, "late_client": 0, "late_daemon": 1,
           "rss_mb": {"growth_second_half": 3.0}}
    t = targets({"realtime_factor": None, "sessions_on_time": None, "ready_s": None,
                 "rss_mb": None, "details": {"gig": gig}})
    late, growth = (t[k] for k in t if k.startswith("gig: "))
    assert late["met"] is False and growth["met"] is True
    short = targets({"realtime_factor": None, "sessions_on_time": None, "ready_s": None,
                     "rss_mb": None, "details": {"gig": {**gig, "minutes": 1.0}}})
    assert [short[k]["met"] for k in short if k.startswith("gig: ")] == [False, None]
    none = targets({"realtime_factor": None, "sessions_on_time": None, "ready_s": None,
                    "rss_mb": None})
    assert [none[k]["met"] for k in none if k.startswith("gig: ")] == [None, None]


def test_the_report_says_in_which_rounds_notes_were_dropped():
    assert _rounds({"late_daemon_rounds": [[19.2, "accompany"], [3.0, "call"]]}) == \
        " (19.2 min, accompany; 3 min, call)"
    assert _rounds({"late_daemon_rounds": []}) == _rounds({}) == ""


@pytest.mark.slow
def test_a_short_gig_against_the_daemon(tiny_model_dir, tmp_path):
    out = tmp_path / "gig.json"
    result = CliRunner().invoke(main, [
        "bench", "--model", str(tiny_model_dir), "--json", str(out), "--gig", "0.3",
        "--skip", "model,throughput,osc,accompany,band,midi"])
    assert result.exit_code == 0, result.output
    gig = json.loads(out.read_text())["details"]["gig"]
    assert 1 <= gig["rounds"] < ACCOMPANY_EVERY
    assert gig["answers"] + gig["missed"] == gig["rounds"]      # every round a call
    assert gig["errors"] == 0 and gig["struck_while_sounding"] == 0
    assert len(gig["late_daemon_rounds"]) == gig["late_daemon"]   # each dropped note placed
    assert gig["rss_mb"]["first"] > 0 and len(gig["first_note_lead_ms_by_quarter"]) == 4
    assert "gig " in result.output and "gig: no late note" in result.output
