"""`continuo eval --task styles`: style requests at several guidance weights, and the
strength that lands each genre best kept in the model (bridge/evaluate/styles.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.evaluate import evaluate
from bridge.evaluate import styles
from bridge.model import checkpoint

from .folders import midi_folder
from .test_continuation import _groove, _song


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return midi_folder(tmp_path / "music", {
        "pop/song.mid": _song(14), "folk/tune.mid": _song(13), "drums/groove.mid": _groove(12)})


def test_each_genre_gets_the_weight_that_lands_it_best_and_the_model_keeps_it(
        tiny_model_dir, folder, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    result = CliRunner().invoke(evaluate, [
        "--task", "styles", "--model", str(model), "--data", str(folder), "--split", "all",
        "--seeds", "0", "--style-prompts", "1", "--guidance", "0,2", "--write-model",
        "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["styles"]
    genres = report["genres"]
    assert {"pop", "folk"} <= set(genres) and "drums" not in genres     # pitched genres
    assert report["requests"] == 2 * (len(genres) - 1)   # the two prompts, to each other
    for row in report["weights"].values():
        assert sum(row[g]["requests"] for g in genres) == report["requests"]
        assert all(0 <= row[g]["hits"] <= row[g]["requests"] for g in genres)
        for g in genres:                                 # asked from the other prompt's genre
            assert set(row[g]["by_source"]) == {"pop", "folk"} - {g}
            assert sum(v["hits"] for v in row[g]["by_source"].values()) == row[g]["hits"]

    assert list(report["weights"]) == ["0", "1", "2"]     # the default 1 always measured
    for g in genres:     # no source worse off than at the default; then the most, the smaller
        default = report["weights"]["1"][g]["by_source"]
        fair = [w for w in ("0", "1", "2") if all(
            v["hits"] >= default[s]["hits"]
            for s, v in report["weights"][w][g]["by_source"].items())]
        best = max(fair, key=lambda w: (report["weights"][w][g]["hits"], -float(w)))
        assert report["strength"][g] == float(best)
    kept = checkpoint.read_meta(model / "generator")["config"]["style_strength"]
    assert kept == report["strength"]
    assert json.loads((tmp_path / "out" / "styles.json").read_text())["styles"] == report
    # the strengths were set aside while measuring: the same run again measures the same
    again = CliRunner().invoke(evaluate, [
        "--task", "styles", "--model", str(model), "--data", str(folder), "--split", "all",
        "--seeds", "0", "--style-prompts", "1", "--guidance", "0,2", "--json"])
    assert json.loads(again.output)["styles"]["weights"] == report["weights"]


def test_bad_weights_and_no_requests_are_clear_errors(tiny_model_dir, tmp_path):
    result = CliRunner().invoke(evaluate, ["--task", "styles", "--model", str(tiny_model_dir),
                                           "--guidance", "1,lots"])
    assert result.exit_code != 0 and "--guidance" in result.output
    drums = midi_folder(tmp_path / "drums", {"drums/groove.mid": _groove(12)})
    result = CliRunner().invoke(evaluate, ["--task", "styles", "--model", str(tiny_model_dir),
                                           "--data", str(drums), "--split", "all",
                                           "--guidance", "1"])
    assert result.exit_code != 0 and "no style request" in result.output


def test_requests_go_from_each_genres_melody_prompts_to_every_other_pitched_genre(models):
    generator, tagger = models
    assert styles.kind("drums") == "drums" and styles.kind("jazz") == "pitched"
    genres, wanted = styles.requests(generator, tagger, [], 10)
    assert "drums" not in genres and wanted == []


def test_a_pair_that_lands_clearly_more_at_another_weight_gets_a_strength_of_its_own():
    def row(pop, jazz):
        return {"folk": {"by_source": {"pop": {"hits": pop, "requests": 40},
                                       "jazz": {"hits": jazz, "requests": 40}}}}

    table = {"1": row(30, 10), "2": row(28, 13), "3": row(31, 22)}
    # jazz->folk lands 12 more at 3 than at the genre's 1; pop->folk 1 more (within the margin)
    assert styles._pairs(table, [1.0, 2.0, 3.0], "folk", 1.0) == {"jazz->folk": 3.0}
    assert styles._pairs(table, [1.0, 2.0, 3.0], "folk", 3.0) == {}
    table["2"] = row(30, 22)                       # as many at 2 as at 3: the smaller
    assert styles._pairs(table, [1.0, 2.0, 3.0], "folk", 1.0) == {"jazz->folk": 2.0}
