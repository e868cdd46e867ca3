"""What the generator hears in a window: how likely its notes are under each genre's tag.

The tagger (:mod:`bridge.model.tagger`) learnt genres from labelled windows; the generator
learnt to continue every genre's music under its style tag, from far more of it (every
event of every window is a lesson). How likely the generator finds a window's pitches, drum
keys and parts, each given everything before it, under each genre's tag is evidence of
its own, from the notes alone. A tag adds it, times the tagger's ``generator_weight``, to
the genre logits (:meth:`bridge.model.tagger.Tagger.tags`):

    evidence[g] = sum over the window's PITCH, DRUM and PART tokens t of
                  log p(t | BOS, the tokens before t; style = genre g)

Time, velocity and duration tokens are left out: they tell how a source happens to be
played (a score's exact grid and flat dynamics, a player's timing) as much as its style, and
a performer's notes reach the daemon played by a person. Counted in, the evidence took val
melodies played with a person's timing from 69 % to 40 % (2,000 windows, weight 0.2); left
out, at the shipped weight, from 70 % to 78 % (``continuo eval``; ``docs/musicality.md``,
"The generator's ear").

:func:`evidence` scores windows in batches (``continuo tag``, ``continuo eval``);
:func:`evidence_steps` scores one window a step at a time on a :class:`Streamer`, in pieces,
for the live worker's idle time. The two agree to float rounding (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from bridge.model.generator import Generator
from bridge.model.stream import Streamer
from bridge.model.tagger import Tagger
from bridge.vocab import BOS, K_DRUM, K_PART, K_PITCH, KIND

HEARD = np.isin(KIND, (K_PITCH, K_DRUM, K_PART))   # [V] the kinds of token the ear scores
BATCH = 64        # windows a batch (offline)
PIECE = 1         # tokens a piece of a live pass (a step of five rows: about a millisecond)


def styles_of(generator: Generator, genres: Sequence[str]) -> list[int]:
    """Each genre's index in the generator's style table (0, no style, if it lacks one)."""
    return [generator.style_index(g) for g in genres]


@torch.inference_mode()
def evidence(generator: Generator, windows: Sequence[Sequence[int]], styles: Sequence[int],
             done: Callable[[int], object] | None = None) -> np.ndarray:
    """``[N, S]``: each window's evidence under each style (module docstring); ``done`` is
    told how many windows each batch scored."""
    heard = torch.from_numpy(HEARD)
    out = np.zeros((len(windows), len(styles)))
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))   # less padding
    for b in range(0, len(order), BATCH):
        rows = order[b:b + BATCH]
        seqs = [[BOS, *windows[i]] for i in rows]
        x = torch.zeros(len(seqs), max(map(len, seqs)), dtype=torch.long)  # [B, T] (PAD 0)
        for j, s in enumerate(seqs):
            x[j, :len(s)] = torch.tensor(s)
        counted = heard[x[:, 1:]]                          # [B, T-1] (PAD is not heard)
        for k, style in enumerate(styles):
            logp, _ = generator(x[:, :-1], torch.full((len(seqs),), style),
                                targets=x[:, 1:])                          # [B, T-1]
            out[rows, k] = (logp * counted).sum(1).numpy()
        if done is not None:
            done(len(rows))
    return out


def evidence_steps(streamer: Streamer, tokens: Sequence[int], styles: Sequence[int],
                   piece: int = PIECE) -> Iterator[None]:
    """:func:`evidence` of one window on ``streamer`` (one row per style, stepped together):
    a generator that yields every ``piece`` tokens and returns the ``[S]`` evidence."""
    state = streamer.blank(len(styles))
    for row, style in enumerate(styles):
        streamer.set_style(state, style, row)
    streamer.feed(state, [BOS] * len(styles))
    total = np.zeros(len(styles))
    for i, token in enumerate(tokens):
        if HEARD[token]:
            with torch.inference_mode():
                total += state.logits.log_softmax(-1)[:, token].double().cpu().numpy()
        streamer.feed(state, [token] * len(styles))
        if i % piece == piece - 1:
            yield
    return total


def hear(generator: Generator | None, tagger: Tagger, windows: Sequence[Sequence[int]],
         done: Callable[[int], object] | None = None) -> torch.Tensor | None:
    """``[N, G]``: the evidence for each of ``tagger``'s genres in each window, for
    :meth:`bridge.model.tagger.Tagger.heard` (None without a generator, or where the
    tagger counts none of it)."""
    if generator is None or not tagger.config.generator_weight:
        return None
    return torch.from_numpy(evidence(generator, windows,
                                     styles_of(generator, tagger.config.genres), done))
