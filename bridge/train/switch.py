"""Style-switch windows: a few bars of one genre, then another genre's music under its tag.

A style request asks the generator to go on from a performer's bars of one genre in
another, but every ordinary training window's style tag names the genre its notes already
show, so the model learns to read the genre from the notes and hardly needs the tag: asked
for folk after a jazz solo, it goes on with jazz. A switch window teaches what the request
means: its first bars (the *lead-in*, not scored) come from a piece of another genre, and
what follows is a piece of the tagged genre, transposed so that its pitch classes sit where
the lead-in's do (the key kept), with the same kind of texture (a melody after a melody).

    [BOS] [lead-in: 1..8 bars of genre A, targets 0] [BAR ... genre B, scored] ...
    style = B's tag (or its genre); never none, since no style means "go on as you hear"
"""

from __future__ import annotations

import numpy as np

from bridge.vocab import DRUM_BASE, PITCH_BASE, genre_of

MAX_BARS = 8            # the longest lead-in, in bars
MAX_SHARE = 0.5         # of the window's tokens, at most


def _pitched(tokens: np.ndarray) -> np.ndarray:
    """Which of ``tokens`` are pitches (not drums)."""
    return (tokens >= PITCH_BASE) & (tokens < DRUM_BASE)


def pitch_classes(tokens: np.ndarray) -> np.ndarray:
    """How many notes of each pitch class ``tokens`` hold: ``[12]``."""
    pitches = tokens[_pitched(tokens)] - PITCH_BASE
    return np.bincount(pitches % 12, minlength=12).astype(np.float64)


def key_shift(lead_in: np.ndarray, tokens: np.ndarray, lo: int, hi: int) -> int:
    """The transposition in ``lo..hi`` semitones that lays the pitch classes of ``tokens``
    best on those of ``lead_in`` (cosine of the two histograms; 0 when either has none)."""
    a, b = pitch_classes(lead_in), pitch_classes(tokens)
    if not a.any() or not b.any() or hi < lo:
        return 0
    shifts = np.arange(lo, hi + 1)
    fit = [float(a @ np.roll(b, s)) for s in shifts]
    return int(shifts[int(np.argmax(fit))])


def room(tokens: np.ndarray, limit: int) -> tuple[int, int]:
    """The transpositions (lowest, highest) within ``limit`` semitones that keep every
    pitch of ``tokens`` in MIDI's range."""
    pitches = tokens[_pitched(tokens)].astype(np.int64) - PITCH_BASE
    if not len(pitches):
        return -limit, limit
    return max(-limit, -int(pitches.min())), min(limit, 127 - int(pitches.max()))


def shift_pitches(tokens: np.ndarray, shift: int) -> np.ndarray:
    """``tokens`` (int64) with every pitch ``shift`` semitones higher (drums stay)."""
    out = tokens.astype(np.int64)
    out[_pitched(out)] += shift
    return out


class LeadIns:
    """Where lead-ins come from: the pitched sequences by (variant, genre), so that a window
    of one genre is led into by the same kind of texture of any other genre."""

    def __init__(self, seqs: list, rng: np.random.Generator) -> None:
        self.rng = rng
        self.pool: dict[str, dict[str, list]] = {}      # variant -> genre -> sequences
        for s in seqs:
            if not s.drums and s.style and len(s.bars) > 1:
                self.pool.setdefault(s.variant, {}).setdefault(genre_of(s.style), []).append(s)

    def other(self, seq):
        """A sequence of another genre, same variant, for ``seq`` (``None``: there is none)."""
        if seq.drums or not seq.style:
            return None
        by_genre = self.pool.get(seq.variant, {})
        genres = sorted(g for g in by_genre if g != genre_of(seq.style))
        if not genres:
            return None
        pool = by_genre[genres[self.rng.integers(len(genres))]]
        return pool[self.rng.integers(len(pool))]

    def bars(self, seq, window: int) -> tuple[int, int, int] | None:
        """(first bar, start token, end token) of 1..MAX_BARS whole bars of ``seq``, at most
        ``MAX_SHARE`` of ``window`` tokens (``None``: not even one bar fits)."""
        n = int(self.rng.integers(1, MAX_BARS + 1))
        first = int(self.rng.integers(len(seq.bars) - 1))
        start = int(seq.bars[first])
        ends = seq.bars[first + 1:first + n + 1]
        fits = ends[ends - start <= MAX_SHARE * window]
        return (first, start, int(fits[-1])) if len(fits) else None
