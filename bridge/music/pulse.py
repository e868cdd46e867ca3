"""The beats and bars a file's notes are played on, where the file's own grid does not fit.

A MIDI file's beats and time signature are whatever its writer set. A DAW's export has the
song's; an arrangement whose tempo map was taken from a recording need not: POP909's files
keep each beat one MIDI beat long but place it anywhere inside one (song 002's fall 0.527
beats after the file's), and their meters read 1/4 or 2/4. Read on such a grid every note
sits off its beat and a bar lasts a beat or two, so ``continuo continue --prompt-bars 8``
heard 8 beats and answered off the beat.

:func:`fit` finds the grid in the pitched notes (drums keep their file's grid: a drummer's
own timing says too little of where the click was):

- **the beat**: the phase, in 1/48 of a beat, that puts the most onsets on a beat, an onset
  half a beat after one counting half and a sixteenth off a quarter; or the phase half a
  beat from it, where more of the long notes start there, and of the low ones in a texture
  with chords (offbeat chords do not move a beat that the bass keeps; a line alone has no
  bass). The file's beat length is kept; only where the beats fall moves. It replaces the
  file's only where it is at least 1/24 of a beat away, at least a fifth of the onsets fall
  on it, and the file's fits clearly worse: half as many onsets on its beats, or long (and
  low) notes two thirds as heavy. A file that counts in eighths (6/8, 9/8: a quarter
  note's beat falls on and off its beats by turns) keeps its grid;
- **the bars**: of 3 beats where the music comes round every 3 and 6 beats clearly more
  than every 4 and 8 (a waltz, a minuet, a jig counted in quarters), else of 4; starting on
  the place in the bar whose beats, over the first 16 bars, most often bring a long note, a
  low note or a change of harmony, each counted against the beats either side of it. A
  file whose beats fit keeps its meter, unless its bars are shorter than 1.5 beats (a 1/4
  signature is a placeholder, not a meter): then its bars are found the same way; and a
  file that gives no meter at all (MIDI's 4/4 by default) whose music comes round in bars
  of 3 gets those;
- **free time**: a file whose onsets keep to no subdivision of its beats at all (a
  performance recorded without a click) is heard on the beats a listener would tap
  (:mod:`bridge.music.tempo`), its notes moved onto them, and bars of 3 or 4 found on those; the
  grid's :attr:`Grid.time` moves what is written for it back to the file's time.

A grid's bar lines lie on the tick nearest its downbeat (the tokens count in ticks), up to
1/48 beat before or after the music's own; what is drawn on them is written back where the
music's lines are (:meth:`Grid.written`), so that a continuation's notes fall with the
file's and not a little beside them.

Measured on POP909's files against their beat annotations, and on scores with their meters
left out: docs/musicality.md ("A file played off its own beats", "A waltz heard in 3",
"A take goes on where and as it was played").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bridge.music.piece import Note, Piece
from bridge.music.tempo import LOW_WEIGHT, NEAR, TimeMap, bass_floor, chordal, free_time, track
from bridge.vocab import TICKS_PER_BEAT, Meter

BINS = 48                       # phases tried per beat
WEIGHTS = {0: 1.0, 24: 0.5, 12: 0.25, 36: 0.25}   # bin after a beat -> what an onset there counts
ON_BEAT = 2 / BINS              # an onset this close to a beat is on it
MIN_ON_BEAT = 0.2               # share of onsets on the new beats, at least
BETTER = 2.0                    # times the share on the file's beats, at least; or
HEAVIER = 1.5                   # times the weight of what its beats bring (weight())
MIN_ONSETS = 24                 # fewer distinct onsets: too little to find a grid in
BAR_BEATS = 4                   # beats in a bar found, unless the music says 3 (beats_in_bar())
THREE = 0.25                    # how much more alike the music is 3 and 6 beats apart than 4
#                                 and 8 (onsets, lengths, pitch classes summed) for bars of 3
METER_SPAN = 256                # beats from the first note heard for a bar's length
FRAMES = 12                     # frames per beat in which a bar's length is heard
SHORTEST_BAR = TICKS_PER_BEAT * 3 // 2   # a bar under 1.5 beats is a placeholder meter
SHORT_WHY = "its bars are shorter than 1.5 beats"
MAX_DURATION = 4.0              # beats: a longer note counts as this long
PLACING = 64                    # beats from the first note that place the bars


@dataclass(frozen=True)
class Grid:
    """A grid found in the notes: beats ``phase`` beats after the file's, bars of
    ``bar_beats`` from ``downbeat`` (beats), and why the file's own did not serve; for music
    in free time, the beats found (``time``), on which phase and downbeat are counted."""

    phase: float
    downbeat: float
    bar_beats: int
    why: str
    time: TimeMap | None = None

    def to_file(self, piece: Piece) -> Piece:
        """``piece`` (heard on this grid) in the file's time, at the file's tempo."""
        if self.time is None:
            return piece
        return Piece(self.time.notes(piece.notes, to_music=False), tempo=self.time.tempo,
                     name=piece.name)

    def written(self, piece: Piece) -> Piece:
        """``piece``, drawn on this grid's :attr:`meter` (on its ticks), where the music's
        own lines are (:attr:`residual` later), in the file's time."""
        moved = [replace(n, start=n.start + self.residual) for n in piece.notes]
        return self.to_file(replace(piece, notes=moved))

    def file_beat(self, beat: float) -> float:
        """A line of this grid's :attr:`meter` as a beat of the file, where the music's own
        line lies."""
        beat += self.residual
        return beat if self.time is None else float(self.time.to_file(beat))

    @property
    def meter(self) -> Meter:
        """Bars of ``bar_beats`` from the tick nearest the downbeat (:attr:`residual`)."""
        return Meter([(round(self.downbeat * TICKS_PER_BEAT), self.bar_beats * TICKS_PER_BEAT)])

    @property
    def residual(self) -> float:
        """Beats from the meter's lines to the music's: the downbeat's part under a tick
        (POP909's beats lie anywhere in the file's: up to 1/48 beat, which the bins of the
        continuation benchmark's positions, 1/12 beat, are not too wide to hear)."""
        return self.downbeat - round(self.downbeat * TICKS_PER_BEAT) / TICKS_PER_BEAT


def on_beat_share(onsets: np.ndarray, phase: float) -> float:
    """The share of ``onsets`` (beats) within :data:`ON_BEAT` of a beat ``phase`` after the
    file's."""
    x = (onsets - phase) % 1.0
    return float(np.mean((x < ON_BEAT) | (x > 1.0 - ON_BEAT)))


def beat_phase(onsets: np.ndarray) -> float:
    """The phase (beats, in [0, 1)) that puts the most onsets on a beat (:data:`WEIGHTS`)."""
    bins = np.floor(onsets % 1.0 * BINS + 0.5).astype(int) % BINS
    counts = np.bincount(bins, minlength=BINS).astype(float)
    counts += 0.5 * (np.roll(counts, 1) + np.roll(counts, -1))      # a bin either side
    template = np.zeros(BINS)
    for b, w in WEIGHTS.items():
        template[b] = w
    scores = [float(counts @ np.roll(template, p)) for p in range(BINS)]
    return int(np.argmax(scores)) / BINS


def usual_bar(piece: Piece) -> int:
    """The bar length (ticks) that holds the most of the piece's onsets (a pickup bar or
    a bar cut short does not count for the meter)."""
    meter = piece.meter
    lengths = [meter.bar_length(meter.bar_start(round(n.start * TICKS_PER_BEAT)))
               for n in piece.notes]
    values, counts = np.unique(lengths, return_counts=True)
    return int(values[np.argmax(counts)])


def centred(onsets: np.ndarray, phase: float) -> float:
    """``phase`` moved to the median place of the onsets on its beats (the bins are 1/48
    of a beat wide; the onsets say where in one the beat is)."""
    off = (onsets - phase + 0.5) % 1.0 - 0.5
    near = off[np.abs(off) < ON_BEAT]
    return float((phase + np.median(near)) % 1.0) if len(near) else phase


def weight(notes: Sequence[Note], phase: float) -> float:
    """What the beats at ``phase`` bring: the length of the notes starting on them (within
    :data:`NEAR`), and :data:`LOW_WEIGHT` for each low one (a bass note:
    :func:`bridge.music.tempo.bass_floor`)."""
    floor = bass_floor(notes)
    total = 0.0
    for n in notes:
        x = (n.start - phase) % 1.0
        if x < NEAR or x > 1.0 - NEAR:
            total += min(n.duration, MAX_DURATION) + LOW_WEIGHT * (n.pitch <= floor)
    return total


def downbeat(notes: Sequence[Note], phase: float, bar_beats: int = BAR_BEATS) -> float:
    """A downbeat (beats) of bars of ``bar_beats`` on the beats at ``phase``: the place in
    the bar whose beats, over the first :data:`PLACING` beats of the music, most often bring
    a long note, a low note (in a texture with chords: its bass; a line alone has none, its
    low notes fall anywhere in the bar) or a change of harmony, against the beats either
    side of them (the first bars only: a song's odd bar later, a 2/4 bar in 4/4, is not
    followed)."""
    first = int(np.floor(min(n.start for n in notes) - phase + 0.5))
    length, low, chroma = np.zeros(PLACING), np.zeros(PLACING), np.zeros((PLACING, 12))
    floor = bass_floor(notes)
    for n in notes:
        x = n.start - phase
        k = int(np.floor(x + 0.5))
        if not first <= k < first + PLACING:
            continue
        if abs(x - k) < NEAR:
            length[k - first] += min(n.duration, MAX_DURATION)
            low[k - first] += n.pitch <= floor
        chroma[k - first, n.pitch % 12] += min(n.duration, MAX_DURATION)
    unit = chroma / (np.linalg.norm(chroma, axis=1, keepdims=True) + 1e-9)
    change = np.r_[0.0, 1.0 - (unit[1:] * unit[:-1]).sum(axis=1)]
    salience = sum(f / (f.mean() + 1e-9) for f in (length, low, change))
    padded = np.pad(salience, 1)
    contrast = salience - 0.5 * (padded[:-2] + padded[2:])
    place = int(np.argmax([contrast[d::bar_beats].mean() for d in range(bar_beats)]))
    return phase + first + place


def _alike(x: np.ndarray, lag: int) -> float:
    """How alike ``x`` (frames, then anything) is to itself ``lag`` frames later: the cosine
    of the two, each frame's values less their mean over the frames for a 1-D ``x``."""
    if x.ndim == 1:
        x = x - x.mean()
    a, b = x[:-lag].ravel(), x[lag:].ravel()
    return float(a @ b / (np.sqrt((a @ a) * (b @ b)) + 1e-9))


def beats_in_bar(notes: Sequence[Note], phase: float) -> int:
    """The beats in a bar of ``notes`` on the beats at ``phase``: 3 where, over their first
    :data:`METER_SPAN` beats, what starts where (onsets, the longest note starting, the
    pitch classes starting; in 1/:data:`FRAMES` beats) is clearly more alike 3 and 6 beats
    later than 4 and 8 (by :data:`THREE`), else :data:`BAR_BEATS`. A waltz, a minuet or a
    jig repeats its rhythm and its harmony bar by bar; 4/4 and 2/4 music every 4 beats."""
    origin = phase + np.floor(min(n.start for n in notes) - phase)
    frames = min(int(np.floor((max(n.start for n in notes) - origin) * FRAMES + 0.5)) + 1,
                 METER_SPAN * FRAMES)                 # up to the last onset heard
    if frames <= 8 * FRAMES:
        return BAR_BEATS
    onset, length, chroma = np.zeros(frames), np.zeros(frames), np.zeros((frames, 12))
    for n in notes:
        k = int(np.floor((n.start - origin) * FRAMES + 0.5))
        if 0 <= k < frames:
            onset[k] = 1.0
            length[k] = max(length[k], min(n.duration, MAX_DURATION))
            chroma[k, n.pitch % 12] += min(n.duration, MAX_DURATION)
    threes = sum(_alike(x, 3 * FRAMES) + _alike(x, 6 * FRAMES)
                 - _alike(x, 4 * FRAMES) - _alike(x, 8 * FRAMES)
                 for x in (onset, length, chroma))
    return 3 if threes > THREE else BAR_BEATS


def fit(piece: Piece) -> Grid | None:
    """The grid ``piece``'s pitched notes are played on where its file's (beats at whole
    beats, bars of its meter) does not fit them, or where the file gives no meter and its
    music comes round in bars of 3 (its beats kept); None where the file's fits, where
    there is too little to tell, or where the file counts its meter in eighths (6/8 and the
    like: a quarter note's beat would fall on and off its beats by turns). Bars shorter than
    1.5 beats (1/4, 1/8: a placeholder) are always found again: with too little to tell
    more, bars of 4 on the file's beats from the first note's."""
    if not piece.notes:
        return None
    short = usual_bar(piece) < SHORTEST_BAR
    if not short and any(denominator > 4 for _, _, denominator in piece.signatures):
        return None
    pitched = [n for n in piece.notes if not n.drum]
    onsets = np.array(sorted({round(n.start, 4) for n in pitched}))
    origin = piece.meter.changes[0][0] / TICKS_PER_BEAT % 1.0      # where the file's beats are
    if len(onsets) < MIN_ONSETS:
        if not short:
            return None
        first = min(n.start for n in piece.notes)
        return Grid(origin, origin + float(np.floor(first - origin + 0.5)), BAR_BEATS, SHORT_WHY)
    phase = beat_phase(onsets)
    other = (phase + 0.5) % 1.0
    if weight(pitched, other) > weight(pitched, phase):
        phase = other
    phase = centred(onsets, phase)
    offset = (phase - origin) % 1.0
    found, own = on_beat_share(onsets, phase), on_beat_share(onsets, origin)
    heavier = weight(pitched, phase) / max(weight(pitched, origin), 1e-9)
    moved = min(offset, 1.0 - offset) >= ON_BEAT and found >= MIN_ON_BEAT
    bars = None                                  # found below, unless a branch found them
    if moved and found >= BETTER * own:
        why = (f"{found:.0%} of its onsets fall {offset:.2f} beats after its beats, "
               f"{own:.0%} on them")
    elif moved and heavier >= HEAVIER:
        what = "long and low notes" if chordal(pitched) else "long notes"
        why = (f"its {what} fall {offset:.2f} beats after its beats, "
               f"{heavier:.1f} times as heavy as on them")
    elif short:
        phase, why = origin, SHORT_WHY
    elif not piece.signatures and piece.meter.changes == Meter().changes:
        phase, bars = origin, beats_in_bar(pitched, origin)   # MIDI's 4/4 by default,
        if bars != 3:                                         # not its writer's
            return None
        why = "it gives no meter, and its music comes round every 3 beats"
    else:
        return None
    bars = bars or beats_in_bar(pitched, phase)
    return Grid(phase, downbeat(pitched, phase, bars), bars, why)


def in_free_time(piece: Piece) -> tuple[Piece, Grid] | None:
    """``piece`` moved onto the beats it is played on, where it is played in free time
    (:func:`bridge.music.tempo.free_time`), with bars of 3 or 4 found on them; None otherwise."""
    if not free_time(piece.notes) or (time := track(piece)) is None:
        return None
    notes = time.notes(piece.notes)
    bpm = piece.tempo / time.period()
    pitched = [n for n in notes if not n.drum]
    bars = beats_in_bar(pitched, 0.0)
    grid = Grid(0.0, downbeat(pitched, 0.0, bars), bars,
                f"its onsets keep to no grid of its beats: played in free time, heard on "
                f"the {len(time.beats)} beats found in them (about {bpm:.0f} bpm at its end)",
                time)
    return Piece(notes, grid.meter, tempo=bpm, name=piece.name, programs=piece.programs), grid


def refit(piece: Piece) -> tuple[Piece, Grid | None]:
    """``piece`` on the grid its notes are played on (:func:`in_free_time`, else
    :func:`fit`), and that grid; the piece as it is and None where its own grid fits. On a
    grid of the file's beats, the file's time signatures stay with it (a writer of the file
    keeps them), its notes and tempos as they are."""
    if (free := in_free_time(piece)) is not None:
        return free
    grid = fit(piece)
    if grid is None:
        return piece, None
    return Piece(piece.notes, grid.meter, tempo=piece.tempo, name=piece.name,
                 tempo_changes=piece.tempo_changes, signatures=piece.signatures,
                 programs=piece.programs), grid
