import json
from pathlib import Path

from click.testing import CliRunner

from bridge.cli.evaluate import evaluate

REQUIRED = {
    "generator": {"bits_per_event", "baseline_bits_per_event", "events"},
    "tagger": {"genre_accuracy", "substyle_macro_f1", "baseline_genre_accuracy",
               "baseline_substyle_macro_f1", "windows"},
}


def test_eval_json_on_a_manifest_folder(tiny_model_dir, fixture_cache, fixture_data, tmp_path):
    result = CliRunner().invoke(evaluate, [
        "--model", str(tiny_model_dir), "--data", str(fixture_data), "--split", "val",
        "--train-cache", str(fixture_cache), "--out", str(tmp_path / "eval"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for part, keys in REQUIRED.items():
        assert keys <= set(report[part]), part
    g = report["generator"]
    assert g["events"] > 0 and g["bits_per_event"] > 0 and g["baseline_bits_per_event"] > 0
    # by part: every event of the windows once, in its part's or the time's, averaging back
    parts = g["per_part"]
    assert "time" in parts and set(parts) - {"time"} and set(parts) <= {
        "melody", "harmony", "bass", "drums", "time"}
    assert sum(p["events"] for p in parts.values()) == g["events"]
    mean = sum(p["bits_per_event"] * p["events"] for p in parts.values()) / g["events"]
    assert abs(mean - g["bits_per_event"]) < 1e-3
    assert all(p["baseline_bits_per_event"] > 0 for p in parts.values())
    assert 0 <= report["tagger"]["genre_accuracy"] <= 1
    played = report["tagger"]["genre_accuracy_by_performance"]
    assert set(played["ways"]) == {"as they are", "flat, on a grid", "varied, humanised"}
    assert 0 < played["windows"] <= report["tagger"]["windows"]
    assert all(0 <= way["all"] <= 1 for way in played["ways"].values())
    for name in ("confusion_genre.png", "confusion_genre.json", "confusion_substyle.json",
                 "eval.json"):
        assert (tmp_path / "eval" / name).exists()


def test_eval_on_a_plain_midi_folder(tiny_model_dir, fixture_cache, fixture_data, tmp_path):
    import shutil

    folder = tmp_path / "mine" / "folk" / "jig"
    folder.mkdir(parents=True)
    shutil.copy(fixture_data / "nottingham" / "melody" / "jigs1.mid", folder / "a.mid")
    result = CliRunner().invoke(evaluate, [
        "--model", str(tiny_model_dir), "--data", str(tmp_path / "mine"), "--split", "all",
        "--train-cache", str(fixture_cache), "--only", "generator", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["generator"]["events"] > 0


def test_missing_split_is_a_clear_error(tiny_model_dir, fixture_cache, fixture_data):
    result = CliRunner().invoke(evaluate, [
        "--model", str(tiny_model_dir), "--data", str(fixture_data), "--split", "test",
        "--train-cache", str(fixture_cache)])
    assert result.exit_code == 1 and "no rows for split 'test'" in result.output


def test_eval_writes_model_cards(tiny_model_dir, fixture_cache, fixture_data, tmp_path):
    import shutil

    from bridge.model import checkpoint

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    # an architecture study beside the generator goes into its card
    shutil.copy(Path(__file__).parents[2] / "models/default/generator/ablation.json",
                model / "generator")
    # a tagger that counts what the generator hears: both figures, with it and without
    checkpoint.update_config(model / "tagger", "tagger", generator_weight=0.4)
    result = CliRunner().invoke(evaluate, [
        "--model", str(model), "--data", str(fixture_data), "--split", "val",
        "--train-cache", str(fixture_cache), "--write-cards"])
    assert result.exit_code == 0, result.output
    for kind in ("generator", "tagger"):
        text = (model / kind / "MODEL_CARD.md").read_text()
        assert "## Data" in text and "## Metrics" in text and "## Known limits" in text
        assert "baseline" in text
    card = (model / "generator" / "MODEL_CARD.md").read_text()
    assert "## Architecture" in card and "+ causal conv (kernel 3)" in card
    assert "genre accuracy, played varied, humanised" in \
        (model / "tagger" / "MODEL_CARD.md").read_text()
    assert "## Recall: how far back" in card          # a list of studies: each one
    tagged = json.loads((model / "tagger" / "eval.json").read_text())["tagger"]
    assert tagged["generator_weight"] == 0.4
    assert set(tagged["tagger_alone"]) == {"genre_accuracy", "substyle_macro_f1",
                                           "genre_accuracy_by_texture"}
    assert "tagger alone (no generator's ear)" in \
        (model / "tagger" / "MODEL_CARD.md").read_text()


def test_the_baselines_training_data_is_built_once_and_kept(fixture_data, tmp_path,
                                                             monkeypatch):
    import pytest

    from bridge.data import build as build_module
    from bridge.evaluate import run as ev

    monkeypatch.chdir(tmp_path)                     # no data/cache here
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = ev.training_sequences(None, str(fixture_data))
    (kept,) = (tmp_path / "xdg" / "continuo" / "eval").iterdir()
    assert (kept / "stats.json").exists() and first

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(build_module, "build", no_rebuild)
    again = ev.training_sequences(None, str(fixture_data))
    assert [s.tokens.tolist() for s in again] == [s.tokens.tolist() for s in first]
    with pytest.raises(ev.EvalError, match="no MANIFEST"):
        ev.training_sequences(None, str(tmp_path))
