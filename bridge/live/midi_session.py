"""The MIDI port pair as a session: notes, controllers and MIDI clock in, notes out.

``Continuo In`` / ``Continuo Out`` (virtual ports, or existing ports named by
``--midi-in``/``--midi-out``) form the session ``midi``. Its beat clock follows MIDI clock
on the input (24 ppq, start/stop/continue, song position) unless ``--midi-clock internal``.
Controllers set session parameters (each parameter's CC, spread over its range), trigger
actions (value >= 64), CC 64 is the sustain pedal (``Session.pedal``; unless ``--cc`` maps
it; CC 121, reset all controllers, lifts it), and CC 120/123 on the input releases
everything (and lets go of what the performer was heard holding). The daemon's own
output, looped back to its input, is recognised and ignored.

On JACK the server may go away under the daemon (:mod:`bridge.midi.watch`): the loss is
logged once, the session releases what plays and goes idle, status says ``midi_ports
lost``, and the ports are made again when the server is back. Ports of a lost server are
never closed (closing them blocks for a second or more), so shutdown keeps its bound.
"""

from __future__ import annotations

import asyncio
import logging

import mido

from bridge.config import Config
from bridge.live.events import Event, Failed, ParamChanged, TagsChanged
from bridge.live.hub import PORT_SESSION, Hub
from bridge.live.outputs import MidiNotes
from bridge.live.params import ACTIONS, ParamError, cc_map, param
from bridge.live.session import Session
from bridge.midi import hop
from bridge.midi.echo import EchoFilter
from bridge.midi.ports import MidiInput, MidiOutput, close_all, open_input, open_output
from bridge.midi.watch import ServerWatch, jack_server_name
from bridge.music.midifile import SUSTAIN
from bridge.timing.clock import BeatClock, ClockError
from bridge.timing.scheduler import NoteScheduler

log = logging.getLogger(__name__)

SID = PORT_SESSION      # (the hub reserves the name)
CLOCK_LOST_S = 2.0       # MIDI clock playing with no tick for this long: stopped (no Stop came)
PANIC_CCS = (120, 123)   # all sound off, all notes off
RESET_CC = 121           # reset all controllers: the sustain pedal lifts (MIDI's rule)


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
        self.controls = cc_map(config.pairs("cc"))
        self.follow_clock = config.midi_clock != "internal"
        self.echo = EchoFilter()
        numerator, denominator = config.time_signature
        self.clock = BeatClock(loop.time(), config.tempo, numerator=numerator,
                               denominator=denominator)
        self.output, self.input = self._open()
        self.target = _Tracked(self.output, self.echo, loop)
        self.notes = MidiNotes(NoteScheduler(self.clock, self.target, loop=loop,
                                             lead_s=self._latency_ms() / 1e3))
        self.session: Session = hub.add(SID, self.clock, self.notes, notify=self._notify)
        if config.band:
            self.session.set_param("band", config.band)
        self._lost: list[MidiInput | MidiOutput] = []     # ports of a server that went away
        self._clock_watch = loop.call_later(CLOCK_LOST_S / 4, self._watch_clock)
        self.watch = None
        if self.output.api == "jack":
            self.watch = ServerWatch(loop, jack_server_name(), self._server_lost,
                                     self._server_back)
            self.watch.start()

    def _open(self) -> tuple[MidiOutput, MidiInput]:
        output = open_output(self.config.midi_api, connect_to=self.config.midi_out or None)
        try:
            return output, open_input(self.config.midi_api,
                                      connect_to=self.config.midi_in or None,
                                      callback=self._from_rtmidi)
        except Exception:
            output.close()
            raise

    def _latency_ms(self) -> float:
        """How early notes leave: as configured, or two of the MIDI API's measured hops
        (the clock's tick in, the note out)."""
        configured = self.config.midi_latency_ms
        if configured is not None:
            return configured
        one = hop.measure(self.output.api)
        ms = 0.0 if one is None else round(2 * one * 1e3, 3)
        log.info("MIDI: a hop through %s takes %.2f ms: notes leave two hops (%.2f ms) early "
                 "(--midi-latency to set it)", self.output.api, ms / 2, ms)
        return ms

    def _server_lost(self) -> None:
        log.warning("MIDI: the JACK server %r went away: the MIDI ports are lost (notes to "
                    "them go nowhere); they will be made again when it is back",
                    self.watch.server)
        self.session.suspend()
        self.notes.ports = "lost"
        self._lost += [self.input, self.output]

    def _server_back(self) -> None:
        self.output, self.input = self._open()
        self.target.port = self.output
        self.notes.ports = "ok"
        self.session.resume()
        log.warning("MIDI: the JACK server %r is back; ports made again: %s",
                    self.watch.server, self.ports)

    @property
    def ports(self) -> str:
        return f"{self.input.name} <- {self.input.connected or 'virtual'}, " \
               f"{self.output.name} -> {self.output.connected or 'virtual'} ({self.input.api})"

    def _notify(self, event: Event) -> None:
        """The MIDI adapter of the session's events: a port has no way to show them, so
        they are logged."""
        if isinstance(event, TagsChanged):
            log.info("midi session tags: %s",
                     " ".join(f"{tag} {p:.2f}" for tag, p in event.tags))
        elif isinstance(event, Failed):
            log.warning("midi session: %s", event.message)
        elif isinstance(event, ParamChanged):
            log.info("midi session: %s set to %r in its band", event.name, event.value)

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
                self._control(message.control, message.value, when, message.channel + 1)
            elif self.follow_clock and kind in ("clock", "start", "stop", "continue",
                                                "songpos"):
                self._clock(message, when)
        except (ParamError, ClockError) as exc:
            log.warning("MIDI input %s: %s", message, exc)

    def _control(self, control: int, value: int, when: float, channel: int) -> None:
        if control in PANIC_CCS:
            self.session.panic()
            return
        name = self.controls.get(control)
        if name is None and control in (SUSTAIN, RESET_CC):   # the pedal, unless --cc maps
            self.session.pedal(value if control == SUSTAIN else 0, self.clock.beat_at(when),
                               channel)
            return
        if name is None:
            return
        if name in ACTIONS:
            if value >= 64:
                self.session.act(name)
            return
        value = self.session.set_param(name, param(name).from_cc(value, self.hub.styles))
        log.info("midi session: %s = %s (CC %d)", name, value, control)

    def _watch_clock(self) -> None:
        """MIDI clock that plays with no tick for ``CLOCK_LOST_S`` stops the session as a
        Stop would (the master switched off, a DAW crashed: accompaniment played on for ever
        at the last tempo); ticks coming back play on from where the song would be."""
        if self.follow_clock and self.clock.midi_silent(self.loop.time(), CLOCK_LOST_S):
            log.warning("MIDI clock: no tick for %.0f s and no Stop: stopped; it plays on "
                        "when the ticks come back", CLOCK_LOST_S)
        self._clock_watch = self.loop.call_later(CLOCK_LOST_S / 4, self._watch_clock)

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
        """Release everything (note-offs, then CC 123) and close the ports (not those of a
        server that went away, nor the ones in use if it is away now)."""
        self._clock_watch.cancel()
        if self.watch is not None:
            self.watch.stop()
        self.hub.bye(SID)
        if self.notes.ports == "ok":
            close_all(self.input, self.output)
