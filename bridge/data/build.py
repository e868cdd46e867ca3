"""``continuo data build``: sources -> checks -> tokens -> the token cache.

Workers read and tokenize one unit each (:func:`process_unit`); the parent sorts what comes
back by (split, dataset, path, variant), drops duplicate token sequences keeping the first in
that order (so a copy in val or test of a train sequence is the one dropped), and writes
the cache. Nothing depends on worker count or timing: two builds of the same input give the
same bytes. Pieces are encoded as they are: transposition and velocity augmentation belong
to the trainer, which gets each sequence's pitch range from the index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bridge.data.cache import SeqMeta, ordered_splits, remove_stale, write_split, write_stats
from bridge.data.clean import UNENCODABLE, CleanConfig, Deduper, Report, Skip, clean
from bridge.data.manifest import (
    check_groups,
    file_sha256,
    manifest_path,
    music_kind,
    read_manifest,
    select,
)
from bridge.data.sources import VARIANTS, Example, Unit, load_unit, units, user_rows
from bridge.music.tokenize import encode, to_tick
from bridge.progress import Progress
from bridge.vocab import K_DRUM, K_PITCH, KIND, PITCH_BASE, VOCAB_SIZE, VOCAB_VERSION

log = logging.getLogger(__name__)


class BuildError(RuntimeError):
    """A build that cannot start (no input, a bad option)."""


@dataclass(frozen=True)
class BuildConfig:
    out: Path
    data: Path | None = None              # a folder with a MANIFEST.tsv
    datasets: tuple[str, ...] | None = None
    users: tuple[Path, ...] = ()
    music21: bool = False
    music21_limit: int | None = None
    limit: int | None = None              # music files per dataset (quick builds)
    workers: int = 2
    clean: CleanConfig = field(default_factory=CleanConfig)
    progress: bool = True


@dataclass
class Record:
    """One tokenized sequence on its way to the cache."""

    key: tuple
    split: str
    meta: SeqMeta                          # offset filled in when written
    tokens: np.ndarray


def process_unit(unit: Unit, config: CleanConfig) -> tuple[list[Record], Report]:
    """Read, check and tokenize one unit (runs in a worker)."""
    records: list[Record] = []
    report = Report()
    for item in load_unit(unit):
        if isinstance(item, Skip):
            report.skipped.append(item)
            continue
        if item.grid:
            report.grids.append((item.dataset, item.path, item.variant, item.grid))
        example, skip, counts = clean(item, config)
        report.notes.update({(item.dataset, k): v for k, v in counts.items()})
        if skip is not None:
            report.skipped.append(skip)
            continue
        try:
            tokens = np.asarray(encode(example.piece), dtype=np.uint16)
        except ValueError as exc:
            report.skipped.append(Skip(item.path, item.dataset, UNENCODABLE, str(exc),
                                       item.variant, item.split))
            continue
        records.append(_record(example, tokens))
    return records, report


def _record(example: Example, tokens: np.ndarray) -> Record:
    kinds = KIND[tokens]
    pitches = tokens[kinds == K_PITCH].astype(np.int64) - PITCH_BASE
    notes = int(np.count_nonzero(kinds == K_PITCH) + np.count_nonzero(kinds == K_DRUM))
    meter = example.piece.meter
    first = min(to_tick(n.start) for n in example.piece.notes)
    meta = SeqMeta(0, len(tokens), example.style, example.dataset, example.group, example.path,
                   example.variant, drums=notes > 0 and len(pitches) == 0, notes=notes,
                   pitch_min=int(pitches.min()) if len(pitches) else None,
                   pitch_max=int(pitches.max()) if len(pitches) else None,
                   origin=meter.bar_start(first), meter=tuple(meter.changes))
    variant = VARIANTS.index(example.variant) if example.variant in VARIANTS else len(VARIANTS)
    key = (example.dataset, example.path, variant, example.variant)
    return Record(key, example.split, meta, tokens)


def _process_star(args: tuple[Unit, CleanConfig]) -> tuple[list[Record], Report]:
    return process_unit(*args)


# -- collecting the input ------------------------------------------------------------------------


def collect(config: BuildConfig) -> tuple[list[Unit], dict, Counter]:
    """The units to process, the source description for stats, non-music files by suffix."""
    all_units: list[Unit] = []
    sources: dict = {}
    not_music: Counter = Counter()
    if config.data is not None:
        rows = read_manifest(config.data)
        sources["data"] = {"manifest_sha256": file_sha256(manifest_path(config.data)),
                           "rows": len(rows)}
        if config.datasets is not None:
            rows = select(rows, datasets=config.datasets)
        for r in rows:
            if music_kind(r.path) is None:
                not_music[r.suffix or "(none)"] += 1
        rows = _limit(rows, config.limit)
        check_groups(rows)
        all_units += units(rows, config.data)
    users = []
    for folder in config.users:
        rows = _limit(user_rows(folder), config.limit)
        check_groups(rows)
        digest = hashlib.sha256()
        for r in rows:
            digest.update(f"{r.path}\t{r.sha256 or file_sha256(Path(folder) / r.path)}\n"
                          .encode())
        users.append({"folder": str(folder), "files": len(rows), "sha256": digest.hexdigest()})
        all_units += units(rows, folder)
    if users:
        sources["users"] = users
    if config.music21:
        import music21

        from bridge.data.corpus import attributions, excluded, music21_rows
        rows = music21_rows(config.music21_limit)
        left_out = Counter(f"{path.split('/')[0]}/: {why}" for path, why in excluded().items())
        sources["music21"] = {"version": music21.__version__, "files": len(rows),
                              "collections": attributions(),
                              "excluded": {k: left_out[k] for k in sorted(left_out)}}
        all_units += units(rows, "")
    if not all_units:
        raise BuildError("nothing to build: no music files in the given --data, --user or "
                         "--music21 sources")
    for split in {r.split for u in all_units for r in u.rows}:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", split):
            raise BuildError(f"split name {split!r} cannot name a file")
    sources["vocab_version"] = VOCAB_VERSION
    return all_units, sources, not_music


def _limit(rows: list, limit: int | None) -> list:
    """The first ``limit`` music rows of each dataset, in path order (others pass)."""
    if limit is None:
        return rows
    taken: Counter = Counter()
    out = []
    for r in sorted(rows, key=lambda r: r.path):
        if music_kind(r.path) is not None:
            if taken[r.dataset] >= limit:
                continue
            taken[r.dataset] += 1
        out.append(r)
    return out


# -- the build -----------------------------------------------------------------------------------


def build(config: BuildConfig) -> dict:
    """Build the token cache in ``config.out``; returns the stats written to stats.json."""
    work, sources, not_music = collect(config)
    log.info("%d units from %s", len(work), ", ".join(sources))
    records: list[Record] = []
    report = Report()
    jobs = [(u, config.clean) for u in work]
    with Progress("reading", len(jobs), "units", enabled=config.progress) as bar:
        if config.workers <= 1:
            for unit_records, unit_report in map(_process_star, jobs):
                records += unit_records
                report.add(unit_report)
                bar.update()
        else:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(config.workers) as pool:
                for unit_records, unit_report in pool.imap(_process_star, jobs, chunksize=4):
                    records += unit_records
                    report.add(unit_report)
                    bar.update()

    splits = ordered_splits({r.split for r in records})
    where: dict[str, str] = {}
    for r in records:   # sources keep groups whole; this guards across sources
        if where.setdefault(r.meta.group, r.split) != r.split:
            raise BuildError(f"group {r.meta.group!r} is in two splits ({where[r.meta.group]} "
                             f"and {r.split}, e.g. {r.meta.path})")
    rank = {s: i for i, s in enumerate(splits)}
    records.sort(key=lambda r: (rank[r.split], *r.key))
    report.skipped.sort(key=lambda s: (s.dataset, s.path, s.variant, s.reason))
    kept = _dedupe(records, report)
    if not kept:                        # (a cache already there is left as it was)
        why = ", ".join(f"{reason} {n}" for reason, n in report.to_dict()["files"].items())
        raise BuildError(f"nothing to build: none of the {len(work)} file(s) read is music "
                         f"it can use ({why or 'none read'}); {config.out} not written")
    stats = _write(config, kept, splits, report, sources, not_music)
    return stats


def _dedupe(records: list[Record], report: Report) -> list[Record]:
    deduper, kept, dups = Deduper(), [], []
    for r in records:
        m = r.meta
        skip = deduper.check(r.tokens, m.path, m.dataset, m.variant, r.split)
        if skip is None:
            kept.append(r)
        else:
            dups.append(skip)
    report.skipped += dups
    return kept


def _write(config: BuildConfig, records: list[Record], splits: tuple[str, ...],
           report: Report, sources: dict, not_music: Counter) -> dict:
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    split_stats, by_dataset, by_style = {}, {}, {}
    for split in splits:
        mine = [r for r in records if r.split == split]
        metas, offset = [], 0
        for r in mine:
            metas.append(replace(r.meta, offset=offset))
            offset += r.meta.length
        digest = write_split(out, split, metas, [r.tokens for r in mine])
        split_stats[split] = {**_counts(metas), "token_sha256": digest}
        by_dataset[split] = _grouped(metas, lambda m: m.dataset)
        by_style[split] = _grouped(metas, lambda m: m.style)
    remove_stale(out, list(splits))
    skipped = report.to_dict()
    stats = {
        "options": {
            "data": str(config.data) if config.data is not None else None,
            "datasets": list(config.datasets) if config.datasets is not None else None,
            "users": [str(u) for u in config.users],
            "music21": config.music21, "music21_limit": config.music21_limit,
            "limit": config.limit, "min_notes": config.clean.min_notes,
            "min_bpm": config.clean.min_bpm, "max_bpm": config.clean.max_bpm,
        },
        "sources": sources,
        "vocab_size": VOCAB_SIZE,
        "splits": split_stats,
        "datasets": by_dataset,
        "styles": by_style,
        "skipped": skipped,
        "duplicates": skipped["files"].get("duplicate", 0),
        "not_music": dict(sorted(not_music.items())),
        "grids": report.grids_dict(),
    }
    write_stats(out, stats)
    log.info("wrote %s: %s", out, {s: v["sequences"] for s, v in split_stats.items()})
    return stats


def _counts(metas: list[SeqMeta]) -> dict:
    return {"sequences": len(metas), "tokens": sum(m.length for m in metas),
            "notes": sum(m.notes for m in metas)}


def _grouped(metas: list[SeqMeta], key) -> dict:
    groups: dict[str, list[SeqMeta]] = {}
    for m in metas:
        groups.setdefault(key(m), []).append(m)
    return {k: _counts(v) for k, v in sorted(groups.items())}
