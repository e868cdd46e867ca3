"""Progress lines of long commands."""

from __future__ import annotations

import io

from bridge.progress import Progress, clock_text


def test_progress_lines_on_a_fake_clock():
    now = [0.0]
    stream = io.StringIO()
    with Progress("reading", 10, "files", every=5, stream=stream, clock=lambda: now[0]) as p:
        for _ in range(10):
            now[0] += 1.5
            p.update()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "reading: 4/10 files (40 %), 0:06 elapsed, ~0:09 left"
    assert lines[-1] == "reading: 10/10 files (100 %), 0:15 elapsed"
    assert len(lines) == 3
    last = io.StringIO()                          # the last update wrote the last line:
    with Progress("x", 2, stream=last, every=5, clock=lambda: now[0]) as p:   # not again
        now[0] += 6
        p.update(2)
    assert last.getvalue().splitlines() == ["x: 2/2 (100 %), 0:06 elapsed"]
    quiet = io.StringIO()
    with Progress("fast", 3, stream=quiet, clock=lambda: 0.0) as p:
        p.update(3)
    assert quiet.getvalue() == ""


def test_clock_text():
    assert clock_text(59.6) == "1:00" and clock_text(3725) == "1:02:05"
