"""NoteScheduler on simulated time (:class:`SimLoop`): timers fire exactly when due, as
on an ideal machine, so times are asserted to the microsecond and nothing sleeps; a loop
whose timers fire late (``LateLoop``) stands for asyncio's on Linux. One test keeps a real
asyncio loop, to show the scheduler runs on one."""

from __future__ import annotations

import asyncio
import math

import mido
import pytest

from bridge.timing.clock import BeatClock
from bridge.timing.scheduler import (
    ALL_NOTES_OFF,
    TIMER_LEAD_MAX_S,
    NoteScheduler,
    SchedulerError,
)
from bridge.timing.simloop import SimLoop
from tests.waiting import until

TEMPO = 400.0            # 0.15 s per beat
SPB = 60.0 / TEMPO
EXACT = 1e-9


class Recorder:
    def __init__(self, loop) -> None:
        self.loop = loop
        self.sent: list[tuple[mido.Message, float]] = []

    def send(self, message: mido.Message) -> None:
        self.sent.append((message, self.loop.time()))

    @property
    def messages(self) -> list[mido.Message]:
        return [m for m, _ in self.sent]

    def of(self, kind: str) -> list[tuple[mido.Message, float]]:
        return [(m, t) for m, t in self.sent if m.type == kind]


def setup(output: type[Recorder] = Recorder, **kwargs
          ) -> tuple[SimLoop, BeatClock, Recorder, NoteScheduler]:
    loop = SimLoop(100.0)
    clock = BeatClock(loop.time(), TEMPO)
    out = output(loop)
    return loop, clock, out, NoteScheduler(clock, out, loop=loop, **kwargs)


def to_beat(loop: SimLoop, clock: BeatClock, beat: float) -> None:
    """Run the simulated loop until the song stands at ``beat``."""
    loop.run_until(clock.time_at(beat))


def assert_balanced(messages: list[mido.Message]) -> None:
    """Every note-on has its note-off, and no key is struck twice without one."""
    sounding: set[tuple[int, int]] = set()
    for m in messages:
        if m.type == "note_on":
            assert (m.channel, m.note) not in sounding, m
            sounding.add((m.channel, m.note))
        elif m.type == "note_off":
            assert (m.channel, m.note) in sounding, m
            sounding.remove((m.channel, m.note))
    assert not sounding


def test_notes_play_in_beat_order_at_their_times():
    loop, clock, out, sched = setup()
    for pitch, beat in ((62, 0.6), (60, 0.2), (61, 0.4)):
        sched.schedule(pitch, 100, beat, 0.1, channel=2)
    assert sched.pending == 3
    to_beat(loop, clock, 1.0)
    ons = out.of("note_on")
    assert [m.note for m, _ in ons] == [60, 61, 62]
    assert all(m.channel == 1 and m.velocity == 100 for m, _ in ons)
    for (_m, t), beat in zip(ons, (0.2, 0.4, 0.6), strict=True):
        assert t == pytest.approx(clock.time_at(beat), abs=EXACT)
    for m, t in out.of("note_off"):
        assert t == pytest.approx(clock.time_at({60: 0.3, 61: 0.5, 62: 0.7}[m.note]), abs=EXACT)
    assert_balanced(out.messages)
    assert sched.pending == sched.sounding == 0
    assert sched.stats.notes == 3 and len(sched.stats.recent) == 3 and sched.late == 0
    sched.close()


def test_the_scheduler_runs_on_a_real_asyncio_loop():
    async def main():
        loop = asyncio.get_running_loop()
        clock = BeatClock(loop.time(), TEMPO)
        out = Recorder(loop)
        sched = NoteScheduler(clock, out)
        sched.schedule(60, 100, 0.2, 0.1)
        sched.schedule(61, 100, 0.4, 0.1)
        await until(lambda: len(out.sent) == 4)
        assert [m.note for m in out.messages] == [60, 60, 61, 61]
        assert out.sent[0][1] >= clock.time_at(0.2) - 0.002      # never early
        assert_balanced(out.messages)
        sched.close()
    asyncio.run(main())


def test_retrigger_releases_the_sounding_note_first():
    loop, clock, out, sched = setup()
    sched.schedule(64, 90, 0.2, 1.0)
    sched.schedule(64, 91, 0.4, 0.2)
    sched.schedule(64, 92, 0.3, 0.2, channel=5)     # another channel: independent
    to_beat(loop, clock, 2.0)                        # the first note's end passes
    ch1 = [(m.type, m.velocity, round(t - clock.time_at(0), 6))
           for m, t in out.sent if m.channel == 0]
    at = [round(SPB * b, 6) for b in (0.2, 0.4, 0.4, 0.6)]
    assert ch1 == [("note_on", 90, at[0]), ("note_off", 0, at[1]), ("note_on", 91, at[2]),
                   ("note_off", 0, at[3])]
    assert_balanced(out.messages)
    assert len(out.sent) == 6


def test_cancel_from_drops_later_notes_and_releases_sounding_ones():
    loop, clock, out, sched = setup()
    long = sched.schedule(60, 100, 0.1, 8.0)
    sched.schedule(62, 100, 0.3, 0.1)
    kept = sched.schedule(64, 100, 1.0, 0.1)
    sched.schedule(65, 100, 2.0, 0.1)
    sched.schedule(66, 100, 3.0, 0.1)
    to_beat(loop, clock, 0.5)                               # 62 has played
    assert sched.sounding == 1 and len(out.of("note_off")) == 1
    assert sched.cancel_from(1.5) == 2
    assert out.messages[-1].type == "note_off" and out.messages[-1].note == 60
    assert out.sent[-1][1] == clock.time_at(0.5)            # released at once
    assert sched.sounding == 0 and sched.pending == 1
    assert not sched.cancel(long)                           # already released
    to_beat(loop, clock, 4.0)
    assert sched.pending == sched.sounding == 0
    assert [m.note for m, _ in out.of("note_on")] == [60, 62, 64]
    assert_balanced(out.messages)
    assert not sched.cancel(kept)


def test_cancel_one_note():
    loop, clock, out, sched = setup()
    a = sched.schedule(60, 100, 0.1, 8.0)
    b = sched.schedule(61, 100, 4.0, 1.0)
    to_beat(loop, clock, 0.2)
    assert sched.sounding == 1
    assert sched.cancel(a) and sched.cancel(b)
    assert sched.pending == sched.sounding == 0
    to_beat(loop, clock, 6.0)
    assert [m.type for m in out.messages] == ["note_on", "note_off"]
    assert not sched.cancel(12345)


def test_panic_releases_everything_then_sends_all_notes_off():
    loop, clock, out, sched = setup()
    sched.schedule(60, 100, 0.1, 8.0, channel=1)
    sched.schedule(67, 100, 0.1, 8.0, channel=3)
    sched.schedule(72, 100, 5.0, 1.0, channel=4)           # pending: dropped, no CC
    to_beat(loop, clock, 0.2)
    assert sched.sounding == 2
    sched.panic()
    kinds = [m.type for m in out.messages]
    assert kinds == ["note_on", "note_on", "note_off", "note_off",
                     "control_change", "control_change"]
    ccs = out.messages[-2:]
    assert {m.channel for m in ccs} == {0, 2}
    assert all(m.control == ALL_NOTES_OFF and m.value == 0 for m in ccs)
    assert sched.pending == sched.sounding == 0
    to_beat(loop, clock, 12.0)
    assert len(out.sent) == 6
    assert_balanced(out.messages)


def test_close_panics_and_stops_the_timers():
    loop, clock, out, sched = setup()
    sched.schedule(60, 100, 0.1, 8.0)
    sched.schedule(61, 100, 1.0, 1.0)
    to_beat(loop, clock, 0.2)
    assert sched.sounding == 1
    sched.close()
    sched.close()                                          # twice is harmless
    assert [m.type for m in out.messages] == ["note_on", "note_off", "control_change"]
    with pytest.raises(SchedulerError):
        sched.schedule(62, 100, 3.0, 1.0)
    clock.set_tempo(loop.time(), 300.0)                    # no listener left
    to_beat(loop, clock, 12.0)
    assert len(out.sent) == 3


def test_tempo_change_reschedules_pending_and_sounding_notes():
    loop, clock, out, sched = setup()
    t0 = clock.time_at(0.0)
    sched.schedule(60, 100, 0.0, 2.0)        # sounds from beat 0 to beat 2
    sched.schedule(72, 100, 2.0, 0.5)        # would start at 0.3 s at 400 bpm
    to_beat(loop, clock, 0.5)
    clock.set_tempo(loop.time(), TEMPO / 2)  # half speed from here
    t_two = clock.time_at(2.0)               # 0.075 + 1.5 beats of 0.3 s
    assert t_two - t0 == pytest.approx(0.525)
    to_beat(loop, clock, 4.0)
    (off60, t_off), = [(m, t) for m, t in out.of("note_off") if m.note == 60]
    (on72, t_on), = [(m, t) for m, t in out.of("note_on") if m.note == 72]
    assert t_off == pytest.approx(t_two, abs=EXACT) and t_on == pytest.approx(t_two, abs=EXACT)
    assert out.messages[1:3] in ([off60, on72], [on72, off60])
    assert_balanced(out.messages)


def test_a_late_note_is_sent_at_once_and_counted():
    loop, clock, out, sched = setup()
    now = loop.time()
    sched.schedule(60, 100, clock.beat_at(now) - 1.0, 4.0)   # one beat (0.15 s) late
    loop.run_until(now)
    assert out.sent[0][1] == now
    assert sched.late == 1
    assert sched.stats.late_max_s == pytest.approx(SPB)
    assert sched.stats.late_mean_s == sched.stats.late_max_s
    sched.cancel_all()
    assert_balanced(out.messages)


def test_relocations_release_and_skip():
    loop, clock, out, sched = setup()
    clock.set_transport(loop.time(), TEMPO, 0.0, True)
    sched.schedule(60, 100, 0.1, 8.0)         # sounding when the host loops back
    sched.schedule(62, 100, 1.0, 0.2)         # left behind by the jump forward
    sched.schedule(64, 100, 10.0, 0.5)        # still ahead after it
    to_beat(loop, clock, 0.2)
    assert sched.sounding == 1
    clock.set_transport(loop.time(), TEMPO, -2.0, True)      # loop back before 60
    assert [m.type for m in out.messages] == ["note_on", "note_off"]
    clock.set_transport(loop.time(), TEMPO, 5.0, True)       # jump past 62
    assert sched.stats.skipped == 1 and sched.pending == 1
    to_beat(loop, clock, 9.0)
    assert [m.note for m in out.messages] == [60, 60]
    to_beat(loop, clock, 11.0)
    assert [m.note for m in out.messages] == [60, 60, 64, 64]
    sched.close()
    assert_balanced(out.messages)


@pytest.mark.parametrize("args", [
    (128, 100, 0.0, 1.0, 1), (-1, 100, 0.0, 1.0, 1), (60, 0, 0.0, 1.0, 1),
    (60, 128, 0.0, 1.0, 1), (60, 100, 0.0, 0.0, 1), (60, 100, 0.0, -1.0, 1),
    (60, 100, math.nan, 1.0, 1), (60, 100, 0.0, math.inf, 1), (60, 100, 0.0, 1.0, 0),
    (60, 100, 0.0, 1.0, 17), (60.5, 100, 0.0, 1.0, 1), (True, 100, 0.0, 1.0, 1),
    (60, 100, "soon", 1.0, 1),
])
def test_bad_notes_are_refused(args):
    _loop, _clock, _out, sched = setup()
    with pytest.raises(SchedulerError):
        sched.schedule(*args)
    assert sched.pending == 0


def test_on_sent_hook_sees_each_message_and_may_cancel():
    seen: list[tuple[str, float]] = []
    holder: dict[str, NoteScheduler] = {}

    def hook(message: mido.Message, when: float) -> None:
        seen.append((message.type, when))
        if message.type == "note_on" and message.note == 61:
            holder["s"].cancel_all()          # barge-in from inside the hook
        if message.note == 62:
            raise RuntimeError("a broken hook must not break the scheduler")

    loop, clock, out, sched = setup(on_sent=hook)
    holder["s"] = sched
    sched.schedule(60, 100, 0.1, 0.2)
    sched.schedule(61, 100, 0.2, 8.0)
    sched.schedule(62, 100, 0.2, 8.0)
    to_beat(loop, clock, 10.0)
    assert [m for m, _ in seen] == [m.type for m in out.messages]
    assert [w for _, w in seen] == sorted(w for _, w in seen)
    assert_balanced(out.messages)


def test_a_failing_output_does_not_break_the_scheduler():
    class Broken(Recorder):
        def send(self, message: mido.Message) -> None:
            super().send(message)
            if message.type == "note_on":
                raise OSError("port went away")

    loop, clock, out, sched = setup(Broken)
    sched.schedule(60, 100, 0.1, 0.1)
    sched.schedule(61, 100, 0.2, 0.1)
    to_beat(loop, clock, 1.0)
    assert len(out.sent) == 4
    assert_balanced(out.messages)        # a note-off is still tried for each


class LateLoop(SimLoop):
    """Simulated time whose timers fire ``late`` seconds after they are due, as asyncio's do
    on Linux (its wait is rounded up to whole milliseconds)."""

    def __init__(self, late: float) -> None:
        super().__init__(start=100.0)
        self.late = late

    def call_at(self, when, fn, *args):
        return super().call_at(when + self.late, fn, *args)


def simulated(late: float = 0.0, **kwargs) -> tuple[LateLoop, BeatClock, list, NoteScheduler]:
    loop = LateLoop(late)
    clock = BeatClock(loop.time(), 120.0)
    sent: list[tuple[mido.Message, float]] = []

    class Out:
        def send(self, message):
            sent.append((message, loop.time()))

    return loop, clock, sent, NoteScheduler(clock, Out(), loop=loop, **kwargs)


def test_notes_leave_early_by_the_lead_on_and_off():
    loop, clock, sent, sched = simulated(lead_s=0.003)
    sched.schedule(60, 100, 1.0, 0.5)
    loop.run_until(clock.time_at(2.0))
    (on, t_on), (off, t_off) = sent
    assert on.type == "note_on" and t_on == pytest.approx(clock.time_at(1.0) - 0.003)
    assert off.type == "note_off" and t_off == pytest.approx(clock.time_at(1.5) - 0.003)
    assert sched.stats.recent[0] == pytest.approx(0.0, abs=1e-9)   # on time, by its due time
    assert sched.late == 0


def test_timers_that_fire_late_are_armed_early_by_their_lateness():
    loop, clock, sent, sched = simulated(late=0.0012, lead_s=0.002)
    for i in range(40):                  # each note asked for a beat ahead, as a session does
        sched.schedule(60 + i % 12, 100, 1.0 + i * 0.5, 0.25)
        loop.run_until(clock.time_at(0.5 + i * 0.5))
    loop.run_until(clock.time_at(30.0))
    ons = [t for m, t in sent if m.type == "note_on"]
    due = [clock.time_at(1.0 + i * 0.5) - 0.002 for i in range(40)]
    assert ons[0] - due[0] == pytest.approx(0.0012)           # nothing learnt yet: late
    assert all(abs(t - d) < 1e-6 for t, d in zip(ons[5:], due[5:], strict=True))
    assert sched.timer_lead_s == pytest.approx(0.0012)


def test_the_timers_lead_is_bounded_and_learns_nothing_from_notes_due_at_once():
    loop, clock, _sent, sched = simulated(late=0.010)
    for i in range(10):
        sched.schedule(60, 100, 1.0 + i, 0.5)
    loop.run_until(clock.time_at(12.0))
    assert sched.timer_lead_s == TIMER_LEAD_MAX_S             # a 10 ms lateness is not ours
    loop, clock, _sent, sched = simulated()
    for _ in range(5):
        sched.schedule(60, 100, clock.beat_at(loop.time()) - 1.0, 0.1)   # already past
        loop.run_until(loop.time() + 0.001)
    assert sched.timer_lead_s == 0.0 and sched.late == 5


@pytest.mark.parametrize("lead", [-0.001, math.inf, math.nan, 2.0])
def test_a_bad_lead_is_refused(lead):
    with pytest.raises(SchedulerError, match="lead"):
        simulated(lead_s=lead)
