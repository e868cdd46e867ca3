"""The C heap pinned for a long set: a large block freed and asked for again still comes
from mmap (glibc would otherwise serve it from a heap, where it stays resident)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bridge.heap import MMAP_THRESHOLD, glibc

pytestmark = pytest.mark.skipif(glibc() is None or not hasattr(glibc(), "mallinfo2"),
                                reason="not glibc 2.33 or later")

# a fresh interpreter: a block of 1.5 thresholds freed, then asked for again; how many bytes
# glibc then holds in mmapped blocks (mallinfo2's hblkhd), and what pin() made
PROBE = f"""
import ctypes, json, sys
from bridge import heap
made = heap.pin() if sys.argv[1] == "pin" else []
libc = heap.glibc()
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = {MMAP_THRESHOLD} * 3 // 2
libc.free(libc.malloc(size))
block = libc.malloc(size)
print(json.dumps({{"mmapped": libc.mallinfo2().hblkhd, "made": made}}))
"""


def _probe(mode: str, **env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    return json.loads(done.stdout)


def test_a_large_block_freed_goes_back_to_the_system_once_pinned():
    size = MMAP_THRESHOLD * 3 // 2
    pinned, unpinned = _probe("pin"), _probe("none")
    assert pinned["mmapped"] >= size
    assert unpinned["mmapped"] < size           # glibc's own way: the heap serves it
    assert [m.split("=")[0] for m in pinned["made"]] == ["MALLOC_MMAP_THRESHOLD",
                                                         "MALLOC_TRIM_THRESHOLD"]


def test_glibc_variables_in_the_environment_win():
    probe = _probe("pin", MALLOC_MMAP_THRESHOLD_=str(16 << 20))
    assert [m.split("=")[0] for m in probe["made"]] == ["MALLOC_TRIM_THRESHOLD"]
    assert probe["mmapped"] < MMAP_THRESHOLD    # 16 MB asked for: a 6 MB block is the heap's
