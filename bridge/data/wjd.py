"""Weimar Jazz Database solos: per-solo note CSVs -> :class:`Piece` on the annotated grid.

Columns (one row per note): ``bar, beat, beatdur, denom, division, duration, num, onset,
period, pitch, subtatum, tatum``. A bar of ``num/denom`` holds ``period`` annotated beats
numbered from 1; ``beatdur`` is the local length of one annotated beat in seconds; a beat is
cut into ``division`` tatums numbered from 1. In quarter-note beats, one annotated beat is
``q = 4 * num / (denom * period)`` (1 for every file in the WJD, where ``period == num`` and
``denom == 4``; 1.5 for a 6/8 bar counted in two). So a note starts at

    bar_start(bar) + (beat - 1) * q + (tatum - 1) / division * q      quarter beats

and lasts ``duration / beatdur * q``. Bars are numbered consecutively (bars without notes
are simply missing), from 0 or 1, or negative for pickups; the first bar that holds a note
is put at beat 0. The grid is checked against the audio-time ``onset`` column in the tests.
"""

from __future__ import annotations

import csv
import logging
import statistics
from pathlib import Path

from bridge.music.piece import Note, Piece
from bridge.vocab import MELODY, TICKS_PER_BEAT, Meter

log = logging.getLogger(__name__)

COLUMNS = ("bar", "beat", "beatdur", "denom", "division", "duration", "num", "onset",
           "period", "pitch", "subtatum", "tatum")
VELOCITY = 80   # the CSVs carry no loudness


class WjdError(ValueError):
    """A CSV that is not a readable WJD-style note list."""


def read_wjd(path: str | Path) -> Piece:
    """Read one solo CSV (see the module docstring for the beat mapping)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise WjdError(f"{path}: not a WJD note list (missing {', '.join(missing)})")
            rows = [_parse(row) for row in reader]
    except WjdError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WjdError(f"{path}: unreadable ({exc})") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise WjdError(f"{path}: bad value ({exc})") from None
    if not rows:
        return Piece([], Meter(), name=path.stem)

    # bar starts in quarter beats; a bar without notes keeps the signature of the bar before
    signatures: dict[int, tuple[int, int]] = {}
    for r in rows:
        signatures.setdefault(r["bar"], (r["num"], r["denom"]))
    first, last = min(signatures), max(signatures)
    starts: dict[int, float] = {}
    meter_changes: list[tuple[int, int]] = []
    pos, signature = 0.0, signatures[first]
    for bar in range(first, last + 1):
        signature = signatures.get(bar, signature)
        starts[bar] = pos
        ticks = Meter.bar_ticks_of(*signature)
        if not meter_changes or meter_changes[-1][1] != ticks:
            meter_changes.append((round(pos * TICKS_PER_BEAT), ticks))
        pos += 4 * signature[0] / signature[1]

    notes = []
    for r in rows:
        q = 4 * r["num"] / (r["denom"] * r["period"])
        start = starts[r["bar"]] + (r["beat"] - 1) * q + (r["tatum"] - 1) / r["division"] * q
        notes.append(Note(start, r["duration"] / r["beatdur"] * q, r["pitch"], VELOCITY,
                          part=MELODY))
    quarter = statistics.median(r["beatdur"] * r["period"] * r["denom"] / (4 * r["num"])
                                for r in rows)
    tempo = 60.0 / quarter if quarter > 0 else 120.0
    return Piece(notes, Meter(meter_changes), tempo=tempo, name=path.stem)


def _parse(row: dict[str, str]) -> dict:
    out = {k: int(row[k]) for k in ("bar", "beat", "denom", "division", "num", "period",
                                    "tatum")}
    out.update({k: float(row[k]) for k in ("beatdur", "duration", "onset")})
    out["pitch"] = round(float(row["pitch"]))
    if min(out["beat"], out["denom"], out["division"], out["num"], out["period"],
           out["tatum"]) < 1 or out["beatdur"] <= 0:
        raise WjdError(f"impossible grid position {row}")
    return out
