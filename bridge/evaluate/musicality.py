"""How close a continuation is to what the music really did: the continuation benchmark's
metrics (``continuo eval --task continuation``), on notes in beat time.

Every metric compares a *candidate* (the model's continuation, or a baseline's) with the
*truth* (the bars the piece really played next) over the same bars:

- Histogram overlap (:mod:`bridge.music.likeness`: the five histograms, pitch class, pitch,
  inter-onset interval, duration and position in the bar, and how they overlap) of each of
  the five; ``score`` is the mean of the five.
- ``density_log_ratio``: ``|log(n_candidate / n_truth)|``, each count at least 1.
- ``in_key``: the share of pitched notes in the scale (major, or natural minor) of the
  prompt's key, found by Krumhansl-Schmuckler: the duration-weighted pitch-class profile
  correlated with the 24 rotated Krumhansl-Kessler profiles (None without pitched notes).
- ``copied_bars``: the share of the candidate's bars whose notes (position in the bar, pitch)
  are exactly those of a non-empty prompt bar.
- ``duplicates``: notes with the pitch and onset of an earlier one.
- ``same_pitch_overlaps``: notes struck while an earlier note of their pitch still sounds.
- ``notes_per_bar``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bridge.music.likeness import (
    EPS,
    OVERLAPS,
    Bars,
    copied_bar_share,
    histograms,
    overlaps,
)
from bridge.music.piece import Note

METRICS = ("score", *OVERLAPS, "density_log_ratio", "in_key", "copied_bars", "duplicates",
           "same_pitch_overlaps", "notes_per_bar")
OWN = ("in_key", "copied_bars", "duplicates", "same_pitch_overlaps", "notes_per_bar")

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


# -- a span's own properties ----------------------------------------------------------------


def duplicates(notes: Sequence[Note]) -> int:
    """Notes that repeat an earlier note's pitch and onset."""
    seen = {(round(n.start, 6), n.pitch, n.drum) for n in notes}
    return len(notes) - len(seen)


def same_pitch_overlaps(notes: Sequence[Note]) -> int:
    """Notes struck while an earlier note of the same pitch still sounds (a note struck at
    the very onset of another is a duplicate, not counted here)."""
    by_key: dict[tuple[int, bool], list[Note]] = {}
    for n in notes:
        by_key.setdefault((n.pitch, n.drum), []).append(n)
    return sum(1 for group in by_key.values() for n in group
               if any(m.start + EPS < n.start < m.end - EPS for m in group))


def in_key_share(notes: Sequence[Note], key: Key | None) -> float | None:
    pitched = [n for n in notes if not n.drum]
    if key is None or not pitched:
        return None
    scale = key.scale
    return sum(1 for n in pitched if n.pitch % 12 in scale) / len(pitched)


def own(notes: Sequence[Note], bars: Bars, prompt: Sequence[Note], prompt_bars: Bars,
        key: Key | None) -> dict[str, float | None]:
    """The metrics a span has by itself (the truth's are reported beside the candidates')."""
    return {"in_key": in_key_share(notes, key),
            "copied_bars": copied_bar_share(notes, bars, prompt, prompt_bars),
            "duplicates": duplicates(notes),
            "same_pitch_overlaps": same_pitch_overlaps(notes),
            "notes_per_bar": len(notes) / max(len(bars), 1)}


def compare(candidate: Sequence[Note], truth: Sequence[Note], bars: Bars,
            prompt: Sequence[Note], prompt_bars: Bars,
            key: Key | None = None) -> dict[str, float | None]:
    """Every metric of ``candidate`` against ``truth``, both over ``bars``; the prompt (on
    ``prompt_bars``) gives the key and the bars a copy would come from."""
    hc, ht = histograms(candidate, bars), histograms(truth, bars)
    out: dict[str, float | None] = dict(overlaps(hc, ht))
    out["score"] = sum(out[name] for name in OVERLAPS) / len(OVERLAPS)
    out["density_log_ratio"] = abs(math.log(max(len(candidate), 1) / max(len(truth), 1)))
    out.update(own(candidate, bars, prompt, prompt_bars, key))
    return {name: out[name] for name in METRICS}


def mean_metrics(rows: Sequence[dict[str, float | None]],
                 names: Sequence[str] = METRICS) -> dict[str, float | None]:
    """Each metric's mean over the rows that have it (None where none has)."""
    out: dict[str, float | None] = {}
    for name in names:
        values = [r[name] for r in rows if r.get(name) is not None]
        out[name] = round(float(np.mean(values)), 4) if values else None
    return out
