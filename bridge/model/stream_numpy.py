"""The CPU fast path of :class:`bridge.model.stream.Streamer`: one step in numpy.

A batch-1 step is a few matrix-vector products and ~30 small elementwise operations. numpy's
OpenBLAS does a single-row product about twice as fast as torch's MKL on AMD CPUs, and a
numpy operation costs ~1-3 µs where a torch operation costs ~5, so here every operation
counts. The weights are rearranged once, at load:

- each LSTM layer's gate columns are reordered from torch's (i, f, g, o) to (i, f, o, g) and
  the sigmoid gates' columns halved, so that one ``tanh`` over all four gates gives the
  tanh gate and, through sigmoid(z) = (1 + tanh(z / 2)) / 2, the three sigmoid gates (which
  also cannot overflow);
- the conv block's taps are tables (see ``Streamer``), its bias folded into the current
  token's, and the sums a state owes its next k - 1 outputs are one flat row;
- a state's numpy views are made once and kept on it.

Outputs match the torch path to float rounding (``tests/model/test_stream_fast.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from bridge.model.stream import State, Streamer


class NumpyStep:
    def __init__(self, s: Streamer) -> None:
        H = self.H = s.H
        order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H),
                           torch.arange(2 * H, 3 * H)])                  # i, f, o, g
        scale = torch.cat([torch.full((3 * H,), 0.5), torch.ones(H)])

        def gates(w: torch.Tensor) -> np.ndarray:                        # [..., 4H]
            return np.ascontiguousarray((w[..., order] * scale).numpy())

        with torch.no_grad():
            self.conv = s.in_table is None
            if self.conv:
                k, E = s.config.conv_kernel, s.config.n_embd
                self.E = E
                self.tok_emb = s.tok_emb.numpy()                             # [V, E]
                self.w_ih0 = gates(s.w_ih0_t)                                # [E, 4H]
                self.tap0 = (s.conv_tables[0] + s.conv_b).numpy()            # [V, E]
                self.taps = np.ascontiguousarray(                            # [V, (k-1)E]
                    s.conv_tables[1:].permute(1, 0, 2).reshape(-1, (k - 1) * E).numpy())
            else:
                self.in_table = gates(s.in_table)                            # [V, 4H]
            self.style_table = gates(s.style_table)                          # [S, 4H]
            self.w_hh0 = gates(s.w_hh0_t)                                    # [H, 4H]
            self.w_cat = [gates(w) for w in s.w_cat_t]                       # [2H, 4H]
            self.b_cat = [gates(b) for b in s.b_cat]                         # [4H]
            self.head_w, self.head_b = s.head_w_t.numpy(), s.head_b.numpy()  # [H, V], [V]

    @staticmethod
    def views(state: State) -> tuple:
        """numpy views of ``state``'s tensors (made once per state)."""
        if state.views is None:
            owed = None if state.conv is None else state.conv.numpy().reshape(state.batch, -1)
            state.views = (state.h.numpy(), state.c.numpy(), state.logits.numpy(), owed,
                           state.style.numpy())
        return state.views

    def feed(self, state: State, tokens: np.ndarray) -> None:
        h, c, logits, owed, style = self.views(state)
        gates = (self.in_table[tokens] if owed is None                       # [B, 4H] new
                 else self._conv(owed, tokens) @ self.w_ih0)
        gates += self.style_table[style]
        gates += h[0] @ self.w_hh0
        x = self._cell(gates, c[0], h[0])                                    # [B, H]
        for layer in range(1, len(h)):
            gates = np.concatenate([x, h[layer]], axis=1) @ self.w_cat[layer - 1]
            gates += self.b_cat[layer - 1]
            x = self._cell(gates, c[layer], h[layer])
        np.matmul(x, self.head_w, out=logits)
        logits += self.head_b

    def _conv(self, owed: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        E = self.E
        y = owed[:, :E] + self.tap0[tokens]                                 # [B, E]
        share = self.taps[tokens]                                            # [B, (k-1)E]
        np.add(owed[:, E:], share[:, :-E], out=owed[:, :-E])                 # one step on
        owed[:, -E:] = share[:, -E:]
        y = F.gelu(torch.from_numpy(y)).numpy()          # exact GELU: numpy has no erf
        y += self.tok_emb[tokens]
        return y

    def _cell(self, gates: np.ndarray, c: np.ndarray, h: np.ndarray) -> np.ndarray:
        H = self.H
        np.tanh(gates, out=gates)                        # i, f, o: tanh(z/2); g: tanh(z)
        sig = gates[:, :3 * H]
        sig += 1.0
        sig *= 0.5                                       # sigmoid(z)
        c *= gates[:, H:2 * H]
        c += gates[:, :H] * gates[:, 3 * H:]             # c = f*c + i*g
        np.tanh(c, out=h)
        h *= gates[:, 2 * H:3 * H]                       # h = o*tanh(c)
        return h
