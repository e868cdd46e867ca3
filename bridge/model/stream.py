"""One-event-at-a-time inference for the live daemon, batched over sessions.

A :class:`Streamer` holds a trained :class:`Generator`'s weights rearranged for single
steps: the first layer's input projection becomes a lookup table (token -> gates) plus a
per-style bias, deeper layers use one fused matmul over ``[input, hidden]``, and the cell is
written out by hand. On CPU this avoids ``nn.LSTM``'s per-call oneDNN weight repacking,
which costs more than the arithmetic at batch 1 (see ``docs/latency.md``). Outputs match
``Generator.forward`` to float rounding (tested).

On CPU, an LSTM without attention (the shipped architecture: conv block + LSTM) steps in
numpy (:mod:`bridge.model.stream_numpy`), about three times as fast, its matrices held in 16
bits (:mod:`bridge.model.matrix`: next-token probabilities within 1e-4 of float32's). It is
used only when numpy's BLAS threads can be set to torch's thread count (a multi-threaded
OpenBLAS matmul can stall for milliseconds on a busy machine); otherwise the torch path
runs. On CUDA the same model replays the torch path's step as a captured graph
(:mod:`bridge.model.stream_graph`), about five times as fast as launching its kernels one
by one.

A model with recall keeps, per session, a ring of the last ``recall_window`` events and
their keys (:class:`bridge.model.recall.RecallStep`); its logits are then log-probabilities.
Every path (torch, numpy, CUDA graph) does this with fixed-size buffers.

A :class:`State` holds a batch of sessions' recurrent state and the logits for each one's
next token. Sessions are batched by :func:`stack`, taken apart by :meth:`State.row`, and a batch
shrinks in place by :meth:`State.keep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F

from bridge.model.generator import Generator
from bridge.model.recall import RecallStep
from bridge.model.stream_graph import Graphs
from bridge.model.stream_numpy import NumpyStep
from bridge.vocab import BAR, BOS


@dataclass
class State:
    h: torch.Tensor                             # [L, B, H]
    c: torch.Tensor                             # [L, B, H]
    logits: torch.Tensor                        # [B, V] for the next token
    style_bias: torch.Tensor                    # [B, 4H] the style's share of layer-0 gates
    style: torch.Tensor                         # [B] style index (for rebuilding style_bias)
    conv: torch.Tensor | None = None            # [B, k-1, E] the conv's pending sums (Streamer)
    keys: torch.Tensor | None = None            # [B, W, D] attention memory, if the model has one
    values: torch.Tensor | None = None          # [B, W, D]
    valid: torch.Tensor | None = None           # [B, W] bool: memory slots filled
    recall_keys: torch.Tensor | None = None     # [B, K, R, D] recall's ring of keys
    recall_tokens: torch.Tensor | None = None   # [B, R] int64: the events they precede
    recall_count: torch.Tensor | None = None    # [B] int64: events fed (ring slot = count % R)
    recall_runs: torch.Tensor | None = None     # [B, R] int64: the exact head's runs
    bar: torch.Tensor | None = None             # [B] int64: the bar the last BAR opened
    views: tuple | None = field(default=None, repr=False)   # numpy views (the fast path)

    @property
    def batch(self) -> int:
        return self.h.size(1)

    def tensors(self) -> list[tuple[str, torch.Tensor, int]]:
        """(name, tensor, the dimension sessions are on) for every tensor this state has."""
        return [(f.name, t, BATCH_DIM.get(f.name, 0)) for f in fields(self)
                if f.name != "views" and (t := getattr(self, f.name)) is not None]

    def row(self, i: int, n: int = 1) -> State:
        """Rows ``i`` to ``i + n - 1`` as their own state (a copy): one session's."""
        return State(**{name: t.narrow(dim, i, n).clone() for name, t, dim in self.tensors()})

    def clone(self) -> State:
        return stack([self])

    @torch.inference_mode()
    def keep(self, rows: Sequence[int]) -> State:
        """The state of rows ``rows`` (ascending), moved in place to the front: views of this
        state's memory, nothing allocated. A batch shrinks as its generations end without
        being copied apart and stacked again (which churned megabytes per answer through
        the allocator: docs/latency.md). This state's other rows are overwritten."""
        rows = list(rows)
        if any(b <= a for a, b in pairwise(rows)) or (
                rows and not 0 <= rows[0] <= rows[-1] < self.batch):
            raise ValueError(f"rows to keep must ascend within 0..{self.batch - 1}: {rows}")
        tensors = self.tensors()
        for new, old in enumerate(rows):         # new <= old: each source is read first
            if new != old:
                for _, t, dim in tensors:
                    t.select(dim, new).copy_(t.select(dim, old))
        return State(**{name: t.narrow(dim, 0, len(rows)) for name, t, dim in tensors})


BATCH_DIM = {"h": 1, "c": 1}      # a State's tensors have sessions on dim 0 but these


def stack(states: list[State]) -> State:
    """Several states as one batch (a copy; each input stays as it was)."""
    first = states[0].tensors()
    return State(**{name: torch.cat([getattr(s, name) for s in states], dim)
                    for name, _, dim in first})


Tokens = torch.Tensor | Sequence[int] | np.ndarray     # [B] token ids


class Streamer:
    def __init__(self, model: Generator, device: str | torch.device = "cpu",
                 fast: bool | None = None, graphs: bool | None = None) -> None:
        """``fast``: the numpy CPU path; ``graphs``: the CUDA-graph GPU path. None uses
        each where it applies (and, for numpy, is safe)."""
        model = model.eval()
        cfg = self.config = model.config
        self.model = model
        self.device = torch.device(device)
        H = cfg.n_hidden
        dev = {"device": self.device}
        with torch.no_grad():
            lstm = model.lstm
            w_ih0, w_hh0 = lstm.weight_ih_l0, lstm.weight_hh_l0            # [4H, E], [4H, H]
            b0 = lstm.bias_ih_l0 + lstm.bias_hh_l0                         # [4H]
            self.tok_emb = model.tok_emb.weight.detach().to(**dev)         # [V, E]
            if model.conv is None:   # layer-0 input is linear in the token: tabulate it
                self.in_table = (model.tok_emb.weight @ w_ih0.T).to(**dev)  # [V, 4H]
            else:
                self.in_table = None
                self.w_ih0_t = w_ih0.T.contiguous().to(**dev)              # [E, 4H]
                # the causal conv is linear in each past token: tap d (d steps back) is a
                # table token -> [E]; a state keeps the sums already owed to the next k-1
                # outputs, so a step is k-1 lookups and no matmul
                w = model.conv.conv.weight                                 # [E, E, k]
                self.conv_tables = torch.stack([model.tok_emb.weight @ w[:, :, -1 - d].T
                                                for d in range(w.size(2))]).to(**dev)  # [k, V, E]
                self.conv_b = model.conv.conv.bias.detach().to(**dev)      # [E]
            self.style_table = (model.style_emb.weight @ w_ih0.T + b0).to(**dev)  # [S, 4H]
            self.w_hh0_t = w_hh0.T.contiguous().to(**dev)                  # [H, 4H]
            self.w_cat_t, self.b_cat = [], []
            for layer in range(1, cfg.n_layer):
                w = torch.cat([getattr(lstm, f"weight_ih_l{layer}"),
                               getattr(lstm, f"weight_hh_l{layer}")], dim=1)  # [4H, 2H]
                self.w_cat_t.append(w.T.contiguous().to(**dev))            # [2H, 4H]
                self.b_cat.append((getattr(lstm, f"bias_ih_l{layer}")
                                   + getattr(lstm, f"bias_hh_l{layer}")).to(**dev))
            if model.attn is not None:
                self.qkv_w_t = model.attn.qkv.weight.T.contiguous().to(**dev)  # [H, 3D]
                self.qkv_b = model.attn.qkv.bias.detach().to(**dev)
                self.out_w_t = model.attn.out.weight.T.contiguous().to(**dev)  # [D, H]
                self.out_b = model.attn.out.bias.detach().to(**dev)
            self.head_w_t = model.head.weight.T.contiguous().to(**dev)     # [H, V]
            self.head_b = model.head.bias.detach().to(**dev)
            self.recall = None if model.recall is None else RecallStep(model.recall,
                                                                       self.device)
            self.phrase = None if model.phrase is None else \
                model.phrase.weight.detach().to(**dev)                     # [P, E]
        self.H = H
        self.bos = torch.tensor([BOS], device=self.device)
        plain = self.device.type == "cpu" and model.attn is None
        if fast is None:
            fast = plain and blas_threads(torch.get_num_threads())
        self.fast = bool(fast and plain)
        self.numpy = NumpyStep(self) if self.fast else None
        graphable = self.device.type == "cuda" and model.attn is None
        self.graphs = Graphs(self) if graphable and graphs is not False else None

    # -- state -------------------------------------------------------------------------

    @torch.inference_mode()
    def start(self, style: int, bar: int = 0) -> State:
        """A fresh batch-1 state for ``style`` with BOS fed: ready to feed the first event;
        ``bar``: the index (in the piece or song) of the bar the first BAR fed opens."""
        state = self.blank(1, style, bar)
        self.feed(state, self.bos)
        return state

    @torch.inference_mode()
    def blank(self, batch: int, style: int = 0, bar: int = 0) -> State:
        """``batch`` sessions of ``style`` before anything, BOS included, was fed (``bar``:
        see :meth:`start`)."""
        cfg, dev = self.config, self.device
        L, H, E, B = cfg.n_layer, self.H, cfg.n_embd, batch
        W, D = cfg.attn_window, cfg.attn_dim
        R, K, RD = cfg.recall_window, cfg.recall_heads, cfg.recall_dim
        recall = self.recall is not None
        match = recall and self.recall.match
        return State(
            h=torch.zeros(L, B, H, device=dev), c=torch.zeros(L, B, H, device=dev),
            logits=torch.zeros(B, cfg.vocab_size, device=dev),
            style_bias=self.style_table[style].repeat(B, 1),
            style=torch.full((B,), style, device=dev),
            conv=torch.zeros(B, cfg.conv_kernel - 1, E, device=dev)
            if cfg.conv_kernel > 1 else None,
            keys=torch.zeros(B, W, D, device=dev) if W > 1 else None,
            values=torch.zeros(B, W, D, device=dev) if W > 1 else None,
            valid=torch.zeros(B, W, dtype=torch.bool, device=dev) if W > 1 else None,
            recall_keys=torch.zeros(B, K, R, RD, device=dev) if recall else None,
            recall_tokens=torch.zeros(B, R, dtype=torch.long, device=dev) if recall else None,
            recall_count=torch.zeros(B, dtype=torch.long, device=dev) if recall else None,
            recall_runs=torch.zeros(B, R, dtype=torch.long, device=dev) if match else None,
            bar=torch.full((B,), bar - 1, dtype=torch.long, device=dev)
            if self.phrase is not None else None,
        )

    @torch.inference_mode()
    def set_bar(self, state: State, bar: int) -> None:
        """The next BAR fed opens bar ``bar`` of the piece or song (a model with phrase
        positions; nothing otherwise)."""
        if state.bar is not None:
            state.bar.fill_(bar - 1)

    @torch.inference_mode()
    def set_style(self, state: State, style: int, row: int | None = None) -> None:
        """Condition future steps on another style (the past stays as it was computed):
        of every session in ``state``, or of row ``row`` only."""
        rows = slice(None) if row is None else slice(row, row + 1)
        state.style[rows] = style
        state.style_bias[rows] = self.style_table[style]

    # -- one step ------------------------------------------------------------------------

    def feed_each(self, state: State, tokens: Sequence[int]) -> None:
        """Feed ``tokens`` one after another, each to every session of ``state``."""
        for token in tokens:
            self.feed(state, [token] * state.batch)

    def feed(self, state: State, tokens: Tokens) -> None:
        """Advance every session of ``state`` by one token each; updates in place."""
        if self.fast:
            self._feed_numpy(state, tokens)
        elif self.graphs is None or not self.graphs.feed(state, tokens):
            self._feed_torch(state, tokens)

    def _feed_numpy(self, state: State, tokens: Tokens) -> None:
        if isinstance(tokens, torch.Tensor):
            tokens = tokens.numpy()
        self.numpy.feed(state, tokens)

    @torch.inference_mode()
    def _feed_torch(self, state: State, tokens: Tokens) -> None:
        tokens = torch.as_tensor(tokens, device=self.device)
        H = self.H
        if self.recall is not None:
            self.recall.remember(state, tokens)
        if self.in_table is not None:
            gates = self.in_table[tokens] + state.style_bias                   # [B, 4H]
            e = self.tok_emb[tokens] if self.recall is not None else None      # [B, E]
        else:
            e = x = self._conv_step(state, tokens)                             # [B, E]
            gates = torch.addmm(state.style_bias, x, self.w_ih0_t)             # [B, 4H]
        x = self._cell(state, 0, gates.addmm_(state.h[0], self.w_hh0_t), H)   # [B, H]
        for layer in range(1, self.config.n_layer):
            xh = torch.cat([x, state.h[layer]], dim=1)                         # [B, 2H]
            gates = torch.addmm(self.b_cat[layer - 1], xh, self.w_cat_t[layer - 1])
            x = self._cell(state, layer, gates, H)
        if state.keys is not None:
            x = self._attend(state, x)
        if self.phrase is not None:                                            # see Generator
            state.bar.add_((tokens == BAR).long())
            e = e + self.phrase[state.bar % self.phrase.size(0)]
        if self.recall is None:
            torch.addmm(self.head_b, x, self.head_w_t, out=state.logits)      # [B, V]
        else:
            state.logits.copy_(self.recall.mix(state, x, e, torch.addmm(self.head_b, x,
                                                                         self.head_w_t)))

    @staticmethod
    def _cell(state: State, layer: int, gates: torch.Tensor, H: int) -> torch.Tensor:
        sig = gates.sigmoid()                                                  # [B, 4H]
        g = gates[:, 2 * H:3 * H].tanh()
        c = state.c[layer]
        c.mul_(sig[:, H:2 * H]).addcmul_(sig[:, :H], g)      # c = f*c + i*g
        h = state.h[layer]
        torch.mul(sig[:, 3 * H:], c.tanh(), out=h)           # h = o*tanh(c)
        return h

    def _conv_step(self, state: State, tokens: torch.Tensor) -> torch.Tensor:
        owed = state.conv                                                      # [B, k-1, E]
        y = owed[:, 0] + self.conv_tables[0, tokens] + self.conv_b             # [B, E]
        owed[:, :-1] = owed[:, 1:].clone()                                     # one step on
        owed[:, -1] = 0.0
        owed += self.conv_tables[1:, tokens].transpose(0, 1)
        return self.tok_emb[tokens] + F.gelu(y)

    def _attend(self, state: State, x: torch.Tensor) -> torch.Tensor:
        D = self.config.attn_dim
        q, k, v = torch.addmm(self.qkv_b, x, self.qkv_w_t).split(D, dim=1)    # 3 × [B, D]
        state.keys = torch.cat([state.keys[:, 1:], k[:, None]], dim=1)       # [B, W, D]
        state.values = torch.cat([state.values[:, 1:], v[:, None]], dim=1)
        state.valid = torch.cat([state.valid[:, 1:], state.valid.new_ones(x.size(0), 1)], 1)
        scores = torch.bmm(state.keys, q[:, :, None]).squeeze(2) / D ** 0.5   # [B, W]
        scores = scores.masked_fill(~state.valid, float("-inf")).softmax(dim=1)
        y = torch.bmm(scores[:, None, :], state.values).squeeze(1)            # [B, D]
        return x + torch.addmm(self.out_b, y, self.out_w_t)                   # [B, H]


def blas_threads(n: int) -> bool:
    """Limit numpy's BLAS to ``n`` threads (process-wide); False if none can be found."""
    from threadpoolctl import threadpool_info, threadpool_limits

    if not any(lib.get("user_api") == "blas" for lib in threadpool_info()):
        return False
    threadpool_limits(limits=n, user_api="blas")
    return True
