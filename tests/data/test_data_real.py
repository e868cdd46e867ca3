"""The pipeline on the real shared data (skipped without it: set CONTINUO_SHARED_DATA)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bridge.data import pop909
from bridge.data.build import process_unit
from bridge.data.clean import CleanConfig, clean
from bridge.data.manifest import read_manifest, select
from bridge.data.sources import Example, load_unit, units
from bridge.data.wjd import read_wjd
from bridge.music.midifile import read_midi, write_midi
from bridge.music.piece import Piece
from bridge.music.tokenize import decode, encode, to_tick
from bridge.vocab import (
    DURATION_TICKS,
    TICKS_PER_BEAT,
    duration_bin,
    duration_step,
    genre_of,
    velocity_bin,
)

T = TICKS_PER_BEAT


def evenly(items: list, n: int) -> list:
    return [items[i] for i in np.linspace(0, len(items) - 1, min(n, len(items))).astype(int)]


@pytest.fixture(scope="module")
def real_units(shared_data) -> dict[str, list]:
    out: dict[str, list] = {}
    for u in units(read_manifest(shared_data), shared_data):
        out.setdefault(u.rows[0].dataset, []).append(u)
    return out


@pytest.mark.parametrize(("dataset", "genre", "n"), [
    ("pop909", "pop", 3), ("nottingham", "folk", 6), ("groove", "drums", 6), ("wjd", "jazz", 4)])
def test_each_dataset_builds(real_units, dataset, genre, n):
    for unit in evenly(real_units[dataset], n):
        records, report = process_unit(unit, CleanConfig())
        assert records, report.skipped
        for r in records:
            assert genre_of(r.meta.style) == genre and r.meta.dataset == dataset
            assert r.meta.notes >= 8 and len(r.tokens) == r.meta.length
            assert r.meta.drums == (dataset == "groove")
            assert {r.split} == {row.split for row in unit.rows}
        if dataset == "pop909":
            variants = [r.meta.variant for r in records]
            assert variants[:3] == ["full", "melody", "piano"]


def test_wjd_solos_land_on_sensible_beats(shared_data):
    """Every 8th solo: notes in order, inside their bars, and the beat positions agree with
    the audio-time onsets (gap in beats x local beat length ~ gap in seconds)."""
    paths = sorted((shared_data / "wjd" / "melody").glob("*.csv"))[::8]
    assert len(paths) > 40
    errors = []
    for path in paths:
        piece = read_wjd(path)
        assert len(piece.notes) > 20, path
        starts = np.array([n.start for n in piece.notes])
        assert starts[0] >= 0 and np.all(np.diff(starts) > 0), path     # monophonic, ordered
        assert all(n.duration > 0 for n in piece.notes)
        for n in piece.notes:
            tick = to_tick(n.start)
            bar = piece.meter.bar_start(tick)
            assert 0 <= tick - bar < piece.meter.bar_length(bar)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        onset = np.array([float(r["onset"]) for r in rows])
        beatdur = np.array([float(r["beatdur"]) for r in rows])
        gaps = np.diff(starts)
        near = gaps <= 2
        err = np.abs(np.diff(onset)[near] / beatdur[:-1][near] - gaps[near])   # in beats
        errors.append(err)
        assert np.median(err) < 0.15, path
    err = np.concatenate(errors)
    assert np.mean(err < 0.5) > 0.98


def round_trip_pieces(shared_data: Path) -> list[tuple[str, Piece]]:
    rows = read_manifest(shared_data)
    out = []
    for row in evenly(select(rows, datasets="pop909", music_only=True), 200)[::20]:
        if "versions" not in row.path:
            out.append((row.path, pop909.read_main(shared_data / row.path)["full"]))
    for dataset, n in (("nottingham", 10), ("groove", 6), ("wjd", 6)):
        for row in evenly(select(rows, datasets=dataset, music_only=True), n):
            path = shared_data / row.path
            out.append((row.path, read_wjd(path) if path.suffix == ".csv" else read_midi(path)))
    return out


def test_round_trip_midi_tokens_midi(shared_data, tmp_path):
    """MIDI -> tokens -> notes -> MIDI on ~30 real files: each note's onset within half a
    tick, its duration within half the local duration step (so its release within that plus
    the onset's half tick), pitch, drum flag and velocity bin kept."""
    pieces = round_trip_pieces(shared_data)
    assert len(pieces) >= 28
    for path, piece in pieces:
        kept, skip, _ = clean(Example(piece, "", "", "", "", path))
        assert skip is None, skip
        piece = kept.piece
        tokens = encode(piece)
        origin = piece.meter.bar_start(min(to_tick(n.start) for n in piece.notes))
        notes = decode(tokens, piece.meter, origin)
        expected: dict = {}     # a note struck twice at once is kept once: the first struck
        for n in sorted(piece.notes, key=lambda n: n.part):     # in the first part playing it
            expected.setdefault((to_tick(n.start), n.drum, n.pitch), n)
        assert len(notes) == len(expected), path
        for got in notes:
            want = expected[(to_tick(got.start), got.drum, got.pitch)]
            assert abs(got.start - want.start) <= 1 / (2 * T) + 1e-9, path
            step = duration_step(duration_bin(want.duration * T)) / T
            assert abs(got.duration - want.duration) <= step / 2 + 1e-9, (path, want)
            assert abs(got.end - want.end) <= step / 2 + 1 / (2 * T) + 1e-9, (path, want)
            assert velocity_bin(got.velocity) == velocity_bin(want.velocity)
            assert got.duration * T in DURATION_TICKS
        # and through a MIDI file: onsets, pitches and the bar grid survive exactly
        write_midi(Piece(notes, piece.meter, tempo=piece.tempo), tmp_path / "rt.mid")
        back = read_midi(tmp_path / "rt.mid")
        ticks = sorted((to_tick(n.start), n.drum, n.pitch) for n in notes)
        assert sorted((to_tick(n.start), n.drum, n.pitch) for n in back.notes) == ticks, path
        first = max(0, piece.meter.changes[0][0])
        assert all(back.meter.bar_start(t) == piece.meter.bar_start(t)
                   for t, _, _ in ticks if t >= first), path


def test_pop909_beat_rows_are_midi_beats(shared_data):
    """The premise of the POP909 grid: beat_midi.txt rows, through the tempo map, are one
    MIDI beat apart."""
    songs = sorted((shared_data / "pop909").glob("*/beat_midi.txt"))
    for beat_file in evenly(songs, 25):
        seconds = [float(line.split()[0]) for line in beat_file.read_text().splitlines()]
        main = beat_file.parent / f"{beat_file.parent.name}.mid"
        beats = np.array(pop909.seconds_to_beats(main, seconds))
        assert np.allclose(np.diff(beats), 1.0, atol=0.01), beat_file


def test_pop909_versions_mostly_align(shared_data):
    """A sample of songs: most versions align with their main file, with a shift that puts
    their onsets on the main file's beats."""
    rows = select(read_manifest(shared_data), datasets="pop909", music_only=True)
    songs = [u for u in units(rows, shared_data) if len(u.rows) > 1]
    results = []
    for unit in evenly(songs, 6):
        for item in load_unit(unit):
            if "versions" in item.path:
                results.append(isinstance(item, Example))
    assert len(results) >= 6 and np.mean(results) >= 0.8
