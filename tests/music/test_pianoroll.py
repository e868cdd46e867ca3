"""The piano-roll picture `continue --png` draws."""

from __future__ import annotations

import warnings

from bridge.music.pianoroll import piano_roll
from bridge.music.piece import Note, Piece


def test_a_picture_is_drawn_quietly_whatever_its_title_says(tmp_path):
    notes = Piece([Note(i, 0.5, 60 + i, 40 + 10 * i) for i in range(8)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a letter the font lacks: no warning
        piano_roll([(notes, "0.45"), (notes, "tab:orange")], tmp_path / "roll.png",
                   title="歌曲 ♪ ½ + 4 bars")
    assert (tmp_path / "roll.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
