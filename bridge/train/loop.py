"""The training loop: Adam, warmup + cosine LR, gradient clipping, validation every epoch,
early stopping, resumable checkpoints, loss curves, and DistributedDataParallel.

Run under ``torchrun --nproc_per_node N`` for several processes (gloo on CPU, nccl on CUDA):
each rank draws its own windows, validation is sharded and summed, rank 0 writes.

Outputs in ``config.out``: ``best/`` and ``last/`` checkpoints, ``train_state.*`` (optimizer
and progress, for ``--resume``), ``history.json`` and ``curves.png``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from bridge.model import checkpoint
from bridge.train.config import TrainConfig, TrainConfigError
from bridge.train.finetune import keep_init
from bridge.train.plots import plot_history
from bridge.train.tasks import make_task

log = logging.getLogger(__name__)


WARMUP_SHARE = 0.05         # with a time budget, the warm-up lasts this share of it at most


def progress_at(step: int, seconds: float, config: TrainConfig) -> float:
    """How far through training (0..1): by steps, or by time when a budget is set and
    time runs out first."""
    o = config.optim
    by_steps = (step - o.warmup) / max(1, o.epochs * o.steps_per_epoch - o.warmup)
    by_time = seconds / (60 * o.max_minutes) if o.max_minutes > 0 else 0.0
    return min(1.0, max(by_steps, by_time, 0.0))


def warmed(step: int, seconds: float, config: TrainConfig) -> float:
    """How far through the warm-up (0..1): by steps, or by time when a budget is set and
    ``WARMUP_SHARE`` of it is spent first (a short fine-tune on a CPU, at some 40 steps a
    minute, spent the whole of a minute's budget warming up)."""
    o = config.optim
    by_steps = (step + 1) / o.warmup if o.warmup > 0 else 1.0
    by_time = seconds / (60 * o.max_minutes * WARMUP_SHARE) if o.max_minutes > 0 else 0.0
    return min(1.0, max(by_steps, by_time))


def lr_at(step: int, config: TrainConfig, seconds: float = 0.0) -> float:
    o = config.optim
    warm = warmed(step, seconds, config)
    if warm < 1.0:
        return o.lr * warm
    if o.schedule == "constant":
        return o.lr
    t = progress_at(step, seconds, config)
    return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1 + math.cos(math.pi * t))


class Distributed:
    """Rank, world size and collectives; a plain single process when not under torchrun."""

    def __init__(self, device: torch.device) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, *values: float) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def agree(self, value: float) -> float:
        """Rank 0's value (a decision, a clock reading), for everyone."""
        if self.world == 1:
            return value
        t = torch.tensor([float(value)], dtype=torch.float64)
        dist.broadcast(t, 0)
        return type(value)(t.item())

    def close(self) -> None:
        """Every rank done with its collectives (a barrier) before any tears the process
        group down: a rank that goes while another's last transfer is still in flight may
        abort (seen once in CI, a rank's "terminate called without an active exception"
        after its checkpoint was written; not reproduced in 33 runs since)."""
        if self.world > 1 and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def _save_state(out: Path, opt: torch.optim.Optimizer, params: list, progress: dict) -> None:
    tensors = {}
    for i, p in enumerate(params):
        for key, value in opt.state.get(p, {}).items():
            if torch.is_tensor(value):
                tensors[f"{i}.{key}"] = value.detach().cpu().contiguous()
    save_file(tensors, str(out / "train_state.safetensors"))
    (out / "train_state.json").write_text(json.dumps(progress, indent=2) + "\n")


def _param_groups(model: torch.nn.Module, scales: dict[str, float]) -> list[dict]:
    """The trainable parameters in groups by learning-rate scale (``optim.lr_scale``: by
    the name of the part they are under), in the model's order within each."""
    unknown = set(scales) - {name.split(".")[0] for name, _ in model.named_parameters()}
    if unknown:
        raise TrainConfigError(f"optim.lr_scale names no part of the model: "
                               f"{', '.join(sorted(unknown))}")
    groups: dict[float, list] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault(float(scales.get(name.split(".")[0], 1.0)), []).append(p)
    return [{"params": ps, "scale": scale} for scale, ps in groups.items()]


def _load_state(out: Path, opt: torch.optim.Optimizer, params: list) -> dict:
    tensors = load_file(str(out / "train_state.safetensors"))
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        i, key = name.split(".", 1)
        state.setdefault(int(i), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
    return json.loads((out / "train_state.json").read_text())


def _keep_init(config: TrainConfig, task, ddp, best: Path) -> None:
    """The best checkpoint averaged with the one training started from
    (``optim.keep_init``; ``optim.keep_from`` names another), validated again: its metrics
    are the averaged weights'; the trained weights' stay beside them (``metrics_trained``)."""
    ddp.sum(0.0)                             # every rank: the best checkpoint is on disk
    model, meta = checkpoint.load(best, config.kind)
    start = config.optim.keep_from or config.init
    keep_init(model, start, config.kind, config.optim.keep_init)
    model.to(task.device)
    metrics = task.validate(model, ddp)
    if ddp.main:
        info = {k: v for k, v in meta.items()
                if k not in ("kind", "vocab_version", "config", "params", "saved")}
        checkpoint.save(best, model, **{**info, "metrics": metrics,
                                        "metrics_trained": meta.get("metrics", {}),
                                        "kept_init": {"checkpoint": str(start),
                                                      "share": config.optim.keep_init}})
        log.info("best checkpoint averaged with %s (%g of its weights): %s", start,
                 config.optim.keep_init, ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                                                   if isinstance(v, float)))


def train(config: TrainConfig, *, resume: bool = False, device: str = "auto",
          progress: bool = True) -> Path:
    """Train per ``config``; returns the folder of the best checkpoint."""
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                       else ("cpu" if device == "auto" else device))
    ddp = Distributed(dev)
    if dev.type == "cuda" and ddp.world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if config.threads:
        torch.set_num_threads(config.threads)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    task = make_task(config, dev, rank=ddp.rank, world=ddp.world)
    model = task.model.to(dev)
    wrapped = torch.nn.parallel.DistributedDataParallel(model) if ddp.world > 1 else model
    only = config.optim.train_only
    for name, p in model.named_parameters():
        if only and name.split(".")[0] != only:
            p.requires_grad_(False)          # frozen: autograd does not even track it
    groups = _param_groups(model, config.optim.lr_scale)
    params = [p for group in groups for p in group["params"]]   # the optimizer's order
    if not params:
        raise TrainConfigError(f"optim.train_only = {only!r} names no parameters of the model")
    opt = torch.optim.Adam(groups, lr=config.optim.lr, weight_decay=config.optim.weight_decay)

    state: dict[str, Any] = {"epoch": 0, "step": 0, "best": None, "bad_epochs": 0,
                             "seconds": 0.0, "history": []}
    if resume and (out / "train_state.json").exists():
        resumed, _ = checkpoint.load(out / "last", config.kind)
        model.load_state_dict(resumed.state_dict())
        state = {"seconds": 0.0, **_load_state(out, opt, params)}
        log.info("resumed from %s at epoch %d (step %d)", out, state["epoch"], state["step"])
    if ddp.main:
        log.info("training %s: %s parameters on %s x%d, %d steps/epoch of batch %d",
                 config.kind, f"{model.num_params():,}" if hasattr(model, "num_params")
                 else sum(p.numel() for p in params), dev, ddp.world,
                 config.optim.steps_per_epoch, config.optim.batch)

    budget = config.optim.max_minutes > 0
    started = time.monotonic() - state["seconds"]     # a resumed run keeps its spent time

    def clock() -> float:   # training seconds so far, rank 0's reading (the LR depends on it)
        return ddp.agree(time.monotonic() - started) if budget else 0.0

    out_of_time = interrupted = False
    while state["epoch"] < config.optim.epochs and not (out_of_time or interrupted):
        epoch = state["epoch"]
        wrapped.train()
        batches = task.train_batches(epoch)
        t0, total, count = time.time(), 0.0, 0
        bar = tqdm(range(config.optim.steps_per_epoch), desc=f"epoch {epoch + 1}",
                   disable=None if (progress and ddp.main) else True, leave=False,
                   dynamic_ncols=True)   # None: only on a terminal
        try:
            for _ in bar:
                seconds = clock()
                if budget and progress_at(state["step"], seconds, config) >= 1.0:
                    out_of_time = True
                    break
                for group in opt.param_groups:
                    group["lr"] = lr_at(state["step"], config, seconds) * group["scale"]
                batch = [t.to(dev, non_blocking=True) for t in next(batches)]
                loss = task.loss(wrapped, batch)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, config.optim.clip)
                opt.step()
                state["step"] += 1
                total, count = total + loss.item(), count + 1
                bar.set_postfix(loss=f"{total / count:.3f}")
        except KeyboardInterrupt:       # Ctrl-C: the epoch so far is validated and kept
            if ddp.world > 1:           # (ranks stopped at other steps cannot agree)
                raise
            interrupted = True
            log.warning("interrupted at step %d: the steps of this epoch are validated and "
                        "kept, and training ends (--resume trains on)", state["step"])
        train_loss = ddp.sum(total, count)
        state["seconds"] = clock()
        wrapped.eval()
        metrics = task.validate(model, ddp)
        record = {"epoch": epoch + 1, "step": state["step"],
                  "lr": lr_at(state["step"], config, state["seconds"]),
                  "train_loss": train_loss[0] / max(train_loss[1], 1),
                  "seconds": round(time.time() - t0, 1), **metrics}
        state["history"].append(record)
        state["epoch"] = epoch + 1
        score = task.select(metrics)
        improved = state["best"] is None or score < state["best"]
        if ddp.main:
            log.info("epoch %d: %s", epoch + 1, ", ".join(
                f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" if isinstance(v, float)
                else f"{k} {v}"
                for k, v in record.items() if k != "epoch"))
            info = {"metrics": metrics, "epoch": epoch + 1, "training": config.to_dict(),
                    "data": task.data_info()}
            checkpoint.save(out / "last", model, **info)
            if improved:
                checkpoint.save(out / "best", model, **info)
        out_of_time = out_of_time or (
            budget and progress_at(state["step"], state["seconds"], config) >= 1.0)
        if improved:
            state["best"], state["bad_epochs"] = score, 0
        else:
            state["bad_epochs"] += 1
        if ddp.main:
            _save_state(out, opt, params, state)
            (out / "history.json").write_text(json.dumps(state["history"], indent=2) + "\n")
            plot_history(state["history"], out / "curves.png", config.kind)
        if ddp.agree(state["bad_epochs"] >= config.optim.patience):
            if ddp.main:
                log.info("early stop: no improvement for %d epochs", state["bad_epochs"])
            break
    if out_of_time and ddp.main:
        log.info("time budget of %g minutes spent after %d steps", config.optim.max_minutes,
                 state["step"])
    if (config.init or config.optim.keep_from) and config.optim.keep_init:
        _keep_init(config, task, ddp, out / "best")
    del wrapped                     # DDP's reducer holds the process group: gone before it
    ddp.close()
    return out / "best"
