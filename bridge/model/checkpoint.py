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
import time
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.tagger import Tagger, TaggerConfig
from bridge.vocab import VOCAB_VERSION

WEIGHTS, META = "model.safetensors", "model.json"
KINDS = {"generator": (Generator, GeneratorConfig), "tagger": (Tagger, TaggerConfig)}


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, damaged, or made for something else."""


def save(folder: str | Path, model: Generator | Tagger, **info: Any) -> Path:
    """Write ``model`` to ``folder`` with ``info`` (metrics, data, training...) in its JSON."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = "generator" if isinstance(model, Generator) else "tagger"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"kind": kind, "vocab_version": str(VOCAB_VERSION)})
    tmp.replace(folder / WEIGHTS)
    meta = {
        "kind": kind,
        "vocab_version": VOCAB_VERSION,
        "config": model.config.to_dict(),
        "params": sum(p.numel() for p in model.parameters()),
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **info,
    }
    (folder / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return folder


def read_meta(folder: str | Path) -> dict[str, Any]:
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{folder}: no {META} (not a checkpoint folder)") from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{folder / META}: damaged JSON ({exc})") from None
    version = meta.get("vocab_version")
    if version != VOCAB_VERSION:
        raise CheckpointError(
            f"{folder}: made for token vocabulary version {version}, but this Continuo speaks "
            f"version {VOCAB_VERSION}; retrain it or use a matching Continuo release")
    return meta


def load(folder: str | Path, kind: str, device: str | torch.device = "cpu"):
    """Load a generator or tagger; returns ``(model, meta)`` with the model in eval mode."""
    folder = Path(folder)
    meta = read_meta(folder)
    if meta.get("kind") != kind:
        raise CheckpointError(f"{folder}: holds a {meta.get('kind')}, not a {kind}")
    cls, cfg_cls = KINDS[kind]
    try:
        model = cls(cfg_cls.from_dict(meta["config"]))
        state = load_file(str(folder / WEIGHTS), device="cpu")
        model.load_state_dict(state)
    except FileNotFoundError:
        raise CheckpointError(f"{folder}: no {WEIGHTS}") from None
    except (KeyError, TypeError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"{folder}: weights do not match the config ({exc})") from None
    return model.to(device).eval(), meta


def default_model_dir() -> Path:
    """The shipped default model folder, in a source checkout or an installed package."""
    source = Path(__file__).resolve().parents[2] / "models" / "default"
    if (source / "generator" / META).exists():
        return source
    try:
        return Path(str(resources.files("bridge.shipped") / "default"))
    except ModuleNotFoundError:   # a source checkout without a model: say so, not crash
        return source


def shipped_styles() -> tuple[str, ...]:
    """The shipped generator's style table, in its order (index 0 = no style): the one
    source of the device's Style menu and of the style list in docs/osc.md."""
    return tuple(read_meta(default_model_dir() / "generator")["config"]["styles"])


def resolve_model_dir(path: str | Path | None) -> Path:
    folder = Path(path) if path else default_model_dir()
    if not (folder / "generator" / META).exists():
        hint = "" if path else " (the shipped model is missing from this install)"
        raise CheckpointError(f"{folder}: no generator checkpoint{hint}")
    return folder
