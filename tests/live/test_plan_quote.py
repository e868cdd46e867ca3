"""Which bars an accompany plan quotes, and how hard (bridge.live.plan_quote)."""

from __future__ import annotations

import pytest

from bridge.live import plan_quote as pq
from bridge.live.quote import Quote
from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT, Meter

BAR_TICKS = 4 * TICKS_PER_BEAT


def _tune(strain: list[int], bars: int, part: int = 0) -> list[Note]:
    """A lead playing ``strain`` (a pitch a bar, on its beats) over and over, with chords
    of another part under it."""
    return [Note(4 * b + i, 0.5, pitch, 80, part=p)
            for b in range(bars) for i in range(4)
            for pitch, p in ((strain[b % len(strain)], part), (40 + b % 7, 1))]


@pytest.mark.parametrize(("strain", "lag"), [
    ([60, 62, 64, 65, 67, 69, 71, 72], 8),      # an 8-bar strain comes round again
    ([60, 62, 64, 65], 4),                      # a 4-bar phrase
    ([60, 62], 4),                              # 2 bars: 4 back repeats as well, and is first
    ([60, 62, 64, 65, 67, 69, 71, 72, 74], 4),  # nothing repeats: the first lag
])
def test_a_plan_quotes_the_bars_back_the_lead_repeats(strain, lag):
    meter = Meter()
    heard = _tune(strain, 10)
    now = 10 * BAR_TICKS - TICKS_PER_BEAT // 2
    assert pq.plan_lag(heard, frozenset((1,)), meter, now)[0] == lag
    assert pq.plan_lag(heard, frozenset((0, 1)), meter, now) == (4, 0.0)   # no lead: the first
    assert pq.plan_lag(heard[:40], frozenset((1,)), meter, 5 * BAR_TICKS) == (4, 0.0)  # too little
    assert pq.plan_lag([], None, meter, now) == (4, 0.0)


def test_a_plan_hears_a_strain_return_from_its_first_notes():
    strain = [60, 62, 64, 65, 67, 69, 71, 72]
    heard = [n for n in _tune(strain, 9) if n.start < 33]      # bar 8's first beat
    assert pq.plan_lag(heard, frozenset((1,)), Meter(), 33 * TICKS_PER_BEAT) == (8, 1.0)
    loose = [Note(n.start + 0.1, n.duration, n.pitch, n.velocity, part=n.part) if n.start >= 32
             else n for n in heard]                            # played a little late
    assert pq.plan_lag(loose, frozenset((1,)), Meter(), 33 * TICKS_PER_BEAT) == (8, 1.0)


def test_a_plan_follows_the_changes_as_hard_as_the_lead_repeats_them():
    low, high = pq.PLAN_BONUS
    now = 10 * BAR_TICKS - TICKS_PER_BEAT // 2
    start = 10 * BAR_TICKS

    def bonus(strain: list[int]) -> float:
        return pq.plan_quote(_tune(strain, 10), frozenset((1,)), Meter(), now, start).bonus

    assert bonus([60, 62, 64, 65]) == high                          # the lead comes round
    assert bonus(list(range(60, 69))) == low                        # nothing repeats
    half = [60, 61, 62, 63, 64, 65, 66, 67]                         # bar 8 on: half of it again
    tune = [n for n in _tune(half, 10)
            if not (n.part == 0 and n.start >= 32 and n.start % 2)] + \
        [Note(4 * b + i, 0.5, 90, 80, part=0) for b in (8, 9) for i in (1, 3)]
    quote = pq.plan_quote(tune, frozenset((1,)), Meter(), now, start)
    assert low < quote.bonus < high
    assert quote == Quote.of(tune, Meter(), start, 8, bonus=quote.bonus,
                               steers=frozenset((1,)))   # led by the changes' onsets
