"""Small measuring helpers: percentiles, the machine, a process's memory, the load, and a
collector that keeps out of the timings.

A latency summary ``P`` is ``{"p50", "p90", "p99", "max", "n"}`` in milliseconds (``n`` is
the number of samples). Percentiles interpolate linearly (numpy's default).
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from bridge.timing.latency import PERCENTILES  # the daemon's status reports the same ones

P_KEYS = (*(f"p{q}" for q in PERCENTILES), "max")


def summary(values_ms: Iterable[float]) -> dict[str, float] | None:
    """``P`` of a list of milliseconds (None when there are none)."""
    v = np.asarray(list(values_ms), dtype=float)
    if v.size == 0:
        return None
    out = {f"p{q}": _r(x)
           for q, x in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True)}
    return {**out, "max": _r(v.max()), "n": int(v.size)}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection in the measuring process while a part is timed.

    The bench holds torch, numpy, the model and its figures: a full collection there took
    18-102 ms (three in one OSC run), and one that lands in a trial is a latency the daemon
    never had (the likely source of 50-100 ms maxima seen once in ~1000 trials). So: collect
    and freeze what there is, time with the collector off (a part makes little garbage), then
    turn it back on.
    """
    gc.collect()
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _r(x: float) -> float:
    return round(float(x), 4)


def time_calls(fn: Callable[[], object], n: int, warmup: int = 0) -> list[float]:
    """Milliseconds of each of ``n`` calls of ``fn`` (after ``warmup`` untimed calls)."""
    for _ in range(warmup):
        fn()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) * 1e3)
    return out


def machine() -> str:
    """CPU model, cores, OS and Python, e.g. 'AMD EPYC, 2 cores (Linux 6.1, x86_64)'."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    flags = _cpu_flags()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else ""
    cores = os.cpu_count() or 1
    return (f"{name}, {cores} core{'s' if cores != 1 else ''}{', ' + simd if simd else ''} "
            f"({platform.system()} {platform.release()}, {platform.machine()}, "
            f"Python {platform.python_version()})")


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def proc_status_mb(pid: int, key: str = "VmRSS") -> float | None:
    """A memory figure of process ``pid`` from /proc (Linux), in MB; None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)     # kB -> MB (MiB)
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def busy_processes(min_cpu: float = 20.0, exclude: Iterable[int] = ()) -> list[str]:
    """Other processes using at least ``min_cpu`` % of a core right now (Linux): what else
    loads the machine while the benchmark runs. Sampled over 0.5 s from /proc."""
    skip = {os.getpid(), *exclude}

    def ticks() -> dict[int, tuple[int, str]]:
        out = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or int(d.name) in skip:
                continue
            try:
                stat = (d / "stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                out[int(d.name)] = (int(fields[11]) + int(fields[12]), name)
            except (OSError, ValueError, IndexError):
                continue
        return out

    if not Path("/proc/self/stat").exists():
        return []
    hz = os.sysconf("SC_CLK_TCK")
    before = ticks()
    time.sleep(0.5)
    after = ticks()
    busy = []
    for pid, (t, name) in after.items():
        if pid in before:
            cpu = (t - before[pid][0]) / hz / 0.5 * 100
            if cpu >= min_cpu:
                busy.append(f"{name}[{pid}] {cpu:.0f}%")
    return busy
