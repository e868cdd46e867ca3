"""bridge.data.build and `continuo data`: the fixture build end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bridge.cli.data import data as data_cli
from bridge.data.build import BuildConfig, BuildError, build
from bridge.data.cache import TokenCache
from bridge.music.midifile import piece_to_midi, write_midi
from bridge.music.piece import Note, Piece
from bridge.vocab import BOS, EOS, PAD, TICKS_PER_BEAT, Meter
from tests.music.pieces import song, waltz


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache")
    build(BuildConfig(out=out, data=Path(__file__).parents[1] / "fixtures" / "data",
                      workers=1, progress=False))
    return out


def test_fixture_build_counts_and_reasons(built):
    stats = TokenCache(built).stats
    assert {s: v["sequences"] for s, v in stats["splits"].items()} == {"train": 9, "val": 1}
    assert stats["skipped"]["files"] == {
        "absurd_tempo": 1, "duplicate": 2, "empty": 1, "no_beat_grid": 1, "too_short": 1,
        "unaligned_version": 1, "unreadable": 2}
    dups = {(s["path"], s["variant"]) for s in stats["skipped"]["list"]
            if s["reason"] == "duplicate"}
    # the val copy of a train melody goes; so does a melody file equal to its combined file
    assert dups == {("nottingham/melody/jigs1copy.mid", "melody"),
                    ("nottingham/melody/reels1.mid", "melody")}
    assert stats["duplicates"] == 2 and stats["not_music"] == {".txt": 2}
    assert stats["sources"]["data"]["rows"] == 19
    assert len(stats["sources"]["data"]["manifest_sha256"]) == 64
    assert stats["styles"]["train"]["pop"]["sequences"] == 4


def test_index_contents(built):
    cache = TokenCache(built)
    seqs = cache.sequences("train")
    assert [(m.dataset, m.variant) for m in seqs] == [
        ("groove", "full"), ("nottingham", "chords"), ("nottingham", "full"),
        ("nottingham", "melody"), ("pop909", "full"), ("pop909", "melody"),
        ("pop909", "piano"), ("pop909", "full"), ("wjd", "melody")]
    drums = [m for m in seqs if m.dataset == "groove"]
    assert drums[0].drums and drums[0].pitch_min is None and drums[0].notes == 24
    assert not any(m.drums for m in seqs if m.dataset != "groove")
    piano = next(m for m in seqs if m.variant == "piano")
    assert (piano.pitch_min, piano.pitch_max) == (48, 60)
    offset = 0
    for i, m in enumerate(seqs):
        assert m.offset == offset
        offset += m.length
        tokens = cache.tokens("train", i)
        assert not np.isin(tokens, [PAD, BOS, EOS]).any()
        assert len(cache.notes("train", i)) == m.notes
    assert offset == len(cache.array("train"))


def test_no_group_in_two_splits(built):
    cache = TokenCache(built)
    where: dict[str, str] = {}
    for split in cache.splits:
        for m in cache.sequences(split):
            assert where.setdefault(m.group, split) == split


def test_same_bytes_whatever_the_worker_count(built, tmp_path):
    build(BuildConfig(out=tmp_path, data=Path(__file__).parents[1] / "fixtures" / "data",
                      workers=2, progress=False))
    names = sorted(p.name for p in built.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (built / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_user_folders_and_limits(tmp_path):
    user = tmp_path / "mine"
    for i, rel in enumerate(("jazz/bebop/a.mid", "folk/b.mid", "c.mid", "d.mid")):
        (user / rel).parent.mkdir(parents=True, exist_ok=True)
        write_midi(Piece([Note(k * 0.5, 0.5, 60 + (k * (i + 1)) % 12, 90) for k in range(16)],
                         Meter()), user / rel)
    stats = build(BuildConfig(out=tmp_path / "out", users=(user,), workers=1, progress=False))
    assert sum(v["sequences"] for v in stats["splits"].values()) == 4
    assert stats["sources"]["users"][0]["files"] == 4
    styles = {s for split in stats["styles"].values() for s in split}
    assert styles == {"jazz/bebop", "folk", ""}
    stats = build(BuildConfig(out=tmp_path / "out", users=(user,), limit=2, workers=1,
                              progress=False))
    assert sum(v["sequences"] for v in stats["splits"].values()) == 2
    # an earlier build's splits that this one does not write are removed
    assert {p.name.split(".")[0] for p in (tmp_path / "out").glob("*.npy")} == \
        set(stats["splits"])


def test_a_users_files_heard_on_a_grid_found_are_counted(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    notes = waltz().notes
    mid = piece_to_midi(Piece(notes, Meter([(0, 3 * TICKS_PER_BEAT)])))
    for track in mid.tracks:                  # a waltz whose file gives no meter
        track[:] = [m for m in track if m.type != "time_signature"]
    mid.save(user / "waltz.mid")
    write_midi(song(), user / "song.mid")     # a song in 4/4, on its grid
    stats = build(BuildConfig(out=tmp_path / "out", users=(user,), workers=1, progress=False))
    assert stats["grids"]["all"] == {"on a grid found, in bars of 3": 1}
    assert stats["grids"]["by_dataset"] == {"user": {"on a grid found, in bars of 3": 1}}
    assert stats["grids"]["list"] == [{"path": "waltz.mid", "dataset": "user",
                                       "variant": "full", "how": "on a grid found, in bars of 3"}]
    cache = TokenCache(tmp_path / "out")
    metas = [m for split in cache.stats["splits"] for m in cache.sequences(split)]
    assert {m.path: m.meter[0][1] for m in metas} == {"waltz.mid": 3 * TICKS_PER_BEAT,
                                                      "song.mid": 4 * TICKS_PER_BEAT}
    result = CliRunner().invoke(data_cli, ["stats", "--cache", str(tmp_path / "out")])
    assert "heard on the grid found in their notes: on a grid found, in bars of 3 1" \
        in result.output


def test_datasets_option(tmp_path):
    stats = build(BuildConfig(out=tmp_path, data=Path(__file__).parents[1] / "fixtures" / "data",
                              datasets=("wjd",), workers=1, progress=False))
    assert set(stats["datasets"]["train"]) == {"wjd"}
    assert stats["skipped"]["files"] == {"unreadable": 1}


def test_nothing_to_build(tmp_path):
    with pytest.raises(BuildError, match="nothing to build"):
        build(BuildConfig(out=tmp_path / "out", users=(tmp_path,), workers=1, progress=False))
    broken = tmp_path / "broken"                       # files, none of them music
    broken.mkdir()
    (broken / "a.mid").write_bytes(b"MThd nonsense")
    (broken / "b.mid").write_bytes(b"")
    out = tmp_path / "cache"                           # a cache built before stays whole
    out.mkdir()
    (out / "train.tokens").write_bytes(b"kept")
    with pytest.raises(BuildError, match=r"none of the 2 file\(s\).*unreadable 2"):
        build(BuildConfig(out=out, users=(broken,), workers=1, progress=False))
    assert sorted(p.name for p in out.iterdir()) == ["train.tokens"]


def test_cli_build_below_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "afile").write_text("")
    result = CliRunner().invoke(data_cli, ["build", "--no-data", "--user", str(tmp_path),
                                           "--out", str(tmp_path / "afile" / "cache")])
    assert result.exit_code == 2 and "afile is a file, not a folder" in result.output
    assert "Traceback" not in result.output


def test_cli_build_and_stats(tmp_path):
    runner = CliRunner()
    fixtures = str(Path(__file__).parents[1] / "fixtures" / "data")
    result = runner.invoke(data_cli, ["build", "--data", fixtures, "--out", str(tmp_path),
                                      "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "nottingham" in result.output and "duplicate 2" in result.output
    result = runner.invoke(data_cli, ["stats", "--cache", str(tmp_path), "--skipped"])
    assert result.exit_code == 0, result.output
    assert "folk/jig" in result.output and "unaligned_version" in result.output
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["options"]["data"] == fixtures
    result = runner.invoke(data_cli, ["stats", "--cache", str(tmp_path / "none")])
    assert result.exit_code != 0 and "no token cache" in result.output
