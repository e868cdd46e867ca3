import random

import numpy as np

from bridge.model.sampling import NOTE_NOW, Constraints, sample
from bridge.vocab import (
    DRUM_BASE,
    DRUMS,
    MELODY,
    PART_BASE,
    PARTS,
    PITCH_BASE,
    VEL_BASE,
    VOCAB_SIZE,
)


def test_sample_respects_mask_and_seed():
    logits = np.random.default_rng(0).normal(size=VOCAB_SIZE).astype(np.float32)
    mask = Constraints(pitch_low=60, pitch_high=64, drums=False).mask() & NOTE_NOW
    picks = {sample(logits, mask, 1.0, 1.0, random.Random(s)) for s in range(200)}
    pitched = [PART_BASE + p for p in range(len(PARTS)) if p != DRUMS]   # "a note in another
    assert picks <= {PITCH_BASE + p for p in range(60, 65)} | set(pitched)   # part starts so"
    assert sample(logits, mask, 1.0, 1.0, random.Random(7)) == \
        sample(logits, mask, 1.0, 1.0, random.Random(7))


def test_a_seed_draws_the_same_token_when_two_are_a_rounding_apart_either_way():
    """Two kernels (or machines) compute logits a rounding apart: a near tie must not swap
    which token a seed's draw lands on, and the draws keep the distribution."""
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    mask[[PITCH_BASE + 60, PITCH_BASE + 62, PITCH_BASE + 64]] = True
    logits = np.zeros(VOCAB_SIZE, dtype=np.float32)
    logits[PITCH_BASE + 64] = -1.0
    for nudge in (1e-6, -1e-6):
        other = logits.copy()
        other[PITCH_BASE + 62] += nudge
        for seed in range(50):
            assert sample(logits, mask, 1.0, 1.0, random.Random(seed)) == \
                sample(other, mask, 1.0, 1.0, random.Random(seed))
    draws = [sample(logits, mask, 1.0, 1.0, random.Random(s)) for s in range(3000)]
    share = draws.count(PITCH_BASE + 64) / len(draws)      # e^-1 / (2 + e^-1) = 0.155
    assert abs(share - 0.155) < 0.03


def test_low_temperature_and_top_p_pick_the_mode():
    logits = np.zeros(VOCAB_SIZE, dtype=np.float32)
    logits[PITCH_BASE + 60] = 8.0     # ~92 % of the mass over the 256 note tokens
    for temperature, top_p in ((0.1, 1.0), (1.0, 0.5)):
        assert sample(logits, NOTE_NOW, temperature, top_p, random.Random(0)) == PITCH_BASE + 60


def test_drums_constraint():
    mask = Constraints(drums=True).mask()
    assert not mask[PITCH_BASE:DRUM_BASE].any() and mask[DRUM_BASE:VEL_BASE].all()
    assert mask[PART_BASE + DRUMS] and not mask[PART_BASE:PART_BASE + DRUMS].any()
    assert not Constraints(drums=False).mask()[PART_BASE + DRUMS]


def test_a_parts_constraint_keeps_the_cursor_out_of_the_other_parts():
    mask = Constraints(parts=frozenset({MELODY})).mask()
    assert mask[PART_BASE + MELODY] and mask[PITCH_BASE:VEL_BASE].all()
    assert not mask[[PART_BASE + q for q in range(len(PARTS)) if q != MELODY]].any()
    assert Constraints().mask()[PART_BASE:PART_BASE + len(PARTS)].all()


def test_the_range_holds_for_drum_keys_too():
    mask = Constraints(35, 40, drums=True).mask()
    assert not mask[PITCH_BASE:DRUM_BASE].any()
    assert np.flatnonzero(mask[DRUM_BASE:VEL_BASE]).tolist() == list(range(35, 41))
    either = Constraints(60, 62).mask()
    assert np.flatnonzero(either[PITCH_BASE:VEL_BASE]).tolist() == [60, 61, 62, 188, 189, 190]


def test_a_mask_that_allows_nothing_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="no token is allowed"):
        sample(np.zeros(VOCAB_SIZE, np.float32), np.zeros(VOCAB_SIZE, bool), 1.0, 1.0,
               random.Random(0))


def test_guidance_favours_what_the_style_makes_likelier_than_the_music_alone():
    from bridge.model.sampling import guide
    from bridge.vocab import DUR_BASE, PART_BASE, PITCH_BASE, VOCAB_SIZE

    def row(values, at):
        out = np.full(VOCAB_SIZE, -np.inf, dtype=np.float32)
        out[at:at + 3] = np.log(np.array(values, dtype=np.float32))
        return out

    def probs(logits, at):
        x = np.exp(logits[at:at + 3] - logits[at:at + 3].max())
        return x / x.sum()

    at = DUR_BASE                                      # a duration: guided
    styled, unstyled = row([0.5, 0.3, 0.2], at), row([0.6, 0.1, 0.3], at)
    assert np.allclose(guide(styled, unstyled, 0.0)[at:at + 3], styled[at:at + 3])
    p = [probs(guide(styled, unstyled, w), at) for w in (1, 3)]
    assert p[0][1] > 0.3 and p[1][1] > p[0][1]                        # the style's token gains
    assert p[1][2] < 0.2                                               # what it disfavours loses
    # pitches are not pushed: the styled prediction as it is, so the key stays the music's
    # and nor are parts: which part plays is the session's, not the style's
    for at in (PITCH_BASE + 60, PART_BASE):
        styled, unstyled = row([0.5, 0.3, 0.2], at), row([0.6, 0.1, 0.3], at)
        assert np.allclose(guide(styled, unstyled, 3.0)[at:at + 3], styled[at:at + 3])
    # a token either side rules out stays out (never +inf or NaN)
    a, b = np.zeros(VOCAB_SIZE, np.float32), np.zeros(VOCAB_SIZE, np.float32)
    a[DUR_BASE], b[DUR_BASE + 1] = -np.inf, -np.inf
    out = guide(a, b, 3)
    assert out[DUR_BASE] == out[DUR_BASE + 1] == -np.inf and np.isfinite(out).sum() == \
        VOCAB_SIZE - 2
