"""Call-and-response (and manual requests): answer a phrase with a continuation.

A response starts on a grid position, lasts ``length_bars`` bars (0: as long as the call,
whole bars; trading, ``trade_bars``), its notes cut at its last bar line (the model draws a
last note's length as the music would hold it, and trading, that is the performer's turn),
streams its notes to the session's output as the worker samples them, and ends when its
last note has sounded, or at once when the performer plays again (barge-in).

While the session listens after the performer's phrase, the next answer is kept ready
(:class:`bridge.live.ready.KeptReady`, a mixin of :class:`Responder`): a request for
exactly that answer plays its first note at once, or in call mode the choice among its
candidates all at once; any other starts from scratch. ``counts`` says how often each
happened.

A band that answers with drums beside pitched parts draws its drums apart
(:meth:`bridge.live.voice.Voice.generations`): the answer (kept ready, chosen, or drawn now)
plays its pitched parts, and a second draw, its drums (``beside``), plays with it; the
answer is over when both have ended. Beside an answer kept ready its drums are prepared
too, up to their first note, which is kept (:class:`Held`) until the answer is taken.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from bridge.live.choice import Choice
from bridge.live.generation import Generation
from bridge.live.held import Held
from bridge.live.pace import Pace
from bridge.live.phrase import ceil_to_grid
from bridge.live.quote import alone
from bridge.live.ready import PREP_S, READY_LEAD_S, KeptReady
from bridge.live.states import LISTENING, RESPONDING
from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT

if TYPE_CHECKING:
    from bridge.live.host import Host

log = logging.getLogger(__name__)

MANUAL_BARS = 2           # length on request when there was no call to match
PASSED_S = 0.1            # a phrase timer this late finds its line passed (the next serves)
ANSWER_KINDS = ("chosen", "ready", "waited", "cold")   # how a request was answered
#                                                        (status counts)


class Responder(KeptReady):
    def __init__(self, host: Host, prepare: bool = True) -> None:
        self.host = host
        self.prepares = prepare           # keep answers ready (see prepare)
        self.response: Generation | Choice | None = None
        self.begins = 0.0                 # song beat the response starts on
        self.end = 0.0                    # song beat when the response's last note ends
        self.until = 0.0                  # stream beat its bars end on (no note sounds on)
        # the answer a request would get now, sampled up to its first note (see prepare)
        self.ready: Generation | None = None
        self.ready_key: tuple = ()        # its recipe and the session's feed count then
        self.ready_at = 0.0               # its start (song beat)
        self.ready_note: Note | None = None
        self.choice: Choice | None = None  # the candidates for it (``candidates`` > 1)
        self.ready_beside: Held | None = None   # its drums, drawn apart (see the module)
        self.sampling: list[Generation | Choice | Held] = []   # the answer's draws not over
        self.counts = dict.fromkeys(ANSWER_KINDS, 0)   # how requests were answered
        self.kept_answers = 0             # ... of them, prepared before the call's last notes
        self.kept = False                 # the answer kept ready outlived notes played since
        self.ready_asked: tuple = ()      # what it was asked for (see Generation.asked)
        self.prepared = (0.0, 1)          # loop time it was asked for, and its bars
        self.pace = Pace()                # how long its choices take (see lead)

    def status(self) -> list[tuple[str, int]]:
        """How requests were answered, for the session's status: ``answers_<kind>``
        (``kept``: of them, answers prepared before the call's last notes)."""
        return [*((f"answers_{k}", n) for k, n in self.counts.items()),
                ("answers_kept", self.kept_answers)]

    @property
    def active(self) -> bool:
        return self.response is not None

    def phrase_due(self, start: float) -> None:
        """The phrase-end timer: answer, unless the performer went on playing (trading,
        answer on the trade's line all the same). A line long passed (trading, a note held
        over a line whose timer a panic or stop took) is answered from the next line the
        mode answers on, never from the past; a timer a moment late (``PASSED_S``: the loop
        was busy) still answers on its line."""
        s = self.host
        if s.params["mode"] == "call" and (s.phrase.silent or s.params["trade_bars"]) \
                and not self.active:
            now = s.time.now_beat()
            if start < now - s.time.beats_in(PASSED_S):
                soon = now + s.time.beats_in(PREP_S)
                start = s.time.ceil(soon) if s.params["answer_on"] == "bar" else \
                    ceil_to_grid(soon, s.params["grid"])
            self.start(start)

    def start(self, start: float | None = None, bars: int | None = None) -> None:
        """Answer from ``start`` (default: the next grid position) for ``bars`` bars."""
        s = self.host
        if start is None:
            start = self._next_start()
            soon = s.time.now_beat() + s.time.beats_in(READY_LEAD_S)
            if self.ready is not None and soon <= self.ready_at < start:
                start = self.ready_at        # sampled already: it needs no time to prepare
        bars = self._bars() if bars is None else bars
        gen, beside = self._generation(start, bars, self.host.quotable())
        self.begins = self.end = start
        end = s.time.on(start, bars)
        self.until = s.time.tick(end) / TICKS_PER_BEAT
        s.phrase.answer(end)                 # the next note: a new call,
        s.time.disarm("phrase")      # and no second answer (one asked for before its timer)
        if not self._take_ready(gen):
            self.response, self.sampling = gen, [gen] + ([beside] if beside else [])
            for g in self.sampling:
                s.submit(g)
        s.set_state(RESPONDING)
        log.info("session %s: responding at beat %.2f for %d bar(s)", s.sid, start, bars)

    def _next_start(self) -> float:
        s = self.host
        return ceil_to_grid(s.time.now_beat() + s.time.beats_in(PREP_S), s.params["grid"])

    def _bars(self) -> int:
        s = self.host
        if s.params["length_bars"]:
            return s.params["length_bars"]
        if s.params["mode"] == "call" and s.params["trade_bars"]:
            return s.params["trade_bars"]
        return s.phrase.call_bars(s.time) if s.phrase.start is not None \
            else MANUAL_BARS

    def _generation(self, start: float, bars: int, heard: list[Note]
                    ) -> tuple[Generation, Generation | None]:
        """The answer from ``start``, and its drums drawn apart (None: played by it), each
        drawn alone following what its :func:`bridge.live.quote.alone` takes of ``heard``."""
        s = self.host
        gen, *beside = s.generations(start, s.time.on(start, bars), note_now=True,
                                     on_note=self._note, on_done=self._done)
        for g in (gen, *beside):                 # (a choice's draws quote their own way)
            g.quote = alone(g, heard)
        return gen, (beside[0] if beside else None)

    # -- from the worker --------------------------------------------------------------------

    def _playing(self, gen: Generation | Choice | Held) -> bool:
        return any(g is gen for g in self.sampling)

    def _note(self, gen: Generation | Choice | Held, note: Note) -> None:
        if self.host.closed:
            return
        if self._playing(gen):
            if note.end > self.until > note.start:   # its bars are over: the performer's
                note = replace(note, duration=self.until - note.start)   # turn (trading)
            self.end = max(self.end, self.host.play(note).end)
        elif gen is self.ready and self.ready_note is None:
            self.ready_note = note
            if self.choice is not None:          # now its candidates: the choice
                self.host.submit(self.choice.gens)

    def _done(self, gen: Generation | Choice | Held, _reason: str) -> None:
        if self.host.closed:
            return
        if self._playing(gen):
            self.sampling = [g for g in self.sampling if g is not gen]
            if not self.sampling:                 # the answer and its drums
                self.host.time.arm("response", self.end, self._over)
        elif gen is self.ready:                   # it ended before a note: nothing to offer
            self.ready = self.choice = None       # (its candidates were never drawn)

    def _over(self, _beat: float) -> None:
        self.response = None
        self.host.set_state(LISTENING)
        self.prepare()

    def cancel(self) -> None:
        """Stop sampling and forget the response (the session releases its notes)."""
        for gen in self.sampling:
            gen.cancel()
        self.response, self.sampling = None, []
        self.host.time.disarm("response")
