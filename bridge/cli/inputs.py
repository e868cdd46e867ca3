"""The MIDI files a command takes: files and folders in, each read on the grid its notes are
played on, the model to use, and a batch that reports a file it cannot use and goes on."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import click

from bridge.progress import Progress


def load_model(model: str | None, kind: str, needed: bool = True):
    """The model folder's ``kind`` model, or a clear error; None where the folder has none
    and it is not ``needed`` (one it has that cannot be loaded is still an error)."""
    from bridge.model import checkpoint

    try:
        folder = checkpoint.resolve_model_dir(model)
        if not needed and not (folder / kind).is_dir():
            return None
        return checkpoint.load(folder / kind, kind)[0]
    except checkpoint.CheckpointError as exc:
        raise click.ClickException(str(exc)) from None


class InputError(click.ClickException):
    """One input file that cannot be used (the batch goes on without it)."""


GRIDS = ("auto", "file")


def grid_option(command):
    return click.option(
        "--grid", type=click.Choice(GRIDS), default="auto", show_default=True,
        help="The beats and bars the music is heard on. auto: the file's own, unless its "
             "notes are played on other beats, or its bars are under 1.5 beats (1/4), "
             "when bars of 3 or 4 are found in the notes (bars of 3 too where the file "
             "gives no meter), or they are played in free time (no "
             "click), when they are heard on the beats found in them and a continuation "
             "is written back in the file's time (a note on stderr says so); file: the "
             "file's own, always.")(command)


def read_piece(path: Path, grid: str = "auto"):
    """``(piece, grid)``: the file's piece on the grid its notes are played on (``grid``
    auto), with a note on stderr where that is not the file's own, and that grid (None
    where the file's own serves)."""
    from bridge.music.midifile import MidiFileError, read_midi
    from bridge.music.pulse import refit

    try:
        piece = read_midi(path)
    except MidiFileError as exc:
        raise InputError(str(exc)) from None
    if not piece.notes:
        raise InputError(f"{path}: no notes")
    found = None
    if grid == "auto":
        piece, found = refit(piece)
        if found is not None and found.time is not None:
            click.echo(f"note: {path}: {found.why}, in bars of {found.bar_beats} of them "
                       "(--grid file keeps the file's)", err=True)
        elif found is not None:
            click.echo(f"note: {path}: its own grid does not fit its notes ({found.why}); "
                       f"heard in bars of {found.bar_beats} beats from beat "
                       f"{found.downbeat:g} (--grid file keeps the file's)", err=True)
    return piece, found


def midi_inputs(paths: tuple[str, ...], outputs: str | None = None) -> list[tuple[Path, Path]]:
    """``(file, path relative to the folder it was found in)`` for each MIDI file given or
    found below a folder given, in order; a folder's search leaves out the ``outputs``
    folder (a command's own, inside a folder it reads: run again, it reads what it read)."""
    from bridge.data.manifest import MIDI_SUFFIXES

    skip = None if outputs is None else Path(outputs).resolve()
    out: list[tuple[Path, Path]] = []
    for given in map(Path, paths):
        if given.is_dir():
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames
                                     if (Path(dirpath) / d).resolve() != skip)
                out += [(Path(dirpath) / f, (Path(dirpath) / f).relative_to(given))
                        for f in sorted(filenames) if f.lower().endswith(MIDI_SUFFIXES)]
        else:
            out.append((given, Path(given.name)))
    seen: set[Path] = set()                    # a file given twice (or found twice): once
    out = [(f, rel) for f, rel in out if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not out:
        raise click.UsageError(f"no MIDI files in {', '.join(paths)}")
    return out


class Batch:
    """The inputs, with progress on stderr (each input's ``per`` outputs counted as they are
    written, ``step``); a file that fails is reported (``fail``: on stderr, and as a JSON
    line with ``as_json``) and the others go on; the command exits with status 1 at the end
    if any failed."""

    def __init__(self, inputs: list[tuple[Path, Path]], what: str, per: int = 1,
                 unit: str = "files", as_json: bool = False) -> None:
        self.inputs, self.what, self.per, self.unit = inputs, what, per, unit
        self.as_json, self.failed = as_json, 0
        self.progress: Progress | None = None

    def __iter__(self) -> Iterator[tuple[Path, Path]]:
        total = len(self.inputs) * self.per
        with Progress(self.what, total, self.unit, enabled=total > 1) as self.progress:
            for item in self.inputs:
                before = self.progress.done
                yield item
                left = self.per - (self.progress.done - before)    # (those it did not write)
                if left:
                    self.progress.update(left)
        if self.failed:
            raise click.ClickException(f"{self.failed} of {len(self.inputs)} file(s) failed")

    def step(self) -> None:
        """One of the current input's outputs is done."""
        if self.progress is not None:
            self.progress.update()

    def fail(self, exc: InputError, path: Path, **where: str) -> None:
        self.failed += 1
        if self.as_json:
            click.echo(json.dumps({"file": str(path), **where, "error": exc.message}))
        click.echo(f"error: {exc.message}", err=True)
