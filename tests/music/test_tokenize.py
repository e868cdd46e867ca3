import random
from dataclasses import replace

from bridge.music.piece import Note, Piece
from bridge.music.tokenize import LiveEncoder, decode, encode, to_tick
from bridge.vocab import (
    BAR,
    BASS,
    DRUMS,
    HARMONY,
    K_BAR,
    K_DUR,
    K_PART,
    K_PITCH,
    K_SUB,
    K_VEL,
    KIND,
    MELODY,
    PART_BASE,
    PARTS,
    TICKS_PER_BEAT,
    Meter,
    duration_bin,
    duration_step,
)


def _piece(seed: int = 0, drums: bool = False) -> Piece:
    rng = random.Random(seed)
    notes = []
    t = 0.0
    for _ in range(200):
        t += rng.choice([0, 0.25, 1 / 3, 0.5, 0.125, 1.0])
        notes.append(Note(t, rng.choice([0.1, 0.25, 0.5, 1.5, 3.7, 9.0]),
                          rng.randrange(30, 90), rng.randrange(1, 128), drums))
    return Piece(notes, Meter([(0, 72)]))


def _check_round_trip(piece: Piece) -> None:
    tokens = encode(piece)
    origin = piece.meter.bar_start(to_tick(piece.notes[0].start))
    back = decode(tokens, piece.meter, origin)
    src = sorted({(to_tick(n.start), n.drum, n.pitch): n for n in piece.notes}.items())
    back = sorted(back, key=lambda b: (to_tick(b.start), b.drum, b.pitch))
    assert len(back) == len(src)
    for ((_, drum, pitch), n), b in zip(src, back, strict=True):
        assert (b.pitch, b.drum) == (pitch, drum)
        assert abs(b.start - n.start) * TICKS_PER_BEAT <= 0.5 + 1e-9
        ticks = n.duration * TICKS_PER_BEAT
        tolerance = 0.5 + duration_step(duration_bin(ticks)) / 2 + max(0, ticks - 384)
        assert abs(b.end - n.end) * TICKS_PER_BEAT <= tolerance + 0.5 + 1e-9


def test_round_trip_pitched_and_drums():
    _check_round_trip(_piece(1))
    _check_round_trip(_piece(2, drums=True))


def test_chords_share_a_time_position():
    piece = Piece([Note(0, 1, 60, 80), Note(0, 1, 64, 80), Note(0, 1, 67, 80)])
    tokens = encode(piece)
    assert tokens.count(BAR) == 1 and len(tokens) == 1 + 1 + 3 * 3   # BAR, PART, 3 notes
    assert KIND[tokens[1]] == K_PART


def test_parts_are_said_when_they_change_and_decoded_back():
    notes = [Note(0, 1, 72, 80, part=MELODY), Note(0, 1, 60, 80, part=HARMONY),
             Note(0, 1, 36, 80, part=BASS), Note(1, 1, 62, 80, part=HARMONY),
             Note(2, 1, 74, 80, part=MELODY), Note(2, .5, 42, 80, drum=True)]
    tokens = encode(Piece(notes))
    parts = [PARTS[t - PART_BASE] for t in tokens if KIND[t] == K_PART]
    assert parts == ["melody", "harmony", "bass", "harmony", "melody", "drums"]
    back = decode(tokens)
    assert sorted((n.start, n.pitch, n.part) for n in back) == \
        sorted((n.start, n.pitch, DRUMS if n.drum else n.part) for n in notes)


def test_live_encoder_matches_the_offline_encoding():
    piece = _piece(3)
    piece.notes[:] = [replace(n, part=MELODY) for n in piece.notes]   # what a session plays
    offline = encode(piece)
    live = LiveEncoder(piece.meter)
    events = []
    for n in piece.notes:
        events.append((to_tick(n.start), 1, n))
        events.append((max(to_tick(n.end), to_tick(n.start) + 1), 0, n))
    out = []
    # replay in time order; note-offs first at equal times (as MIDI files are read)
    for tick, on, n in sorted(events, key=lambda e: (e[0], e[1])):
        if on:
            out += live.note_on(tick, n.pitch, n.velocity, n.drum)
        else:
            out += live.note_off(tick, n.pitch, n.drum)
    out += live.release(10**9)
    # the live stream quantises releases to ticks before binning: same notes, same times
    back_live = decode(out, piece.meter, piece.meter.bar_start(to_tick(piece.notes[0].start)))
    back_off = decode(offline, piece.meter, piece.meter.bar_start(to_tick(piece.notes[0].start)))
    assert [(n.start, n.pitch) for n in back_live] == [(n.start, n.pitch) for n in back_off]


def test_live_encoder_sends_a_note_s_head_once_its_instant_has_passed():
    enc = LiveEncoder(Meter())
    assert enc.note_on(0, 60, 100) == []          # another note of this instant may come
    head = enc.note_on(12, 64, 100)                # time, part, pitch and velocity of 60
    assert [KIND[t] for t in head] == [K_BAR, K_PART, K_PITCH, K_VEL]
    assert enc.note_off(30, 64) == []              # 64 is done, 60 still holds everything
    out = enc.note_off(40, 60)                     # 60's duration, then all of 64
    assert [KIND[t] for t in out] == [K_DUR, K_SUB, K_PITCH, K_VEL, K_DUR]
    notes = decode(head + out, Meter(), 0)
    assert [(n.pitch, n.start, n.duration) for n in notes] == [(60, 0.0, 40 / 24),
                                                                (64, 0.5, 18 / 24)]
    # a note held alone, with nothing after it: a prefix's release lets its head out
    enc = LiveEncoder(Meter())
    enc.note_on(0, 60, 100)
    assert [KIND[t] for t in enc.release(1)] == [K_BAR, K_PART, K_PITCH, K_VEL]


def test_live_encoder_orders_one_instant_as_a_piece_is_encoded():
    """Notes of one instant leave in part order, then by note, as the model learnt them,
    whatever order they arrive in: a chord's bass struck a moment before its melody, or an
    accompaniment heard ahead."""
    enc = LiveEncoder(Meter())
    enc.add_note(0, 96, 36, 80, part=BASS, generated=False)
    enc.add_note(0, 96, 48, 80, part=HARMONY, generated=False)
    out = enc.note_on(0, 72, 100, part=MELODY) + enc.note_off(24, 72)
    notes = decode(out, Meter(), 0)
    assert [(n.part, n.pitch) for n in notes] == [(MELODY, 72), (HARMONY, 48), (BASS, 36)]
    # a performer's chord, top note last and the melody after it: the same order
    enc = LiveEncoder(Meter())
    out = enc.note_on(0, 55, 80, part=HARMONY) + enc.note_on(0, 48, 80, part=HARMONY)
    out += enc.note_on(0, 72, 100, part=MELODY)
    assert out == []
    out += enc.note_off(24, 72) + enc.note_off(24, 55) + enc.note_off(24, 48)
    assert [(n.part, n.pitch) for n in decode(out, Meter(), 0)] == [
        (MELODY, 72), (HARMONY, 48), (HARMONY, 55)]
    assert out == encode(Piece([Note(0, 1, 48, 80, part=HARMONY),
                                Note(0, 1, 55, 80, part=HARMONY),
                                Note(0, 1, 72, 100, part=MELODY)]))
    # never ahead of a note whose head is out: the grammar waits for its duration
    enc = LiveEncoder(Meter())
    head = enc.note_on(0, 72, 100, part=HARMONY) + enc.release(1)
    enc.add_note(0, 24, 60, 80, part=MELODY)
    out = head + enc.note_off(12, 72) + enc.release(48)
    assert [(n.part, n.pitch) for n in decode(out, Meter(), 0)] == [(HARMONY, 72),
                                                                   (MELODY, 60)]


def test_live_encoder_lets_a_long_hold_go_and_ignores_its_late_release():
    enc = LiveEncoder(Meter(), max_hold=48)
    out = enc.note_on(0, 48, 90)
    out += enc.note_on(60, 72, 90)                 # 48 held past max_hold: let out at 60
    assert [(n.pitch, n.duration) for n in decode(out, Meter(), 0)] == [(48, 2.5)]
    assert enc.note_off(200, 48) == []             # its release is ignored
    snap, _ = enc.snapshot(70)
    assert [KIND[t] for t in snap][-3:] == [K_PITCH, K_VEL, K_DUR]   # 72, cut at 70
    notes = decode(out + snap, Meter(), 0)
    assert [(n.pitch, n.start, n.duration) for n in notes][-1] == (72, 2.5, 10 / 24)


def test_snapshot_cuts_held_notes_without_committing():
    enc = LiveEncoder(Meter())
    enc.add_note(96, 24, 62, 90)                   # a note of the daemon's, still to come
    head = enc.note_on(0, 60, 90) + enc.release(1)     # 60's head is out
    tokens, cursor = enc.snapshot(30, until=96)
    notes = decode(head + tokens, Meter(), 0)
    assert [(n.pitch, n.duration) for n in notes] == [(60, 30 / TICKS_PER_BEAT), (62, 1.0)]
    assert cursor.tick == 96
    assert enc.snapshot(30, until=96)[0] == tokens  # nothing was committed
    assert enc.cursor.tick == 0

def test_cut_forgets_unplayed_generated_notes():
    enc = LiveEncoder(Meter())
    enc.add_note(24, 48, 60, 90)
    enc.add_note(96, 24, 62, 90)
    enc.cut(48)
    out = enc.release(10**6)
    notes = decode(out, Meter(), 0)
    assert [(n.pitch, n.duration) for n in notes] == [(60, 1.0)]   # cut at tick 48


def test_a_long_silence_is_heard_as_a_few_empty_bars():
    from bridge.music.tokenize import MAX_SILENT_BARS

    enc = LiveEncoder(Meter())
    enc.note_on(0, 60, 90)
    enc.note_off(12, 60)
    far = 96 * 1_000_000 + 24                           # a million bars later, beat 2
    tokens = enc.note_on(far, 62, 90) + enc.note_off(far + 12, 62)
    assert tokens.count(BAR) == MAX_SILENT_BARS and len(tokens) < 10
    assert enc.cursor.tick == far                        # and it stands where it played
    near = enc.note_on(far + 96 * 2, 64, 90) + enc.release(far + 96 * 2 + 1)
    assert near.count(BAR) == 2                          # shorter gaps: every bar told


def test_a_meter_keeps_a_bounded_history_of_changes():
    m = Meter()
    for i in range(1, 500):
        m.set(i * 96, 72 if i % 2 else 96)
    assert len(m.changes) == Meter.MAX_CHANGES and m.bar_start(499 * 96 + 10) == 499 * 96
