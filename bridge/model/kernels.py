"""The elementwise parts of a CPU streaming step (:mod:`bridge.model.stream_numpy`, recall's
included: its loops are in :mod:`bridge.model.recall_loops`) and the sampling draw as fused
kernels: compiled by numba, one call instead of ~10 numpy calls of 1-3 µs each; the same
functions in plain numpy as the fallback. The matrix products of a large batch stay with a
BLAS; up to a few rows multiply in 16-bit integers (:mod:`bridge.model.matrix`) in a
compiled loop.

Compiling takes seconds the first time (numba caches the result beside this file), so
:func:`prepare` does it on a background thread and the plain numpy versions run until
:func:`ready` says the compiled ones are there.

Gate columns are (i, f, o, g) with the sigmoid gates' pre-activations halved, so
sigmoid(z) = (1 + tanh(z')) / 2 with z' = z / 2 (see ``stream_numpy``).
"""

from __future__ import annotations

import logging
import math
import threading

import numpy as np
import torch
import torch.nn.functional as F

try:
    import numba
except ImportError:   # pragma: no cover - numba is a dependency; this is the fallback
    numba = None

from bridge.model.approx import tanh_inline as _tanh
from bridge.model.recall_loops import (
    recall_keep_loops,
    recall_mix_loops,
    recall_scores_loops,
    remember_loops,
)

log = logging.getLogger(__name__)

SQRT_HALF = 0.7071067811865476


def cell_numpy(a: np.ndarray, b: np.ndarray, bias: np.ndarray, rows: np.ndarray,
               c: np.ndarray, h: np.ndarray) -> None:
    """``c``, ``h`` [B, H] <- one LSTM cell step on the gates ``a + b + bias[rows]`` [B, 4H]."""
    H = c.shape[1]
    z = a + b
    z += bias[rows]
    np.tanh(z, out=z)
    sig = z[:, :3 * H]
    sig += 1.0
    sig *= 0.5
    c *= z[:, H:2 * H]
    c += z[:, :H] * z[:, 3 * H:]
    np.tanh(c, out=h)
    h *= z[:, 2 * H:3 * H]


def cell_loops(a, b, bias, rows, c, h):
    n_rows, H = c.shape
    for r in range(n_rows):
        q = rows[r]
        for n in range(H):
            i = 0.5 + 0.5 * _tanh(a[r, n] + b[r, n] + bias[q, n])
            f = 0.5 + 0.5 * _tanh(a[r, H + n] + b[r, H + n] + bias[q, H + n])
            o = 0.5 + 0.5 * _tanh(a[r, 2 * H + n] + b[r, 2 * H + n] + bias[q, 2 * H + n])
            g = _tanh(a[r, 3 * H + n] + b[r, 3 * H + n] + bias[q, 3 * H + n])
            cn = f * c[r, n] + i * g
            c[r, n] = cn
            h[r, n] = o * _tanh(cn)


def conv_numpy(owed: np.ndarray, tap0: np.ndarray, taps: np.ndarray, emb: np.ndarray,
               tokens: np.ndarray, x: np.ndarray) -> None:
    """The conv block's step: ``x`` [B, E] <- emb + GELU(owed's first block + tap0), and
    ``owed`` [B, (k-1)E] moves one step on and takes this token's share."""
    E = tap0.shape[1]
    y = owed[:, :E] + tap0[tokens]                                       # [B, E]
    share = taps[tokens]                                                 # [B, (k-1)E]
    np.add(owed[:, E:], share[:, :-E], out=owed[:, :-E])
    owed[:, -E:] = share[:, -E:]
    x[:] = F.gelu(torch.from_numpy(y)).numpy()           # exact GELU: numpy has no erf
    x += emb[tokens]


def conv_loops(owed, tap0, taps, emb, tokens, x):
    n_rows, width = owed.shape
    E = tap0.shape[1]
    for r in range(n_rows):
        t = tokens[r]
        for e in range(E):
            y = owed[r, e] + tap0[t, e]
            x[r, e] = emb[t, e] + 0.5 * y * (1.0 + math.erf(y * SQRT_HALF))
        for j in range(width - E):                   # reads ahead of what it writes
            owed[r, j] = owed[r, j + E] + taps[t, j]
        for j in range(width - E, width):
            owed[r, j] = taps[t, j]


def pick_numpy(logits: np.ndarray, mask: np.ndarray, temperature: float, top_p: float,
               u: float) -> int:
    """The token at uniform draw ``u`` in ``softmax(logits / temperature)`` over ``mask``,
    cut to the smallest set with probability mass >= ``top_p``. The draw walks the set in
    token order: two tokens nearly as likely (logits a rounding apart, as two machines or
    two kernels compute them) would swap places in an order by probability, and a seed
    would then draw another token."""
    allowed = np.flatnonzero(mask)
    z = logits[allowed].astype(np.float64) / max(temperature, 1e-3)
    p = np.exp(z - z.max())
    order = np.argsort(-p, kind="mergesort")               # stable: ties keep token order
    cum = np.cumsum(p[order])
    keep = int(np.searchsorted(cum / cum[-1], top_p)) + 1
    kept = np.sort(order[:keep])
    cum = np.cumsum(p[kept])
    return int(allowed[kept[min(int(np.searchsorted(cum, u * cum[-1], side="right")),
                                keep - 1)]])


def matmul16_loops(x1, x2, qt, scale, limit, out):
    """``out`` [B, N] <- ``[x1 x2] @ (qt.T * scale)`` in integers: each of ``x1``'s and
    ``x2``'s rows rounded to whole steps of its largest value / ``limit`` (``round_row``),
    times ``qt`` int16 [N, K1 + K2], summed in int32 (``limit`` keeps every sum in range:
    see ``bridge.model.matrix``), then scaled back. The sum over ``k`` is the loop the
    compiler turns into multiply-add pairs of 16-bit numbers (x86's pmaddwd)."""
    n_rows, k1 = x1.shape
    k2 = x2.shape[1]
    N = qt.shape[0]
    xq = np.empty((n_rows, k1 + k2), np.int16)
    steps = np.empty((n_rows, 2), np.float32)
    for r in range(n_rows):
        steps[r, 0] = _round_row(x1[r], limit, xq[r, :k1])
        steps[r, 1] = _round_row(x2[r], limit, xq[r, k1:])
    for j in range(N):
        for r in range(n_rows):
            a1 = np.int32(0)
            for k in range(k1):
                a1 = np.int32(a1 + np.int32(xq[r, k]) * np.int32(qt[j, k]))
            a2 = np.int32(0)
            for k in range(k2):          # (from 0: a loop from k1 is not vectorised)
                a2 = np.int32(a2 + np.int32(xq[r, k1 + k]) * np.int32(qt[j, k1 + k]))
            out[r, j] = (np.float32(a1) * steps[r, 0] + np.float32(a2) * steps[r, 1]) * scale[j]


def row_step(x, limit):
    """The step an input row [K] float32 is rounded to: its largest |value| / ``limit``
    (1 for a row of zeros); float32 throughout, as numpy's
    :func:`bridge.model.matrix.round_rows` computes it."""
    top = np.float32(0.0)
    for k in range(len(x)):
        top = max(top, abs(x[k]))
    return top / np.float32(limit) if top > 0 else np.float32(1.0)


def round_row(x, limit, q):
    """``q`` int16 <- ``x`` [K] in whole steps (``row_step``); returns the step."""
    step = _row_step(x, limit)
    for k in range(len(x)):
        q[k] = np.int16(np.rint(x[k] / step))
    return step


def round_rows_loops(x, limit, out):
    """``out`` [B, K] <- ``x`` with each row in whole steps (``row_step``), as float32: the
    input a batch multiplies with BLAS."""
    for r in range(x.shape[0]):
        step = _row_step(x[r], limit)
        for k in range(x.shape[1]):
            out[r, k] = np.rint(x[r, k] / step) * step


if numba is not None:
    COMPILED = True
    cell = numba.njit(cache=True, nogil=True, fastmath=True)(cell_loops)
    conv = numba.njit(cache=True, nogil=True)(conv_loops)
    pick = numba.njit(cache=True, nogil=True)(pick_numpy)
    remember = numba.njit(cache=True, nogil=True)(remember_loops)
    recall_mix = numba.njit(cache=True, nogil=True,        # (-inf stays meaningful)
                            fastmath={"reassoc", "contract"})(recall_mix_loops)
    _row_step = numba.njit(inline="always")(row_step)
    _round_row = numba.njit(inline="always")(round_row)
    round_rows = numba.njit(cache=True, nogil=True)(round_rows_loops)
    matmul16 = numba.njit(cache=True, nogil=True)(matmul16_loops)
    recall_scores = numba.njit(cache=True, nogil=True, fastmath=True)(recall_scores_loops)
    recall_keep = numba.njit(cache=True, nogil=True)(recall_keep_loops)
else:   # pragma: no cover
    COMPILED = False

_ready = threading.Event()
_lock = threading.Lock()


def ready() -> bool:
    """Are the compiled kernels there (else the plain numpy versions run)?"""
    return _ready.is_set()


def prepare(background: bool = True) -> None:
    """Compile the kernels, or load them from numba's cache, for the types a step uses."""
    if not COMPILED or _ready.is_set():
        return
    if background:
        threading.Thread(target=prepare, args=(False,), name="continuo-jit",
                         daemon=True).start()
        return
    with _lock:
        if _ready.is_set():
            return
        f32, i64 = np.float32, np.int64
        try:
            cell(*(np.zeros((1, 4), f32) for _ in range(3)), np.zeros(1, i64),
                 np.zeros((1, 1), f32), np.zeros((1, 1), f32))
            conv(np.zeros((1, 2), f32), np.zeros((1, 1), f32), np.zeros((1, 2), f32),
                 np.zeros((1, 1), f32), np.zeros(1, i64), np.zeros((1, 1), f32))
            pick(np.zeros(2, f32), np.ones(2, bool), 1.0, 1.0, 0.5)
            remember(np.zeros((1, 2), i64), np.zeros(1, i64), np.zeros((1, 2), i64),
                     np.zeros(1, i64))
            recall_mix(np.zeros((1, 1, 2), f32), np.zeros((1, 2), i64), np.zeros((1, 2), i64),
                       0.5, 64, 1e-30, np.zeros((1, 3), f32), np.zeros((2, 3), f32),
                       np.zeros((1, 2), f32), np.zeros((2, 2)))
            matmul16(np.zeros((1, 1), f32), np.zeros((1, 1), f32),
                     np.zeros((2, 2), np.int16), np.ones(2, f32), 1, np.zeros((1, 2), f32))
            round_rows(np.zeros((1, 2), f32), 1, np.zeros((1, 2), f32))
            keys, qk = np.zeros((1, 1, 2, 1), f32), np.zeros((1, 2), f32)
            recall_scores(keys, qk, np.ones(1, i64), 1.0, np.zeros((1, 1, 1), f32))
            recall_keep(keys, qk, np.ones(1, i64))
        except Exception:
            log.warning("numba could not compile the step kernels; plain numpy runs",
                        exc_info=True)
            return
        _ready.set()
