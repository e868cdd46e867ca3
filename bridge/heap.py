"""The C heap's settings for a process that runs for a whole set.

glibc's ``malloc`` serves a block of 128 kB or more from its own ``mmap`` at first, and
returns it to the system when it is freed. But each time such a block is freed, glibc
raises the size it serves that way to the block's (up to 32 MB), and lets a heap keep twice
that free at its top. The daemon's large blocks come and go all set long: a batch of
sessions' states is half a megabyte a row with recall, 8 MB for a choice's 16 draws, twice
that when the draws are guided toward a style. After the first few such batches they all
come from the heaps, where what is freed stays resident between smaller blocks still in
use. Over a 20-minute gig the daemon grew by 50 MB every 10 minutes (docs/latency.md).

:func:`pin` fixes both sizes for the life of the process, as glibc's ``mallopt`` allows:
blocks of ``MMAP_THRESHOLD`` or more always come from ``mmap`` and go back when freed (a
fresh block costs its page faults: about a millisecond for 8 MB, in the worker, once per
choice), and a heap gives back what is free at its top beyond ``TRIM_THRESHOLD``. Where the
C library is not glibc (macOS, Windows, musl) nothing is done; where the environment sets
glibc's own variables (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``), they win.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

MMAP_THRESHOLD = 4 << 20      # bytes: blocks this large or larger come from mmap, always
TRIM_THRESHOLD = 8 << 20      # bytes: a heap keeps at most this much free at its top

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # glibc's malloc.h
_SETTINGS = (("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
             ("MALLOC_TRIM_THRESHOLD_", _M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def glibc() -> ctypes.CDLL | None:
    """The process's C library if it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version                  # noqa: B018 (glibc has it, musl not)
    except (OSError, AttributeError):
        return None
    return libc


def pin() -> list[str]:
    """Fix glibc's mmap and trim thresholds (see the module); the settings made, by the
    name of glibc's variable for each (none where the C library is not glibc)."""
    libc = glibc()
    if libc is None:
        return []
    made = []
    for variable, option, value in _SETTINGS:
        if variable in os.environ:
            continue
        if libc.mallopt(option, value) == 1:
            made.append(f"{variable[:-1]}={value}")
        else:
            log.warning("glibc refused %s=%d: memory may grow over a long set", variable, value)
    log.debug("C heap: %s", ", ".join(made) or "as the environment sets it")
    return made
