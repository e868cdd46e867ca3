import numpy as np
import pytest

from bridge.music import likeness as lk
from bridge.music.piece import Note

BARS = lk.Bars((0.0, 4.0, 8.0))           # two 4/4 bars


def n(start, pitch=60, duration=1.0, drum=False):
    return Note(start, duration, pitch, 80, drum)


def test_overlap_of_histograms():
    assert lk.overlap(np.array([1, 1]), np.array([2, 2])) == pytest.approx(1.0)
    assert lk.overlap(np.array([1, 0]), np.array([0, 3])) == 0.0
    assert lk.overlap(np.array([3, 1]), np.array([1, 3])) == pytest.approx(0.5)
    assert lk.overlap(np.zeros(3), np.zeros(3)) == 1.0
    assert lk.overlap(np.zeros(3), np.ones(3)) == 0.0


def test_bins_of_time_features():
    notes = [n(0, duration=1 / 24), n(1 / 12, duration=5.0), n(4 + 1 / 6)]
    h = lk.histograms(notes, BARS)
    assert h["duration"][0] == 1 and h["duration"][12] == 1
    assert h["duration"][lk.N_TIME_BINS - 1] == 1
    assert h["ioi"][1] == 1 and h["ioi"][lk.N_TIME_BINS - 1] == 1   # 4 beats or more: last
    assert h["position"][0] == 1 and h["position"][1] == 1 and h["position"][2] == 1


def test_drums_bin_by_key_and_pitches_by_class():
    h = lk.histograms([n(0, 36, drum=True), n(0, 60), n(1, 72)], BARS)
    assert h["pitch_class"][0] == 2 and h["pitch_class"][12 + 36] == 1
    assert h["pitch"][60] == 1 and h["pitch"][72] == 1 and h["pitch"][128 + 36] == 1


def test_ioi_counts_distinct_onsets_once():
    h = lk.histograms([n(0, 60), n(0, 64), n(0.5, 67)], BARS)
    assert h["ioi"].sum() == 1 and h["ioi"][6] == 1


def test_likeness_is_the_mean_overlap_and_symmetric():
    a = lk.histograms([n(0, 60), n(1, 62), n(2, 64)], BARS)
    b = lk.histograms([n(0, 60), n(1, 62), n(2.5, 65)], BARS)
    each = lk.overlaps(a, b)
    assert set(each) == set(lk.OVERLAPS)
    assert lk.likeness(a, b) == pytest.approx(sum(each.values()) / 5)
    assert lk.likeness(a, b) == pytest.approx(lk.likeness(b, a))
    assert lk.likeness(a, a) == pytest.approx(1.0)


def test_consensus_picks_the_span_most_like_the_others():
    tune = [n(0, 60), n(1, 62), n(2, 64), n(3, 65)]
    near = [n(0, 60), n(1, 62), n(2, 64), n(3, 67)]
    also_near = [n(0, 60), n(1, 62), n(2.5, 64, 0.5), n(3, 65)]
    astray = [n(0.25, 80, 0.25), n(0.75, 83, 0.25), n(3.5, 90, 2.0)]
    assert lk.consensus([astray, near, tune, also_near], BARS) == 2
    assert lk.consensus([astray, tune], BARS) == 0           # a tie: the first
    assert lk.consensus([astray], BARS) == 0 and lk.consensus([], BARS) == 0


def test_voters_beside_the_candidates_sway_the_consensus():
    tune = [n(0, 60), n(1, 62), n(2, 64), n(3, 65)]
    astray = [n(0.25, 80, 0.25), n(0.75, 83, 0.25), n(3.5, 90, 2.0)]
    assert lk.consensus([astray, tune], BARS, voters=[(tune, 1.0)]) == 1
    assert lk.consensus([astray, tune], BARS, voters=[(tune, 0.0)]) == 0   # not counted
    assert lk.consensus([tune, astray], BARS, voters=[(astray, 1.0)]) == 1
    # two voters: the heavier wins, and their weights add
    assert lk.consensus([astray, tune], BARS, voters=[(astray, 0.3), (tune, 0.5)]) == 1
    assert lk.consensus([tune, astray], BARS, voters=[(astray, 0.3), (astray, 0.3),
                                                      (tune, 0.5)]) == 1


def test_bars_spanning_a_meter():
    from bridge.vocab import TICKS_PER_BEAT as T
    from bridge.vocab import Meter

    three_four = Meter([(0, 3 * T)])
    assert lk.Bars.spanning(three_four, 4 * T, 9 * T).lines == (3.0, 6.0, 9.0)
    assert lk.Bars.spanning(three_four, 3 * T, 10 * T).lines == (3.0, 6.0, 9.0, 12.0)
