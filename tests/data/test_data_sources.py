"""bridge.data.sources (and pop909, wjd, grid) on the shipped fixtures and users' folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.data import pop909
from bridge.data.align import align
from bridge.data.clean import NO_BEAT_GRID, UNALIGNED_VERSION, UNREADABLE, Skip
from bridge.data.grid import meter_from_downbeats, shifted
from bridge.data.manifest import Row, read_manifest, split_of, write_manifest
from bridge.data.sources import Example, examples, units, user_rows
from bridge.data.wjd import WjdError, read_wjd
from bridge.music.midifile import write_midi
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import encode
from bridge.vocab import (
    BAR,
    DRUM_BASE,
    K_DRUM,
    K_PART,
    K_PITCH,
    KIND,
    PITCH_BASE,
    TICKS_PER_BEAT,
    Meter,
)
from tests.music.pieces import song

T = TICKS_PER_BEAT


def load(root: Path) -> list[Example | Skip]:
    return list(examples(read_manifest(root), root))


def by_key(items) -> dict[tuple[str, str], Example | Skip]:
    return {(i.path, i.variant): i for i in items}


@pytest.fixture
def loaded(fixture_data):
    return by_key(load(fixture_data))


# -- POP909 -------------------------------------------------------------------------------------


def test_pop909_bars_follow_every_annotated_downbeat(fx, loaded):
    full = loaded[("pop909/001/001.mid", "full")]
    downbeats = [round((d + fx.POP_OFFSET) * T) for d in fx.POP_DOWNBEATS]
    bar = 4 * T
    # one pickup beat, 4/4, a 2-beat bar where the annotation has one, 4/4 again
    assert full.piece.meter.changes == [(downbeats[0], bar), (downbeats[3], T * 2),
                                        (downbeats[4], bar)]
    for d in downbeats:
        assert full.piece.meter.bar_start(d) == d
    assert full.style == "pop" and full.split == "train" and full.group == "pop909:001"


def test_pop909_downbeat_notes_open_their_bar(fx, loaded):
    """A melody note on every annotated downbeat: in tokens each comes right after a BAR."""
    melody = loaded[("pop909/001/001.mid", "melody")].piece
    tokens = encode(melody)
    on_downbeat = {72 + i % 5 for i in range(len(fx.POP_DOWNBEATS) - 1)}
    bars = [i for i, t in enumerate(tokens) if t == BAR]
    assert len(bars) == len(fx.POP_DOWNBEATS) - 1
    notes = [next(t for t in tokens[i + 1:] if KIND[t] == K_PITCH) for i in bars]
    assert all(tokens[i + 1] == notes[k] or KIND[tokens[i + 1]] == K_PART    # (its PART first)
               for k, i in enumerate(bars))
    assert all(t - PITCH_BASE in on_downbeat for t in notes)


def test_pop909_track_variants(fx, loaded):
    full, melody, piano = (loaded[("pop909/001/001.mid", v)].piece
                           for v in ("full", "melody", "piano"))
    assert {n.pitch for n in melody.notes} == {p for _, _, p in fx.pop_melody()}
    assert {n.pitch for n in piano.notes} == {p for _, _, p in fx.pop_piano()}
    assert len(full.notes) == len(fx.pop_melody()) + len(fx.pop_piano()) + len(fx.pop_bridge())
    assert melody.meter.changes == piano.meter.changes == full.meter.changes


def test_pop909_versions(fx, loaded):
    main = loaded[("pop909/001/001.mid", "full")].piece
    v1 = loaded[("pop909/001/versions/001-v1.mid", "full")]
    assert isinstance(v1, Example)
    assert v1.piece.meter.changes == shifted(main.meter, round(fx.VERSION_SHIFT * T)).changes
    found = align(main.notes, v1.piece.notes)
    assert found.ok and found.shift == pytest.approx(fx.VERSION_SHIFT, abs=1e-6)
    assert found.share == 1.0 and found.transpose == 0
    v2 = loaded[("pop909/001/versions/001-v2.mid", "")]
    assert isinstance(v2, Skip) and v2.reason == UNALIGNED_VERSION


def test_pop909_without_beat_file_is_left_out(loaded):
    skip = loaded[("pop909/002/002.mid", "")]
    assert isinstance(skip, Skip) and skip.reason == NO_BEAT_GRID and skip.split == "val"


def test_pop909_annotations_are_not_music(fixture_data):
    paths = {r.path for u in units(read_manifest(fixture_data), fixture_data) for r in u.rows}
    assert not any(p.endswith(".txt") for p in paths)
    assert "pop909/001/versions/001-v1.mid" in paths


def test_beat_file_errors(tmp_path):
    (tmp_path / "beat_midi.txt").write_text("0.5 1.0\n")
    with pytest.raises(pop909.Pop909Error, match="3 columns"):
        pop909.read_downbeats(tmp_path / "beat_midi.txt")
    (tmp_path / "beat_midi.txt").write_text("0.5 1.0 0.0\n")
    with pytest.raises(pop909.Pop909Error, match="no downbeat"):
        pop909.read_downbeats(tmp_path / "beat_midi.txt")


def test_seconds_to_beats_follows_the_tempo_map(fx, fixture_data):
    main = fixture_data / "pop909/001/001.mid"
    beats = [i + fx.POP_OFFSET for i in range(fx.POP_BEATS)]
    got = pop909.seconds_to_beats(main, [fx.beat_seconds(b) for b in beats])
    assert got == pytest.approx(beats, abs=1e-6)


def test_meter_from_downbeats():
    m = meter_from_downbeats([10, 106, 202, 250, 346], 96, first_bar=96)
    assert [m.bar_start(t) for t in (9, 10, 105, 106, 249, 250, 345, 346, 442)] == \
        [-86, 10, 10, 106, 202, 250, 250, 346, 442]
    assert meter_from_downbeats([], 72).changes == [(0, 72)]


# -- Nottingham, Groove, WJD --------------------------------------------------------------------


def test_nottingham_variants_and_meter(loaded):
    combined = loaded[("nottingham/combined/jigs1.mid", "full")]
    melody = loaded[("nottingham/melody/jigs1.mid", "melody")]
    chords = loaded[("nottingham/chords/jigs1.mid", "chords")]
    for e in (combined, melody, chords):
        assert e.style == "folk/jig" and e.group == "nottingham:jigs1"
        assert e.piece.meter.changes == [(0, 3 * T)]          # 6/8
    assert len(combined.piece.notes) == len(melody.piece.notes) + len(chords.piece.notes)
    tokens = encode(melody.piece)
    assert tokens[0] == BAR and tokens.count(BAR) == 5         # pickup bar + 4 bars


def test_groove_is_drums(fx, loaded):
    e = loaded[("groove/drummer1/session1/1_rock_120_beat_4-4.mid", "full")]
    assert e.style == "drums/rock"
    assert e.piece.notes and all(n.drum for n in e.piece.notes)
    assert {n.pitch for n in e.piece.notes} == {fx.KICK, fx.SNARE, fx.HAT}
    kinds = KIND[encode(e.piece)]
    assert (kinds == K_DRUM).sum() == len(fx.groove_notes()) and (kinds == K_PITCH).sum() == 0
    assert DRUM_BASE + fx.KICK in encode(e.piece)


def test_wjd_notes_on_the_annotated_grid(fx, fixture_data):
    piece = read_wjd(fixture_data / "wjd/melody/Tester_Tune_Solo.csv")
    assert [n.start for n in piece.notes] == pytest.approx(fx.WJD_STARTS)
    assert [n.duration for n in piece.notes] == pytest.approx([d for *_, d, _ in fx.WJD_NOTES])
    assert [n.pitch for n in piece.notes] == [p for *_, p in fx.WJD_NOTES]
    assert {n.velocity for n in piece.notes} == {80}
    assert piece.meter.changes == [(0, 4 * T), (20 * T, 3 * T), (23 * T, 4 * T)]
    assert piece.tempo == pytest.approx(120.0)


def test_wjd_errors(fx, fixture_data, tmp_path):
    with pytest.raises(WjdError, match="missing"):
        read_wjd(fixture_data / "wjd/melody/Tester_Broken_Solo.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(fx.WJD_COLUMNS) + "\n1,x,0.5,4,1,0.5,4,1.0,4,60,0,1\n")
    with pytest.raises(WjdError, match="bad value"):
        read_wjd(bad)


def test_unreadable_files_are_skipped(loaded):
    for key in (("nottingham/melody/broken1.mid", ""), ("wjd/melody/Tester_Broken_Solo.csv", "")):
        assert isinstance(loaded[key], Skip) and loaded[key].reason == UNREADABLE


def test_order_is_deterministic(fixture_data):
    first = [(i.path, i.variant) for i in load(fixture_data)]
    assert first == [(i.path, i.variant) for i in load(fixture_data)]
    assert first.index(("pop909/001/001.mid", "full")) < \
        first.index(("pop909/001/001.mid", "melody")) < \
        first.index(("pop909/001/versions/001-v1.mid", "full"))


def test_no_group_in_two_splits(fixture_data, tmp_path):
    seen: dict[str, str] = {}
    items = load(fixture_data) + list(examples(user_rows(make_user_folder(tmp_path)), tmp_path))
    for e in items:
        assert seen.setdefault(e.group if isinstance(e, Example) else e.path, e.split) == e.split


# -- users' folders -----------------------------------------------------------------------------


def small_piece(pitch: int = 60) -> Piece:
    return Piece([Note(i * 0.5, 0.5, pitch + i % 5, 90) for i in range(12)], Meter())


def make_user_folder(root: Path) -> Path:
    for rel in ("jazz/bebop/a.mid", "mine/b.MID", "c.midi", "notes.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("txt"):
            (root / rel).write_text("not music")
        else:
            write_midi(small_piece(), root / rel)
    return root


def test_user_folder_labels_groups_splits(tmp_path):
    rows = user_rows(make_user_folder(tmp_path))
    assert [(r.path, r.labels) for r in rows] == [
        ("c.midi", ()), ("jazz/bebop/a.mid", ("jazz", "bebop")), ("mine/b.MID", ("mine",))]
    assert all(r.dataset == "user" and r.group == f"user:{r.path}" for r in rows)
    assert all(r.split == split_of(r.group) for r in rows)
    got = {e.path: e for e in examples(rows, tmp_path)}
    assert got["jazz/bebop/a.mid"].style == "jazz/bebop"
    assert got["mine/b.MID"].style == "mine"
    assert got["c.midi"].style == "" and len(got["c.midi"].piece.notes) == 12


def test_user_folder_labels_are_lower_case_and_hidden_files_left_out(tmp_path):
    for rel in ("Jazz/Hard Bop/a.mid", ".trash/b.mid", "jazz/.c.mid"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        write_midi(small_piece(), tmp_path / rel)
    assert [(r.path, r.labels) for r in user_rows(tmp_path)] == [
        ("Jazz/Hard Bop/a.mid", ("jazz", "hard-bop"))]


def test_user_folder_with_a_manifest(tmp_path):
    make_user_folder(tmp_path)
    write_manifest([Row("c.midi", "live", "take1", "", ("folk", "reel")),
                    Row("mine/b.MID", "live", "take1", "", ("folk", "reel"))],
                   tmp_path / "MANIFEST.tsv")
    rows = user_rows(tmp_path)
    assert [r.path for r in rows] == ["c.midi", "mine/b.MID"]
    assert {r.split for r in rows} == {split_of("take1")}
    assert {e.style for e in examples(rows, tmp_path)} == {"folk/reel"}


def test_user_folder_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        user_rows(tmp_path / "nope")


def test_a_users_file_played_off_its_own_beats_is_read_on_the_grid_of_its_notes(tmp_path):
    """An arrangement whose notes fall 0.527 beats after the file's beats (as POP909's
    files, read without their beat annotation): its bars start where its chords change."""
    write_midi(song(0.527, bars=8, meter=Meter([(0, 2 * TICKS_PER_BEAT)])), tmp_path / "song.mid")
    [example] = examples(user_rows(tmp_path), tmp_path)
    meter = example.piece.meter
    assert meter.bar_length(meter.bar_start(TICKS_PER_BEAT)) == 4 * TICKS_PER_BEAT
    assert abs(meter.bar_start(TICKS_PER_BEAT) - round(0.527 * TICKS_PER_BEAT)) <= 1
    played = [e for e in examples(user_rows(make_user_folder(tmp_path / "x")), tmp_path / "x")]
    assert all(e.piece.meter.changes == Meter().changes for e in played)   # on their beats


def test_a_users_performance_without_a_click_is_read_on_the_beats_it_is_played_on(tmp_path):
    """A fine-tune on a player's own performances hears beats and bars: the notes of one
    played without a click are moved onto the beats found, where its bass falls on them."""
    from tests.music.pieces import performed

    write_midi(performed(song(bars=12))[0], tmp_path / "played.mid")
    [example] = examples(user_rows(tmp_path), tmp_path)
    bass = [n.start for n in example.piece.notes if n.pitch <= 55]
    assert sum(abs(b - round(b)) < 0.1 for b in bass) / len(bass) > 0.9
    assert example.piece.meter.bar_length(0) == 4 * TICKS_PER_BEAT
