"""What a session's collaborators may use of it.

The responder (call and manual answers), the accompanist and the style watch each do one part
of a session's job. They are built with the session as their :class:`Host` and reach it only
through this interface: its parameters (read only), its time and timers, the performer's
phrase, and a few verbs (ask for a generation, hand it to the worker, play a note, change
state, tell the client). They never reach into its engine, context, clock or output;
tests/live/test_host.py keeps it so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from bridge.live.events import Event
from bridge.live.generation import Generation
from bridge.live.phrase import Phrase
from bridge.live.songtime import SongTime
from bridge.music.piece import Note

Tags = list[tuple[str, float]]     # style tags and their probabilities, best first


class Host(Protocol):
    sid: str
    params: Mapping[str, Any]
    time: SongTime            # song beats, stream ticks, timers on the beat clock
    phrase: Phrase            # the performer's phrase (call mode)
    closed: bool

    @property
    def fed(self) -> int:
        """How often the context has moved the worker's state on (a ready answer made
        before then is stale)."""

    def generations(self, start: float, end: float, *, note_now: bool,
                    on_done: Callable[[Generation, str], None],
                    on_note: Callable[[Generation, Note], None] | None = None
                    ) -> list[Generation]:
        """A continuation of what the session has heard, from song beat ``start`` to
        ``end``, in the parts it plays (drums beside pitched parts: two, the drums drawn
        apart, :meth:`bridge.live.voice.Voice.generations`); a failure is reported to the
        client."""

    def submit(self, gen: Generation | Sequence[Generation]
               ) -> Generation | Sequence[Generation]:
        """The worker samples ``gen`` (or siblings from one place: a choice's candidates)."""

    def heard(self) -> tuple[float | None, int]:
        """What the session still keeps of the notes it heard (the performer's, a listened
        track's, its own): the stream beat of the earliest (None before any), and how many
        pitch classes they hold."""

    def quotable(self, own: bool = True) -> list[Note]:
        """The notes the session heard lately, both players' (stream beats; without its own
        where ``own`` is False), that a choice or a plan may quote (:mod:`bridge.live.quote`):
        none while a style is asked for (the request is to leave what it heard behind)."""

    def keyed(self) -> list[Note]:
        """The notes whose key a choice keeps to while a style is asked for (the session's
        latest, both players': :func:`bridge.live.choice.in_key`); none without a request."""

    def release(self, gen: Generation) -> None:
        """The worker goes on sampling ``gen``, held after its first note."""

    def plays_both(self) -> bool:
        """Has the performer lately played drums beside pitched notes
        (:func:`bridge.live.parts.playing_both`)?"""

    def tag(self, tokens: list[int], on_result: Callable[[str, Tags], None]) -> None:
        """The tagger reads ``tokens`` when the worker is free."""

    def heard_moved(self) -> None:
        """The genre the performer is heard playing changed: a style request from it may
        be guided otherwise now (the answer kept ready is made again)."""

    def play(self, note: Note) -> Note:
        """A generated note (stream beats) goes out and into the context; the song-time
        note."""

    def set_state(self, state: str) -> None: ...

    def notify(self, event: Event) -> Any: ...
