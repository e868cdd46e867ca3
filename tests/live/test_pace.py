"""How long a session's choices take, and the lead and width that follow from it."""

import pytest

from bridge.live.pace import LEAD_S, MARGIN, MIN_WIDTH, MISSED, SECONDS, STEP_ROWS, Pace


def test_a_choice_costs_its_bars_times_its_candidates_and_the_step_s_own_rows():
    pace = Pace(seconds=0.01)
    assert pace.cost(16, 4) == pytest.approx(0.01 * 4 * (16 + STEP_ROWS))
    assert pace.cost(4, 4) < pace.cost(8, 4) < pace.cost(16, 4)


def test_the_width_halves_until_it_fits_but_never_below_the_fewest_that_choose():
    pace = Pace(seconds=0.01)
    assert pace.width(16, 4, 10.0) == 16
    assert pace.width(16, 4, MARGIN * pace.cost(8, 4)) == 8
    assert pace.width(16, 4, 0.0) == MIN_WIDTH          # no time at all: the fewest
    assert pace.width(3, 4, 0.0) == 3                   # a session asking for fewer
    assert pace.width(1, 4, 0.0) == 1


def test_the_lead_is_the_choice_s_time_with_its_margin_within_its_bounds():
    pace = Pace(seconds=0.01)
    assert pace.lead(16, 2) == pytest.approx(MARGIN * pace.cost(16, 2))
    assert pace.lead(1, 2) == LEAD_S[0]                 # one draw: its first note at once
    assert Pace(seconds=1.0).lead(16, 4) == LEAD_S[1]
    assert Pace(seconds=1e-6).lead(16, 4) == LEAD_S[0]


def test_a_slower_choice_is_taken_at_once_a_quicker_one_eased_toward():
    pace = Pace(seconds=0.01)
    pace.made(16, 2, 2 * 0.02 * (16 + STEP_ROWS))       # twice as slow
    assert pace.seconds == pytest.approx(0.02)
    pace.made(4, 2, 0.0)                                # made at once
    assert pace.seconds == pytest.approx(0.01)


def test_until_a_choice_is_measured_it_is_as_wide_as_asked_and_a_miss_is_learnt_from():
    pace = Pace()
    assert pace.width(16, 8, 0.0) == 16                 # nothing known: a miss plays one draw
    assert pace.lead(16, 4) == pytest.approx(MARGIN * SECONDS * 4 * (16 + STEP_ROWS))
    pace.missed(16, 8, 0.5)                             # not made in the 0.5 s it had
    assert pace.seconds == pytest.approx(MISSED * 0.5 / (8 * (16 + STEP_ROWS)))
    assert pace.width(16, 8, 0.5) == 4                  # 8 would take 0.45 s, 0.68 with margin
    pace.made(8, 8, 0.0)
    assert pace.seconds == pytest.approx(MISSED * 0.5 / (8 * (16 + STEP_ROWS)) / 2)
