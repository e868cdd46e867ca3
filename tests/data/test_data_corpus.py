"""bridge.data.corpus: music21's bundled corpus (skipped without music21)."""

from __future__ import annotations

from collections import Counter

import pytest

from bridge.data.corpus import excluded, music21_rows, read_music21, score_to_piece
from bridge.data.manifest import split_of
from bridge.vocab import BASS, HARMONY, MELODY, TICKS_PER_BEAT, genre_of

music21 = pytest.importorskip("music21")
T = TICKS_PER_BEAT


@pytest.fixture(scope="module")
def rows():
    return music21_rows()


def test_rows_styles_groups_splits(rows):
    styles = Counter(r.labels for r in rows)
    assert styles[("classical", "chorale")] >= 300
    assert styles[("classical", "quartet")] >= 30 and styles[("folk",)] >= 100
    assert all(r.split == split_of(r.group) and r.dataset == "music21" for r in rows)
    quartets = {r.path: r.group for r in rows if r.labels == ("classical", "quartet")}
    assert quartets["haydn/opus74no1/movement2.mxl"] == "music21:haydn/opus74no1"
    assert not any(p.endswith(".krn") for p in quartets)            # no duplicate encodings
    assert not any(p.startswith("mozart/k545") for p in quartets)   # a piano sonata
    assert styles[("classical", "madrigal")] >= 40 and styles[("classical", "medieval")] >= 50
    assert {genre_of("/".join(r.labels)) for r in rows} == {"classical", "folk"}


def test_restricted_files_are_left_out_and_listed(rows):
    left_out = excluded()
    assert any(p.startswith("essenFolksong/") for p in left_out)     # non-commercial
    assert any(p.startswith("palestrina/") for p in left_out)        # rights reserved
    assert not {r.path.split("#")[0] for r in rows} & set(left_out)


def test_limit_keeps_a_mix(rows):
    few = music21_rows(21)
    assert len(few) == 21 and {r.labels for r in few} == {r.labels for r in rows}
    assert few == music21_rows(21)


def test_score_to_piece_with_a_pickup():
    stream, note, meter = music21.stream, music21.note, music21.meter
    part = stream.Part()
    pickup = stream.Measure(number=0)
    pickup.append(meter.TimeSignature("3/4"))
    pickup.append(note.Note("G4", quarterLength=1))
    part.append(pickup)
    for _ in range(2):
        m = stream.Measure()
        m.append(note.Note("C5", quarterLength=2))
        m.append(note.Note("E5", quarterLength=1))
        part.append(m)
    piece = score_to_piece(stream.Score([part]), music21)
    assert [(n.start, n.duration, n.pitch) for n in piece.notes] == [
        (0.0, 1.0, 67), (1.0, 2.0, 72), (3.0, 1.0, 76), (4.0, 2.0, 72), (6.0, 1.0, 76)]
    assert piece.meter.bar_start(1 * T) == 1 * T                    # bar 1 after the pickup
    assert piece.meter.bar_length(T) == 3 * T


def test_reads_a_chorale_and_a_tune(rows):
    chorale = next(r for r in rows if r.labels == ("classical", "chorale"))
    (row, piece, variant), (_, melody, melody_variant) = read_music21(chorale)
    assert row == chorale and len(piece.notes) > 50 and variant == "full"
    assert {n.part for n in piece.notes} == {MELODY, HARMONY, BASS}    # S / A, T / B
    assert melody_variant == "melody" and {n.part for n in melody.notes} == {MELODY}
    assert len(melody.notes) == sum(n.part == MELODY for n in piece.notes)
    tunes = [r for r in rows if r.path.startswith("ryansMammoth/")]
    out = [x for r in tunes[:40] for x in read_music21(r)]
    assert out and all(len(p.notes) > 10 and v == "melody" for _, p, v in out)
    assert {r.labels for r, _, _ in out} > {("folk", "reel")}         # tune types from R:
