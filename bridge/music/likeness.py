"""How alike two spans of music are: the histograms the continuation benchmark compares
(``docs/musicality.md``), and the consensus of several candidate continuations.

A span is its notes over some bars. Its five histograms count

- ``pitch_class``: 12 pitch classes; a drum note counts as its GM key (its own bin),
- ``pitch``: the 128 pitches, and drum keys in bins of their own,
- ``ioi``: inter-onset intervals between successive distinct onsets,
- ``duration``: note durations,
- ``position``: onset position in its bar;

the last three in bins of 1/12 beat (``bin = floor(beats * 12)``), intervals and durations
of 4 beats or more in one last bin. Two histograms overlap by ``sum(min(p, q))`` of their
normalised forms (1 = the same distribution, 0 = disjoint; 1 when both are empty, 0 when
one is); two spans are as alike as the mean overlap of their five (:func:`likeness`).

:func:`consensus` picks, of several continuations sampled for the same place, the one most
like the others (minimum Bayes risk under this likeness): the continuation the model's own
ideas agree on, rather than one draw that may stray; bars heard before, played again, vote
beside them (a tune's strain coming round, a groove going on: :mod:`bridge.live.quote`).
Measured on the continuation benchmark (docs/musicality.md, "Choosing among candidates").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT, Meter

BINS_PER_BEAT = 12
MAX_BEATS = 4                                   # longer intervals and durations: one bin
N_TIME_BINS = MAX_BEATS * BINS_PER_BEAT + 1
N_POSITION_BINS = 8 * BINS_PER_BEAT             # bars are at most 8 beats (vocab)
OVERLAPS = ("pitch_class", "pitch", "ioi", "duration", "position")
EPS = 1e-6


@dataclass(frozen=True)
class Bars:
    """The bar lines a span of music lies on, in beats: ``lines[i]`` to ``lines[i + 1]`` is
    bar ``i``."""

    lines: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.lines) - 1

    def index(self, beat: float) -> int | None:
        """The bar that holds ``beat`` (None outside the span)."""
        i = int(np.searchsorted(self.lines, beat + EPS, side="right")) - 1
        return i if 0 <= i < len(self) else None

    @classmethod
    def spanning(cls, meter: Meter, start_tick: int, end_tick: int) -> Bars:
        """The bars of ``meter`` from the one holding ``start_tick`` to the one
        ``end_tick`` closes."""
        lines = [meter.bar_start(start_tick)]
        while lines[-1] < end_tick:
            lines.append(lines[-1] + meter.bar_length(lines[-1]))
        return cls(tuple(t / TICKS_PER_BEAT for t in lines))

    def position(self, beat: float) -> float:
        i = self.index(beat)
        return beat - self.lines[0 if i is None else i]


def time_bin(beats: float) -> int:
    """The 1/12-beat bin of a time in beats (a thousandth of a bin of float slack)."""
    return min(math.floor(beats * BINS_PER_BEAT + 1e-3), N_TIME_BINS - 1)


def histograms(notes: Sequence[Note], bars: Bars) -> dict[str, np.ndarray]:
    """The five histograms of a span of notes (counts, not yet normalised)."""
    h = {"pitch_class": np.zeros(12 + 128), "pitch": np.zeros(256),
         "ioi": np.zeros(N_TIME_BINS), "duration": np.zeros(N_TIME_BINS),
         "position": np.zeros(N_POSITION_BINS)}
    for n in notes:
        h["pitch_class"][12 + n.pitch if n.drum else n.pitch % 12] += 1
        h["pitch"][128 * n.drum + n.pitch] += 1
        h["duration"][time_bin(n.duration)] += 1
        h["position"][min(time_bin(bars.position(n.start)), N_POSITION_BINS - 1)] += 1
    onsets = sorted({round(n.start, 6) for n in notes})
    for a, b in itertools.pairwise(onsets):
        h["ioi"][time_bin(b - a)] += 1
    return h


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(min(p, q))`` of the normalised histograms: 1 when both are empty, 0 when one
    is."""
    sa, sb = a.sum(), b.sum()
    if not sa or not sb:
        return float(sa == sb)
    return float(np.minimum(a / sa, b / sb).sum())


def overlaps(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """Each histogram's overlap between two spans' :func:`histograms`."""
    return {name: overlap(a[name], b[name]) for name in OVERLAPS}


def likeness(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """The mean of the five overlaps (the benchmark's ``score`` of one against the other)."""
    return sum(overlaps(a, b).values()) / len(OVERLAPS)


def consensus(spans: Sequence[Sequence[Note]], bars: Bars,
              among: Sequence[int] | None = None,
              voters: Sequence[tuple[Sequence[Note], float]] = (),
              bonus: Sequence[float] | None = None) -> int:
    """The index of the span most like the others (mean :func:`likeness`; the first of a
    tie); with ``among``, of those spans only, judged by them only. Each of the ``voters``
    (a span on the same bars that is not a candidate, and its weight) adds its weight times
    each one's likeness to it; ``bonus`` (one number per span) adds its own. One span, or
    none: 0."""
    among = list(range(len(spans)) if among is None else among)
    if len(among) < 2:
        return among[0] if among else 0
    hists = [histograms(spans[i], bars) for i in among]
    alike = np.zeros((len(among), len(among)))
    for i, j in itertools.combinations(range(len(among)), 2):
        alike[i, j] = alike[j, i] = likeness(hists[i], hists[j])
    score = alike.sum(axis=1) / (len(among) - 1)
    for voter, weight in voters:
        v = histograms(voter, bars)
        score += weight * np.array([likeness(h, v) for h in hists])
    if bonus is not None:
        score += np.array([bonus[i] for i in among])
    return among[int(np.argmax(score))]


def bar_contents(notes: Sequence[Note], bars: Bars) -> list[frozenset]:
    """Each bar's notes as a set of (position in ticks of 1/24 beat, pitch, drum)."""
    out: list[set] = [set() for _ in range(len(bars))]
    starts = np.fromiter((n.start for n in notes), float, len(notes))
    found = np.searchsorted(bars.lines, starts + EPS, side="right") - 1   # as Bars.index
    for n, i in zip(notes, found.tolist(), strict=True):
        if 0 <= i < len(bars):
            out[i].add((round((n.start - bars.lines[i]) * 24), n.pitch, n.drum))
    return [frozenset(s) for s in out]


def copied_bars(notes: Sequence[Note], bars: Bars, source: set[frozenset]) -> int:
    """How many of the span's bars hold exactly the notes of a bar in ``source`` (bars'
    :func:`bar_contents`: the same pitches at the same places)."""
    return sum(1 for b in bar_contents(notes, bars) if b and b in source)


def copied_bar_share(notes: Sequence[Note], bars: Bars, prompt: Sequence[Note],
                     prompt_bars: Bars) -> float:
    """The share of the span's bars copied from a bar of the prompt."""
    source = {b for b in bar_contents(prompt, prompt_bars) if b}
    return copied_bars(notes, bars, source) / len(bars) if len(bars) else 0.0
