"""music21's bundled corpus as extra data (``continuo data build --music21``).

Three kinds of pieces, each listed as a manifest-like :class:`Row` with ``dataset="music21"``
and ``path`` = the corpus path:

- Bach chorales (music21's Riemenschneider list) -> ``classical/chorale``
- the string quartets shipped in the corpus (Haydn, Mozart, Beethoven) -> ``classical/quartet``
- the Irish/Scottish folk collections (Ryan's Mammoth, O'Neill's 1850, Aird's Airs) -> ``folk``

Groups: a chorale or a folk file is its own group, a quartet movement belongs to its work
(``haydn/opus74no1``); an ABC file that holds many tunes gives each tune the group
``<file>#<index>``. Splits come from the group hash (:func:`bridge.data.manifest.split_of`),
the rule for users' folders. Rows are interleaved across collections, so a ``limit`` keeps a
mix. Scores are parsed with ``forceSource=True``: music21 writes no pickles anywhere.
"""

from __future__ import annotations

import logging
import re
import warnings
from itertools import zip_longest
from pathlib import PurePosixPath

from bridge.data.grid import meter_from_downbeats
from bridge.data.manifest import Row, split_of
from bridge.music.piece import Note, Piece
from bridge.vocab import TICKS_PER_BEAT

log = logging.getLogger(__name__)

DATASET = "music21"
VELOCITY = 80             # when the score gives no dynamics
QUARTET_WORKS = ("haydn/", "beethoven/", "mozart/k155/", "mozart/k156/", "mozart/k458/",
                 "mozart/k80/")
FOLK_COLLECTIONS = ("ryansMammoth/", "oneills1850/", "airdsAirs/")
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".abc")


class Music21Error(ValueError):
    """A corpus piece that cannot be parsed or converted."""


def _import_music21():
    try:
        import music21
    except ImportError as exc:   # pragma: no cover - depends on the environment
        raise Music21Error("music21 is not installed: pip install 'continuo[train]'") from exc
    return music21


def music21_rows(limit: int | None = None) -> list[Row]:
    """The corpus files to read, interleaved across collections, at most ``limit``."""
    music21 = _import_music21()
    paths = sorted(_relative(p) for p in music21.corpus.getCorePaths())
    chorales = sorted(music21.corpus.chorales.Iterator(returnType="filename"))
    collections: list[list[Row]] = [[_row(c, c, ("classical", "chorale")) for c in chorales]]
    for prefix in QUARTET_WORKS:
        files = [p for p in paths if p.startswith(prefix) and p.endswith(SCORE_SUFFIXES)]
        collections.append([_row(p, _work(p), ("classical", "quartet")) for p in files])
    for prefix in FOLK_COLLECTIONS:
        files = [p for p in paths if p.startswith(prefix) and p.endswith(SCORE_SUFFIXES)]
        collections.append([_row(p, p, ("folk",)) for p in files])
    rows = [r for batch in zip_longest(*collections) for r in batch if r is not None]
    return rows[:limit] if limit is not None else rows


def _relative(path) -> str:
    return str(path).replace("\\", "/").split("/corpus/", 1)[-1]


def _work(path: str) -> str:
    """``beethoven/opus18no1/movement2.mxl`` -> ``beethoven/opus18no1``."""
    p = PurePosixPath(path)
    return str(p.parent) if re.match(r"movement\d", p.stem) else str(p.with_suffix(""))


def _row(path: str, work: str, labels: tuple[str, ...]) -> Row:
    group = f"{DATASET}:{work}"
    return Row(path, DATASET, group, split_of(group), labels)


def read_music21(row: Row) -> list[tuple[Row, Piece]]:
    """Parse one corpus file: one ``(row, piece)`` per score (many for an ABC collection)."""
    music21 = _import_music21()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = music21.corpus.parse(row.path, forceSource=True)
        except Exception as exc:   # music21 raises many kinds; any means "unreadable"
            raise Music21Error(f"{row.path}: {type(exc).__name__}: {exc}") from None
        scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        out = []
        for i, score in enumerate(scores):
            this = row
            if len(scores) > 1:
                group = f"{row.group}#{i + 1}"
                this = Row(f"{row.path}#{i + 1}", row.dataset, group, split_of(group),
                           row.labels)
            try:
                out.append((this, score_to_piece(score, music21)))
            except Exception as exc:
                raise Music21Error(f"{this.path}: {type(exc).__name__}: {exc}") from None
    return out


def _tied_notes(score) -> list[Note]:
    """Notes with tied notes merged (what ``stripTies`` does, at a fraction of its cost)."""
    events: list[list] = []                 # [start, duration, pitch, velocity]
    tied: dict[tuple[int, int], int] = {}   # (part, pitch) -> event still tied on
    parts = list(score.parts) or [score]
    for part_index, part in enumerate(parts):
        for el in part.flatten().notes:
            start, duration = float(el.offset), float(el.quarterLength)
            velocity = el.volume.velocity if el.volume.velocity else VELOCITY
            for pitch in getattr(el, "pitches", ()):
                tie = el.getTie(pitch) if hasattr(el, "getTie") else el.tie
                kind = tie.type if tie is not None else None
                key = (part_index, int(pitch.midi))
                if kind in ("stop", "continue") and key in tied:
                    event = events[tied[key]]
                    event[1] = max(event[1], start + duration - event[0])
                    if kind == "stop":
                        del tied[key]
                    continue
                events.append([start, duration, int(pitch.midi), int(velocity)])
                if kind in ("start", "continue"):
                    tied[key] = len(events) - 1
                else:
                    tied.pop(key, None)
    return [Note(*e) for e in events]


def score_to_piece(score, music21) -> Piece:
    """A music21 score -> Piece (offsets in quarter lengths are beats)."""
    stream = music21.stream
    notes = _tied_notes(score)
    parts = list(score.parts) or [score]
    measures = list(parts[0].getElementsByClass(stream.Measure))
    downbeats, length = [], 4.0
    for i, m in enumerate(measures):
        if m.timeSignature is not None:
            length = float(m.timeSignature.barDuration.quarterLength)
        start = float(m.offset)
        if i == 0 and len(measures) > 1 and float(measures[1].offset) - start < length:
            start = float(measures[1].offset) - length          # a pickup bar
        downbeats.append(round(start * TICKS_PER_BEAT))
    meter = meter_from_downbeats(downbeats, round(length * TICKS_PER_BEAT))
    marks = list(score.flatten().getElementsByClass(music21.tempo.MetronomeMark))
    tempo = float(marks[0].getQuarterBPM() or 120.0) if marks else 120.0
    title = score.metadata.title if score.metadata is not None else None
    return Piece(notes, meter, tempo=tempo, name=title or "")
