"""Checkpoints that describe themselves: ``model.safetensors`` + ``model.json``.

The JSON holds the model kind, its config, the vocabulary version, the data it was trained
on (hashes), its metrics and how it was trained. Loading never unpickles, and a checkpoint
made for another vocabulary version is refused with a clear message.

A model folder (``--model DIR``) holds ``generator/`` and ``tagger/`` checkpoints. The
default one ships inside the package (``bridge/shipped/default``, from ``models/`` in the
source tree) so a normal install finds it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.meta import (  # noqa: F401  (the checkpoint API, read from one place)
    META,
    CheckpointError,
    default_model_dir,
    read_meta,
    resolve_model_dir,
    shipped_styles,
)
from bridge.model.tagger import Tagger, TaggerConfig
from bridge.vocab import PART_BASE, VOCAB_SIZE, VOCAB_VERSION

WEIGHTS = "model.safetensors"
# every vocabulary version's size: each one's tokens are the first ones of the next
VOCAB_SIZES = {1: PART_BASE, VOCAB_VERSION: VOCAB_SIZE}   # 1: everything before the PARTs
KINDS = {"generator": (Generator, GeneratorConfig), "tagger": (Tagger, TaggerConfig)}


def save(folder: str | Path, model: Generator | Tagger, **info: Any) -> Path:
    """Write ``model`` to ``folder`` with ``info`` (metrics, data, training...) in its JSON."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = "generator" if isinstance(model, Generator) else "tagger"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"kind": kind, "vocab_version": str(VOCAB_VERSION)})
    umask = os.umask(0)                 # (safetensors writes its file for its owner alone)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)           # as any file this process writes
    tmp.replace(folder / WEIGHTS)
    meta = {
        "kind": kind,
        "vocab_version": VOCAB_VERSION,
        "config": model.config.to_dict(),
        "params": sum(p.numel() for p in model.parameters()),
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **info,
    }
    _write_meta(folder, meta)
    return folder


def _write_meta(folder: Path, meta: dict) -> None:
    (folder / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def update_config(folder: str | Path, kind: str, **changes: Any) -> dict:
    """Change fields of a checkpoint's config in its JSON (the weights stay as they are),
    after checking that they are fields of its kind's config; returns the new config."""
    folder = Path(folder)
    meta = read_meta(folder)
    if meta.get("kind") != kind:
        raise CheckpointError(f"{folder}: holds a {meta.get('kind')}, not a {kind}")
    config = {**meta["config"], **changes}
    KINDS[kind][1].from_dict(config)                     # refuse what the config lacks
    meta["config"] = config
    _write_meta(folder, meta)
    return config


def load(folder: str | Path, kind: str, device: str | torch.device = "cpu",
         versions: tuple[int, ...] = (VOCAB_VERSION,)):
    """Load a generator or tagger; returns ``(model, meta)`` with the model in eval mode."""
    folder = Path(folder)
    meta = read_meta(folder, versions)
    if meta.get("kind") != kind:
        raise CheckpointError(f"{folder}: holds a {meta.get('kind')}, not a {kind}")
    cls, cfg_cls = KINDS[kind]
    try:
        config = meta["config"]
        if meta["vocab_version"] != VOCAB_VERSION:   # an older vocabulary, for fine-tuning
            config = {**config, "vocab_size": VOCAB_SIZES[meta["vocab_version"]]}
        model = cls(cfg_cls.from_dict(config))
        try:
            state = load_file(str(folder / WEIGHTS), device="cpu")
        except SafetensorError as exc:
            raise CheckpointError(f"{folder / WEIGHTS}: damaged ({exc})") from None
        model.load_state_dict(state)
    except FileNotFoundError:
        raise CheckpointError(f"{folder}: no {WEIGHTS}") from None
    except (KeyError, TypeError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"{folder}: weights do not match the config ({exc})") from None
    return model.to(device).eval(), meta


