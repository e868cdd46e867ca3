"""The polynomial stand-ins for tanh and exp stay within their bounds."""

import numpy as np

from bridge.model import approx


def test_rational_tanh_is_within_its_bound():
    x = np.linspace(-20, 20, 400_001)
    got = np.array([approx.tanh_rational(v) for v in x[::97]])
    assert np.abs(got - np.tanh(x[::97])).max() < 3.6e-7


def test_polynomial_exp_is_within_its_bound_and_zero_below_its_floor():
    x = np.linspace(approx.EXP_FLOOR, 0, 100_001)[1:]
    got = np.array([approx.exp_poly(v) for v in x[::37]])
    assert np.abs(got / np.exp(x[::37]) - 1).max() < 2.2e-7
    assert approx.exp_poly(0.0) == 1.0
    assert approx.exp_poly(-np.inf) == 0.0 and approx.exp_poly(-101.0) == 0.0
