"""The MIDI port pair as a session: notes, controllers and MIDI clock in, notes out.

``Continuo In`` / ``Continuo Out`` (virtual ports, or existing ports named by
``--midi-in``/``--midi-out``) form the session ``midi``. Its beat clock follows MIDI clock
on the input (24 ppq, start/stop/continue, song position) unless ``--midi-clock internal``.
Controllers set session parameters (each parameter's CC, spread over its range), trigger
actions (value >= 64), and CC 120/123 on the input releases everything. The daemon's own
output, looped back to its input, is recognised and ignored.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import mido

from bridge.config import Config
from bridge.live.hub import Hub
from bridge.live.outputs import MidiNotes
from bridge.live.params import ACTIONS, PARAMS, ParamError, param
from bridge.live.session import Session
from bridge.midi.echo import EchoFilter
from bridge.midi.ports import MidiInput, MidiOutput, close_all, open_input, open_output
from bridge.timing.clock import BeatClock, ClockError
from bridge.timing.scheduler import NoteScheduler

log = logging.getLogger(__name__)

SID = "midi"
PANIC_CCS = (120, 123)   # all sound off, all notes off


def cc_map(config: Config) -> dict[int, str]:
    """Controller number -> parameter or action name: defaults, then ``--cc NAME=CC``."""
    names: dict[str, int] = {p.name: p.cc for p in PARAMS if p.cc is not None}
    names.update(ACTIONS)
    for name, raw in config.pairs("cc").items():
        if name not in names and name not in {p.name for p in PARAMS}:
            raise ParamError(f"--cc {name}={raw}: no parameter or action called {name!r}")
        try:
            number = int(raw)
        except ValueError:
            raise ParamError(f"--cc {name}={raw}: not a controller number") from None
        if not 0 <= number <= 119:
            raise ParamError(f"--cc {name}={raw}: controllers 0-119 only")
        names[name] = number
    mapping: dict[int, str] = {}
    for name, number in names.items():
        if number in mapping:
            raise ParamError(f"CC {number} is mapped to both {mapping[number]} and {name}")
        mapping[number] = name
    return mapping


class _Tracked:
    """The output port, telling the echo filter what it sends."""

    def __init__(self, port: MidiOutput, echo: EchoFilter,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.port, self.echo, self.loop = port, echo, loop

    def send(self, message: mido.Message) -> None:
        self.echo.sent(message, self.loop.time())
        self.port.send(message)


class MidiSession:
    def __init__(self, hub: Hub, config: Config, loop: asyncio.AbstractEventLoop) -> None:
        self.hub, self.config, self.loop = hub, config, loop
        self.controls = cc_map(config)
        self.follow_clock = config.midi_clock != "internal"
        self.echo = EchoFilter()
        self.clock = BeatClock(loop.time(), config.tempo)
        self.output: MidiOutput = open_output(config.midi_api,
                                              connect_to=config.midi_out or None)
        try:
            self.input: MidiInput = open_input(config.midi_api,
                                               connect_to=config.midi_in or None,
                                               callback=self._from_rtmidi)
        except Exception:
            self.output.close()
            raise
        scheduler = NoteScheduler(self.clock, _Tracked(self.output, self.echo, loop), loop=loop)
        self.session: Session = hub.add(SID, self.clock, MidiNotes(scheduler),
                                        notify=self._notify)

    @property
    def ports(self) -> str:
        return f"{self.input.name} <- {self.input.connected or 'virtual'}, " \
               f"{self.output.name} -> {self.output.connected or 'virtual'} ({self.input.api})"

    def _notify(self, address: str, args: list[Any]) -> None:
        if address.endswith("/tags/update"):
            log.info("midi session tags: %s", " ".join(str(a) for a in args[1:]))

    def _from_rtmidi(self, message: mido.Message, when: float) -> None:
        self.loop.call_soon_threadsafe(self._handle, message, when)

    def _handle(self, message: mido.Message, when: float) -> None:
        if self.session.closed or self.echo.is_echo(message, when):
            return
        kind = message.type
        try:
            if kind in ("note_on", "note_off"):
                beat = self.clock.beat_at(when)
                velocity = message.velocity if kind == "note_on" else 0
                if velocity:
                    self.session.note_on(message.note, velocity, beat, message.channel + 1)
                else:
                    self.session.note_off(message.note, beat, message.channel + 1)
            elif kind == "control_change":
                self._control(message.control, message.value)
            elif self.follow_clock and kind in ("clock", "start", "stop", "continue",
                                                "songpos"):
                self._clock(message, when)
        except (ParamError, ClockError) as exc:
            log.warning("MIDI input %s: %s", message, exc)

    def _control(self, control: int, value: int) -> None:
        if control in PANIC_CCS:
            self.session.panic()
            return
        name = self.controls.get(control)
        if name is None:
            return
        if name in ACTIONS:
            if value >= 64:
                {"generate": self.session.respond, "stop": self.session.stop,
                 "panic": self.session.panic, "phrase_end": self.session.respond}[name]()
            return
        value = self.session.set_param(name, param(name).from_cc(value, self.hub.styles))
        log.info("midi session: %s = %s (CC %d)", name, value, control)

    def _clock(self, message: mido.Message, when: float) -> None:
        kind = message.type
        if kind == "clock":
            self.clock.midi_tick(when)
        elif kind == "start":
            self.clock.midi_start(when)
        elif kind == "stop":
            self.clock.midi_stop(when)
        elif kind == "continue":
            self.clock.midi_continue(when)
        else:
            self.clock.song_position(when, message.pos)

    def close(self) -> None:
        """Release everything (note-offs, then CC 123) and close the ports."""
        self.hub.bye(SID)
        close_all(self.input, self.output)
