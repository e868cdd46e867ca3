"""Test session fixtures: a private JACK server for the tests marked ``jack``.

``jack_server`` (session scope) yields the server's name. It reuses the server named by
``JACK_DEFAULT_SERVER`` when one by that name answers (CI's ``.ci/run`` may start one);
otherwise it starts ``jackd --no-realtime --sync --name continuo-test-<pid> -d dummy`` and
waits for it with ``jack_wait``. For the session it sets ``JACK_DEFAULT_SERVER`` and
``JACK_NO_START_SERVER=1`` so no client reaches another server. At the end it stops the
jackd it started (by PID) and removes that server's files from /dev/shm. Without ``jackd``
on the PATH the ``jack`` tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

JACKD_ARGS = ("--no-realtime", "--sync")
DUMMY_DRIVER = ("-d", "dummy", "-r", "48000", "-p", "256", "-C", "0", "-P", "0")
START_TIMEOUT_S = 10


def _server_answers(name: str) -> bool:
    if not shutil.which("jack_wait"):
        return False
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    try:
        out = subprocess.run(["jack_wait", "--check", "--server", name], env=env,
                             capture_output=True, text=True, timeout=START_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "running"


def _remove_shm(name: str) -> None:
    """Only this server's files: jack_sem.<uid>_<name>_* and jack_<name>_*."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return
    patterns = (f"jack_sem.{os.getuid()}_{name}_*", f"jack_{name}_*")
    for pattern in patterns:
        for path in shm.glob(pattern):
            path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def jack_server() -> Iterator[str]:
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    existing = os.environ.get("JACK_DEFAULT_SERVER")
    process: subprocess.Popen[bytes] | None = None
    if existing and _server_answers(existing):
        name = existing
    else:
        if not shutil.which("jackd") or not shutil.which("jack_wait"):
            pytest.skip("jackd is not installed (apt-get install jackd2)")
        name = f"continuo-test-{os.getpid()}"
        process = _start_jackd(name)
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        yield name
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if process is not None:
            _stop(process, name)


def _start_jackd(name: str) -> subprocess.Popen[bytes]:
    """Start a private jackd and wait until it answers (pytest.fail with its log if not)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(["jackd", *JACKD_ARGS, "--name", name, *DUMMY_DRIVER],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        env = {**os.environ, "JACK_NO_START_SERVER": "1"}
        try:
            subprocess.run(["jack_wait", "--wait", "--server", name], env=env, check=True,
                           capture_output=True, timeout=START_TIMEOUT_S)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            _stop(process, name)
            log.seek(0)
            pytest.fail(f"jackd did not start ({exc}): {log.read().decode(errors='replace')}")
    return process


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is None:
        process.terminate()                    # SIGTERM to this PID only
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    _remove_shm(name)


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


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaemonProcess:
    """``continuo run`` in a subprocess; its log lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        import sys
        import threading

        self.lines: list[str] = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen([sys.executable, "-m", "bridge", "run", *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if " ready: " in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60.0) -> None:
        if not self.ready.wait(timeout):
            self.stop()
            pytest.fail("daemon not ready:\n" + "\n".join(self.lines))

    def stop(self, sig: int | None = None, timeout: float = 10.0) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        return code

    def log(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def daemon(tiny_model_dir: Path) -> Iterator:
    """Start ``continuo run`` on the tiny model: ``daemon(*flags) -> (process, osc_port)``."""
    started: list[DaemonProcess] = []

    def start(*flags: str) -> tuple[DaemonProcess, int]:
        port = free_udp_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "CONTINUO_CONFIG": os.devnull}
        proc = DaemonProcess(["--model", str(tiny_model_dir), "--osc-port", str(port),
                              *flags], env)
        started.append(proc)
        proc.wait_ready()
        return proc, port

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
