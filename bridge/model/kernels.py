"""The elementwise parts of a CPU streaming step (:mod:`bridge.model.stream_numpy`, recall's
included) and the sampling draw as fused kernels: compiled by numba, one call instead of
~10 numpy calls of 1-3 µs each; the same functions in plain numpy as the fallback. The
matrix products of a large batch stay with a BLAS; up to a few rows multiply in 16-bit
integers (:mod:`bridge.model.matrix`) in a compiled loop.

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


def remember_loops(ring_tokens, count, runs, tokens):
    """Recall's ring takes the event fed (see ``bridge.model.recall.RecallStep.remember``):
    each slot's run from the slot before it where the events agree, then the event into the
    next slot. ``runs`` is empty ([B, 0]) without the exact head."""
    n_rows, R = ring_tokens.shape
    for r in range(n_rows):
        t = tokens[r]
        slot = count[r] % R
        if runs.shape[1]:
            before = runs[r, R - 1]
            for j in range(R):
                here = runs[r, j]
                runs[r, j] = before + 1 if ring_tokens[r, j] == t else 0
                before = here
            runs[r, slot] = 0
        ring_tokens[r, slot] = t
        count[r] += 1


def recall_scores_loops(keys, qk, count, scale, scores):
    """Recall's heads' ``scores`` [B, K, n] of the ``n`` slots of ``keys`` [B, K, R, D] that
    the fullest row has filled: each key times its head's query (the first K * D columns of
    ``qk`` [B, 2KD]) times ``scale``; -inf on a slot a row has not filled."""
    n_rows, K, R, D = keys.shape
    n = scores.shape[2]
    for r in range(n_rows):
        filled = min(count[r], R)
        for k in range(K):
            for j in range(n):
                if j >= filled:
                    scores[r, k, j] = -np.inf
                    continue
                acc = np.float32(0.0)
                for d in range(D):
                    acc += keys[r, k, j, d] * qk[r, k * D + d]
                scores[r, k, j] = acc * scale


def recall_keep_loops(keys, qk, count):
    """The key of this moment (the last K * D columns of ``qk``) into each row's slot of
    the event to come (``count`` % R)."""
    n_rows, K, R, D = keys.shape
    for r in range(n_rows):
        slot = count[r] % R
        for k in range(K):
            for d in range(D):
                keys[r, k, slot, d] = qk[r, (K + k) * D + d]


def recall_mix_loops(scores, ring_tokens, runs, beta, cap, floor, gate, sharp, logits,
                     proposed):
    """Recall's mix for each row (see ``RecallStep.mix``): the heads' ``scores`` [B, K, n]
    (-inf where no event; overwritten) to weights and proposals, the exact head's from ``runs``, the
    gate from its pre-activation ``gate`` [B, P+1] and the match features through
    ``sharp`` [P, P+1], and ``logits`` [B, V] <- the log of the mixture. ``proposed``
    [P, V] is scratch."""
    n_rows, K, n = scores.shape
    R = ring_tokens.shape[1]
    P = proposed.shape[0]
    V = logits.shape[1]
    feats = np.zeros(P)
    g = np.zeros(P + 1)
    for r in range(n_rows):
        proposed[:, :] = 0.0
        for k in range(K):
            top = -np.inf
            for j in range(n):
                top = max(top, scores[r, k, j])
            total = 0.0
            for j in range(n):
                scores[r, k, j] = _exp(scores[r, k, j] - top)
                total += scores[r, k, j]
            best = 0.0
            for j in range(n):
                w = scores[r, k, j] / total
                best = max(best, w)
                proposed[k, ring_tokens[r, j]] += w
            feats[k] = best
        longest = 0
        if P > K:
            top = -np.inf
            for j in range(R):
                if runs[r, j] > 0:
                    longest = max(longest, runs[r, j])
                    top = max(top, beta * min(runs[r, j], cap))
            if longest > 0:
                total = 0.0
                for j in range(R):
                    if runs[r, j] > 0:
                        total += math.exp(beta * min(runs[r, j], cap) - top)
                for j in range(R):
                    if runs[r, j] > 0:
                        w = math.exp(beta * min(runs[r, j], cap) - top) / total
                        proposed[K, ring_tokens[r, (j + 1) % R]] += w
            feats[K] = math.log1p(min(longest, cap)) / math.log1p(cap)
        top = -np.inf
        for i in range(P + 1):
            g[i] = gate[r, i]
            for k in range(P):
                g[i] += feats[k] * sharp[k, i]
            if P > K and i == P and longest == 0:
                g[i] = -np.inf
            top = max(top, g[i])
        total = 0.0
        for i in range(P + 1):
            g[i] = math.exp(g[i] - top)
            total += g[i]
        top = -np.inf
        for v in range(V):
            top = max(top, logits[r, v])
        own = 0.0
        for v in range(V):
            own += _exp(logits[r, v] - top)
        for v in range(V):
            p = g[0] * _exp(logits[r, v] - top) / own
            for k in range(P):
                p += g[1 + k] * max(proposed[k, v], floor)
            logits[r, v] = math.log(p / total)


if numba is not None:
    COMPILED = True
    _horner = numba.njit(inline="always")(horner)
    _tanh = numba.njit(inline="always")(tanh_rational)
    _exp = numba.njit(inline="always")(exp_poly)
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
    _horner = horner

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
