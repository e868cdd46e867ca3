"""bridge.music.parts: every note gets its part, from names, order or what it plays."""

from bridge.music.parts import label, label_streams, name_part, split_bass
from bridge.music.piece import Note
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, NO_PART


def _line(pitches, step=1.0, start=0.0):
    return [Note(start + i * step, step, p, 80) for i, p in enumerate(pitches)]


def _chords(roots, step=2.0):
    return [Note(i * step, step, r + k, 70) for i, r in enumerate(roots) for k in (0, 4, 7)]


def test_names_say_the_part():
    assert name_part("MELODY") == MELODY and name_part("PIANO") == HARMONY
    assert name_part("Bassus") == BASS and name_part("Violoncello") == BASS
    assert name_part("Bassoon") == NO_PART and name_part("Track 3") == NO_PART
    assert name_part("harmony") == HARMONY and name_part("Drum Kit") == DRUMS


def test_unnamed_streams_by_what_they_play():
    melody = _line([72, 74, 76, 77, 79, 77, 76, 74])
    chords = _chords([60, 65, 67, 60])
    bass = _line([36, 41, 43, 36], step=2.0)
    drums = [Note(i, 0.5, 36, 100, drum=True) for i in range(8)]
    notes = label_streams([("", NO_PART, chords), ("", NO_PART, bass), ("", NO_PART, melody),
                           ("", NO_PART, drums)])
    parts = {(n.pitch, n.start, n.drum): n.part for n in notes}
    assert all(parts[(n.pitch, n.start, False)] == MELODY for n in melody)
    assert all(parts[(n.pitch, n.start, False)] == BASS for n in bass)
    assert all(parts[(n.pitch, n.start, False)] == HARMONY for n in chords)
    assert all(parts[(n.pitch, n.start, True)] == DRUMS for n in drums)


def test_a_known_or_named_part_wins():
    notes = label_streams([("lead", NO_PART, _chords([48, 53])),
                           ("", HARMONY, _line([72, 74, 76]))])
    assert {n.part for n in notes if n.pitch >= 72 and n.start in (0.0, 1.0, 2.0)
            and n.duration == 1.0} == {HARMONY}
    assert {n.part for n in notes if n.duration == 2.0} == {MELODY}


def test_bass_is_split_from_harmony_only_where_clear():
    left_hand = [Note(0, 2, 36, 70), Note(0, 2, 55, 70), Note(0, 2, 60, 70),    # clear
                 Note(2, 2, 52, 70), Note(2, 2, 55, 70),                        # too close
                 Note(4, 2, 62, 70), Note(4, 2, 67, 70)]                        # too high
    parts = {(n.start, n.pitch): n.part for n in split_bass(left_hand)}
    assert parts[(0, 36)] == BASS and parts[(0, 55)] == NO_PART
    assert parts[(2, 52)] == NO_PART and parts[(4, 62)] == NO_PART


def test_label_keeps_given_parts_and_fills_the_rest():
    given = Note(0, 1, 40, 80, part=MELODY)
    notes = label([given, *_line([72, 74, 76], start=1.0)])
    assert given in notes and {n.part for n in notes} == {MELODY}
    assert label([given]) == [given]


def test_a_track_named_after_its_part_keeps_it_whole():
    low_chords = [Note(0, 2, 36, 70), Note(0, 2, 55, 70), Note(0, 2, 60, 70)]
    assert {n.part for n in label_streams([("harmony", NO_PART, low_chords)])} == {HARMONY}
    assert BASS in {n.part for n in label_streams([("Piano", NO_PART, low_chords)])}
