"""The key of some notes (Krumhansl-Schmuckler), and how much of a span keeps to it.

The key is the one whose Krumhansl-Kessler profile correlates best with the notes'
duration-weighted pitch classes; a span's in-key share is the share of its pitched notes
in that key's scale (major, or natural minor). The continuation benchmark reports it
(:mod:`bridge.evaluate.musicality`), and a choice under a style request keeps to the key it
heard (:mod:`bridge.live.quote`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bridge.music.piece import Note

MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29,
                          2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34,
                          3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True)
class Key:
    tonic: int        # pitch class 0-11
    minor: bool

    @property
    def scale(self) -> frozenset[int]:
        return frozenset((self.tonic + d) % 12 for d in (MINOR_SCALE if self.minor
                                                        else MAJOR_SCALE))

    def __str__(self) -> str:
        names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        return f"{names[self.tonic]} {'minor' if self.minor else 'major'}"


def find_key(notes: Sequence[Note]) -> Key | None:
    """Krumhansl-Schmuckler: the key whose profile correlates best with the notes'
    duration-weighted pitch classes (None without pitched notes)."""
    weights = np.zeros(12)
    for n in notes:
        if not n.drum:
            weights[n.pitch % 12] += n.duration
    if not weights.any():
        return None
    best, best_r = None, -math.inf
    for minor, profile in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE)):
        for tonic in range(12):
            r = _correlation(weights, np.roll(profile, tonic))
            if r > best_r + 1e-12:
                best, best_r = Key(tonic, minor), r
    return best


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator else 0.0


def in_key_share(notes: Sequence[Note], key: Key | None) -> float | None:
    """The share of the pitched ``notes`` in ``key``'s scale (None without a key or a
    pitched note)."""
    pitched = [n for n in notes if not n.drum]
    if key is None or not pitched:
        return None
    scale = key.scale
    return sum(1 for n in pitched if n.pitch % 12 in scale) / len(pitched)
