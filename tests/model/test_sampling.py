import random

import numpy as np

from bridge.model.sampling import NOTE_NOW, Constraints, sample
from bridge.vocab import DRUM_BASE, PITCH_BASE, VEL_BASE, VOCAB_SIZE


def test_sample_respects_mask_and_seed():
    logits = np.random.default_rng(0).normal(size=VOCAB_SIZE).astype(np.float32)
    mask = Constraints(pitch_low=60, pitch_high=64, drums=False).mask() & NOTE_NOW
    picks = {sample(logits, mask, 1.0, 1.0, random.Random(s)) for s in range(200)}
    assert picks <= {PITCH_BASE + p for p in range(60, 65)}
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
