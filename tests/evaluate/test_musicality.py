import math

import pytest

from bridge.evaluate import musicality as mu
from bridge.music.likeness import Bars
from bridge.music.piece import Note

BARS = Bars((0.0, 4.0, 8.0))           # two 4/4 bars
PROMPT_BARS = Bars((-8.0, -4.0, 0.0))


def n(start, pitch=60, duration=1.0, drum=False):
    return Note(start, duration, pitch, 80, drum)


def test_a_candidate_equal_to_the_truth_scores_one():
    truth = [n(0, 60), n(1, 64, 0.5), n(1.5, 67, 0.5), n(2, 72, 2), n(4.25, 60)]
    m = mu.compare(truth, truth, BARS, [], PROMPT_BARS)
    assert m["score"] == pytest.approx(1.0)
    assert m["density_log_ratio"] == 0.0


def test_density_log_ratio():
    truth = [n(i) for i in range(4)]
    assert mu.compare(truth[:2], truth, BARS, [], PROMPT_BARS)["density_log_ratio"] == \
        pytest.approx(math.log(2))
    assert mu.compare([], truth, BARS, [], PROMPT_BARS)["density_log_ratio"] == \
        pytest.approx(math.log(4))


def test_copied_bars_compare_positions_and_pitches():
    prompt = [n(-8, 60), n(-7, 62), n(-4, 64)]
    copy = [n(0, 60, 3.0), n(1, 62)]           # bar 0 == prompt bar 0 (durations aside)
    other = [n(4, 60), n(5.5, 62)]             # bar 1: a note moved
    assert mu.copied_bar_share(copy + other, BARS, prompt, PROMPT_BARS) == 0.5
    assert mu.copied_bar_share([], BARS, prompt, PROMPT_BARS) == 0.0


def test_empty_bars_are_never_copies():
    prompt = [n(-8, 60)]                       # prompt bar 1 is empty
    assert mu.copied_bar_share([n(0, 60)], BARS, prompt, PROMPT_BARS) == 0.5


def test_duplicates_and_same_pitch_overlaps():
    notes = [n(0, 60, 2.0), n(0, 60, 1.0), n(0, 60, 0.5),    # two duplicates
             n(1, 60, 1.0),                                 # struck while the first sounds
             n(2, 60, 1.0),                                 # the first ended at 2: fine
             n(0, 64, 1.0), n(1, 64, 1.0),                  # back to back: fine
             n(0, 36, 4.0, drum=True), n(1, 36, 1.0, drum=True)]   # a drum key too
    assert mu.duplicates(notes) == 2
    assert mu.same_pitch_overlaps(notes) == 2


def test_mean_metrics_skip_missing_values():
    rows = [{"in_key": None, "score": 0.5}, {"in_key": 0.8, "score": 1.0}]
    assert mu.mean_metrics(rows, ("in_key", "score")) == {"in_key": 0.8, "score": 0.75}
    assert mu.mean_metrics([{"in_key": None}], ("in_key",)) == {"in_key": None}
