"""Finding the beats and bars a file's notes are played on (bridge.music.pulse)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bridge.music.piece import Note, Piece
from bridge.music.pulse import beats_in_bar, fit, refit
from bridge.offline.continuation import prompt_of
from bridge.vocab import TICKS_PER_BEAT, Meter
from tests.music.pieces import CHANGES, song, waltz


def on(beat: float, grid_beat: float) -> bool:
    return abs((beat - grid_beat + 0.5) % 1.0 - 0.5) < 1 / 48


def test_a_file_whose_grid_fits_its_notes_keeps_it():
    assert fit(song()) is None
    assert fit(song(meter=Meter([(0, 3 * TICKS_PER_BEAT)]))) is None   # its meter, if odd
    piece = song()
    assert refit(piece) == (piece, None)


@pytest.mark.parametrize("shift", [0.527, 0.25, 0.8])
def test_beats_that_fall_elsewhere_than_the_files_are_found_and_bars_placed_on_them(shift):
    piece = song(shift, meter=Meter([(0, 2 * TICKS_PER_BEAT)]))       # 2/4, as POP909's
    grid = fit(piece)
    assert grid is not None and grid.bar_beats == 4
    assert on(grid.phase, shift)
    assert on((grid.downbeat - shift) / 4, 0.0)                        # on a chord change
    fitted, found = refit(piece)
    assert found == grid and fitted.notes == piece.notes
    prompt, start = prompt_of(fitted, 8)
    assert start / TICKS_PER_BEAT == pytest.approx(32 + shift, abs=1 / 48)   # 8 of its bars
    assert len(prompt.notes) == len(piece.notes) // 2
    # its bar lines lie on ticks; what is drawn on them is written on the music's own
    assert found.file_beat(start / TICKS_PER_BEAT) == pytest.approx(32 + shift, abs=1e-6)
    drawn = Piece([Note(start / TICKS_PER_BEAT + x, 0.5, 60, 80) for x in (0, 1, 2.5)])
    assert [n.start - 32 - shift for n in found.written(drawn).notes] == \
        pytest.approx([0, 1, 2.5], abs=1e-6)


def test_a_placeholder_meter_of_one_beat_gets_bars_found_in_the_notes():
    piece = song(meter=Meter([(0, TICKS_PER_BEAT)]))                  # 1/4
    grid = fit(piece)
    assert grid is not None and grid.phase == 0.0 and grid.downbeat % 4 == 0
    assert "shorter than 1.5 beats" in grid.why
    # a pickup bar of one beat before bars of 4 is a meter, not a placeholder
    assert fit(song(meter=Meter([(-TICKS_PER_BEAT, TICKS_PER_BEAT), (0, 4 * TICKS_PER_BEAT)]))) \
        is None


@pytest.mark.parametrize("bar_ticks", [TICKS_PER_BEAT, TICKS_PER_BEAT // 2, 9])  # 1/4, 1/8, 3/128
def test_a_placeholder_meter_gets_bars_of_4_where_there_is_too_little_to_tell_more(bar_ticks):
    line = [Note(i, 0.9, 60 + i % 5, 80) for i in range(3, 19)]         # 16 notes from beat 3
    denominator = 4 * TICKS_PER_BEAT // bar_ticks
    for piece in (Piece(line, Meter([(0, bar_ticks)]), signatures=((0, 1, denominator),)),
                  Piece([replace(n, drum=True, pitch=36) for n in line], Meter([(0, bar_ticks)]))):
        grid = fit(piece)
        assert grid is not None and grid.bar_beats == 4 and "shorter than 1.5" in grid.why
        assert (grid.phase, grid.downbeat) == (0.0, 3.0)         # bars from its first note
        assert grid.meter.bar_length(3 * TICKS_PER_BEAT) == 4 * TICKS_PER_BEAT


def test_the_bass_keeps_the_beat_under_chords_on_the_offbeats():
    notes = []
    for b in range(16):
        bass, *chord = CHANGES[b % len(CHANGES)]
        notes += [Note(4 * b, 1.8, bass, 90), Note(4 * b + 2, 1.8, bass, 90)]
        notes += [Note(4 * b + x, 0.3, p, 70) for x in (0.5, 1.5, 2.5, 3.5) for p in chord]
    assert fit(Piece(notes)) is None


def test_what_cannot_be_told_keeps_the_files_grid():
    assert fit(song(0.527, bars=1)) is None                                 # too few notes
    assert fit(song(0.527, signatures=((0, 6, 8),))) is None                # counted in 8ths
    drums = Piece([Note(x * 0.5 + 0.3, 0.1, 42, 80, drum=True) for x in range(128)])
    assert fit(drums) is None                                               # drums: their own
    assert fit(Piece([], Meter([(0, TICKS_PER_BEAT)]))) is None             # nothing at all


def test_a_waltz_on_a_placeholder_meter_is_heard_in_bars_of_3():
    for piece in (waltz(meter=Meter([(0, TICKS_PER_BEAT)])),
                  waltz(meter=Meter([(0, TICKS_PER_BEAT)]), melody_only=True)):
        grid = fit(piece)
        assert grid is not None and grid.bar_beats == 3 and grid.downbeat % 3 == 0
        fitted, _ = refit(piece)
        _, start = prompt_of(fitted, 8)
        assert start / TICKS_PER_BEAT == 24                              # 8 bars of 3
    assert fit(waltz()) is None                                          # its own 3/4 fits


def test_music_that_comes_round_every_4_beats_or_not_at_all_keeps_bars_of_4():
    assert fit(song(meter=Meter([(0, TICKS_PER_BEAT)]))).bar_beats == 4
    rng = random.Random(0)
    line = [Note(x / 2, 0.4, rng.choice((60, 62, 64, 65, 67, 69)), 80)
            for x in range(256) if rng.random() < 0.8]                   # no bar comes round
    assert beats_in_bar(line, 0.0) == 4


def test_a_line_alone_is_placed_by_its_long_notes_not_its_low_ones():
    notes = []
    for b in range(16):                       # a long note on one, low pickups on four
        top = 72 + b % 3
        notes += [Note(4 * b, 1.9, top, 80), Note(4 * b + 2, 0.9, top - 3, 80),
                  Note(4 * b + 3, 0.45, 60 + b % 2, 80), Note(4 * b + 3.5, 0.45, 62, 80)]
    grid = fit(Piece(notes, Meter([(0, TICKS_PER_BEAT)])))
    assert grid.bar_beats == 4 and grid.downbeat % 4 == 0


def test_a_file_that_gives_no_meter_is_heard_in_3_only_where_its_music_is():
    notes = waltz().notes
    grid = fit(Piece(notes))                                             # MIDI's 4/4 default
    assert grid.bar_beats == 3 and grid.downbeat % 3 == 0 and "no meter" in grid.why
    assert fit(Piece(notes, signatures=((0, 4, 4),))) is None           # its writer's 4/4
    assert fit(song()) is None                                           # no meter, in 4


def test_a_line_alone_off_its_files_beats_is_heard_on_its_long_notes():
    # a dotted quarter and an eighth, as many onsets on the beat as half a beat after it:
    # the long notes say where the beat is; the file's beats are half a beat from it
    notes = [Note(2 * k + x + 0.5, d, 67 + (k + i) % 5, 80)
             for k in range(32) for i, (x, d) in enumerate(((0, 1.45), (1.5, 0.45)))]
    grid = fit(Piece(notes, signatures=((0, 4, 4),)))
    assert grid is not None and on(grid.phase, 0.5) and "long" in grid.why
