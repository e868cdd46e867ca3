import random

import numpy as np

from bridge.model.sampling import NOTE_NOW, Constraints, sample
from bridge.vocab import (
    DRUM_BASE,
    DRUMS,
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

    styled = np.log(np.array([0.5, 0.3, 0.2], dtype=np.float32))
    unstyled = np.log(np.array([0.6, 0.1, 0.3], dtype=np.float32))
    assert np.allclose(guide(styled, unstyled, 0.0), styled)       # 0: as the style says
    p = [np.exp(g) / np.exp(g).sum() for g in (guide(styled, unstyled, w) for w in (1, 3))]
    assert p[0][1] > 0.3 and p[1][1] > p[0][1]                        # the style's token gains
    assert p[1][2] < 0.2                                               # what it disfavours loses
    # a token either side rules out stays out (never +inf or NaN)
    out = guide(np.array([0.0, -np.inf, 1.0], np.float32),
                np.array([-np.inf, 0.0, 1.0], np.float32), 3)
    assert out[0] == out[1] == -np.inf and out[2] == 1.0
