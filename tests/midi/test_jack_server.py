"""``bridge.midi.jack.jack_server``: private servers named from a small pool."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bridge.midi import jack

pytestmark = pytest.mark.skipif(not jack.available(), reason="jackd is not installed")


def pid_of(name: str) -> int:
    """The jackd serving ``name`` (from /proc: the context manager keeps its process)."""
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args[0].endswith(b"jackd") and name.encode() in args:
            return int(proc.name)
    raise LookupError(name)


def test_names_come_from_a_pool_and_a_running_one_is_skipped():
    prefix = f"tpool{os.getpid()}"
    with jack.jack_server(prefix, period=64) as first, jack.jack_server(prefix) as second:
        assert (first.name, second.name) == (f"{prefix}-0", f"{prefix}-1")
        assert jack.running(first.name) and jack.running(second.name)
    assert not jack.running(first.name)


def test_a_server_that_died_leaves_its_name_to_the_next():
    """A killed jackd keeps its slot in JACK's registry until its name is used again."""
    prefix = f"tkill{os.getpid()}"
    with jack.jack_server(prefix, period=64) as dead:
        os.kill(pid_of(dead.name), signal.SIGKILL)
    with jack.jack_server(prefix, period=64) as again:
        assert again.name == dead.name and jack.running(again.name)
