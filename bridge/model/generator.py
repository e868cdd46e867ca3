"""The generator: a multi-layer LSTM over event tokens, conditioned on a style tag.

    tokens [B, T] ──tok_emb──┐
                             ├─ (+ causal conv block) ── + style_emb ── LSTM × n_layer ── h
    style  [B]    ──────────-┘
    h ── (+ local attention over the last ``attn_window`` states) ── head ── logits [B, T, V]
    h, tokens ── (+ recall over the last ``recall_window`` events) ── log-probs [B, T, V]

*Recall* is how motifs and phrases come back. Each of its heads looks over the last
``recall_window`` events for the moments whose context resembles now (a query from the top
LSTM state against, for each past event, a key from the state just *before* that event) and
proposes the event that followed there; a gate mixes the heads' proposals with the head's
own prediction. A bar the music played before can so return note for note, however far
back it lies in the window, which the LSTM alone does not manage.

This module is the training-time model (whole sequences through ``nn.LSTM``). Streaming,
one event at a time for the live daemon, uses the same weights through
``bridge.model.stream`` (a fused hand-written cell; see ``docs/latency.md``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from bridge.vocab import STYLES, VOCAB_SIZE


@dataclass(frozen=True)
class GeneratorConfig:
    vocab_size: int = VOCAB_SIZE
    styles: tuple[str, ...] = field(default=STYLES)   # the style table; index 0 = no style
    n_embd: int = 256
    n_hidden: int = 384
    n_layer: int = 2
    conv_kernel: int = 0     # causal conv block over embeddings; 0 = off
    attn_window: int = 0     # local attention over the last N top states; 0 = off
    attn_dim: int = 128
    recall_window: int = 0   # recall over the last N events; 0 = off
    recall_heads: int = 4
    recall_dim: int = 32     # per head
    dropout: float = 0.1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["styles"] = list(self.styles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        d = dict(d)
        d["styles"] = tuple(d.get("styles", STYLES))
        return cls(**d)


class CausalConv(nn.Module):
    """x + GELU(conv(x)) over time, seeing only the current and past ``k - 1`` steps."""

    def __init__(self, n_embd: int, kernel: int) -> None:
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Conv1d(n_embd, n_embd, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pad(x.transpose(1, 2), (self.kernel - 1, 0))     # [B, E, T + k - 1]
        return x + F.gelu(self.conv(y).transpose(1, 2))        # [B, T, E]


class LocalAttention(nn.Module):
    """Single-head attention from each step to itself and the ``window - 1`` steps before."""

    def __init__(self, n_hidden: int, dim: int, window: int) -> None:
        super().__init__()
        self.window, self.dim = window, dim
        self.qkv = nn.Linear(n_hidden, 3 * dim)
        self.out = nn.Linear(dim, n_hidden)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        T = h.size(1)
        q, k, v = self.qkv(h).split(self.dim, dim=-1)                  # 3 × [B, T, D]
        i = torch.arange(T, device=h.device)
        band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < self.window)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=band)  # [B, T, D]
        return h + self.out(y)                                        # [B, T, H]


class Recall(nn.Module):
    """Pointer attention over the last ``window`` events, mixed with the model's own
    prediction (see the module docstring). A moment is described by the top LSTM state and
    the layer-0 input (the event and, through the conv block, the two before it):

        key[j]  = Wk [h[j-1]; e[j-1]]   (zeros before the first)      value[j] = event j
        a_k[t, j] = softmax over j in (t - window, t] of q_k[t] . key_k[j] / sqrt(D)
        q[t]    = Wq [h[t]; e[t]]
        p(next | t) = g_0 softmax(logits[t]) + sum_k g_k sum_j a_k[t, j] onehot(event j)
        g = softmax(Wg h[t] + b + Wm max_j a[t, j])

    The gate sees how sharply each head found a match (its largest weight), so it can
    trust a head exactly where the music repeats.
    """

    GATE_BIAS = 3.0     # at first the gate trusts the model's own prediction (g_0 ~ 0.83)
    FLOOR = 1e-30       # a proposal's probability floor (its log stays finite)

    def __init__(self, n_hidden: int, n_embd: int, heads: int, dim: int, window: int) -> None:
        super().__init__()
        self.heads, self.dim, self.window = heads, dim, window
        self.query = nn.Linear(n_hidden + n_embd, heads * dim, bias=False)
        self.key = nn.Linear(n_hidden + n_embd, heads * dim, bias=False)
        self.gate = nn.Linear(n_hidden, 1 + heads)
        self.sharp = nn.Linear(heads, 1 + heads, bias=False)
        with torch.no_grad():
            self.gate.weight.mul_(0.1)
            self.gate.bias.zero_()
            self.gate.bias[0] = self.GATE_BIAS
            self.sharp.weight.zero_()

    def attend(self, now: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
        """Each head's weights over the events, ``[B, heads, T, T]`` (query t, event j):
        ``now`` = [h; e] at each step, ``before`` = the same one step earlier."""
        B, T, _ = now.shape
        q = self.query(now).view(B, T, self.heads, self.dim).transpose(1, 2)    # [B, K, T, D]
        k = self.key(before).view(B, T, self.heads, self.dim).transpose(1, 2)  # [B, K, T, D]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dim)                 # [B, K, T, T]
        i = torch.arange(T, device=now.device)
        band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < self.window)
        return scores.masked_fill(~band, float("-inf")).softmax(-1)

    def forward(self, h: torch.Tensor, e: torch.Tensor, h_first: torch.Tensor,
                tokens: torch.Tensor, logits: torch.Tensor,
                targets: torch.Tensor | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of the next event, ``[B, T, V]``; with ``targets`` only theirs,
        ``[B, T]``, and each head's own probability of them, ``[B, K, T]`` (training needs
        no more). ``h_first`` [B, H] is the state before the first event."""
        now = torch.cat([h, e], dim=-1)                                        # [B, T, H+E]
        first = torch.cat([h_first, torch.zeros_like(e[:, 0])], dim=-1)[:, None]
        a = self.attend(now, torch.cat([first, now[:, :-1]], dim=1))           # [B, K, T, T]
        sharp = a.amax(-1).transpose(1, 2)                                     # [B, T, K]
        gate = (self.gate(h) + self.sharp(sharp)).log_softmax(-1)              # [B, T, 1+K]
        own = logits.log_softmax(-1)                                           # [B, T, V]
        if targets is not None:
            match = tokens[:, None, :] == targets[:, :, None]                  # [B, T, T]
            copy = (a * match[:, None]).sum(-1)                                # [B, K, T]
            parts = [gate[..., 0] + own.gather(-1, targets[..., None]).squeeze(-1)]
        else:
            B, K, T, _ = a.shape
            copy = a.new_zeros(B, K, T, logits.size(-1)).scatter_add_(
                -1, tokens[:, None, None, :].expand(B, K, T, T), a)           # [B, K, T, V]
            parts = [gate[..., :1] + own]
        for k in range(self.heads):
            g = gate[..., 1 + k]
            parts.append((g if targets is not None else g[..., None])
                         + copy[:, k].clamp_min(self.FLOOR).log())
        mixed = torch.logsumexp(torch.stack(parts), dim=0)
        return mixed if targets is None else (mixed, copy)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.n_embd)
        self.style_emb = nn.Embedding(len(c.styles), c.n_embd)
        self.conv = CausalConv(c.n_embd, c.conv_kernel) if c.conv_kernel > 1 else None
        self.drop = nn.Dropout(c.dropout)
        self.lstm = nn.LSTM(c.n_embd, c.n_hidden, c.n_layer, batch_first=True,
                            dropout=c.dropout if c.n_layer > 1 else 0.0)
        self.attn = LocalAttention(c.n_hidden, c.attn_dim, c.attn_window) \
            if c.attn_window > 1 else None
        self.head = nn.Linear(c.n_hidden, c.vocab_size)
        self.recall = Recall(c.n_hidden, c.n_embd, c.recall_heads, c.recall_dim,
                             c.recall_window) if c.recall_window > 0 else None
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.tok_emb.weight, std=0.05)
        nn.init.normal_(self.style_emb.weight, std=0.05)
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias"):
                n = p.numel() // 4
                nn.init.zeros_(p)
                nn.init.ones_(p[n:2 * n])   # forget-gate bias 1: remember by default
            else:
                nn.init.uniform_(p, -1 / math.sqrt(self.config.n_hidden),
                                 1 / math.sqrt(self.config.n_hidden))

    def forward(
        self,
        tokens: torch.Tensor,                                  # [B, T] int64
        styles: torch.Tensor,                                  # [B] int64
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
        targets: torch.Tensor | None = None,                   # [B, T] int64
        heads: bool = False,
    ) -> tuple[torch.Tensor | tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, ...]]:
        """Logits of the next event ``[B, T, V]`` (log-probabilities when the model
        recalls), and the LSTM state after. With ``targets``, the log-probability of each
        target instead, ``[B, T]``; with ``heads`` too (a model that recalls), paired with
        each recall head's own probability of it, ``[B, K, T]``, for training them.
        Recall sees only these ``tokens``, not what came before a ``state`` passed in."""
        e = self.tok_emb(tokens)                               # [B, T, E]
        if self.conv is not None:
            e = self.conv(e)                                   # each event in its context
        x = self.drop(e + self.style_emb(styles)[:, None, :])  # [B, T, E]
        h, state_out = self.lstm(x, state)                     # [B, T, H]
        if self.attn is not None:
            h = self.attn(h)
        logits = self.head(self.drop(h))                       # [B, T, V]
        if self.recall is not None:
            first = h.new_zeros(h[:, 0].shape) if state is None else state[0][-1]
            out = self.recall(h, e, first, tokens, logits, targets)
            return (out if heads or targets is None else out[0]), state_out
        if targets is not None:
            return logits.log_softmax(-1).gather(-1, targets[..., None]).squeeze(-1), state_out
        return logits, state_out


    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def style_index(self, tag: str) -> int:
        """Index of a style tag in this model's table: exact, else its genre, else none."""
        styles = self.config.styles
        if tag in styles:
            return styles.index(tag)
        genre = tag.split("/", 1)[0]
        return styles.index(genre) if genre in styles else 0


def target_nll(logp: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed negative log-likelihood (nats) of the non-PAD targets, and their count, from
    ``Generator(..., targets=targets)``'s ``[B, T]`` log-probabilities."""
    keep = targets != 0
    return -(logp * keep).sum(), keep.sum()


def heads_nll(copy: torch.Tensor) -> torch.Tensor:
    """The recall heads' own mean negative log-likelihood, ``[B, K, T]`` probabilities of
    the targets, over the targets each head could copy (that occur in its window): it
    trains the heads to find what came next whatever the gate makes of them now."""
    found = copy > 0
    return -(copy.clamp_min(Recall.FLOOR).log() * found).sum() / found.sum().clamp_min(1)
