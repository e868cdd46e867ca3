"""bridge.data.cache: writing a split, reading it back memory-mapped, refusing stale caches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bridge.data.cache import (
    CacheError,
    SeqMeta,
    TokenCache,
    remove_stale,
    write_split,
    write_stats,
)
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import encode
from bridge.vocab import VOCAB_VERSION, Meter


def meta(offset: int, length: int, **kw) -> SeqMeta:
    base = dict(style="folk/jig", dataset="nottingham", group="g", path="a.mid",
                variant="full", drums=False, notes=length // 3, pitch_min=60, pitch_max=72)
    return SeqMeta(offset, length, **{**base, **kw})


def write(folder, splits: dict[str, list[np.ndarray]]) -> None:
    for split, arrays in splits.items():
        metas, offset = [], 0
        for i, a in enumerate(arrays):
            metas.append(meta(offset, len(a), path=f"{split}{i}.mid"))
            offset += len(a)
        write_split(folder, split, metas, arrays)
    write_stats(folder, {"splits": {s: {} for s in splits}})


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    train = [rng.integers(3, 400, size=n).astype(np.uint16) for n in (5, 1, 40)]
    val = [np.array([3, 200, 330, 340], dtype=np.uint16)]
    write(tmp_path, {"val": val, "train": train})
    cache = TokenCache(tmp_path)
    assert cache.splits == ("train", "val") and len(cache) == 4
    assert [m.path for m in cache.sequences("train")] == ["train0.mid", "train1.mid",
                                                          "train2.mid"]
    for i, a in enumerate(train):
        got = cache.tokens("train", i)
        assert got.dtype == np.uint16 and np.array_equal(got, a)
        assert np.shares_memory(got, cache.array("train"))      # a view, not a copy
    assert isinstance(cache.array("val"), np.memmap)
    assert cache.stats["vocab_version"] == VOCAB_VERSION
    assert cache.sequences("val")[0] == meta(0, 4, path="val0.mid")


def test_decoding_with_the_stored_grid(tmp_path):
    piece = Piece([Note(2.5, 0.5, 67, 90), Note(3.0, 1.0, 69, 90), Note(4.5, 3.0, 71, 90)],
                  Meter([(0, 72)]))
    tokens = np.array(encode(piece), dtype=np.uint16)
    m = meta(0, len(tokens), origin=0, meter=((0, 72),))
    write_split(tmp_path, "train", [m], [tokens])
    write_stats(tmp_path, {"splits": {"train": {}}})
    notes = TokenCache(tmp_path).notes("train", 0)
    assert [(n.start, n.pitch) for n in notes] == [(2.5, 67), (3.0, 69), (4.5, 71)]


def test_empty_split(tmp_path):
    write(tmp_path, {"test": []})
    cache = TokenCache(tmp_path)
    assert cache.sequences("test") == [] and len(cache.array("test")) == 0


def test_missing_or_foreign_cache(tmp_path):
    with pytest.raises(CacheError, match="no token cache"):
        TokenCache(tmp_path)
    write(tmp_path, {"train": [np.array([3, 4], dtype=np.uint16)]})
    cache = TokenCache(tmp_path)
    with pytest.raises(CacheError, match="no split 'val'"):
        cache.sequences("val")
    stats = json.loads((tmp_path / "stats.json").read_text())
    (tmp_path / "stats.json").write_text(json.dumps({**stats, "vocab_version": 0}))
    with pytest.raises(CacheError, match=f"vocabulary version 0.*version {VOCAB_VERSION}"):
        TokenCache(tmp_path)
    (tmp_path / "stats.json").write_text("{not json")
    with pytest.raises(CacheError, match="unreadable"):
        TokenCache(tmp_path)


def test_index_from_another_vocabulary(tmp_path):
    write(tmp_path, {"train": [np.array([3, 4], dtype=np.uint16)]})
    index = json.loads((tmp_path / "train.index.json").read_text())
    (tmp_path / "train.index.json").write_text(json.dumps({**index, "vocab_version": 99}))
    with pytest.raises(CacheError, match="vocabulary version 99"):
        TokenCache(tmp_path).sequences("train")


def test_inconsistent_write_is_refused(tmp_path):
    with pytest.raises(CacheError):
        write_split(tmp_path, "train", [meta(0, 3)], [np.zeros(2, dtype=np.uint16)])


def test_remove_stale(tmp_path):
    write(tmp_path, {"train": [np.array([3], dtype=np.uint16)],
                     "test": [np.array([3], dtype=np.uint16)]})
    remove_stale(tmp_path, ["train"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "stats.json", "train.index.json", "train.tokens.npy"]
