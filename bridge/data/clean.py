"""Data checks: every file or note left out is counted under a reason, never dropped silently.

File-level reasons (:class:`Skip`) and note-level fixes, with the policy:

- ``unreadable``: the file does not parse (:class:`MidiFileError`, a bad WJD CSV).
- ``no_beat_grid``: a POP909 song whose ``beat_midi.txt`` is missing or unusable (its MIDI
  meter is meaningless, so it is left out rather than put on a wrong grid).
- ``unaligned_version``: a POP909 alternate version whose onsets do not match its main file.
- ``empty``: no notes at all.
- ``absurd_tempo``: a tempo outside ``min_bpm``..``max_bpm`` (a broken file).
- ``too_short``: fewer than ``min_notes`` notes left after the note checks.
- ``unencodable``: the tokenizer refused the piece (should not happen; reported if it does).
- ``duplicate``: the same tokens as an earlier sequence of the build (see :class:`Deduper`).

Notes: a pitch outside 0..127 (possible in a CSV) is dropped, a zero or negative duration
is dropped, a duration outside the vocabulary's (one tick to 16 beats) is raised or clipped
into it, as the tokens would do anyway, but counted. Pitched
notes outside the piano range 21..108 are *kept*: the vocabulary covers all 128 MIDI notes,
a live player's synth may go there, and the trainer keeps transpositions in range from each
sequence's ``pitch_min``/``pitch_max``; they are only counted (none occur in the shared data).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from bridge.music.piece import Note, Piece
from bridge.vocab import DURATION_TICKS, N_PITCHES, TICKS_PER_BEAT

if TYPE_CHECKING:
    from bridge.data.sources import Example

log = logging.getLogger(__name__)

UNREADABLE = "unreadable"
NO_BEAT_GRID = "no_beat_grid"
UNALIGNED_VERSION = "unaligned_version"
EMPTY = "empty"
ABSURD_TEMPO = "absurd_tempo"
TOO_SHORT = "too_short"
DUPLICATE = "duplicate"
UNENCODABLE = "unencodable"

# note-level
PITCH_OUT_OF_RANGE = "pitch_out_of_range"
NONPOSITIVE_DURATION = "nonpositive_duration"
SHORT_DURATION = "short_duration_raised"     # below one tick: raised to one tick
LONG_DURATION = "long_duration_clipped"      # beyond 16 beats: clipped to 16 beats
OUTSIDE_PIANO = "outside_piano_range"      # counted, kept

PIANO_RANGE = (21, 108)
MIN_DURATION = DURATION_TICKS[0] / TICKS_PER_BEAT     # beats: one tick
MAX_DURATION = DURATION_TICKS[-1] / TICKS_PER_BEAT    # beats: 16


@dataclass(frozen=True)
class CleanConfig:
    min_notes: int = 8
    min_bpm: float = 20.0
    max_bpm: float = 400.0


@dataclass(frozen=True, slots=True)
class Skip:
    """A file (or one variant of it) left out of the build, and why."""

    path: str
    dataset: str
    reason: str
    detail: str = ""
    variant: str = ""
    split: str = ""


@dataclass
class Report:
    """What the checks left out or changed, accumulated over a build."""

    skipped: list[Skip] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)   # (dataset, note-level reason) -> count
    # files not heard on their own grid: (dataset, path, variant, how: Example.grid)
    grids: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.skipped += other.skipped
        self.notes.update(other.notes)
        self.grids += other.grids

    def grids_dict(self) -> dict:
        """Files heard on a grid found in their notes: how many by how (``Example.grid``),
        and by dataset then how; and each of them."""
        total, by_dataset = _by_dataset(Counter((d, how) for d, _, _, how in self.grids))
        return {"all": total, "by_dataset": by_dataset,
                "list": [{"path": p, "dataset": d, "variant": v, "how": how}
                         for d, p, v, how in sorted(self.grids)]}

    def to_dict(self) -> dict:
        by_reason = Counter(s.reason for s in self.skipped)
        by_dataset: dict[str, Counter] = {}
        for s in self.skipped:
            by_dataset.setdefault(s.dataset, Counter())[s.reason] += 1
        notes, notes_by_dataset = _by_dataset(self.notes)
        return {
            "files": dict(sorted(by_reason.items())),
            "by_dataset": {d: dict(sorted(c.items())) for d, c in sorted(by_dataset.items())},
            "list": [{"path": s.path, "dataset": s.dataset, "variant": s.variant,
                      "split": s.split, "reason": s.reason, "detail": s.detail}
                     for s in self.skipped],
            "notes": notes,
            "notes_by_dataset": notes_by_dataset,
        }


def _by_dataset(counts: Counter) -> tuple[dict, dict]:
    """``counts`` keyed by (dataset, what): summed by what, and by dataset then what
    (sorted)."""
    total: Counter = Counter()
    by_dataset: dict[str, Counter] = {}
    for (dataset, what), n in counts.items():
        total[what] += n
        by_dataset.setdefault(dataset, Counter())[what] += n
    return dict(sorted(total.items())), {d: dict(sorted(c.items()))
                                         for d, c in sorted(by_dataset.items())}


def clean(example: Example, config: CleanConfig = CleanConfig()) -> tuple[
        Example | None, Skip | None, Counter]:
    """Check one example: ``(example with fixed notes, None, note counts)`` or
    ``(None, skip, note counts)``."""
    counts: Counter = Counter()
    piece = example.piece

    def skip(reason: str, detail: str = "") -> tuple[None, Skip, Counter]:
        log.debug("%s [%s]: %s %s", example.path, example.variant, reason, detail)
        return None, Skip(example.path, example.dataset, reason, detail, example.variant,
                          example.split), counts

    if not piece.notes:
        return skip(EMPTY)
    if not config.min_bpm <= piece.tempo <= config.max_bpm:
        return skip(ABSURD_TEMPO, f"{piece.tempo:.1f} bpm")
    notes: list[Note] = []
    for n in piece.notes:
        if not 0 <= n.pitch < N_PITCHES:
            counts[PITCH_OUT_OF_RANGE] += 1
            continue
        if not n.duration > 0:          # also catches NaN
            counts[NONPOSITIVE_DURATION] += 1
            continue
        if n.duration < MIN_DURATION:
            counts[SHORT_DURATION] += 1
            n = replace(n, duration=MIN_DURATION)
        elif n.duration > MAX_DURATION:
            counts[LONG_DURATION] += 1
            n = replace(n, duration=MAX_DURATION)
        if not n.drum and not PIANO_RANGE[0] <= n.pitch <= PIANO_RANGE[1]:
            counts[OUTSIDE_PIANO] += 1
        notes.append(n)
    if len(notes) < config.min_notes:
        return skip(TOO_SHORT, f"{len(notes)} notes")
    if len(notes) != len(piece.notes) or counts[SHORT_DURATION] or counts[LONG_DURATION]:
        piece = Piece(notes, piece.meter, tempo=piece.tempo, name=piece.name)
    return replace(example, piece=piece), None, counts


def token_hash(tokens: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(tokens, dtype=np.uint16).tobytes(),
                           digest_size=16).hexdigest()


class Deduper:
    """Keeps the first sequence of each token content; later copies are reported."""

    def __init__(self) -> None:
        self._first: dict[str, tuple[str, str, str]] = {}

    def check(self, tokens: np.ndarray, path: str, dataset: str, variant: str,
              split: str) -> Skip | None:
        key = token_hash(tokens)
        if key not in self._first:
            self._first[key] = (path, variant, split)
            return None
        first = self._first[key]
        return Skip(path, dataset, DUPLICATE, f"same tokens as {first[0]} [{first[1]}] "
                    f"({first[2]})", variant, split)
