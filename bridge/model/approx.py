"""Polynomial stand-ins for tanh and exp that the compiled step kernels inline
(:mod:`bridge.model.kernels`, :mod:`bridge.model.recall_loops`): no library call, so the
loops that use them vectorise. Each is tested against numpy's within its bound.
"""

from __future__ import annotations

try:
    import numba
except ImportError:   # pragma: no cover - numba is a dependency; this is the fallback
    numba = None


# tanh as a rational function (the float32 approximation of Eigen's ptanh): no library
# call, so the cell loop vectorises; at most 3.6e-7 from the true tanh (tested)
TANH_P = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
          5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
          -2.76076847742355e-16)
TANH_Q = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
          1.19825839466702e-06)
TANH_CLAMP = 7.99881172180175781


def horner(coeffs, x):
    """``coeffs[0] + coeffs[1] x + coeffs[2] x^2 + ...`` by Horner's rule."""
    p = coeffs[len(coeffs) - 1]
    for i in range(len(coeffs) - 2, -1, -1):
        p = p * x + coeffs[i]
    return p


def tanh_rational(x):
    x = min(max(x, -TANH_CLAMP), TANH_CLAMP)
    x2 = x * x
    return x * _horner(TANH_P, x2) / _horner(TANH_Q, x2)


# exp(x), x <= 0, as a polynomial on x / 256 squared 8 times: no library call, so a loop of
# it vectorises (recall's softmaxes: 4 heads x 1024 slots a row); within 2.2e-7 of exp down
# to -100 (tested), and 0 below, where exp is under 4e-44 of the largest term it is summed
# with
EXP_SQUARINGS = 8
EXP_FLOOR = -100.0
EXP_P = (1.0, 1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320)


def exp_poly(x):
    p = _horner(EXP_P, max(x, EXP_FLOOR) * (1.0 / (1 << EXP_SQUARINGS)))
    for _ in range(EXP_SQUARINGS):
        p = p * p
    return p if x > EXP_FLOOR else 0.0


if numba is not None:
    _horner = numba.njit(inline="always")(horner)
    tanh_inline = numba.njit(inline="always")(tanh_rational)
    exp_inline = numba.njit(inline="always")(exp_poly)
else:   # pragma: no cover
    _horner, tanh_inline, exp_inline = horner, tanh_rational, exp_poly
