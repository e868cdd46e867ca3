from pathlib import Path

import mido
import pytest

from bridge.music.midifile import SHORTEST, MidiFileError, read_midi, write_midi
from bridge.music.piece import Note, Piece
from bridge.vocab import TICKS_PER_BEAT, Meter


def test_write_then_read_keeps_notes_meter_and_drums(tmp_path: Path):
    piece = Piece([Note(0, 1, 60, 100), Note(1.5, 0.25, 36, 90, drum=True),
                   Note(2, 3, 67, 64)], Meter([(0, 72)]), tempo=96)
    path = tmp_path / "x.mid"
    write_midi(piece, path)
    back = read_midi(path)
    assert [(n.start, n.duration, n.pitch, n.velocity, n.drum) for n in back.notes] == \
        [(n.start, n.duration, n.pitch, n.velocity, n.drum) for n in piece.notes]
    assert back.meter.changes == [(0, 72)] and round(back.tempo) == 96


def test_overlapping_same_pitch_retriggers(tmp_path: Path):
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    tr += [mido.Message("note_on", note=60, velocity=90, time=0),
           mido.Message("note_on", note=60, velocity=80, time=480),
           mido.Message("note_off", note=60, time=480)]
    mid.tracks.append(tr)
    mid.save(tmp_path / "r.mid")
    notes = read_midi(tmp_path / "r.mid").notes
    assert [(n.start, n.duration, n.velocity) for n in notes] == [(0, 1, 90), (1, 1, 80)]


def test_garbage_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00")
    with pytest.raises(MidiFileError, match=r"bad\.mid"):
        read_midi(bad)
    bad.write_bytes(b"MThd\xe9\x7c\x1c\x29\x00\x84\x89\xfc\x18\x47" + bytes(64))
    with pytest.raises(MidiFileError, match=r"unreadable MIDI file \(its header says type"):
        read_midi(bad)                         # a header of garbage ("no notes" before)


def test_a_data_byte_above_127_is_read_as_127_and_said(tmp_path: Path, caplog):
    """A damaged file's velocity byte of 200 (mido clips it silently when asked to)."""
    events = bytes([0, 0x90, 60, 200, 0x60, 0x80, 60, 0, 0, 0xFF, 0x2F, 0])
    path = tmp_path / "damaged.mid"
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 0, 0x60])
                     + b"MTrk" + len(events).to_bytes(4, "big") + events)
    with caplog.at_level("WARNING", logger="bridge.music.midifile"):
        [note] = read_midi(path).notes
    assert (note.pitch, note.velocity, note.duration) == (60, 127, 1.0)
    assert "above 127" in caplog.text and "damaged.mid" in caplog.text


def test_downbeat_overrides_a_lying_time_signature(tmp_path: Path):
    piece = Piece([Note(1, 1, 60, 100)], Meter([(0, 24)]))   # a 1/4 signature
    write_midi(piece, tmp_path / "p.mid")
    meter = read_midi(tmp_path / "p.mid", downbeat=1.0).meter
    assert meter.bar_start(24) == 24


def test_parts_travel_through_a_midi_file(tmp_path):
    """A track per part, named after it, each on its own channel: read back, every note
    keeps its part, and the same pitch in two parts does not cut itself short."""
    from bridge.vocab import BASS, DRUMS, HARMONY, MELODY

    notes = [Note(0, 2, 60, 80, part=MELODY), Note(1, 2, 60, 70, part=HARMONY),
             Note(0, 4, 36, 90, part=BASS), Note(0, 0.5, 38, 100, drum=True, part=DRUMS)]
    write_midi(Piece(notes), tmp_path / "parts.mid")
    mid = mido.MidiFile(str(tmp_path / "parts.mid"))
    assert [t.name for t in mid.tracks[1:]] == ["melody", "harmony", "bass", "drums"]
    back = read_midi(tmp_path / "parts.mid")
    assert sorted((n.start, n.duration, n.pitch, n.part) for n in back.notes) == \
        sorted((n.start, n.duration, n.pitch, n.part) for n in notes)


def test_a_note_released_the_instant_it_starts_is_a_hit(tmp_path: Path):
    """Drum parts are often written as note-on and note-off at one tick: each is a hit."""
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    for i in range(4):
        tr += [mido.Message("note_on", channel=9, note=36, velocity=100, time=0 if i == 0 else 240),
               mido.Message("note_off", channel=9, note=36, time=0)]
    tr += [mido.Message("note_on", note=60, velocity=90, time=0),   # struck twice at once:
           mido.Message("note_on", note=60, velocity=80, time=0),   # one note
           mido.Message("note_off", note=60, time=480)]
    mid.tracks.append(tr)
    mid.save(tmp_path / "hits.mid")
    notes = read_midi(tmp_path / "hits.mid").notes
    hits = [n for n in notes if n.drum]
    assert [n.start for n in hits] == [0, 0.5, 1.0, 1.5]
    assert all(n.duration == SHORTEST for n in hits)
    assert [(n.start, n.duration, n.velocity) for n in notes if not n.drum] == [(1.5, 1, 80)]


def test_a_truncated_file_says_so(tmp_path: Path):
    bad = tmp_path / "cut.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(MidiFileError, match=r"cut\.mid: unreadable MIDI file \(.+\)"):
        read_midi(bad)
    (tmp_path / "empty.mid").write_bytes(b"")
    with pytest.raises(MidiFileError, match=r"empty\.mid: empty file"):
        read_midi(tmp_path / "empty.mid")
    for name, data in (("short.mid", b"MTh"), ("text.mid", b"notes")):
        (tmp_path / name).write_bytes(data)              # short or long, the same answer
        with pytest.raises(MidiFileError, match=name + r": not a MIDI file \(it does not"):
            read_midi(tmp_path / name)
    zero = tmp_path / "zero.mid"                          # a header of 0 ticks per beat
    zero.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00")
    with pytest.raises(MidiFileError, match=r"zero\.mid: its header gives 0 ticks per beat"):
        read_midi(zero)


def _conducted(path: Path, signatures, tempos) -> None:
    """A file of one note a beat for 24 beats, with these time signatures
    ((beat, numerator, denominator)) and tempos ((beat, microseconds a beat))."""
    events = [(round(b * 480), mido.MetaMessage("time_signature", numerator=n, denominator=d))
              for b, n, d in signatures]
    events += [(round(b * 480), mido.MetaMessage("set_tempo", tempo=t)) for b, t in tempos]
    for beat in range(24):
        events += [(beat * 480, mido.Message("note_on", note=60, velocity=80)),
                   (beat * 480 + 240, mido.Message("note_off", note=60))]
    track, last = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: (e[0], not e[1].is_meta)):
        track.append(msg.copy(time=tick - last))
        last = tick
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(path)


def test_tempo_changes_and_compound_meters_are_written_back(tmp_path: Path):
    _conducted(tmp_path / "in.mid", [(0, 4, 4), (8, 6, 8), (20, 12, 8)],
               [(0, 666_667), (8, 428_571)])
    piece = read_midi(tmp_path / "in.mid")
    write_midi(piece, tmp_path / "out.mid")
    mid = mido.MidiFile(tmp_path / "out.mid")
    metas, now = [], 0
    for msg in mid.tracks[0]:
        now += msg.time
        if msg.type == "set_tempo":
            metas.append((now / 480, round(mido.tempo2bpm(msg.tempo))))
        elif msg.type == "time_signature":
            metas.append((now / 480, f"{msg.numerator}/{msg.denominator}"))
    assert metas == [(0, 90), (0, "4/4"), (8, 140), (8, "6/8"), (20, "12/8")]
    assert read_midi(tmp_path / "out.mid").notes == piece.notes
    assert round(piece.tempo_at(7.9)) == 90 and round(piece.tempo_at(8)) == 140


def test_a_time_signature_of_no_beats_is_no_meter(tmp_path: Path):
    _conducted(tmp_path / "none.mid", [(0, 0, 4)], [(0, 500_000)])
    piece = read_midi(tmp_path / "none.mid")                 # (its bars were of one tick)
    assert piece.signatures == () and piece.meter.changes == Meter().changes   # as if none
    _conducted(tmp_path / "later.mid", [(0, 0, 4), (8, 3, 4)], [(0, 500_000)])
    piece = read_midi(tmp_path / "later.mid")
    assert piece.signatures == ((8 * TICKS_PER_BEAT, 3, 4),)
    assert piece.meter.bar_length(8 * TICKS_PER_BEAT) == 3 * TICKS_PER_BEAT


def test_a_tempo_of_zero_is_a_clear_error(tmp_path: Path):
    _conducted(tmp_path / "zero.mid", [(0, 4, 4)], [(0, 0)])
    with pytest.raises(MidiFileError, match=r"zero\.mid: a tempo of 0"):
        read_midi(tmp_path / "zero.mid")


def _performance(tmp_path: Path) -> Path:
    """A violin (program 40) on channel 0 with a pedal and a lyric, two bars of half notes
    and a note held across the line at beat 8; a tempo change after it."""
    track = mido.MidiTrack([
        mido.MetaMessage("track_name", name="violin"),
        mido.Message("program_change", channel=0, program=40),
        mido.Message("control_change", channel=0, control=64, value=127),
        mido.MetaMessage("lyrics", text="la")])
    tpb = 480
    events = []
    for i in range(4):
        events += [(i * 2 * tpb, mido.Message("note_on", note=60 + i, velocity=70)),
                   (i * 2 * tpb + tpb, mido.Message("note_off", note=60 + i))]
    events += [(7 * tpb, mido.Message("note_on", note=72, velocity=70)),
               (10 * tpb, mido.Message("note_off", note=72)),
               (9 * tpb, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)))]
    last = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - last))
        last = tick
    mid = mido.MidiFile(type=0, ticks_per_beat=tpb)
    mid.tracks.append(track)
    mid.save(tmp_path / "violin.mid")
    return tmp_path / "violin.mid"


def _timed(track):
    now = 0
    for msg in track:
        now += msg.time
        yield now, msg


def test_a_cut_keeps_what_was_written_before_it_and_releases_what_sounds(tmp_path: Path):
    from bridge.music.midifile import cut

    mid = mido.MidiFile(_performance(tmp_path))
    [track] = cut(mid, 8.0).tracks
    kept = list(_timed(track))
    assert [m.type for _, m in kept[:4]] == ["track_name", "program_change", "control_change",
                                             "lyrics"]
    assert all(t <= 8 * 480 for t, _ in kept)
    assert not any(m.type == "set_tempo" for _, m in kept)          # (after the cut)
    at_end = [m for t, m in kept if t == 8 * 480]
    assert mido.Message("note_off", note=72) in [m.copy(time=0) for m in at_end]
    assert mido.Message("control_change", control=64, value=0) in [m.copy(time=0)
                                                                  for m in at_end]


def test_a_cut_strikes_no_pitch_again_while_it_sounds(tmp_path: Path):
    """A file that strikes a pitch again without releasing it (on, on, off; or never
    off; or on four times, then off four times) comes back with the earlier note released
    first, and no release of a voice it no longer stacks: a synth that stacks a voice for
    every note-on and releases one per note-off ends with nothing sounding."""
    from bridge.music.midifile import cut

    track = mido.MidiTrack()
    for i in range(8):                 # on, on, off at one instant; then on, never off
        track += [mido.Message("note_on", note=60, velocity=80, time=0 if i == 0 else 240),
                  mido.Message("note_on", note=60, velocity=70, time=0),
                  mido.Message("note_off", note=60, time=0),
                  mido.Message("note_on", note=64 + i % 2, velocity=90, time=120)]
    track += [mido.Message("note_on", note=67, velocity=80, time=120) for _ in range(4)]
    track += [mido.Message("note_off", note=67, time=120 if i == 0 else 0) for i in range(4)]
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(track)
    [out] = cut(mid, 12.0).tracks
    voices: dict[int, int] = {}
    for msg in out:
        if msg.type == "note_on" and msg.velocity > 0:
            assert voices.get(msg.note, 0) == 0, f"{msg.note} struck while it sounds"
            voices[msg.note] = 1
        elif msg.type in ("note_on", "note_off"):
            assert voices.get(msg.note, 0) == 1, f"{msg.note} released without its note"
            voices[msg.note] = 0
    assert not any(voices.values())
    assert sum(m.type == "note_on" for m in out) == 28                # every note kept


def test_a_continuation_follows_the_file_as_written_on_its_instrument(tmp_path: Path):
    from bridge.music.midifile import continued

    path = _performance(tmp_path)
    more = Piece([Note(8 + i, 0.5, 70 + i, 90, part=0) for i in range(4)]
                 + [Note(8, 4.0, 40, 80, part=2), Note(8.5, 0.25, 36, 100, drum=True, part=3)])
    out = continued(mido.MidiFile(path), 8.0, more)
    out.save(tmp_path / "out.mid")
    original = [m for m in mido.MidiFile(path).tracks[0] if m.type != "end_of_track"]
    assert list(out.tracks[0])[:8] == original[:8]               # the prompt as written
    new = out.tracks[1:]
    assert [t.name for t in new] == ["melody", "bass", "drums"]
    programs = [m for t in new for m in t if m.type == "program_change"]
    assert {m.program for m in programs} == {40}                  # the violin plays on
    assert not any(m.type == "program_change" for m in new[2])    # (the drums: none)
    channels = {m.channel for t in new[:2] for m in t if m.type == "note_on"}
    assert len(channels) == 2 and 0 not in channels and 9 not in channels
    assert {m.channel for m in new[2] if m.type == "note_on"} == {9}
    back = read_midi(tmp_path / "out.mid")
    assert sorted((n.start, n.pitch) for n in back.notes if n.start >= 8) == \
        sorted((n.start, n.pitch) for n in more.notes)


def test_a_band_goes_on_each_part_on_its_own_instrument(tmp_path: Path):
    """A lead (program 80), electric piano (4) and finger bass (33): the parts read from
    them keep their programs, and the continuation's bass plays the bass's, its harmony
    the piano's (every part track played the busiest channel's: a bass on a square lead)."""
    from bridge.music.midifile import continued
    from bridge.vocab import BASS, HARMONY, MELODY

    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    lines = {0: ("lead", 80, [72, 74, 76, 77, 79, 77, 76, 74]), 1: ("keys", 4, [60, 64, 67]),
             2: ("bass", 33, [36, 43])}
    for channel, (name, program, pitches) in lines.items():
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name),
                                mido.Message("program_change", channel=channel,
                                             program=program)])
        for beat in range(8):                     # lead: a line; keys: a chord; bass: roots
            chord = [pitches[beat % len(pitches)]] if channel != 1 else pitches
            track += [mido.Message("note_on", channel=channel, note=p, velocity=80, time=0)
                      for p in chord]
            track += [mido.Message("note_off", channel=channel, note=p, time=480 if i == 0
                                   else 0) for i, p in enumerate(chord)]
        mid.tracks.append(track)
    mid.save(tmp_path / "band.mid")
    piece = read_midi(tmp_path / "band.mid")
    assert dict(piece.programs) == {MELODY: 80, HARMONY: 4, BASS: 33}
    more = Piece([Note(8, 1.0, 60, 80, part=HARMONY), Note(8, 1.0, 36, 80, part=BASS)])
    out = continued(mido.MidiFile(tmp_path / "band.mid"), 8.0, more, piece.programs)
    plays = {t.name: [m.program for m in t if m.type == "program_change"]
             for t in out.tracks[3:]}
    assert plays == {"harmony": [4], "bass": [33]}


def test_with_every_channel_taken_a_continuation_plays_on_the_busiest(tmp_path: Path):
    from bridge.music.midifile import continued

    track = mido.MidiTrack([mido.Message("program_change", channel=c, program=c)
                            for c in range(16)])
    for c in range(16):                               # channel 5 plays most
        for _ in range(3 if c == 5 else 1):
            track += [mido.Message("note_on", channel=c, note=60, velocity=80, time=0),
                      mido.Message("note_off", channel=c, note=60, time=240)]
    mid = mido.MidiFile(type=1)
    mid.tracks.append(track)
    out = continued(mid, 100.0, Piece([Note(101, 1.0, 64, 80, part=0)]))
    [new] = out.tracks[1:]
    assert [(m.type, m.channel) for m in new if not m.is_meta] == [("note_on", 5),
                                                                   ("note_off", 5)]
