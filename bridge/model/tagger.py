"""The style tagger: which genre and sub-style is a short window of events?

    tokens [B, T] ── emb ── conv blocks (local patterns: chords, rhythms, note triples)
                 ── BiLSTM (order over the window) ── attention pooling ── [B, 2H]
                 ── genre head [B, G] and sub-style head [B, S]

Windows are 2 to 8 bars of the event stream (see ``bridge/vocab/``). Sub-styles are
``genre/sub`` tags; a window without a sub-style label contributes to the genre loss only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bridge.vocab import GENRES, SUBSTYLES, VOCAB_SIZE

CHUNK = 64   # tokens of the recurrent layer per piece of a live tagging pass (~1 ms)
PRIOR_WEIGHT = 0.5   # a tag weighs each sub-style by its training share to this power

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
    # each sub-style's share of the training windows (empty: unknown). Training balances
    # the sub-styles, so the model's odds treat them as equally common; a tag weighs them
    # back toward how often they occur (PRIOR_WEIGHT), so a style seen once in training
    # is not named as often as one seen in hundreds of pieces
    substyle_shares: tuple[float, ...] = ()
    # how much a tag counts what the generator beside it hears (bridge.model.ear): its
    # evidence for each genre times this joins the genre logits (0: the tagger alone).
    # Fitted with the generator shipped beside it, on training windows
    generator_weight: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("genres", "substyles", "substyle_shares"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TaggerConfig:
        d = dict(d)
        d["genres"] = tuple(d.get("genres", GENRES))
        d["substyles"] = tuple(d.get("substyles", DEFAULT_SUBSTYLES))
        d["substyle_shares"] = tuple(d.get("substyle_shares", ()))
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
        return self._heads(h, pad)

    def _heads(self, h: torch.Tensor, pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(h).squeeze(-1).masked_fill(pad, float("-inf"))  # [B, T]
        weights = scores.softmax(dim=1).nan_to_num(0.0)                # [B, T]
        pooled = self.drop((weights[:, :, None] * h).sum(dim=1))       # [B, 2H]
        return self.genre_head(pooled), self.sub_head(pooled)

    def loss(self, tokens: torch.Tensor, genre: torch.Tensor,
             sub: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of both heads; ``sub`` = -1 where a window has no sub-style."""
        g, s = self(tokens)
        return F.cross_entropy(g, genre) + F.cross_entropy(s, sub, ignore_index=-1)

    def heard(self, g_logits: torch.Tensor, evidence: torch.Tensor | None) -> torch.Tensor:
        """Genre logits ``[..., G]`` with the generator's ``evidence`` ``[..., G]``
        (:mod:`bridge.model.ear`; None: not heard) counted in at ``generator_weight``."""
        if evidence is None or not self.config.generator_weight:
            return g_logits
        return g_logits + self.config.generator_weight * evidence.to(g_logits)

    @torch.inference_mode()
    def tags(self, tokens: torch.Tensor, top: int = 3,
             evidence: torch.Tensor | None = None) -> list[tuple[str, float]]:
        """The most likely tags of one window: genres, then sub-styles of the top genre;
        ``evidence``: what the generator hears in it, ``[G]`` (:meth:`heard`).

        A sub-style's probability is P(genre) * P(sub | genre), its head renormalised over
        the sub-styles of that genre.
        """
        steps = self.tag_steps(tokens, top, evidence=evidence)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def tag_steps(self, tokens: torch.Tensor, top: int = 3, chunk: int = CHUNK,
                  evidence: torch.Tensor | None = None):
        """:meth:`tags` in pieces of about a millisecond: a generator that yields between
        them and returns the tags, so the live worker can feed a note or start a response
        in between. The recurrent layer runs ``chunk`` tokens at a time, each direction
        carrying its state across chunks: the same numbers as :meth:`forward` (tested)."""
        T, c = tokens.size(0), self.config
        margin = c.conv_layers * (c.conv_kernel // 2)   # what a conv output row can see
        pieces = []
        for start in range(0, T, 2 * chunk):            # the conv stack, with its context
            lo, hi = max(0, start - margin), min(T, start + 2 * chunk + margin)
            with torch.inference_mode():
                y = self.emb(tokens[None, lo:hi]).transpose(1, 2)      # [1, E, t]
                y = self.convs(y).transpose(1, 2)                      # [1, t, C]
            pieces.append(y[:, start - lo:start - lo + 2 * chunk])
            yield
        x = torch.cat(pieces, dim=1)                                   # [1, T, C]
        forward, backward = self._directions()
        halves = []
        for lstm, seq in ((forward, x), (backward, x.flip(1))):
            outs, state = [], None
            for start in range(0, seq.size(1), chunk):
                with torch.inference_mode():
                    out, state = lstm(seq[:, start:start + chunk], state)  # [1, t, H]
                outs.append(out)
                yield
            halves.append(torch.cat(outs, dim=1))
        with torch.inference_mode():
            h = torch.cat([halves[0], halves[1].flip(1)], dim=2)      # [1, T, 2H]
            g, s = self._heads(h, torch.zeros(h.shape[:2], dtype=torch.bool, device=h.device))
            return self._top_tags(self.heard(g[0], evidence), s[0], top)

    def _directions(self) -> tuple[nn.LSTM, nn.LSTM]:
        """The bidirectional LSTM as two one-way LSTMs (copies of its weights, made once
        per device: for a trained model at inference)."""
        device = self.lstm.weight_ih_l0.device
        made = self.__dict__.get("_one_way")    # a plain attribute, not a submodule
        if made is None or made[0].weight_ih_l0.device != device:
            n_in, n_hidden = self.lstm.input_size, self.lstm.hidden_size
            pair = []
            for suffix in ("", "_reverse"):
                one = nn.LSTM(n_in, n_hidden, batch_first=True).eval()
                one.load_state_dict({f"{name}_l0": getattr(self.lstm, f"{name}_l0{suffix}")
                                     for name in ("weight_ih", "weight_hh", "bias_ih",
                                                  "bias_hh")})
                pair.append(one.to(device))
            self.__dict__["_one_way"] = tuple(pair)
        return self.__dict__["_one_way"]

    def substyles_of(self, genre: str) -> list[int]:
        """The indices of ``genre``'s sub-styles: a tag names a sub-style only within the
        genre it gives first."""
        return [i for i, tag in enumerate(self.config.substyles)
                if tag.split("/", 1)[0] == genre]

    def substyle_prior(self) -> torch.Tensor:
        """What a tag adds to the sub-style logits, ``[S]``: ``PRIOR_WEIGHT`` times the log
        of each one's training share (zeros when the shares are unknown)."""
        shares = self.config.substyle_shares
        if len(shares) != len(self.config.substyles):
            return torch.zeros(len(self.config.substyles))
        return PRIOR_WEIGHT * torch.tensor(shares).clamp_min(1e-6).log()

    def reported_substyles(self, g_logits: np.ndarray, s_logits: np.ndarray) -> np.ndarray:
        """The sub-style a tag reports for each window, ``[N]`` from ``[N, G]`` and ``[N, S]``
        logits: the likeliest of the top genre's sub-styles, weighed by the prior (-1 where
        the genre has none)."""
        s_logits = s_logits + self.substyle_prior().numpy()[None, :]
        top = g_logits.argmax(1)
        owner = np.full(len(self.config.substyles), -1)
        for g, genre in enumerate(self.config.genres):
            owner[self.substyles_of(genre)] = g
        within = owner[None, :] == top[:, None]                              # [N, S]
        best = np.where(within, s_logits, -np.inf).argmax(1)
        return np.where(within.any(1), best, -1)

    def _top_tags(self, g: torch.Tensor, s: torch.Tensor, top: int) -> list[tuple[str, float]]:
        pg = g.softmax(0)
        order = pg.argsort(descending=True).tolist()
        out = [(self.config.genres[i], float(pg[i])) for i in order[:top]]
        idx = self.substyles_of(self.config.genres[order[0]])
        if idx:
            ps = (s + self.substyle_prior().to(s))[idx].softmax(0) * pg[order[0]]
            for j in ps.argsort(descending=True).tolist()[:top]:
                out.append((self.config.substyles[idx[j]], float(ps[j])))
        return sorted(out, key=lambda t: -t[1])
