"""What the model hears of a session: one event stream of both players, fed as it is made.

The performer's notes and the notes Continuo plays go into one ``LiveEncoder`` (stream ticks);
its tokens go to the worker's recurrent state as they come, so a response starts without
re-reading the context. The context keeps its latest tokens (to rebuild the state for another
style), where its bars are counted from (the bar of the meter the stream's first BAR is), the
notes Continuo still sounds, so that no continuation strikes one of them again, and the
latest notes of both players, which a choice may quote (:mod:`bridge.live.quote`).

A session that plays drums beside pitched parts keeps two more contexts, each with its own
state in the worker: the drums alone (``drums``), which its drums are drawn from, and the
pitched parts alone (``pitched``), which its pitched parts are drawn from. The model has never
heard drums and pitched parts together: hearing a melody it writes a few scattered hits
(5.5 notes a bar under a melody of eighth notes, bar to bar onsets alike at a Dice of 0.37,
8 seeds), where hearing drums alone it keeps a groove (22 notes a bar, 0.90); hearing drums,
its pitched parts turn into hits too (a tune with a groove under it, continued: 0.48 of
continuation score against 0.85 from the tune alone; docs/musicality.md, "A band goes on").
Each begins with its side's latest notes heard, and hears its side from then on.
"""

from __future__ import annotations

from collections import deque

from bridge.live.engine import Engine
from bridge.music.piece import Note
from bridge.music.tokenize import MAX_SILENT_BARS, LiveEncoder
from bridge.vocab import BAR, K_DRUM, KIND, TICKS_PER_BEAT, Cursor, Meter, note_token

DRUMS_APART = "/drums"    # the drums context's session, after its session's id
PITCHED_APART = "/pitched"   # the pitched parts' context's
CONTEXT_TOKENS = 768      # recent context kept to recompute the state on a style change
HEARD_NOTES = 1024        # latest notes kept for quotes (8 bars of a dense piano texture)
BEGIN_NOTES = 64          # a side kept apart begins with its latest notes heard, at most
#                           (fed to its new state token by token: ~0.1 s of the worker's time)


class Context:
    def __init__(self, sid: str, engine: Engine, meter: Meter) -> None:
        self.sid, self.engine, self.meter = sid, engine, meter
        self.encoder = LiveEncoder(meter)
        self.history: deque[int] = deque(maxlen=CONTEXT_TOKENS)
        self.first_bar: int | None = None    # the stream's first BAR: its bar in the meter
        self.bars_fed = 0                    # BARs the stream has heard
        self.sounding: dict[int, int] = {}   # note token -> stream tick its note ends
        self.fed = 0                         # feeds that changed the worker's state
        self.notes: deque[Note] = deque(maxlen=HEARD_NOTES)   # both players', stream beats
        self.take_from = float("-inf")       # stream beat the take began (see new_take)
        self.own: set[int] = set()           # ids of the notes kept that Continuo played
        self.held: dict[tuple[int, bool], tuple[int, int, int]] = {}  # -> tick, velocity, part
        self.apart: dict[bool, Context] = {}   # drum? -> that side alone (see the module)

    @property
    def drums(self) -> Context | None:
        return self.apart.get(True)

    @property
    def pitched(self) -> Context | None:
        return self.apart.get(False)

    def heard_drums(self) -> bool:
        """Has a drum been heard (among its latest notes, or held now)?"""
        return any(n.drum for n in self.notes) or any(drum for _, drum in self.held)

    def keep_apart(self, style: int | None, now: int, guided: bool = False
                   ) -> tuple[Context, Context] | None:
        """Keep the contexts of the drums alone and of the pitched parts alone, each
        beginning with what its side has played by ``now`` (:meth:`_begin`), with the
        worker's states for ``style`` (None: drop them); the two kept."""
        if style is None:
            for side in self.apart.values():
                side.close()
            self.apart.clear()
            return None
        for drum, suffix in ((True, DRUMS_APART), (False, PITCHED_APART)):
            if drum not in self.apart:
                side = self.apart[drum] = Context(self.sid + suffix, self.engine, self.meter)
                self.engine.open(side.sid, style, guided)
                self._begin(side, drum, now)
        return self.apart[True], self.apart[False]

    def _begin(self, side: Context, drum: bool, now: int) -> None:
        """``side`` hears what its side has played (up to ``now``; its ``BEGIN_NOTES``
        latest): the notes known whole (a performer's ended, Continuo's, which a cut may
        still shorten) and those still held from their starts, in order; and knows which of
        Continuo's sound."""
        for n in [n for n in self.notes if n.drum == drum][-BEGIN_NOTES:]:
            side.encoder.add_note(round(n.start * TICKS_PER_BEAT),
                                  max(round(n.duration * TICKS_PER_BEAT), 1),
                                  n.pitch, n.velocity, n.drum, n.part)
            side.notes.append(n)
        for (pitch, held_drum), (tick, velocity, part) in sorted(self.held.items(),
                                                                  key=lambda h: h[1][0]):
            if held_drum == drum:
                side.note_on(tick, pitch, velocity, drum, part)
        side.commit(side.encoder.release(now))
        side.sounding = {t: e for t, e in self.sounding.items() if (KIND[t] == K_DRUM) == drum}

    def close(self) -> None:
        """The worker forgets its state (and those of the sides kept apart)."""
        self.keep_apart(None, 0)
        self.engine.close(self.sid)

    def commit(self, tokens: list[int]) -> None:
        """Feed new tokens of the stream to the worker."""
        if not tokens:
            return
        bar = None
        if self.first_bar is None and BAR in tokens:    # where its bars are counted from
            bar = self.first_bar = self.meter.bar_index(self.encoder.cursor.origin)
        self.engine.feed(self.sid, tokens, bar)
        self.fed += 1
        self.bars_fed += tokens.count(BAR)
        self.history.extend(tokens)

    def note_on(self, tick: int, pitch: int, velocity: int, drum: bool, part: int) -> None:
        if drum in self.apart:
            self.apart[drum].note_on(tick, pitch, velocity, drum, part)
        self.commit(self.encoder.note_on(tick, pitch, velocity, drum, part))
        self._heard_off(tick, pitch, drum)
        self.held[pitch, drum] = (tick, velocity, part)

    def note_off(self, tick: int, pitch: int, drum: bool) -> None:
        if drum in self.apart:
            self.apart[drum].note_off(tick, pitch, drum)
        self.commit(self.encoder.note_off(tick, pitch, drum))
        self._heard_off(tick, pitch, drum)

    def _heard_off(self, tick: int, pitch: int, drum: bool) -> None:
        if (pitch, drum) in self.held:
            start, velocity, part = self.held.pop((pitch, drum))
            self._heard(start, tick - start, pitch, velocity, drum, part)

    def _heard(self, tick: int, duration: int, pitch: int, velocity: int, drum: bool,
               part: int, own: bool = False) -> None:
        if len(self.notes) == self.notes.maxlen:
            self.own.discard(id(self.notes[0]))
        note = Note(tick / TICKS_PER_BEAT, max(duration, 1) / TICKS_PER_BEAT, pitch, velocity,
                    drum, part)
        self.notes.append(note)
        if own:
            self.own.add(id(note))

    def new_take(self, tick: int) -> None:
        """The song stopped at stream ``tick``: what is heard from there is a new take (a
        song started again, or another song), and :meth:`heard` and :meth:`recent` leave
        out the takes before. The model still hears them (its state goes on), but nothing
        quotes their bars, and accompany mode waits to hear the new take's key: it had
        accompanied a chorale in F sharp minor in the G major of the take before. What it
        had planned past the stop never sounded: it is forgotten (counted in the new take,
        a bar of plans cut by the stop had let it come in on the next take's pickup)."""
        self.take_from = tick / TICKS_PER_BEAT
        self.notes = deque((n for n in self.notes if n.start < self.take_from),
                           maxlen=HEARD_NOTES)
        self.own &= {id(n) for n in self.notes}

    def heard(self) -> tuple[float | None, int]:
        """The stream beat of the take's earliest note kept (or held; None before any), and
        how many pitch classes its notes kept hold."""
        notes = self.recent()
        return (notes[0].start if notes else None), len({n.pitch % 12 for n in notes
                                                          if not n.drum})

    def recent(self, own: bool = True) -> list[Note]:
        """The take's latest notes of both players (stream beats; a note still held counts
        as struck), in order of their start; without Continuo's own where ``own`` is
        False."""
        held = [Note(t / TICKS_PER_BEAT, 1 / TICKS_PER_BEAT, p, v, d, q)
                for (p, d), (t, v, q) in self.held.items()]
        return sorted((n for n in [*self.notes, *held] if n.start >= self.take_from
                       and (own or id(n) not in self.own)), key=lambda n: n.start)

    def hear(self, notes: list[tuple[int, int, int, int, bool, int]], now: int) -> None:
        """Notes known whole, ``(tick, duration ticks, pitch, velocity, drum, part)``, that
        another player plays; what sounded before ``now`` is fed."""
        for drum, side in self.apart.items():
            side.hear([n for n in notes if n[4] == drum], now)
        for tick, duration, pitch, velocity, drum, part in notes:
            self.encoder.add_note(tick, duration, pitch, velocity, drum, part, generated=False)
            self._heard(tick, duration, pitch, velocity, drum, part)
        self.commit(self.encoder.release(now))

    def played(self, tick: int, duration: int, pitch: int, velocity: int, drum: bool,
               part: int) -> None:
        """A note Continuo plays: into the stream, and sounding until it ends."""
        if drum in self.apart:
            self.apart[drum].played(tick, duration, pitch, velocity, drum, part)
        self.encoder.add_note(tick, duration, pitch, velocity, drum, part)
        self._heard(tick, duration, pitch, velocity, drum, part, own=True)
        self.sounding = self.sounding_after(tick)
        key = note_token(pitch, drum)
        self.sounding[key] = max(self.sounding.get(key, 0), tick + duration)

    def cut(self, tick: int) -> None:
        """What Continuo plays stops at ``tick`` (the output released what sounded)."""
        for side in self.apart.values():
            side.cut(tick)
        self.encoder.cut(tick)
        self.sounding.clear()

    def prefix(self, now: int, start: int, resume: bool = False) -> tuple[list[int], Cursor]:
        """The tokens a continuation from ``start`` begins with (what the performer holds
        cut at ``start``, where an answer begins with its first note; the time up to
        ``start``) and its cursor there. ``resume``: what the performer holds cut at
        ``now``, and the time only up to the bar line of ``now`` (:meth:`Cursor.bar_tokens`):
        the generation's ``heard_until`` and ``not_before`` keep its events from starting
        too soon.

        What has sounded by ``now`` is fed first. Continuo's notes wait in the encoder
        until a performer's note lets them out (one may still come stamped before them, and
        go first); while the performer rests (and in the drums context, which hears no
        melody) they would wait on, and every prefix would carry them again, longer by
        every note played (in a test, a plan's prefix grew from 78 to 602 tokens over 24
        bars of rest)."""
        self.commit(self.encoder.release(now))
        tokens, cursor = self.encoder.snapshot(now if resume else max(now, start),
                                               until=start - 1)
        if cursor is None:
            cursor = Cursor(self.meter, origin=self.meter.bar_start(start))
        time = cursor.bar_tokens(min(now, start), MAX_SILENT_BARS) if resume else \
            cursor.time_tokens(max(start, cursor.tick), MAX_SILENT_BARS)
        return tokens + time, cursor

    def sounding_after(self, tick: int) -> dict[int, int]:
        """Continuo's notes that still sound at ``tick``: token -> tick they end."""
        return {t: e for t, e in self.sounding.items() if e > tick}

    def restyle(self, style: int, guided: bool) -> None:
        """The worker's state again for ``style`` (and its unstyled twin when ``guided``),
        from the recent context starting at a bar line."""
        for side in self.apart.values():
            side.restyle(style, guided)
        context = list(self.history)
        first = next((i for i, t in enumerate(context) if t == BAR), len(context))
        context = context[first:]
        bar = (self.first_bar or 0) + self.bars_fed - context.count(BAR)   # its first BAR's
        self.engine.restyle(self.sid, style, context, guided, bar)
        self.fed += 1
