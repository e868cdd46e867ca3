"""What a checkpoint says of itself (``model.json``), read without loading torch: the
daemon's device docs and the Max for Live build need the shipped model's style table, not
its weights. :mod:`bridge.model.checkpoint` loads the weights.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from bridge.vocab import VOCAB_VERSION

META = "model.json"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, damaged, or made for something else."""


def read_meta(folder: str | Path, versions: tuple[int, ...] = (VOCAB_VERSION,)
              ) -> dict[str, Any]:
    """A checkpoint's JSON; refused unless made for one of ``versions`` of the vocabulary
    (fine-tuning takes older ones whose tokens this vocabulary extends)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{folder}: no {META} (not a checkpoint folder)") from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{folder / META}: damaged JSON ({exc})") from None
    version = meta.get("vocab_version")
    if version not in versions:
        raise CheckpointError(
            f"{folder}: made for token vocabulary version {version}, but this Continuo speaks "
            f"version {VOCAB_VERSION}; retrain it or use a matching Continuo release")
    return meta


def default_model_dir() -> Path:
    """The shipped default model folder, in a source checkout or an installed package."""
    source = Path(__file__).resolve().parents[2] / "models" / "default"
    if (source / "generator" / META).exists():
        return source
    try:
        return Path(str(resources.files("bridge.shipped") / "default"))
    except ModuleNotFoundError:   # a source checkout without a model: say so, not crash
        return source


def shipped_config() -> dict[str, Any]:
    """The shipped generator's config: its style table, its style strengths..."""
    return read_meta(default_model_dir() / "generator")["config"]


def shipped_styles() -> tuple[str, ...]:
    """The shipped generator's style table, in its order (index 0 = no style): the one
    source of the device's Style menu and of the style list in docs/osc.md."""
    return tuple(shipped_config()["styles"])


def resolve_model_dir(path: str | Path | None) -> Path:
    folder = Path(path) if path else default_model_dir()
    if path and not folder.exists():
        raise CheckpointError(f"{folder}: no such model folder")
    if not (folder / "generator" / META).exists():
        if not path:
            hint = " (the shipped model is missing from this install)"
        elif (folder / META).exists():
            hint = f" (give the model folder that holds generator/: {folder.parent}?)"
        else:
            hint = " (a model folder holds generator/ and tagger/)"
        raise CheckpointError(f"{folder}: no generator checkpoint{hint}")
    return folder
