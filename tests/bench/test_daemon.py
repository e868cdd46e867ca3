"""The daemon as a subprocess, as tests and the benchmark run it: what its log shows."""

from __future__ import annotations

from bridge.bench.daemon import Daemon


def _logged(lines: list[str]) -> Daemon:
    daemon = Daemon.__new__(Daemon)          # its output only: no process started
    daemon.lines = lines
    return daemon


def test_the_log_tail_starts_at_a_native_crash_report():
    crash = ["Fatal Python error: Segmentation fault", "", "Thread 0x1 (most recent call first):",
             *(f'  File "x.py", line {i} in f' for i in range(30)), "Extension modules: x"]
    daemon = _logged(["started", "MIDI output on jack", *crash])
    assert daemon.log(20).splitlines() == crash        # what killed it, not only its threads
    assert _logged([str(i) for i in range(50)]).log(3).splitlines() == ["47", "48", "49"]
