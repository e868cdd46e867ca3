"""Windows played another way: the same notes with dynamics and timing drawn afresh, so that
the tagger learns a style from what is played, not from how its source happens to be played.

Each source has its own way of being played: POP909's melodies carry a performer's dynamics,
the Weimar Jazz Database's solos a player's timing, Nottingham's tunes and music21's scores
neither (one velocity, every onset on the grid). Trained on them as they are, the tagger
learnt those instead of the music (4 December, 20 val melodies of each genre: a folk
melody given varied velocities was tagged folk 0 times in 20, a jazz solo quantised to 16ths
jazz 0 times in 20, a pop melody at one velocity pop 7 times in 20), so a folk tune played
live, with dynamics and a person's timing, was tagged pop or jazz.

:func:`reperform` plays a window again: its dynamics flat (one velocity), varied (a level
and a spread around it) or kept, each a third of the time; its timing on a grid (16ths or
triplet 8ths), humanised (onsets moved by a few ticks, durations by a few per cent) or kept,
each a third of the time. Pitches, parts and the bars stay.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bridge.music.piece import Piece
from bridge.music.tokenize import decode, encode
from bridge.vocab import MAX_BEATS_PER_BAR, TICKS_PER_BEAT, Meter

# decoded and encoded again on the longest bar the tokens allow: any source bar fits in it,
# so every note keeps its bar and its place in it
METER = [(0, MAX_BEATS_PER_BAR * TICKS_PER_BEAT)]
GRIDS = (6, 8)              # ticks: 16ths, triplet 8ths (both divide the bar above)
JITTER = (0.3, 1.5)         # ticks: the humanised onsets' spread, drawn per window
STRETCH = 0.15              # the humanised durations' spread (log scale)
FLAT = (40, 112)            # velocities: a flat window's, drawn per window
LEVEL, SPREAD = (50, 105), (6, 20)   # a varied window's level and spread
DYNAMICS = ("flat", "varied", "kept")
TIMING = ("grid", "human", "kept")


def reperform(tokens: np.ndarray, rng: np.random.Generator, dynamics: str | None = None,
              timing: str | None = None) -> np.ndarray:
    """``tokens`` (a window from a BAR) with its dynamics and timing drawn afresh (each
    way drawn at random unless given)."""
    meter = Meter(METER)
    notes = decode(tokens.tolist(), meter)
    if not notes:
        return tokens
    dynamics = dynamics or DYNAMICS[rng.integers(len(DYNAMICS))]
    timing = timing or TIMING[rng.integers(len(TIMING))]
    tick = 1.0 / TICKS_PER_BEAT
    if dynamics == "flat":
        velocity = int(rng.integers(*FLAT))
        notes = [replace(n, velocity=velocity) for n in notes]
    elif dynamics == "varied":
        level, spread = rng.uniform(*LEVEL), rng.uniform(*SPREAD)
        notes = [replace(n, velocity=int(np.clip(rng.normal(level, spread), 1, 127)))
                 for n in notes]
    if timing == "grid":
        grid = GRIDS[rng.integers(len(GRIDS))] * tick
        notes = [replace(n, start=_in_bar(n.start, round(n.start / grid) * grid),
                       duration=max(grid, round(n.duration / grid) * grid)) for n in notes]
    elif timing == "human":
        sigma = rng.uniform(*JITTER) * tick
        notes = [replace(n, start=_in_bar(n.start, n.start + rng.normal(0.0, sigma)),
                       duration=max(tick, n.duration * float(np.exp(rng.normal(0, STRETCH)))))
                 for n in notes]
    return np.asarray(encode(Piece(notes, meter)), dtype=np.int64)


def _in_bar(old: float, new: float) -> float:
    """``new``, kept in the bar of ``old`` (an early downbeat stays in its bar, a late
    last note too)."""
    bar = METER[0][1] / TICKS_PER_BEAT
    first = old // bar * bar
    return min(max(new, first), first + bar - 1.0 / TICKS_PER_BEAT)

