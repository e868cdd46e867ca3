"""Recall's step (:mod:`bridge.model.recall`, streamed by :mod:`bridge.model.stream_numpy`)
as loops for numba to compile (:mod:`bridge.model.kernels` compiles them and keeps them
beside the step's other kernels): the ring of past events, the heads' scores against their
keys, and the mixture of the model's own prediction with the heads' proposals.
"""

from __future__ import annotations

import math

import numpy as np

from bridge.model.approx import exp_inline as _exp


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
