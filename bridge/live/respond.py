"""Call-and-response (and manual requests): answer a phrase with a continuation.

A response starts on a grid position, lasts ``length_bars`` bars (0: as long as the call,
whole bars), streams its notes to the session's output as the worker samples them, and ends
when its last note has sounded, or at once when the performer plays again (barge-in).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bridge.live.generation import Generation
from bridge.live.phrase import ceil_to_grid
from bridge.live.states import LISTENING, RESPONDING
from bridge.music.piece import Note

if TYPE_CHECKING:
    from bridge.live.session import Session

log = logging.getLogger(__name__)

PREP_S = 0.03             # a response is prepared this long before its first beat
MANUAL_BARS = 2           # length on request when there was no call to match


class Responder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.response: Generation | None = None
        self.end = 0.0                    # song beat when the response's last note ends

    @property
    def active(self) -> bool:
        return self.response is not None

    def phrase_due(self, start: float) -> None:
        """The phrase-end timer: answer, unless the performer went on playing."""
        s = self.session
        if s.params["mode"] == "call" and s.phrase.silent and not self.active:
            self.start(start)

    def start(self, start: float | None = None, bars: int | None = None) -> None:
        """Answer from ``start`` (default: the next grid position) for ``bars`` bars."""
        s = self.session
        clock, p = s.clock, s.params
        if start is None:
            start = ceil_to_grid(s.now_beat() + PREP_S / clock.seconds_per_beat, p["grid"])
        if bars is None:
            bars = p["length_bars"] or (s.phrase.call_bars(clock.bar_beats)
                                        if s.phrase.start is not None else MANUAL_BARS)
        self.end = start
        self.response = s.generation(start, start + bars * clock.bar_beats, note_now=True,
                                     on_note=self._note, on_done=self._done)
        s.engine.generate(self.response)
        s.set_state(RESPONDING)
        log.info("session %s: responding at beat %.2f for %d bar(s)", s.sid, start, bars)

    def _note(self, gen: Generation, note: Note) -> None:
        if gen is self.response and not self.session.closed:
            self.end = max(self.end, self.session.play(note).end)

    def _done(self, gen: Generation, _reason: str) -> None:
        if gen is self.response and not self.session.closed:
            self.session.arm("response", self.end, self._over)

    def _over(self, _beat: float) -> None:
        self.response = None
        self.session.set_state(LISTENING)

    def cancel(self) -> None:
        """Stop sampling and forget the response (the session releases its notes)."""
        if self.response is not None:
            self.response.cancel()
            self.response = None
        self.session.disarm("response")
