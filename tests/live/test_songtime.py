"""A session's time (bridge.live.songtime): the song's bar lines where the host's time
signature changes, and the stream's bars kept on them across the host's jumps."""

from __future__ import annotations

import pytest

from bridge.live.states import RESPONDING
from bridge.vocab import TICKS_PER_BEAT

from .test_session import TEMPO, make


def _host(w, s, beat: float, numerator: int, denominator: int = 4) -> None:
    """The host says where the song is and its time signature there, the transport playing
    (as the device does every sixteenth note; bridge.live.api's transport route)."""
    s.clock.set_transport(w.loop.time(), TEMPO, beat, True, numerator, denominator)
    s.time.sync_meter()


def _play_to(w, s, beat: float, numerator: int, denominator: int = 4) -> None:
    """The host plays on to ``beat`` in ``numerator``/``denominator``, telling its place
    every sixteenth note."""
    while s.time.now_beat() < beat - 1e-9:
        w.run(min(0.25, beat - s.time.now_beat()))
        _host(w, s, s.time.now_beat(), numerator, denominator)


def test_the_song_s_bar_lines_follow_a_change_of_time_signature(sim):
    """4/4 for four bars, then 3/4: the bar lines are 16, 19, 22, 25, not the multiples of
    3 (a call's answer came in two beats into a bar)."""
    w = sim(TEMPO)
    s, _, _ = make(w)
    _host(w, s, 0.0, 4)
    _play_to(w, s, 16.0, 4)
    _play_to(w, s, 17.0, 3)
    t = s.time
    assert [t.ceil(b) for b in (16.0, 16.5, 19.0, 20.0, 22.5)] == [16.0, 19.0, 19.0, 22.0, 25.0]
    assert [t.floor(b) for b in (15.9, 16.0, 21.9, 22.0)] == [12.0, 16.0, 19.0, 22.0]
    assert (t.on(16.0, 2), t.on(12.0, 2), t.bar_after(19.0)) == (22.0, 19.0, 22.0)
    assert (t.length(14.0), t.length(20.0)) == (4.0, 3.0)
    _play_to(w, s, 25.0, 3)
    _play_to(w, s, 26.0, 7, 8)                       # 7/8 from bar 8
    assert [t.ceil(b) for b in (23.0, 26.0, 29.0)] == [25.0, 28.5, 32.0]
    s.close()


@pytest.mark.parametrize("loop_end", [19.0, 22.0, 25.0])
def test_a_loop_back_across_a_change_keeps_the_stream_s_bars_on_the_song_s(sim, loop_end):
    """The song is in 4/4 to beat 16 and in 3/4 after; the host loops from ``loop_end``
    back to beat 8. The model's bar lines stay the song's (they fell 1-3 beats off, and
    stayed so), and its stream goes on forward."""
    w = sim(TEMPO)
    s, _, _ = make(w)
    _host(w, s, 0.0, 4)
    _play_to(w, s, 16.0, 4)
    _play_to(w, s, loop_end, 3)
    reached = s.time.tick(s.time.now_beat())
    _host(w, s, 8.0, 4)                              # back to bar 3
    t = s.time
    assert t.tick(8.0) >= reached
    _play_to(w, s, 16.0, 4)
    _play_to(w, s, 21.0, 3)                          # on through the change again
    for beat in (8.0, 12.0, 16.0, 19.0):
        tick = t.tick(beat)
        assert t.meter.bar_start(tick) == tick, beat
    assert t.meter.bar_length(t.tick(12.0)) == 4 * TICKS_PER_BEAT
    assert t.meter.bar_length(t.tick(16.0)) == 3 * TICKS_PER_BEAT
    s.close()


@pytest.mark.parametrize(("numerator", "denominator", "line"), [(3, 4, 22.0), (7, 8, 23.0)])
def test_after_a_change_of_time_signature_an_answer_comes_in_on_its_bar_line(
        sim, numerator, denominator, line):
    """A phrase played after the song went from 4/4 to 3/4 (or 7/8) at beat 16 is
    answered on the song's next bar line (it came in at 24 and 24.5)."""
    w = sim(TEMPO)
    s, _, _ = make(w, answer_on="bar")
    _host(w, s, 0.0, 4)
    _play_to(w, s, 16.0, 4)
    _play_to(w, s, 19.5, numerator, denominator)
    for pitch in (60, 62, 64):                       # beats 19.5-21, then a beat's silence
        s.note_on(pitch, 90)
        _play_to(w, s, s.time.now_beat() + 0.5, numerator, denominator)
        s.note_off(pitch)
    starts = []
    while s.state != RESPONDING:
        _play_to(w, s, s.time.now_beat() + 1 / 24, numerator, denominator)
        assert s.time.now_beat() < 30.0
    starts.append(s.responder.begins)
    assert starts == [line]
    s.close()
