"""Which bars an accompany plan quotes, and how hard (:class:`bridge.live.quote.Quote`).

Accompany mode's plans (one draw each) quote the bars 4 or 8 back (``PLAN_LAGS``),
whichever the lead's latest bars repeat, the more strongly the more nearly they repeat them
(:func:`plan_quote`): an accompanist that knows the changes it heard, hears from the
melody which part of the tune has come round, and leaves the changes where the melody asks
for others (the accompaniment benchmark: docs/musicality.md, "Plans that quote the
changes"). A plan that plays a bass for a drummer (:func:`bridge.live.quote.for_a_drummer`)
quotes the kick's hits instead, as a call's answer does (:func:`drummer_quote`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bridge.live.quote import PULSE, Quote, for_a_drummer, quoted
from bridge.music.piece import Note
from bridge.music.tokenize import to_tick
from bridge.vocab import TICKS_PER_BEAT, Meter, note_token

if TYPE_CHECKING:
    from bridge.live.generation import Generation

PLAN_BONUS = (3.0, 4.0)     # logits on the token that goes on with an accompany plan's
#                             quote: the lead repeating nothing, all, of its bars
PLAN_LAGS = (4, 8)          # the bars back an accompany plan may quote, the first by default
MATCH_BARS = 4              # how much of the lead's latest playing tells the lags apart
ONSET_SLACK = TICKS_PER_BEAT // 6    # ticks apart two onsets may be and still match


def plan_quote(notes: Sequence[Note], plays: frozenset[int] | None, meter: Meter, now: int,
               start: int) -> Quote | None:
    """An accompany plan's quote of ``notes`` from ``start``: the bars :func:`plan_lag`
    chooses, followed the more strongly the more nearly the lead repeats them
    (``PLAN_BONUS``: from its first, when the lead repeats nothing, to its second, when it
    repeats them exactly). Its time is led by the onsets of the parts the plan plays
    (``plays``): led to the lead's, which it only hears, a plan skipped the instants its own
    parts play on (bars of the changes heard before any was played came out near silent)."""
    lag, likeness = plan_lag(notes, plays, meter, now)
    low, high = PLAN_BONUS
    return Quote.of(notes, meter, start, lag, bonus=low + (high - low) * likeness,
                    steers=plays)


def drummer_quote(plan: Generation, heard: Sequence[Note]) -> Quote | None:
    """The quote of a plan that plays a bass for a drummer (None for any other plan): the
    kick's hits heard the first of :data:`~bridge.live.quote.PULSE`'s lags back, as the
    bass's, at its bonus. Led to the drummer's hits, whose parts it never plays, a plan's
    time went nowhere: the same bass for every groove (10 Groove takes, seeds 0-1: the
    same 0.44 or 0.56 notes a beat, 0.56 of them where the kick played; quoting the kick:
    docs/musicality.md, "A bass under a drummer")."""
    if not for_a_drummer(plan, heard):
        return None
    return Quote.of(quoted(heard, PULSE), plan.cursor.meter, plan.first_tick, PULSE.lags[0],
                    bonus=PULSE.bonus, steers=plan.parts)


def plan_lag(notes: Sequence[Note], plays: frozenset[int] | None, meter: Meter, now: int,
             lags: Sequence[int] = PLAN_LAGS) -> tuple[int, float]:
    """The bars back an accompany plan quotes, and how nearly the lead repeats them (0-1):
    of ``lags``, the one at which the lead (the notes of the parts the plan does not play;
    all notes when it may play any) played most nearly what it played in its latest bars
    (up to ``MATCH_BARS``, before ``now``); the first when none repeats more, or nothing
    was heard that tells them apart.

    A tune's second strain starts again 8 bars on, a song's phrase 4: the melody as it
    goes says which has come, as it tells a band."""
    lead = [(to_tick(n.start), note_token(n.pitch, n.drum)) for n in notes
            if (plays is None or n.part not in plays) and to_tick(n.start) < now]
    if not lead:
        return lags[0], 0.0
    # the window starts where every lag's source lies after the first bar heard
    since = meter.lines(meter.bar_start(lead[0][0]), max(lags))[-1]
    window = max(meter.shift(now, -MATCH_BARS), since)
    if window >= now:
        return lags[0], 0.0
    played = [e for e in lead if e[0] >= window]
    best, lag = 0.0, lags[0]
    for k in lags:
        shift = now - meter.shift(now, -k)
        source = [(t + shift, n) for t, n in lead if window <= t + shift < now]
        likeness = _onset_likeness(played, source)
        if likeness > best:
            best, lag = likeness, k
    return lag, best


def _onset_likeness(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> float:
    """How many notes of ``a`` and ``b`` (tick, note token) pair off, the same note within
    ``ONSET_SLACK`` ticks, over their mean count (Dice's: 1 when they are the same)."""
    if not a or not b:
        return 0.0
    free: dict[int, list[int]] = {}          # note -> its unpaired ticks in b
    for tick, note in sorted(b):
        free.setdefault(note, []).append(tick)
    pairs = 0
    for tick, note in a:
        ticks = free.get(note, [])
        i = next((i for i, t in enumerate(ticks) if abs(t - tick) <= ONSET_SLACK), None)
        if i is not None:
            del ticks[i]
            pairs += 1
    return 2 * pairs / (len(a) + len(b))
