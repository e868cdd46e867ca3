"""bridge.data.align: a version is one constant shift (and transposition) of the original."""

from __future__ import annotations

import random

import pytest

from bridge.data.align import MIN_MARGIN, WINDOW, align
from bridge.music.piece import Note


def song(bars: int = 24, seed: int = 1) -> list[Note]:
    """A melody over an accompaniment: varied pitches and rhythms, 4/4."""
    rng = random.Random(seed)
    notes = []
    for bar in range(bars):
        root = rng.choice([48, 53, 55, 57])
        notes += [Note(4.0 * bar, 2.0, root, 80), Note(4.0 * bar + 2, 2.0, root + 7, 80)]
        t = 4.0 * bar
        while t < 4.0 * bar + 4:
            notes.append(Note(t, 0.5, rng.randrange(60, 80), 90))
            t += rng.choice([0.5, 0.5, 1.0, 0.25, 0.75])
    return notes


def moved(notes: list[Note], shift: float, transpose: int = 0) -> list[Note]:
    return [Note(n.start + shift, n.duration, n.pitch + transpose, n.velocity) for n in notes]


@pytest.mark.parametrize(("shift", "transpose"), [(0.0, 0), (1.473, 0), (-0.131, 0),
                                                 (8.0, -12), (2.5, 3)])
def test_finds_the_shift_and_transposition(shift, transpose):
    a = align(song(), moved(song(), shift, transpose))
    assert a.ok and a.shift == pytest.approx(shift, abs=1e-6)
    assert a.transpose == transpose % 12 and a.share == 1.0 and a.margin > MIN_MARGIN


def test_other_music_does_not_align():
    a = align(song(seed=1), song(seed=2))
    assert not a.ok and a.share < 0.5


def test_a_new_ending_is_fine_a_moved_section_is_not():
    original = song()
    half = len(original) // 2
    cut = original[half].start
    # the same song with a new ending: still aligned
    ending = [n for n in original if n.start < cut] + moved(
        [n for n in song(seed=7) if n.start < WINDOW], cut)
    assert align(original, ending).ok
    # the second half one beat late (a beat inserted): not aligned, whatever the share
    late = [n for n in original if n.start < cut] + moved(
        [n for n in original if n.start >= cut], 1.0)
    a = align(original, late)
    assert not a.ok and a.moved is not None


def test_empty():
    assert not align([], song()).ok and not align(song(), []).ok
