"""The generator: a multi-layer LSTM over event tokens, conditioned on a style tag.

    tokens [B, T] ──tok_emb──┐
                             ├─ (+ causal conv block) ── + style_emb ── LSTM × n_layer ── h
    style  [B]    ──────────-┘
    h ── (+ local attention over the last ``attn_window`` states) ── head ── logits [B, T, V]
    h, tokens ── (+ recall over the last ``recall_window`` events) ── log-probs [B, T, V]
    bars  [B] ── (+ each event's bar in its phrase, for recall to match on) ──┘

*Recall* (:mod:`bridge.model.recall`) is how motifs and phrases come back: attention over
the last ``recall_window`` events proposes the events that followed moments like now, and
a gate mixes the proposals with the head's own prediction. A bar the music played before
can so return note for note, however far back it lies in the window, which the LSTM alone
does not manage. With ``phrase_bars``, recall also sees where each event stands in the
piece's phrases (its bar's index modulo ``phrase_bars``, counted from the bar the tokens
begin on), so the first bar of a new phrase can find the first bar of the last one: the
form of a tune, where bars 9-12 are bars 1-4 again.

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

from bridge.model.recall import FLOOR, Recall
from bridge.vocab import BAR, STYLES, VOCAB_SIZE


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
    recall_match: bool = False   # and the exact head (common runs of events)
    phrase_bars: int = 0     # recall sees each event's bar modulo this; 0 = off
    dropout: float = 0.1
    # per genre, how hard a request for it is guided at the session's guidance 1 (a genre
    # not named: 1): the tags of some genres move the music less than others', so each is
    # pushed as hard as lands it best (``continuo eval --task styles``); "FROM->TO" names
    # a request for TO while the music heard is FROM, where that pair needs its own
    style_strength: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["styles"] = list(self.styles)
        d["style_strength"] = dict(self.style_strength)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        d = dict(d)
        d["styles"] = tuple(d.get("styles", STYLES))
        d["style_strength"] = tuple(sorted(dict(d.get("style_strength", {})).items()))
        return cls(**d)


def phrase_positions(tokens: torch.Tensor, bars: torch.Tensor | None,
                     period: int) -> torch.Tensor:
    """Each event's bar modulo ``period``, ``[B, T]``: ``bars`` [B] is the index (in the
    piece or song) of the first BAR in ``tokens``; events before it are in the bar before."""
    first = tokens.new_zeros(tokens.size(0)) if bars is None else bars.to(tokens)
    return (first[:, None] - 1 + (tokens == BAR).long().cumsum(1)) % period


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
                             c.recall_window, c.recall_match) if c.recall_window > 0 else None
        self.phrase = nn.Embedding(c.phrase_bars, c.n_embd) \
            if c.phrase_bars > 0 and self.recall is not None else None
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.tok_emb.weight, std=0.05)
        nn.init.normal_(self.style_emb.weight, std=0.05)
        if self.phrase is not None:                 # at first recall is as without it
            nn.init.zeros_(self.phrase.weight)
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
        bars: torch.Tensor | None = None,                      # [B] int64
    ) -> tuple[torch.Tensor | tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, ...]]:
        """Logits of the next event ``[B, T, V]`` (log-probabilities when the model
        recalls), and the LSTM state after. With ``targets``, the log-probability of each
        target instead, ``[B, T]``; with ``heads`` too (a model that recalls), paired with
        each recall head's own probability of it, ``[B, K, T]``, for training them.
        Recall sees only these ``tokens``, not what came before a ``state`` passed in.
        ``bars``: the index of the bar the first BAR in ``tokens`` opens (default 0), for a
        model with ``phrase_bars``."""
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
            if self.phrase is not None:                        # where in the phrase
                e = e + self.phrase(phrase_positions(tokens, bars, self.config.phrase_bars))
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

    def guidance(self, style: int, weight: float, heard: str | None = None) -> float:
        """How hard a generation is guided toward ``style`` (its index in the table) at a
        session's ``guidance`` of ``weight``, the music heard being in genre ``heard``
        (the tagger's top genre; None: not known): ``weight`` times the strength of that
        pair (``heard->genre``) if the model has one, else of its genre."""
        genre = self.config.styles[style].split("/", 1)[0] if style else ""
        strength = dict(self.config.style_strength)
        return weight * strength.get(f"{heard}->{genre}", strength.get(genre, 1.0))


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
    return -(copy.clamp_min(FLOOR).log() * found).sum() / found.sum().clamp_min(1)
