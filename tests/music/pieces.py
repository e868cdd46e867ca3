"""Pieces the tests of several modules play: a song whose notes sit off its file's beats, a
waltz, a song played without a click, and a riff going round."""

from __future__ import annotations

import math
import random

from bridge.music.piece import Note, Piece
from bridge.vocab import TICKS_PER_BEAT, Meter

CHANGES = ((48, 60, 64, 67), (53, 65, 69, 72), (55, 67, 71, 74), (45, 64, 69, 72))
MELODY = (0, 0.5, 1, 1.5, 2.5, 3, 3.5)      # a bar's melody onsets (beats): one syncopation


def song(shift: float = 0.0, bars: int = 16, meter: Meter | None = None,
         signatures: tuple = ()) -> Piece:
    """Bars of 4: a bass note and a chord on beats 1 and 3 (a change of harmony every bar),
    a melody in eighths; all ``shift`` beats late."""
    notes = []
    for b in range(bars):
        bass, *chord = CHANGES[b % len(CHANGES)]
        at = 4 * b + shift
        notes += [Note(at, 1.5, bass, 90), Note(at + 2, 1.5, bass + 7, 80)]
        notes += [Note(at + x, 1.5, p, 70) for x in (0, 2) for p in chord]
        notes += [Note(at + x, 0.45, 76 + (b + i) % 5, 85) for i, x in enumerate(MELODY)]
    return Piece(notes, meter or Meter(), signatures=signatures)


def waltz(bars: int = 24, meter: Meter | None = None, melody_only: bool = False) -> Piece:
    """Bars of 3: a bass note on beat 1 and a chord on beats 2 and 3 (a change of harmony
    every bar), a melody whose rhythm comes round every bar or two."""
    notes = []
    rhythms = (((0, 2), (2, 1)), ((0, 1), (1, 0.5), (1.5, 0.5), (2, 1)))
    for b in range(bars):
        bass, *chord = CHANGES[b % len(CHANGES)]
        at = 3 * b
        if not melody_only:
            notes += [Note(at, 2.5, bass - 12, 90)]
            notes += [Note(at + x, 0.8, p, 60) for x in (1, 2) for p in chord]
        notes += [Note(at + x, d * 0.9, chord[(b + i) % 3] + 12, 85)
                  for i, (x, d) in enumerate(rhythms[b % 2])]
    return Piece(notes, meter or Meter([(0, 3 * TICKS_PER_BEAT)]))


def performed(piece: Piece, jitter: float = 0.02, seed: int = 0) -> tuple[Piece, list[float]]:
    """``piece`` as a pianist plays it without a click, recorded at the file's 120 bpm: its
    beat slows and speeds up (1.05 to 1.35 file beats a beat, a phrase's rubato over 16
    beats) and each onset is ``jitter`` file beats off, at random; and the file beats its
    own beats 0, 1, 2 ... fell on."""
    rng = random.Random(seed)
    last = int(max(n.end for n in piece.notes)) + 2
    beats = [0.0]
    for b in range(last):
        beats.append(beats[-1] + 1.2 + 0.15 * math.sin(2 * math.pi * b / 16))

    def at(x: float) -> float:
        i = min(int(x), last - 1)
        return beats[i] + (x - i) * (beats[i + 1] - beats[i])

    notes = [Note(max(at(n.start) + rng.gauss(0, jitter), 0.0), at(n.end) - at(n.start),
                  n.pitch, n.velocity, n.drum, n.part) for n in piece.notes]
    return Piece(notes), beats


def riff(turn: int, bars: int = 8, shift: int = 0) -> list[Note]:
    """A figure ``turn`` bars long played round and round for ``bars`` bars from bar
    ``shift``: bar b plays 60 + (b mod turn) on its beats."""
    return [Note(4 * (shift + b) + i, 0.5, 60 + b % turn, 80, part=0)
            for b in range(bars) for i in range(4)]
