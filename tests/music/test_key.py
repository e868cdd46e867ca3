"""The key of some notes and how much of a span keeps to it (bridge.music.key)."""

import pytest

from bridge.music import key as mk
from bridge.music.piece import Note


def n(start, pitch=60, duration=1.0, drum=False):
    return Note(start, duration, pitch, 80, drum)


@pytest.mark.parametrize(("pitches", "key"), [
    ((60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60), "C major"),
    ((57, 59, 60, 62, 64, 65, 67, 69, 64, 60, 57), "A minor"),
    ((62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62), "D major"),
])
def test_krumhansl_schmuckler_key(pitches, key):
    notes = [n(i, p, 2.0 if p % 12 == pitches[0] % 12 else 1.0) for i, p in enumerate(pitches)]
    assert str(mk.find_key(notes)) == key


def test_in_key_share():
    key = mk.Key(0, minor=False)
    assert mk.in_key_share([n(0, 60), n(1, 61), n(2, 64), n(3, 66)], key) == 0.5
    assert mk.in_key_share([n(0, 36, drum=True)], key) is None
    assert mk.find_key([n(0, 36, drum=True)]) is None
