"""`continuo eval --task call`: trading fours with the daemon in call mode, on a simulated
clock."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bridge.cli.evaluate import evaluate
from bridge.evaluate import call
from bridge.music.piece import Note, Piece
from bridge.vocab import DRUMS, HARMONY, MELODY, Meter

from .folders import midi_folder

SCALE = (60, 62, 64, 65, 67, 69, 71, 72)


def _tune(bars: int) -> Piece:
    """A melody on every beat (no rest of a beat anywhere) over a chord held each bar."""
    notes = []
    for b in range(bars):
        notes += [Note(4 * b + i, 0.9, SCALE[(b + i) % 8], 90, part=MELODY) for i in range(4)]
        notes.append(Note(4 * b, 4.0, 48 + b % 4, 60, part=HARMONY))
    return Piece(notes, name="tune")


class _Record:
    def __init__(self, piece: Piece, name: str) -> None:
        from bridge.data.cache import SeqMeta
        from bridge.music.tokenize import encode

        self.tokens = np.array(encode(piece))
        self.meta = SeqMeta(0, len(self.tokens), "pop", "user", name, name, "full", False,
                            len(piece.notes), 48, 72, 0, tuple(piece.meter.changes))


def test_a_piece_is_cut_into_calls_and_answers():
    trade, = call.trades([_Record(_tune(16), "a")])
    assert trade.call(0) == (0.0, 16.0) and trade.call(1) == (32.0, 48.0)
    assert trade.answer_bars(1).lines == (48.0, 52.0, 56.0, 60.0, 64.0)
    assert {n.start for n in trade.truth(0)} == {float(b) for b in range(16, 32)}
    played = trade.played(0, breath=1.0)              # the call's last beat is a breath
    assert max(n.start for n in played) == 14.0 and max(n.end for n in played) <= 15.0
    assert len([n for n in played if n.part == HARMONY]) == 4      # the chords held shorter
    echo = call.echo(trade, 0, played)
    assert sorted((n.start - 16, n.pitch) for n in echo) == sorted((n.start, n.pitch)
                                                                   for n in played)
    # too short, or bars of more than one length: nothing to trade
    assert call.trades([_Record(_tune(15), "b")]) == []
    three = Piece(_tune(16).notes, Meter([(0, 96), (8 * 96, 72)]))
    assert call.trades([_Record(three, "c")]) == []


@pytest.mark.parametrize("before, counted_from", [(1.0, 4.0), (2.0, 0.0)])
def test_a_tune_s_pickup_is_played_before_its_first_bar(before, counted_from):
    """A pickup of a beat or less: bar 1 is the bar it leads into, and the performer plays
    it before the call's bars; a longer lead-in is a bar of the call."""
    tune = _tune(17)
    pickup = Note(4.0 - before, before, 59, 90, part=MELODY)
    notes = [n for n in tune.notes if n.start >= 4.0]
    trade, = call.trades([_Record(Piece([pickup, *notes], tune.meter), "p")])
    assert trade.lines[0] == counted_from and trade.call(0) == (counted_from,
                                                                counted_from + 16.0)
    played = trade.played(0, breath=1.0)
    assert min(n.start for n in played) == 4.0 - before          # the pickup is played
    echo = call.echo(trade, 0, played)
    bars = [n.start for n in played if n.start >= counted_from]   # its bars, from bar 5
    assert sorted(n.start for n in echo) == [b + 16.0 for b in sorted(bars)]


def test_the_daemon_trades_fours(models):
    from bridge.live.engine import Engine

    generator, _ = models
    engine = Engine(generator, None)
    trade, = call.trades([_Record(_tune(16), "a")])
    run = call.trade_fours(generator, engine, trade, seed=1)
    again = call.trade_fours(generator, engine, trade, seed=1)
    assert run["answers"] == again["answers"]                          # repeatable
    assert sum(run["status"].values()) == call.ROUNDS                 # one answer a round
    assert run["in_calls"] == [0, 0]            # the performer never rests a beat mid-call
    for r, answer in enumerate(run["answers"]):
        bars = trade.answer_bars(r)
        assert answer and all(bars.index(n.start) is not None for n in answer)
    # the second answer has heard the first, and the performer's two calls
    assert all(n in run["heard"][1] for n in run["answers"][0])
    assert all(n in run["heard"][1] for n in run["calls"][1])
    assert not any(n.start >= 48 for n in run["heard"][1])


def test_drums_are_played_as_drums(models):
    from bridge.live.engine import Engine

    generator, _ = models
    beats = [Note(b / 2, 0.25, 36 if b % 4 == 0 else 42, 100, True, part=DRUMS)
             for b in range(16 * 8)]
    trade, = call.trades([_Record(Piece(beats, name="groove"), "d")])
    run = call.trade_fours(generator, Engine(generator, None), trade, seed=0)
    assert all(n.drum for n in run["heard"][1])
    assert all(n.drum for answer in run["answers"] for n in answer)


def test_a_drummer_playing_to_the_line_is_answered_with_the_choice(models, monkeypatch):
    """Trading, a drummer's hits to the line, the last two a moment before it: the answer
    kept through them is drawn whole by the benchmark's worker, as a real one draws it (it
    had been left a single draw, the worker taken for stopped by the last hit)."""
    from bridge.live.engine import Engine

    generator, _ = models
    pushed = [Note(16 * k - before, 0.01, 46, 100, True, part=DRUMS)   # 50 and 20 ms
              for k in (1, 3) for before in (0.1, 0.04)]                 # before the line
    hits = [Note(b / 4, 0.1, 36 if b % 8 == 0 else 42, 100, True, part=DRUMS)
            for b in range(16 * 16)] + pushed
    trade, = call.trades([_Record(Piece(sorted(hits, key=lambda n: n.start), name="g"), "d")])

    def to_the_line(self, r, breath):
        start, end = self.call(r)
        return [n for n in self.piece.notes if start - call.EPS <= n.start < end - call.EPS]
    monkeypatch.setattr(call.Trade, "played", to_the_line)
    run = call.trade_fours(generator, Engine(generator, None), trade, seed=0,
                           params={"trade_bars": 4, "candidates": 4})
    assert run["status"]["answers_chosen"] == call.ROUNDS
    assert run["status"]["answers_kept"] == call.ROUNDS


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return midi_folder(tmp_path / "music", {"pop/tune.mid": _tune(16)})


def test_the_report(tiny_model_dir, folder, tmp_path):
    out = tmp_path / "report"
    args = ["--task", "call", "--model", str(tiny_model_dir), "--data", str(folder),
            "--split", "all", "--seeds", "0"]
    result = CliRunner().invoke(evaluate, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["call"]
    entry = report["datasets"]["user"]
    assert entry["pieces"] == 1 and report["rounds"] == call.ROUNDS
    assert {"score", "copied_bars", "density_log_ratio"} <= set(entry["model"])
    assert entry["echo"]["copied_bars"] == 1.0          # the call again, bar for bar
    assert sum(entry["answers"].values()) == call.ROUNDS
    assert (out / "call.json").exists() and (out / "call_pieces.json").exists()
    table = CliRunner().invoke(evaluate, args)
    assert table.exit_code == 0 and "beats the echo" in table.output
    traded = CliRunner().invoke(evaluate, [*args, "--set", "trade_bars=4", "--json"])
    assert traded.exit_code == 0, traded.output
    report = json.loads(traded.output)["call"]
    assert report["params"]["trade_bars"] == 4
    assert sum(report["datasets"]["user"]["answers"].values()) == call.ROUNDS
    for bad, said in (("trade_bars=99", "within 0..16"), ("tempo=1", "unknown parameter"),
                      ("trade_bars", "NAME=VALUE")):
        refused = CliRunner().invoke(evaluate, [*args, "--set", bad])
        assert refused.exit_code == 2 and said in refused.output, refused.output
    short = midi_folder(tmp_path / "short", {"pop/tune.mid": _tune(12)})
    failed = CliRunner().invoke(evaluate, [*args[:4], "--data", str(short), *args[6:]])
    assert failed.exit_code != 0 and "16 bars" in failed.output
