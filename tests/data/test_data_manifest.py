"""bridge.data.manifest: reading MANIFEST.tsv, selecting rows, splits by group hash."""

from __future__ import annotations

from collections import Counter

import pytest

from bridge.data.manifest import (
    ManifestError,
    Row,
    assign_splits,
    check_groups,
    file_sha256,
    music_kind,
    read_manifest,
    select,
    split_of,
    write_manifest,
)

HEADER = "path\tdataset\tgroup\tsplit\tlabels\tsha256\n"


def test_reads_the_fixture_manifest(fixture_data):
    rows = read_manifest(fixture_data)
    assert len(rows) == 19
    assert rows == read_manifest(fixture_data / "MANIFEST.tsv")
    jig = next(r for r in rows if r.path == "nottingham/combined/jigs1.mid")
    assert jig == Row("nottingham/combined/jigs1.mid", "nottingham", "nottingham:jigs1",
                      "train", ("folk", "jig"), jig.sha256)
    assert jig.sha256 == file_sha256(fixture_data / jig.path)
    assert all(r.sha256 == file_sha256(fixture_data / r.path) for r in rows)


def test_select_by_split_and_dataset(fixture_data):
    rows = read_manifest(fixture_data)
    val = select(rows, splits="val")
    assert val and {r.split for r in val} == {"val"}
    both = select(rows, splits=["train", "val"], datasets="pop909,wjd")
    assert {r.dataset for r in both} == {"pop909", "wjd"}
    assert len(both) == 8
    music = select(rows, datasets=["pop909"], music_only=True)
    assert [r.path for r in music] == ["pop909/001/001.mid", "pop909/001/versions/001-v1.mid",
                                       "pop909/001/versions/001-v2.mid", "pop909/002/002.mid"]
    assert select(rows, datasets="nothing") == []


def test_music_kind():
    assert music_kind("a/b.mid") == music_kind("x.MIDI") == "midi"
    assert music_kind("wjd/melody/x_Solo.csv") == "csv"
    assert music_kind("pop909/001/beat_midi.txt") is None
    assert music_kind("README") is None


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("path\tdataset\tgroup\n", "lacks column(s) split, labels, sha256"),
    ("path,dataset,group,split,labels,sha256\n", "tab-separated"),
    (HEADER + "a.mid\tx\tg\ttrain\n", ":2: 4 fields"),
    (HEADER + "\tx\tg\ttrain\t\t\n", "empty path"),
    (HEADER + "../a.mid\tx\tg\ttrain\t\t\n", "inside the folder"),
    (HEADER + "/etc/a.mid\tx\tg\ttrain\t\t\n", "inside the folder"),
    (HEADER + "a.mid\t\tg\ttrain\t\t\n", "empty dataset"),
    (HEADER + "a.mid\tx\tg\ttrain\t\t\na.mid\tx\tg\ttrain\t\t\n", "listed twice"),
])
def test_malformed_manifests(tmp_path, text, message):
    (tmp_path / "MANIFEST.tsv").write_text(text)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_manifest(tmp_path)


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="no manifest"):
        read_manifest(tmp_path)
    with pytest.raises(ManifestError, match="no manifest"):
        read_manifest(tmp_path / "nowhere" / "MANIFEST.tsv")


def test_general_manifest_defaults(tmp_path):
    """Unknown datasets and extra columns are fine; empty group = one per file; empty split =
    assigned by group hash; blank lines are ignored."""
    (tmp_path / "MANIFEST.tsv").write_text(
        "path\tdataset\tgroup\tsplit\tlabels\tsha256\tnote\n"
        "mine/a.mid\treviewer\t\t\tjazz, bebop\t\tx\n\n"
        "b.csv\treviewer\tsolo\ttest\t\t\ty\n")
    a, b = read_manifest(tmp_path)
    assert a == Row("mine/a.mid", "reviewer", "reviewer:mine/a.mid", "", ("jazz", "bebop"))
    assert b.split == "test" and b.labels == ()
    a2, b2 = assign_splits([a, b])
    assert a2.split == split_of("reviewer:mine/a.mid") and b2 == b


def test_split_of_is_deterministic_and_about_80_10_10():
    groups = [f"user:{i}.mid" for i in range(3000)]
    splits = [split_of(g) for g in groups]
    assert splits == [split_of(g) for g in groups]
    counts = Counter(splits)
    assert set(counts) == {"train", "val", "test"}
    assert abs(counts["train"] / 3000 - 0.8) < 0.03
    assert abs(counts["val"] / 3000 - 0.1) < 0.02
    assert split_of("user:1.mid", seed="other") in ("train", "val", "test")


def test_check_groups():
    rows = [Row("a.mid", "d", "g", "train", ()), Row("b.mid", "d", "g", "train", ())]
    check_groups(rows)
    with pytest.raises(ManifestError, match="two splits"):
        check_groups([*rows, Row("c.mid", "d", "g", "val", ())])


def test_write_then_read(tmp_path):
    rows = [Row("x/a.mid", "user", "user:a", "val", ("folk", "jig"), "ab" * 32)]
    write_manifest(rows, tmp_path / "MANIFEST.tsv")
    assert read_manifest(tmp_path) == rows
