"""OscNotes on simulated time: what reaches the device, and a pitch struck again kept apart
from the note before it (the device times each note from its own message)."""

from __future__ import annotations

import pytest

from bridge.live.outputs import NOTE_OUT, REPEAT_GAP_S, SEND_AHEAD, SHORTEST_S, OscNotes
from bridge.music.piece import Note
from bridge.timing.clock import BeatClock
from bridge.timing.simloop import SimLoop

TEMPO = 120.0
GAP = REPEAT_GAP_S * TEMPO / 60          # in beats


def device(start_beat: float = 0.0):
    loop = SimLoop(100.0)
    clock = BeatClock(100.0, TEMPO)
    clock.set_transport(100.0, TEMPO, start_beat, True, 4, 4)
    sent: list[list] = []
    out = OscNotes("s", clock, lambda address, args: sent.append(args)
                   if address == NOTE_OUT else None, loop)
    return loop, clock, out, sent


def heard(sent, clock, loop_time):
    """Each note as the device plays it: (pitch, on, off) in beats, from its delay."""
    return [(a[1], clock.beat_at(t) + a[6] / 1000 / clock.seconds_per_beat,
             clock.beat_at(t) + a[6] / 1000 / clock.seconds_per_beat + a[4])
            for t, a in zip(loop_time, sent, strict=True)]


def run(notes, channel=1, start_beat=0.0, until=20.0):
    loop, clock, out, sent = device(start_beat)
    times: list[float] = []
    send = out._send
    out._send = lambda address, args: (times.append(loop.time()), send(address, args))
    for n in notes:
        out.play(n, channel)
    loop.run_until(clock.time_at(until))
    return heard(sent, clock, times)


def test_a_repeat_where_the_note_before_ends_is_let_go_first():
    played = run([Note(2.0, 1.0, 60, 100), Note(3.0, 1.0, 60, 100), Note(4.0, 1.0, 62, 100)])
    (_, on1, off1), (_, on2, off2), (_, on3, off3) = played
    assert on1 == pytest.approx(2.0) and off1 == pytest.approx(3.0 - GAP)
    assert on2 == pytest.approx(3.0) and off2 == pytest.approx(4.0)   # another pitch follows
    assert (on3, off3) == (pytest.approx(4.0), pytest.approx(5.0))


def test_a_pitch_struck_while_it_sounds_ends_the_note_before():
    (_, _, off1), (_, on2, off2) = run([Note(2.0, 4.0, 60, 100), Note(3.0, 0.5, 60, 100)])
    assert off1 == pytest.approx(3.0 - GAP) and (on2, off2) == (pytest.approx(3.0),
                                                                pytest.approx(3.5))


def test_other_pitches_and_channels_are_left_as_they_are():
    played = run([Note(2.0, 1.0, 60, 100), Note(3.0, 1.0, 61, 100),
                  Note(4.5, 1.0, 60, 100)])
    assert [(round(on, 6), round(off, 6)) for _, on, off in played] == \
        [(2.0, 3.0), (3.0, 4.0), (4.5, 5.5)]
    drums = run([Note(2.0, 0.5, 36, 100, drum=True), Note(2.5, 0.5, 36, 100)], channel=1)
    assert drums[0][2] == pytest.approx(2.5)        # channel 10 and channel 1: apart already


def test_a_repeat_learnt_after_the_note_before_left_starts_the_gap_after_it():
    """The note before was sent at once (its start within SEND_AHEAD): too late to shorten,
    so the repeat waits the gap."""
    soon = SEND_AHEAD * TEMPO / 60 / 2
    (_, on1, off1), (_, on2, off2) = run([Note(soon, 0.25, 60, 100),          # sent now
                                          Note(soon + 0.25, 0.25, 60, 100)])  # learnt after
    assert (on1, off1) == (pytest.approx(soon), pytest.approx(soon + 0.25))
    assert (on2, off2) == (pytest.approx(soon + 0.25 + GAP), pytest.approx(soon + 0.5))


def test_a_note_the_tempo_held_on_is_let_go_before_its_pitch_comes_again():
    """The device times a note's length when it arrives: sped up from 120 to 240 bpm a
    beat into a 4-beat note, it lets it go at beat 9, not 6. The pitch again at beat 6
    waits until then; a note of it over by then is not sent (``notes_skipped``)."""
    loop, clock, out, sent = device()
    out.play(Note(2.0, 4.0, 60, 100), 1)
    loop.run_until(clock.time_at(3.0))
    clock.set_transport(loop.time(), 2 * TEMPO, 3.0, True, 4, 4)
    out.play(Note(6.0, 1.0, 60, 100), 1)             # over by beat 9
    out.play(Note(8.0, 4.0, 60, 100), 1)             # what is left of it, from beat 9
    times = []
    send = out._send
    out._send = lambda address, args: (times.append(loop.time()), send(address, args))
    loop.run_until(clock.time_at(12.0))
    (args,) = sent[1:]
    on = clock.beat_at(times[0]) + args[6] / 1000 / clock.seconds_per_beat
    assert on == pytest.approx(9.0 + 2 * GAP) and on + args[4] == pytest.approx(12.0)
    assert out.status() == {"notes_out": 2, "notes_skipped": 1}


def test_a_pitched_note_lasts_long_enough_to_sound_and_a_stub_of_one_is_not_sent():
    """A tick-long note (at 180 bpm, 14 ms) lasts 25 ms; a drum's is left as it is. What is
    left of a note kept apart from its pitch again, before or after it, is not sent if it
    is shorter (it was sent 5 ms long: a click); the note of that pitch plays on time."""
    tick = 1 / 24
    shortest = SHORTEST_S * TEMPO / 60
    (_, on, off), (_, don, doff) = run([Note(2.0, tick, 60, 100), Note(2.0, tick, 36, 100,
                                                                     drum=True)])
    assert (on, off) == (pytest.approx(2.0), pytest.approx(2.0 + shortest))
    assert doff - don == pytest.approx(tick)
    (_, on2, _), = run([Note(2.0, tick, 60, 100), Note(2.0 + tick, 1.0, 60, 100)])
    assert on2 == pytest.approx(2.0 + tick)
    loop, clock, out, sent = device()
    soon = SEND_AHEAD * TEMPO / 60 / 2
    out.play(Note(soon, 0.25, 60, 100), 1)                       # sent at once
    out.play(Note(soon + 0.25 - GAP / 2, shortest, 60, 100), 1)   # learnt after: a stub
    loop.run_until(clock.time_at(4.0))
    assert len(sent) == 1 and out.status()["notes_skipped"] == 1


def test_a_pitch_let_go_by_a_cancel_is_struck_again_on_time():
    loop, clock, out, sent = device()
    out.play(Note(1.0, 8.0, 60, 100), 1)
    loop.run_until(clock.time_at(2.0))
    out.cancel_from(2.0)                              # barge-in: the device lets it go
    out.play(Note(2.5, 1.0, 60, 100), 1)
    loop.run_until(clock.time_at(4.0))
    assert [a[3] for a in sent] == [1.0, 2.5] and sent[1][4] == pytest.approx(1.0)
