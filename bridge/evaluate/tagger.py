"""``continuo eval`` of the tagger: genre accuracy and sub-style macro-F1 over consecutive
windows of the data, beside logistic regression on pitch-class and interval histograms
trained on the same training data; accuracy by texture, by genre and (``performance``) with
the windows played another way; confusion matrices.

Windows of a genre the tagger does not know are left out of ``genre_accuracy`` and counted
as errors in ``genre_accuracy_all_windows``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from bridge.evaluate.baseline_tagger import LogisticRegression, features
from bridge.evaluate.metrics import accuracy, confusion, macro_f1
from bridge.evaluate.performance import by_performance, heard
from bridge.evaluate.run import BASELINE_WINDOWS, EvalError, same_data
from bridge.model import checkpoint
from bridge.train.tasks import evenly, tag_logits
from bridge.train.windows import Sequence, bar_windows, tag_targets
from bridge.vocab import genre_of


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
    g_alone, s_log = tag_logits(tagger, [w for w, _, _ in windows], device)
    generator = _generator(folder, tagger)
    g_log = heard(tagger, generator, g_alone, [w for w, _, _ in windows],
                  "the generator's ear")
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
        "genre_accuracy_by_performance": by_performance(tagger, seqs, bars, device,
                                                        generator),
        # what the generator's ear adds (bridge.model.ear): the same windows, tagger alone
        "generator_weight": tagger.config.generator_weight if generator is not None else 0.0,
        "tagger_alone": _alone(tagger, windows, g_true, g_alone, s_log, s_true, has_sub),
    }
    if out is not None:
        write_confusions(out, cfg, g_true, g_pred, s_true[has_sub], s_pred[has_sub])
    return result


def _generator(folder: Path, tagger):
    """The generator beside the tagger, where the tagger counts what it hears."""
    if not tagger.config.generator_weight or not (folder / "generator").is_dir():
        return None
    return checkpoint.load(folder / "generator", "generator", "cpu")[0]


def _alone(tagger, windows, g_true, g_log, s_log, s_true, has_sub) -> dict:
    """The tagger's own figures, without the generator's ear."""
    g_pred = g_log.argmax(1)
    s_pred = tagger.reported_substyles(g_log, s_log)
    return {"genre_accuracy": round(accuracy(g_true, g_pred), 4),
            "substyle_macro_f1": round(macro_f1(s_true[has_sub], s_pred[has_sub]), 4),
            "genre_accuracy_by_texture": {
                texture: round(accuracy(g_true[sel], g_pred[sel]), 4)
                for texture, sel in _textures(windows).items() if sel.any()}}


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
