"""A response chosen among candidates: several draws of one generation, and the one most
like the others played (:func:`bridge.music.likeness.consensus`).

One draw of a continuation may stray where the model's ideas mostly agree; of several
drawn from the same place, the one most like the others is closer to what the music does
next (the continuation benchmark: docs/musicality.md, "Choosing among candidates"), the
more so when some of them quote, in the model's own way, bars heard before
(:mod:`bridge.live.quote`). The worker steps the candidates together, as one batch (their
common prefix fed once); nothing is heard until every candidate has ended and the loop has
released the choice: then the chosen one's notes go out at once (they lie ahead of now: a
choice is prepared while the performer is silent, beside a single answer kept ready for a
request that comes before it is made, :mod:`bridge.live.respond`), then its end.

A :class:`Choice` stands for a :class:`Generation` where the responder uses one: it calls
the generation's ``on_note(choice, note)`` and ``on_done(choice, reason)``, and ``cancel()``
stops every candidate. Everything here runs on the loop; the candidates' callbacks reach it
through the worker's hand-over, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bridge.live.generation import Generation
from bridge.live.quote import choosing, heard_bars, quoting, voters
from bridge.music.key import find_key, in_key_share
from bridge.music.likeness import Bars, bar_contents, consensus, copied_bars
from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT

KEY_WEIGHT = 0.05           # a styled choice's weight on a draw's share of notes in key
COPY_WEIGHT = 0.015         # what a draw loses in a choice for copying all its bars


def choose(spans: Sequence[Sequence[Note]], gens: Sequence[Generation], bars: Bars,
           heard: Sequence[Note], heard_bars: Bars, voters: Sequence[tuple[list[Note], float]],
           key_of: Sequence[Note] = (), ok: Sequence[int] | None = None,
           loop: bool = False) -> int:
    """Which of the draws ``gens`` (their played notes ``spans`` on ``bars``) a choice plays,
    in ``continuo continue`` and live alike: of those :func:`allowed`
    (and ``ok``, the ones that did not fail; and of those, the ones playing every part
    asked for, :func:`full`), the one most like the others and like its ``voters``
    (:func:`bridge.music.likeness.consensus`); under a style request (``key_of``: the notes
    whose key it keeps) keeping to that key (:func:`in_key`), else
    copying few bars of ``heard`` (on ``heard_bars``) note for note
    (:func:`copying`), unless ``heard`` goes round exactly itself
    (``loop``: its :class:`bridge.live.quote.Quoting` ``copies``)."""
    copies = [0] * len(spans) if loop else copied(spans, bars, heard, heard_bars)
    among = allowed(gens, copies)
    if ok is not None:
        among = [j for j in among if j in ok] or list(ok)
    among = full(spans, gens, among) or among
    bonus = in_key(spans, key_of) if key_of else copying(copies, len(bars))
    return consensus(spans, bars, among, voters, bonus)


def full(spans: Sequence[Sequence[Note]], gens: Sequence[Generation],
         among: Sequence[int]) -> list[int]:
    """Of the draws ``among``, those whose notes ``spans`` hold every part their generation
    was asked for (a band's harmony and bass, say): a draw without one is a player of the
    band dropping out for a whole answer, which the draws alike might otherwise outvote
    (seen with a small model; the shipped one drew every part in each of 1,920 draws of
    harmony and bass under 60 val melodies, but a melody asked for in another style now and
    then comes out silent). Draws asked for any part all count."""
    def plays_all(j: int) -> bool:
        asked = gens[j].parts
        return asked is None or asked <= {n.part for n in spans[j]}
    return [j for j in among if plays_all(j)]


def in_key(spans: Sequence[Sequence[Note]], heard: Sequence[Note],
           weight: float = KEY_WEIGHT) -> list[float]:
    """Each span's share of pitched notes in the key of ``heard`` (Krumhansl-Schmuckler),
    times ``weight``: what a choice under a style request adds for keeping to the key it
    heard (it quotes nothing and hears no voter: the request is to leave the genre heard,
    not its key). Nothing where no key is heard."""
    key = find_key(heard)
    return [weight * (in_key_share(s, key) or 0.0) for s in spans]


def copied(spans: Sequence[Sequence[Note]], bars: Bars, heard: Sequence[Note],
           heard_bars: Bars) -> list[int]:
    """How many of each span's ``bars`` copy a bar of ``heard`` (on ``heard_bars``) note
    for note."""
    source = {b for b in bar_contents(heard, heard_bars) if b}
    return [copied_bars(s, bars, source) for s in spans]


def allowed(gens: Sequence[Generation], copies: Sequence[int]) -> list[int]:
    """The candidates a choice chooses among: the free ones, and those quoting that copy
    (``copies``: :func:`copied`) no more bars note for note than the most copying free one."""
    free = [i for i, g in enumerate(gens) if g.quote is None]
    most = max((copies[i] for i in free), default=0)
    return [i for i, g in enumerate(gens) if g.quote is None or copies[i] <= most]


def copying(copies: Sequence[int], bars: int, weight: float = COPY_WEIGHT) -> list[float]:
    """What each span loses in a choice for the share of its ``bars`` bars that copy a bar
    heard note for note (``copies``: :func:`copied`), times ``weight``: a tie-breaker among
    draws nearly as alike, which keeps a tune's answer from playing its prompt's bars again
    more often than tunes do (docs/musicality.md, "A line played alone goes on alone")."""
    return [-weight * c / bars if bars else 0.0 for c in copies]


class Choice:
    def __init__(self, gen: Generation, candidates: int, heard: Sequence[Note] = (),
                 key_of: Sequence[Note] = ()) -> None:
        """``candidates`` siblings of ``gen``, some of them quoting ``heard`` (the notes heard
        before, stream beats), as ``continuo continue`` draws them
        (:func:`bridge.live.quote.choosing`); its callbacks are the choice's. Under a style
        request ``heard`` is empty and the choice keeps to the key of ``key_of`` instead
        (:func:`in_key`)."""
        if candidates < 2:
            raise ValueError(f"a choice needs at least 2 candidates, not {candidates}")
        meter = gen.cursor.meter
        start = gen.first_tick
        self.heard_notes = [n for n in heard if n.start * TICKS_PER_BEAT < start]
        self.how = quoting(gen, self.heard_notes)
        self.gens = choosing(gen, candidates, self.heard_notes, self.how)
        self.voters = voters(gen, self.heard_notes, self.how)   # [(notes, weight)]
        self.key_of = [n for n in key_of if n.start * TICKS_PER_BEAT < start]
        for g in self.gens:
            g.on_note, g.on_done, g.candidate = self._note, self._done, True
        self.on_note: Callable[[Choice, Note], None] = gen.on_note or (lambda *_: None)
        self.on_done: Callable[[Choice, str], None] = gen.on_done or (lambda *_: None)
        self.on_made: Callable[[Choice], None] = lambda _: None   # chosen, not yet released
        self.bars = Bars.spanning(meter, start, gen.end_tick)
        self.heard_bars = heard_bars(self.heard_notes, meter, start)
        self.heard: list[list[Note]] = [[] for _ in self.gens]   # each one's played notes
        self.reasons: dict[int, str] = {}                         # candidate -> why it ended
        self.chosen: int | None = None       # set once every candidate has ended
        self.released = False
        self.cancelled = False

    @property
    def error(self) -> str:
        """What went wrong, when it ended with the reason ``error``."""
        return next((g.error for g in self.gens if g.error), "")

    @property
    def ended(self) -> bool:
        return len(self.reasons) == len(self.gens)

    def cancel(self) -> None:
        self.cancelled = True
        for g in self.gens:
            g.cancel()

    def release(self) -> None:
        """Let the chosen candidate be heard: now, or as soon as every one has ended."""
        if not self.released:
            self.released = True
            if self.chosen is not None:
                self._emit_chosen()

    # -- from the worker, on the loop -------------------------------------------------------

    def _note(self, gen: Generation, note: Note) -> None:
        self.heard[self.gens.index(gen)].append(note)

    def _done(self, gen: Generation, reason: str) -> None:
        self.reasons[self.gens.index(gen)] = reason
        if not self.ended:
            return
        ok = [j for j in range(len(self.gens)) if self.reasons[j] != "error"]
        if self.cancelled or not ok:
            self.on_done(self, "cancelled" if self.cancelled else "error")
            return
        self.chosen = choose(self.heard, self.gens, self.bars, self.heard_notes,
                             self.heard_bars, self.voters, self.key_of, ok,
                             self.how.copies)
        self.on_made(self)
        if self.released:
            self._emit_chosen()

    def _emit_chosen(self) -> None:
        for note in self.heard[self.chosen]:
            self.on_note(self, note)
        self.on_done(self, self.reasons[self.chosen])
