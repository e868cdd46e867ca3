"""``continuo eval``: the shipped (or any) models beside simple baselines, on any data folder.

The evaluation data is any folder laid out like ``../shared/data`` (a ``MANIFEST.tsv``;
``split`` picks rows) or a plain folder of MIDI files (labels from folder names). It is read,
cleaned and tokenised exactly as ``continuo data build`` does, keeping the files as they are
(no derived track variants unless asked).

- Generator: bits per event over consecutive windows of up to 256 tokens, each starting on a
  bar and scored from BOS, unconditioned (the performer's style is not given to it), beside an
  interpolated Kneser-Ney n-gram over the same tokens, trained on the same training data.
- Tagger: genre accuracy and sub-style macro-F1 over consecutive 4-bar windows, beside
  logistic regression on pitch-class and interval histograms trained on the same data.

The baselines are trained on the training split of a token cache (``--train-cache``,
default ``data/cache``) or, when there is none, on the train rows of ``--train-data``, limited
to the datasets the model's checkpoint says it was trained on. Tagger windows of a genre the
model does not know are left out of ``genre_accuracy`` and counted as errors in
``genre_accuracy_all_windows``.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from bridge.evaluate.baseline_tagger import LogisticRegression, features
from bridge.evaluate.metrics import accuracy, confusion, macro_f1
from bridge.evaluate.ngram import NGram
from bridge.evaluate.performance import by_performance
from bridge.model import checkpoint
from bridge.progress import Progress
from bridge.train.tasks import evenly, tag_logits, window_nll
from bridge.train.windows import Sequence, bar_windows, eval_windows, load_split, tag_targets
from bridge.vocab import genre_of

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
    generator, meta = checkpoint.load(folder / "generator", "generator", device)
    train = same_data(train, meta)
    windows = list(eval_windows(seqs, WINDOW_TOKENS))
    nats, n = window_nll(generator, windows, device, styled=False)
    styled, _ = window_nll(generator, windows, device, styled=True)
    ngram = NGram(order).fit([s.tokens for s in train])
    base_bits, base_n = ngram.bits([w for w, _, _ in windows])
    assert base_n == n
    bits, baseline = nats / n / math.log(2), base_bits / n
    per_dataset = {}
    for ds in sorted({s.dataset for s in seqs}):
        sub = list(eval_windows([s for s in seqs if s.dataset == ds], WINDOW_TOKENS))
        a, m = window_nll(generator, sub, device, styled=False)
        b, _ = ngram.bits([w for w, _, _ in sub])
        per_dataset[ds] = {"bits_per_event": round(a / m / math.log(2), 4),
                           "baseline_bits_per_event": round(b / m, 4), "events": m}
    return {"bits_per_event": round(bits, 4), "baseline_bits_per_event": round(baseline, 4),
            "events": n, "windows": len(windows),
            "improvement": round(1 - bits / baseline, 4),
            "bits_per_event_styled": round(styled / n / math.log(2), 4),
            "baseline": f"interpolated Kneser-Ney {order}-gram (D=0.75) on "
                        f"{sum(len(s.tokens) for s in train):,} training tokens",
            "model": meta.get("name", str(folder)), "per_dataset": per_dataset}


def _windows(seqs: list[Sequence], bars: int, genres: tuple[str, ...]):
    out, unknown = [], Counter()
    for s in seqs:
        if genre_of(s.style) not in genres:
            unknown[s.style or "(no label)"] += 1
            continue
        out += [(w, s.style, s.variant) for w in bar_windows(s, bars)]
    return out, unknown


def evaluate_tagger(folder: Path, seqs: list[Sequence], train: list[Sequence], bars: int,
                    device: torch.device, out: Path | None) -> dict:
    tagger, meta = checkpoint.load(folder / "tagger", "tagger", device)
    train = same_data(train, meta)
    cfg = tagger.config
    windows, unknown = _windows(seqs, bars, cfg.genres)
    unknown_windows = sum(len(list(bar_windows(s, bars))) for s in seqs
                          if genre_of(s.style) not in cfg.genres)
    if not windows:
        raise EvalError("no window of the data has a genre the tagger knows")
    targets = np.array([tag_targets(st, cfg.genres, cfg.substyles) for _, st, _ in windows])
    g_true, s_true = targets[:, 0], targets[:, 1]
    g_log, s_log = tag_logits(tagger, [w for w, _, _ in windows], device)
    g_pred, s_pred = g_log.argmax(1), tagger.reported_substyles(g_log, s_log)
    has_sub = s_true >= 0
    # the baseline: trained on 4-bar windows of the training data, spread over it
    train_windows, _ = _windows(train, bars, cfg.genres)
    train_windows = evenly(train_windows, BASELINE_WINDOWS)
    x_train = np.stack([features(w) for w, _, _ in train_windows])
    t_train = np.array([tag_targets(st, cfg.genres, cfg.substyles)
                        for _, st, _ in train_windows])
    x = np.stack([features(w) for w, _, _ in windows])
    base_g = LogisticRegression(len(cfg.genres)).fit(x_train, t_train[:, 0]).predict(x)
    sub_train = t_train[:, 1] >= 0
    base_s = LogisticRegression(len(cfg.substyles)).fit(
        x_train[sub_train], t_train[sub_train, 1]).predict(x)
    result = {
        "genre_accuracy": round(accuracy(g_true, g_pred), 4),
        # windows whose genre the model was not trained on, counted as errors
        "genre_accuracy_all_windows": round(
            float((g_true == g_pred).sum()) / (len(windows) + unknown_windows), 4),
        "unknown_genre_windows": unknown_windows,
        "substyle_macro_f1": round(macro_f1(s_true[has_sub], s_pred[has_sub]), 4),
        "baseline_genre_accuracy": round(accuracy(g_true, base_g), 4),
        "baseline_substyle_macro_f1": round(macro_f1(s_true[has_sub], base_s[has_sub]), 4),
        "windows": len(windows), "substyle_windows": int(has_sub.sum()), "bars": bars,
        # by texture (--variants all adds the single parts the build derives from wholes)
        "genre_accuracy_by_texture": {
            texture: {"model": round(accuracy(g_true[sel], g_pred[sel]), 4),
                      "baseline": round(accuracy(g_true[sel], base_g[sel]), 4),
                      "windows": int(sel.sum())}
            for texture, sel in _textures(windows).items() if sel.any()},
        "genre_accuracy_per_genre": {
            cfg.genres[g]: round(accuracy(g_true[g_true == g], g_pred[g_true == g]), 4)
            for g in sorted(set(g_true.tolist()))},
        "baseline": "logistic regression on pitch-class and interval histograms, "
                    f"{len(train_windows)} training windows",
        "unknown_genre_sequences": dict(unknown),
        "genre_accuracy_by_performance": by_performance(tagger, seqs, bars, device),
    }
    if out is not None:
        write_confusions(out, cfg, g_true, g_pred, s_true[has_sub], s_pred[has_sub])
    return result


def _textures(windows) -> dict[str, np.ndarray]:
    """Windows by texture: the whole (``full``), the melody alone, an accompaniment alone
    (POP909's piano, Nottingham's chords)."""
    variants = np.array([variant for _, _, variant in windows])
    return {"whole": variants == "full", "melody": variants == "melody",
            "accompaniment": np.isin(variants, ["piano", "chords"])}


def write_confusions(out: Path, cfg, g_true, g_pred, s_true, s_pred) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subs = [*cfg.substyles, "(none)"]            # the top genre has no sub-styles (-1)
    s_pred = np.where(s_pred < 0, len(cfg.substyles), s_pred)
    mats = {"genre": (cfg.genres, confusion(g_true, g_pred, len(cfg.genres))),
            "substyle": (subs, confusion(s_true, s_pred, len(subs)))}
    for name, (labels, m) in mats.items():
        (out / f"confusion_{name}.json").write_text(json.dumps(
            {"labels": list(labels), "rows_true_columns_predicted": m.tolist()}, indent=1))
        _plot_confusion(out / f"confusion_{name}.png", labels, m, name)


def _plot_confusion(path: Path, labels, m: np.ndarray, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keep = np.flatnonzero(m.sum(0) + m.sum(1))           # classes that occur
    m = m[np.ix_(keep, keep)]
    names = [labels[i] for i in keep]
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    size = 3 + 0.35 * len(names)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true", title=f"tagger: {title} (row-normalised)")
    for i in range(len(names)):
        for j in range(len(names)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
