"""`continuo bench --quick` on the tiny model: it runs, prints its table and writes
well-formed JSON and a PNG. No timing is asserted (timings live in the benchmark)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.bench import report
from bridge.bench.run import Options, random_model, targets
from bridge.bench.stats import P_KEYS, summary
from bridge.cli import main

REQUIRED = {"machine": str, "device": str, "feed_ms": dict, "sample_ms": dict,
            "e2e_osc_ms": dict, "e2e_midi_ms": (dict, type(None)),
            "realtime_factor": (int, float), "sessions_on_time": int,
            "ready_s": (int, float), "rss_mb": (int, float)}


def is_p(p) -> bool:
    return isinstance(p, dict) and all(
        isinstance(p.get(k), (int, float)) and math.isfinite(p[k]) for k in P_KEYS) \
        and p["p50"] <= p["p90"] <= p["p99"] <= p["max"]


@pytest.mark.slow
def test_quick_bench_writes_well_formed_json(tiny_model_dir, tmp_path):
    out, png = tmp_path / "bench.json", tmp_path / "bench.png"
    result = CliRunner().invoke(main, [
        "bench", "--quick", "--model", str(tiny_model_dir), "--json", str(out),
        "--plot", str(png), "--sessions", "1,2", "--accompany-seconds", "1"])
    assert result.exit_code == 0, result.output
    assert "phrase end -> first note" in result.output and "targets" in result.output
    data = json.loads(out.read_text())
    for key, kind in REQUIRED.items():
        assert isinstance(data[key], kind), (key, data[key])
    for key in ("feed_ms", "sample_ms", "e2e_osc_ms"):
        assert is_p(data[key]), (key, data[key])
    assert data["e2e_midi_ms"] is None or is_p(data["e2e_midi_ms"])
    if data["e2e_midi_ms"] is None:
        assert "skipped" in data["details"]["midi"]
    else:
        midi = data["details"]["midi"]
        assert is_p(midi["rig_tick_late"])                      # the rig's own share
        assert set(midi["clock_lag"]) == {"all", "answering"}   # the follower's share
        assert is_p(midi["clock_lag"]["all"])
    assert data["device"] in ("cpu", "cuda")
    assert data["realtime_factor"] > 0 and data["ready_s"] > 0 and data["rss_mb"] > 0
    assert data["sessions_on_time"] in (0, 1, 2)
    assert is_p(data["band_call_ms"]) and data["band_on_time"] in (True, False)
    assert "band " in result.output and data["details"]["band"]["members"] == 4
    trade = data["details"]["osc_trade"]                 # a drummer playing up to the line
    assert "a drummer's last hit" in result.output and trade["trials"] == 1
    assert set(trade["answers"]) == {"chosen", "ready", "waited", "cold", "kept"}
    assert data["model"]["trained"] is False and data["quick"] is True
    assert "shows in a full run" in result.output        # a quick run says what it misses
    assert set(data["targets"]) and all("met" in t for t in data["targets"].values())
    assert "raw_ms" not in out.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_part_to_skip_is_a_usage_error():
    result = CliRunner().invoke(main, ["bench", "--skip", "model,nothing"])
    assert result.exit_code == 2 and "nothing" in result.output


def test_model_only_run_leaves_the_daemon_figures_null(tiny_model_dir):
    from bridge.bench.run import run

    options = Options(model_dir=str(tiny_model_dir), skip=frozenset(
        {"throughput", "osc", "accompany", "band", "midi"})).quickly()
    data = report.to_json(run(options))
    assert is_p(data["feed_ms"]) and is_p(data["sample_ms"])
    assert data["e2e_osc_ms"] is None and data["e2e_midi_ms"] is None
    assert data["ready_s"] is None and data["targets"]["ready <= 5 s"]["met"] is None
    batched = data["details"]["model"]["batched_cpu"]
    assert set(batched) == {"1", "8", "32"} and all(is_p(b["step"]) for b in batched.values())
    assert "latency (ms)" in report.table(data)
    json.dumps(data)


def test_the_report_shows_a_gpu_machines_rows(tiny_model_dir, tmp_path):
    """The table and the plot of a result with CUDA parts (made here from the CPU's
    figures: what is tested is their rendering, on a machine without a GPU)."""
    from bridge.bench.run import run

    options = Options(model_dir=str(tiny_model_dir), skip=frozenset(
        {"osc", "accompany", "band", "midi"})).quickly()
    data = report.to_json(run(options))
    model, tp = data["details"]["model"], data["details"]["throughput"]
    for key in ("cuda", "cuda_eager"):
        model[key] = {**model["cpu_1"], "name": "a GPU", "path": key[5:] or "graph"}
        model[f"batched_{key}"] = model["batched_cpu"]
    tp.update(device="cuda", by_device={"cpu": 150.0, "cuda": tp["realtime_factor"]})
    table = report.table(data)
    assert "feed, batch of 32, CUDA graph" in table and "on cpu: 150.0x" in table
    assert "feed step, CUDA, eager" in table
    report.plot(data, tmp_path / "gpu.png")
    assert (tmp_path / "gpu.png").stat().st_size > 0


def test_summary_and_targets():
    assert summary([]) is None
    p = summary([1.0, 2.0, 3.0, 4.0])
    assert p["p50"] == 2.5 and p["max"] == 4.0 and p["n"] == 4
    result = {"feed_ms": {"p50": 0.2}, "e2e_osc_ms": {"p99": 9.0}, "realtime_factor": 150.0,
              "sessions_on_time": 8, "ready_s": None, "rss_mb": 300.0}
    t = targets(result)
    assert t["feed step median <= 0.3 ms"]["met"] is True
    assert t["phrase end -> first note p99 <= 5 ms"]["met"] is False
    assert t["ready <= 5 s"]["met"] is None


def test_random_model_has_the_shipped_architecture(tmp_path):
    from bridge.model import checkpoint
    from bridge.train.config import load_config

    folder = random_model(tmp_path / "m")
    generator, meta = checkpoint.load(folder / "generator", "generator")
    configs = Path(__file__).resolve().parents[2] / "models" / "configs"
    shipped = load_config(configs / "generator.toml").model_config()
    assert generator.config == shipped and "metrics" not in meta
    assert (folder / "tagger" / checkpoint.META).exists()


@pytest.mark.parametrize("args, says", [
    (["--sessions", ""], "comma-separated numbers of 1 or more"),
    (["--sessions", "0"], "comma-separated numbers of 1 or more"),
    (["--json", "{file}/x.json"], "is a file, not a folder"),
    (["--plot", "{file}/x.png"], "is a file, not a folder"),
])
def test_options_that_cannot_be_used_are_refused_before_measuring(tmp_path, args, says):
    (tmp_path / "f").write_text("")
    args = [a.format(file=tmp_path / "f") for a in args]
    result = CliRunner().invoke(main, ["bench", "--quick", "--midi-api", "none", *args])
    assert result.exit_code == 2 and says in result.output, result.output

