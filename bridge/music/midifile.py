"""Standard MIDI files <-> :class:`Piece`."""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import mido

from bridge.music.parts import label_streams
from bridge.music.piece import Note, Piece
from bridge.vocab import NO_PART, PARTS, TICKS_PER_BEAT, Meter

log = logging.getLogger(__name__)

DRUM_CHANNEL = 9
SUSTAIN = 64                     # the sustain pedal's controller
SHORTEST = 1 / TICKS_PER_BEAT    # beats: a note released the instant it starts (a drum hit
                                 # written as on and off at one tick) still sounds this long


class MidiFileError(ValueError):
    """A MIDI file that cannot be read as music."""


def open_midi(path: str | Path) -> mido.MidiFile:
    """The file as mido reads it, or a :class:`MidiFileError` that says why not."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"MThd":
            try:
                mid = mido.MidiFile(str(path))
            except (OSError, ValueError) as exc:   # a data byte above 127: read as 127
                if "data byte" not in str(exc):
                    raise
                log.warning("%s: data bytes above 127 (a damaged file?) were read as 127: "
                            "its velocities or controllers may be off there", path)
                mid = mido.MidiFile(str(path), clip=True)
            if mid.type not in (0, 1, 2):                       # a header of garbage
                raise ValueError(f"its header says type {mid.type}")
            return mid
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        why = "it ends too soon" if isinstance(exc, EOFError) else str(exc) or type(exc).__name__
        raise MidiFileError(f"{path}: unreadable MIDI file ({why})") from None
    raise MidiFileError(f"{path}: " + ("not a MIDI file (it does not begin with MThd)" if head
                                       else "empty file"))


def read_midi(
    path: str | Path,
    *,
    track_filter: Callable[[str], bool] | None = None,
    downbeat: float | None = None,
    part: int = NO_PART,
) -> Piece:
    """Read a MIDI file. Channel 10 is drums; ``track_filter`` keeps tracks by name;
    ``downbeat`` (in beats) overrides the bar phase when the file's time signature lies.
    Every note gets its part (:mod:`bridge.music.parts`): ``part`` when the whole file is
    known to be one, else from its track's name and what it plays."""
    mid = open_midi(path)
    if mid.type == 2:
        raise MidiFileError(f"{path}: type 2 MIDI files are not supported")
    tpb = mid.ticks_per_beat
    if tpb == 0:
        raise MidiFileError(f"{path}: its header gives 0 ticks per beat")
    if not 0 < tpb < 0x8000:
        raise MidiFileError(f"{path}: SMPTE time division is not supported")

    # a filter never drops a track without notes: it may hold the tempo and the meter
    tracks = [t for t in mid.tracks if track_filter is None or track_filter(t.name)
              or not any(m.type == "note_on" for m in t)]
    streams: dict[tuple[int, int], list[Note]] = {}    # (track, channel) -> its notes
    sounding: dict[tuple[int, int], tuple[int, int, int]] = {}   # -> (start, velocity, track)
    meter_changes: list[tuple[int, int]] = []
    tempo: float | None = None
    tempo_changes: list[tuple[float, float]] = []
    signatures: list[tuple[int, int, int]] = []
    program: dict[int, int] = {}                       # channel -> its last program
    now = 0

    def close(key: tuple[int, int], end: int, released: bool = True) -> None:
        """The note sounding on ``key`` ends at ``end``: ``released`` by a note-off (one
        at its very start is a hit, given ``SHORTEST``), or struck again (at its very start:
        one note, not two)."""
        start, velocity, track = sounding.pop(key)
        if end > start or released:
            duration = (end - start) / tpb if end > start else SHORTEST
            streams.setdefault((track, key[0]), []).append(Note(
                start / tpb, duration, key[1], velocity, drum=key[0] == DRUM_CHANNEL))

    for now, track, msg in _merged(tracks):
        if msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            if key in sounding:
                close(key, now, released=False)
            sounding[key] = (now, msg.velocity, track)
        elif msg.type in ("note_off", "note_on"):
            if (msg.channel, msg.note) in sounding:
                close((msg.channel, msg.note), now)
        elif msg.type == "set_tempo":
            if msg.tempo <= 0:
                raise MidiFileError(f"{path}: a tempo of {msg.tempo} microseconds per beat")
            if now == 0:                         # (at the start, the last one holds)
                tempo = mido.tempo2bpm(msg.tempo)
            else:                                # (before the first: MIDI's 120 bpm)
                tempo = tempo or 120.0
                tempo_changes.append((now / tpb, mido.tempo2bpm(msg.tempo)))
        elif msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "time_signature" and msg.numerator > 0:   # (0 beats: no meter)
            tick = round(now * TICKS_PER_BEAT / tpb)
            meter_changes.append((tick, Meter.bar_ticks_of(msg.numerator, msg.denominator)))
            signatures.append((tick, msg.numerator, msg.denominator))
    for key in list(sounding):
        close(key, now)

    if downbeat is not None:
        length = meter_changes[-1][1] if meter_changes else 4 * TICKS_PER_BEAT
        meter = Meter([(round(downbeat * TICKS_PER_BEAT) % length, length)])
    else:
        meter = Meter(meter_changes or None)
    notes = label_streams([(tracks[t].name, part, ns) for (t, _), ns in sorted(streams.items())])
    return Piece(notes, meter, tempo=tempo or 120.0, name=Path(path).stem,
                 tempo_changes=tuple(tempo_changes),
                 signatures=() if downbeat is not None else tuple(signatures),
                 programs=_programs(notes, streams, program))


def _programs(notes: list[Note], streams: dict[tuple[int, int], list[Note]],
              program: dict[int, int]) -> tuple[tuple[int, int], ...]:
    """(part, program) for each pitched part: the program of the channel that played most
    of its notes, where the file set one."""
    channel = {(n.start, n.pitch): ch for (_, ch), ns in streams.items() for n in ns
               if not n.drum}
    busiest: dict[int, Counter] = {}
    for n in notes:
        if not n.drum and (n.start, n.pitch) in channel:
            busiest.setdefault(n.part, Counter())[channel[n.start, n.pitch]] += 1
    return tuple(sorted((part, program[ch]) for part, counts in busiest.items()
                        if (ch := counts.most_common(1)[0][0]) in program))


def piece_to_midi(piece: Piece, *, channel: int = 0, tpb: int = 480) -> mido.MidiFile:
    """A type-1 file: a conductor track (tempos and meter from ``piece``: its time
    signatures as its file wrote them where they agree with the meter), and the piece's
    notes (a track per part, named after it, on ``channel`` + the part's index, so the same
    pitch in two parts never cuts itself short)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    conductor = mido.MidiTrack()
    events: list[tuple[int, int, mido.MetaMessage]] = [
        (round(beat * tpb), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
        for beat, bpm in ((0.0, piece.tempo), *piece.tempo_changes)]
    written = {tick: (n, d) for tick, n, d in piece.signatures}
    for tick, length in piece.meter.changes:
        sig = written.get(tick)
        numerator, denominator = sig if sig and Meter.bar_ticks_of(*sig) == length \
            else _time_signature(length)
        events.append((max(0, tick) * tpb // TICKS_PER_BEAT, 1, mido.MetaMessage(
            "time_signature", numerator=numerator, denominator=denominator)))
    conductor.extend(_delta(events))
    mid.tracks.append(conductor)

    mid.tracks.extend(_part_tracks(piece, tpb, lambda _, part: _part_channel(channel, part)))
    return mid


def _part_tracks(piece: Piece, tpb: int, channel_of: Callable[[int, int], int],
                 program: Callable[[int], int | None] = lambda _: None
                 ) -> list[mido.MidiTrack]:
    """A track per part of ``piece``, named after it (one empty track when it has no
    notes): the ``i``-th part's notes on ``channel_of(i, part)`` (drums on theirs), after
    setting that channel's ``program(part)`` when it gives one and the part has pitched
    notes."""
    parts = sorted({n.part for n in piece.notes})
    tracks = []
    for i, part in enumerate(parts or [NO_PART]):
        channel = channel_of(i, part)
        pitched = any(not n.drum for n in piece.notes if n.part == part)
        plays = program(part)
        events: list[tuple[int, int, mido.Message]] = [] if plays is None or not pitched \
            else [(0, 0, mido.Message("program_change", channel=channel, program=plays))]
        for n in piece.notes:
            if n.part == part:
                ch = DRUM_CHANNEL if n.drum else channel
                on, off = round(n.start * tpb), round(n.end * tpb)
                events.append((on, 2, mido.Message("note_on", channel=ch, note=n.pitch,
                                                   velocity=n.velocity)))
                events.append((max(off, on + 1), 1,
                               mido.Message("note_off", channel=ch, note=n.pitch)))
        name = PARTS[part] if part != NO_PART else piece.name or "continuo"
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        track.extend(_delta(events))
        tracks.append(track)
    return tracks


def _part_channel(channel: int, part: int) -> int:
    """The channel of a part's track: melody on ``channel``, harmony and bass after it
    (stepping over the drum channel); drums use theirs anyway."""
    out = channel
    for _ in range(max(part, 0)):
        out = (out + 1) % 16
        if out == DRUM_CHANNEL:
            out = (out + 1) % 16
    return out


def write_midi(piece: Piece, path: str | Path, **kwargs) -> None:
    piece_to_midi(piece, **kwargs).save(str(path))


def cut(mid: mido.MidiFile, end: float) -> mido.MidiFile:
    """``mid`` as it was written up to ``end`` (beats), every track with everything on it
    before then (programs, controllers, pedals, lyrics, tempos): a note sounding at ``end``
    is released there, a sustain pedal held then is lifted, nothing after it is kept. A
    pitch struck again while it sounds is released just before (as :func:`read_midi` hears
    it), so a synth that stacks voices is left with nothing hanging, and the file's own
    release of the voice that is no longer stacked is left out (no note-off without its
    note)."""
    end_tick = round(end * mid.ticks_per_beat)
    out = mido.MidiFile(type=1, ticks_per_beat=mid.ticks_per_beat)
    for track in mid.tracks:
        events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
        sounding: set[tuple[int, int]] = set()
        owed: dict[tuple[int, int], int] = {}      # releases given early, not yet reached
        pedal: set[int] = set()
        now = 0
        for msg in track:
            now += msg.time
            if now >= end_tick:
                break
            if msg.type == "end_of_track":
                continue
            if msg.type == "note_on" and msg.velocity > 0:
                key = (msg.channel, msg.note)
                if key in sounding:                          # (kept in order: stable sort)
                    events.append((now, 1, mido.Message("note_off", channel=msg.channel,
                                                        note=msg.note)))
                    owed[key] = owed.get(key, 0) + 1
                sounding.add(key)
            elif msg.type in ("note_on", "note_off"):
                key = (msg.channel, msg.note)
                if key not in sounding and owed.get(key):
                    owed[key] -= 1                           # (given before: left out)
                    continue
                sounding.discard(key)
            elif msg.type == "control_change" and msg.control == SUSTAIN:
                (pedal.add if msg.value >= 64 else pedal.discard)(msg.channel)
            events.append((now, 1, msg))
        events += [(end_tick, 0, mido.Message("note_off", channel=c, note=n))
                   for c, n in sorted(sounding)]
        events += [(end_tick, 0, mido.Message("control_change", channel=c, control=SUSTAIN,
                                              value=0)) for c in sorted(pedal)]
        out.tracks.append(mido.MidiTrack(_delta(events)))
    return out


def continued(mid: mido.MidiFile, end: float, continuation: Piece,
              programs: tuple[tuple[int, int], ...] = ()) -> mido.MidiFile:
    """``mid`` up to ``end`` (beats; :func:`cut`), then ``continuation`` on tracks of its
    own, a track per part, each on a channel ``mid`` leaves free (drums on channel 10),
    playing the program ``programs`` gives its part (``Piece.programs``: the file's bass
    on its bass's instrument), else the one the file's busiest pitched channel had at
    ``end`` (with no channel free, on that channel itself): the prompt as it was written,
    and the continuation on the instruments that played it."""
    out = cut(mid, end)
    used, program, notes = set(), {}, Counter()
    for _, _, msg in _merged(out.tracks):          # (a cut file: up to end only)
        if msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "note_on" and msg.velocity > 0:
            used.add(msg.channel)
            if msg.channel != DRUM_CHANNEL:
                notes[msg.channel] += 1
    busiest = notes.most_common(1)[0][0] if notes else 0
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    by_part = dict(programs)
    if free:
        channel_of, plays = (lambda i, _: free[i % len(free)]), \
            (lambda part: by_part.get(part, program.get(busiest, 0)))
    else:                         # every channel taken: on the busiest, as it is set up
        channel_of, plays = (lambda *_: busiest), (lambda _: None)
    out.tracks.extend(_part_tracks(continuation, mid.ticks_per_beat, channel_of, plays))
    return out


def _merged(tracks: list[mido.MidiTrack]):
    """(absolute tick, track index, message) over all tracks in time order, without copying
    messages."""
    def timed(index: int, track: mido.MidiTrack):
        now = 0
        for order, msg in enumerate(track):
            now += msg.time
            yield now, index, order, msg
    for now, index, _, msg in heapq.merge(*(timed(i, t) for i, t in enumerate(tracks))):
        yield now, index, msg


def _time_signature(bar_ticks: int) -> tuple[int, int]:
    """Bar length in ticks -> the plainest signature: quarters when whole, else eighths."""
    if bar_ticks % TICKS_PER_BEAT == 0:
        return bar_ticks // TICKS_PER_BEAT, 4
    if bar_ticks % (TICKS_PER_BEAT // 2) == 0:
        return bar_ticks // (TICKS_PER_BEAT // 2), 8
    return max(1, round(bar_ticks / (TICKS_PER_BEAT // 4))), 16


def _delta(events: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> list:
    """Absolute (tick, order, message) -> messages with delta times (note-offs first)."""
    out, last = [], 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        out.append(msg.copy(time=tick - last))
        last = tick
    return out
