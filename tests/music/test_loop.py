"""A loop heard in notes (bridge.music.loop): how exactly and how often the latest bars must
go round, through a silence since, and a first bar heard in part."""

from __future__ import annotations

import pytest

from bridge.music.loop import LEAST_BARS, period
from bridge.music.piece import Note
from bridge.vocab import TICKS_PER_BEAT, Meter
from tests.music.pieces import riff

BAR_TICKS = 4 * TICKS_PER_BEAT


def _heard(bars: int = 8) -> list[Note]:
    """A bar's own figure in each bar: bar b plays 60 + b on its beats."""
    return [Note(4 * b + i, 0.5, 60 + b, 80, part=0) for b in range(bars) for i in range(4)]


@pytest.mark.parametrize("turn", [1, 2, 3, 4])
def test_music_that_goes_round_exactly_is_heard_as_a_loop(turn):
    assert period(riff(turn, bars=12), Meter(), 12 * BAR_TICKS) == (turn, 0)
    least = max(3 * turn, LEAST_BARS)                          # three turns, 4 bars
    assert period(riff(turn, bars=least), Meter(), least * BAR_TICKS) == (turn, 0)
    fewer = least - 1
    assert period(riff(turn, bars=fewer), Meter(), fewer * BAR_TICKS) is None
    played = riff(turn, bars=12)
    played[-1] = Note(played[-1].start + 1 / 24, 0.5, played[-1].pitch, 80, part=0)
    assert period(played, Meter(), 12 * BAR_TICKS) is None     # a player's: never exact
    assert period(_heard(12), Meter(), 12 * BAR_TICKS) is None  # a bar of its own each


def test_a_tunes_strain_played_twice_is_no_loop():
    assert period(riff(4), Meter(), 8 * BAR_TICKS) is None


def test_a_loop_is_heard_in_whole_bars_and_through_a_silence():
    start = 8 * BAR_TICKS
    assert period(riff(2), Meter(), start + TICKS_PER_BEAT) == (2, 0)   # its bar waits
    wandering = [*_heard(8), *riff(2, bars=8, shift=8)]              # 8 bars, then a riff
    assert period(wandering, Meter(), 16 * BAR_TICKS) == (2, 0)     # the latest bars
    assert period(riff(2), Meter(), 9 * BAR_TICKS) == (2, 1)       # a bar since
    assert period(riff(2), Meter(), 11 * BAR_TICKS + 1) == (2, 3)
    assert period(riff(2), Meter(), 12 * BAR_TICKS) is None        # long gone
    gaps = [n for n in riff(1) if n.start // 4 % 2 == 0]             # a bar, a bar's rest
    assert period(gaps, Meter(), start) == (2, 1)                   # (the last bar: a rest)
    silence = [n for n in riff(1) if n.start < 4]                    # one bar, then nothing
    assert period(silence, Meter(), start) is None
    late = [n for n in riff(4, bars=12) if n.start >= 1]   # its first bar heard from beat 2
    assert period(late, Meter(), 12 * BAR_TICKS) == (4, 0)
    other = [*late[:3], Note(3, 0.5, 70, 80, part=0), *late[3:]]   # ... or not the same
    assert period(other, Meter(), 12 * BAR_TICKS) == (4, 0)
    assert period(late[3:], Meter(), 11 * BAR_TICKS) is None   # then 11 bars: not enough


def test_a_loop_is_heard_on_the_ticks_its_notes_are_heard_on():
    """A file's notes may lie a little off a grid found in them (bridge.music.pulse): a
    loop whose notes all come 0.0125 beats early is still a loop, its notes on the bar
    lines heard in the bars they start on the tick of."""
    early = [Note(n.start - 0.0125, n.duration, n.pitch, n.velocity, part=0)
             for n in riff(2, shift=1)]
    assert period(early, Meter(), 9 * BAR_TICKS) == (2, 0)
