"""A window's parts: which part its first notes are in, and one part alone for a while.

Every note of an encoded piece is in the part its last PART token names (``NO_PART`` before
any); a window cut from the middle of a piece must say the part of its first notes, as a
live context that has heard every PART token knows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bridge.vocab import (
    K_BAR,
    K_BEAT,
    K_DRUM,
    K_DUR,
    K_PART,
    K_PITCH,
    K_SUB,
    K_VEL,
    KIND,
    NO_PART,
    PART_BASE,
)

if TYPE_CHECKING:
    from bridge.train.windows import Sequence


def part_before(seq: Sequence, start: int) -> int:
    """The part of the notes at token ``start`` (the last PART before it; ``NO_PART``)."""
    idx = np.flatnonzero(KIND[seq.tokens[:start]] == K_PART)
    return int(seq.tokens[idx[-1]]) - PART_BASE if len(idx) else NO_PART


def token_parts(tokens: np.ndarray, before: int = NO_PART) -> np.ndarray:
    """Each token's part, ``[T]``: a PART token's and its notes' tokens (pitch or drum key,
    velocity, duration) are that part's; time tokens and the rest ``NO_PART``. ``before``:
    the part in effect where ``tokens`` begin."""
    kinds = KIND[tokens]
    said = np.maximum.accumulate(np.where(kinds == K_PART, np.arange(len(tokens)), -1))
    part = np.where(said >= 0, tokens[np.maximum(said, 0)].astype(np.int64) - PART_BASE,
                    before)
    return np.where(np.isin(kinds, (K_PART, K_PITCH, K_DRUM, K_VEL, K_DUR)), part, NO_PART)


def _firsts(tokens: np.ndarray) -> tuple[int, int]:
    """Where ``tokens``' first note and first PART are (-1: none)."""
    kinds = KIND[tokens]
    notes = np.flatnonzero((kinds == K_PITCH) | (kinds == K_DRUM))
    parts = np.flatnonzero(kinds == K_PART)
    return (int(notes[0]) if len(notes) else -1), (int(parts[0]) if len(parts) else -1)


def first_part(tokens: np.ndarray) -> int:
    """Where the PART of ``tokens``' first notes is said (-1: nowhere before them)."""
    note, part = _firsts(tokens)
    return part if part >= 0 and (note < 0 or part < note) else -1


def with_part(tokens: np.ndarray, part: int) -> tuple[np.ndarray, int]:
    """``tokens`` with ``part``'s PART token before their first note, if no PART comes
    first; and where it went (-1: nowhere)."""
    note, said = _firsts(tokens)
    if part == NO_PART or note < 0 or 0 <= said < note:
        return tokens, -1
    return np.insert(tokens, note, PART_BASE + part), note


def parts_of(tokens: np.ndarray) -> set[int]:
    return {int(t) - PART_BASE for t in np.unique(tokens[KIND[tokens] == K_PART])}


def keep_part(tokens: np.ndarray, part: int, until_bar: int, first_part: int) -> np.ndarray:
    """``tokens`` (starting on a BAR, its notes in ``first_part`` until a PART says
    otherwise) with only ``part``'s notes in its first ``until_bar`` bars; the notes after
    are all kept. Time and PART tokens are written again for what is left (a PART before
    the first note too), so the result follows the grammar as an encoded piece does."""
    out: list[int] = []
    pending: list[int] = []          # time tokens since the last note kept, inside its bar
    src, dst = first_part, NO_PART
    bar, skip = -1, 0
    for t in tokens.tolist():
        if skip:
            skip -= 1
            if bar >= until_bar or src == part:
                out.append(t)
            continue
        kind = KIND[t]
        if kind == K_BAR:
            bar += 1
            pending = []
            out.append(t)
        elif kind == K_BEAT:
            pending = [t]
        elif kind == K_SUB:
            pending = [p for p in pending if KIND[p] == K_BEAT] + [t]
        elif kind == K_PART:
            src = t - PART_BASE
        elif kind in (K_PITCH, K_DRUM):
            skip = 2                                 # its velocity and duration follow
            if bar >= until_bar or src == part:
                out += pending
                pending = []
                if dst != src:
                    out.append(PART_BASE + src)
                    dst = src
                out.append(t)
        else:
            out.append(t)
    return np.asarray(out, dtype=tokens.dtype)
