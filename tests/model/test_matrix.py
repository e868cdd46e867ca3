"""The step's 16-bit products: how far weights and inputs round, that no sum overflows,
and one product whichever way it runs."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.model import kernels
from bridge.model.matrix import INT32_MAX, SMALL, Matrix, round_rows


def weights(rows: int = 40, cols: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((rows, cols)).astype(np.float32) * 0.1
    w[:, 3] = 0.0                                   # a column of zeros keeps its zeros
    w[5, 7] = 4.0                                   # an outlier only costs its own column
    return w


def compiled_kernels() -> None:
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.prepare(background=False)


def test_each_weight_rounds_by_at_most_half_its_columns_step():
    w = weights()
    m = Matrix.of(w)
    assert m.q.dtype == np.int16 and m.w.dtype == np.float32 and m.q.shape == w.shape[::-1]
    assert np.all(np.abs(m.w - w) <= m.scale / 2 + 1e-9)
    assert np.all(m.scale <= np.abs(w).max(axis=0) / 1000 + (np.abs(w).max(axis=0) == 0))
    assert np.all(m.w[:, 3] == 0) and m.w[5, 7] == pytest.approx(4.0)
    assert np.array_equal(m.w, m.q.T.astype(np.float32) * m.scale)   # the widened weights
    exact = Matrix.of(w, int16=False)
    assert exact.q is None and np.array_equal(exact.w, w)


def test_an_input_row_rounds_to_whole_steps_of_its_largest_value():
    x = np.array([[0.5, -2.0, 1e-3, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    y = round_rows(x, 1000)
    step = 2.0 / 1000
    assert np.all(np.abs(y[0] - x[0]) <= step / 2 + 1e-7)
    assert y[0, 1] == -2.0 and np.all(y[1] == 0)
    assert np.allclose(y[0] / np.float32(step), np.rint(y[0] / np.float32(step)), atol=1e-3)


@pytest.mark.parametrize("k", [8, 1024, 4096])
def test_no_input_carries_a_sum_out_of_int32(k):
    """Every weight as large as its column's largest, the input's signs matching them: the
    largest sum the limit allows, which must come out whole (a wrapped int32 sum would
    change sign)."""
    compiled_kernels()
    rng = np.random.default_rng(k)
    w = np.where(rng.random((k, 6)) < 0.5, -1.0, 1.0).astype(np.float32) * 0.02
    m = Matrix.of(w)
    assert m.limit * int(np.abs(m.q.astype(np.int64)).sum(axis=1).max()) <= INT32_MAX
    x = np.sign(w[:, :1].T).astype(np.float32) * 3.0                 # [1, K] against column 0
    out = m.matmul(x, None, np.empty((1, 6), np.float32), compiled=True)
    expected = float(np.abs(w[:, 0]).sum()) * 3.0
    assert out[0, 0] == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("rows", [1, SMALL, SMALL + 2])
@pytest.mark.parametrize("split", [None, 16])
def test_the_compiled_loop_and_blas_give_one_product(rows, split):
    compiled_kernels()
    w = weights()
    m = Matrix.of(w)
    x = np.random.default_rng(1).standard_normal((rows, 40)).astype(np.float32)
    x[:, 20:] *= 0.01                               # a quiet second part keeps its own step
    x1, x2 = (x, None) if split is None else (x[:, :split].copy(), x[:, split:].copy())
    out = {}
    for compiled in (True, False):
        out[compiled] = m.matmul(x1, x2, np.empty((rows, 24), np.float32), compiled)
    np.testing.assert_allclose(out[True], out[False], rtol=1e-5, atol=1e-6)
    parts = [x1] if x2 is None else [x1, x2]
    rounded = np.concatenate([round_rows(p, m.limit) for p in parts], axis=1)
    np.testing.assert_allclose(out[True], rounded @ m.w, rtol=1e-5, atol=1e-6)
    # near the float32 product: each weight and each input moved by half its step at most
    steps = np.concatenate([np.repeat(np.abs(p).max(axis=1, keepdims=True) / m.limit,
                                      p.shape[1], axis=1) for p in parts], axis=1)
    bound = (steps / 2) @ np.abs(m.w) + np.abs(x) @ np.abs(m.w - w) + 1e-6
    assert np.all(np.abs(out[True] - x @ w) <= bound)


def test_the_compiled_rounding_and_numpys_agree_to_the_bit():
    """A batch multiplied by BLAS rounds its inputs as the integer loop does (a session
    steps alike alone or in a batch)."""
    compiled_kernels()
    rng = np.random.default_rng(2)
    for _ in range(50):
        x = (rng.standard_normal((3, 64)) * 10 ** rng.uniform(-3, 2)).astype(np.float32)
        x[1] = 0.0
        limit = int(rng.integers(100, 32768))
        out = np.empty_like(x)
        kernels.round_rows(x, limit, out)
        assert np.array_equal(out, round_rows(x, limit))
