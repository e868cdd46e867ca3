"""`continuo eval --task continuation` on a small folder of made-up pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.evaluate import evaluate
from bridge.evaluate import continuation as cont
from bridge.evaluate import styles
from bridge.evaluate.musicality import METRICS, OWN
from bridge.music.piece import Note, Piece
from bridge.offline.continuation import ContinueOptions

from .folders import midi_folder

MOTIFS = [(60, 64, 67, 64), (62, 65, 69, 65), (59, 62, 67, 62), (60, 64, 67, 72)]


def _song(bars: int) -> Piece:
    """Bars 1-4 a phrase, then the phrase again and again: bars 9-12 repeat bars 5-8."""
    notes = [Note(4 * b + i, 0.9, p, 80) for b in range(bars)
             for i, p in enumerate(MOTIFS[b % 4])]
    return Piece(notes, name="song")


def _groove(bars: int) -> Piece:
    notes = [Note(b * 4 + i / 2, 0.1, 42, 70, drum=True) for b in range(bars) for i in range(8)]
    notes += [Note(b * 4 + i, 0.1, 36 if i % 2 == 0 else 38, 100, drum=True)
              for b in range(bars) for i in range(4)]
    return Piece(notes, name="groove")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return midi_folder(tmp_path / "music", {
        "pop/song.mid": _song(14), "drums/groove.mid": _groove(12),
        "folk/short.mid": _song(6)})                          # too short: left out


def test_echo_and_shuffle_of_a_repeating_song():
    case = cont.Case("song", "user", "g", "pop", _song(14))
    assert [round(n.start) for n in case.truth][:4] == [32, 33, 34, 35]
    echo = cont.echo(case)
    assert [(n.start, n.pitch) for n in echo] == [(n.start, n.pitch) for n in case.truth]
    shuffled = cont.shuffle(case, seed=3)
    assert [n.start for n in shuffled] == [n.start for n in echo]
    assert {n.pitch for n in shuffled} <= {n.pitch for n in case.prompt.notes}
    assert shuffled == cont.shuffle(case, seed=3)
    assert str(case.key) == "C major"


def test_the_report_holds_every_metric_per_dataset(tiny_model_dir, folder, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(evaluate, [
        "--task", "continuation", "--model", str(tiny_model_dir), "--data", str(folder),
        "--split", "all", "--seeds", "0,1", "--style-prompts", "1", "--out", str(out),
        "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["continuation"]
    assert list(report["datasets"]) == ["user"]          # a plain folder: one dataset
    entry = report["datasets"]["user"]
    assert entry["pieces"] == 2
    assert report["candidates"] == ContinueOptions().candidates
    for candidate in ("model", "draw", "echo", "shuffle"):
        assert set(entry[candidate]) == set(METRICS)
        assert 0 <= entry[candidate]["score"] <= 1
    assert set(entry["truth"]) == set(OWN)
    assert 0 <= entry["model_beats_echo"] <= 1
    style = report["style_control"]
    assert {"hit_rate", "unstyled_hit_rate", "requests"} <= set(style)
    pitched = [g for g in style["genres"] if styles.kind(g) == "pitched"]
    assert style["requests"] == len(pitched) - 1     # the pop prompt, to each other genre
    assert set(style["by_request"]) == {f"pop->{g}" for g in pitched if g != "pop"}
    assert style["seeds"] == [0, 1]                  # each request drawn at every seed
    assert all(v["requests"] == 2 for v in style["by_request"].values())
    rows = json.loads((out / "continuation_pieces.json").read_text())
    song = next(r for r in rows if r["piece"].endswith("song.mid"))
    assert song["echo"]["score"] == pytest.approx(1.0)
    assert song["truth"]["copied_bars"] == 1.0 and song["echo"]["copied_bars"] == 1.0
    assert len(song["model_seeds"]) == 2
    assert (out / "continuation.png").stat().st_size > 0
    assert (out / "continuation.json").exists()


def test_style_requests_go_to_other_genres_of_the_same_kind(models):
    generator, tagger = models
    genres = styles.known_genres(generator, tagger)
    assert "drums" in genres and "pop" in genres
    assert styles.kind("drums") == "drums" and styles.kind("pop") == "pitched"


def test_the_card_keeps_the_musicality_figures(tiny_model_dir, folder, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    studies = [{"title": "Recall", "question": "Which context helps?", "method": "How.",
                "columns": {"score": "score"}, "runs": [{"variant": "w64", "score": 0.7}],
                "choice": "w64."}]
    (model / "generator" / "ablation.json").write_text(json.dumps(studies))
    result = CliRunner().invoke(evaluate, [
        "--task", "continuation", "--model", str(model), "--data", str(folder), "--split",
        "all", "--seeds", "0", "--style-prompts", "0", "--write-cards"])
    assert result.exit_code == 0, result.output
    card = (model / "generator" / "MODEL_CARD.md").read_text()
    assert "## Musicality" in card and "| user | 2 |" in card and "one draw" in card
    assert "## Recall" in card and "| w64 | 0.7 |" in card
    assert json.loads((model / "generator" / "continuation.json").read_text())["datasets"]


def test_a_limit_keeps_the_first_pieces_of_each_dataset_in_order():
    from types import SimpleNamespace

    items = [SimpleNamespace(dataset=ds, n=i) for i, ds in enumerate("bababca")]
    assert [(x.dataset, x.n) for x in cont.first_of_each(items, 2)] == [
        ("a", 1), ("a", 3), ("b", 0), ("b", 2), ("c", 5)]
    assert cont.first_of_each(items, None) == items
