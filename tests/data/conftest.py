"""Fixtures of the data-pipeline tests: the shipped tiny data folder, and the shared data
(tests that need it skip when it is absent)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"
REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    """$CONTINUO_SHARED_DATA, else ../shared/data beside the repository, if it exists."""
    env = os.environ.get("CONTINUO_SHARED_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if (path / "MANIFEST.tsv").is_file() else None


@pytest.fixture(scope="session")
def fx() -> ModuleType:
    """make_fixtures, whose numbers the fixture files were written from (loaded by path:
    the tests run with --import-mode=importlib)."""
    path = Path(__file__).with_name("make_fixtures.py")
    spec = importlib.util.spec_from_file_location("continuo_data_make_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fixture_data() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("shared data not available (set CONTINUO_SHARED_DATA)")
    return path
