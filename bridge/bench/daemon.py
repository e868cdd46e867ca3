"""The daemon as the benchmark (and the tests) run it: ``python -m bridge run`` in a
subprocess, timed from launch to its ``ready:`` line, its memory read from /proc.

``ready_s`` is what a user waits: interpreter start, imports, model load, device choice,
warm-up, sockets and ports. The daemon's own ``startup X s`` (from the start of its startup
coroutine, after the imports) is parsed from the same line.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from bridge.bench.stats import proc_status_mb

READY = " ready: "
STARTUP = re.compile(r"startup ([0-9.]+) s")
DEVICE = re.compile(r" on (cpu|cuda\S*), warm-up")
FATAL = "Fatal Python error"      # faulthandler's first line (bridge.server enables it)


class BenchError(RuntimeError):
    """Something the benchmark needs did not work; the message says what."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """``continuo run`` with ``flags``; log lines collected as they come."""

    def __init__(self, model_dir: str | None, flags: list[str],
                 env: dict[str, str] | None = None, device: str = "auto") -> None:
        self.port, self.reply_port = free_udp_port(), free_udp_port()
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.ready_at = 0.0
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1",
               "CONTINUO_CONFIG": os.devnull}
        model = ["--model", str(model_dir)] if model_dir else []     # None: the shipped one
        args = [sys.executable, "-m", "bridge", "run", *model,
                "--osc-port", str(self.port), "--reply-port", str(self.reply_port),
                "--device", device, *flags]
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if READY in line and not self.ready.is_set():
                self.ready_at = time.perf_counter()
                self.ready.set()
            self.lines.append(line.rstrip())

    def wait_ready(self, timeout: float = 120.0) -> None:
        if not self.ready.wait(timeout):
            code = self.stop()
            raise BenchError(f"the daemon did not become ready in {timeout:g} s (exit status "
                             f"{code}):\n" + self.log(20))

    @property
    def ready_s(self) -> float:
        return round(self.ready_at - self.launched, 3)

    def ready_line(self) -> str:
        return next((line for line in self.lines if READY in line), "")

    @property
    def startup_s(self) -> float | None:
        m = STARTUP.search(self.ready_line())
        return float(m.group(1)) if m else None

    @property
    def device(self) -> str:
        m = DEVICE.search(self.ready_line())
        return m.group(1) if m else "?"

    def rss_mb(self, key: str = "VmRSS") -> float | None:
        return proc_status_mb(self.proc.pid, key)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def log(self, last: int = 0) -> str:
        """Its output; ``last`` lines of it, or from a native crash's report on (its first
        line says what killed it, its threads follow)."""
        lines = self.lines
        if last:
            crash = next((i for i, line in enumerate(lines) if line.startswith(FATAL)), None)
            start = len(lines) - last if crash is None else min(crash, len(lines) - last)
            lines = lines[max(0, start):]
        return "\n".join(lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal it (SIGTERM by default) and wait; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        return code

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
