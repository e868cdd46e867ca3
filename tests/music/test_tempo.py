"""The beats of music played in free time (bridge.music.tempo, bridge.music.pulse)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bridge.music.piece import Note, Piece
from bridge.music.pulse import in_free_time, refit
from bridge.music.tempo import TimeMap, free_time, track
from tests.music.pieces import performed, song, waltz


def test_a_performance_without_a_click_is_told_from_a_file_on_its_grid():
    assert free_time(performed(song())[0].notes)
    assert not free_time(song().notes)                     # as written
    assert not free_time(song(0.527).notes)                # off the file's beats, but on a grid


def test_a_player_to_the_click_however_loose_keeps_the_files_beats():
    rng = random.Random(0)
    loose = Piece([Note(max(n.start + rng.gauss(0, 0.08), 0.0), n.duration, n.pitch,
                        n.velocity) for n in song().notes])   # 40 ms either way at 120 bpm
    assert in_free_time(loose) is None
    assert refit(loose)[1] is None or refit(loose)[1].time is None


def test_the_beats_found_are_the_ones_played():
    piece, beats = performed(song())
    time = track(piece)
    assert time is not None
    truth = np.array(beats[:64])
    found = time.beats[(time.beats > truth[1]) & (time.beats < truth[-2])]
    # each beat found on a beat played (within 0.1 of a beat), and every beat played found:
    # the beat's own level, not its halves, where the bass and the chords fall on it
    assert all(np.min(np.abs(truth - b)) < 0.12 for b in found)
    assert len(found) == pytest.approx(len(truth) - 3, abs=2)


def test_a_piece_in_free_time_is_heard_on_its_beats_and_written_back_in_the_files_time():
    piece, _ = performed(song())
    moved, grid = in_free_time(piece)
    assert grid.time is not None and "free time" in grid.why
    bass = [n for n in moved.notes if n.pitch <= 55]          # on beats 1 and 3 of each bar
    assert np.mean([abs(n.start - round(n.start)) < 0.1 for n in bass]) > 0.9
    assert grid.downbeat % 2 == pytest.approx(0, abs=0.1) or \
        grid.downbeat % 2 == pytest.approx(2, abs=0.1)
    assert moved.tempo == pytest.approx(120 / 1.2, rel=0.15)  # the beat it plays at
    back = grid.to_file(moved)
    assert back.tempo == piece.tempo
    assert [n.start for n in back.notes] == pytest.approx([n.start for n in piece.notes],
                                                          abs=1e-6)


def test_a_waltz_in_free_time_is_heard_in_bars_of_3_on_its_downbeats():
    piece, played = performed(waltz(), jitter=0.01)
    _, grid = in_free_time(piece)
    assert grid.bar_beats == 3
    downbeats = [grid.file_beat(grid.downbeat + 3 * k) for k in range(8)]
    assert all(min(abs(x - played[3 * b]) for b in range(24)) < 0.1 for x in downbeats)


def test_a_line_alone_is_followed_on_its_beats_not_its_low_offbeats():
    notes = []
    for b in range(16):                       # a melody whose lowest notes fall off the beat
        top = 72 + b % 3
        notes += [Note(4 * b + x, d, p, 80) for x, d, p in
                  ((0, 0.9, top), (1, 0.4, top - 3), (1.5, 0.4, 55 + b % 2),
                   (2, 0.9, top - 1), (3, 0.4, top - 5), (3.5, 0.4, 57))]
    piece, played = performed(Piece(notes), jitter=0.01)
    _, grid = in_free_time(piece)
    assert all(min(abs(x - p) for p in played) < 0.15 for x in grid.time.beats[2:40])


def test_a_time_map_goes_both_ways_and_past_its_ends():
    time = TimeMap(np.array([1.0, 2.2, 3.4, 4.8, 6.0, 7.0]))
    x = np.array([-3.0, 0.0, 1.0, 2.5, 6.5, 12.0])
    assert time.to_file(time.to_music(x)) == pytest.approx(x)
    assert time.to_music(1.0) == 0 and time.to_music(7.0) == 5
    assert time.to_music(8.2) == pytest.approx(6.0)          # its last beats' 1.2 onward
    assert time.period() == pytest.approx(1.2)
