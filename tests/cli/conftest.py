"""MIDI files for the commands that take files and folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.music.midifile import write_midi
from bridge.music.piece import Note, Piece


def steps(bars: int, low: int = 60) -> Piece:
    """Quarter notes stepping round a seventh from ``low``, four a bar."""
    return Piece([Note(b * 4 + i, 0.9, low + (b + i) % 7, 80)
                  for b in range(bars) for i in range(4)])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "jigs").mkdir(parents=True)
    write_midi(steps(10), root / "a.mid")
    write_midi(steps(9, 65), root / "jigs" / "b.mid")
    (root / "notes.txt").write_text("not music")
    return root
