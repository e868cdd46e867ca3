"""A weight matrix of the CPU streaming step, held in 16 bits.

A batch-1 step reads each of its weights once: 4.9 MB of float32 for the shipped generator,
more than a core's L2 cache holds, so the step waits on the shared L3 (or on memory) and its
time moves with whatever else the host runs. Held as int16 with one scale per column, the
same weights are half the bytes, and a compiled loop that widens them as it goes
(:func:`bridge.model.kernels.matmul16`) does a single row's product in about half the time
numpy's float32 BLAS takes (docs/latency.md, "Weights in 16 bits").

Each weight moves by at most half its column's step (the column's largest weight / 32767 /
2): the shipped generator's next-token probabilities move by under 1e-4 (tested against
float32). A batch of more than ``SMALL`` rows reuses every weight it reads, so it is
bound by arithmetic rather than by reading; it multiplies by the same weights, widened once
to float32 at load, with torch's BLAS (on this project's Intel machine MKL does 4 to 32
rows in 0.6-0.8 of the time numpy's OpenBLAS takes). Both give the same products to float
rounding, so a session steps alike alone or batched with others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bridge.model import kernels

SMALL = 2            # up to this many rows: the int16 loop; more: BLAS on the widened weights
LEVELS = 32767       # int16 steps from 0 to a column's largest weight


@dataclass(frozen=True, eq=False)
class Matrix:
    """``[x1 x2] @ W`` for the step: ``W`` [K1 + K2, N] as int16 ``q`` times a per-column
    ``scale``, and ``w``, the same weights in float32 (exactly ``q * scale``; ``q`` None:
    ``w`` is the float32 matrix as trained, for the exact step the tests compare)."""

    w: np.ndarray                        # [K, N] float32
    q: np.ndarray | None = None          # [K, N] int16
    scale: np.ndarray | None = None      # [N] float32

    @classmethod
    def of(cls, w: np.ndarray, int16: bool = True) -> Matrix:
        w = np.ascontiguousarray(w, dtype=np.float32)
        if not int16:
            return cls(w)
        top = np.abs(w).max(axis=0)
        scale = np.where(top > 0, top / LEVELS, 1.0).astype(np.float32)
        q = np.ascontiguousarray(np.rint(w / scale), dtype=np.int16)
        return cls(q.astype(np.float32) * scale, q, scale)

    @property
    def shape(self) -> tuple[int, int]:
        return self.w.shape

    def matmul(self, x1: np.ndarray, x2: np.ndarray | None, out: np.ndarray,
               compiled: bool) -> np.ndarray:
        """``out`` [B, N] <- ``[x1 x2] @ W`` (``x1`` [B, K1], ``x2`` [B, K - K1] or None)."""
        if self.q is not None and compiled and len(x1) <= SMALL:
            kernels.matmul16(x1, x1[:, :0] if x2 is None else x2, self.q, self.scale, out)
            return out
        k1 = x1.shape[1]
        w, y = torch.from_numpy(self.w), torch.from_numpy(out)
        torch.mm(torch.from_numpy(x1), w[:k1], out=y)
        if x2 is not None:
            y.addmm_(torch.from_numpy(x2), w[k1:])
        return out
