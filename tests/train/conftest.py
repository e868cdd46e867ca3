"""Tiny training configs over the fixture cache (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

OPTIM = """[optim]
batch = 4
epochs = {epochs}
steps_per_epoch = 3
warmup = 2
patience = {patience}
lr = {lr}
"""

TINY = {
    "generator": """
kind = "generator"
out = "{out}"
threads = 1
[data]
cache = "{cache}"
window = 48
val_windows = 16
[model]
n_embd = 16
n_hidden = 16
""" + OPTIM,
    "tagger": """
kind = "tagger"
out = "{out}"
threads = 1
[data]
cache = "{cache}"
val_windows = 16
max_bars = 4
[model]
n_embd = 8
n_conv = 8
n_hidden = 8
""" + OPTIM,
}


@pytest.fixture
def tiny_config(tmp_path: Path, fixture_cache: Path):
    def make(kind: str, epochs: int = 2, patience: int = 5, lr: float = 2e-3) -> Path:
        path = tmp_path / f"{kind}.toml"
        path.write_text(TINY[kind].format(out=tmp_path / f"run-{kind}", cache=fixture_cache,
                                          epochs=epochs, patience=patience, lr=lr))
        return path
    return make
