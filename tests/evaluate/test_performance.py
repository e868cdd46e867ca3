"""The tagger's accuracy with the val windows played another way."""

from __future__ import annotations

import numpy as np
import torch

from bridge.evaluate import performance
from bridge.model.tagger import Tagger, TaggerConfig
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import encode
from bridge.train.windows import Sequence
from bridge.vocab import BAR, Meter


def _seq(style: str, variant: str, velocity: int, seed: int) -> Sequence:
    rng = np.random.default_rng(seed)
    notes = [Note(i * 0.5, 0.5, int(rng.integers(60, 72)), velocity, part=0) for i in range(64)]
    tokens = np.asarray(encode(Piece(notes, Meter())), dtype=np.uint16)
    return Sequence(tokens, style, "x", False, 60, 72, np.flatnonzero(tokens == BAR),
                    f"{style}{seed}", variant)


def test_every_way_is_scored_on_the_same_windows():
    torch.manual_seed(0)
    tagger = Tagger(TaggerConfig(genres=("folk", "pop"), substyles=("folk/jig",))).eval()
    seqs = [_seq("folk", "melody", 90, 1), _seq("pop", "full", 40, 2)]
    report = performance.by_performance(tagger, seqs, 4, torch.device("cpu"))
    assert report["windows"] == 4 and report["melody_windows"] == 2   # 8 bars each
    assert set(report["ways"]) == {"as they are", *performance.WAYS}
    for way in report["ways"].values():
        assert 0 <= way["all"] <= 1 and 0 <= way["melody"] <= 1


def test_windows_are_spread_evenly_and_capped(monkeypatch):
    monkeypatch.setattr(performance, "MOST", 3)
    seqs = [_seq("folk", "melody", 90, s) for s in range(3)]
    windows = performance.performed(seqs, 4, ("folk",))
    assert len(windows) == 3
    assert all(w[0] == BAR or w[1] != BAR for w, _, _ in windows)
