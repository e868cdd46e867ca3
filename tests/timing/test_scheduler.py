"""NoteScheduler on a real asyncio loop, a fast clock and a recording output.

Timing bounds are deliberately loose (tens of milliseconds): these machines are shared.
"""

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

TEMPO = 400.0            # 0.15 s per beat: fast tests
SPB = 60.0 / TEMPO
SLACK = 0.1              # how late a timer may fire on a busy machine


class Recorder:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sent: list[tuple[mido.Message, float]] = []

    def send(self, message: mido.Message) -> None:
        self.sent.append((message, self.loop.time()))

    @property
    def messages(self) -> list[mido.Message]:
        return [m for m, _ in self.sent]

    def of(self, kind: str) -> list[tuple[mido.Message, float]]:
        return [(m, t) for m, t in self.sent if m.type == kind]


async def setup(**kwargs) -> tuple[BeatClock, Recorder, NoteScheduler]:
    loop = asyncio.get_running_loop()
    clock = BeatClock(loop.time(), TEMPO)
    out = Recorder(loop)
    return clock, out, NoteScheduler(clock, out, **kwargs)


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
    async def main():
        clock, out, sched = await setup()
        for pitch, beat in ((62, 0.6), (60, 0.2), (61, 0.4)):
            sched.schedule(pitch, 100, beat, 0.1, channel=2)
        assert sched.pending == 3
        await until(lambda: len(out.sent) == 6)
        ons = out.of("note_on")
        assert [m.note for m, _ in ons] == [60, 61, 62]
        assert all(m.channel == 1 and m.velocity == 100 for m, _ in ons)
        for (_m, t), beat in zip(ons, (0.2, 0.4, 0.6), strict=True):
            assert clock.time_at(beat) - 0.002 <= t <= clock.time_at(beat) + SLACK
        for m, t in out.of("note_off"):
            assert t >= clock.time_at({60: 0.3, 61: 0.5, 62: 0.7}[m.note]) - 0.002
        assert_balanced(out.messages)
        assert sched.pending == sched.sounding == 0
        assert sched.stats.notes == 3 and len(sched.stats.recent) == 3
        sched.close()
    asyncio.run(main())


def test_retrigger_releases_the_sounding_note_first():
    async def main():
        _clock, out, sched = await setup()
        sched.schedule(64, 90, 0.2, 1.0)
        sched.schedule(64, 91, 0.4, 0.2)
        sched.schedule(64, 92, 0.3, 0.2, channel=5)     # another channel: independent
        await until(lambda: len(out.sent) == 6)
        await asyncio.sleep(1.0 * SPB + 0.05)            # the first note's end passes
        ch1 = [(m.type, m.velocity) for m in out.messages if m.channel == 0]
        assert ch1 == [("note_on", 90), ("note_off", 0), ("note_on", 91), ("note_off", 0)]
        assert_balanced(out.messages)
        assert len(out.sent) == 6
    asyncio.run(main())


def test_cancel_from_drops_later_notes_and_releases_sounding_ones():
    async def main():
        _clock, out, sched = await setup()
        long = sched.schedule(60, 100, 0.1, 8.0)
        sched.schedule(62, 100, 0.3, 0.1)
        kept = sched.schedule(64, 100, 1.0, 0.1)
        sched.schedule(65, 100, 2.0, 0.1)
        sched.schedule(66, 100, 3.0, 0.1)
        await until(lambda: len(out.of("note_off")) == 1)      # 62 has played
        assert sched.sounding == 1
        assert sched.cancel_from(1.5) == 2
        assert out.messages[-1].type == "note_off" and out.messages[-1].note == 60
        assert sched.sounding == 0 and sched.pending == 1
        assert not sched.cancel(long)                           # already released
        await until(lambda: sched.pending == 0 and sched.sounding == 0)
        await asyncio.sleep(2.5 * SPB)
        assert [m.note for m, _ in out.of("note_on")] == [60, 62, 64]
        assert_balanced(out.messages)
        assert not sched.cancel(kept)
    asyncio.run(main())


def test_cancel_one_note():
    async def main():
        _clock, out, sched = await setup()
        a = sched.schedule(60, 100, 0.1, 8.0)
        b = sched.schedule(61, 100, 4.0, 1.0)
        await until(lambda: sched.sounding == 1)
        assert sched.cancel(a) and sched.cancel(b)
        assert sched.pending == sched.sounding == 0
        assert [m.type for m in out.messages] == ["note_on", "note_off"]
        assert not sched.cancel(12345)
    asyncio.run(main())


def test_panic_releases_everything_then_sends_all_notes_off():
    async def main():
        _clock, out, sched = await setup()
        sched.schedule(60, 100, 0.1, 8.0, channel=1)
        sched.schedule(67, 100, 0.1, 8.0, channel=3)
        sched.schedule(72, 100, 5.0, 1.0, channel=4)           # pending: dropped, no CC
        await until(lambda: sched.sounding == 2)
        sched.panic()
        kinds = [m.type for m in out.messages]
        assert kinds == ["note_on", "note_on", "note_off", "note_off",
                         "control_change", "control_change"]
        ccs = out.messages[-2:]
        assert {m.channel for m in ccs} == {0, 2}
        assert all(m.control == ALL_NOTES_OFF and m.value == 0 for m in ccs)
        assert sched.pending == sched.sounding == 0
        await asyncio.sleep(6 * SPB)
        assert len(out.sent) == 6
        assert_balanced(out.messages)
    asyncio.run(main())


def test_close_panics_and_stops_the_timers():
    async def main():
        clock, out, sched = await setup()
        sched.schedule(60, 100, 0.1, 8.0)
        sched.schedule(61, 100, 1.0, 1.0)
        await until(lambda: sched.sounding == 1)
        sched.close()
        sched.close()                                          # twice is harmless
        assert [m.type for m in out.messages] == ["note_on", "note_off", "control_change"]
        with pytest.raises(SchedulerError):
            sched.schedule(62, 100, 3.0, 1.0)
        clock.set_tempo(asyncio.get_running_loop().time(), 300.0)   # no listener left
        await asyncio.sleep(2 * SPB)
        assert len(out.sent) == 3
    asyncio.run(main())


def test_tempo_change_reschedules_pending_and_sounding_notes():
    async def main():
        clock, out, sched = await setup()
        t0 = clock.time_at(0.0)
        sched.schedule(60, 100, 0.0, 2.0)        # sounds from 0 to beat 2 (0.3 s at 400)
        sched.schedule(72, 100, 2.0, 0.5)        # would start at 0.3 s at 400 bpm
        await asyncio.sleep(0.5 * SPB)
        loop = asyncio.get_running_loop()
        clock.set_tempo(loop.time(), TEMPO / 2)  # half speed from here
        await until(lambda: len(out.sent) == 4)
        (off60, t_off), = [(m, t) for m, t in out.of("note_off") if m.note == 60]
        (on72, t_on), = [(m, t) for m, t in out.of("note_on") if m.note == 72]
        assert t_off - t0 > 0.4 and t_on - t0 > 0.4          # later than at 400 bpm
        assert t_on >= clock.time_at(2.0) - 0.002
        assert out.messages[1:3] == [off60, on72] or out.messages[1:3] == [on72, off60]
        assert_balanced(out.messages)
    asyncio.run(main())


def test_a_late_note_is_sent_at_once_and_counted():
    async def main():
        clock, out, sched = await setup()
        loop = asyncio.get_running_loop()
        now = loop.time()
        sched.schedule(60, 100, clock.beat_at(now) - 1.0, 4.0)   # one beat (0.15 s) late
        await until(lambda: len(out.sent) == 1, timeout=SLACK * 5)
        assert out.sent[0][1] - now < SLACK
        assert sched.late == 1
        assert sched.stats.late_max_s >= SPB - 0.01
        assert sched.stats.late_mean_s == sched.stats.late_max_s
        sched.cancel_all()
        assert_balanced(out.messages)
    asyncio.run(main())


def test_relocations_release_and_skip():
    async def main():
        clock, out, sched = await setup()
        loop = asyncio.get_running_loop()
        clock.set_transport(loop.time(), TEMPO, 0.0, True)
        sched.schedule(60, 100, 0.1, 8.0)         # sounding when the host loops back
        sched.schedule(62, 100, 1.0, 0.2)         # left behind by the jump forward
        sched.schedule(64, 100, 10.0, 0.5)        # still ahead after it
        await until(lambda: sched.sounding == 1)
        clock.set_transport(loop.time(), TEMPO, -2.0, True)      # loop back before 60
        assert [m.type for m in out.messages] == ["note_on", "note_off"]
        clock.set_transport(loop.time(), TEMPO, 5.0, True)       # jump past 62
        assert sched.stats.skipped == 1 and sched.pending == 1
        await asyncio.sleep(0.2)
        assert [m.note for m in out.messages] == [60, 60]
        sched.close()
        assert_balanced(out.messages)
    asyncio.run(main())


@pytest.mark.parametrize("args", [
    (128, 100, 0.0, 1.0, 1), (-1, 100, 0.0, 1.0, 1), (60, 0, 0.0, 1.0, 1),
    (60, 128, 0.0, 1.0, 1), (60, 100, 0.0, 0.0, 1), (60, 100, 0.0, -1.0, 1),
    (60, 100, math.nan, 1.0, 1), (60, 100, 0.0, math.inf, 1), (60, 100, 0.0, 1.0, 0),
    (60, 100, 0.0, 1.0, 17), (60.5, 100, 0.0, 1.0, 1), (True, 100, 0.0, 1.0, 1),
    (60, 100, "soon", 1.0, 1),
])
def test_bad_notes_are_refused(args):
    async def main():
        _clock, _out, sched = await setup()
        with pytest.raises(SchedulerError):
            sched.schedule(*args)
        assert sched.pending == 0
    asyncio.run(main())


def test_on_sent_hook_sees_each_message_and_may_cancel():
    async def main():
        seen: list[tuple[str, float]] = []
        holder: dict[str, NoteScheduler] = {}

        def hook(message: mido.Message, when: float) -> None:
            seen.append((message.type, when))
            if message.type == "note_on" and message.note == 61:
                holder["s"].cancel_all()          # barge-in from inside the hook
            if message.note == 62:
                raise RuntimeError("a broken hook must not break the scheduler")

        _clock, out, sched = await setup(on_sent=hook)
        holder["s"] = sched
        sched.schedule(60, 100, 0.1, 0.2)
        sched.schedule(61, 100, 0.2, 8.0)
        sched.schedule(62, 100, 0.2, 8.0)
        await until(lambda: len(seen) >= 4)
        await asyncio.sleep(0.05)
        assert [m for m, _ in seen] == [m.type for m in out.messages]
        assert [w for _, w in seen] == sorted(w for _, w in seen)
        assert_balanced(out.messages)
    asyncio.run(main())


def test_a_failing_output_does_not_break_the_scheduler():
    class Broken(Recorder):
        def send(self, message: mido.Message) -> None:
            super().send(message)
            if message.type == "note_on":
                raise OSError("port went away")

    async def main():
        loop = asyncio.get_running_loop()
        clock = BeatClock(loop.time(), TEMPO)
        out = Broken(loop)
        sched = NoteScheduler(clock, out)
        sched.schedule(60, 100, 0.1, 0.1)
        sched.schedule(61, 100, 0.2, 0.1)
        await until(lambda: len(out.sent) == 4)
        assert_balanced(out.messages)        # a note-off is still tried for each
    asyncio.run(main())


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
