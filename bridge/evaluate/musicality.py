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

import numpy as np

from bridge.music.key import Key, in_key_share
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
