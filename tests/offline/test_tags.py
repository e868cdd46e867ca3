"""Whole-file tags: what the tagger hears in a piece, and the genre the daemon would hear."""

from __future__ import annotations

from dataclasses import replace

import torch

from bridge.live.tagging import last_bars
from bridge.music.tokenize import encode
from bridge.offline.tags import TAG_WINDOWS, bar_windows, heard_genre, spread, tag_piece
from tests.offline.test_continuation import _shifted_piece


def test_a_prompt_is_heard_as_the_daemon_hears_a_performer(models):
    _, tagger = models
    piece = _shifted_piece()
    tags = tagger.tags(torch.tensor(last_bars(encode(piece))))
    assert heard_genre(tagger, piece) == next(t for t, _ in tags if "/" not in t)
    assert heard_genre(tagger, replace(piece, notes=[])) is None


def test_a_long_piece_is_tagged_from_windows_spread_over_all_of_it(models):
    """However long the file, the tags take the time of ``TAG_WINDOWS`` windows, the first
    and the last among them; a shorter piece is heard whole."""
    windows = [[i] for i in range(100)]
    assert spread(windows, 100) == windows and spread(windows, 500) == windows
    picked = spread(windows, 4)
    assert picked == [[0], [33], [66], [99]] and spread(windows, 1) == [[0]]
    _, tagger = models
    long = _shifted_piece(bars=4 * (TAG_WINDOWS + 8))
    assert len(bar_windows(encode(long), 4)) > TAG_WINDOWS
    assert tag_piece(tagger, long)["windows"] == TAG_WINDOWS
    assert tag_piece(tagger, _shifted_piece(bars=8))["windows"] == 2
