"""What the loop trains: the generator and the tagger tasks (model, batches, loss, validation)."""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bridge.evaluate.metrics import accuracy, macro_f1
from bridge.model.generator import Generator, heads_nll, target_nll
from bridge.model.tagger import Tagger
from bridge.train.config import TrainConfig, TrainConfigError
from bridge.train.finetune import base_model, transfer
from bridge.train.windows import (
    GeneratorBatches,
    Sequence,
    TaggerBatches,
    bar_windows,
    eval_windows,
    hold_out,
    load_split,
    pad_batch,
    tag_targets,
)
from bridge.vocab import BOS, genre_of

log = logging.getLogger(__name__)

EVAL_BATCH = 64


def evenly(items: list, n: int) -> list:
    """At most ``n`` items spread evenly over ``items`` (deterministic)."""
    if len(items) <= n:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]


@torch.no_grad()
def window_nll(model: Generator, windows: list[tuple[np.ndarray, str, int]],
               device: torch.device, styled: bool, progress: Any = None) -> tuple[float, int]:
    """Summed NLL (nats) and token count of ``(tokens, style, bar)`` windows (as
    :func:`eval_windows` cuts them), each scored from BOS: unconditioned (style 0) or
    conditioned on its style tag. ``progress`` (a :class:`bridge.progress.Progress`)
    counts the windows scored."""
    total, count = 0.0, 0
    for logp, y in _scored(model, windows, device, styled, progress):
        nll, n = target_nll(logp, y)
        total += nll.item()
        count += int(n)
    return total, count


@torch.no_grad()
def token_nll(model: Generator, windows: list[tuple[np.ndarray, str, int]],
              device: torch.device, styled: bool, progress: Any = None) -> list[np.ndarray]:
    """Each window's NLL (nats) token by token, as :func:`window_nll` scores them."""
    out = []
    for logp, y in _scored(model, windows, device, styled, progress):
        nll = (-logp).cpu().numpy()
        out += [row[:n] for row, n in zip(nll, (y != 0).sum(1).tolist(), strict=True)]
    return out


def _scored(model: Generator, windows: list[tuple[np.ndarray, str, int]],
            device: torch.device, styled: bool, progress: Any = None
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of windows scored from BOS: each token's log-probability ``[B, T]`` and the
    tokens (0: padding)."""
    for i in range(0, len(windows), EVAL_BATCH):
        chunk = windows[i:i + EVAL_BATCH]
        y = pad_batch([w for w, _, _ in chunk]).to(device)               # [B, T]
        x = torch.cat([torch.full_like(y[:, :1], BOS), y[:, :-1]], dim=1)
        x = x.masked_fill(y == 0, 0)
        st = torch.tensor([model.style_index(s) if styled else 0 for _, s, _ in chunk],
                          device=device)
        bars = torch.tensor([b for _, _, b in chunk], device=device)
        logp, _ = model(x, st, targets=y, bars=bars)                     # [B, T]
        yield logp, y
        if progress is not None:
            progress.update(len(chunk))


@torch.no_grad()
def tag_logits(model: Tagger, windows: list[np.ndarray],
               device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Genre and sub-style logits of every window, in order."""
    genre_logits, sub_logits = [], []
    for i in range(0, len(windows), EVAL_BATCH):
        g, s = model(pad_batch(windows[i:i + EVAL_BATCH]).to(device))
        genre_logits.append(g.cpu())
        sub_logits.append(s.cpu())
    return torch.cat(genre_logits).numpy(), torch.cat(sub_logits).numpy()


def _seed(*parts: int) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


class _Task:
    def __init__(self, config: TrainConfig, device: torch.device, rank: int, world: int):
        from bridge.data.cache import TokenCache  # the data package is only needed to train

        self.config, self.device, self.rank, self.world = config, device, rank, world
        self.cache = TokenCache(config.data.cache)
        names = set(config.data.datasets) or None
        self.train = load_split(self.cache, "train", names)
        self.val = load_split(self.cache, "val", names) if "val" in self.cache.splits else []
        if self.train and not self.val:
            self.train, self.val = hold_out(self.cache, names)
            log.warning("%s has no val sequences: %d of the train sequences (whole groups) "
                        "are held out for validation", config.data.cache, len(self.val))
        if not self.train or not self.val:
            held = sorted({m.dataset for m in self.cache.sequences("train")})
            raise TrainConfigError(
                f"{config.data.cache}: nothing to train on for datasets "
                f"{', '.join(sorted(names or [])) or '(all)'} (the cache holds "
                f"{', '.join(held) or 'nothing'}, and training needs at least two pieces; "
                "--set 'data.datasets={}' uses every dataset)")

    def select(self, metrics: dict[str, float]) -> float:
        """The number early stopping and the best checkpoint go by (lower is better)."""
        return metrics["val_loss"]

    def data_info(self) -> dict[str, Any]:
        stats = self.cache.stats
        return {"cache": str(Path(self.config.data.cache)),
                "datasets": sorted({s.dataset for s in self.train}),
                "train_sequences": len(self.train), "val_sequences": len(self.val),
                "sources": stats.get("sources", {}),
                "tokens_sha256": {split: info.get("token_sha256")
                                  for split, info in stats.get("splits", {}).items()}}


def substyle_shares(seqs: list[Sequence], substyles, bars: int) -> list[float]:
    """Each sub-style's share of the ``bars``-bar windows of ``seqs`` (a shorter piece
    counts as one; every sub-style one more, so none is ruled out)."""
    counts = Counter({tag: 1 for tag in substyles})
    for s in seqs:
        if s.style in counts:
            counts[s.style] += max(1, len(s.bars) // bars)
    total = sum(counts.values())
    return [round(counts[tag] / total, 8) for tag in substyles]


def data_styles(seqs: list[Sequence]) -> tuple[list[str], list[str]]:
    """(genres, genre/sub tags) present in ``seqs``, sorted: a model learns only these."""
    tags = {s.style for s in seqs if s.style}
    genres = sorted({genre_of(t) for t in tags})
    return genres, sorted(t for t in tags if "/" in t)


class GeneratorTask(_Task):
    def __init__(self, config: TrainConfig, device: torch.device, rank: int, world: int):
        super().__init__(config, device, rank, world)
        model = dict(config.model)
        genres, subs = data_styles(self.train)
        if config.init:                  # the checkpoint's styles, then the data's new ones
            base, model = base_model(config.init, "generator", {"styles": [*genres, *subs]},
                                     model)
        elif "styles" not in model:      # condition only on styles the data teaches
            model["styles"] = ["", *genres, *subs]
        self.model = Generator(type(config.model_config()).from_dict(model))
        if config.init:
            transfer(base, self.model, "generator")
        windows = list(eval_windows(self.val, config.data.window))
        self.val_windows = evenly(windows, config.data.val_windows)[rank::world]

    def train_batches(self, epoch: int) -> Iterator:
        d = self.config.data
        return iter(GeneratorBatches(
            self.train, self.model.config.styles, window=d.window, batch=self.config.optim.batch,
            weights=d.datasets or None, transpose=d.transpose, velocity_shift=d.velocity_shift,
            style_dropout=d.style_dropout, genre_only=d.genre_only, arrange=d.arrange,
            phrase_start=d.phrase_start, phrase_bars=d.phrase_bars, switch=d.switch,
            mix=d.mix, seed=_seed(self.config.seed, epoch, self.rank)))

    def loss(self, model: torch.nn.Module, batch: list[torch.Tensor]) -> torch.Tensor:
        x, y, styles, bars = batch
        aux = self.config.optim.recall_aux if self.model.recall is not None else 0.0
        out, _ = model(x, styles, targets=y, heads=aux > 0, bars=bars)
        logp, copy = out if aux > 0 else (out, None)                     # [B, T], [B, K, T]
        nll, n = target_nll(logp, y)
        loss = nll / n.clamp_min(1)
        return loss + aux * heads_nll(copy) if copy is not None else loss

    def validate(self, model: Generator, ddp) -> dict[str, float]:
        plain, n = ddp.sum(*window_nll(model, self.val_windows, self.device, styled=False))
        styled, _ = ddp.sum(*window_nll(model, self.val_windows, self.device, styled=True))
        return {"val_loss": plain / n, "val_bits": plain / n / math.log(2),
                "val_bits_styled": styled / n / math.log(2), "val_events": int(n)}


class TaggerTask(_Task):
    def __init__(self, config: TrainConfig, device: torch.device, rank: int, world: int):
        super().__init__(config, device, rank, world)
        model = dict(config.model)
        genres, subs = data_styles(self.train)
        if config.init:
            base, model = base_model(config.init, "tagger", {"genres": genres, "substyles": subs})
        model.setdefault("genres", genres)       # predict only what the data teaches
        model.setdefault("substyles", subs)
        model["substyle_shares"] = substyle_shares(self.train, model["substyles"],
                                                   config.data.eval_bars)
        self.model = Tagger(type(config.model_config()).from_dict(model))
        if config.init:
            transfer(base, self.model, "tagger")
        cfg = self.model.config
        windows: list[tuple[np.ndarray, Sequence]] = [
            (w, s) for s in self.val if genre_of(s.style) in cfg.genres
            for w in bar_windows(s, config.data.eval_bars)]
        self.val_windows = evenly(windows, config.data.val_windows)[rank::world]

    def train_batches(self, epoch: int) -> Iterator:
        d, cfg = self.config.data, self.model.config
        return iter(TaggerBatches(
            self.train, cfg.genres, cfg.substyles, batch=self.config.optim.batch,
            min_bars=d.min_bars, max_bars=d.max_bars, max_tokens=d.max_tokens,
            transpose=d.transpose,
            velocity_shift=d.velocity_shift, perform=d.perform, melodies=d.melodies,
            seed=_seed(self.config.seed, epoch, self.rank)))

    def loss(self, model: torch.nn.Module, batch: list[torch.Tensor]) -> torch.Tensor:
        x, genre, sub = batch
        g, s = model(x)
        return F.cross_entropy(g, genre) + F.cross_entropy(s, sub, ignore_index=-1)

    def validate(self, model: Tagger, ddp) -> dict[str, float]:
        cfg = model.config
        targets = [tag_targets(s.style, cfg.genres, cfg.substyles) for _, s in self.val_windows]
        g_true = np.array([t[0] for t in targets])
        s_true = np.array([t[1] for t in targets])
        g_log, s_log = tag_logits(model, [w for w, _ in self.val_windows], self.device)
        loss = F.cross_entropy(torch.from_numpy(g_log), torch.from_numpy(g_true),
                               reduction="sum").item()
        has_sub = s_true >= 0
        if has_sub.any():
            loss += F.cross_entropy(torch.from_numpy(s_log[has_sub]),
                                    torch.from_numpy(s_true[has_sub]), reduction="sum").item()
        # accuracy and F1 need every window: gather predictions through sums per class pair
        # (a tag's sub-style: -1, none, is the last column)
        g_pred, s_pred = g_log.argmax(1), model.reported_substyles(g_log, s_log)
        n_g, n_s = len(cfg.genres), len(cfg.substyles)
        g_conf = np.zeros((n_g, n_g))
        np.add.at(g_conf, (g_true, g_pred), 1)
        s_conf = np.zeros((n_s, n_s + 1))
        np.add.at(s_conf, (s_true[has_sub], s_pred[has_sub]), 1)
        totals = ddp.sum(loss, len(g_true), *g_conf.ravel(), *s_conf.ravel())
        loss, n = totals[0], totals[1]
        g_conf = np.array(totals[2:2 + n_g * n_g]).reshape(n_g, n_g)
        s_conf = np.array(totals[2 + n_g * n_g:]).reshape(n_s, n_s + 1)
        g_t, g_p = _expand(g_conf)
        s_t, s_p = _expand(s_conf)
        return {"val_loss": loss / max(n, 1), "val_genre_acc": accuracy(g_t, g_p),
                "val_sub_f1": macro_f1(s_t, s_p), "val_windows": int(n)}

    def select(self, metrics: dict[str, float]) -> float:
        # the targets are accuracy and macro-F1, not the loss: the loss creeps up as the
        # model grows confident while rare sub-styles are still being learnt
        return -(metrics["val_genre_acc"] + metrics["val_sub_f1"]) / 2


def _expand(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A confusion matrix back to (true, predicted) label arrays."""
    idx = np.argwhere(conf > 0)
    counts = conf[conf > 0].astype(int)
    return np.repeat(idx[:, 0], counts), np.repeat(idx[:, 1], counts)


def make_task(config: TrainConfig, device: torch.device, rank: int = 0, world: int = 1):
    return (GeneratorTask if config.kind == "generator" else TaggerTask)(
        config, device, rank, world)
