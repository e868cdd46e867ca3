"""A folder of MIDI files for the evaluation tests: the labels come from the folder names,
as ``continuo eval --data`` reads a user's folder."""

from __future__ import annotations

from pathlib import Path

from bridge.music.midifile import write_midi
from bridge.music.piece import Piece


def midi_folder(root: Path, files: dict[str, Piece]) -> Path:
    """``root`` holding each piece of ``files`` at its relative path; returns ``root``."""
    for rel, piece in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_midi(piece, root / rel)
    return root
