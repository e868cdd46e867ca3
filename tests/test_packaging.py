"""A normal (not editable) install carries every package, the shipped models and data files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bridge").rglob(
        "__init__.py") if "__pycache__" not in p.parts}
    assert found | {"bridge.shipped"} == listed


@pytest.mark.slow
def test_the_wheel_carries_models_and_data(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    names = set(zipfile.ZipFile(next(tmp_path.glob("continuo-*.whl"))).namelist())
    assert "bridge/m4l/max_objects.json" in names
    assert "bridge/shipped/configs/generator.toml" in names
    for kind in ("generator", "tagger"):
        if (ROOT / "models" / "default" / kind / "model.safetensors").exists():
            assert f"bridge/shipped/default/{kind}/model.safetensors" in names
            assert f"bridge/shipped/default/{kind}/model.json" in names
    # a normal (not editable) install finds the shipped model without the source tree
    if (ROOT / "models" / "default" / "generator" / "model.safetensors").exists():
        site = tmp_path / "site"
        out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                              "--target", str(site), str(next(tmp_path.glob("*.whl")))],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        probe = ("from bridge.model.checkpoint import load, resolve_model_dir; "
                 "d = resolve_model_dir(None); load(d / 'generator', 'generator'); print(d)")
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().startswith(str(site))
