"""Test session fixtures: a private JACK server for the tests marked ``jack``.

``jack_server`` (session scope) yields the server's name. It reuses the server named by
``JACK_DEFAULT_SERVER`` when one by that name answers (CI's ``.ci/run`` may start one);
otherwise it starts ``jackd --no-realtime --sync --name continuo-test-<n> -d dummy`` (the
first free name of a few, see ``bridge.midi.jack.jack_server``) and waits for it with
``jack_wait``. For the session it sets ``JACK_DEFAULT_SERVER`` and
``JACK_NO_START_SERVER=1`` so no client reaches another server. At the end it stops the
jackd it started (by PID) and removes that server's files from /dev/shm. Without ``jackd``
on the PATH the ``jack`` tests are skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.bench.daemon import Daemon
from bridge.midi import jack


@pytest.fixture(scope="session")
def jack_server() -> Iterator[str]:
    existing = os.environ.get("JACK_DEFAULT_SERVER")
    with contextlib.ExitStack() as stack:
        if existing and jack.running(existing):
            name = existing
        else:
            if not jack.available():
                pytest.skip("jackd is not installed (apt-get install jackd2)")
            try:
                name = stack.enter_context(jack.jack_server("continuo-test")).name
            except jack.JackError as exc:
                pytest.fail(str(exc))
        with jack.using(name):
            yield name


@pytest.fixture(autouse=True)
def _jack_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Tests marked ``jack`` get the server without asking for it."""
    if request.node.get_closest_marker("jack") is not None:
        request.getfixturevalue("jack_server")


# -- a tiny model and the daemon as a subprocess ----------------------------------------------

def tiny_models(seed: int = 0):
    """A random generator and tagger small enough to build in a test (plumbing only)."""
    import torch

    from bridge.model.generator import Generator, GeneratorConfig
    from bridge.model.tagger import Tagger, TaggerConfig

    torch.manual_seed(seed)
    return (Generator(GeneratorConfig(n_embd=32, n_hidden=32)).eval(),
            Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8)).eval())


@pytest.fixture
def models():
    return tiny_models()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bridge.model import checkpoint

    folder = tmp_path_factory.mktemp("tiny-model")
    generator, tagger = tiny_models()
    checkpoint.save(folder / "generator", generator, name="tiny")
    checkpoint.save(folder / "tagger", tagger, name="tiny")
    return folder


@pytest.fixture
def daemon(tiny_model_dir: Path) -> Iterator:
    """Start ``continuo run`` on the tiny model: ``daemon(*flags) -> (process, osc_port)``."""
    started: list[Daemon] = []

    def start(*flags: str) -> tuple[Daemon, int]:
        proc = Daemon(str(tiny_model_dir), list(flags), device="cpu")
        started.append(proc)
        proc.wait_ready(60)
        return proc, proc.port

    yield start
    for proc in started:
        proc.stop()


# -- the shipped fixture data, built into a token cache once per session ----------------------

FIXTURE_DATA = Path(__file__).resolve().parent / "fixtures" / "data"


@pytest.fixture(scope="session")
def fixture_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bridge.data.build import BuildConfig, build

    out = tmp_path_factory.mktemp("cache")
    build(BuildConfig(out=out, data=FIXTURE_DATA, workers=1, progress=False))
    return out


@pytest.fixture(scope="session")
def fixture_data() -> Path:
    """The shipped fixture folder, laid out like ../shared/data (MANIFEST.tsv and files)."""
    return FIXTURE_DATA
