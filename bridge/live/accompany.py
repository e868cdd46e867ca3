"""Accompany mode: keep generating ahead on the beat grid, commit the near future, re-plan
the rest as the performer plays. It waits for the music: until the session has heard enough
to know the key (two bars, or one that holds five pitch classes) it plans nothing.

Every grid step (the session's ``grid``, at most one beat) the accompanist plans from the
end of what is already committed to ``lookahead_beats`` ahead, starting from the session's
context as it stands: the performer's notes so far (held ones cut at now) and the
accompaniment already committed. Notes come out of the worker in time order; those that
start before the end of the *next* grid step are committed as they arrive (played and added
to the context); the rest is thrown away and planned again one step later, with whatever
the performer has played since. With a ``seed`` each plan draws from its own seed (the
session's and the tick it plans from: ``bridge.live.voice.draw_seed``), so a run is
repeatable. A note whose start has passed by the time it arrives (an overloaded machine)
is dropped and counted in ``late``, never played late. Plans sample at
``ACCOMPANY_TEMPERATURE`` of the session's temperature: an accompanist plays steadier than
a soloist (docs/musicality.md).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from bridge.live.generation import Generation
from bridge.live.params import ACCOMPANY_TEMPERATURE
from bridge.live.phrase import ceil_to_grid
from bridge.live.plan_quote import drummer_quote, plan_quote
from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT

if TYPE_CHECKING:
    from bridge.live.host import Host

log = logging.getLogger(__name__)

MIN_LEAD_S = 0.1     # committed notes leave at least this long before they play
KEY_CLASSES = 5      # pitch classes heard that let it come in after one bar, not two


class Accompanist:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.committed_to: float | None = None     # song beat: notes before it are fixed
        self.plans: list[Generation] = []          # sampling (drums apart: two)
        self.ended_well = True                      # ... every one so far to its end
        self.planned: list[Note] = []              # the tentative rest, for status
        self.commit_limit = 0.0
        self.replans = 0
        self.late = 0

    @property
    def step(self) -> float:
        return min(self.host.params["grid"], 1.0)

    @property
    def running(self) -> bool:
        return self.committed_to is not None

    def start(self) -> None:
        s = self.host
        now = s.time.now_beat()
        self.committed_to = ceil_to_grid(now + s.time.beats_in(MIN_LEAD_S), self.step)
        self.replan()

    def stop(self) -> None:
        for plan in self.plans:
            plan.cancel()
        self.plans = []
        self.host.time.disarm("accompany")
        self.committed_to = None
        self.planned = []

    def _tick(self, _beat: float) -> None:
        self.replan()

    def replan(self) -> None:
        """Plan from the committed edge to the lookahead horizon (one plan at a time; drums
        beside pitched parts drawn apart, as two generations)."""
        s = self.host
        if not self.running:
            return
        now = s.time.now_beat()
        s.time.arm("accompany", ceil_to_grid(now + 1e-3, self.step), self._tick)
        if self.plans:                     # still sampling: the next step picks it up
            return
        lead = s.time.beats_in(MIN_LEAD_S)
        if not self._heard_enough(ceil_to_grid(now + lead, self.step)):
            return                         # it waits for the music

        self.committed_to = max(self.committed_to, ceil_to_grid(now + lead, self.step))
        self.commit_limit = max(self.committed_to,
                                ceil_to_grid(now + lead, self.step) + self.step)
        horizon = max(now + s.params["lookahead_beats"], self.commit_limit)
        self.planned = []
        plans = s.generations(self.committed_to, horizon, note_now=False,
                              on_note=self._note, on_done=self._done)
        first = plans[0]
        plays = first.parts if len(plans) == 1 else frozenset().union(*(p.parts for p in plans))
        heard = s.quotable(own=False)     # (its own bars quoted: a 4-bar loop of itself)
        quote = plan_quote(heard, plays,                 # the changes heard, led in time
                           first.cursor.meter, s.time.tick(now), first.first_tick)
        self.plans, self.ended_well = plans, True
        for plan in plans:
            plan.temperature *= ACCOMPANY_TEMPERATURE     # steadier than a soloist
            plan.on_the_bar = True                        # a part it brings in: on the bar
            plan.quote = drummer_quote(plan, heard) or \
                (quote and replace(quote, steers=plan.parts))   # led by its own
            s.submit(plan)
        self.replans += 1

    def _heard_enough(self, start: float) -> bool:
        """Will it have heard enough to know the key by ``start`` (song beat): two bars, or
        one that holds ``KEY_CLASSES`` pitch classes? From the first note or two it guessed
        a key, often the wrong one (a G under a chorale in G taken for the fifth of C
        minor), and then went on in its own for good: it quotes its own changes, and the
        model hears its own chords more than the melody above them (docs/musicality.md,
        "An accompanist listens before it comes in")."""
        s = self.host
        first, classes = s.heard()
        if first is None:
            return False
        bars = (s.time.tick(start) / TICKS_PER_BEAT - first) / s.time.bar_beats + 1e-6
        return bars >= 2 or (bars >= 1 and classes >= KEY_CLASSES)

    def _sampling(self, gen: Generation) -> bool:
        return any(g is gen for g in self.plans)

    def _note(self, gen: Generation, note: Note) -> None:
        if not self._sampling(gen) or not self.running:
            return
        s = self.host
        if round(note.start * TICKS_PER_BEAT) >= s.time.tick(self.commit_limit):
            self.planned.append(note)
        elif s.time.song_beat(round(note.start * TICKS_PER_BEAT)) < s.time.now_beat():
            self.late += 1
            log.warning("session %s: accompaniment note came too late; dropped (%d so far)",
                        s.sid, self.late)
        else:
            s.play(note)

    def _done(self, gen: Generation, reason: str) -> None:
        if not self._sampling(gen):
            return
        self.plans = [g for g in self.plans if g is not gen]
        self.ended_well &= reason == "end"
        if not self.plans and self.running and self.ended_well:
            self.committed_to = self.commit_limit
