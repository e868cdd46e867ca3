"""Writes tests/fixtures/data: a tiny folder laid out like shared/data.

Run ``.venv/bin/python tests/data/make_fixtures.py`` after changing it; the files are
committed, so the tests never regenerate them. Every file is made with mido from the
numbers below, and the tests check against the same numbers (imported from here).
"""

from __future__ import annotations

import random
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "data"
TPB = 480

# -- POP909-like: song 001 -------------------------------------------------------------------
# Notes sit on a grid 0.25 MIDI beats after the integers (as in the real files). The
# annotated downbeats: a one-beat pickup, then 4/4 bars, one 2-beat bar (the fourth), 4/4.
POP_OFFSET = 0.25                         # MIDI beats
POP_BEATS = 30                            # rows of beat_midi.txt (one per MIDI beat)
POP_DOWNBEATS = [1, 5, 9, 13, 15, 19, 23, 27]   # beat indices flagged in column 3
POP_TEMPI = [(0, 100.0), (8 + POP_OFFSET, 120.0)]   # (MIDI beat, bpm): a change mid-song
VERSION_SHIFT = 1.5                       # 001-v1 = the main file 1.5 beats later


def pop_melody() -> list[tuple[float, float, int]]:
    """(start beat relative to the grid, duration, pitch): a note on every downbeat and
    two more in each bar."""
    notes = []
    for i, d in enumerate(POP_DOWNBEATS[:-1]):
        notes += [(d, 1.0, 72 + i % 5), (d + 1, 0.5, 74), (d + 1.5, 0.5, 76)]
    return notes


def pop_piano() -> list[tuple[float, float, int]]:
    notes = []
    for d in POP_DOWNBEATS[:-1]:
        notes += [(d, 2.0, 48), (d, 2.0, 55), (d, 2.0, 60)]
    return notes


def pop_bridge() -> list[tuple[float, float, int]]:
    return [(d + 0.5, 0.5, 67) for d in POP_DOWNBEATS[1:-1]]


def beat_seconds(beat: float) -> float:
    """MIDI beats -> seconds through POP_TEMPI."""
    sec, (b0, bpm) = 0.0, POP_TEMPI[0]
    for b1, bpm1 in POP_TEMPI[1:]:
        if beat <= b1:
            break
        sec += (b1 - b0) * 60 / bpm
        b0, bpm = b1, bpm1
    return sec + (beat - b0) * 60 / bpm


def track(name: str, notes, channel: int, offset: float, transpose: int = 0):
    events = []
    for start, dur, pitch in notes:
        on, off = round((start + offset) * TPB), round((start + offset + dur) * TPB)
        events.append((on, 1, mido.Message("note_on", channel=channel, note=pitch + transpose,
                                           velocity=90)))
        events.append((off, 0, mido.Message("note_off", channel=channel, note=pitch + transpose)))
    t = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        t.append(msg.copy(time=tick - last))
        last = tick
    return t


def conductor(tempi, numerator: int, denominator: int, name: str = "") -> mido.MidiTrack:
    t = mido.MidiTrack()
    if name:
        t.append(mido.MetaMessage("track_name", name=name))
    t.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator))
    last = 0
    for beat, bpm in tempi:
        tick = round(beat * TPB)
        t.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - last))
        last = tick
    return t


def save(tracks, rel: str) -> None:
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    mid.tracks.extend(tracks)
    (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(ROOT / rel))


def write_pop909() -> None:
    save([conductor(POP_TEMPI, 1, 4), track("MELODY", pop_melody(), 0, POP_OFFSET),
          track("BRIDGE", pop_bridge(), 1, POP_OFFSET),
          track("PIANO", pop_piano(), 2, POP_OFFSET)], "pop909/001/001.mid")
    rows = []
    for i in range(POP_BEATS):
        sec = beat_seconds(i + POP_OFFSET)
        rows.append(f"{sec:.9f} {float(i % 2 == 0):.1f} {float(i in POP_DOWNBEATS):.1f}")
    (ROOT / "pop909/001/beat_midi.txt").write_text("\n".join(rows) + "\n")
    (ROOT / "pop909/001/chord_midi.txt").write_text("0.0\t1.0\tC:maj\n")
    # v1: the same music 1.5 beats later, another tempo, other track names, melody an octave
    # down; v2: other music altogether
    offset = POP_OFFSET + VERSION_SHIFT
    save([conductor([(0, 90.0)], 2, 4), track("Melody", pop_melody(), 0, offset, -12),
          track("piano", pop_piano(), 0, offset)], "pop909/001/versions/001-v1.mid")
    rng = random.Random(909)
    other = [(rng.randrange(0, 200) / 7, 0.3, rng.randrange(50, 80)) for _ in range(40)]
    save([conductor([(0, 90.0)], 2, 4), track("Melody", other, 0, 0.0)],
         "pop909/001/versions/001-v2.mid")
    # song 002 has no beat file: left out as no_beat_grid
    save([conductor([(0, 100.0)], 1, 4), track("MELODY", pop_melody(), 0, 0.0),
          track("PIANO", pop_piano(), 2, 0.0)], "pop909/002/002.mid")


# -- Nottingham-like: a jig in 6/8 with an eighth-note pickup, a reel in 4/4 ---------------------
JIG_PICKUP = 2.5          # beats: the first bar is rest-padded, as in the real files


def jig_melody() -> list[tuple[float, float, int]]:
    notes = [(JIG_PICKUP, 0.5, 67)]
    for bar in range(1, 5):
        for k in range(6):
            notes.append((3.0 * bar + 0.5 * k, 0.5, 67 + (bar + k) % 7))
    return notes


def jig_chords() -> list[tuple[float, float, int]]:
    return [(3.0 * bar, 3.0, p) for bar in range(1, 5) for p in (55, 59, 62)]


def reel_melody() -> list[tuple[float, float, int]]:
    return [(0.5 * k, 0.5, 62 + k % 8) for k in range(32)]


def write_nottingham() -> None:
    c68, c44 = conductor([(0, 120.0)], 6, 8), conductor([(0, 120.0)], 4, 4)
    save([c68, track("melody", jig_melody(), 0, 0), track("chords", jig_chords(), 1, 0)],
         "nottingham/combined/jigs1.mid")
    save([c68, track("melody", jig_melody(), 0, 0)], "nottingham/melody/jigs1.mid")
    save([c68, track("chords", jig_chords(), 1, 0)], "nottingham/chords/jigs1.mid")
    save([c44, track("melody", reel_melody(), 0, 0)], "nottingham/combined/reels1.mid")
    save([c44, track("melody", reel_melody(), 0, 0)], "nottingham/melody/reels1.mid")
    # cleaning cases
    save([c68, track("melody", jig_melody(), 0, 0)], "nottingham/melody/jigs1copy.mid")
    save([c44, track("melody", reel_melody()[:4], 0, 0)], "nottingham/melody/short1.mid")
    save([c44, track("melody", [], 0, 0)], "nottingham/melody/empty1.mid")
    (ROOT / "nottingham/melody/broken1.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")


# -- Groove-like: two bars of a rock beat on channel 10 -----------------------------------------
KICK, SNARE, HAT = 36, 38, 42


def groove_notes() -> list[tuple[float, float, int]]:
    notes = []
    for bar in range(2):
        for k in range(8):
            t = 4.0 * bar + 0.5 * k
            notes.append((t, 0.1, HAT))
            if k in (0, 4):
                notes.append((t, 0.1, KICK))
            if k in (2, 6):
                notes.append((t, 0.1, SNARE))
    return notes


def write_groove() -> None:
    save([conductor([(0, 120.0)], 4, 4), track("drums", groove_notes(), 9, 0.02)],
         "groove/drummer1/session1/1_rock_120_beat_4-4.mid")
    save([conductor([(0, 500.0)], 4, 4), track("drums", groove_notes(), 9, 0)],
         "groove/drummer1/session1/2_funk_500_beat_4-4.mid")


# -- WJD-like solo: a one-bar pickup numbered -1, a 3/4 bar at bar 4, varied tatums --------------
WJD_COLUMNS = ("bar", "beat", "beatdur", "denom", "division", "duration", "num", "onset",
               "period", "pitch", "subtatum", "tatum")
WJD_BEATDUR = 0.5   # seconds: 120 bpm
# (bar, num, beat, division, tatum, duration in beats, pitch); expected start in the piece
WJD_NOTES = [
    (-1, 4, 4, 2, 1, 0.5, 60),    # 3.0 (the pickup bar is the first bar: it starts at 0)
    (-1, 4, 4, 2, 2, 0.5, 62),    # 3.5
    (0, 4, 1, 1, 1, 1.0, 64),     # 4.0
    (0, 4, 2, 3, 2, 0.3, 65),     # 5 + 1/3
    (0, 4, 3, 4, 4, 0.25, 67),    # 6.75
    (1, 4, 1, 1, 1, 2.0, 69),     # 8.0
    (3, 4, 2, 2, 2, 0.5, 71),     # 16 + 1.5 = 17.5 (bar 2 has no notes)
    (4, 3, 1, 1, 1, 1.0, 72),     # 20.0 (a 3/4 bar)
    (4, 3, 3, 2, 2, 0.5, 71),     # 22.5
    (5, 4, 1, 1, 1, 4.0, 69),     # 23.0
]
WJD_STARTS = [3.0, 3.5, 4.0, 5 + 1 / 3, 6.75, 8.0, 17.5, 20.0, 22.5, 23.0]


def write_wjd() -> None:
    lines = [",".join(WJD_COLUMNS)]
    for (bar, num, beat, div, tatum, dur, pitch), start in zip(WJD_NOTES, WJD_STARTS,
                                                               strict=True):
        row = {"bar": bar, "beat": beat, "beatdur": WJD_BEATDUR, "denom": 4, "division": div,
               "duration": dur * WJD_BEATDUR, "num": num, "onset": 1.0 + start * WJD_BEATDUR,
               "period": num, "pitch": float(pitch), "subtatum": 0, "tatum": tatum}
        lines.append(",".join(str(row[c]) for c in WJD_COLUMNS))
    (ROOT / "wjd/melody").mkdir(parents=True, exist_ok=True)
    (ROOT / "wjd/melody/Tester_Tune_Solo.csv").write_text("\n".join(lines) + "\n")
    (ROOT / "wjd/melody/Tester_Broken_Solo.csv").write_text("bar,beat,pitch\n1,1,60\n")


# -- the manifest ------------------------------------------------------------------------------
MANIFEST = [
    ("pop909/001/001.mid", "pop909", "pop909:001", "train", "pop"),
    ("pop909/001/beat_midi.txt", "pop909", "pop909:001", "train", "pop"),
    ("pop909/001/chord_midi.txt", "pop909", "pop909:001", "train", "pop"),
    ("pop909/001/versions/001-v1.mid", "pop909", "pop909:001", "train", "pop"),
    ("pop909/001/versions/001-v2.mid", "pop909", "pop909:001", "train", "pop"),
    ("pop909/002/002.mid", "pop909", "pop909:002", "val", "pop"),
    ("nottingham/combined/jigs1.mid", "nottingham", "nottingham:jigs1", "train", "folk,jig"),
    ("nottingham/melody/jigs1.mid", "nottingham", "nottingham:jigs1", "train", "folk,jig"),
    ("nottingham/chords/jigs1.mid", "nottingham", "nottingham:jigs1", "train", "folk,jig"),
    ("nottingham/combined/reels1.mid", "nottingham", "nottingham:reels1", "val", "folk,reel"),
    ("nottingham/melody/reels1.mid", "nottingham", "nottingham:reels1", "val", "folk,reel"),
    ("nottingham/melody/jigs1copy.mid", "nottingham", "nottingham:jigs1copy", "val",
     "folk,jig"),
    ("nottingham/melody/short1.mid", "nottingham", "nottingham:short1", "train", "folk,reel"),
    ("nottingham/melody/empty1.mid", "nottingham", "nottingham:empty1", "train", "folk,reel"),
    ("nottingham/melody/broken1.mid", "nottingham", "nottingham:broken1", "train", "folk,reel"),
    ("groove/drummer1/session1/1_rock_120_beat_4-4.mid", "groove",
     "groove:drummer1/session1:rock:120", "train", "drums,rock"),
    ("groove/drummer1/session1/2_funk_500_beat_4-4.mid", "groove",
     "groove:drummer1/session1:funk:500", "val", "drums,funk"),
    ("wjd/melody/Tester_Tune_Solo.csv", "wjd", "wjd:tune", "train", "jazz,bebop"),
    ("wjd/melody/Tester_Broken_Solo.csv", "wjd", "wjd:broken", "val", "jazz,cool"),
]


def write_manifest() -> None:
    import hashlib

    lines = ["path\tdataset\tgroup\tsplit\tlabels\tsha256"]
    for path, dataset, group, split, labels in MANIFEST:
        sha = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        lines.append("\t".join((path, dataset, group, split, labels, sha)))
    (ROOT / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    write_pop909()
    write_nottingham()
    write_groove()
    write_wjd()
    write_manifest()


if __name__ == "__main__":
    main()
