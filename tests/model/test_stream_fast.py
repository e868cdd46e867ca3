"""The numpy CPU step of the Streamer gives what the torch step gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bridge.model import kernels
from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.matrix import SMALL
from bridge.model.stream import Streamer, blas_threads, stack
from bridge.model.stream_numpy import NumpyStep
from bridge.vocab import VOCAB_SIZE


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("n_layer, conv_kernel", [(1, 0), (2, 0), (3, 0), (2, 3), (1, 2)])
def test_numpy_and_torch_steps_agree(n_layer, conv_kernel, compiled):
    if compiled and not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)
    torch.manual_seed(n_layer)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=48, n_layer=n_layer,
                                      conv_kernel=conv_kernel)).eval()
    fast, slow = Streamer(model, fast=True), Streamer(model, fast=False)
    fast.numpy = NumpyStep(fast, compiled=compiled, int16=False)   # weights as trained
    assert fast.fast and not slow.fast
    a, b = fast.start(3), slow.start(3)
    for t in torch.randint(3, VOCAB_SIZE, (40,)).tolist():
        fast.feed(a, [t])
        slow.feed(b, torch.tensor([t]))
        assert torch.allclose(a.logits, b.logits, atol=1e-5)
    assert torch.allclose(a.h, b.h, atol=1e-6) and torch.allclose(a.c, b.c, atol=1e-5)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("conv_kernel, recall", [(0, 0), (3, 0), (3, 64)])
def test_the_16_bit_step_keeps_the_next_token_odds(conv_kernel, recall, compiled):
    """The daemon's step (weights in 16 bits) against the torch step (float32), over a
    history long enough for the state's rounding to build up: the odds of the next token
    within 1e-4."""
    if compiled and not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)
    torch.manual_seed(conv_kernel + recall)
    model = Generator(GeneratorConfig(n_embd=64, n_hidden=96, conv_kernel=conv_kernel,
                                      recall_window=recall, recall_heads=2 if recall else 0,
                                      recall_match=bool(recall))).eval()
    fast, slow = Streamer(model, fast=True), Streamer(model, fast=False)
    fast.numpy = NumpyStep(fast, compiled=compiled)
    a, b = fast.start(1), slow.start(1)
    worst = 0.0
    for t in torch.randint(3, VOCAB_SIZE, (300,)).tolist():
        fast.feed(a, [t])
        slow.feed(b, torch.tensor([t]))
        odds = [s.logits.double().softmax(-1) for s in (a, b)]
        worst = max(worst, float((odds[0] - odds[1]).abs().max()))
    assert 0 < worst < 1e-4          # rounded (not the float32 weights), and not by much


def test_a_session_steps_alike_alone_and_in_a_batch_of_any_size():
    """A few rows step by the 16-bit loop, more by BLAS on the same weights widened: a
    session gets the same odds either way, and the live step compiles nothing new."""
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)
    torch.manual_seed(4)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=48, conv_kernel=3,
                                      recall_window=32, recall_heads=2,
                                      recall_match=True)).eval()
    streamer = Streamer(model, fast=True)
    rows = [streamer.start(i % 3) for i in range(SMALL + 2)]
    batches = {n: stack(rows[:n]) for n in (SMALL, SMALL + 2)}
    for tokens in torch.randint(3, VOCAB_SIZE, (30, SMALL + 2)).tolist():
        for i, row in enumerate(rows):
            streamer.feed(row, [tokens[i]])
        for n, batch in batches.items():
            streamer.feed(batch, tokens[:n])
            for i in range(n):
                assert torch.allclose(batch.row(i).logits, rows[i].logits, atol=1e-5)
    assert len(kernels.matmul16.signatures) == 1


def test_numpy_step_batches_and_takes_any_token_form():
    torch.manual_seed(0)
    model = Generator(GeneratorConfig(n_embd=16, n_hidden=32)).eval()
    fast, slow = Streamer(model, fast=True), Streamer(model, fast=False)
    rows = [fast.start(s) for s in (0, 2, 5)]
    batch, reference = stack(rows), stack(rows)
    seqs = torch.randint(3, VOCAB_SIZE, (3, 10))
    for step in range(10):
        tokens = seqs[:, step]
        form = (tokens, tokens.tolist(), tokens.numpy())[step % 3]
        fast.feed(batch, form)
        slow.feed(reference, tokens)
    assert torch.allclose(batch.logits, reference.logits, atol=1e-5)
    for i, state in enumerate(rows):      # stacking copied: the rows did not move
        assert not torch.equal(batch.row(i).h, state.h)


def test_fast_path_only_where_it_applies():
    attn = Generator(GeneratorConfig(n_embd=16, n_hidden=16, attn_window=4)).eval()
    assert not Streamer(attn, fast=True).fast and not Streamer(attn).fast
    for extra in ({}, {"conv_kernel": 3}):
        model = Generator(GeneratorConfig(n_embd=16, n_hidden=16, **extra)).eval()
        assert Streamer(model).fast == blas_threads(torch.get_num_threads())
    assert isinstance(blas_threads(torch.get_num_threads()), bool)


def test_a_sampled_generation_is_the_same_on_both_paths():
    import random

    from bridge.model.sampling import Constraints, sample
    from bridge.music.tokenize import Decoder
    from bridge.vocab import Cursor, Meter

    torch.manual_seed(3)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=32)).eval()
    runs = []
    for fast in (True, False):
        streamer = Streamer(model, fast=fast)
        state, cursor, rng = streamer.start(1), Cursor(Meter()), random.Random(9)
        for t in cursor.time_tokens(0):
            streamer.feed(state, [t])
        decoder, tokens = Decoder(cursor), []
        for _ in range(200):
            logits = state.logits.numpy()[0]
            token = sample(logits, cursor.allowed() & Constraints().mask(), 1.0, 0.95, rng)
            decoder.feed(token)
            streamer.feed(state, [token])
            tokens.append(token)
        runs.append(tokens)
    assert runs[0] == runs[1]
    assert np.unique(runs[0]).size > 5


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("match", [False, True])
@pytest.mark.parametrize("window", [6, 64])
def test_recall_steps_agree_across_paths_and_uneven_batches(window, match, compiled):
    """Sessions with histories of different lengths (rings filled or not, wrapped or not)
    batched together: numpy (compiled kernels or plain, weights as trained) and torch give
    each what it gets alone."""
    if compiled and not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)
    torch.manual_seed(2)
    model = Generator(GeneratorConfig(n_embd=16, n_hidden=24, conv_kernel=3,
                                      recall_window=window, recall_heads=3,
                                      recall_dim=4, recall_match=match)).eval()
    fast, slow = Streamer(model, fast=True), Streamer(model, fast=False)
    fast.numpy = NumpyStep(fast, compiled=compiled, int16=False)
    assert fast.fast
    phrase = torch.randint(3, VOCAB_SIZE, (5,)).tolist()     # repeats: exact runs to find
    histories = [[], phrase[:3], (phrase * 3)[:11]]
    rows_fast, rows_slow = [], []
    for i, history in enumerate(histories):
        a, b = fast.start(i), slow.start(i)
        for t in history:
            fast.feed(a, [t])
            slow.feed(b, [t])
        rows_fast.append(a)
        rows_slow.append(b)
    batch_fast, batch_slow = stack(rows_fast), stack(rows_slow)
    for step in [[t, t, t] for t in phrase] + torch.randint(3, VOCAB_SIZE, (4, 3)).tolist():
        fast.feed(batch_fast, step)
        slow.feed(batch_slow, step)
        for i, t in enumerate(step):
            fast.feed(rows_fast[i], [t])
        assert torch.allclose(batch_fast.logits, batch_slow.logits, atol=1e-5)
        for i, row in enumerate(rows_fast):
            assert torch.allclose(batch_fast.row(i).logits, row.logits, atol=1e-5)
    probs = batch_fast.logits.exp().sum(1)               # recall's logits: log-probs
    assert torch.allclose(probs, torch.ones_like(probs), atol=1e-4)
