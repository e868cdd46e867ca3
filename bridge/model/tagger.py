"""The style tagger: which genre and sub-style is a short window of events?

    tokens [B, T] ── emb ── conv blocks (local patterns: chords, rhythms, note triples)
                 ── BiLSTM (order over the window) ── attention pooling ── [B, 2H]
                 ── genre head [B, G] and sub-style head [B, S]

Windows are 2 to 8 bars of the event stream (see ``bridge/vocab.py``). Sub-styles are
``genre/sub`` tags; a window without a sub-style label contributes to the genre loss only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from bridge.vocab import GENRES, SUBSTYLES, VOCAB_SIZE

DEFAULT_SUBSTYLES: tuple[str, ...] = tuple(f"{g}/{s}" for g in GENRES for s in SUBSTYLES[g])


@dataclass(frozen=True)
class TaggerConfig:
    vocab_size: int = VOCAB_SIZE
    genres: tuple[str, ...] = field(default=GENRES)
    substyles: tuple[str, ...] = field(default=DEFAULT_SUBSTYLES)
    n_embd: int = 96
    n_conv: int = 128
    conv_kernel: int = 5
    conv_layers: int = 2
    n_hidden: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict:
        d = asdict(self)
        d["genres"], d["substyles"] = list(self.genres), list(self.substyles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TaggerConfig:
        d = dict(d)
        d["genres"] = tuple(d.get("genres", GENRES))
        d["substyles"] = tuple(d.get("substyles", DEFAULT_SUBSTYLES))
        return cls(**d)


class ConvBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_out, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm1d(n_out)
        self.skip = nn.Conv1d(n_in, n_out, 1) if n_in != n_out else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:       # [B, C, T]
        return self.drop(F.gelu(self.norm(self.conv(x))) + self.skip(x))


class Tagger(nn.Module):
    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        c = self.config = config
        self.emb = nn.Embedding(c.vocab_size, c.n_embd, padding_idx=0)
        self.convs = nn.Sequential(*[
            ConvBlock(c.n_embd if i == 0 else c.n_conv, c.n_conv, c.conv_kernel, c.dropout)
            for i in range(c.conv_layers)])
        self.lstm = nn.LSTM(c.n_conv, c.n_hidden, batch_first=True, bidirectional=True)
        self.score = nn.Sequential(nn.Linear(2 * c.n_hidden, c.n_hidden), nn.Tanh(),
                                   nn.Linear(c.n_hidden, 1))
        self.drop = nn.Dropout(c.dropout)
        self.genre_head = nn.Linear(2 * c.n_hidden, len(c.genres))
        self.sub_head = nn.Linear(2 * c.n_hidden, len(c.substyles))

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [B, T] (PAD = 0 at the end) -> (genre logits [B, G], sub logits [B, S])."""
        pad = tokens == 0                                              # [B, T]
        x = self.emb(tokens).transpose(1, 2)                           # [B, E, T]
        x = self.convs(x).transpose(1, 2)                              # [B, T, C]
        x = x.masked_fill(pad[:, :, None], 0.0)
        h, _ = self.lstm(x)                                            # [B, T, 2H]
        scores = self.score(h).squeeze(-1).masked_fill(pad, float("-inf"))  # [B, T]
        weights = scores.softmax(dim=1).nan_to_num(0.0)                # [B, T]
        pooled = self.drop((weights[:, :, None] * h).sum(dim=1))       # [B, 2H]
        return self.genre_head(pooled), self.sub_head(pooled)

    def loss(self, tokens: torch.Tensor, genre: torch.Tensor,
             sub: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of both heads; ``sub`` = -1 where a window has no sub-style."""
        g, s = self(tokens)
        return F.cross_entropy(g, genre) + F.cross_entropy(s, sub, ignore_index=-1)

    @torch.inference_mode()
    def tags(self, tokens: torch.Tensor, top: int = 3) -> list[tuple[str, float]]:
        """The most likely tags of one window: genres, then sub-styles of the top genre.

        A sub-style's probability is P(genre) * P(sub | genre), its head renormalised over
        the sub-styles of that genre.
        """
        g, s = self(tokens[None])
        pg = g[0].softmax(0)
        order = pg.argsort(descending=True).tolist()
        out = [(self.config.genres[i], float(pg[i])) for i in order[:top]]
        genre = self.config.genres[order[0]]
        idx = [i for i, tag in enumerate(self.config.substyles)
               if tag.split("/", 1)[0] == genre]
        if idx:
            ps = s[0, idx].softmax(0) * pg[order[0]]
            for j in ps.argsort(descending=True).tolist()[:top]:
                out.append((self.config.substyles[idx[j]], float(ps[j])))
        return sorted(out, key=lambda t: -t[1])
