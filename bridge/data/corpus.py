"""music21's bundled corpus as extra data (``continuo data build --music21``).

Collections, each listed as manifest-like :class:`Row` s with ``dataset="music21"`` and
``path`` = the corpus path (:data:`COLLECTIONS`):

- Bach chorales (music21's Riemenschneider list) -> ``classical/chorale``
- the string quartets (Haydn, Mozart, Beethoven) -> ``classical/quartet``
- Monteverdi's madrigals -> ``classical/madrigal``
- the Trecento (Italian 14th-century) songs, Ciconia and Da Luca -> ``classical/medieval``
- the Irish/Scottish folk collections (Ryan's Mammoth, O'Neill's 1850, Aird's Airs) ->
  ``folk``, or ``folk/<tune type>`` when the tune's ``R:`` field names one we know

Left out, by their own metadata (:func:`restriction`): any file or folder whose licence is
non-commercial (the Essen folksongs' ``license.txt``), and any file that reserves its rights
under an agreement the corpus does not carry (the Humdrum encodings of Palestrina and three
Bach pieces: "Rights to all derivative electronic formats reserved"). :func:`excluded` lists
them with the reason; the build records it in ``stats.json`` and the model card.

Groups: a chorale, a song or a folk file is its own group, a quartet movement belongs to its
work (``haydn/opus74no1``); an ABC file that holds many tunes gives each tune the group
``<file>#<index>``. Splits come from the group hash (:func:`bridge.data.manifest.split_of`),
the rule for users' folders. Rows are interleaved across collections, so a ``limit`` keeps a
mix. Scores are parsed with ``forceSource=True``: music21 writes no pickles anywhere.

Parts by score order: the top part is the melody, the lowest the bass (with three parts or
more; with two, the lower one), the others harmony; a one-part score is a melody. A score of
many parts also gives its melody alone (variant ``melody``).
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from functools import cache
from itertools import zip_longest
from pathlib import Path, PurePosixPath

from bridge.data.grid import meter_from_downbeats
from bridge.data.manifest import Row, split_of
from bridge.music.piece import Note, Piece
from bridge.vocab import BASS, HARMONY, MELODY, SUBSTYLES, TICKS_PER_BEAT

log = logging.getLogger(__name__)

DATASET = "music21"
VELOCITY = 80             # when the score gives no dynamics
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".abc")   # what the collections read
LISTED_SUFFIXES = (*SCORE_SUFFIXES, ".krn", ".mei", ".mid")   # what excluded() looks at
# (corpus path prefixes, labels, collection as attributed in the model card)
COLLECTIONS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("haydn/", "beethoven/", "mozart/k155/", "mozart/k156/", "mozart/k458/", "mozart/k80/"),
     ("classical", "quartet"), "string quartets by Haydn, Mozart and Beethoven"),
    (("monteverdi/",), ("classical", "madrigal"), "Monteverdi's madrigals"),
    (("trecento/", "ciconia/", "luca/"), ("classical", "medieval"),
     "Trecento songs (Cuthbert's encodings), Ciconia, Da Luca"),
    (("ryansMammoth/", "oneills1850/", "airdsAirs/"), ("folk",),
     "Ryan's Mammoth Collection, O'Neill's Music of Ireland (1850), Aird's Airs"),
)
CHORALES = "Bach chorales (Riemenschneider)"
NONCOMMERCIAL = re.compile(r"non-?commercial|by-nc", re.I)
RESERVED = re.compile(r"rights to all derivative electronic formats reserved", re.I)
TUNE_TYPES = {"double jig": "jig", "slip jig": "slipjig"}   # R: field -> folk sub-style
MELODY_VARIANT = "melody"


class Music21Error(ValueError):
    """A corpus piece that cannot be parsed or converted."""


def _import_music21():
    try:
        import music21
    except ImportError as exc:   # pragma: no cover - depends on the environment
        raise Music21Error("music21 is not installed: pip install 'continuo[train]'") from exc
    return music21


def corpus_root() -> Path:
    return Path(_import_music21().__file__).parent / "corpus"


def restriction(path: str, root: Path | None = None) -> str | None:
    """Why a corpus file may not be used (its own or its folder's licence), else None."""
    root = root or corpus_root()
    folder = PurePosixPath(path).parts[0]
    if _noncommercial_folder(root, folder):
        return f"non-commercial licence ({folder}/license.txt)"
    file = root / path
    if not file.is_file():
        return None
    text = _score_text(file)
    if NONCOMMERCIAL.search(text):
        return "non-commercial licence (in the file)"
    if RESERVED.search(text):
        return "rights reserved under a licensing agreement the corpus does not carry"
    return None


@cache
def _noncommercial_folder(root: Path, folder: str) -> bool:
    """Does a collection's own ``license.txt`` make it non-commercial (read once)?"""
    licence = root / folder / "license.txt"
    return licence.is_file() and bool(NONCOMMERCIAL.search(licence.read_text("utf-8",
                                                                              "replace")))


def _score_text(file: Path) -> str:
    """A score file's text; a compressed MusicXML file's (``.mxl``) scores inside it."""
    if file.suffix != ".mxl":
        return file.read_text("utf-8", "replace")
    with zipfile.ZipFile(file) as z:
        return " ".join(z.read(name).decode("utf-8", "replace") for name in z.namelist()
                        if name.endswith((".xml", ".musicxml")) and
                        not name.startswith("META-INF"))


def excluded() -> dict[str, str]:
    """Every corpus score file left out, with the reason."""
    out = {}
    for path in sorted(_relative(p) for p in _import_music21().corpus.getCorePaths()):
        if path.endswith(LISTED_SUFFIXES) and (why := restriction(path)):
            out[path] = why
    return out


def music21_rows(limit: int | None = None) -> list[Row]:
    """The corpus files to read, interleaved across collections, at most ``limit``."""
    music21 = _import_music21()
    paths = sorted(_relative(p) for p in music21.corpus.getCorePaths())
    chorales = sorted(_relative(c) for c in
                      music21.corpus.chorales.Iterator(returnType="filename"))
    collections = [[_row(c, c, ("classical", "chorale")) for c in chorales
                    if not restriction(c)]]
    for prefixes, labels, _ in COLLECTIONS:
        files = [p for p in paths if p.startswith(prefixes) and p.endswith(SCORE_SUFFIXES)
                 and not restriction(p)]
        collections.append([_row(p, _work(p) if labels[-1] == "quartet" else p, labels)
                            for p in files])
    rows = [r for batch in zip_longest(*collections) for r in batch if r is not None]
    return rows[:limit] if limit is not None else rows


def attributions() -> list[str]:
    """The collections a --music21 build reads, as the model card credits them."""
    return [CHORALES, *(name for _, _, name in COLLECTIONS)]


def _relative(path) -> str:
    return str(path).replace("\\", "/").split("/corpus/", 1)[-1]


def _work(path: str) -> str:
    """``beethoven/opus18no1/movement2.mxl`` -> ``beethoven/opus18no1``."""
    p = PurePosixPath(path)
    return str(p.parent) if re.match(r"movement\d", p.stem) else str(p.with_suffix(""))


def _row(path: str, work: str, labels: tuple[str, ...]) -> Row:
    group = f"{DATASET}:{work}"
    return Row(path, DATASET, group, split_of(group), labels)


def read_music21(row: Row) -> list[tuple[Row, Piece, str]]:
    """Parse one corpus file: ``(row, piece, variant)`` per score (many for an ABC
    collection), the melody alone too for a score of many parts."""
    music21 = _import_music21()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = music21.corpus.parse(row.path, forceSource=True)
        except Exception as exc:   # music21 raises many kinds; any means "unreadable"
            raise Music21Error(f"{row.path}: {type(exc).__name__}: {exc}") from None
        scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        rhythms = _tune_types(row.path) if row.labels == ("folk",) else []
        out = []
        for i, score in enumerate(scores):
            labels = row.labels
            if i < len(rhythms) and rhythms[i]:
                labels = ("folk", rhythms[i])
            this = Row(row.path, row.dataset, row.group, row.split, labels)
            if len(scores) > 1:
                group = f"{row.group}#{i + 1}"
                this = Row(f"{row.path}#{i + 1}", row.dataset, group, split_of(group), labels)
            try:
                piece = score_to_piece(score, music21)
            except Exception as exc:
                raise Music21Error(f"{this.path}: {type(exc).__name__}: {exc}") from None
            parts = {n.part for n in piece.notes}
            out.append((this, piece, "full" if len(parts) > 1 else MELODY_VARIANT))
            if len(parts) > 1:
                melody = [n for n in piece.notes if n.part == MELODY]
                out.append((this, Piece(melody, piece.meter, piece.tempo, piece.name),
                            MELODY_VARIANT))
    return out


def _tune_types(path: str) -> list[str]:
    """The folk sub-style of each tune of an ABC file, from its ``R:`` field ("" if none)."""
    file = corpus_root() / path
    if file.suffix != ".abc" or not file.is_file():
        return []
    out: list[str] = []
    for line in file.read_text("utf-8", "replace").splitlines():
        if line.startswith("X:"):
            out.append("")
        elif line.startswith("R:") and out:
            kind = re.sub(r"\s+", " ", line[2:].strip().lower())
            kind = TUNE_TYPES.get(kind, kind)
            out[-1] = kind if kind in SUBSTYLES["folk"] else ""
    return out


def _tied_notes(score) -> list[Note]:
    """Notes with tied notes merged (what ``stripTies`` does, at a fraction of its cost)."""
    events: list[list] = []                 # [start, duration, pitch, velocity, part]
    tied: dict[tuple[int, int], int] = {}   # (part, pitch) -> event still tied on
    parts = list(score.parts) or [score]
    for part_index, part in enumerate(parts):
        role = _part_role(part_index, len(parts))
        for el in part.flatten().notes:
            if "ChordSymbol" in el.classes:
                continue                    # a lead sheet's chord names are not notes
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
                events.append([start, duration, int(pitch.midi), int(velocity), False, role])
                if kind in ("start", "continue"):
                    tied[key] = len(events) - 1
                else:
                    tied.pop(key, None)
    return [Note(*e) for e in events]


def _part_role(index: int, count: int) -> int:
    """A score part's role by its place (top to bottom) among ``count`` parts."""
    if index == 0:
        return MELODY
    return BASS if index == count - 1 else HARMONY


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
