"""Which part each note plays: melody, harmony, bass or drums (``bridge.vocab.PARTS``).

Sources say it in different ways: a track's name (POP909's MELODY and PIANO, a score's
Soprano or Bassus), a folder (Nottingham's ``melody`` and ``chords``), a score's part order
(a quartet's first violin to its cello), or not at all. :func:`label_streams` takes the
streams a file holds (a MIDI track and channel, a score part), each with its name and an
optional known part, and gives every note its part:

1. drum notes are ``drums``;
2. a stream whose part is known, or whose name says it (:data:`NAME_HINTS`), keeps it;
3. among the rest, a single line (few notes struck together) that lies highest is the
   ``melody`` and one that lies low (mean below :data:`BASS_MEAN`) is the ``bass``, when no
   stream is yet; everything else is ``harmony``;
4. when no stream is the bass, the harmony's lowest line is, where it is clear
   (:func:`split_bass`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bridge.music.piece import Note
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, NO_PART, PARTS

NAME_HINTS: tuple[tuple[str, int], ...] = (
    (r"drum|perc|kit", DRUMS),
    (r"bass(?!oon)|cello", BASS),
    (r"melod|lead|vocal|voice|voce|solo|sopran|cantus|canto|violin ?i\b|violin ?1\b|flute", MELODY),
    (r"chord|harmon|piano|accomp|pad|guitar|string|keys|organ|bridge|alto|tenor|viola"
     r"|violin ?ii\b|violin ?2\b", HARMONY),
)
MONOPHONIC = 0.1          # a line: at most this share of its onsets strike more than one note
BASS_MEAN = 55.0          # a line whose mean pitch lies below G3 plays the bass
BASS_TOP = 54             # split_bass: the bass note lies at or below F#3 ...
BASS_GAP = 5              # ... and this many semitones below every other note sounding


def name_part(name: str) -> int:
    """The part a stream's name says (``NO_PART`` when it says none)."""
    name = name.strip().lower()
    if name in PARTS:
        return PARTS.index(name)
    for pattern, part in NAME_HINTS:
        if re.search(pattern, name):
            return part
    return NO_PART


def label_streams(streams: Sequence[tuple[str, int, list[Note]]]) -> list[Note]:
    """``(name, known part or NO_PART, notes)`` per stream -> every note with its part."""
    parts = [known if known != NO_PART else name_part(name) for name, known, _ in streams]
    pitched = [i for i, (_, _, notes) in enumerate(streams)
               if any(not n.drum for n in notes) and parts[i] in (NO_PART, DRUMS)]
    for i in pitched:
        parts[i] = NO_PART               # a drum name on a pitched stream says nothing
    lines = sorted((i for i in pitched if _polyphony(streams[i][2]) <= MONOPHONIC),
                   key=lambda i: _mean_pitch(streams[i][2]))
    if lines and MELODY not in parts:
        parts[lines.pop()] = MELODY
    if lines and BASS not in parts and _mean_pitch(streams[lines[0]][2]) < BASS_MEAN:
        parts[lines.pop(0)] = BASS
    parts = [HARMONY if p == NO_PART else p for p in parts]
    out: list[Note] = []
    harmony: list[Note] = []             # harmony that may hold the bass (see split_bass)
    for (name, _, notes), part in zip(streams, parts, strict=True):
        labelled = [replace(n, part=DRUMS if n.drum else part) for n in notes]
        if BASS not in parts and part == HARMONY and name.strip().lower() not in PARTS:
            harmony += [n for n in labelled if not n.drum]
            labelled = [n for n in labelled if n.drum]
        out += labelled                  # (a track named "harmony" is that, not a bass)
    return out + split_bass(harmony) if harmony else out


def label(notes: list[Note], known: int = NO_PART) -> list[Note]:
    """Notes with parts given to those that lack one, as one stream (a file of one track,
    say); notes that have a part keep it."""
    todo = [n for n in notes if n.part == NO_PART]
    if not todo:
        return notes
    return [n for n in notes if n.part != NO_PART] + label_streams([("", known, todo)])


def split_bass(notes: list[Note]) -> list[Note]:
    """Harmony notes with the lowest line made ``bass`` where it is clear: a note that
    starts as the lowest one sounding, at or below ``BASS_TOP``, with every other note
    sounding then at least ``BASS_GAP`` semitones above it."""
    notes = sorted(notes, key=lambda n: (n.start, n.pitch))
    out: list[Note] = []
    sounding: list[Note] = []
    i = 0
    while i < len(notes):
        start = notes[i].start
        j = i
        while j < len(notes) and notes[j].start == start:
            j += 1
        sounding = [n for n in sounding if n.end > start + 1e-6]
        group = notes[i:j]
        low = group[0]
        others = [n.pitch for n in (*sounding, *group[1:])]
        clear = low.pitch <= BASS_TOP and all(p - low.pitch >= BASS_GAP for p in others)
        out.append(replace(low, part=BASS) if clear else low)
        out += group[1:]
        sounding += group
        i = j
    return out


def _polyphony(notes: list[Note]) -> float:
    starts: dict[float, int] = {}
    for n in notes:
        starts[n.start] = starts.get(n.start, 0) + 1
    return sum(c > 1 for c in starts.values()) / max(len(starts), 1)


def _mean_pitch(notes: list[Note]) -> float:
    pitched = [n.pitch for n in notes if not n.drum]
    return sum(pitched) / len(pitched) if pitched else 0.0
