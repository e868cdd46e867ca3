"""A player's touch: how the notes of their chords spread in time, heard in a prompt and
given to its continuation.

A pianist never strikes the notes of a chord at one instant: the melody leads by a few
hundredths of a second, a chord is rolled, a hand comes in late. A performance (recorded
without a click, or to one, loosely) keeps that in every chord; the model writes on ticks of
1/24 beat, a chord's notes together, and a continuation written into a performance's file
sounded like a sequencer taking over from the player. Heard in the bins of 1/12 beat the
continuation benchmark counts in, it was so too: of ten piano pieces played without a
click, 52 % of the intervals between the truth's onsets are a chord's spread, under 1/12
beat, against none of the continuation's.

:func:`heard` finds a prompt's chords (pitched notes starting within :data:`CHORD_S`
seconds, and at most :data:`CHORD_BEATS`, of a chord's first) and, where the player spreads
most of them (:data:`SPREAD_SHARE`; a score, or music sequenced on a grid, spreads none),
keeps how each spreads: every note's delay after the chord's first, lowest pitch first.
:func:`play` gives each chord of a continuation (pitched notes the model starts together)
the delays of one of the player's chords (drawn, seeded) of its size or the nearest, by
pitch rank. Its first note keeps its place, so the continuation still starts where it did;
drums stay as the model plays them; a note delayed into the next of its pitch is cut there,
so no pitch is struck again while it sounds. Live, :class:`Hands` hears the performer's
latest chords as they are played and spreads Continuo's as its notes go out, one at a time.

How a player's onsets lean off the grid's lines was tried beside it and left out: measured
against sixteenths and triplets at once, a tick off a line could be either's, and the
leans drawn spread the intervals between onsets where the truth's kept them (POP909's
songs read as files: the intervals' overlap with the truth 0.75 -> 0.65-0.71).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bridge.music.piece import Note

CHORD_S = 0.06          # seconds: notes this close after a chord's first note are in it
CHORD_BEATS = 0.125     # ... and at most this many beats (a run of fast notes is no chord)
SPREAD_S = 0.003        # seconds: a chord whose notes spread less is struck at one instant
SPREAD_SHARE = 0.5      # share of chords spread at which the prompt is played, not written
MIN_CHORDS = 8          # fewer chords: too few to hear a touch in
HEARD_NOTES = 128       # a live performer's latest notes their touch is heard from


@dataclass(frozen=True)
class Touch:
    """How a player's chords spread: each chord's delays (beats) after its first note,
    lowest pitch first."""

    chords: tuple[tuple[float, ...], ...]

    def delays(self, size: int, rng: random.Random) -> list[float]:
        """A chord of ``size`` notes' delays, lowest pitch first: one of the player's
        chords of that size, or of the nearest, its ranks spread over ``size``."""
        best = min(abs(len(c) - size) for c in self.chords)
        chord = rng.choice([c for c in self.chords if abs(len(c) - size) == best])
        last = len(chord) - 1
        return [chord[round(i * last / (size - 1))] for i in range(size)]


def chords(notes: Sequence[Note], seconds_per_beat: float) -> list[list[Note]]:
    """The notes in chords: each the notes starting within :data:`CHORD_S` (at most
    :data:`CHORD_BEATS`) of its first, in order of start."""
    window = min(CHORD_S / seconds_per_beat, CHORD_BEATS)
    out: list[list[Note]] = []
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        if out and n.start - out[-1][0].start < window:
            out[-1].append(n)
        else:
            out.append([n])
    return [c for c in out if len(c) > 1]


def heard(notes: Sequence[Note], tempo: float) -> Touch | None:
    """The touch of a prompt's pitched notes played at ``tempo`` (bpm); None where it
    strikes its chords at one instant (a score), or has too few to tell."""
    spb = 60.0 / tempo
    found = chords([n for n in notes if not n.drum], spb)
    if len(found) < MIN_CHORDS:
        return None
    spread = [c for c in found if (c[-1].start - c[0].start) * spb >= SPREAD_S]
    if len(spread) < SPREAD_SHARE * len(found):
        return None
    return Touch(tuple(tuple(n.start - c[0].start for n in sorted(c, key=lambda n: n.pitch))
                       for c in found))


def play(notes: Sequence[Note], touch: Touch | None, seed: int | None) -> list[Note]:
    """``notes`` with each chord (pitched notes starting together) spread as ``touch``'s
    are: its note of least delay where it was, the others later by the delays drawn for
    it; a note that then sounds into the next of its pitch ends there. As they are without
    a touch."""
    if touch is None:
        return list(notes)
    rng = random.Random(seed)
    moved, together = [], {}
    for n in notes:
        together.setdefault((n.start, n.drum), []).append(n)
    for (_, drum), group in sorted(together.items()):
        if drum or len(group) == 1:
            moved += group
            continue
        group = sorted(group, key=lambda n: n.pitch)
        delays = touch.delays(len(group), rng)
        low = min(delays)
        moved += [replace(n, start=n.start + d - low) for n, d in zip(group, delays, strict=True)]
    return _unstruck(moved)


def _unstruck(notes: list[Note]) -> list[Note]:
    """Each note cut where the next of its pitch starts, if it would sound into it (and
    dropped where both start together)."""
    notes = sorted(notes, key=lambda n: (n.drum, n.pitch, n.start))
    out = []
    for n, after in zip(notes, [*notes[1:], None], strict=True):
        if after is not None and (after.drum, after.pitch) == (n.drum, n.pitch) \
                and after.start < n.end:
            if after.start <= n.start:
                continue
            n = replace(n, duration=after.start - n.start)
        out.append(n)
    return sorted(out, key=lambda n: (n.start, n.drum, n.pitch))


class Hands:
    """A live session's touch: its performer's latest pitched onsets, as they are played,
    and the delays of each instant Continuo plays, drawn as its notes go out one by one.
    They go in the model's order, the melody first, so the k-th note of an instant takes
    the k-th smallest delay of one of the performer's chords (drawn): the melody leads, as
    a pianist's mostly does. The touch is heard again at the first chord after the
    performer played."""

    def __init__(self) -> None:
        self.notes: deque[Note] = deque(maxlen=HEARD_NOTES)
        self.touch: Touch | None = None
        self.stale = False                 # played since the touch was heard
        self.instant: int | None = None    # the stream tick of the last note out
        self.struck = 0                    # notes out at that instant, less one
        self.delays: list[float] = []

    def played(self, beat: float, pitch: int) -> None:
        """The performer struck ``pitch`` at song beat ``beat``."""
        self.notes.append(Note(beat, 1.0, pitch, 64))
        self.stale = True

    def delay(self, instant: int, tempo: float, seed: int | None) -> float:
        """Beats after its instant's first that the next note out at stream tick
        ``instant`` comes, at ``tempo`` (bpm); a chord's delays are drawn with ``seed``."""
        if instant != self.instant:
            self.instant, self.struck, self.delays = instant, 0, []
            return 0.0
        self.struck += 1
        if self.struck == 1:
            if self.stale:
                self.touch, self.stale = heard(list(self.notes), tempo), False
            self.delays = sorted(random.Random(seed).choice(self.touch.chords)) \
                if self.touch is not None else []
        return self.delays[min(self.struck, len(self.delays) - 1)] if self.delays else 0.0
