"""POP909: piano arrangements whose bars come from the song's beat annotation.

The MIDI files' time signatures are meaningless (mostly 1/4 or 2/4), and their notes often sit
on a beat grid shifted from the MIDI beats (song 002: every beat falls 0.527 MIDI beats after
an integer). ``beat_midi.txt`` has one row per MIDI beat of the main file: its time in
seconds, a 2-beat flag and, in column 3, the 4/4 downbeat flag. Its times converted through
the main file's tempo map land on the file's beats exactly, so the downbeats are taken from
column 3, converted to MIDI beats, and the bar grid follows *every* annotated downbeat:
701 of the 814 songs have at least one bar that is not 4 beats long (mostly 6 or 2 beats:
a 2/4 bar next to or instead of a 4/4 one), and a single phase would put every later bar
on the wrong beat.

Alternate versions (``versions/*.mid``) are re-edits of the main file: most share its beats,
some are shifted by a constant (song 002's v1 by 1.47 beats), a few differ in form or tempo.
The beat file is reused for a version only after checking that the version is the main file
moved by one constant shift (:mod:`bridge.data.align`: onsets and pitch classes, everywhere in
the version); it then gets the main file's bars moved by that shift. A version that fails is
reported as ``unaligned_version`` and left out rather than put on a guessed grid: its song
is in the data through the main file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import mido
import numpy as np

from bridge.data.align import Alignment, align
from bridge.data.grid import meter_from_downbeats, shifted
from bridge.music.midifile import open_midi, read_midi
from bridge.music.piece import Piece
from bridge.vocab import TICKS_PER_BEAT, Meter

log = logging.getLogger(__name__)

BEAT_FILE = "beat_midi.txt"
BAR_TICKS = 4 * TICKS_PER_BEAT          # the annotation's 4/4 bars
TRACKS = {"melody": "MELODY", "piano": "PIANO"}   # track-subset variants of a main file


class Pop909Error(ValueError):
    """A song whose beat annotation is missing or unusable."""


def read_downbeats(beat_file: str | Path) -> list[float]:
    """Seconds of the 4/4 downbeats (column 3) of a ``beat_midi.txt``."""
    path = Path(beat_file)
    try:
        table = np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as exc:
        raise Pop909Error(f"{path}: unreadable beat file ({exc})") from None
    if table.shape[0] == 0 or table.shape[1] < 3:
        raise Pop909Error(f"{path}: expected rows of 3 columns (seconds, 2-beat flag, "
                          f"4-beat flag)")
    seconds = table[table[:, 2] == 1, 0]
    if len(seconds) == 0:
        raise Pop909Error(f"{path}: no downbeat is flagged in column 3")
    return sorted(float(s) for s in seconds)


def seconds_to_beats(path: str | Path, seconds: list[float]) -> list[float]:
    """Times in seconds -> MIDI beats through the file's tempo map."""
    mid = open_midi(path)
    tpb = mid.ticks_per_beat
    changes = sorted((tick, msg.tempo) for track in mid.tracks
                     for tick, msg in _absolute(track) if msg.type == "set_tempo")
    segments = [(0, 0.0, 500_000)]   # (tick, seconds, tempo) from that tick on
    for tick, tempo in changes:
        t0, s0, old = segments[-1]
        s = s0 + (tick - t0) * old / 1e6 / tpb
        if tick == t0:
            segments[-1] = (t0, s0, tempo)
        else:
            segments.append((tick, s, tempo))
    starts = [s for _, s, _ in segments]
    out = []
    for sec in seconds:
        i = max(0, int(np.searchsorted(starts, sec, side="right")) - 1)
        t0, s0, tempo = segments[i]
        out.append((t0 + (sec - s0) * 1e6 * tpb / tempo) / tpb)
    return out


def _absolute(track: mido.MidiTrack):
    now = 0
    for msg in track:
        now += msg.time
        yield now, msg


def song_meter(main_file: str | Path) -> Meter:
    """The bar grid of a main file from the ``beat_midi.txt`` beside it."""
    main_file = Path(main_file)
    beats = seconds_to_beats(main_file, read_downbeats(main_file.parent / BEAT_FILE))
    return meter_from_downbeats([round(b * TICKS_PER_BEAT) for b in beats], BAR_TICKS,
                                first_bar=BAR_TICKS)


def read_main(main_file: str | Path) -> dict[str, Piece]:
    """A main file as ``{"full", "melody", "piano"}`` pieces on the annotated bars."""
    meter = song_meter(main_file)
    pieces = {"full": read_midi(main_file)}
    for variant, track in TRACKS.items():
        pieces[variant] = read_midi(main_file, track_filter=lambda n, t=track: n.strip() == t)
    return {v: Piece(p.notes, meter, tempo=p.tempo, name=p.name) for v, p in pieces.items()}


def version_on_grid(main: Piece, version: Piece) -> tuple[Piece | None, Alignment]:
    """The version on the main file's bars moved by its shift, or ``None`` if unaligned."""
    found = align(main.notes, version.notes)
    if not found.ok:
        return None, found
    meter = shifted(main.meter, round(found.shift * TICKS_PER_BEAT))
    return Piece(version.notes, meter, tempo=version.tempo, name=version.name), found
