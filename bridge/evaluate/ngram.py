"""An interpolated Kneser-Ney n-gram model over event tokens: the generator's baseline.

Every n-gram is packed into one int64 key (base ``VOCAB_SIZE``, most recent token last), so
counting is ``np.unique`` and lookup is ``np.searchsorted``, over tens of millions of
tokens in seconds. Sequences are scored exactly as the generator scores them: each window
is preceded by BOS, and every token after it is predicted.

    P_k(w | h) = max(c_k(h w) - D, 0) / c_k(h) + D * N1+(h •) / c_k(h) * P_{k-1}(w | h')

with raw counts at the highest order and continuation counts N1+(• h w) below it; a
context never seen falls through to the lower order; order 0 is uniform.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bridge.vocab import BOS, VOCAB_SIZE

V = VOCAB_SIZE


@dataclass
class _Order:
    keys: np.ndarray       # sorted unique n-gram keys
    counts: np.ndarray     # their (raw or continuation) counts
    ctx_keys: np.ndarray   # sorted unique context keys
    ctx_total: np.ndarray  # sum of counts per context
    ctx_types: np.ndarray  # distinct continuations per context


def _grams(seqs: list[np.ndarray], k: int, pad: int) -> np.ndarray:
    """Keys of every k-gram ending at a real token, over BOS-padded sequences."""
    out = []
    for s in seqs:
        x = np.concatenate([np.full(pad, BOS, dtype=np.int64), s.astype(np.int64)])
        n = len(x) - pad
        key = np.zeros(n, dtype=np.int64)
        for j in range(k):           # token at offset pad - k + 1 + j .. , last = predicted
            key = key * V + x[pad - k + 1 + j: pad - k + 1 + j + n]
        out.append(key)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _order(keys: np.ndarray, counts: np.ndarray) -> _Order:
    ctx = keys // V
    ctx_keys, inv = np.unique(ctx, return_inverse=True)
    return _Order(keys, counts, ctx_keys,
                  np.bincount(inv, weights=counts).astype(np.float64),
                  np.bincount(inv).astype(np.float64))


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    i = np.searchsorted(sorted_keys, query)
    i = np.minimum(i, len(sorted_keys) - 1)
    hit = sorted_keys[i] == query if len(sorted_keys) else np.zeros(len(query), bool)
    return np.where(hit, values[i] if len(values) else 0.0, 0.0)


class NGram:
    def __init__(self, order: int = 5, discount: float = 0.75) -> None:
        if not 1 <= order <= 7:   # 402**7 < 2**63
            raise ValueError("order must be 1..7")
        self.order, self.discount = order, discount
        self.orders: list[_Order] = []

    def fit(self, seqs: Iterable[np.ndarray]) -> NGram:
        seqs = [np.asarray(s) for s in seqs]
        pad = self.order - 1
        top_keys, top_counts = np.unique(_grams(seqs, self.order, pad), return_counts=True)
        levels = [(top_keys, top_counts.astype(np.float64))]
        higher = top_keys
        for k in range(self.order - 1, 0, -1):
            # continuation count of a k-gram: distinct tokens seen before it. With BOS padding
            # every k-gram is the suffix of some (k+1)-gram, so every one gets a count.
            keys, counts = np.unique(higher % V ** k, return_counts=True)
            levels.append((keys, counts.astype(np.float64)))
            higher = keys
        self.orders = [_order(k, c) for k, c in reversed(levels)]   # index 0 = unigrams
        return self

    def log_probs(self, seqs: Iterable[np.ndarray]) -> np.ndarray:
        """Natural-log probability of every token of every sequence (BOS-preceded)."""
        seqs = [np.asarray(s) for s in seqs]
        pad, D = self.order - 1, self.discount
        p = np.full(sum(len(s) for s in seqs), 1.0 / V)
        for k, level in enumerate(self.orders, start=1):
            keys = _grams(seqs, k, pad)
            ctx = keys // V
            c = _lookup(level.keys, level.counts, keys)
            total = _lookup(level.ctx_keys, level.ctx_total, ctx)
            types = _lookup(level.ctx_keys, level.ctx_types, ctx)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            mixed = np.maximum(c - D, 0.0) / safe + D * types / safe * p
            p = np.where(seen, mixed, p)
        return np.log(p)

    def bits(self, seqs: Iterable[np.ndarray]) -> tuple[float, int]:
        """(total bits, tokens) over ``seqs``."""
        lp = self.log_probs(seqs)
        return float(-lp.sum() / np.log(2)), int(lp.size)
