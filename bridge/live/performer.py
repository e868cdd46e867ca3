"""What a :class:`bridge.live.session.Session` hears from its performer: notes played
(``note_on``, ``note_off``), the sustain pedal (``pedal``), and notes known whole
(``hear``: a listening track, a prompt).

A note played goes where the session stands: into its band's stream when it is a member
(:mod:`bridge.live.band`), else into its context (what the model hears), its phrase (when
call mode answers), and its style watch; one ``listen``ed to is context only. It barges in
on an answer that plays (trading, not on one about to: a note in the moment before the
trade's line is the call's last). A note-off ends its note where the note-on went, in the
part it was heard in, whatever was turned meanwhile (``plays``, ``part``, ``role``, the band
joined or left): the session's ``down`` table keeps where each held note went.
"""

from __future__ import annotations

import logging

from bridge.live import parts
from bridge.live.params import is_drum
from bridge.live.ready import PREP_S
from bridge.live.states import LISTENING
from bridge.music.piece import Note
from bridge.vocab import DRUMS, TICKS_PER_BEAT

log = logging.getLogger(__name__)

PEDAL_DOWN = 64     # a sustain pedal's controller value from which it is down (MIDI's rule)


class PerformerInput:
    """A mixin of :class:`bridge.live.session.Session`: the performer's notes in. It uses
    the session's band, params, time, voice, hands, context, phrase, responder, style watch,
    ``_stop_playing`` and ``set_state``, and its ``down`` table: (pitch, channel) held ->
    where its note-on went (the band, or (part, listen) here)."""

    def note_on(self, pitch: int, velocity: int, beat: float | None = None,
                channel: int | None = None, *, part: int | None = None,
                listen: bool = False) -> None:
        """A note starts (``part``: given by a band, else ``plays``); one ``listen``ed to is
        context only: it neither interrupts nor makes a phrase. Its note-off is heard as it
        was (:meth:`note_off`)."""
        if velocity <= 0:
            self.note_off(pitch, beat, channel, part=part, listen=listen)
            return
        if self.band is not None:
            self.down[pitch, channel] = self.band
            self.band.note_on(self, pitch, velocity, beat, channel)
            return
        if self.params["mode"] == "accompany" and not self.accompanist.running \
                and not self._host_stopped():
            self._enter("accompany")               # after a panic: it comes in again
        beat, drum, tick = self._heard_at(beat, channel, part)
        part = parts.input_part(self.params, drum, channel) if part is None else part
        self.down[pitch, channel] = (part, listen)
        if listen:
            self.context.note_on(tick, pitch, velocity, drum, part)
            self.responder.heard_more()
            return
        self.voice.performer_played(drum, beat)
        if not drum:
            self.hands.played(beat, pitch)
        if not self._before_the_line(beat):
            if self.responder.active:
                log.info("session %s: barge-in at beat %.2f", self.sid, beat)
                self._stop_playing(beat)
                self.set_state(LISTENING)
            self.time.disarm("phrase")
            self.responder.played_on()
            self.phrase.note_on((pitch, drum), beat, self.params, self.time)
            if self.params["trade_bars"]:          # the trade's line, held notes or not
                self._arm_phrase()
        self.context.note_on(tick, pitch, velocity, drum, part)
        self.style_watch.note_on(tick, pitch, velocity, drum, part)

    def _before_the_line(self, beat: float) -> bool:
        """Trading, whether a note at ``beat`` comes in the moment before the line (the
        answer, begun a moment early to be on time, not yet sounding): it is the call's
        last, the answer comes in on the line all the same, and the performer's turn after
        it."""
        return self.responder.active and bool(self.params["trade_bars"]) and \
            beat < self.responder.begins - 1e-9

    def note_off(self, pitch: int, beat: float | None = None,
                 channel: int | None = None, *, part: int | None = None,
                 listen: bool = False) -> None:
        """A note ends where its note-on went, heard in the part it was heard in, whatever
        was turned meanwhile (``plays``, ``part``, ``role``, the band joined or left):
        else the phrase would wait for it for ever."""
        went = self.down.pop((pitch, channel), None)
        if went is None:
            if self.band is None:             # none held: let go already (a panic), or its
                return                        # note-on never came (a lost packet)
            went = self.band
        if isinstance(went, tuple):
            if part is None:                      # (a band names the part it heard)
                part, listen = went
        elif went is not None:                    # a band (one it has left let go of it)
            went.note_off(self, pitch, beat, channel)
            return
        beat, drum, tick = self._heard_at(beat, channel, part)
        self.context.note_off(tick, pitch, drum)
        if listen:
            self.responder.heard_more()
            return
        self.style_watch.note_off(tick, pitch, drum)
        self.phrase.note_off((pitch, drum), beat, channel)
        if self.phrase.silent:
            self._arm_phrase()
            self.responder.played_on(prepare=True)
        elif self.params["trade_bars"]:           # what the answer prepared heard moved on
            self._arm_phrase()

    def let_go(self) -> None:
        """Forget the notes the performer holds, and the sustain pedal (a panic): a note-off
        or a pedal lift lost on its way kept the phrase open for ever, and call mode never
        answered again, panic or not. They end now where the model heard them; a note-off
        that comes for one later is ignored."""
        for (pitch, channel), went in list(self.down.items()):
            if isinstance(went, tuple):
                _, drum, tick = self._heard_at(None, channel, went[0])
                self.context.note_off(tick, pitch, drum)
                self.style_watch.note_off(tick, pitch, drum)
        self.down.clear()
        self.phrase.reset()
        self.phrase.pedals.clear()

    def pedal(self, value: int, beat: float | None = None, channel: int | None = None
              ) -> None:
        """The sustain pedal (controller 64) of ``channel`` moved to ``value`` (0-127; down from
        :data:`PEDAL_DOWN`). A pitched note let go while it is down still sounds: the phrase
        goes on until the pedal lifts, so a chord or a line the pedal holds is not a silence
        to answer. What the model hears stays the keys as played (the pianos it learnt from
        are read so)."""
        down = value >= PEDAL_DOWN
        beat = self.time.now_beat() if beat is None else beat
        sounded = not self.phrase.silent
        self.phrase.set_pedal(down, beat, channel)   # (in a band: for when it plays alone)
        if self.band is not None:
            self.band.pedal(self, down)
            return
        if sounded and self.phrase.silent:        # as the last note let go would
            self._arm_phrase()
            self.responder.played_on(prepare=True)

    def _arm_phrase(self) -> None:
        """In call mode, the phrase-end timer for the answer's start, unless one plays;
        trading with a note sounding, the answer's preparation before it too."""
        if self.params["mode"] == "call" and not self.responder.active:
            start = self.phrase.response_start(self.params, self.time)
            if start is not None:
                self.time.arm("phrase", start, self.responder.phrase_due, lead=PREP_S)
                if self.params["trade_bars"] and not self.phrase.silent:
                    self.responder.expect(start)

    def _heard_at(self, beat: float | None, channel: int | None,
                  part: int | None) -> tuple[float, bool, int]:
        """An input note's song beat (as stamped, else now), whether it is drums (its part
        says, else ``plays`` and its channel) and its stream tick."""
        beat = self.time.now_beat() if beat is None else beat
        drum = is_drum(self.params["plays"], channel, self.params["part"]) if part is None \
            else part == DRUMS
        return beat, drum, self.time.tick(beat)

    def hear(self, notes: list[Note]) -> None:
        """Notes another player plays, known whole (song beats; each in its own part): the
        session hears them in its context, as played, and never answers them (what a
        listening track plays; a prompt)."""
        self.context.hear([(self.time.tick(n.start), round(n.duration * TICKS_PER_BEAT),
                            n.pitch, n.velocity, n.drum, n.part) for n in notes],
                          self.time.tick(self.time.now_beat()))
        self.responder.heard_more()
