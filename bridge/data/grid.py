"""Bar grids (:class:`bridge.vocab.Meter`) from annotated downbeats."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from bridge.vocab import Meter


def meter_from_downbeats(downbeats: Sequence[int], last_bar: int,
                         first_bar: int | None = None) -> Meter:
    """The grid whose bars start exactly at ``downbeats`` (ticks, increasing).

    Each bar lasts until the next downbeat, so an irregular bar (a 2/4 bar inside 4/4, or a
    downbeat annotation that skips) becomes a bar of its own length and the bars after it
    keep their phase. ``last_bar`` is the length of the bars from the last downbeat on,
    ``first_bar`` (default: the first bar's length) that of the bars before the first one.
    """
    ticks = sorted(set(downbeats))
    if not ticks:
        return Meter([(0, last_bar)])
    lengths = [b - a for a, b in pairwise(ticks)] + [last_bar]
    if first_bar is None or first_bar == lengths[0]:
        meter = Meter([(ticks[0], lengths[0])])
    else:
        meter = Meter([(ticks[0] - first_bar, first_bar), (ticks[0], lengths[0])])
    current = lengths[0]
    for tick, length in zip(ticks[1:], lengths[1:], strict=True):
        if length != current:
            meter.set(tick, length)
            current = length
    return meter


def shifted(meter: Meter, ticks: int) -> Meter:
    """The same grid moved ``ticks`` later."""
    out = Meter()
    out.changes = [(t + ticks, length) for t, length in meter.changes]
    return out
