"""The tagger's genre accuracy on the val windows played another way: the same notes with
flat dynamics on a grid, or varied dynamics with a person's timing (``bridge.train.perform``).

A style is in what is played, not in how a source happens to be played (POP909's melodies
with a performer's dynamics, jazz solos with a player's timing, folk tunes and scores with
neither): a tagger that reads the style from the music tags a window the same however it is
played, and tags a folk tune played live, with dynamics and human timing, folk.
"""

from __future__ import annotations

import numpy as np
import torch

from bridge.evaluate.metrics import accuracy
from bridge.model import ear
from bridge.progress import Progress
from bridge.train.perform import reperform
from bridge.train.tasks import tag_logits
from bridge.train.windows import Sequence, bar_windows, tag_targets
from bridge.vocab import genre_of

WAYS = {"flat, on a grid": ("flat", "grid"), "varied, humanised": ("varied", "human")}
MOST = 4000          # windows, spread evenly over the val data (re-encoding takes time)
SEED = 0


def performed(seqs: list[Sequence], bars: int, genres: tuple[str, ...]) -> list[tuple]:
    """Every ``bars``-bar window of a known genre, with its PART said first: (tokens,
    style, variant)."""
    out = [(w, s.style, s.variant) for s in seqs if genre_of(s.style) in genres
           for w in bar_windows(s, bars, parted=True)]
    step = max(1, len(out) // MOST)
    return out[::step][:MOST]


def by_performance(tagger, seqs: list[Sequence], bars: int, device: torch.device,
                   generator=None) -> dict:
    """Genre accuracy, in all and on melodies alone, for each way of playing (``WAYS``), and
    as the windows are; what ``generator`` hears counted in (:mod:`bridge.model.ear`)."""
    cfg = tagger.config
    windows = performed(seqs, bars, cfg.genres)
    truth = np.array([tag_targets(st, cfg.genres, cfg.substyles)[0] for _, st, _ in windows])
    melody = np.array([variant == "melody" for _, _, variant in windows])
    rng = np.random.default_rng(SEED)
    out = {}
    for way, (dynamics, timing) in {"as they are": (None, None), **WAYS}.items():
        tokens = [w if dynamics is None else reperform(w, rng, dynamics, timing)
                  for w, _, _ in windows]
        pred = heard(tagger, generator, tag_logits(tagger, tokens, device)[0], tokens,
                     f"played {way}").argmax(1)
        out[way] = {"all": round(accuracy(truth, pred), 4),
                    "melody": round(accuracy(truth[melody], pred[melody]), 4)
                    if melody.any() else None}
    return {"windows": len(windows), "melody_windows": int(melody.sum()), "ways": out}


def heard(tagger, generator, g_logits: np.ndarray, windows: list, label: str) -> np.ndarray:
    """Genre logits ``[N, G]`` of ``windows`` with what ``generator`` hears in them counted
    in (:mod:`bridge.model.ear`; as they are without one), its progress shown as ``label``."""
    if generator is None:
        return g_logits
    with Progress(label, len(windows), "windows") as progress:
        evidence = ear.hear(generator, tagger, windows, progress.update)
    return tagger.heard(torch.from_numpy(g_logits), evidence).numpy()
