"""bridge.data.clean: every check leaves out or fixes with a counted reason."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.data.clean import (
    ABSURD_TEMPO,
    DUPLICATE,
    EMPTY,
    LONG_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    NONPOSITIVE_DURATION,
    OUTSIDE_PIANO,
    PITCH_OUT_OF_RANGE,
    SHORT_DURATION,
    TOO_SHORT,
    CleanConfig,
    Deduper,
    Report,
    Skip,
    clean,
)
from bridge.data.sources import Example
from bridge.music.piece import Note, Piece


def example(notes: list[Note], tempo: float = 120.0) -> Example:
    return Example(Piece(notes, tempo=tempo), "folk/jig", "nottingham", "g", "train", "x.mid")


def line(n: int, pitch: int = 60, duration: float = 0.5, drum: bool = False) -> list[Note]:
    return [Note(i * 0.5, duration, pitch, 90, drum) for i in range(n)]


def test_good_example_passes_unchanged():
    e = example(line(10))
    kept, skip, counts = clean(e)
    assert skip is None and kept.piece is e.piece and not counts


@pytest.mark.parametrize(("notes", "tempo", "reason"), [
    ([], 120.0, EMPTY),
    (line(7), 120.0, TOO_SHORT),
    (line(10), 19.0, ABSURD_TEMPO),
    (line(10), 401.0, ABSURD_TEMPO),
    (line(6) + line(4, duration=0.0), 120.0, TOO_SHORT),   # too short once fixed
])
def test_left_out_with_a_reason(notes, tempo, reason):
    kept, skip, _ = clean(example(notes, tempo))
    assert kept is None and skip.reason == reason and skip.path == "x.mid"
    assert skip.split == "train" and skip.dataset == "nottingham"


def test_note_fixes_are_counted():
    notes = [*line(10), Note(1.0, 0.0, 62, 90), Note(1.0, -1.0, 63, 90),
             Note(2.0, float("nan"), 64, 90), Note(3.0, 40.0, 65, 90), Note(3.5, 0.01, 66, 90),
             Note(4.0, 1.0, 130, 90), Note(5.0, 1.0, -1, 90),
             Note(6.0, 1.0, 12, 90), Note(6.0, 1.0, 9, 90, drum=True)]
    kept, skip, counts = clean(example(notes))
    assert skip is None
    assert counts == {NONPOSITIVE_DURATION: 3, PITCH_OUT_OF_RANGE: 2, LONG_DURATION: 1,
                      SHORT_DURATION: 1, OUTSIDE_PIANO: 1}
    assert len(kept.piece.notes) == 14                     # low note and drum kept
    assert max(n.duration for n in kept.piece.notes) == MAX_DURATION == 16.0
    assert min(n.duration for n in kept.piece.notes) == MIN_DURATION == 1 / 24


def test_thresholds_are_configurable():
    _, skip, _ = clean(example(line(4)), CleanConfig(min_notes=4))
    assert skip is None
    _, skip, _ = clean(example(line(10), tempo=500), CleanConfig(max_bpm=600))
    assert skip is None


def test_deduper_keeps_the_first():
    d = Deduper()
    a = np.array([3, 200, 310, 330], dtype=np.uint16)
    assert d.check(a, "a.mid", "d", "full", "train") is None
    assert d.check(a[:3], "b.mid", "d", "full", "train") is None
    dup = d.check(a.copy(), "c.mid", "d", "melody", "val")
    assert dup.reason == DUPLICATE and dup.path == "c.mid" and dup.variant == "melody"
    assert "a.mid" in dup.detail and "(train)" in dup.detail


def test_report_counts():
    r = Report()
    r.add(Report([Skip("a", "wjd", EMPTY)], notes={("wjd", OUTSIDE_PIANO): 2}))
    r.add(Report([Skip("b", "wjd", EMPTY), Skip("c", "pop909", TOO_SHORT, "3 notes")]))
    d = r.to_dict()
    assert d["files"] == {EMPTY: 2, TOO_SHORT: 1}
    assert d["by_dataset"] == {"pop909": {TOO_SHORT: 1}, "wjd": {EMPTY: 2}}
    assert d["notes"] == {OUTSIDE_PIANO: 2} and len(d["list"]) == 3
    assert d["notes_by_dataset"] == {"wjd": {OUTSIDE_PIANO: 2}}
