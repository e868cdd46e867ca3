"""The beats of music played in free time: a performance recorded without a click.

A pianist who records into a sequencer without its click, or a performance captured as MIDI
(a competition's piano, a player piano roll), leaves a file whose beats are the writer's
120 bpm and nothing of the music's: its onsets fall anywhere in the file's beats, and its
own beat speeds up and slows down. Read on the file's grid, every note sits off its beat
and every bar is a guess, so the model heard a rhythm it never learnt (val-like piano
pieces rendered so: the continuation's spacing of onsets 0.50 against the echo's 0.70).

:func:`track` finds the beats the way a listener taps along: an onset envelope of the notes
(each onset worth its loudness, a low note more where chords make it a bass: :func:`bass_floor`)
in frames of :data:`FRAME` seconds, the beat period its autocorrelation favours near a
walking tempo, then the beats by dynamic
programming (each beat placed on strong onsets, a period from the last as far as the
tempo lets it: Ellis, *Beat tracking by dynamic programming*, JNMR 2007). :func:`free_time`
says whether a file needs it: its onsets keep to no grid of its own beats (sixteenths or
triplets), where a file played to a click, however loosely, keeps to its sixteenths.
:class:`TimeMap` moves notes from the file's beats to the beats found and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bridge.music.piece import Note, Piece

FRAME = 0.01                    # seconds per envelope frame
SMOOTH = 0.02                   # seconds: the envelope's Gaussian smoothing
SLOWEST, FASTEST = 1.5, 0.3     # seconds per beat the tracker considers (40-200 bpm)
PREFERRED = 0.6                 # seconds per beat the tempo prior favours (100 bpm) ...
SPREAD = 0.6                    # ... its width in octaves
TIGHTNESS = 15.0                # how strongly a beat keeps the period (Ellis's alpha)
GRIDS = (4, 3)                  # subdivisions a file's own beats are tried at
ON_GRID = 1 / 24                # beats: an onset this close to a line of one is on it
MIN_ON_GRID = 0.5               # share of onsets on the best subdivision, below which the
#                                 file's beats are not the music's (uniform: about 1/3)
MIN_ONSETS = 24                 # fewer distinct onsets: too little to tell
MIN_BEATS = 8                   # fewer beats found: nothing to follow
NEAR = 0.15                     # beats: an onset this close to a beat starts there
LOW_WEIGHT = 2.0                # beats of length a low note's onset is worth
LOW = 15                        # percentile of the pitches at or under which a note is low
MIN_CHORDS = 0.1                # share of onsets with notes together at which the music is a
#                                 texture with a bass: its low notes keep the beat and the bar
HEAVIER = 1.3                   # times what the beats found bring: every other one (or the
#                                 offbeats between them) is taken for the beat instead
QUICK = 0.45                    # seconds: beats found this quick may be half beats
STEADY = 0.7                    # share of the beats found on the file's half beats (within
#                                 ON_FILE) at which the file's own beats are the music's: a
#                                 player to a click, loosely (free_time then says no)
ON_FILE = 0.12                  # file beats


def on_grid_share(onsets: np.ndarray) -> float:
    """The largest share of ``onsets`` (file beats) within :data:`ON_GRID` of a line of one
    subdivision of :data:`GRIDS`, at the phase that puts the most there."""
    best = 0.0
    for sub in GRIDS:
        x = onsets * sub % 1.0
        for phase in np.arange(0.0, 1.0, 1 / 48):
            d = np.abs((x - phase + 0.5) % 1.0 - 0.5) / sub
            best = max(best, float(np.mean(d < ON_GRID)))
    return best


def free_time(notes: Sequence[Note]) -> bool:
    """Whether the pitched ``notes`` were played in free time: their distinct onsets keep to
    no subdivision of the file's beats (:func:`on_grid_share` under :data:`MIN_ON_GRID`)."""
    onsets = np.unique(np.round([n.start for n in notes if not n.drum], 4))
    return len(onsets) >= MIN_ONSETS and on_grid_share(onsets) < MIN_ON_GRID


def chordal(notes: Sequence[Note]) -> bool:
    """Whether ``notes`` are a texture with chords (:data:`MIN_CHORDS` of their onsets start
    two notes or more together), whose low notes are a bass; a line alone has none (its low
    notes fall anywhere in the beat and the bar)."""
    starts = np.round(np.array([n.start for n in notes]), 2)
    _, counts = np.unique(starts, return_counts=True)
    return len(counts) > 0 and float(np.mean(counts >= 2)) >= MIN_CHORDS


def bass_floor(notes: Sequence[Note]) -> float:
    """The pitch at or under which a note of ``notes`` is low, a bass note that keeps the
    beat and the bar: the :data:`LOW` percentile of their pitches in a texture with chords
    (:func:`chordal`), none (-1) in a line alone."""
    return float(np.percentile([n.pitch for n in notes], LOW)) if chordal(notes) else -1.0


@dataclass(frozen=True)
class TimeMap:
    """File beats of the beats found (increasing), extended at either end by the period of
    the beats nearest it: the beat found at index i is beat i of the music. ``tempo`` is
    the file's (bpm), at which its beats were read."""

    beats: np.ndarray
    tempo: float = 120.0

    def _ends(self) -> tuple[float, float]:
        head = float(np.median(np.diff(self.beats[:5])))
        tail = float(np.median(np.diff(self.beats[-5:])))
        return head, tail

    def to_music(self, x: np.ndarray | float) -> np.ndarray:
        """File beats -> beats of the music."""
        head, tail = self._ends()
        b, n = self.beats, len(self.beats)
        x = np.asarray(x, dtype=float)
        return np.where(x < b[0], (x - b[0]) / head,
                        np.where(x > b[-1], n - 1 + (x - b[-1]) / tail,
                                 np.interp(x, b, np.arange(n))))

    def to_file(self, y: np.ndarray | float) -> np.ndarray:
        """Beats of the music -> file beats."""
        head, tail = self._ends()
        b, n = self.beats, len(self.beats)
        y = np.asarray(y, dtype=float)
        return np.where(y < 0, b[0] + y * head,
                        np.where(y > n - 1, b[-1] + (y - n + 1) * tail,
                                 np.interp(y, np.arange(n), b)))

    def notes(self, notes: Sequence[Note], to_music: bool = True) -> list[Note]:
        """``notes`` moved to the music's beats (or back to the file's)."""
        move = self.to_music if to_music else self.to_file
        starts = move(np.array([n.start for n in notes]))
        ends = move(np.array([n.end for n in notes]))
        return [Note(float(s), max(float(e - s), 1e-3), n.pitch, n.velocity, n.drum, n.part)
                for n, s, e in zip(notes, starts, ends, strict=True)]

    def on_file_beats(self) -> bool:
        """Whether the beats found keep to the file's half beats (:data:`STEADY`): the
        music kept the file's time, however loosely its notes were played."""
        off = np.abs(self.beats * 2 - np.round(self.beats * 2)) / 2
        return bool(np.mean(off < ON_FILE) >= STEADY)

    def period(self) -> float:
        """File beats per beat of the music, as it plays at the end (its last beats)."""
        return self._ends()[1]


def seconds(piece: Piece) -> tuple[np.ndarray, np.ndarray]:
    """``(beats, seconds)`` at the file's tempo changes: np.interp between them maps one to
    the other (a tempo holds to the next change, and past the last)."""
    changes = [(0.0, piece.tempo), *piece.tempo_changes]
    beats, secs = [0.0], [0.0]
    for i, (at, bpm) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else at + 1e6
        if until > at:
            beats.append(until)
            secs.append(secs[-1] + (until - at) * 60.0 / bpm)
    return np.array(beats), np.array(secs)


def envelope(times: np.ndarray, weights: np.ndarray, frames: int) -> np.ndarray:
    """Onset strength per frame: each onset's weight at its frame, smoothed and normalised."""
    env = np.zeros(frames)
    np.add.at(env, np.minimum((times / FRAME).astype(int), frames - 1), weights)
    width = SMOOTH / FRAME
    k = np.arange(-int(3 * width), int(3 * width) + 1)
    env = np.convolve(env, np.exp(-0.5 * (k / width) ** 2), mode="same")
    return env / (env.std() + 1e-9)


def period_of(env: np.ndarray) -> int:
    """The beat period (frames) the envelope's autocorrelation favours, under a prior
    around :data:`PREFERRED`."""
    lags = np.arange(int(FASTEST / FRAME), int(SLOWEST / FRAME) + 1)
    centred = env - env.mean()
    ac = np.array([centred[:-lag] @ centred[lag:] for lag in lags]) / len(env)
    prior = np.exp(-0.5 * (np.log2(lags * FRAME / PREFERRED) / SPREAD) ** 2)
    return int(lags[np.argmax(np.maximum(ac, 0.0) * prior)])


def beat_frames(env: np.ndarray, period: int) -> list[int]:
    """Beats (frames) by dynamic programming: each frame's best score is its onset strength
    plus the best earlier beat's score, less :data:`TIGHTNESS` times the squared log of how
    far the gap is from ``period``; the beats are traced back from the best late frame."""
    n = len(env)
    score, back = env.copy(), np.full(n, -1)
    gaps = np.arange(period // 2, 2 * period + 1)
    cost = -TIGHTNESS * np.log(gaps / period) ** 2
    for t in range(period // 2, n):
        prev = t - gaps
        ok = prev >= 0
        if not ok.any():
            continue
        cand = score[prev[ok]] + cost[ok]
        best = int(np.argmax(cand))
        if cand[best] > 0:
            score[t] += cand[best]
            back[t] = prev[ok][best]
    t = n - period + int(np.argmax(score[n - period:]))
    out = [t]
    while back[out[-1]] >= 0:
        out.append(int(back[out[-1]]))
    return out[::-1]


def weight(notes: Sequence[Note], beats: np.ndarray) -> float:
    """What ``beats`` (file beats) bring: for each onset on one (within :data:`NEAR` of a
    beat), its longest note's length (in beats found, at most 2) and, in a texture with a
    bass (:func:`chordal`), :data:`LOW_WEIGHT` where a low note starts there, as a listener
    feels the beat in the long and low notes (a chord counts once: offbeat chords do not
    move a beat the bass keeps)."""
    floor = bass_floor(notes)
    onsets: dict[float, tuple[float, bool]] = {}
    for n in notes:
        key = round(n.start, 2)
        length, low = onsets.get(key, (0.0, False))
        onsets[key] = max(length, n.duration), low or n.pitch <= floor
    starts = np.array(list(onsets))
    gaps = np.diff(beats)
    where = np.clip(np.searchsorted(beats, starts) - 1, 0, len(gaps) - 1)
    x = (starts - beats[where]) / gaps[where]
    near = (np.abs(x) < NEAR) | (np.abs(x - 1.0) < NEAR)
    value = np.minimum([v[0] for v in onsets.values()] / gaps[where], 2.0) + \
        LOW_WEIGHT * np.array([v[1] for v in onsets.values()])
    return float(value[near].sum())


def settle(notes: Sequence[Note], beats: np.ndarray, quick: bool) -> np.ndarray:
    """The beats found or, where the long and low notes fall elsewhere
    (:data:`HEAVIER` times as much), the offbeats between them; and where the beats are
    ``quick``, every other one, at the place that brings most."""
    offbeats = (beats[1:] + beats[:-1]) / 2
    if weight(notes, offbeats) > HEAVIER * weight(notes, beats):
        beats = offbeats
    if quick and len(beats) >= 2 * MIN_BEATS:
        even, odd = weight(notes, beats[0::2]), weight(notes, beats[1::2])
        if max(even, odd) > HEAVIER * min(even, odd):
            beats = beats[0::2] if even >= odd else beats[1::2]
    return beats


def track(piece: Piece) -> TimeMap | None:
    """The beats ``piece``'s pitched notes are played on, as a :class:`TimeMap`; None where
    there are too few notes or beats to follow, or where they keep the file's beats
    (:meth:`TimeMap.on_file_beats`)."""
    notes = [n for n in piece.notes if not n.drum]
    if len(notes) < MIN_ONSETS:
        return None
    beat_axis, sec_axis = seconds(piece)
    times = np.interp([n.start for n in notes], beat_axis, sec_axis)
    low = np.array([n.pitch for n in notes]) <= bass_floor(notes)
    weights = np.array([n.velocity for n in notes]) / 127.0 * (1.0 + low)
    times = times - times.min() + 2 * SMOOTH
    frames = int(times.max() / FRAME) + int(SLOWEST / FRAME) + 1
    env = envelope(times, weights, frames)
    period = period_of(env)
    found = beat_frames(env, period)
    if len(found) < MIN_BEATS:
        return None
    at = np.array(found) * FRAME - 2 * SMOOTH + float(np.interp(
        min(n.start for n in notes), beat_axis, sec_axis))
    beats = settle(notes, np.interp(at, sec_axis, beat_axis), period * FRAME < QUICK)
    time = TimeMap(beats, piece.tempo)
    return None if time.on_file_beats() else time
