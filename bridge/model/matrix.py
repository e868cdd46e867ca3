"""A weight matrix of the CPU streaming step, multiplied in 16-bit integers.

A batch-1 step reads each of its weights once: 4.9 MB of float32 for the shipped generator,
more than a core's L2 cache holds, so a float32 step waits on the shared L3 and its time moves
with whatever else the host runs. Held as int16 with one scale per column the same weights
are half the bytes; multiplied by an input also rounded to int16 (one step per row: its
largest value / ``limit``), the product is sums of 16-bit pairs in int32, which a CPU does
8 or 16 to an instruction (x86's pmaddwd; :func:`bridge.model.kernels.matmul16`): one LSTM
layer's row product 80 -> 40 µs on our 2-core machine against widening each weight to
float32 (docs/latency.md, "Weights in 16 bits", "Inputs in 16 bits too"; with its matrix kept
in cache, as in a loop of that product alone, numpy's float32 BLAS is as quick).

The int32 sums must not overflow, so a column's weights and an input's steps share 31 bits:
``limit`` is chosen with the weights so that no input can carry a sum out of range, and the
weights are given about as many levels as the input gets steps (3,800-5,400 for the shipped
generator's matrices; a matrix of few rows keeps int16's full range). Each weight moves by at
most half its column's step, each input by half its row's: over 9,085 steps of val music the
shipped generator's next-token probabilities moved by at most 2.2e-3 from float32's (2e-7
nats of KL divergence a step on average; bits per event the same to five digits).

A batch of more than ``SMALL`` rows reuses every weight it reads, and BLAS's float32 products
overtake the integer loop (one LSTM layer's matrix on our 2-core machine: 8 rows 0.38 ms
with BLAS against 0.30 in the loop, 16 rows 0.57-0.60 against 0.60, 32 rows 1.02 against
1.23); it multiplies the same rounded inputs by the same weights, widened once to
float32 at load, with torch's BLAS. Both give the same products to float rounding, so a
session steps alike alone or batched with others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bridge.model import kernels

SMALL = 8                  # up to this many rows: the integer loop; more: BLAS
INT16_MAX = 32767
INT32_MAX = 2 ** 31 - 1


@dataclass(frozen=True, eq=False)
class Matrix:
    """``[x1 x2] @ W`` for the step: ``W`` [K1 + K2, N] as int16 ``q`` [N, K] (each column's
    weights in a row) times a per-column ``scale``; inputs rounded to ``limit`` steps of
    their largest value; ``w``, the same weights in float32 (exactly ``q.T * scale``;
    ``q`` None: ``w`` is the float32 matrix as trained, multiplied as it is, for the exact
    step the tests compare)."""

    w: np.ndarray                        # [K, N] float32
    q: np.ndarray | None = None          # [N, K] int16
    scale: np.ndarray | None = None      # [N] float32
    limit: int = 0                       # an input row's steps from 0 to its largest value

    @classmethod
    def of(cls, w: np.ndarray, int16: bool = True) -> Matrix:
        w = np.ascontiguousarray(w, dtype=np.float32)
        if not int16:
            return cls(w)
        top = np.abs(w).max(axis=0)
        spread = float((np.abs(w).sum(axis=0) / np.where(top > 0, top, np.inf)).max())
        levels = int(min(INT16_MAX, np.sqrt(INT32_MAX / max(spread + 1.0, 1.0))))
        scale = np.where(top > 0, top / levels, 1.0).astype(np.float32)
        q = np.rint(w / scale).astype(np.int16)
        widest = int(np.abs(q.astype(np.int64)).sum(axis=0).max())     # a column's |sum|
        limit = min(INT16_MAX, INT32_MAX // max(widest, 1))
        return cls(q.astype(np.float32) * scale, np.ascontiguousarray(q.T), scale, limit)

    @property
    def shape(self) -> tuple[int, int]:
        return self.w.shape

    def matmul(self, x1: np.ndarray, x2: np.ndarray | None, out: np.ndarray,
               compiled: bool) -> np.ndarray:
        """``out`` [B, N] <- ``[x1 x2] @ W`` (``x1`` [B, K1], ``x2`` [B, K - K1] or None)."""
        if self.q is not None and compiled and len(x1) <= SMALL:
            kernels.matmul16(x1, x1[:, :0] if x2 is None else x2, self.q, self.scale,
                             self.limit, out)
            return out
        k1 = x1.shape[1]
        if self.q is not None:
            x1, x2 = (None if x is None else self._rounded(x, compiled) for x in (x1, x2))
        w, y = torch.from_numpy(self.w), torch.from_numpy(out)
        torch.mm(torch.from_numpy(x1), w[:k1], out=y)
        if x2 is not None:
            y.addmm_(torch.from_numpy(x2), w[k1:])
        return out

    def _rounded(self, x: np.ndarray, compiled: bool) -> np.ndarray:
        if compiled:
            out = np.empty_like(x)
            kernels.round_rows(x, self.limit, out)
            return out
        return round_rows(x, self.limit)


def round_rows(x: np.ndarray, limit: int) -> np.ndarray:
    """``x`` [B, K] float32 with each row in whole steps of its largest |value| / ``limit``,
    as the compiled product rounds it (:func:`bridge.model.kernels.round_row`)."""
    top = np.abs(x).max(axis=1, initial=np.float32(0.0))
    step = np.where(top > 0, top / np.float32(limit), np.float32(1.0)).astype(np.float32)
    return np.rint(x / step[:, None]) * step[:, None]
