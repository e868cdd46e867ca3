"""The step's 16-bit weights: how far they round, and one product whichever way it runs."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.model import kernels
from bridge.model.matrix import LEVELS, SMALL, Matrix


def weights(rows: int = 40, cols: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((rows, cols)).astype(np.float32) * 0.1
    w[:, 3] = 0.0                                   # a column of zeros keeps its zeros
    w[5, 7] = 4.0                                   # an outlier only costs its own column
    return w


def test_each_weight_rounds_by_at_most_half_its_columns_step():
    w = weights()
    m = Matrix.of(w)
    step = np.abs(w).max(axis=0) / LEVELS
    assert m.q.dtype == np.int16 and m.w.dtype == np.float32
    assert np.all(np.abs(m.w - w) <= step / 2 + 1e-9)
    assert np.all(m.w[:, 3] == 0) and m.w[5, 7] == pytest.approx(4.0)
    assert np.array_equal(m.w, m.q.astype(np.float32) * m.scale)   # the widened weights
    exact = Matrix.of(w, int16=False)
    assert exact.q is None and np.array_equal(exact.w, w)


@pytest.mark.parametrize("rows", [1, SMALL, SMALL + 2])
@pytest.mark.parametrize("split", [None, 16])
def test_the_compiled_loop_and_blas_give_one_product(rows, split):
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)
    w = weights()
    m = Matrix.of(w)
    x = np.random.default_rng(1).standard_normal((rows, 40)).astype(np.float32)
    x1, x2 = (x, None) if split is None else (x[:, :split].copy(), x[:, split:].copy())
    out = {}
    for compiled in (True, False):
        out[compiled] = m.matmul(x1, x2, np.empty((rows, 24), np.float32), compiled)
    np.testing.assert_allclose(out[True], out[False], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[True], x @ m.w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[True], x @ w, atol=1e-3)         # near the float32 one
