"""Manifest rows -> :class:`Example` s: pieces in beat time with their style and provenance.

Rows are read in *units*, the rows a worker must see together: a POP909 song folder (its
main file, versions and beat annotation), otherwise one file. How a row is read:

- ``pop909`` main ``NNN/NNN.mid``: bars from ``beat_midi.txt`` (:mod:`bridge.data.pop909`),
  as the full arrangement and as the MELODY and PIANO tracks alone (variants ``full``,
  ``melody``, ``piano``); versions ``NNN/versions/*.mid`` on the main file's bars moved by
  their alignment shift (variant ``full``).
- any other ``.mid``/``.midi`` (nottingham, groove, users' files, unknown datasets): the
  file's own meter, unless its notes are played on other beats or the meter is a 1/4
  placeholder (:mod:`bridge.music.pulse`: then the grid found in them; none of
  Nottingham's or Groove's files is moved); channel 10 is drums. The variant is the
  parent folder's name when it is ``melody`` or ``chords`` (Nottingham's layout), else
  ``full``.
- a ``.csv``: a WJD-style solo (:mod:`bridge.data.wjd`), variant ``melody``.
- ``music21`` rows: corpus paths (:mod:`bridge.data.corpus`).
- anything else (annotation ``.txt``, ...) is not music: :func:`units` leaves it out.

A row with an empty split gets its group's hash split. Output is in a deterministic order:
units sorted by (dataset, path), examples within a unit in row order, then variant order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bridge.data import pop909
from bridge.data.clean import NO_BEAT_GRID, UNALIGNED_VERSION, UNREADABLE, Skip
from bridge.data.corpus import Music21Error, read_music21
from bridge.data.manifest import (
    MANIFEST_NAME,
    MIDI_SUFFIXES,
    Row,
    assign_splits,
    music_kind,
    read_manifest,
    split_of,
)
from bridge.data.wjd import WjdError, read_wjd
from bridge.music.midifile import MidiFileError, read_midi
from bridge.music.piece import Piece
from bridge.music.pulse import refit
from bridge.vocab import HARMONY, MELODY, NO_PART, style_tag

log = logging.getLogger(__name__)

VARIANTS = ("full", "melody", "piano", "chords")   # order of variants of one file
VARIANT_PARTS = {"melody": MELODY, "chords": HARMONY}   # a file that is one part
USER_DATASET = "user"


@dataclass(frozen=True, eq=False)
class Example:
    piece: Piece
    style: str        # bridge.vocab.style_tag(labels), e.g. "folk/jig", "pop"
    dataset: str
    group: str
    split: str
    path: str         # relative to its folder (a corpus path for music21)
    variant: str = "full"
    grid: str = ""    # how it was heard where not on its file's grid (bridge.music.pulse)


@dataclass(frozen=True)
class Unit:
    """Rows read together by one worker, under the folder ``root``."""

    root: str
    rows: tuple[Row, ...]
    kind: str         # "pop909" | "file" | "music21"


def units(rows: Iterable[Row], root: str | Path) -> list[Unit]:
    """Group the music rows of a folder into units (non-music rows are left out)."""
    root = str(root)
    by_song: dict[str, list[Row]] = {}
    out: list[Unit] = []
    for row in assign_splits(rows):
        if row.dataset == "music21":
            out.append(Unit(root, (row,), "music21"))
            continue
        if music_kind(row.path) is None:
            continue
        song = _pop909_song(row)
        if song is not None:
            by_song.setdefault(song, []).append(row)
        else:
            out.append(Unit(root, (row,), "file"))
    out += [Unit(root, tuple(sorted(rs, key=lambda r: r.path)), "pop909")
            for rs in by_song.values()]
    return sorted(out, key=lambda u: (u.rows[0].dataset, u.rows[0].path))


def _pop909_song(row: Row) -> str | None:
    """The song folder of a pop909 main or version file, else None."""
    if row.dataset != "pop909" or music_kind(row.path) != "midi":
        return None
    p = PurePosixPath(row.path)
    if p.parent.name == "versions":
        return str(p.parent.parent)
    if p.stem == p.parent.name:
        return str(p.parent)
    return None


def load_unit(unit: Unit) -> list[Example | Skip]:
    """Read one unit; files that cannot be read come back as :class:`Skip`."""
    if unit.kind == "pop909":
        return _load_song(unit)
    if unit.kind == "music21":
        return _load_music21(unit.rows[0])
    return _load_file(unit.root, unit.rows[0])


def examples(rows: Iterable[Row], root: str | Path) -> Iterator[Example | Skip]:
    """Every example (and skip) of a folder's rows, in deterministic order, in-process."""
    for unit in units(rows, root):
        yield from load_unit(unit)


def _example(row: Row, piece: Piece, variant: str, grid: str = "") -> Example:
    return Example(piece, style_tag(row.labels), row.dataset, row.group, row.split, row.path,
                   variant, grid)


def _skip(row: Row, reason: str, detail: str, variant: str = "") -> Skip:
    log.info("skip %s%s: %s (%s)", row.path, f" [{variant}]" if variant else "", reason,
             detail)
    return Skip(row.path, row.dataset, reason, detail, variant, row.split)


def _variant(row: Row) -> str:
    if music_kind(row.path) == "csv":
        return "melody"
    parent = PurePosixPath(row.path).parent.name.lower()
    return parent if parent in ("melody", "chords") else "full"


def _load_file(root: str, row: Row) -> list[Example | Skip]:
    path = Path(root) / row.path
    variant = _variant(row)
    heard = ""
    try:
        if music_kind(row.path) == "csv":
            piece = read_wjd(path)
        else:
            piece, grid = refit(read_midi(path, part=VARIANT_PARTS.get(variant, NO_PART)))
            if grid is not None:
                log.info("%s: its own grid does not fit its notes (%s): bars of %d beats "
                         "from beat %g", row.path, grid.why, grid.bar_beats, grid.downbeat)
                heard = (f"{'in free time' if grid.time is not None else 'on a grid found'}"
                         f", in bars of {grid.bar_beats}")
    except (MidiFileError, WjdError) as exc:
        return [_skip(row, UNREADABLE, str(exc))]
    return [_example(row, piece, variant, heard)]


def _load_song(unit: Unit) -> list[Example | Skip]:
    """A POP909 song folder: main file variants, then versions aligned to the main file."""
    first = PurePosixPath(unit.rows[0].path)
    song = first.parent.parent if first.parent.name == "versions" else first.parent
    main_rel = str(song / f"{song.name}.mid")
    main_row = next((r for r in unit.rows if r.path == main_rel), None)
    versions = [r for r in unit.rows if r is not main_row]
    out: list[Example | Skip] = []
    try:
        main = pop909.read_main(Path(unit.root) / main_rel)
    except (MidiFileError, pop909.Pop909Error) as exc:
        reason = UNREADABLE if isinstance(exc, MidiFileError) else NO_BEAT_GRID
        if main_row is not None:
            out.append(_skip(main_row, reason, str(exc)))
        return out + [_skip(r, UNALIGNED_VERSION, f"main file unusable: {exc}")
                      for r in versions]
    if main_row is not None:
        out += [_example(main_row, main[v], v) for v in VARIANTS if v in main]
    for row in versions:
        try:
            version = read_midi(Path(unit.root) / row.path)
        except MidiFileError as exc:
            out.append(_skip(row, UNREADABLE, str(exc)))
            continue
        if not version.notes:
            out.append(_example(row, version, "full"))   # reported as empty by the checks
            continue
        piece, found = pop909.version_on_grid(main["full"], version)
        if piece is None:
            out.append(_skip(row, UNALIGNED_VERSION, str(found)))
        else:
            log.debug("%s: %s", row.path, found)
            out.append(_example(row, piece, "full"))
    return out


def _load_music21(row: Row) -> list[Example | Skip]:
    try:
        return [_example(r, piece, variant) for r, piece, variant in read_music21(row)]
    except Music21Error as exc:
        return [_skip(row, UNREADABLE, str(exc))]


# -- users' folders ----------------------------------------------------------------------------


def user_rows(folder: str | Path) -> list[Row]:
    """Rows of a user's folder: its MANIFEST.tsv if it has one, else every MIDI file in it
    (hidden files and folders left out), labelled by its folder names in lower case, spaces
    as dashes (``Jazz/Hard Bop/x.mid`` -> jazz, hard-bop), one group per file, split by
    group hash."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    if (folder / MANIFEST_NAME).is_file():
        return assign_splits(read_manifest(folder))
    rows = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(MIDI_SUFFIXES):
                continue
            rel = (Path(dirpath) / name).relative_to(folder).as_posix()
            labels = tuple("-".join(p.lower().split()) for p in PurePosixPath(rel).parent.parts)
            group = f"{USER_DATASET}:{rel}"
            rows.append(Row(rel, USER_DATASET, group, split_of(group), labels))
    return sorted(rows, key=lambda r: r.path)
