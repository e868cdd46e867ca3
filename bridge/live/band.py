"""A band: sessions (device instances, the MIDI port session) that play one song together,
on one model stream and one clock.

A session joins a band by name (its ``band`` parameter) and has a ``part`` and a ``role``
in it:

- ``perform``: a person plays this member's part; fed as played, and what it plays is what
  the band answers (call mode) or accompanies;
- ``listen``: context only (the song's chord track, a clip playing back): heard in its
  part, never answered;
- ``play``: Continuo plays this member's part out of its device or port.

A played member's part may be several (accompaniment: harmony and bass; auto and pitched:
every pitched part). What a person plays or a track is heard as is one part: auto is drums
on MIDI channel 10, else melody (as ``plays`` says alone); accompaniment is heard as
harmony, pitched as melody.

The band's stream is a :class:`bridge.live.session.Session` of its own (``band:NAME``) on
its first member's clock: one context (every member's notes in their parts; where it plays
drums beside pitched parts, each side's alone too, :mod:`bridge.live.context`), one engine
state, one accompanist or responder. It plays every part its ``play`` members have, and
each note leaves through the ``play`` members of its part, on their own channels. The
band-wide parameters (``BAND_WIDE``: mode, style, sampling...) set on any member are set
on the stream; the others (channel, range, part, role) stay the member's. A member's own
session generates nothing while it is in a band; alone again, it is as it was. A member's
note-off reaches the stream as its note-on did (the part or role may have turned since), and
what a member still holds is let go when it leaves (else the stream's phrase would wait for
it, and never be answered).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bridge.live.events import Event, ParamChanged
from bridge.live.params import BAND_WIDE, is_drum
from bridge.live.parts import member_part
from bridge.live.performer import PEDAL_DOWN
from bridge.music.piece import Note
from bridge.vocab import PART_SETS, parts_named

if TYPE_CHECKING:
    from bridge.live.session import Session

log = logging.getLogger(__name__)

PERFORM, LISTEN, PLAY = "perform", "listen", "play"


def member_parts(session: Session) -> frozenset[int]:
    """The parts a member stands for (see the module's docstring)."""
    part = session.params["part"]
    if session.params["role"] == PLAY:
        return PART_SETS["pitched"] if part == "auto" else parts_named(part)
    return frozenset((member_part(session.params, session.voice.last_drum),))


def band_key(name: str) -> str:
    """Which band a name means: its case and its spacing do not count ("Jam" and " jam"
    are one band; typed on two devices, they were two)."""
    return " ".join(name.split()).casefold()


class BandOutput:
    """The stream's output: each note to the ``play`` members of its part."""

    def __init__(self, band: Band) -> None:
        self.band = band
        self.sent = 0

    def play(self, note: Note, channel: int) -> None:
        for member in self.band.players():
            if note.part in member_parts(member):
                member.output.play(note, member.voice.channel(note))
                self.sent += 1

    def cancel_from(self, beat: float) -> None:
        for member in self.band.players():
            member.output.cancel_from(beat)

    def panic(self) -> None:
        for member in self.band.players():
            member.output.panic()

    def close(self) -> None:
        pass                          # the members' outputs are theirs to close

    def status(self) -> dict[str, Any]:
        return {"band_notes_out": self.sent}


class Band:
    def __init__(self, name: str) -> None:
        self.name = name
        self.stream: Session = None        # type: ignore[assignment]  # set by the hub
        self.members: dict[str, Session] = {}
        self.down: dict[tuple[str, int, int | None], tuple[int, bool]] = {}
        #   (member, pitch, channel) held -> (part, listen) the stream heard it in
        self.pedals: set[str] = set()     # performing members whose sustain pedal is down

    # -- members -----------------------------------------------------------------------------

    def join(self, member: Session) -> None:
        member.silence()
        self.members[member.sid] = member
        member.band = self
        for name in BAND_WIDE:            # the first member brings its settings, the
            if len(self.members) == 1:     # others take the band's
                self.stream.set_param(name, member.params[name])
            else:
                member.params[name] = self.stream.params[name]
        self.update()
        log.info("band %s: %s joins (%s)", self.name, member.sid, member.params["role"])

    def leave(self, member: Session) -> None:
        if self.members.pop(member.sid, None) is None:
            return
        for key in [key for key in self.down if key[0] == member.sid]:   # let go of
            part, listen = self.down.pop(key)                            # what it holds
            self.stream.note_off(key[1], part=part, listen=listen)
        if member.sid in self.pedals:                                    # and its pedal
            self.pedal(member, False)
        member.band = None
        member.silence()
        if member.clock is self.stream.clock and self.members:   # the band keeps time by
            hosted = [m for m in self.members.values()           # another member's clock
                      if m.clock.source != "internal"]
            self.stream.follow((hosted or list(self.members.values()))[0].clock)
        self.update()
        log.info("band %s: %s leaves", self.name, member.sid)

    def players(self) -> list[Session]:
        return [m for m in self.members.values() if m.params["role"] == PLAY]

    def update(self) -> None:
        """The stream plays every part a ``play`` member has (a role or part changed)."""
        if self.stream.voice.for_band(tuple(member_parts(m) for m in self.players())):
            self.stream.resume()

    # -- what members send -------------------------------------------------------------------

    def note_on(self, member: Session, pitch: int, velocity: int, beat: float | None,
                channel: int | None) -> None:
        role = member.params["role"]
        if role == PLAY:
            return                        # a played member's input is not the band's
        part = self._input_part(member, channel)
        self.down[member.sid, pitch, channel] = (part, role == LISTEN)
        self.stream.note_on(pitch, velocity, beat, part=part, listen=role == LISTEN)

    def pedal(self, member: Session, down: bool) -> None:
        """A performing member's sustain pedal: the stream's is down while any member's is
        (its phrase is the band's); lifted, whatever the member's role is now."""
        if down and member.params["role"] == PERFORM:
            self.pedals.add(member.sid)
        elif not down:
            self.pedals.discard(member.sid)
        self.stream.pedal(PEDAL_DOWN if self.pedals else 0)

    def note_off(self, member: Session, pitch: int, beat: float | None,
                 channel: int | None) -> None:
        """As the stream heard its note-on (the role or part may have turned since)."""
        heard = self.down.pop((member.sid, pitch, channel), None)
        if heard is not None:
            self.stream.note_off(pitch, beat, part=heard[0], listen=heard[1])

    @staticmethod
    def _input_part(member: Session, channel: int | None) -> int:
        drum = is_drum(member.params["part"], channel)
        member.voice.last_drum = drum
        return member_part(member.params, drum)

    def set_param(self, member: Session, name: str, value: Any) -> None:
        """``member``'s ``name`` was set to ``value``: a band-wide one sets the band's; a
        member whose role turns stops what it was sent to play (its track is a person's now,
        or a clip's), as a part turned stops it (the stream plays again, :meth:`update`)."""
        if name in BAND_WIDE:               # every member says the band's, and is told
            self.stream.set_param(name, value)
            value = self.stream.params[name]
            for other in self.members.values():
                other.params[name] = value
                if other is not member:
                    other.notify(ParamChanged(other.sid, name, value))
        elif name == "role":
            member.output.cancel_from(self.stream.time.now_beat())
        self.update()

    def notify(self, event: Event) -> None:
        """What the stream tells (its state, tags, errors) goes to every member, as its
        own."""
        for member in list(self.members.values()):
            member.notify(replace(event, session=member.sid))

    def close(self) -> None:
        for member in list(self.members.values()):
            self.leave(member)
        self.stream.close()
