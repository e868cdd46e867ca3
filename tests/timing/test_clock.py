"""BeatClock with fake times: internal tempo, host transport, MIDI clock."""

from __future__ import annotations

import math
import random

import pytest

from bridge.timing.clock import (
    POSITION,
    START,
    STOP,
    TEMPO,
    BeatClock,
    ClockConfig,
    ClockError,
)
from bridge.vocab import TICKS_PER_BEAT

T0 = 1000.0   # loop.time() is never 0 in practice


def recording(clock: BeatClock) -> list[str]:
    reasons: list[str] = []
    clock.add_listener(reasons.append)
    return reasons


def state(clock: BeatClock) -> tuple:
    return (clock.tempo, clock.beat_at(T0 + 7.0), clock.playing, clock.source,
            clock.numerator, clock.denominator)


# -- internal ------------------------------------------------------------------------------

def test_internal_map_is_linear_and_invertible():
    clock = BeatClock(T0, 120.0)
    assert clock.source == "internal" and not clock.playing
    assert clock.seconds_per_beat == 0.5
    assert clock.beat_at(T0) == 0.0
    assert clock.beat_at(T0 + 1.5) == pytest.approx(3.0)
    for beat in (-2.0, 0.0, 1.25, 37.5):
        assert clock.beat_at(clock.time_at(beat)) == pytest.approx(beat)


def test_tempo_change_keeps_the_beat_where_it_was():
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.set_tempo(T0 + 2.0, 60.0)             # at beat 4
    assert clock.beat_at(T0 + 2.0) == pytest.approx(4.0)
    assert clock.beat_at(T0 + 3.0) == pytest.approx(5.0)
    assert clock.time_at(6.0) == pytest.approx(T0 + 4.0)
    clock.set_tempo(T0 + 4.0, 240.0)            # at beat 6
    assert clock.beat_at(T0 + 4.5) == pytest.approx(8.0)
    assert reasons == [TEMPO, TEMPO]
    clock.set_tempo(T0 + 5.0, 240.0)            # no change, no news
    assert reasons == [TEMPO, TEMPO]


@pytest.mark.parametrize("bpm", [19.9, 400.5, math.nan, math.inf, "fast", None])
def test_bad_tempo_is_refused_and_changes_nothing(bpm):
    clock = BeatClock(T0, 100.0)
    before = state(clock)
    with pytest.raises(ClockError):
        clock.set_tempo(T0 + 1.0, bpm)
    assert state(clock) == before


@pytest.mark.parametrize("num, den", [(0, 4), (65, 4), (3, 5), (4, 0), (4.5, 4), (True, 4),
                                      ("4", 4)])
def test_bad_time_signature_is_refused(num, den):
    clock = BeatClock(T0)
    with pytest.raises(ClockError):
        clock.set_signature(num, den)
    assert (clock.numerator, clock.denominator) == (4, 4)


def test_time_signature_and_bar_length():
    clock = BeatClock(T0, numerator=6, denominator=8)
    assert clock.bar_beats == 3.0
    clock.set_signature(7, 4)
    assert clock.bar_beats == 7.0


def test_constructor_validates():
    with pytest.raises(ClockError):
        BeatClock(T0, 5.0)
    with pytest.raises(ClockError):
        BeatClock(math.nan)


def test_a_failing_listener_does_not_stop_the_others():
    clock = BeatClock(T0)

    def bad(reason: str) -> None:
        raise RuntimeError("boom")

    clock.add_listener(bad)
    reasons = recording(clock)
    clock.set_tempo(T0 + 1, 90.0)
    assert reasons == [TEMPO]
    clock.remove_listener(bad)
    clock.remove_listener(bad)                  # twice is harmless


# -- host transport ------------------------------------------------------------------------

def play_sixteenths(clock, start_time, start_beat, tempo, count, *, offset_s=0.0,
                    jitter_s=0.0, seed=1):
    """Host messages every sixteenth, arriving ``offset_s`` (+- jitter) after their time."""
    rng = random.Random(seed)
    spb = 60.0 / tempo
    t = start_time
    for i in range(count):
        beat = start_beat + i * 0.25
        t = start_time + i * 0.25 * spb
        arrival = t + offset_s + rng.uniform(-jitter_s, jitter_s)
        clock.set_transport(arrival, tempo, beat, True, 4, 4)
    return t


def test_transport_start_anchors_to_the_host():
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.set_transport(T0 + 3.0, 100.0, 8.0, True, 3, 4)
    assert clock.playing and clock.source == "transport"
    assert clock.tempo == 100.0 and (clock.numerator, clock.denominator) == (3, 4)
    assert clock.beat_at(T0 + 3.0) == pytest.approx(8.0)
    assert clock.beat_at(T0 + 3.6) == pytest.approx(9.0)
    assert reasons == [START]


def test_transport_jitter_is_ignored():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    reasons = recording(clock)
    anchor = clock.time_at(0.0)
    play_sixteenths(clock, T0, 0.0, 120.0, 64, jitter_s=0.003)
    assert reasons == []
    assert clock.time_at(0.0) == anchor         # the map did not move at all


def test_transport_steady_offset_is_corrected_as_drift():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    reasons = recording(clock)
    t = play_sixteenths(clock, T0, 0.0, 120.0, 32, offset_s=0.008)   # below the jitter bound
    assert reasons and set(reasons) == {POSITION}
    assert len(reasons) <= 2
    beat = 31 * 0.25
    assert clock.time_at(beat) == pytest.approx(t + 0.008, abs=0.002)


def test_transport_follows_loops_and_relocations():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    reasons = recording(clock)
    t = play_sixteenths(clock, T0, 0.0, 120.0, 32)   # to beat 7.75
    loop_time = t + 0.125
    clock.set_transport(loop_time, 120.0, 0.0, True)   # loop back to beat 0
    assert reasons == [POSITION]
    assert clock.beat_at(loop_time) == pytest.approx(0.0)
    clock.set_transport(loop_time + 0.125, 120.0, 64.0, True)   # jump ahead
    assert reasons == [POSITION, POSITION]
    assert clock.beat_at(loop_time + 0.625) == pytest.approx(65.0)
    # a jump just above the jitter bound is followed
    err = ClockConfig().jitter_s * 1.5
    clock.set_transport(loop_time + 1.0, 120.0, clock.beat_at(loop_time + 1.0) + err * 2, True)
    assert reasons[-1] == POSITION


def test_transport_stop_free_runs_and_start_reanchors():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    reasons = recording(clock)
    clock.set_transport(T0 + 2.0, 120.0, 4.0, False)        # host stops at beat 4
    assert reasons == [STOP] and not clock.playing
    # the clock keeps running from where it stood, at the last tempo
    assert clock.beat_at(T0 + 4.0) == pytest.approx(8.0)
    # while stopped the host's (frozen) position is ignored...
    clock.set_transport(T0 + 4.0, 120.0, 4.0, False)
    assert reasons == [STOP]
    assert clock.beat_at(T0 + 4.0) == pytest.approx(8.0)
    # ...but a tempo change is followed without a jump
    clock.set_transport(T0 + 4.0, 60.0, 4.0, False)
    assert reasons == [STOP, TEMPO]
    assert clock.beat_at(T0 + 5.0) == pytest.approx(9.0)
    # the host starts again from its position: re-anchor there
    clock.set_transport(T0 + 6.0, 60.0, 2.0, True)
    assert reasons == [STOP, TEMPO, START] and clock.playing
    assert clock.beat_at(T0 + 7.0) == pytest.approx(3.0)


def test_transport_tempo_change_while_playing():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    reasons = recording(clock)
    clock.set_transport(T0 + 1.0, 90.0, 2.0, True)
    assert reasons == [TEMPO]
    assert clock.tempo == 90.0
    assert clock.beat_at(T0 + 1.0) == pytest.approx(2.0)
    assert clock.beat_at(T0 + 3.0) == pytest.approx(5.0)


@pytest.mark.parametrize("args", [
    (500.0, 0.0, True, 4, 4), (120.0, math.nan, True, 4, 4), (120.0, 0.0, 2, 4, 4),
    (120.0, 0.0, True, 4, 3), (120.0, 0.0, True, 0, 4), (120.0, 0.0, "yes", 4, 4),
])
def test_bad_transport_message_changes_nothing(args):
    clock = BeatClock(T0, 110.0)
    clock.set_transport(T0, 110.0, 3.0, True, 4, 4)
    before = state(clock)
    reasons = recording(clock)
    with pytest.raises(ClockError):
        clock.set_transport(T0 + 1.0, *args)
    assert state(clock) == before and reasons == []


# -- MIDI clock ----------------------------------------------------------------------------

def tick_times(start, tempo, count, *, jitter_s=0.0, seed=2):
    rng = random.Random(seed)
    per_tick = 60.0 / (tempo * TICKS_PER_BEAT)
    return [start + i * per_tick + rng.uniform(-jitter_s, jitter_s) for i in range(count)]


def test_midi_clock_start_and_tempo():
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.midi_start(T0)
    assert clock.playing and clock.source == "midi" and reasons == [START]
    times = tick_times(T0 + 0.001, 100.0, 4 * TICKS_PER_BEAT)
    for t in times:
        clock.midi_tick(t)
    assert clock.tempo == pytest.approx(100.0, abs=0.05)
    # the first tick after start is beat 0; tick n is beat n/24
    assert clock.time_at(0.0) == pytest.approx(times[0], abs=0.002)
    assert clock.time_at(3.5) == pytest.approx(times[84], abs=0.002)
    assert len(reasons) < 10                   # no news on every tick


def test_midi_clock_jittered_ticks():
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    times = tick_times(T0 + 0.001, 133.0, 16 * TICKS_PER_BEAT, jitter_s=0.002)
    reasons = recording(clock)
    for t in times[:4 * TICKS_PER_BEAT]:
        clock.midi_tick(t)
    settled = len(reasons)
    for t in times[4 * TICKS_PER_BEAT:]:
        clock.midi_tick(t)
        assert clock.tempo == pytest.approx(133.0, rel=0.004)
    ideal = tick_times(T0 + 0.001, 133.0, 16 * TICKS_PER_BEAT)
    for n in range(4 * TICKS_PER_BEAT, 16 * TICKS_PER_BEAT, 7):
        assert clock.time_at(n / TICKS_PER_BEAT) == pytest.approx(ideal[n], abs=0.006)
    assert len(reasons) - settled < 12          # 12 beats of jitter: few corrections


def test_midi_clock_does_not_keep_the_first_ticks_own_delay():
    """The first tick after start anchors beat 0; taken 2.5 ms late (a JACK period, a
    busy interpreter), the clock must not stay that late: the transport's 4 ms drift bound
    would keep it all song."""
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    times = tick_times(T0 + 0.001, 120.0, 8 * TICKS_PER_BEAT, jitter_s=0.0013)
    ideal = tick_times(T0 + 0.001, 120.0, 8 * TICKS_PER_BEAT)
    times[0] += 0.0025
    errors = []
    for n, t in enumerate(times):
        clock.midi_tick(t)
        if n >= 4 * TICKS_PER_BEAT:                # after four beats
            errors.append(clock.time_at(n / TICKS_PER_BEAT) - ideal[n])
    assert abs(sum(errors) / len(errors)) < 0.0005 and max(map(abs, errors)) < 0.0015


def test_midi_clock_follows_a_tempo_within_its_tolerance():
    """A master 0.17 % faster than the clock's tempo (inside the 0.2 % tolerance that keeps
    the estimate's noise out): kept, the clock would fall behind by up to a millisecond
    before every drift correction, late on the grid by 0.6 ms on average."""
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    times = tick_times(T0, 120.2, 16 * TICKS_PER_BEAT)
    errors = []
    for n, t in enumerate(times):
        clock.midi_tick(t)
        if n >= 4 * TICKS_PER_BEAT:
            errors.append(clock.time_at(n / TICKS_PER_BEAT) - t)
    assert clock.tempo == pytest.approx(120.2, abs=0.01)
    assert max(map(abs, errors)) < 0.0003


def test_midi_clock_ignores_a_late_tick():
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    times = tick_times(T0 + 0.001, 120.0, 4 * TICKS_PER_BEAT)
    times[60] += 0.015                          # one tick 15 ms late (still in order)
    for t in times:
        clock.midi_tick(t)
        assert clock.tempo == pytest.approx(120.0, abs=0.3)


def test_midi_clock_follows_a_tempo_change():
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    first = tick_times(T0, 120.0, 4 * TICKS_PER_BEAT + 1)
    for t in first:
        clock.midi_tick(t)
    second = tick_times(first[-1], 90.0, 4 * TICKS_PER_BEAT + 1)[1:]
    for t in second:
        clock.midi_tick(t)
    assert clock.tempo == pytest.approx(90.0, abs=0.1)
    # beat 8 is the last tick: 4 beats at 120 then 4 at 90
    assert clock.time_at(8.0) == pytest.approx(second[-1], abs=0.003)


@pytest.mark.parametrize("after", [90.0, 180.0])
def test_midi_clock_follows_a_tempo_step_within_a_few_ticks(after):
    """A master that changes tempo at once (a tempo automation's step): the median of
    beat-long spans took half a beat or more to follow it, the notes meanwhile up to 0.1 s
    off; now, from 6 ticks after the step, every beat is where the master puts it."""
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    rng = random.Random(1)
    first = tick_times(T0, 120.0, 4 * TICKS_PER_BEAT + 1)
    second = tick_times(first[-1], after, 2 * TICKS_PER_BEAT + 1)[1:]
    for t in first:
        clock.midi_tick(t + rng.gauss(0, 0.0007))
    for n, t in enumerate(second, start=len(first)):
        clock.midi_tick(t + rng.gauss(0, 0.0007))
        if n >= len(first) + 6:
            ahead = t + 0.05                       # a note due 50 ms on
            beat = n / TICKS_PER_BEAT + (ahead - t) * after / 60.0
            assert clock.time_at(beat) == pytest.approx(ahead, abs=0.005), n
    assert clock.tempo == pytest.approx(after, rel=0.01)


@pytest.mark.parametrize("how", ["lost", "held up"])
def test_midi_clock_ticks_lost_on_the_way_are_counted_held_up_ones_are_not(how):
    """Three ticks that never come (a wireless link, a hub) left the song three ticks
    behind the master for good; three held up and then come at once are counted once."""
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    rng = random.Random(2)
    times = [t + rng.gauss(0, 0.0007) for t in tick_times(T0 + 0.001, 120.0, 8 * TICKS_PER_BEAT)]
    for n, t in enumerate(times):
        if 100 <= n < 103:
            continue
        if n == 103 and how == "held up":
            for _ in range(3):
                clock.midi_tick(t - 0.001)
        clock.midi_tick(t)
    ideal = tick_times(T0 + 0.001, 120.0, 8 * TICKS_PER_BEAT)
    assert clock.time_at(7.5) == pytest.approx(ideal[180], abs=0.003)
    assert clock.tempo == pytest.approx(120.0, rel=0.005)


def test_midi_stop_continue_and_song_position():
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.midi_start(T0)
    ticks = tick_times(T0, 120.0, 3 * TICKS_PER_BEAT)
    times, more = ticks[:2 * TICKS_PER_BEAT], ticks[2 * TICKS_PER_BEAT:]
    for t in times:                                      # beats 0 .. 1 23/24
        clock.midi_tick(t)
    stop_at = times[-1] + 0.01
    clock.midi_stop(stop_at)
    assert not clock.playing and reasons[-1] == STOP
    beat_at_stop = clock.beat_at(stop_at)
    # ticks keep coming while stopped: tempo follows, position stays
    for t in more:
        clock.midi_tick(t)
    assert not clock.playing
    assert clock.beat_at(stop_at + 1.0) == pytest.approx(beat_at_stop + 2.0, abs=0.01)
    # continue resumes where the host stopped: the next tick is beat 2
    clock.midi_continue(more[-1] + 0.005)
    assert clock.playing and reasons[-1] == START
    resume = more[-1] + 0.0208
    clock.midi_tick(resume)
    assert clock.beat_at(resume) == pytest.approx(2.0, abs=0.01)
    # stop, cue beat 16 (64 sixteenths) with SPP, continue: the next tick is beat 16
    clock.midi_stop(resume + 0.1)
    clock.song_position(resume + 0.2, 64)
    clock.midi_continue(resume + 0.3)
    clock.midi_tick(resume + 0.31)
    assert clock.beat_at(resume + 0.31) == pytest.approx(16.0, abs=0.01)
    # the master restarted its ticks on a new grid: the clock follows that grid
    regrid = tick_times(resume + 0.31, 120.0, TICKS_PER_BEAT + 1)[1:]
    for t in regrid:
        clock.midi_tick(t)
    assert clock.tempo == pytest.approx(120.0, abs=0.3)
    assert clock.time_at(17.0) == pytest.approx(regrid[-1], abs=0.003)
    resume = regrid[-1]
    # SPP while playing relocates at once
    clock.song_position(resume + 0.01, 8)
    assert clock.beat_at(resume + 0.01) == pytest.approx(2.0) and reasons[-1] == POSITION
    # start goes back to 0
    clock.midi_start(resume + 1.0)
    clock.midi_tick(resume + 1.001)
    assert clock.beat_at(resume + 1.001) == pytest.approx(0.0)


@pytest.mark.parametrize("position", [-1, 16384, 1.5, "8", None])
def test_bad_song_position_changes_nothing(position):
    clock = BeatClock(T0)
    clock.midi_start(T0)
    before = state(clock)
    with pytest.raises(ClockError):
        clock.song_position(T0 + 0.5, position)
    assert state(clock) == before


def test_tick_earlier_than_the_last_is_refused():
    clock = BeatClock(T0)
    clock.midi_start(T0)
    for t in tick_times(T0, 120.0, 30):
        clock.midi_tick(t)
    before = state(clock)
    with pytest.raises(ClockError):
        clock.midi_tick(T0)
    with pytest.raises(ClockError):
        clock.midi_tick(math.nan)
    assert state(clock) == before


def test_absurd_midi_tempo_is_ignored():
    clock = BeatClock(T0, 120.0)
    for t in tick_times(T0, 1000.0, 48):      # 1000 bpm: outside 20-400
        clock.midi_tick(t)
    assert clock.tempo == 120.0


def test_a_pause_in_the_ticks_restarts_the_estimate():
    clock = BeatClock(T0, 120.0)
    for t in tick_times(T0, 120.0, 48):
        clock.midi_tick(t)
    later = tick_times(T0 + 10.0, 150.0, 12)
    for t in later:
        clock.midi_tick(t)
    assert clock.tempo == pytest.approx(150.0, abs=0.5)


def test_a_playing_transport_outranks_midi_ticks():
    clock = BeatClock(T0, 120.0)
    clock.set_transport(T0, 120.0, 0.0, True)
    for t in tick_times(T0, 90.0, 48):
        clock.midi_tick(t)
    assert clock.source == "transport" and clock.tempo == 120.0
    assert clock.beat_at(T0 + 1.0) == pytest.approx(2.0)


@pytest.mark.parametrize("beat", [1e8, -2e6, math.inf, math.nan, "twelve"])
def test_a_song_position_must_be_finite_and_in_range(beat):
    clock = BeatClock(0.0)
    with pytest.raises(ClockError):
        clock.set_transport(0.0, 120.0, beat, True)
    assert not clock.playing
    clock.set_transport(0.0, 120.0, 999_999.0, True)     # the largest kind still plays
    assert clock.beat_at(0.5) == pytest.approx(1_000_000.0)


@pytest.mark.parametrize("pause_beats", [3, 6])
def test_ticks_back_after_a_drop_out_go_on_from_where_the_clock_free_ran(pause_beats):
    """The cable drops out for longer than ``midi_gap_s`` while the host plays on (no
    Stop): the ticks that come back are counted from where the clock free-ran to, not from
    the last tick before the pause (the song position went back by the pause, every answer
    after it off the bar line)."""
    clock = BeatClock(T0, 120.0)
    clock.midi_start(T0)
    times = tick_times(T0 + 0.001, 120.0, 16 * TICKS_PER_BEAT)
    gone = range(4 * TICKS_PER_BEAT, (4 + pause_beats) * TICKS_PER_BEAT)
    for i, t in enumerate(times):
        if i not in gone:
            clock.midi_tick(t)
    assert clock.beat_at(times[-1]) == pytest.approx(16 - 1 / TICKS_PER_BEAT, abs=0.02)
    assert clock.time_at(12.0) == pytest.approx(times[12 * TICKS_PER_BEAT], abs=0.005)


def test_a_transport_message_late_on_its_way_does_not_move_the_clock():
    """One message 140 ms late (a busy Max scheduler) is not a loop: it was followed, the
    session heard a jump back and cancelled what was planned, and the next message a jump
    on. The host that really stands that far back says so again, and is followed then; one
    further back than ``stale_s`` at once."""
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.set_transport(T0, 120.0, 0.0, True)
    t = T0
    for _ in range(8):                                   # sixteenths, on time
        t += 0.125
        clock.set_transport(t, 120.0, clock.beat_at(t), True)
    reasons.clear()
    t += 0.125
    clock.set_transport(t, 120.0, clock.beat_at(t - 0.14), True)    # sent 140 ms ago
    t += 0.125
    on_time = clock.beat_at(t)
    clock.set_transport(t, 120.0, on_time, True)
    assert reasons == [] and clock.beat_at(t) == pytest.approx(on_time)
    t += 0.125
    back = clock.beat_at(t) - 0.2                        # the host is 0.1 s back now
    clock.set_transport(t, 120.0, back, True)
    assert reasons == []                                 # one message: perhaps late
    t += 0.125
    clock.set_transport(t, 120.0, back + 0.25, True)     # and the next says so too
    assert reasons == [POSITION] and clock.beat_at(t) == pytest.approx(back + 0.25)
    t += 0.125
    clock.set_transport(t, 120.0, clock.beat_at(t) - 1.0, True)     # a beat back: at once
    assert reasons == [POSITION, POSITION]


def test_midi_clock_gone_for_good_stops_and_plays_on_when_its_ticks_come_back():
    """The master switched off (no Stop): once ``midi_silent`` finds no tick for its while,
    the clock stops as a Stop would (it free-ran for ever: an accompaniment played on); the
    ticks coming back play on from where the song would be, on the master's grid."""
    clock = BeatClock(T0, 120.0)
    reasons = recording(clock)
    clock.midi_start(T0)
    times = tick_times(T0 + 0.001, 120.0, 20 * TICKS_PER_BEAT)
    for t in times[:4 * TICKS_PER_BEAT]:
        clock.midi_tick(t)
    last = times[4 * TICKS_PER_BEAT - 1]
    assert not clock.midi_silent(last + 1.0, 2.0) and clock.playing     # not yet
    reasons.clear()
    assert clock.midi_silent(last + 2.5, 2.0) and not clock.playing and reasons == [STOP]
    assert not clock.midi_silent(last + 3.0, 2.0)                        # once
    for t in times[12 * TICKS_PER_BEAT:]:                                # back at beat 12
        clock.midi_tick(t)
    assert clock.playing and reasons[1] == START
    assert clock.time_at(16.0) == pytest.approx(times[16 * TICKS_PER_BEAT], abs=0.005)
    clock.midi_stop(times[-1] + 0.01)                                    # a real Stop
    assert not clock.midi_silent(times[-1] + 5.0, 2.0)
