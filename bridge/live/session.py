"""A session: one performer (a device instance, or the MIDI port pair) and its companion.

Everything here runs on the asyncio loop. The session decides *when* to play (phrase ends,
requests, the accompaniment's grid) and asks the worker for a :class:`Generation`; the notes
that come back go to its output and into its :class:`bridge.live.context.Context` (what the
model hears: both players' notes, fed as they come). Its time (song beats, stream ticks,
timers re-armed when the beat clock's map moves) is a :class:`bridge.live.songtime.SongTime`;
what it plays (parts, channels, style) and how a continuation is asked for, its
:class:`bridge.live.voice.Voice`. Its collaborators (responder, accompanist, style watch) see
it only as a :class:`bridge.live.host.Host`; what it hears from its performer is
:class:`bridge.live.performer.PerformerInput`'s.

The transport stopping (OSC ``playing 0``, MIDI Stop) ends what plays as a panic does, and
begins a new take (:meth:`Context.new_take`); its starting again (or MIDI Continue)
re-enters the mode. A continuation never strikes a note
the session still sounds. A generation that fails is reported (``Failed``). What the session
tells its client are typed events (:mod:`bridge.live.events`), never protocol messages. In a
band (:mod:`bridge.live.band`) it is a member: what it hears goes to the band's stream,
itself a session, and it generates nothing of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bridge.live.accompany import Accompanist
from bridge.live.context import Context
from bridge.live.engine import Engine
from bridge.live.events import Event, Failed, StateChanged
from bridge.live.generation import Generation
from bridge.live.host import Tags
from bridge.live.outputs import Output
from bridge.live.params import ParamError, check_together, defaults, param
from bridge.live.performer import PerformerInput
from bridge.live.phrase import Phrase
from bridge.live.respond import Responder
from bridge.live.songtime import SongTime
from bridge.live.states import ACCOMPANYING, IDLE, LISTENING, RESPONDING
from bridge.live.tagging import StyleWatch
from bridge.live.voice import Voice, draw_seed
from bridge.music.drums import gm_key
from bridge.music.piece import Note
from bridge.music.touch import Hands
from bridge.timing.clock import BeatClock
from bridge.vocab import TICKS_PER_BEAT

log = logging.getLogger(__name__)


class Session(PerformerInput):
    def __init__(self, sid: str, *, engine: Engine, clock: BeatClock, output: Output,
                 styles: tuple[str, ...], loop: asyncio.AbstractEventLoop,
                 notify: Callable[[Event], Any] | None = None,
                 params: dict[str, Any] | None = None, prepare: bool = True,
                 on_band: Callable[[Session, str], None] | None = None) -> None:
        self.sid, self.engine, self.clock, self.output = sid, engine, clock, output
        self.styles, self.loop = styles, loop
        self.notify = notify or (lambda event: None)
        self.params = {**defaults(), **(params or {})}
        self.time = SongTime(clock, loop, on_stop=self._transport_stopped,
                             on_start=self.resume, on_jump=self._jumped)
        self.context = Context(sid, engine, self.time.meter)   # what the model hears
        self.voice = Voice(sid, self.params, styles, self.time, self.context,  # what it plays
                           heard=lambda: self.style_watch.genre)
        self.phrase = Phrase()
        self.hands = Hands()                      # how the performer strikes chords
        self.responder = Responder(self, prepare)  # call and manual
        self.accompanist = Accompanist(self)      # accompany
        self.style_watch = StyleWatch(self)       # tags
        self.state = IDLE
        self.closed = False
        self.on_band = on_band               # joins (or leaves, '') a band by name: the hub
        self.band: Any = None                # the band it is a member of (bridge.live.band)
        self.down: dict[tuple[int, int | None], Any] = {}   # (pitch, channel) held -> where
        #       its note-on went: the band, or (part, listen) here; its note-off goes there
        engine.open(sid, self.voice.style_index, self.voice.guided)   # (closed by context)
        self.style_watch.start()
        self._enter(self.params["mode"], quiet=True)

    # -- time ----------------------------------------------------------------------------

    def _jumped(self, beats: float) -> None:
        """The host jumped back ``beats`` (a loop) or on (negative: the song moved on under
        what was planned, which would only come late): what plays stops from the place it
        left (a jump on: what was yet to play between there and here goes too), and the
        answer the phrase before it was to get (its timer would fire late, or again in the
        loop); the mode begins again."""
        log.info("session %s: host jumped %s %.2f beats", self.sid,
                 "back" if beats > 0 else "on", abs(beats))
        self._stop_playing(self.time.now_beat() + min(0.0, beats), answer=False)
        self.phrase.reset()
        self._enter(self.params["mode"])      # listening again, or accompanying anew

    def _transport_stopped(self) -> None:
        """Everything stops as on panic (which lets go of the performer's phrase and leaves
        the session listening); what is heard from here is a new take
        (:meth:`Context.new_take`), unless MIDI clock only went away a while (the master's
        song plays on: it accompanies again when the ticks come back)."""
        log.info("session %s: transport stopped", self.sid)
        self.panic()
        if not self.clock.lost:             # (MIDI clock gone a while: the song plays on)
            self.context.new_take(self.time.tick(self.time.now_beat()))

    def _host_stopped(self) -> bool:
        """Is the song stopped where a host keeps it (its transport or MIDI clock)? Then
        the accompaniment waits for it to play (on its own clock, without a host, it plays
        at once)."""
        return self.clock.source != "internal" and not self.clock.playing

    def follow(self, clock: BeatClock) -> None:
        """Keep time by ``clock`` from now (a band's stream, its first member gone)."""
        self.clock = clock
        self.time.follow(clock)

    def suspend(self) -> None:
        """Nothing can be heard (its MIDI ports are lost): release what plays, go idle."""
        self.panic()
        self.responder.discard()
        self.set_state(IDLE)

    def resume(self) -> None:
        """The mode again from where the clock stands (a running accompaniment re-plans)."""
        if self.accompanist.running:
            self._stop_playing()
        self._enter(self.params["mode"])

    # -- playing ---------------------------------------------------------------------------

    def respond(self, start: float | None = None, bars: int | None = None) -> None:
        """Play a continuation now: an answer from ``start`` (default: the next grid
        position), or in accompany mode (re)start the accompaniment."""
        if self.band is not None:
            self.band.stream.respond(start, bars)
            return
        mode = self.params["mode"]
        if mode == "off":
            raise ParamError("mode is off: set mode to call, accompany or manual first")
        if mode == "accompany":
            if self.accompanist.running:
                self.accompanist.replan()
            else:
                self._enter("accompany")
            return
        self._stop_playing()
        self.responder.start(start, bars)

    def generations(self, start: float, end: float, *, note_now: bool, on_done: Callable,
                    on_note: Callable | None = None) -> list[Generation]:
        """What the voice asks for (:meth:`Voice.generations`); a failure is reported."""
        def done(gen: Generation, reason: str) -> None:
            if reason == "error" and not self.closed:
                self.notify(Failed(self.sid, f"session {self.sid}: a continuation failed "
                                             f"({gen.error}); the session goes on"))
            on_done(gen, reason)
        return self.voice.generations(start, end, note_now=note_now, on_note=on_note,
                                      on_done=done)

    def submit(self, gen: Generation | Sequence[Generation]
               ) -> Generation | Sequence[Generation]:
        return self.engine.generate(gen)

    def release(self, gen: Generation) -> None:
        self.engine.resume(gen)

    def plays_both(self) -> bool:
        return self.voice.playing_both()

    def tag(self, tokens: list[int], on_result: Callable[[str, Tags], None]) -> None:
        self.engine.tag(self.sid, tokens, on_result)

    def heard_moved(self) -> None:
        if self.params["style"]:
            self.responder.prepare()

    @property
    def fed(self) -> int:
        return self.context.fed

    def heard(self) -> tuple[float | None, int]:
        return self.context.heard()

    def quotable(self, own: bool = True) -> list[Note]:
        return [] if self.params["style"] else self.context.recent(own)

    def keyed(self) -> list[Note]:
        return self.context.recent() if self.params["style"] else []

    def play(self, note: Note) -> Note:
        """Send a generated note (stream beats) out and into the context (on its tick, as
        the model drew it); song-time note, a chord's note later by the performer's touch
        (``touch``: :class:`bridge.music.touch.Hands`)."""
        tick = round(note.start * TICKS_PER_BEAT)
        song = replace(note, start=self.time.song_beat(tick) + self._spread(note, tick),
                       pitch=gm_key(note.pitch) if note.drum else note.pitch)
        self.output.play(song, self.voice.channel(note))
        self.context.played(tick, round(note.duration * TICKS_PER_BEAT), note.pitch,
                            note.velocity, note.drum, note.part)
        return song

    def _spread(self, note: Note, tick: int) -> float:
        """Beats a generated note comes after its instant's first (pitched, ``touch``
        player), drawn with the session's ``seed``."""
        if note.drum or self.params["touch"] != "player":
            return 0.0
        seed = self.params["seed"]
        return self.hands.delay(tick, self.clock.tempo,
                                None if seed < 0 else draw_seed(seed, tick))

    def act(self, action: str) -> None:
        """One of the actions (``ACTIONS``), as an OSC route or a MIDI CC asks it: generate
        (a continuation now), stop, panic, phrase_end (call mode: the phrase is over)."""
        if action == "phrase_end" and self.params["mode"] != "call":
            raise ParamError("phrase_end is for call mode; use generate")
        {"generate": self.respond, "stop": self.stop, "panic": self.panic,
         "phrase_end": self.respond}[action]()

    def stop(self) -> None:
        """Stop the running continuation, and the answer the last phrase was to get; its
        sounding notes are released."""
        if self.band is not None:
            self.band.stream.stop()
        self._stop_playing(answer=False)
        self.set_state(LISTENING if self.params["mode"] != "off" else IDLE)

    def _stop_playing(self, beat: float | None = None, answer: bool = True) -> None:
        """Stop what plays from ``beat``; ``answer=False`` (stop, panic): the answer that the
        phrase just ended would get goes too (its timer, the answer kept ready)."""
        beat = self.time.now_beat() if beat is None else beat
        if not answer:
            self.time.disarm("phrase")
            self.responder.discard()
        self.responder.cancel()
        self.accompanist.stop()
        self.output.cancel_from(beat)
        self.context.cut(self.time.tick(beat))

    def panic(self) -> None:
        """Everything Continuo plays stops, and what the performer was heard holding is let
        go (:meth:`let_go`)."""
        if self.band is not None:
            self.band.stream.panic()
        self._stop_playing(answer=False)
        self.output.panic()
        self.let_go()
        if self.state in (RESPONDING, ACCOMPANYING):   # (accompany comes in again with the
            self.set_state(LISTENING)                 # performer's next note)

    # -- parameters ------------------------------------------------------------------------

    def set_param(self, name: str, raw: Any) -> Any:
        value = param(name).validate(raw, self.styles)
        check_together({**self.params, name: value})
        old, guided = self.params[name], self.voice.guided
        self.params[name] = value
        if name == "band":
            if value != old and self.on_band is not None:
                self.on_band(self, value)
            return value
        if self.band is not None:
            self.band.set_param(self, name, value)
            return value
        if name == "mode" and value != old:
            self._stop_playing()
            self.output.panic()
            if value == "accompany" and self._host_stopped():
                self.set_state(LISTENING)          # it comes in when the song plays
            else:
                self._enter(value)
        elif (name == "style" and value != old) or self.voice.guided != guided:
            self.restyle()
        self.responder.prepare()               # what a request would get has changed
        return value

    def restyle(self) -> None:
        """The worker's state again for the session's style (and guidance)."""
        self.context.restyle(self.voice.style_index, self.voice.guided)

    def silence(self) -> None:
        """What plays through it stops (its own continuation, or a band's notes), and no
        answer is kept ready: on joining or leaving a band, on closing."""
        self._stop_playing()
        self.responder.discard()

    def _enter(self, mode: str, quiet: bool = False) -> None:
        if self.band is not None:
            return                             # a member: the band's stream plays
        if mode == "accompany":
            self.accompanist.start()
        state = {"accompany": ACCOMPANYING, "off": IDLE}.get(mode, LISTENING)
        if quiet:
            self.state = state
        else:
            self.set_state(state)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.notify(StateChanged(self.sid, state))

    def status(self) -> list[tuple[str, Any]]:
        """Its keys of the status reply (:mod:`bridge.live.status`); a member's state and
        late notes are its band's."""
        plays = self.band.stream if self.band is not None else self
        return [("state", plays.state), ("late", plays.accompanist.late),
                *self.responder.status(), *self.output.status().items(),
                *self.params.items(), *self.time.status(), *self.style_watch.status()]

    # -- end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release everything and forget the session."""
        if self.closed:
            return
        self.silence()
        self.time.close()
        self.output.close()
        self.context.close()
        self.closed = True

