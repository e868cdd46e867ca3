"""The compiled step kernels give what their plain-numpy versions give."""

import numpy as np
import pytest

from bridge.model import kernels

compiled = pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")


@compiled
def test_cell_kernel_matches_numpy():
    rng = np.random.default_rng(0)
    B, H = 3, 32
    a, b = (rng.normal(size=(B, 4 * H)).astype(np.float32) * 3 for _ in range(2))
    bias = rng.normal(size=(5, 4 * H)).astype(np.float32)
    rows = np.array([4, 0, 2])
    c1 = rng.normal(size=(B, H)).astype(np.float32)
    c2, h1, h2 = c1.copy(), np.zeros((B, H), np.float32), np.zeros((B, H), np.float32)
    kernels.cell_numpy(a, b, bias, rows, c1, h1)
    kernels.cell(a, b, bias, rows, c2, h2)
    assert np.allclose(c1, c2, atol=2e-6) and np.allclose(h1, h2, atol=2e-6)


@compiled
@pytest.mark.parametrize("k", [2, 3, 5])
def test_conv_kernel_matches_numpy(k):
    rng = np.random.default_rng(k)
    B, E, V = 2, 16, 40
    tap0, emb = (rng.normal(size=(V, E)).astype(np.float32) for _ in range(2))
    taps = rng.normal(size=(V, (k - 1) * E)).astype(np.float32)
    owed1 = rng.normal(size=(B, (k - 1) * E)).astype(np.float32)
    owed2 = owed1.copy()
    x1, x2 = np.empty((B, E), np.float32), np.empty((B, E), np.float32)
    for step in range(6):
        tokens = rng.integers(0, V, B)
        kernels.conv_numpy(owed1, tap0, taps, emb, tokens, x1)
        kernels.conv(owed2, tap0, taps, emb, tokens, x2)
        assert np.allclose(x1, x2, atol=1e-5) and np.allclose(owed1, owed2, atol=1e-5), step


@compiled
def test_pick_kernel_matches_numpy():
    rng = np.random.default_rng(1)
    for trial in range(300):
        logits = (rng.normal(size=50) * 3).astype(np.float32)
        mask = rng.random(50) < 0.5
        mask[trial % 50] = True
        args = (logits, mask, float(rng.uniform(0.2, 1.5)), float(rng.uniform(0.5, 1.0)),
                float(rng.random()))
        assert kernels.pick(*args) == kernels.pick_numpy(*args)


@compiled
def test_prepare_makes_the_kernels_ready():
    kernels.prepare(background=False)
    assert kernels.ready()
