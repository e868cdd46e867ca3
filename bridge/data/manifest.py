"""MANIFEST.tsv: the list of data files of a folder laid out like ``shared/data``.

One row per file, tab-separated, with a header naming (at least) the six columns

    path     relative to the folder (``/``-separated, inside it)
    dataset  pop909 | nottingham | groove | wjd | any other name
    group    what must stay in one split (a song, a tune, a session); empty: one per file
    split    train | val | test | ...; empty: assigned by group hash at build time
    labels   comma-separated: genre first, then the sub-style if there is one
    sha256   of the file (may be empty in hand-written manifests)

The same reader serves the training data, users' folders and reviewers' held-out folders,
so unknown dataset names and splits are allowed. What a row holds is decided by its file
extension (:func:`music_kind`): MIDI, a WJD-style note CSV, or no music at all.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

MANIFEST_NAME = "MANIFEST.tsv"
COLUMNS = ("path", "dataset", "group", "split", "labels", "sha256")
MIDI_SUFFIXES = (".mid", ".midi")
SPLITS = ("train", "val", "test")        # the splits a build writes, in this order
SPLIT_SEED = "continuo-split-v1:"
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
CSV_SUFFIXES = (".csv",)


class ManifestError(ValueError):
    """A manifest that is missing or cannot be read."""


@dataclass(frozen=True, slots=True)
class Row:
    path: str                 # relative, '/'-separated
    dataset: str
    group: str
    split: str                # '' = assign by group hash
    labels: tuple[str, ...]
    sha256: str = ""

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix.lower()


def music_kind(path: str) -> str | None:
    """``"midi"``, ``"csv"`` (a WJD-style note list) or ``None`` (not music)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return "midi"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return None


def manifest_path(folder_or_file: str | Path) -> Path:
    path = Path(folder_or_file)
    return path / MANIFEST_NAME if path.is_dir() else path


def read_manifest(folder_or_file: str | Path) -> list[Row]:
    """Rows of a MANIFEST.tsv (given it or its folder), in file order."""
    path = manifest_path(folder_or_file)
    if not path.is_file():
        raise ManifestError(f"no manifest at {path} (expected a tab-separated {MANIFEST_NAME} "
                            f"with columns {', '.join(COLUMNS)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read ({exc})") from None
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        raise ManifestError(f"{path}: empty file, expected a header {' '.join(COLUMNS)}")
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ManifestError(f"{path}: header lacks column(s) {', '.join(missing)} "
                            f"(found {', '.join(header) or 'nothing'}; is it tab-separated?)")
    col = {c: header.index(c) for c in COLUMNS}
    rows: list[Row] = []
    seen: set[str] = set()
    for line, fields in enumerate(reader, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise ManifestError(f"{path}:{line}: {len(fields)} fields, the header has "
                                f"{len(header)}")
        value = {c: fields[i].strip() for c, i in col.items()}
        rel = _check_path(path, line, value["path"])
        if not value["dataset"]:
            raise ManifestError(f"{path}:{line}: empty dataset")
        if rel in seen:
            raise ManifestError(f"{path}:{line}: {rel} is listed twice")
        seen.add(rel)
        labels = tuple(x.strip() for x in value["labels"].split(",") if x.strip())
        group = value["group"] or f"{value['dataset']}:{rel}"
        rows.append(Row(rel, value["dataset"], group, value["split"], labels, value["sha256"]))
    log.debug("%s: %d rows", path, len(rows))
    return rows


def _check_path(manifest: Path, line: int, raw: str) -> str:
    if not raw:
        raise ManifestError(f"{manifest}:{line}: empty path")
    rel = PurePosixPath(raw.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        raise ManifestError(f"{manifest}:{line}: path {raw!r} must stay inside the folder")
    return str(rel)


def _names(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return {x.strip() for x in items if x.strip()}


def select(rows: Iterable[Row], *, splits: str | Iterable[str] | None = None,
           datasets: str | Iterable[str] | None = None, music_only: bool = False) -> list[Row]:
    """Rows in the given split(s) and dataset(s) (comma-separated strings or iterables)."""
    want_splits, want_datasets = _names(splits), _names(datasets)
    return [r for r in rows
            if (want_splits is None or r.split in want_splits)
            and (want_datasets is None or r.dataset in want_datasets)
            and (not music_only or music_kind(r.path) is not None)]


def split_of(group: str, seed: str = SPLIT_SEED) -> str:
    """Deterministic train/val/test (80/10/10) from ``sha256(seed + group)``."""
    x = int(hashlib.sha256((seed + group).encode()).hexdigest()[:12], 16) / float(1 << 48)
    edge = 0.0
    for split, fraction in zip(SPLITS, SPLIT_FRACTIONS, strict=True):
        edge += fraction
        if x < edge:
            return split
    return SPLITS[-1]


def assign_splits(rows: Iterable[Row], seed: str = SPLIT_SEED) -> list[Row]:
    """Rows with an empty split get :func:`split_of` their group (so a group stays whole)."""
    return [r if r.split else replace(r, split=split_of(r.group, seed)) for r in rows]


def check_groups(rows: Iterable[Row]) -> None:
    """Raise :class:`ManifestError` if a group has rows in two splits."""
    where: dict[str, str] = {}
    for r in rows:
        if where.setdefault(r.group, r.split) != r.split:
            raise ManifestError(f"group {r.group!r} is in two splits ({where[r.group]} and "
                                f"{r.split}, e.g. {r.path}): a group must stay in one split")


def write_manifest(rows: Iterable[Row], path: str | Path) -> None:
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        lines.append("\t".join((r.path, r.dataset, r.group, r.split, ",".join(r.labels),
                                r.sha256)))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
