"""The CPU fast path of :class:`bridge.model.stream.Streamer`: one step in numpy.

A batch-1 step is a few matrix-vector products and ~30 small elementwise operations, and a
numpy operation costs ~1-3 µs where a torch operation costs ~5, so here every operation
counts (the products themselves: :mod:`bridge.model.matrix`). The weights are rearranged
once, at load:

- each LSTM layer's gate columns are reordered from torch's (i, f, g, o) to (i, f, o, g) and
  the sigmoid gates' columns halved, so that one ``tanh`` over all four gates gives the
  tanh gate and, through sigmoid(z) = (1 + tanh(z / 2)) / 2, the three sigmoid gates (which
  also cannot overflow);
- the conv block's taps are tables (see ``Streamer``), its bias folded into the current
  token's, and the sums a state owes its next k - 1 outputs are one flat row;
- the matrices (each LSTM layer's input and recurrent weights as one, the head, recall's
  query and key projections as one) are held in 16 bits and multiply inputs rounded to 16
  bits (:mod:`bridge.model.matrix`): half the bytes to read, and integer products a CPU
  does 8 or 16 at a time;
- a state's numpy views are made once and kept on it;
- recall (when the model has it) writes the event into the state's ring, scores its heads'
  keys, mixes their proposals into the logits and writes the key of the moment after it.

The work between the products (the cells, the conv step, recall's scores, mix and ring)
runs as compiled kernels once they are ready (:mod:`bridge.model.kernels`), in plain numpy
until then (recall: one matmul per batch for the scores, one ``bincount`` for every head's
proposal). Outputs match the torch path to float rounding with ``int16=False``, and to the
16-bit rounding of weights and inputs as the daemon runs it (probabilities within 1e-4 for
the tests' small models, ``tests/model/test_stream_fast.py``; the shipped generator's: see
:mod:`bridge.model.matrix`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from bridge.model import kernels
from bridge.model.matrix import Matrix
from bridge.model.recall import FLOOR, MATCH_CAP
from bridge.vocab import BAR

if TYPE_CHECKING:
    from bridge.model.stream import State, Streamer


class NumpyStep:
    def __init__(self, s: Streamer, compiled: bool = kernels.COMPILED,
                 int16: bool = True) -> None:
        """``compiled``: the numba kernels once they are ready (see ``kernels.prepare``),
        else the same steps in plain numpy; ``int16``: the matrices in 16 bits (False: as
        trained, float32)."""
        H = self.H = s.H
        self.compiled = compiled
        if compiled:
            kernels.prepare(background=True)
        order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H),
                           torch.arange(2 * H, 3 * H)])                  # i, f, o, g
        scale = torch.cat([torch.full((3 * H,), 0.5), torch.ones(H)])

        def gates(w: torch.Tensor) -> np.ndarray:                        # [..., 4H]
            return np.ascontiguousarray((w[..., order] * scale).numpy())

        def matrix(*blocks: np.ndarray, axis: int = 0) -> Matrix:
            return Matrix.of(np.concatenate(blocks, axis=axis), int16)

        with torch.no_grad():
            self.conv = s.in_table is None
            w_hh0 = gates(s.w_hh0_t)                                         # [H, 4H]
            if self.conv:
                k, E = s.config.conv_kernel, s.config.n_embd
                self.E = E
                self.tok_emb = s.tok_emb.numpy()                             # [V, E]
                self.layer0 = matrix(gates(s.w_ih0_t), w_hh0)                # [E + H, 4H]
                self.tap0 = (s.conv_tables[0] + s.conv_b).numpy()            # [V, E]
                self.taps = np.ascontiguousarray(                            # [V, (k-1)E]
                    s.conv_tables[1:].permute(1, 0, 2).reshape(-1, (k - 1) * E).numpy())
            else:
                self.in_table = gates(s.in_table)                            # [V, 4H]
                self.layer0 = matrix(w_hh0)                                  # [H, 4H]
            self.style_table = gates(s.style_table)                          # [S, 4H]
            self.layers = [matrix(gates(w)) for w in s.w_cat_t]              # [2H, 4H]
            self.b = [gates(b)[None] for b in s.b_cat]                       # [1, 4H]
            self.head = matrix(s.head_w_t.numpy())                           # [H, V]
            self.head_b = s.head_b.numpy()                                   # [V]
            self.recall = r = s.recall
            if r is not None:                     # see bridge.model.recall.RecallStep
                self.recall_qk = matrix(r.q_t.numpy(), r.k_t.numpy(), axis=1)  # [H+E, 2KD]
                self.gate_w, self.gate_b = r.gate_w_t.numpy(), r.gate_b.numpy()  # [H, P+1]
                self.sharp = r.sharp_t.numpy()                               # [P, P+1]
                self.tok_emb = s.tok_emb.numpy()                             # [V, E]
                self.proposed = np.zeros((len(self.sharp), s.config.vocab_size))  # scratch
            self.phrase = None if s.phrase is None else s.phrase.numpy()    # [P, E]

    def views(self, state: State) -> tuple:
        """numpy views of ``state``'s tensors, and buffers for a step (made once per state)."""
        if state.views is None:
            B = state.batch
            owed = None if state.conv is None else state.conv.numpy().reshape(B, -1)
            x = np.empty((B, self.E), np.float32) if owed is not None else None
            recall = None if state.recall_keys is None else (
                state.recall_keys.numpy(), state.recall_tokens.numpy(),
                state.recall_count.numpy(), np.zeros((B, 0), np.int64)
                if state.recall_runs is None else state.recall_runs.numpy(),
                np.empty((B, self.recall_qk.shape[1]), np.float32))
            G = self.layer0.shape[1]
            gates = (np.empty((B, G), np.float32), np.zeros((B, G), np.float32))
            state.views = (state.h.numpy(), state.c.numpy(), state.logits.numpy(), owed,
                           state.style.numpy(), x, np.zeros(B, np.int64), recall,
                           None if state.bar is None else state.bar.numpy(), gates)
        return state.views

    def feed(self, state: State, tokens: np.ndarray) -> None:
        h, c, logits, owed, style, x, zeros, recall, bar, (z, none) = self.views(state)
        tokens = np.asarray(tokens, dtype=np.int64)
        fused = self.compiled and kernels.ready()
        if recall is not None:
            (kernels.remember if fused else self._remember)(*recall[1:4], tokens)
        cell = kernels.cell if fused else kernels.cell_numpy
        if owed is None:                                 # gates: a + b + bias[rows]
            a, b = self.in_table[tokens], self.layer0.matmul(h[0], None, z, fused)
        else:
            (kernels.conv if fused else kernels.conv_numpy)(
                owed, self.tap0, self.taps, self.tok_emb, tokens, x)
            a, b = self.layer0.matmul(x, h[0], z, fused), none
        cell(a, b, self.style_table, style, c[0], h[0])
        for layer in range(1, len(h)):
            self.layers[layer - 1].matmul(h[layer - 1], h[layer], z, fused)
            cell(z, none, self.b[layer - 1], zeros, c[layer], h[layer])
        self.head.matmul(h[-1], None, logits, fused)
        logits += self.head_b
        if recall is not None:
            e = x if owed is not None else self.tok_emb[tokens]
            if bar is not None:                        # where in the phrase (see Generator)
                bar += tokens == BAR
                e = e + self.phrase[bar % len(self.phrase)]
            self._recall(recall, h[-1], e, logits, fused)

    @staticmethod
    def _remember(ring_tokens: np.ndarray, count: np.ndarray, runs: np.ndarray,
                  tokens: np.ndarray) -> None:
        """:func:`recall_loops.remember_loops` in plain numpy."""
        rows, slot = np.arange(len(count)), count % ring_tokens.shape[1]
        if runs.shape[1]:                    # slot i from slot i-1, where the events agree
            runs[:] = (np.roll(runs, 1, axis=1) + 1) * (ring_tokens == tokens[:, None])
            runs[rows, slot] = 0
        ring_tokens[rows, slot] = tokens
        count += 1

    def _recall(self, recall: tuple, x: np.ndarray, e: np.ndarray, logits: np.ndarray,
                fused: bool) -> None:
        """Mix the proposals into ``logits`` (then log-probabilities), in place; then the
        key of this moment into the slot of the event to come."""
        keys, ring_tokens, count, runs, qk = recall
        B, K, R, D = keys.shape
        n = min(int(count.max()), R)                                    # slots filled
        self.recall_qk.matmul(x, e, qk, fused)                          # [B, 2KD]: [x e]
        gate = x @ self.gate_w + self.gate_b                             # [B, P+1]
        if fused:
            scores = np.empty((B, K, n), np.float32)
            kernels.recall_scores(keys, qk, count, D ** -0.5, scores)
            kernels.recall_mix(scores, ring_tokens, runs, self.recall.beta, MATCH_CAP, FLOOR,
                               gate, self.sharp, logits, self.proposed)
            kernels.recall_keep(keys, qk, count)
            return
        q = qk[:, :K * D].reshape(B, K, D, 1)
        scores = (keys[:, :, :n] @ q)[..., 0] * D ** -0.5                # [B, K, n]
        if B > 1 and int(count.min()) < n:
            empty = np.arange(n)[None, :] >= count[:, None]              # [B, n]
            scores[np.broadcast_to(empty[:, None, :], scores.shape)] = -np.inf
        self._mix(scores, ring_tokens, runs, gate, logits)
        keys[np.arange(B), :, count % R] = qk[:, K * D:].reshape(B, K, D)

    def _mix(self, scores: np.ndarray, ring_tokens: np.ndarray, runs: np.ndarray,
             gate: np.ndarray, logits: np.ndarray) -> None:
        """:func:`recall_loops.recall_mix_loops` in plain numpy."""
        B, K, n = scores.shape
        V = logits.shape[1]
        _softmax(scores)
        where = ring_tokens[:, None, :n] + (np.arange(B * K) * V).reshape(B, K, 1)
        proposed = [np.bincount(where.ravel(), weights=scores.ravel(),
                                minlength=B * K * V).reshape(B, K, V)]   # [B, K, V]
        sharp = [scores.max(-1)]
        if runs.shape[1]:                    # the exact head: the event after each run
            w = np.where(runs > 0, self.recall.beta * np.minimum(runs, MATCH_CAP), -np.inf)
            with np.errstate(invalid="ignore"):                         # no run: NaN -> 0
                w = np.nan_to_num(_softmax(w), nan=0.0)                  # [B, R]
            after = np.roll(ring_tokens, -1, axis=1) + (np.arange(B) * V)[:, None]
            proposed.append(np.bincount(after.ravel(), weights=w.ravel(),
                                        minlength=B * V).reshape(B, 1, V))
            longest = np.minimum(runs.max(-1), MATCH_CAP)
            sharp.append((np.log1p(longest) / np.log1p(MATCH_CAP))[:, None])
        proposed = np.concatenate(proposed, axis=1)                      # [B, P, V]
        gate = gate + np.concatenate(sharp, 1) @ self.sharp
        if runs.shape[1]:
            gate[:, -1][runs.max(-1) == 0] = -np.inf      # no run: the exact head sits out
        _softmax(gate)                                                   # [B, P+1]
        own = _softmax(logits.astype(np.float64)) * gate[:, :1]
        mixed = own + (gate[:, 1:, None] * np.maximum(proposed, FLOOR)).sum(1)
        np.log(mixed, out=logits)


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place (rows of -inf only become NaN)."""
    x -= x.max(-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(-1, keepdims=True)
    return x
