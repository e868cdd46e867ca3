"""`continuo eval --task accompaniment`: the daemon's accompanist on a simulated clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.evaluate import evaluate
from bridge.evaluate import accompaniment as acc
from bridge.evaluate.continuation import Case
from bridge.music.piece import Note, Piece
from bridge.vocab import BASS, HARMONY, MELODY

from .folders import midi_folder

CHORDS = [(48, 52, 55), (53, 57, 60), (55, 59, 62), (48, 52, 55)]     # C F G C


def _band(bars: int) -> Piece:
    """A melody on every beat over a chord per bar (held) and a bass note per beat."""
    notes = []
    for b in range(bars):
        chord = CHORDS[b % 4]
        notes += [Note(4 * b + i, 0.9, chord[i % 3] + 24, 90, part=MELODY) for i in range(4)]
        notes += [Note(4 * b, 4.0, p, 60, part=HARMONY) for p in chord]
        notes += [Note(4 * b + i, 1.0, chord[0] - 12, 70, part=BASS) for i in range(4)]
    return Piece(notes, name="band")


def test_baselines_and_chord_tone_fit():
    case = Case("band", "user", "g", "pop", _band(14))
    assert acc.suitable(case)
    held = acc.hold(case)                      # bar 8's chord (C) and bass, held 4 bars
    assert {n.pitch for n in held} == {48, 52, 55, 36}
    assert all(n.start == 32 and n.duration == 16 for n in held)
    echo = acc.echo(case)
    truth = acc.accompaniment(case.truth)
    assert sorted((n.start, n.pitch) for n in echo) == sorted((n.start, n.pitch) for n in truth)
    everything = [*acc.melody(case.truth), *truth]
    assert acc.chord_tone_fit(echo, everything) == 1.0
    # the held C chord fits bar 9 (C) only at its onset: one onset, every note fits it
    assert acc.chord_tone_fit(held, everything) == 1.0
    wrong = [Note(32, 1, 61, 80, part=HARMONY), Note(33, 1, 60, 80, part=HARMONY)]
    assert acc.chord_tone_fit(wrong, everything) == 0.5
    assert acc.chord_tone_fit([], everything) is None
    # the truth against itself: each note needs another true note of its pitch class; per
    # bar the chord's root and the 4 bass notes have one, its third and fifth do not
    assert acc.truth_metrics(case)["chord_tone_fit"] == pytest.approx(5 / 7)
    assert not acc.suitable(Case("m", "user", "g", "pop", Piece(acc.melody(_band(14).notes))))


def test_the_daemon_accompanies_a_melody_played_live(models):
    from bridge.live.engine import Engine

    generator, _ = models
    engine = Engine(generator, None)
    case = Case("band", "user", "g", "pop", _band(14))
    notes = acc.accompany(generator, engine, case, seed=1)
    assert notes == acc.accompany(generator, engine, case, seed=1)    # repeatable
    assert notes and all(n.part in (HARMONY, BASS) for n in notes)
    start, end = case.bars.lines[0], case.bars.lines[-1]
    assert all(start - 1e-6 <= n.start and n.end <= end + 1e-6 for n in notes)
    assert acc.accompany(generator, engine, case, seed=2) != notes


def test_heard_alone_the_melody_gets_an_accompaniment_brought_in_under_it(models):
    """`--alone`: the session hears the melody only; the accompaniment comes in on the truth's
    first bar line, the chords no higher than the melody's lowest note of its last two bars,
    the bass an octave under it."""
    from bridge.live.engine import Engine
    from bridge.live.entry import UNDER_MELODY

    generator, _ = models
    case = Case("band", "user", "g", "pop", _band(14))
    notes = acc.accompany(generator, Engine(generator, None), case, seed=1, heard="alone")
    first = case.bars.lines[0]
    entry = [n for n in notes if abs(n.start - first) < 1e-6]
    assert entry and all(n.part in (HARMONY, BASS) for n in notes)
    low = min(n.pitch for n in acc.melody(case.prompt.notes) if n.start >= first - 8)
    for n in entry:
        assert n.pitch <= low - UNDER_MELODY[n.part]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return midi_folder(tmp_path / "music", {"pop/band.mid": _band(14)})


def test_the_report(tiny_model_dir, folder, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(evaluate, [
        "--task", "accompaniment", "--model", str(tiny_model_dir), "--data", str(folder),
        "--split", "all", "--seeds", "0", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["accompaniment"]
    entry = report["datasets"]["user"]
    assert entry["pieces"] == 1
    for name in ("model", "hold", "echo"):
        assert {"chord_tone_fit", "score"} <= set(entry[name])
    assert entry["echo"]["chord_tone_fit"] == 1.0
    assert entry["truth"]["chord_tone_fit"] == pytest.approx(5 / 7, abs=1e-4)
    assert (out / "accompaniment.json").exists() and (out / "accompaniment_pieces.json").exists()
    table = CliRunner().invoke(evaluate, [
        "--task", "accompaniment", "--model", str(tiny_model_dir), "--data", str(folder),
        "--split", "all", "--seeds", "0"])
    assert table.exit_code == 0 and "chord_tone_fit" in table.output
    alone = CliRunner().invoke(evaluate, [
        "--task", "accompaniment", "--model", str(tiny_model_dir), "--data", str(folder),
        "--split", "all", "--seeds", "0", "--alone"])
    assert alone.exit_code == 0 and "heard: the melody alone" in alone.output
    start = CliRunner().invoke(evaluate, [
        "--task", "accompaniment", "--model", str(tiny_model_dir), "--data", str(folder),
        "--split", "all", "--seeds", "0", "--from-start"])
    assert start.exit_code == 0 and "accompanied from its first note" in start.output
