"""Recent latencies: a bounded window of seconds, summarised in milliseconds for status.

The inference worker keeps one per measured path (request -> fed, request -> first note),
the MIDI note scheduler one for how late its note-ons left. ``summary_ms`` turns a window
into the status reply's keys: ``<name>_ms_p50``, ``_p90``, ``_p99``, ``_max`` and ``_n``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

import numpy as np

WINDOW = 4096    # most recent values kept
PERCENTILES = (50, 90, 99)
STATS = (*(f"p{q}" for q in PERCENTILES), "max", "n")     # the key suffixes, in order


def window() -> deque[float]:
    return deque(maxlen=WINDOW)


def summary_ms(name: str, seconds: Collection[float]) -> dict[str, float]:
    """Percentiles (p50, p90, p99), max and count of ``seconds``, in milliseconds; empty
    when there are none."""
    if not seconds:
        return {}
    v = np.fromiter(seconds, float, len(seconds)) * 1e3
    out = {f"{name}_ms_p{q}": round(float(x), 3)
           for q, x in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True)}
    return {**out, f"{name}_ms_max": round(float(v.max()), 3), f"{name}_ms_n": len(v)}
