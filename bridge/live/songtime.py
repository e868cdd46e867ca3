"""A session's time: song beats on its beat clock, stream ticks for the model, the meter the
stream follows, and timers on the beat clock.

Stream time is the song's beats in ticks plus ``offset``: when the host jumps back (a
loop), the offset grows by whole bars, so the model's context always moves forward; when it
jumps on, stream time jumps with it (a rest in the context). Either way the session is told
(``on_jump``, with how far back: negative for a jump on). The song's bar lines are kept as
the host's time signature says where they change (``song_meter``, song ticks: the bar lines
an answer comes in on, :class:`bridge.live.phrase.BarLines`), and the stream's bars stay on
them: a jump that lands where the song's bars lie otherwise than the stream's (a loop back
across a change of time signature) moves stream time on to the stream's next bar line from
there, in the song's bars. Every
timer is a ``loop.call_at`` on the clock's map, armed at a beat and re-armed when the map
moves (a tempo change, a transport message). What the clock's changes mean for the music
(the transport stopping or starting, a jump back) is the session's: it is told through the
``on_stop``, ``on_start`` and ``on_jump`` callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from bridge.timing.clock import START, STOP, BeatClock
from bridge.vocab import TICKS_PER_BEAT, Meter

log = logging.getLogger(__name__)

JUMP_BEATS = 0.25        # the clock moving further than this is the host jumping


@dataclass
class _Timer:
    handle: asyncio.TimerHandle
    fn: Callable[[float], None]
    beat: float
    lead: float


class SongTime:
    def __init__(self, clock: BeatClock, loop: asyncio.AbstractEventLoop, *,
                 on_stop: Callable[[], None], on_start: Callable[[], None],
                 on_jump: Callable[[float], None]) -> None:
        self.clock, self.loop = clock, loop
        self.on_stop, self.on_start, self.on_jump = on_stop, on_start, on_jump
        self.meter = Meter([(0, Meter.bar_ticks_of(clock.numerator, clock.denominator))])
        self.song_meter = Meter(list(self.meter.changes))   # the song's bars, song ticks
        self.offset = 0                  # stream ticks - song ticks
        self._timers: dict[str, _Timer] = {}
        self._remember_map()
        clock.add_listener(self._on_clock)

    def now_beat(self) -> float:
        return self.clock.beat_at(self.loop.time())

    def tick(self, beat: float) -> int:
        """Song beat -> stream tick."""
        return round(beat * TICKS_PER_BEAT) + self.offset

    def song_beat(self, tick: int) -> float:
        return (tick - self.offset) / TICKS_PER_BEAT

    # -- the song's bar lines (bridge.live.phrase.BarLines) ---------------------------------

    def floor(self, beat: float) -> float:
        return self.song_meter.bar_start(math.floor(beat * TICKS_PER_BEAT + 1e-6)) \
            / TICKS_PER_BEAT

    def ceil(self, beat: float) -> float:
        tick = math.ceil(beat * TICKS_PER_BEAT - 1e-6)
        line = self.song_meter.bar_start(tick)
        return (line if line == tick else line + self.song_meter.bar_length(line)) \
            / TICKS_PER_BEAT

    def on(self, line: float, bars: int) -> float:
        return self.song_meter.shift(round(line * TICKS_PER_BEAT), bars) / TICKS_PER_BEAT

    def length(self, beat: float) -> float:
        return self.song_meter.bar_length(round(self.floor(beat) * TICKS_PER_BEAT)) \
            / TICKS_PER_BEAT

    def bar_after(self, beat: float) -> float:
        """The first bar line after ``beat``."""
        return self.ceil(beat + 1e-3)

    def status(self) -> list[tuple[str, object]]:
        """The clock as the session's status reports it."""
        clock = self.clock.snapshot(self.loop.time())
        return [("tempo", clock["tempo"]), ("beat", clock["beat"]),
                ("playing", int(clock["playing"])), ("clock", clock["source"]),
                ("signature", clock["signature"])]

    @property
    def bar_beats(self) -> float:
        return self.clock.bar_beats

    def beats_in(self, seconds: float) -> float:
        """How many beats ``seconds`` last at the clock's tempo now."""
        return seconds / self.clock.seconds_per_beat

    # -- timers ------------------------------------------------------------------------------

    def arm(self, name: str, beat: float, fn: Callable[[float], None],
            lead: float = 0.0) -> None:
        """Call ``fn(beat)`` when the clock reaches ``beat`` (``lead`` seconds early)."""
        self.disarm(name)
        when = max(self.loop.time(), self.clock.time_at(beat) - lead)
        handle = self.loop.call_at(when, self._fire, name)
        self._timers[name] = _Timer(handle, fn, beat, lead)

    def _fire(self, name: str) -> None:
        timer = self._timers.pop(name)
        timer.fn(timer.beat)

    def disarm(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.handle.cancel()

    # -- following the clock ------------------------------------------------------------------

    def _remember_map(self) -> None:
        self._map = (self.loop.time(), self.now_beat(), self.clock.tempo)

    def _on_clock(self, reason: str) -> None:
        if reason == STOP:
            self.on_stop()
        elif reason == START:
            self.on_start()
        t = self.loop.time()
        then_t, then_beat, then_tempo = self._map
        expected = then_beat + (t - then_t) * then_tempo / 60.0   # where the old map said
        now = self.now_beat()
        if abs(now - expected) > JUMP_BEATS:      # the host jumped, back or on
            reached = self.tick(expected)         # where the stream had come to
            if now < expected:                    # back: keep stream time moving forward
                bar = self.meter.bar_length(self.meter.bar_start(self.tick(now)))
                jump = round((expected - now) * TICKS_PER_BEAT)
                self.offset += -(-jump // bar) * bar
            self._keep_bars(now, reached)
            self.on_jump(expected - now)
        self._remember_map()
        self.sync_meter()
        for name, timer in list(self._timers.items()):   # re-arm from their beats
            self.arm(name, timer.beat, timer.fn, lead=timer.lead)

    def follow(self, clock: BeatClock) -> None:
        """Follow ``clock`` from now (a band's stream, when the member whose clock it
        followed leaves): where it stands is heard as any move of the clock is (a jump, the
        transport stopping or starting)."""
        if clock is self.clock:
            return
        was = self.clock.playing
        self.clock.remove_listener(self._on_clock)
        self.clock = clock
        clock.add_listener(self._on_clock)
        self._on_clock(STOP if was and not clock.playing else
                       START if clock.playing and not was else "follow")

    def _keep_bars(self, beat: float, reached: int) -> None:
        """After a jump to ``beat``: where the stream's bars there lie otherwise than the
        song's, stream time goes on from the stream's first bar line at or after
        ``reached`` (the stream tick it had come to), in the song's bars from there."""
        song = round(beat * TICKS_PER_BEAT)
        line = self.song_meter.bar_start(song)
        place, length = song - line, self.song_meter.bar_length(line)
        here = song + self.offset
        if self.meter.bar_start(here) == here - place and \
                self.meter.bar_length(here - place) == length:
            return
        start = self.meter.bar_start(reached)
        if start < reached:
            start += self.meter.bar_length(start)
        self.meter.set(start, length)
        self.offset = start + place - song

    def sync_meter(self) -> None:
        """Follow the clock's time signature from the current (or next) bar, in the song's
        bars and the stream's."""
        length = Meter.bar_ticks_of(self.clock.numerator, self.clock.denominator)
        if self.meter.changes[-1][1] == length:
            return
        now = self.tick(self.now_beat())
        start = self.meter.bar_start(now)
        if now - start > TICKS_PER_BEAT:     # well into a bar: change from the next one
            start += self.meter.bar_length(start)
        self.meter.set(start, length)
        self.song_meter.set(start - self.offset, length)

    def close(self) -> None:
        for name in list(self._timers):
            self.disarm(name)
        self.clock.remove_listener(self._on_clock)
