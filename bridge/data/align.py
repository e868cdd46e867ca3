"""Aligning a re-edited version of a piece with the original: one constant shift (and
transposition) must land the version's notes on the original's.

Notes match by onset (within ``TOLERANCE`` beats) *and* pitch class (an octave or key change
is fine). On onsets alone a dense piano part matches ~75% of any version at any whole-beat
shift; with pitch classes a wrong shift scores ~35%. The shift is found by cross-correlation
on the tick grid (FFT), then refined to the exact, sub-tick value. A version is aligned
(:attr:`Alignment.ok`) when

- at least ``MIN_SHARE`` of its notes land,
- clearly more (``MIN_MARGIN``) than at a shift 1 or 2 beats away, and
- no stretch of it (``WINDOW`` beats) that lands poorly lands well at *another* shift: a
  version whose second half was moved, or that drifts by a tick, is not aligned. A stretch
  that matches nowhere (a new intro or ending, another accompaniment) does not count
  against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT

T = TICKS_PER_BEAT
MIN_SHARE = 0.5
MIN_MARGIN = 0.15
WINDOW = 32.0               # beats
WINDOW_NOTES = 16           # stretches with fewer notes are not judged
LOCAL_POOR = 0.5            # a stretch landing less than this at the shift is examined ...
LOCAL_GOOD = 0.5            # ... it moved if this much of it lands at another shift ...
LOCAL_GAIN = 0.2            # ... and this much more than at the shift
TOLERANCE = 1 / T           # beats
TRANSPOSITIONS_TRIED = 3    # the keys whose pitch-class histograms fit best


@dataclass(frozen=True)
class Alignment:
    shift: float                # beats: the version's notes are the original's this much later
    transpose: int              # semitones (mod 12) from the original to the version
    share: float                # of the version's (onset, pitch class) pairs that land
    margin: float               # share minus the best share 1 or 2 beats away
    moved: float | None = None  # the other shift of a stretch that lands elsewhere

    @property
    def ok(self) -> bool:
        return self.share >= MIN_SHARE and self.margin >= MIN_MARGIN and self.moved is None

    def __str__(self) -> str:
        text = (f"shift {self.shift:+.3f} beats (transposed {self.transpose}) lands "
                f"{self.share:.0%} of notes, {self.margin:.0%} more than 1-2 beats away")
        if self.moved is not None:
            text += f"; a {WINDOW:g}-beat stretch lands at {self.moved:+.3f} instead"
        return text + f" (needs {MIN_SHARE:.0%} and {MIN_MARGIN:.0%})"


@dataclass(frozen=True)
class _Pairs:
    """Unique (onset, pitch class) pairs of some notes, sorted by onset."""

    onsets: np.ndarray    # beats
    pcs: np.ndarray

    @classmethod
    def of(cls, notes: list[Note]) -> _Pairs:
        pairs = sorted({(n.start, n.pitch % 12) for n in notes})
        return cls(np.array([p[0] for p in pairs], dtype=float),
                   np.array([p[1] for p in pairs], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.onsets)

    def ticks(self) -> np.ndarray:
        return np.round(self.onsets * T).astype(np.int64)

    def subset(self, mask: np.ndarray) -> _Pairs:
        return _Pairs(self.onsets[mask], self.pcs[mask])


def align(original: list[Note], version: list[Note]) -> Alignment:
    """The constant shift and transposition that best land ``version`` on ``original``."""
    a, b = _Pairs.of(original), _Pairs.of(version)
    if len(a) == 0 or len(b) == 0:
        return Alignment(0.0, 0, 0.0, 0.0)
    low = int(min(a.ticks().min(), b.ticks().min())) - 2
    n = int(max(a.ticks().max(), b.ticks().max())) - low + 3
    size = 1 << int(2 * n - 1).bit_length()
    fa = np.conj(np.fft.rfft(_grid(a.ticks() - low, a.pcs, n), size, axis=1))
    by_pc = {pc: a.onsets[a.pcs == pc] for pc in range(12)}

    hist_a, hist_b = np.bincount(a.pcs, minlength=12), np.bincount(b.pcs, minlength=12)
    fit = [float(np.dot(np.roll(hist_b, -t), hist_a)) for t in range(12)]
    best: tuple[float, int, int, float] | None = None     # score, lag ticks, transpose, margin
    for transpose in (int(t) for t in np.argsort(fit)[::-1][:TRANSPOSITIONS_TRIED]):
        lag, score, others = _best_lag(fa, b, transpose, low, n, size)
        if best is None or score > best[0]:
            best = (score, lag, transpose, (score - others) / len(b))
    _, lag, transpose, margin = best
    shift = _refine(by_pc, b, transpose, lag / T)
    hit = _hits(by_pc, b, transpose, shift)

    moved = None
    window = ((b.onsets - b.onsets.min()) // WINDOW).astype(np.int64)
    for w in np.unique(window):
        mask = window == w
        if np.count_nonzero(mask) < WINDOW_NOTES or hit[mask].mean() >= LOCAL_POOR:
            continue
        part = b.subset(mask)
        local = _refine(by_pc, part, transpose, _best_lag(fa, part, transpose, low, n, size)[0] / T)
        there = _hits(by_pc, part, transpose, local).mean()
        if abs(local - shift) >= TOLERANCE and there >= LOCAL_GOOD and \
                there >= hit[mask].mean() + LOCAL_GAIN:
            moved = local
            break
    return Alignment(shift, transpose, float(hit.mean()), margin, moved)


def _grid(ticks: np.ndarray, pcs: np.ndarray, n: int) -> np.ndarray:
    grid = np.zeros((12, n))
    grid[pcs, ticks] = 1.0
    return grid


def _best_lag(fa: np.ndarray, b: _Pairs, transpose: int, low: int, n: int,
              size: int) -> tuple[int, float, float]:
    """(lag in ticks, notes landing within a tick there, the best such count 1-2 beats off)."""
    fb = np.fft.rfft(_grid(b.ticks() - low, (b.pcs - transpose) % 12, n), size, axis=1)
    corr = np.round(np.fft.irfft((fb * fa).sum(axis=0), size))   # corr[k]: version = orig + k
    smooth = corr + np.roll(corr, 1) + np.roll(corr, -1)
    k = int(np.argmax(smooth))
    k = max((k - 1, k, k + 1), key=lambda i: corr[i % size]) % size
    others = max(smooth[(k + d * T) % size] for d in (-2, -1, 1, 2))
    return (k if k < size // 2 else k - size), float(smooth[k]), float(others)


def _refine(by_pc: dict[int, np.ndarray], b: _Pairs, transpose: int, lag: float) -> float:
    """The exact shift: the median offset of the notes that land within 1.5 ticks of ``lag``."""
    diffs = []
    for pc in range(12):
        xs, ys = b.onsets[(b.pcs - transpose) % 12 == pc], by_pc[pc]
        if len(xs) and len(ys):
            d = xs - _nearest(ys, xs - lag)
            diffs.append(d[np.abs(d - lag) <= 1.5 / T])
    diffs = np.concatenate(diffs) if diffs else np.zeros(0)
    return float(np.median(diffs)) if len(diffs) else lag


def _hits(by_pc: dict[int, np.ndarray], b: _Pairs, transpose: int, shift: float) -> np.ndarray:
    """Which of ``b``'s notes land on the original, shifted, within ``TOLERANCE``."""
    hit = np.zeros(len(b), dtype=bool)
    for pc in range(12):
        mask = (b.pcs - transpose) % 12 == pc
        ys = by_pc[pc]
        if mask.any() and len(ys):
            xs = b.onsets[mask] - shift
            hit[mask] = np.abs(xs - _nearest(ys, xs)) <= TOLERANCE + 1e-9
    return hit


def _nearest(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    if len(sorted_values) == 1:
        return np.full_like(x, sorted_values[0])
    i = np.clip(np.searchsorted(sorted_values, x), 1, len(sorted_values) - 1)
    left, right = sorted_values[i - 1], sorted_values[i]
    return np.where(np.abs(x - left) <= np.abs(right - x), left, right)
