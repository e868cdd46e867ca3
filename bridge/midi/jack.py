"""A private JACK server for tests, the benchmark and CI: real MIDI ports with no sound card.

``jackd --no-realtime --sync -d dummy`` under a name of its own (so no other client on the
machine attaches), waited for with ``jack_wait``, stopped by its PID, and only its own files
removed from /dev/shm. ``--sync`` matters: without it, bursts of messages reach an rtmidi
callback corrupted (see ../shared/notes/midi-ports.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 10
NAMES = 8          # as many as JACK's server registry has slots


class JackError(RuntimeError):
    """jackd is missing or did not start; the message says which, with its log."""


@dataclass(frozen=True)
class Jack:
    name: str
    rate: int
    period: int

    @property
    def period_ms(self) -> float:
        return round(self.period / self.rate * 1e3, 3)

    def env(self) -> dict[str, str]:
        return client_env(self.name)


def client_env(name: str) -> dict[str, str]:
    """What a client needs to reach the server ``name`` and no other."""
    return {"JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}


@contextlib.contextmanager
def using(name: str) -> Iterator[None]:
    """This process's own clients reach the server ``name``; the environment is restored
    afterwards."""
    env = client_env(name)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def available() -> bool:
    return bool(shutil.which("jackd") and shutil.which("jack_wait"))


def running(name: str) -> bool:
    """Does a JACK server by this name answer?"""
    if not shutil.which("jack_wait"):
        return False
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    try:
        out = subprocess.run(["jack_wait", "--check", "--server", name], env=env,
                             capture_output=True, text=True, timeout=START_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "running"


@contextlib.contextmanager
def jack_server(prefix: str, period: int = 256, rate: int = 48000) -> Iterator[Jack]:
    """Run a private dummy-driver JACK server for the duration of the ``with`` block, named
    ``<prefix>-<n>`` for the first ``n`` whose server is not running.

    Names come from a small pool because JACK's server registry (8 slots in
    /dev/shm/jack-shm-registry) frees the slot of a server that did not stop cleanly only
    when a server of the same name starts: with a new name per run, a few crashed runs
    would leave no slot for any server on the machine."""
    if not available():
        raise JackError("jackd is not installed (apt-get install jackd2)")
    taken = []
    for n in range(NAMES):
        name = f"{prefix}-{n}"
        if running(name):
            taken.append(name)
            continue
        try:
            proc = start_server(name, period, rate)
        except _NameTaken:
            taken.append(name)
            continue
        try:
            yield Jack(name, rate, period)
        finally:
            stop_server(proc)
            remove_shm(name)
        return
    raise JackError(f"every server name is taken ({', '.join(taken)})")


class _NameTaken(JackError):
    """A live process holds this name in JACK's registry."""


def start_server(name: str, period: int = 256, rate: int = 48000) -> subprocess.Popen:
    """``jackd`` under ``name``, waited for (see :func:`jack_server`); stop it with
    :func:`stop_server`."""
    env = {**os.environ, **client_env(name)}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(["jackd", "--no-realtime", "--sync", "--name", name, "-d",
                                 "dummy", "-r", str(rate), "-p", str(period), "-C", "0",
                                 "-P", "0"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            subprocess.run(["jack_wait", "--wait", "--server", name], env=env, check=True,
                           capture_output=True, timeout=START_TIMEOUT_S)
            return proc
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            failure = str(exc)
            stop_server(proc)
            log.seek(0)
            text = log.read().decode(errors="replace")
    if "already active" in text and "Too many" not in text:
        raise _NameTaken(name)
    hint = (" (JACK's server registry is full of servers that did not stop cleanly: with "
            "no jackd running, remove /dev/shm/jack-shm-registry)") if "Too many" in text else ""
    raise JackError(f"jackd did not start ({failure}){hint}: {text[-500:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()                            # this PID only
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def remove_shm(name: str) -> None:
    """Only this server's files: jack_sem.<uid>_<name>_* and jack_<name>_*."""
    shm = Path("/dev/shm")
    if shm.is_dir():
        for pattern in (f"jack_sem.{os.getuid()}_{name}_*", f"jack_{name}_*"):
            for path in shm.glob(pattern):
                path.unlink(missing_ok=True)
