"""The answer kept ready: a mixin of :class:`bridge.live.respond.Responder`.

While the session listens after the performer's phrase, the next answer is kept ready:
sampled up to its first note by the worker (``prepare``; in call mode the phrase-end timer's
answer, in manual mode a request's), made again when the context, the parameters or the
grid position move on. A request for exactly that answer plays its first note at once and
the worker goes on from there; any other starts from scratch.

Trading (``trade_bars``), the answer due on the trade's line is prepared before it whether
or not the performer still holds notes (:meth:`KeptReady.expect`; again when one of them is
let go): an answer hears what is held as held until it begins, so the one prepared and the
one the line asks for are the same, and a last note held over the line no longer leaves the
answer to be drawn cold there. It is prepared as late as it can still be chosen in time
(:meth:`KeptReady.lead`: how long this session's choices have taken, the worker being as
busy as it is), and the notes played after that are heard but do not make it again: a
drummer's last hits, a chord let go on the line, which used to leave the answer a single
draw or one sampled cold there (``kept_answers`` counts them).

In call mode, with ``candidates`` above 1, once the answer kept ready has its first note,
that many more are drawn whole (:mod:`bridge.live.choice`; fewer where the answer is due
sooner than so many can be drawn: :mod:`bridge.live.pace`), and the phrase-end timer, if
every one has ended by then, plays the one most like the others, all its notes at once
(``chosen``); before that it takes the single answer kept ready, so a choice never delays
an answer. (Manual mode's answer kept ready moves on with every grid line, and a choice
made for one line would mostly be thrown away: it answers with one draw.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bridge.live.choice import Choice
from bridge.live.generation import Generation
from bridge.live.held import Held
from bridge.vocab import TICKS_PER_BEAT

if TYPE_CHECKING:
    from bridge.live.host import Host
    from bridge.live.pace import Pace

log = logging.getLogger(__name__)

PREP_S = 0.03             # a response is prepared this long before its first beat
READY_BARS = 2            # keep an answer ready this long after the performer's last note
READY_LEAD_S = 0.01       # a ready answer may start this soon: its first note is sampled
READY_MODES = ("call", "manual")


class KeptReady:
    """A mixin of :class:`bridge.live.respond.Responder`: the answer kept ready. It uses the
    responder's host, ``prepares``, ``active``, ``counts``, ``kept_answers``, ``pace``,
    the answer kept ready's state (``ready``, ``ready_key``, ``ready_at``, ``ready_note``,
    ``choice``, ``ready_beside``, ``kept``, ``ready_asked``, ``prepared``), and its
    ``_generation``, ``_next_start``, ``_bars``, ``_note`` and the answer's ``response``
    and ``sampling``."""

    host: Host
    pace: Pace

    def expect(self, start: float) -> None:
        """Prepare the answer due at ``start`` :meth:`lead` before it (trading, whether or
        not the performer still holds a note then; one kept ready already stays:
        :meth:`keeps`); not before the instant of what was just heard has passed (its
        notes are heard then: :class:`bridge.music.tokenize.LiveEncoder`), unless that
        is too late to prepare it at all (notes a few hundredths of a second apart up to
        the line had put it off past its start)."""
        if self._keep():
            return
        t = self.host.time
        at = max(start - t.beats_in(self.lead()), t.now_beat() + 2 / TICKS_PER_BEAT)
        latest = start - t.beats_in(PREP_S) - 1 / TICKS_PER_BEAT
        t.arm("ready", min(at, latest), lambda _beat: self.prepare())

    def lead(self) -> float:
        """Trading, how long before its line an answer is prepared (seconds): as long as
        this session's choices take (:class:`bridge.live.pace.Pace`)."""
        return self.pace.lead(self.host.params["candidates"], self._bars())

    def keeps(self) -> bool:
        """In call mode, whether the answer kept ready stays as it is though more was heard
        (trading, the performer played on; a listening track played): it is due within
        :meth:`lead`, too soon to be made again in time. It does not hear what came since
        (the session's context does, and the next answer)."""
        s = self.host
        if s.params["mode"] != "call" or self.ready is None or self.ready.cancelled:
            return False
        return s.time.now_beat() >= self.ready_at - s.time.beats_in(self.lead())

    def _keep(self) -> bool:
        """Whether the answer kept ready :meth:`keeps`; if so, it is marked kept through
        what was just heard."""
        keeps = self.keeps()
        self.kept = self.kept or keeps
        return keeps

    def played_on(self, prepare: bool = False) -> None:
        """The performer played on (a note struck, or let go into a silence: ``prepare``):
        the answer kept ready goes (is made again), unless trading it :meth:`keeps` (else
        the phrase goes on, and its answer with it)."""
        if self.host.params["trade_bars"] and self._keep():
            return
        if prepare:
            self.prepare()
        else:
            self.discard()

    def heard_more(self) -> None:
        """In call mode, a listening track played (notes heard, never answered): the answer
        kept ready is made again hearing it, :meth:`lead` before it is due (once, however
        busy the track), unless it :meth:`keeps`. It had gone on unheard of them, and was
        never taken: every answer over a backing track was drawn cold."""
        if self.host.params["mode"] != "call" or self.ready is None or self._keep():
            return
        start = self.ready_at
        self.discard()
        self.expect(start)

    def prepare(self, after: float | None = None) -> None:
        """Have the worker sample the next answer up to its first note, so that ``start``
        asking for the same answer (same recipe, same context) plays that note at once and
        the worker goes on from it. In call mode the phrase-end timer's answer (trading,
        with notes held too: :meth:`expect`); in manual mode a request's: it starts on the
        first grid line a request could have prepared for (``PREP_S`` ahead), and is used
        until ``READY_LEAD_S`` before its start, then made again for the next line
        (``after``: the start of the one it replaces); while the performer has just played
        (``READY_BARS``)."""
        self.discard()
        s = self.host
        trading = s.params["mode"] == "call" and s.params["trade_bars"]
        if not self.prepares or s.closed or self.active or s.params["mode"] not in READY_MODES \
                or not (s.phrase.silent or trading):
            return
        last = s.phrase.last_release
        if s.phrase.silent and (
                last is None or s.time.now_beat() - last > READY_BARS * s.time.bar_beats):
            return
        soonest = self._next_start()
        if s.params["mode"] == "call":           # the answer the phrase-end timer will want
            start = s.phrase.response_start(s.params, s.time)
            if start is None or start < soonest:
                return
        else:                                    # a request's, again when the grid moves on
            start = soonest if after is None or soonest > after else after + s.params["grid"]
            s.time.arm("ready", start, self.prepare, lead=READY_LEAD_S)
        heard, bars = s.quotable(), self._bars()
        gen, beside = self._generation(start, bars, heard)
        if s.params["candidates"] > 1 and s.params["mode"] == "call":
            left = (start - s.time.now_beat()) * s.time.clock.seconds_per_beat - PREP_S
            width = self.pace.width(s.params["candidates"], bars, left)
            if width < s.params["candidates"]:
                log.debug("session %s: the answer due in %.2f s is chosen among %d",
                          s.sid, left, width)
            self.choice = Choice(gen, width, heard, s.keyed())   # drawn once the single
            self.choice.on_made = self._made                     # answer has its first note
        gen.hold = True
        self.ready, self.ready_key, self.ready_at = gen, (gen.recipe(), s.fed), start
        self.ready_asked, self.prepared = gen.asked(), (s.time.loop.time(), bars)
        s.submit(gen)
        if beside is not None:
            self.ready_beside = Held(beside)
            s.submit(beside)

    def discard(self) -> None:
        """Drop the answer kept ready (the context or the parameters moved on)."""
        for kept in (self.ready, self.choice, self.ready_beside):
            if kept is not None:
                kept.cancel()
        self.ready = self.ready_note = self.choice = self.ready_beside = None
        self.kept = False
        self.host.time.disarm("ready")

    def _made(self, choice: Choice) -> None:
        """A choice kept ready is made: how long it took (:class:`bridge.live.pace.Pace`)."""
        if choice is self.choice:
            self.pace.made(len(choice.gens), *self._since_prepared())

    def _since_prepared(self) -> tuple[int, float]:
        """The answer kept ready's bars, and the seconds since it was asked for."""
        asked, bars = self.prepared
        return bars, self.host.time.loop.time() - asked

    def _take_ready(self, gen: Generation) -> bool:
        """Answer with the prepared answer if it is exactly ``gen``, or what was asked of it
        and kept through the call's last notes (:meth:`keeps`): the choice among candidates
        if it is made (all its notes played now), else the single answer (its first note
        played now), its drums drawn apart beside it; else drop it."""
        ready, note, choice, beside, kept = self.ready, self.ready_note, self.choice, \
            self.ready_beside, self.kept
        same = (gen.recipe(), self.host.fed) == self.ready_key or \
            (kept and gen.asked() == self.ready_asked)
        if ready is None or ready.cancelled or not same:
            self.discard()
            self.counts["cold"] += 1
            return False
        self.kept_answers += kept
        chosen = choice is not None and choice.chosen is not None
        if chosen:
            self.choice = None
        else:
            self.ready = None
            if choice is not None:               # drawn too slowly for its line
                self.pace.missed(len(choice.gens), *self._since_prepared())
        self.ready_beside = None
        self.discard()          # the rest, and the re-arm timer; what answers lives on
        self.response = choice if chosen else ready
        self.sampling = [self.response] + ([beside] if beside is not None else [])
        if beside is not None:
            beside.release()
            self.host.release(beside.gen)
        if chosen:
            self.counts["chosen"] += 1
            choice.release()
            return True
        self.counts["ready" if note is not None else "waited"] += 1
        if note is not None:
            self._note(ready, note)
        self.host.release(ready)
        return True
