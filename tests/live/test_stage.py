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

from bridge.config import Config
from bridge.live.hub import Hub
from bridge.live.outputs import NOTE_CANCEL, NOTE_OUT, PANIC_OUT, OscNotes
from bridge.live.params import ACTIONS, DRUM_INPUT_CHANNEL, PARAMS, ParamError
from bridge.live.session import Session
from bridge.live.states import RESPONDING
from bridge.m4l.playback import NO_CUT
from bridge.timing.clock import BeatClock

TEMPO = 120.0
TEMPI = (60.0, 90.0, 120.0, 174.0)
SEEDS = int(os.environ.get("CONTINUO_STAGE_SEEDS", "3"))   # more: a longer search
KNOBS = [p for p in PARAMS if p.name not in ("band", "seed")]   # band: its own draw


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


class Performer:
    """A performer's hands and the knobs, drawn at random (seeded)."""

    def __init__(self, rng: random.Random, clocks: list[BeatClock], loop) -> None:
        self.rng, self.clocks, self.loop = rng, clocks, loop
        self.held: dict[tuple[Session, int, int | None], None] = {}   # pitch, MIDI channel
        self.tempo = TEMPO

    def act(self, sessions: list[Session]) -> None:
        """One thing a performer does, to one of ``sessions``: a note, a knob, a button, or
        the transport (every device's: one Live set)."""
        rng, s = self.rng, self.rng.choice(sessions)
        roll = rng.random()
        if roll < 0.45:                                        # the performer plays
            mine = [key for key in self.held if key[0] is s]
            if mine and rng.random() < 0.5:
                key = rng.choice(mine)
                del self.held[key]
                s.note_off(key[1], channel=key[2])
            else:
                pitch = rng.randrange(36, 96)
                channel = DRUM_INPUT_CHANNEL if rng.random() < 0.15 else None   # drums
                self.held[s, pitch, channel] = None
                s.note_on(pitch, rng.randrange(1, 128), channel=channel)
        elif roll < 0.75:
            knob = rng.choice(KNOBS)
            with contextlib.suppress(ParamError):   # a range that contradicts the other end
                s.set_param(knob.name, knob.from_cc(rng.randrange(128), s.styles))
        elif roll < 0.85:
            with contextlib.suppress(ParamError):              # not in this mode
                s.act(rng.choice(sorted(ACTIONS)))
        else:                                                  # the transport
            beat = s.time.now_beat()
            what = rng.choice(["tempo", "stop", "start", "jump"])
            self.tempo = rng.choice(TEMPI) if what == "tempo" else self.tempo
            if what == "jump":
                beat = rng.choice([0.0, beat + 16, max(0.0, beat - 8)])
            for clock in self.clocks:
                clock.set_transport(self.loop.time(), self.tempo, beat, what != "stop")

    def let_go(self) -> None:
        for s, pitch, channel in self.held:
            if not s.closed:
                s.note_off(pitch, channel=channel)
        self.held = {}


def _phrase(w, s: Session) -> None:
    for pitch in (60, 62, 64, 65):
        s.note_on(pitch, 90)
        w.run(0.5)
        s.note_off(pitch)


def _fine(devices: list[Device], engine) -> None:
    for device in devices:
        assert not device.late, device.late[:3]
        assert not device.struck_while_sounding, device.struck_while_sounding[:3]
    assert engine.stats["errors"] == 0


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_performer_on_stage_at_random(sim, seed):
    w = sim(TEMPO)
    clock = BeatClock(w.loop.time(), TEMPO)
    device = Device(clock, w.loop)
    out = OscNotes("s", clock, device.send, w.loop)
    s = Session("s", engine=w.engine, clock=clock, output=out,
                styles=w.engine.generator.config.styles, loop=w.loop,
                notify=lambda e: None, params={"seed": seed, "candidates": 4})
    performer = Performer(random.Random(seed), [clock], w.loop)
    for _ in range(400):
        performer.act([s])
        w.run(performer.rng.choice([0.05, 0.25, 0.5, 1.0, 4.0]))
    performer.let_go()
    w.run(16)
    heard = len(device.played)                  # and after all that, a phrase is answered
    clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat(), True)
    for name, value in (("mode", "call"), ("length_bars", 1), ("pitch_low", 0),
                        ("pitch_high", 127), ("part", "auto"), ("plays", "auto")):
        s.set_param(name, value)
    _phrase(w, s)
    w.until(lambda: len(device.played) > heard)
    w.run(8)
    played = len(device.played)
    _fine([device], w.engine)
    assert s.accompanist.late == 0
    s.close()
    w.run(16)
    assert len(device.played) == played and not device.sounding()


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_band_on_stage_at_random(sim, seed):
    """Three devices in one set, joining and leaving a band, each part and role turned at
    random, one deleted and added again now and then."""
    w = sim(TEMPO)
    rng = random.Random(seed)
    hub = Hub(Config(), w.engine, w.engine.generator.config.styles, "tiny", w.loop,
              send=lambda address, args, to: None)
    devices: dict[str, Device] = {}                 # every device there was
    current: dict[str, Device] = {}                 # ... and each one's now
    clocks: list[BeatClock] = []

    def add(sid: str) -> Session:
        clock = BeatClock(w.loop.time(), TEMPO)
        clock.set_transport(w.loop.time(), performer.tempo, now_beat(), True)
        clocks.append(clock)
        device = devices[f"{sid}{len(clocks)}"] = current[sid] = Device(clock, w.loop)
        session = hub.add(sid, clock, OscNotes(sid, clock, device.send, w.loop))
        session.set_param("candidates", 4)
        session.set_param("band", "stage")
        return session

    def now_beat() -> float:
        return clocks[0].beat_at(w.loop.time()) if clocks else 0.0

    performer = Performer(rng, clocks, w.loop)
    for sid in ("a", "b", "c"):
        add(sid)
    for _ in range(300):
        roll = rng.random()
        if roll < 0.1:
            with contextlib.suppress(ParamError):
                rng.choice(list(hub.sessions.values())).set_param(
                    "band", rng.choice(["", "stage", "stage", "other"]))
        elif roll < 0.12:                            # a device deleted, and added again
            sid = rng.choice(list(hub.sessions))
            hub.bye(sid)
            add(sid)
        else:
            performer.act(list(hub.sessions.values()))
        w.run(rng.choice([0.05, 0.25, 0.5, 1.0, 4.0]))
    performer.let_go()
    w.run(16)
    heard = len(current["b"].played)            # and after all that, the band answers
    for clock in clocks:
        clock.set_transport(w.loop.time(), TEMPO, now_beat(), True)
    a, b = hub.sessions["a"], hub.sessions["b"]
    for session, part, role in ((a, "melody", "perform"), (b, "harmony", "play")):
        for name, value in (("band", "stage"), ("pitch_low", 0), ("pitch_high", 127),
                            ("part", part), ("role", role), ("plays", "auto")):
            session.set_param(name, value)
    for name, value in (("mode", "call"), ("length_bars", 1)):
        a.set_param(name, value)                    # band-wide
    _phrase(w, a)                                   # (its answer may leave harmony out)
    w.until(lambda: hub.bands["stage"].stream.state == RESPONDING
            or len(current["b"].played) > heard)
    w.run(8)
    _fine(list(devices.values()), w.engine)
    played = [len(d.played) for d in devices.values()]
    hub.close_all()
    w.run(16)
    assert [len(d.played) for d in devices.values()] == played
    assert not any(d.sounding() for d in devices.values())
