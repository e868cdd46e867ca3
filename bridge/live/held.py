"""A generation prepared beside an answer kept ready (its drums, drawn apart: see
:mod:`bridge.live.respond`), sampled up to its first note and heard only once the answer is
taken."""

from __future__ import annotations

from bridge.live.generation import Generation
from bridge.music.piece import Note


class Held:
    """A generation prepared beside an answer kept ready (``hold``: sampled up to its first
    note): what it sends (that note, or its end) waits until ``release``, then goes to its
    callbacks as it comes."""

    def __init__(self, gen: Generation) -> None:
        self.gen = gen
        gen.hold = True
        self.on_note, self.on_done = gen.on_note, gen.on_done
        gen.on_note, gen.on_done = self._note, self._done
        self.notes: list[Note] = []
        self.reason: str | None = None
        self.released = False

    def cancel(self) -> None:
        self.gen.cancel()

    def release(self) -> None:
        self.released = True
        for note in self.notes:
            self.on_note(self, note)
        if self.reason is not None:
            self.on_done(self, self.reason)

    def _note(self, _gen: Generation, note: Note) -> None:
        if self.released:
            self.on_note(self, note)
        else:
            self.notes.append(note)

    def _done(self, _gen: Generation, reason: str) -> None:
        self.reason = reason
        if self.released:
            self.on_done(self, reason)
