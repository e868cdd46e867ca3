"""The engine's side of startup: the models loaded from their folder, and the device they
run on (``--device``). Like the engine, and unlike the daemon around it, it touches torch.

``auto`` weighs measured steps: the faster of CUDA and the CPU for one streaming session (a
performer's load); where the CPU wins that but CUDA wins a batch of ``MANY``, a log line
says so, for setups that run many sessions at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bridge.model import checkpoint
from bridge.vocab import BAR

log = logging.getLogger(__name__)

MANY = 8     # concurrent generations: the batch --device auto also weighs


class DeviceError(RuntimeError):
    """The models cannot be loaded or the device cannot be used; one line for the user."""


@dataclass
class Models:
    generator: Any
    tagger: Any | None
    meta: dict
    folder: Path

    @property
    def name(self) -> str:
        return self.meta.get("name", self.folder.name)


def load_models(model: str | None, threads: int) -> Models:
    """The generator and (when the folder has one) the tagger of a model folder, default
    the shipped one, on the CPU; torch set to ``threads`` threads."""
    torch.set_num_threads(threads)
    try:
        folder = checkpoint.resolve_model_dir(model or None)
        generator, meta = checkpoint.load(folder / "generator", "generator")
        tagger = checkpoint.load(folder / "tagger", "tagger")[0] \
            if (folder / "tagger" / checkpoint.META).exists() else None
    except checkpoint.CheckpointError as exc:
        raise DeviceError(str(exc)) from None
    return Models(generator, tagger, meta, Path(folder))


def pick_device(requested: str, step_time: Callable[[str, int], float]) -> str:
    """``cpu``, ``cuda``, or for ``auto`` the faster of the two (see the module's notes)."""
    if requested == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA device is available (try --device cpu)")
    if requested != "auto":
        return requested
    if not torch.cuda.is_available():
        return "cpu"
    cuda, cpu = step_time("cuda", 1), step_time("cpu", 1)
    log.info("device auto: one streaming step %.3f ms on cuda, %.3f ms on cpu",
             cuda * 1e3, cpu * 1e3)
    if cuda < cpu:
        return "cuda"
    cuda, cpu = step_time("cuda", MANY), step_time("cpu", MANY)
    if cuda < cpu:
        log.info("device auto: cpu, though with %d generations at once a step takes %.3f ms "
                 "on cuda and %.3f ms on cpu (--device cuda for many concurrent sessions)",
                 MANY, cuda * 1e3, cpu * 1e3)
    return "cpu"


def step_time(generator, device: str, batch: int, steps: int = 200) -> float:
    """Median seconds of one streaming step of ``batch`` sessions on ``device``, the
    logits' copy to the host included (for --device auto)."""
    from bridge.model import kernels
    from bridge.model.stream import Streamer, stack

    if device == "cpu":
        kernels.prepare(background=False)    # time the CPU step the daemon will settle on
    streamer = Streamer(generator.to(device), device)
    state = stack([streamer.start(0) for _ in range(batch)])
    tokens = [BAR] * batch
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        streamer.feed(state, tokens)
        state.logits.cpu()
        times.append(time.perf_counter() - t0)
    generator.to("cpu")
    return sorted(times)[len(times) // 2]


def choose_device(models: Models, requested: str) -> str:
    """:func:`pick_device` with the generator's own measured steps."""
    return pick_device(requested, lambda d, b: step_time(models.generator, d, b))
