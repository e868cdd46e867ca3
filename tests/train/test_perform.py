"""Windows played another way: dynamics and timing change, the notes' pitches, parts and
bars do not."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode, encode
from bridge.train.perform import METER, reperform
from bridge.train.windows import Sequence, TaggerBatches
from bridge.vocab import BAR, DUR_BASE, VEL_BASE, Meter

SIX_FOUR = Meter([(0, 6 * 24)])


def _window(meter: Meter = SIX_FOUR) -> np.ndarray:
    """Two bars of a melody over chords, with a note on beat 6 of the first bar."""
    notes = [Note(b * 0.5, 0.5, 60 + (b * 3) % 12, 64 + (b * 7) % 30, part=0) for b in range(20)]
    notes += [Note(b, 1.0, 48, 70, part=1) for b in range(0, 12, 2)]
    return np.asarray(encode(Piece(notes, meter)), dtype=np.int64)


def _content(tokens: np.ndarray) -> list[tuple[int, int, int]]:
    """(bar, pitch, part) of every note."""
    notes = decode(tokens.tolist(), Meter(METER))
    bar = METER[0][1] / 24
    return sorted((int(n.start // bar), n.pitch, n.part) for n in notes)


def _onsets(tokens: np.ndarray) -> list[float]:
    return [n.start for n in decode(tokens.tolist(), Meter(METER))]


def test_kept_as_it_was_the_window_comes_back_unchanged():
    tokens = _window()
    again = reperform(tokens, np.random.default_rng(0), "kept", "kept")
    assert again.tolist() == tokens.tolist()


@pytest.mark.parametrize("dynamics", ["flat", "varied", "kept"])
@pytest.mark.parametrize("timing", ["grid", "human", "kept"])
def test_pitches_parts_and_bars_stay(dynamics, timing):
    tokens = _window()
    again = reperform(tokens, np.random.default_rng(1), dynamics, timing)
    assert _content(again) == _content(tokens)
    assert (again == BAR).sum() == (tokens == BAR).sum()


def test_flat_dynamics_are_one_velocity_and_varied_ones_several():
    tokens = _window()
    vel = lambda t: set(t[(t >= VEL_BASE) & (t < DUR_BASE)].tolist())   # noqa: E731
    assert len(vel(reperform(tokens, np.random.default_rng(2), "flat", "kept"))) == 1
    assert len(vel(reperform(tokens, np.random.default_rng(2), "varied", "kept"))) > 3


def test_a_grid_puts_every_onset_on_it_and_a_human_takes_them_off():
    rng = np.random.default_rng(3)
    human = reperform(_window(), rng, "kept", "human")
    assert any(abs(s * 4 - round(s * 4)) > 1e-6 for s in _onsets(human))   # off the 16ths
    grid = reperform(human, rng, "kept", "grid")
    assert all(abs(s * 4 - round(s * 4)) < 1e-6 or abs(s * 3 - round(s * 3)) < 1e-6
               for s in _onsets(grid))


def test_tagger_batches_play_a_share_of_their_windows_another_way():
    tokens = np.concatenate([_window(Meter())] * 4).astype(np.uint16)
    seq = Sequence(tokens, "folk/jig", "nottingham", False, 48, 80,
                   np.flatnonzero(tokens == BAR))
    def batch(perform: float) -> np.ndarray:
        it = iter(TaggerBatches([seq], ("folk",), ("folk/jig",), batch=16, perform=perform,
                                seed=4))
        return next(it)[0].numpy()
    same, played = batch(0.0), batch(1.0)
    assert not np.array_equal(same, played)
    assert (played[:, 0] == BAR).all()                 # still windows from a bar line
