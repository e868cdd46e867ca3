"""``continuo eval``: the shipped (or any) models beside simple baselines, on any data folder.

The evaluation data is any folder laid out like ``../shared/data`` (a ``MANIFEST.tsv``;
``split`` picks rows) or a plain folder of MIDI files (labels from folder names). It is read,
cleaned and tokenised exactly as ``continuo data build`` does, keeping the files as they are
(no derived track variants unless asked).

- Generator (here): bits per event over consecutive windows of up to 256 tokens, each
  starting on a bar and scored from BOS, unconditioned (the performer's style is not given
  to it), beside an interpolated Kneser-Ney n-gram over the same tokens, trained on the same
  training data; per dataset, and per part (each part's notes' events, and the time events).
- Tagger: :mod:`bridge.evaluate.tagger`.

The baselines are trained on the training split of a token cache (``--train-cache``,
default ``data/cache``) or, when there is none, on the train rows of ``--train-data``, limited
to the datasets the model's checkpoint says it was trained on.
"""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path

import numpy as np
import torch

from bridge.evaluate.ngram import NGram
from bridge.model import checkpoint
from bridge.progress import Progress
from bridge.train.parts import part_before, token_parts
from bridge.train.tasks import token_nll, window_nll
from bridge.train.windows import (
    Sequence,
    load_split,
    window_starts,
)
from bridge.vocab import NO_PART, PARTS

log = logging.getLogger(__name__)

WINDOW_TOKENS = 256
BASELINE_WINDOWS = 40_000


class EvalError(RuntimeError):
    pass


def read_records(folder: str | Path | None, split: str | None,
                 datasets: tuple[str, ...] | None, derived: bool = False,
                 music21: bool = False) -> list:
    """The built records (``bridge.data.build.Record``: tokens and their ``SeqMeta``) of a
    manifest folder's rows (or a plain MIDI folder), as built; each file once, as it is,
    unless ``derived`` adds the track variants the build derives. ``music21`` adds the
    corpus pieces of the split (``continuo data build --music21``); ``folder`` may then be
    None."""
    from bridge.data.build import process_unit
    from bridge.data.clean import CleanConfig
    from bridge.data.manifest import manifest_path, read_manifest, select
    from bridge.data.sources import VARIANTS, units, user_rows

    rows, work = [], []
    if folder is not None:
        folder = Path(folder)
        if manifest_path(folder).exists():
            rows = select(read_manifest(folder), splits=split, datasets=datasets)
        else:
            rows = [r for r in user_rows(folder) if split in (None, "all", r.split)]
        work = units(rows, folder)
    if music21 and (datasets is None or "music21" in datasets):
        from bridge.data.corpus import music21_rows

        corpus = [r for r in music21_rows() if split in (None, "all", r.split)]
        rows += corpus
        work += units(corpus, "")
    if not rows:
        raise EvalError(f"{folder}: no rows for split {split!r}"
                        + (f" and datasets {', '.join(datasets)}" if datasets else ""))
    out: list = []
    with Progress("reading", len(work), "files") as progress:
        for unit in work:
            records, _ = process_unit(unit, CleanConfig())
            if not derived:   # a file's own reading comes first in VARIANTS; the rest derive
                first: dict[str, int] = {}
                for r in records:
                    rank = VARIANTS.index(r.meta.variant)
                    first[r.meta.path] = min(first.get(r.meta.path, rank), rank)
                records = [r for r in records
                           if VARIANTS.index(r.meta.variant) == first[r.meta.path]]
            out += records
            progress.update()
    if not out:
        raise EvalError(f"{folder}: no usable music in split {split!r}")
    return out


def read_sequences(folder: str | Path | None, split: str | None,
                   datasets: tuple[str, ...] | None, derived: bool = False,
                   music21: bool = False) -> list[Sequence]:
    """:func:`read_records` as token sequences."""
    return [Sequence.of(r.tokens, r.meta)
            for r in read_records(folder, split, datasets, derived, music21)]


def training_sequences(train_cache: str | None, train_data: str | None) -> list[Sequence]:
    """The baselines' training data: a cache's train split, else built from a folder once
    and kept (:func:`baseline_cache`)."""
    from bridge.data.cache import TokenCache

    candidates = [train_cache] if train_cache else ["data/cache"]
    for path in candidates:
        if path and (Path(path) / "stats.json").exists():
            return load_split(TokenCache(path), "train")
    if train_cache:
        raise EvalError(f"--train-cache {train_cache}: not a token cache")
    data = Path(train_data or "../shared/data")
    if not data.exists():
        raise EvalError("the baselines need training data: pass --train-cache (a folder made "
                        "by `continuo data build`) or --train-data (a manifest folder)")
    return load_split(TokenCache(baseline_cache(data)), "train")


def baseline_cache(data: Path) -> Path:
    """A token cache of ``data`` built once, under the user's cache folder
    (``$XDG_CACHE_HOME/continuo``, else ``~/.cache/continuo``), keyed by the manifest's
    hash and the vocabulary: later runs on the same data reuse it."""
    import hashlib
    import os
    import shutil

    from bridge.data.build import BuildConfig, build
    from bridge.data.cache import CACHE_FORMAT, STATS_NAME
    from bridge.data.manifest import file_sha256, manifest_path
    from bridge.vocab import VOCAB_VERSION

    if not manifest_path(data).exists():
        raise EvalError(f"--train-data {data}: no MANIFEST.tsv to build the baselines from")
    key = hashlib.sha256(f"{file_sha256(manifest_path(data))}:{VOCAB_VERSION}:"
                         f"{CACHE_FORMAT}".encode()).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "continuo"
    out = root / "eval" / key
    if (out / STATS_NAME).exists():
        log.info("the baselines' training data: %s (built before)", out)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=out.parent))
    log.info("building the baselines' training data from %s into %s (once)", data, out)
    build(BuildConfig(out=building, data=data, progress=True))
    if (out / STATS_NAME).exists():          # another run finished first
        shutil.rmtree(building, ignore_errors=True)
    else:
        shutil.rmtree(out, ignore_errors=True)
        building.rename(out)
    return out


def same_data(train: list[Sequence], meta: dict) -> list[Sequence]:
    """The training sequences of the datasets the model itself was trained on (from its
    checkpoint), so the baseline learns from the same data."""
    datasets = set(meta.get("data", {}).get("datasets") or [])
    return [s for s in train if s.dataset in datasets] if datasets else train


def evaluate_generator(folder: Path, seqs: list[Sequence], train: list[Sequence],
                       order: int, device: torch.device) -> dict:
    """Bits per event of the model (unconditioned, and conditioned on the style) and of the
    n-gram over the same windows; per dataset, and per part: each part's events (its notes'
    tokens and its PART tokens) and the time events (those that move the cursor, and a
    piece's end), from the one unconditioned pass."""
    generator, meta = checkpoint.load(folder / "generator", "generator", device)
    train = same_data(train, meta)
    windows, datasets, parts = [], [], []
    names = sorted({s.dataset for s in seqs})
    for seq in seqs:
        for start, bar in window_starts(seq, WINDOW_TOKENS):
            tokens = seq.tokens[start:start + WINDOW_TOKENS].astype(np.int64)
            windows.append((tokens, seq.style, bar))
            datasets.append(np.full(len(tokens), names.index(seq.dataset)))
            parts.append(token_parts(tokens, part_before(seq, start)))
    if not windows:
        raise EvalError("no window of music to score")
    with Progress("generator", 2 * len(windows), "windows") as progress:
        model = np.concatenate(token_nll(generator, windows, device, False, progress))
        styled, n = window_nll(generator, windows, device, True, progress)
    log.info("the %d-gram baseline: fitting it on the training data", order)
    ngram = NGram(order).fit([s.tokens for s in train])
    base = -ngram.log_probs([w for w, _, _ in windows])
    model, base = model.astype(np.float64) / math.log(2), base / math.log(2)   # bits
    dataset, part = np.concatenate(datasets), np.concatenate(parts)
    assert len(model) == len(base) == n

    def figures(sel: np.ndarray) -> dict:
        return {"bits_per_event": round(float(model[sel].mean()), 4),
                "baseline_bits_per_event": round(float(base[sel].mean()), 4),
                "events": int(sel.sum())}

    bits, baseline = float(model.mean()), float(base.mean())
    roles = {**dict(enumerate(PARTS)), NO_PART: "time"}
    return {"bits_per_event": round(bits, 4), "baseline_bits_per_event": round(baseline, 4),
            "events": n, "windows": len(windows),
            "improvement": round(1 - bits / baseline, 4),
            "bits_per_event_styled": round(styled / n / math.log(2), 4),
            "baseline": f"interpolated Kneser-Ney {order}-gram (D=0.75) on "
                        f"{sum(len(s.tokens) for s in train):,} training tokens",
            "model": meta.get("name", str(folder)),
            "per_dataset": {ds: figures(dataset == d) for d, ds in enumerate(names)},
            "per_part": {name: figures(part == q) for q, name in roles.items()
                         if (part == q).any()}}
