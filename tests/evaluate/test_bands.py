"""Band pieces: a pitched piece with a groove of the data laid under it, bar for bar."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bridge.cli.evaluate import evaluate
from bridge.evaluate.bands import band_cases, lay_under
from bridge.evaluate.continuation import Case
from bridge.music.piece import Note, Piece
from bridge.vocab import TICKS_PER_BEAT, Meter

from .folders import midi_folder


def _tune(bars: int, origin: float = 0.0) -> Piece:
    notes = [Note(origin + 4 * b + i, 0.9, 60 + (b + i) % 7, 80) for b in range(bars)
             for i in range(4)]
    return Piece(notes, Meter([(round(origin * TICKS_PER_BEAT), 4 * TICKS_PER_BEAT)]))


def _groove(bars: int) -> Piece:
    """Each bar's kick on its first beat, and as many hi-hats as the bar's number."""
    return Piece([Note(4 * b + i * 0.25, 0.1, 36 if i == 0 else 42, 90, drum=True)
                  for b in range(bars) for i in range(b + 1)])


def test_a_groove_is_laid_under_the_music_bar_for_bar():
    music = _tune(12, origin=0.5)                         # bars from beat 0.5
    under = lay_under(music, _groove(14))
    for b in range(12):
        bar = [n for n in under if 0.5 + 4 * b <= n.start < 4.5 + 4 * b]
        assert len(bar) == b + 1 and bar[0].start == 0.5 + 4 * b and bar[0].pitch == 36


def test_band_pieces_pair_a_genre_with_a_groove_that_belongs_with_it():
    tune = Case("tune.mid", "songs", "t", "pop", _tune(12))
    hymn = Case("hymn.mid", "scores", "h", "classical", _tune(12))    # no drums go with it
    funk = Case("funk.mid", "grooves", "g1", "drums/funk", _groove(12))
    polka = Case("polka.mid", "grooves", "g2", "drums/polka", _groove(12))
    (band,) = band_cases([tune, hymn, funk, polka])
    assert band.dataset == "songs+groove" and band.style == "pop"
    assert band.name == "tune.mid+funk.mid"
    assert sorted(band.piece.notes, key=str) == sorted(
        tune.piece.notes + lay_under(tune.piece, funk.piece), key=str)
    assert any(n.drum for n in band.truth) and any(not n.drum for n in band.truth)


def test_eval_reports_band_pieces_as_their_own_dataset(tiny_model_dir, tmp_path: Path):
    root = midi_folder(tmp_path / "music", {"pop/song.mid": _tune(13),
                                            "drums/funk/groove.mid": _groove(13)})
    result = CliRunner().invoke(evaluate, [
        "--task", "continuation", "--model", str(tiny_model_dir), "--data", str(root),
        "--split", "all", "--seeds", "0", "--style-prompts", "0", "--bands", "--json"])
    assert result.exit_code == 0, result.output
    datasets = json.loads(result.output)["continuation"]["datasets"]
    assert set(datasets) == {"user", "user+groove"}
    assert datasets["user+groove"]["pieces"] == 1
