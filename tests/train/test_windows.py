import numpy as np
import torch

from bridge.data.cache import TokenCache
from bridge.music.tokenize import decode
from bridge.train.windows import (
    GeneratorBatches,
    TaggerBatches,
    augment,
    bar_windows,
    eval_windows,
    load_split,
)
from bridge.vocab import BAR, BOS, PITCH_BASE, STYLES, VEL_BASE, VOCAB_SIZE, Meter


def test_generator_batches_start_on_bars_and_shift_targets(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    batches = iter(GeneratorBatches(seqs, STYLES, window=32, batch=6, transpose=3,
                                    velocity_shift=1, style_dropout=0.5, seed=1))
    x, y, st = next(batches)
    assert x.shape == y.shape == (6, 32) and st.shape == (6,)
    assert (x[:, 0] == BOS).all() and (y[:, 0] == BAR).all()
    real = x[:, 1:] != 0                       # input t+1 is target t wherever it exists
    assert torch.equal(x[:, 1:][real], y[:, :-1][real])
    assert (st == 0).any()                     # some windows trained without a style


def test_augment_keeps_every_note_in_range_and_drums_untouched(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    rng = np.random.default_rng(0)
    for seq in seqs:
        for _ in range(5):
            out = augment(seq.tokens, seq, rng, transpose=12, velocity_shift=2)
            assert out.min() >= 0 and out.max() < VOCAB_SIZE
            pitched = (out >= PITCH_BASE) & (out < PITCH_BASE + 128)
            assert (pitched == ((seq.tokens >= PITCH_BASE) & (seq.tokens < PITCH_BASE + 128))).all()
            if seq.drums:
                notes = (seq.tokens >= PITCH_BASE) & (seq.tokens < VEL_BASE)
                assert (out[notes] == seq.tokens[notes]).all()
            decode(out.tolist(), Meter(), 0)    # still grammatical


def test_eval_and_bar_windows(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "val")
    windows = list(eval_windows(seqs, 64))
    assert windows and all(w[0] == BAR and len(w) <= 64 for w, _ in windows)
    four = [w for s in seqs for w in bar_windows(s, 4)]
    assert all(np.count_nonzero(w == BAR) <= 4 for w in four)


def test_tagger_batches_balance_genres(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    genres = tuple(sorted({s.style.split("/")[0] for s in seqs}))
    subs = tuple(sorted({s.style for s in seqs if "/" in s.style}))
    x, g, s = next(iter(TaggerBatches(seqs, genres, subs, batch=64, seed=0)))
    assert x.shape[0] == 64 and set(g.tolist()) == set(range(len(genres)))
    assert ((s == -1) == (g == genres.index("pop"))).all()


def test_hold_out_takes_whole_groups_from_train_for_validation(fixture_cache):
    from bridge.data.cache import TokenCache
    from bridge.train.windows import hold_out, load_split

    cache = TokenCache(fixture_cache)
    train, val = hold_out(cache)
    everything = load_split(cache, "train")
    assert val and train and len(train) + len(val) == len(everything)
    assert not {s.group for s in train} & {s.group for s in val}     # whole groups
