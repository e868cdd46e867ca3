"""A piano-roll picture of notes (matplotlib, headless)."""

from __future__ import annotations

import warnings
from pathlib import Path

from bridge.music.piece import Piece


def piano_roll(parts: list[tuple[Piece, str]], path: str | Path, title: str = "") -> None:
    """Draw each ``(piece, colour)`` as horizontal bars (pitch over beats) into ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.5))
    for piece, colour in parts:
        for n in piece.notes:
            ax.barh(n.pitch, n.duration, left=n.start, height=0.8, color=colour,
                    alpha=0.35 + 0.65 * n.velocity / 127, edgecolor="none")
    ax.set(xlabel="beats", ylabel="MIDI pitch", title=title)
    ax.grid(axis="x", alpha=0.3)
    with warnings.catch_warnings():     # a title's letters the font lacks: drawn as boxes
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    plt.close(fig)
