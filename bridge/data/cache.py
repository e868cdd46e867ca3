"""The token cache: the compact on-disk form of a built data set.

One folder, per split (train, val, test):

    {split}.tokens.npy    every sequence's tokens, concatenated; uint16; no BOS/EOS/PAD
                          (the trainer adds BOS, and EOS where a piece ends)
    {split}.index.json    {"format", "vocab_version", "split", "sequences": [...]}, one
                          object per sequence: offset, length (into the tokens array), style,
                          dataset, group, path, variant, drums (drum notes only), notes,
                          pitch_min, pitch_max (pitched notes; null when there are none),
                          origin and meter (the bar grid: decode with
                          ``decode(tokens, Meter(meter), origin)``)

and ``stats.json`` for the whole build (counts, what was skipped and why, build options,
source hashes, ``vocab_version``). Writing is deterministic: the same build gives the same
bytes. :class:`TokenCache` reads a folder back, memory-mapping the token arrays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bridge.data.manifest import SPLITS
from bridge.music.piece import Note
from bridge.music.tokenize import decode
from bridge.vocab import VOCAB_SIZE, VOCAB_VERSION, Meter

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
STATS_NAME = "stats.json"
TOKEN_DTYPE = np.uint16
assert np.iinfo(TOKEN_DTYPE).max + 1 >= VOCAB_SIZE


class CacheError(RuntimeError):
    """A token cache that is missing, damaged, or built for another vocabulary."""


@dataclass(frozen=True, slots=True)
class SeqMeta:
    offset: int
    length: int
    style: str
    dataset: str
    group: str
    path: str
    variant: str
    drums: bool
    notes: int
    pitch_min: int | None
    pitch_max: int | None
    origin: int = 0                                   # tick of the first BAR
    meter: tuple[tuple[int, int], ...] = ((0, 96),)   # Meter.changes: (downbeat tick, ticks)

    @classmethod
    def from_dict(cls, d: dict) -> SeqMeta:
        return cls(**{**d, "meter": tuple((int(t), int(n)) for t, n in d["meter"])})


def ordered_splits(names) -> tuple[str, ...]:
    """train, val, test first, then any other split names sorted."""
    names = set(names)
    return (*(s for s in SPLITS if s in names), *sorted(names - set(SPLITS)))


def tokens_name(split: str) -> str:
    return f"{split}.tokens.npy"


def index_name(split: str) -> str:
    return f"{split}.index.json"


def _dump(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _replace(path: Path, write) -> None:
    """Write through a temporary file, then move it into place."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_split(folder: str | Path, split: str, metas: list[SeqMeta],
                arrays: list[np.ndarray]) -> str:
    """Write one split; returns the sha256 of its token bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = (np.concatenate(arrays).astype(TOKEN_DTYPE, copy=False) if arrays
              else np.zeros(0, dtype=TOKEN_DTYPE))
    expected = sum(m.length for m in metas)
    if len(tokens) != expected or len(metas) != len(arrays):
        raise CacheError(f"{split}: {len(tokens)} tokens for sequences totalling {expected}")

    def save_tokens(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, tokens, allow_pickle=False)

    _replace(folder / tokens_name(split), save_tokens)
    index = {"format": CACHE_FORMAT, "vocab_version": VOCAB_VERSION, "split": split,
             "sequences": [asdict(m) for m in metas]}
    _replace(folder / index_name(split),
             lambda tmp: tmp.write_text(_dump(index), encoding="utf-8"))
    return hashlib.sha256(tokens.tobytes()).hexdigest()


def write_stats(folder: str | Path, stats: dict) -> None:
    stats = {"format": CACHE_FORMAT, "vocab_version": VOCAB_VERSION, **stats}
    path = Path(folder) / STATS_NAME
    _replace(path, lambda tmp: tmp.write_text(_dump(stats), encoding="utf-8"))


def remove_stale(folder: str | Path, keep: list[str]) -> None:
    """Delete split files of earlier builds whose split this build does not write."""
    folder = Path(folder)
    for split in SPLITS:
        if split in keep:
            continue
        for name in (tokens_name(split), index_name(split)):
            if (folder / name).exists():
                log.info("removing stale %s", folder / name)
                (folder / name).unlink()


class TokenCache:
    """A built token cache: ``.splits``, ``.sequences(split)``, ``.tokens(split, i)``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        stats_path = self.folder / STATS_NAME
        if not stats_path.is_file():
            raise CacheError(f"no token cache in {self.folder} (no {STATS_NAME}): "
                             f"build one with `continuo data build --out {self.folder}`")
        try:
            self.stats: dict = json.loads(stats_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CacheError(f"{stats_path}: unreadable ({exc})") from None
        self._check_version(stats_path, self.stats)
        self.splits: tuple[str, ...] = ordered_splits(self.stats.get("splits", {}))
        self._meta: dict[str, list[SeqMeta]] = {}
        self._arrays: dict[str, np.ndarray] = {}

    @staticmethod
    def _check_version(path: Path, doc: dict) -> None:
        version = doc.get("vocab_version")
        if version != VOCAB_VERSION:
            raise CacheError(f"{path}: built with vocabulary version {version}, this code "
                             f"uses version {VOCAB_VERSION}; rebuild the cache with "
                             f"`continuo data build`")
        if doc.get("format") != CACHE_FORMAT:
            raise CacheError(f"{path}: cache format {doc.get('format')}, expected "
                             f"{CACHE_FORMAT}; rebuild it with `continuo data build`")

    def _split(self, split: str) -> str:
        if split not in self.splits:
            raise CacheError(f"{self.folder}: no split {split!r} (has "
                             f"{', '.join(self.splits) or 'none'})")
        return split

    def sequences(self, split: str) -> list[SeqMeta]:
        if split not in self._meta:
            path = self.folder / index_name(self._split(split))
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CacheError(f"{path}: unreadable ({exc})") from None
            self._check_version(path, doc)
            try:
                self._meta[split] = [SeqMeta.from_dict(s) for s in doc["sequences"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise CacheError(f"{path}: malformed index ({exc})") from None
        return self._meta[split]

    def array(self, split: str) -> np.ndarray:
        """All tokens of a split, memory-mapped (read-only)."""
        if split not in self._arrays:
            path = self.folder / tokens_name(self._split(split))
            try:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise CacheError(f"{path}: unreadable ({exc})") from None
            if arr.dtype != TOKEN_DTYPE or arr.ndim != 1:
                raise CacheError(f"{path}: expected 1-d {TOKEN_DTYPE.__name__}, got "
                                 f"{arr.ndim}-d {arr.dtype}")
            self._arrays[split] = arr
        return self._arrays[split]

    def tokens(self, split: str, i: int) -> np.ndarray:
        """Tokens of sequence ``i`` of ``split``: a zero-copy view of the memory map."""
        meta = self.sequences(split)[i]
        return self.array(split)[meta.offset:meta.offset + meta.length]

    def notes(self, split: str, i: int) -> list[Note]:
        """Sequence ``i`` of ``split`` decoded back to notes (on its own bar grid)."""
        meta = self.sequences(split)[i]
        return decode(self.tokens(split, i).tolist(), Meter(list(meta.meter)), meta.origin)

    def __len__(self) -> int:
        return sum(len(self.sequences(s)) for s in self.splits)

    def __repr__(self) -> str:
        return f"TokenCache({str(self.folder)!r}, splits={self.splits})"
