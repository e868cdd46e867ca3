"""A performer on stage, at random (seeded): notes played and held, every knob turned to
values the device could send, modes and styles switched, requests, stop and panic, the
transport stopped, started, moved on and back and its tempo changed, all while Continuo
plays. Whatever the order, the device is sent no note after its time, strikes no pitch
again while it sounds on its channel, holds nothing once the session is closed, and the
worker catches nothing (simulated time: tests/live/conftest.py ``sim``; the session's own
OSC output, and the device's playback as the patch does it). It found a generation left
with no pitch to play, answers arriving late after a jump on, and notes the device would
strike while still sounding them; ``CONTINUO_STAGE_SEEDS=50`` searches longer."""

from __future__ import annotations

import contextlib
import os
import random

import pytest

from bridge.live.outputs import NOTE_CANCEL, NOTE_OUT, PANIC_OUT, OscNotes
from bridge.live.params import ACTIONS, DRUM_INPUT_CHANNEL, PARAMS, ParamError
from bridge.live.session import Session
from bridge.m4l.playback import NO_CUT
from bridge.timing.clock import BeatClock

TEMPO = 120.0
TEMPI = (60.0, 90.0, 120.0, 174.0)
SEEDS = int(os.environ.get("CONTINUO_STAGE_SEEDS", "3"))   # more: a longer search
KNOBS = [p for p in PARAMS if p.name not in ("band", "role", "seed")]   # a band: test_band


class Device:
    """What the device does with what it is sent (bridge/m4l/playback.py, as
    bridge/m4l/standin.py plays it over sockets) on simulated time: a note plays
    ``delay_ms`` after it arrives, for ``duration`` beats at the tempo then; a cancel opens
    a new generation (older notes play only before the cut) and releases what sounds if the
    cut has come; a panic drops the queue and releases everything."""

    def __init__(self, clock: BeatClock, loop) -> None:
        self.clock, self.loop = clock, loop
        self.generation, self.latest_cut, self.older_cut = 0, NO_CUT, NO_CUT
        self.queued: list = []                       # notes waiting in the pipe
        self.played: list[list] = []                 # [channel, pitch, on, off] (loop time)
        self.late: list[tuple[float, list]] = []     # (beat when sent, the note's args)
        self.struck_while_sounding: list[tuple[list, list]] = []

    def send(self, address: str, args: list) -> None:
        now, beat = self.loop.time(), self.clock.beat_at(self.loop.time())
        if address == NOTE_OUT:
            _, pitch, _, start, duration, channel, delay_ms = args
            if beat > start + 1e-6:
                self.late.append((beat, args))
            length = duration * self.clock.seconds_per_beat
            self.queued.append(self.loop.call_at(now + delay_ms / 1000, self._due,
                                                 self.generation, start, pitch, channel,
                                                 length))
        elif address == NOTE_CANCEL:
            cut = args[1]
            if cut <= beat + 1e-3:
                self._release_all()
            self.older_cut = min(cut, self.latest_cut, self.older_cut)
            self.latest_cut, self.generation = cut, self.generation + 1
        elif address == PANIC_OUT:                   # the queue dropped, everything let go
            for handle in self.queued:
                handle.cancel()
            self.queued = []
            self._release_all()

    def _due(self, generation: int, beat: float, pitch: int, channel: int,
             length: float) -> None:
        g = self.generation
        if not (generation >= g or (generation == g - 1 and beat < self.latest_cut)
                or (generation < g - 1 and beat < self.older_cut)):
            return
        now = self.loop.time()
        for other in self.played:
            if other[:2] == [channel, pitch] and other[2] <= now < other[3] - 1e-9:
                self.struck_while_sounding.append((other, [channel, pitch, now]))
        self.played.append([channel, pitch, now, now + length])

    def _release_all(self) -> None:
        now = self.loop.time()
        for note in self.played:
            note[3] = min(note[3], now)

    def sounding(self) -> list[list]:
        return [n for n in self.played if n[3] > self.loop.time()]


def _turn(rng: random.Random, s: Session) -> None:
    knob = rng.choice(KNOBS)
    with contextlib.suppress(ParamError):   # a range that contradicts the other end
        s.set_param(knob.name, knob.from_cc(rng.randrange(128), s.styles))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_performer_on_stage_at_random(sim, seed):
    rng = random.Random(seed)
    w = sim(TEMPO)
    clock = BeatClock(w.loop.time(), TEMPO)
    device = Device(clock, w.loop)
    out = OscNotes("s", clock, device.send, w.loop)
    s = Session("s", engine=w.engine, clock=clock, output=out,
                styles=w.engine.generator.config.styles, loop=w.loop,
                notify=lambda e: None, params={"seed": seed, "candidates": 4})
    held: dict[int, int | None] = {}                      # pitch -> MIDI channel
    tempo = TEMPO
    for _ in range(400):
        roll = rng.random()
        if roll < 0.45:                                        # the performer plays
            if held and rng.random() < 0.5:
                pitch = rng.choice(sorted(held))
                s.note_off(pitch, channel=held.pop(pitch))
            else:
                pitch = rng.randrange(36, 96)
                held[pitch] = DRUM_INPUT_CHANNEL if rng.random() < 0.15 else None   # drums
                s.note_on(pitch, rng.randrange(1, 128), channel=held[pitch])
        elif roll < 0.75:
            _turn(rng, s)
        elif roll < 0.85:
            with contextlib.suppress(ParamError):              # not in this mode
                s.act(rng.choice(sorted(ACTIONS)))
        else:                                                  # the transport
            beat = s.time.now_beat()
            what = rng.choice(["tempo", "stop", "start", "jump"])
            tempo = rng.choice(TEMPI) if what == "tempo" else tempo
            if what == "jump":
                beat = rng.choice([0.0, beat + 16, max(0.0, beat - 8)])
            clock.set_transport(w.loop.time(), tempo, beat, what != "stop")
        w.run(rng.choice([0.05, 0.25, 0.5, 1.0, 4.0]))
    for pitch, channel in held.items():
        s.note_off(pitch, channel=channel)
    w.run(16)
    heard = len(device.played)                  # and after all that, a phrase is answered
    clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat(), True)
    for name, value in (("mode", "call"), ("length_bars", 1), ("pitch_low", 0),
                        ("pitch_high", 127), ("part", "auto"), ("plays", "auto")):
        s.set_param(name, value)
    for pitch in (60, 62, 64, 65):
        s.note_on(pitch, 90)
        w.run(0.5)
        s.note_off(pitch)
    w.until(lambda: len(device.played) > heard)
    w.run(8)
    played = len(device.played)
    assert not device.late, device.late[:3]
    assert not device.struck_while_sounding, device.struck_while_sounding[:3]
    assert s.accompanist.late == 0
    assert w.engine.stats["errors"] == 0
    s.close()
    w.run(16)
    assert len(device.played) == played and not device.sounding()
