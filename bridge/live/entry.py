"""A part asked for that the music lacks (a bass under a melody played alone): how it comes in.

The model keeps a texture as it is: after a melody alone it writes melody. A generation asked
for a part its context lacks (``entering``) brings it in as parts came in while the model
learnt (``data.arrange``: one part alone for some bars, then the others from a bar line):
its first note is the first event the generation may play on a bar line (any beat where none
comes before its end), after the notes placed at that instant; its PART token is favoured
all along (``ENTRY_BIAS``); and its notes stay under the parts above it (``ceilings``).

Measured on 30 melodies (20 Nottingham tunes, 10 WJD solos; ``continue --part``, 8 bars
heard, seeds 0-1): favoured only, a bass under a folk tune played through never came in (the
recall heads sure the tune begins again: no bass in 4 bars for 5 seeds of 6); made to enter
first at its instant, it took the tune's place and went on with the tune as a bass. Brought in
as above, the bass's median pitch is 50 (65.5 before), none of its notes above the melody's
lowest (44 % before); a harmony's median 61 (66.75), 15 % above (53 %). Accompanying live a
melody heard alone (``continuo eval --task accompaniment --alone``, 20 pieces a dataset,
seeds 0-1), score / chord-tone fit / pitch overlap with the true accompaniment: Nottingham
0.252 / 0.583 / 0.207 before, 0.273 / 0.589 / 0.274 now; POP909 0.528 / 0.420 / 0.465 before,
0.521 / 0.397 / 0.455 now. The chords a fourth under the melody instead of at its lowest
note: POP909 0.495 / 0.379 / 0.398 (pop's chords sit about the melody); no ceiling at all:
Nottingham 0.257 / 0.585 / 0.209, POP909 0.533 / 0.422 / 0.472, and a bass that wanders up
into the tune where the tune is sure of itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from bridge.model.sampling import Constraints
from bridge.vocab import (
    BASS,
    DRUMS,
    HARMONY,
    MELODY,
    N_PITCHES,
    PART_BASE,
    PITCH_BASE,
    REGISTER_TOP,
    VOCAB_SIZE,
    part_notes,
)

ENTRY_BIAS = 8.0      # logits on the PART token of a part asked for that has not entered
ENTRY_BARS = 2        # ... in this many bars of context
UNDER_MELODY = {HARMONY: 0, BASS: 12}   # a part brought in plays this far under the
#                                         melody's lowest note (see ``ceilings``)


@lru_cache(maxsize=64)
def part_bias(parts: frozenset[int]) -> np.ndarray:
    """Logits to add: ``ENTRY_BIAS`` on the PART tokens of ``parts``."""
    out = np.zeros(VOCAB_SIZE, dtype=np.float32)
    for q in parts:
        out[PART_BASE + q] = ENTRY_BIAS
    out.setflags(write=False)
    return out


@lru_cache(maxsize=128)
def at_most(pitch: int) -> np.ndarray:
    """Every token but the pitches above ``pitch``."""
    out = np.ones(VOCAB_SIZE, dtype=bool)
    out[PITCH_BASE + pitch + 1:PITCH_BASE + N_PITCHES] = False
    out.setflags(write=False)
    return out


@lru_cache(maxsize=16)
def part_tokens(parts: frozenset[int]) -> np.ndarray:
    """The PART tokens of ``parts``."""
    out = np.zeros(VOCAB_SIZE, dtype=bool)
    out[[PART_BASE + q for q in parts]] = True
    out.setflags(write=False)
    return out


def entering(asks: Sequence[frozenset[int]], sounding: dict[int, int]) -> frozenset[int]:
    """The parts to bring in: each part set asked for (a player's ``part``: the bass; the
    accompaniment, harmony or bass) none of whose parts sound in the context (``sounding``:
    each part in its last ``ENTRY_BARS`` bars and its lowest note, ``lowest_notes``). A set
    with a part that sounds is answered: an accompaniment of chords alone (a folk tune's) is
    not made to grow a bass, which would take the model's every other note (measured: the
    melody it imagines ahead of the player, played as a bass at pitch 77)."""
    return frozenset().union(*(ask for ask in asks if not ask & sounding.keys()))


def ceilings(parts: frozenset[int], sounding: dict[int, int]) -> tuple[tuple[int, int], ...]:
    """For each pitched part of ``parts``, the highest pitch it may play coming in under the
    parts above it (melody, then harmony, then bass) that sound in the context (``sounding``,
    as for :func:`entering`): no higher than their lowest note, and under the melody's by
    ``UNDER_MELODY`` (a harmony at most its lowest note, a bass an octave under it); none
    where no part above it sounds."""
    out = []
    for q in sorted(parts - {DRUMS}):
        limits = [low - (UNDER_MELODY[q] if p == MELODY else 0)
                  for p, low in sounding.items() if p < q]
        if limits:
            out.append((q, min(limits)))
    return tuple(out)


@lru_cache(maxsize=256)
def register_top(constraints: Constraints, part: int) -> int | None:
    """The highest pitch ``part`` plays (``REGISTER_TOP``; None: any), unless
    ``constraints`` leave it no pitch there (a range asked for above it wins).

    The model's basses lie at or below E4 (64) 99.8 % of the time in its training data, but
    one drawn from a context with no pitched part in it (a bass for a drummer) wandered up:
    live, 10 Groove takes, seeds 0-1, 11 % of a call's answers' notes above 64, up to 92;
    accompanying, up to 19 %."""
    top = REGISTER_TOP.get(part)
    if top is None:
        return None
    lo, hi = part_notes(part)
    return top if (constraints.mask()[lo:hi] & at_most(top)[lo:hi]).any() else None
