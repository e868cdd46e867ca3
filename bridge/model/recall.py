"""Recall: how motifs and phrases come back. Attention over the last ``window`` events that
proposes, for the next event, the events that followed similar moments before.

Two kinds of proposal are mixed with the LSTM's own prediction by a gate:

- ``heads`` learned pointer heads. A moment is described by the top LSTM state and the
  layer-0 input (the event in its conv context); each head compares now with the moment
  before each past event and proposes that event:

      key[j] = Wk [h[j-1]; e[j-1]]  (zeros before the first)      value[j] = event j
      a_k[t, j] = softmax over j in (t - window, t] of q_k[t] . key_k[j] / sqrt(D)
      q[t] = Wq [h[t]; e[t]]

- with ``match``, one exact head: for every past event i, how many events up to now equal
  those up to i (``run[t, i]``: the common suffix, counted over the whole input), and it
  proposes the event after i, weighted ``softmax(beta * min(run, MATCH_CAP))`` over the
  events with a run in the window. Where the music repeats a passage note for note this
  points at the very next note of the first time, however alike other places look.

      p(next | t) = g_own softmax(logits[t]) + sum_k g_k copy_k[t] + g_match match[t]
      g = softmax(Wg h[t] + b + Ws [max_j a_k[t, j] ..., log(1 + longest run) / log(1 + cap)])

The gate sees how sharply each head found its match and how long the longest exact run is,
so it trusts a proposal exactly where the music repeats; the exact head takes part only
where it found a run (elsewhere its share of the gate is none).
"""

from __future__ import annotations

import math

import torch
from torch import nn

GATE_BIAS = 3.0     # at first the gate trusts the model's own prediction ...
MATCH_TRUST = 4.0   # ... and the exact head the more, the longer its run (the gate's
#                     weight on the run feature, 0..1: at the cap, e^4 more than without)
FLOOR = 1e-30       # a proposal's probability floor (its log stays finite)
MATCH_CAP = 64      # exact runs count up to this many events


def match_runs(tokens: torch.Tensor) -> torch.Tensor:
    """``run[b, t, i]``, ``[B, T, T]``: how many events up to ``t`` equal those up to ``i``
    (``i < t``; 0 elsewhere)."""
    B, T = tokens.shape
    runs = torch.zeros(B, T, T, dtype=torch.int32, device=tokens.device)
    for t in range(1, T):
        same = tokens[:, :t] == tokens[:, t:t + 1]                          # [B, t]
        before = torch.cat([runs.new_zeros(B, 1), runs[:, t - 1, :t - 1]], dim=1)
        runs[:, t, :t] = (before + 1) * same
    return runs


def no_run(gate: torch.Tensor, longest: torch.Tensor) -> torch.Tensor:
    """Where the exact head (the gate's last part) found no run, as a mask like ``gate``."""
    mask = torch.zeros_like(gate, dtype=torch.bool)
    mask[..., -1] = longest == 0
    return mask


def longest_feature(longest: torch.Tensor) -> torch.Tensor:
    """The gate's view of the longest exact run (0 for none, 1 at the cap)."""
    return torch.log1p(longest.clamp(max=MATCH_CAP).float()) / math.log1p(MATCH_CAP)


class Recall(nn.Module):
    def __init__(self, n_hidden: int, n_embd: int, heads: int, dim: int, window: int,
                 match: bool = False) -> None:
        super().__init__()
        self.heads, self.dim, self.window, self.match = heads, dim, window, match
        parts = 1 + heads + int(match)              # own, heads, (match)
        self.query = nn.Linear(n_hidden + n_embd, heads * dim, bias=False)
        self.key = nn.Linear(n_hidden + n_embd, heads * dim, bias=False)
        self.gate = nn.Linear(n_hidden, parts)
        self.sharp = nn.Linear(heads + int(match), parts, bias=False)
        self.beta = nn.Parameter(torch.tensor(0.5)) if match else None
        with torch.no_grad():
            self.gate.weight.mul_(0.1)
            self.gate.bias.zero_()
            self.gate.bias[0] = GATE_BIAS
            self.sharp.weight.zero_()
            if match:                     # the exact head's share grows with its run
                self.sharp.weight[heads + 1, heads] = MATCH_TRUST

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

    def exact(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The exact head's weights over the events ``[B, T, T]`` (query t, event i + 1 at
        column i) and the longest run in the window ``[B, T]``."""
        runs = match_runs(tokens)
        T = tokens.size(1)
        i = torch.arange(T, device=tokens.device)
        window = (i[None, :] < i[:, None]) & (i[:, None] - i[None, :] < self.window)
        runs = runs * window                                                    # [B, T, T]
        found = runs > 0
        scores = (self.beta * runs.clamp(max=MATCH_CAP)).masked_fill(~found, float("-inf"))
        weights = torch.nan_to_num(scores.softmax(-1), nan=0.0)                # none: zeros
        return weights, runs.amax(-1)

    def forward(self, h: torch.Tensor, e: torch.Tensor, h_first: torch.Tensor,
                tokens: torch.Tensor, logits: torch.Tensor,
                targets: torch.Tensor | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of the next event, ``[B, T, V]``; with ``targets`` only theirs,
        ``[B, T]``, and each learned head's own probability of them, ``[B, K, T]``
        (training needs no more). ``h_first`` [B, H] is the state before the first event."""
        now = torch.cat([h, e], dim=-1)                                        # [B, T, H+E]
        first = torch.cat([h_first, torch.zeros_like(e[:, 0])], dim=-1)[:, None]
        a = self.attend(now, torch.cat([first, now[:, :-1]], dim=1))           # [B, K, T, T]
        pointers = [(a, tokens)]                  # (weights over events, the events' values)
        sharp = [a.amax(-1).transpose(1, 2)]                                   # [B, T, K]
        gate = self.gate(h)                                                    # [B, T, P+1]
        if self.match:
            w, longest = self.exact(tokens)                                     # [B, T, T]
            after = torch.cat([tokens[:, 1:], tokens[:, -1:]], dim=1)           # event i + 1
            pointers.append((w[:, None], after))
            sharp.append(longest_feature(longest)[..., None])
            gate = gate.masked_fill(no_run(gate, longest), float("-inf"))
        gate = (gate + self.sharp(torch.cat(sharp, -1))).log_softmax(-1)
        own = logits.log_softmax(-1)                                           # [B, T, V]
        if targets is not None:
            proposed = torch.cat([(w * (v[:, None, :] == targets[:, :, None])[:, None]).sum(-1)
                                  for w, v in pointers], dim=1)                # [B, P, T]
            parts = [gate[..., 0] + own.gather(-1, targets[..., None]).squeeze(-1)]
            parts += [gate[..., 1 + k] + proposed[:, k].clamp_min(FLOOR).log()
                      for k in range(proposed.size(1))]
            mixed = torch.logsumexp(torch.stack(parts), dim=0)
            return mixed, proposed[:, :self.heads]
        V = logits.size(-1)
        proposed = torch.cat([w.new_zeros((*w.shape[:3], V)).scatter_add_(
            -1, v[:, None, None, :].expand_as(w), w) for w, v in pointers], dim=1)  # [B,P,T,V]
        parts = [gate[..., :1] + own] + [gate[..., 1 + k, None]
                                          + proposed[:, k].clamp_min(FLOOR).log()
                                          for k in range(proposed.size(1))]
        return torch.logsumexp(torch.stack(parts), dim=0)


class RecallStep:
    """Recall one event at a time (the streaming step; torch, fixed-size buffers and no host
    sync, so a CUDA graph captures it). A state holds a ring of the last ``window`` events
    (``recall_tokens``), the key of the moment before each (``recall_keys``), how many
    events were fed (``recall_count``: the next slot is ``count % window``) and, with the
    exact head, each event's current common run (``recall_runs``). The key of the next
    event is known before it (it describes the moment it follows): each step writes the
    event into the slot whose key waits for it, mixes, then writes the key of now into the
    next slot."""

    def __init__(self, recall: Recall, device: torch.device) -> None:
        dev = {"device": device}
        self.match = recall.match
        self.q_t = recall.query.weight.T.contiguous().to(**dev)            # [H+E, K*D]
        self.k_t = recall.key.weight.T.contiguous().to(**dev)              # [H+E, K*D]
        self.gate_w_t = recall.gate.weight.T.contiguous().to(**dev)        # [H, P+1]
        self.gate_b = recall.gate.bias.detach().to(**dev)                  # [P+1]
        self.sharp_t = recall.sharp.weight.T.contiguous().to(**dev)        # [P, P+1]
        self.beta = float(recall.beta) if recall.match else 0.0

    def remember(self, state, tokens: torch.Tensor) -> None:
        """The event being fed: the runs move on, it goes into its slot."""
        B, R = state.recall_tokens.shape
        slot = (state.recall_count % R).view(B, 1)                        # [B, 1]
        if self.match:
            same = state.recall_tokens == tokens.view(B, 1)                # [B, R]
            runs = (state.recall_runs.roll(1, 1) + 1) * same               # slot i from i-1
            state.recall_runs.copy_(runs.scatter_(1, slot, 0))             # now is no match
        state.recall_tokens.scatter_(1, slot, tokens.view(B, 1))
        state.recall_count.add_(1)

    def mix(self, state, x: torch.Tensor, e: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
        """The proposals mixed with the model's own logits ``own`` [B, V]: log-probs."""
        B, K, R, D = state.recall_keys.shape
        V = own.size(1)
        now = torch.cat([x, e], dim=1)                                      # [B, H+E]
        q = (now @ self.q_t).view(B, K, D, 1)
        scores = (state.recall_keys @ q).squeeze(-1) / D ** 0.5             # [B, K, R]
        filled = torch.arange(R, device=x.device) < state.recall_count[:, None]   # [B, R]
        a = scores.masked_fill(~filled[:, None, :], float("-inf")).softmax(-1)
        proposed = [torch.zeros(B, K, V, device=x.device).scatter_add_(
            2, state.recall_tokens[:, None, :].expand(B, K, R), a)]        # [B, K, V]
        sharp = [a.amax(-1)]                                                # [B, K]
        if self.match:
            runs = state.recall_runs
            found = runs > 0
            w = (self.beta * runs.clamp(max=MATCH_CAP)).masked_fill(~found, float("-inf"))
            w = torch.nan_to_num(w.softmax(-1), nan=0.0)                    # [B, R]
            after = state.recall_tokens.roll(-1, 1)                         # slot i: event i+1
            proposed.append(torch.zeros(B, V, device=x.device).scatter_add_(1, after, w)
                            [:, None])
            sharp.append(longest_feature(runs.amax(-1))[:, None])
        gate = torch.addmm(self.gate_b, x, self.gate_w_t).addmm_(
            torch.cat(sharp, 1), self.sharp_t)                              # [B, P+1]
        if self.match:
            gate = gate.masked_fill(no_run(gate, state.recall_runs.amax(-1)), float("-inf"))
        gate = gate.log_softmax(-1)
        proposed = torch.cat(proposed, 1)                                   # [B, P, V]
        parts = torch.cat([(gate[:, :1] + own.log_softmax(-1))[:, None],
                           gate[:, 1:, None] + proposed.clamp_min(FLOOR).log()], 1)
        key = (now @ self.k_t).view(B, K, 1, D)                             # [B, K, 1, D]
        slot = (state.recall_count % R).view(B, 1, 1, 1).expand(B, K, 1, D)
        state.recall_keys.scatter_(2, slot, key)
        return parts.logsumexp(1)                                           # [B, V]
