"""Training and evaluation windows cut from the token cache.

Every window starts on a BAR, as a live context does, and is prefixed with BOS; the part of
its first notes is said before them (a PART token, not itself a target), as a live context
that has heard every PART token says it. Training
windows are random (seeded per rank) with augmentation: pitched sequences are transposed
within their pitch range and velocities shifted by whole bins; a share of the windows of
pieces with several parts are *arranged*: their first bars keep one part alone (a melody, a
bass line), so the model learns to add the other parts to what one player plays, as a band
member joins. A share of the windows start on a phrase line (``phrase_start``: bar 0, 8, 16,
... of the piece), where tunes and songs begin their sections, so that the model hears a
piece's form from its start, as a prompt of a song's first bars gives it, and learns when a
phrase comes back (a folk tune's second eight bars repeat its first eight three times in
four). A share of the windows begin with bars of another genre under their tag
(``switch``, :mod:`bridge.train.switch`), and a share of the pitched ones have a drum groove
laid under them (``mix``, :mod:`bridge.train.mix`). Evaluation windows are fixed:
consecutive, non-overlapping, in cache order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from bridge.train.mix import Grooves
from bridge.train.parts import first_part, keep_part, part_before, parts_of, with_part
from bridge.train.perform import reperform
from bridge.train.switch import LeadIns, key_shift, room, shift_pitches
from bridge.vocab import (
    BAR,
    BOS,
    DUR_BASE,
    MELODY,
    N_VELOCITY_BINS,
    NO_STYLE,
    VEL_BASE,
    genre_of,
)


@dataclass
class Sequence:
    tokens: np.ndarray      # uint16 tokens (no BOS)
    style: str
    dataset: str
    drums: bool
    pitch_min: int
    pitch_max: int
    bars: np.ndarray        # indices of BAR tokens
    group: str = ""         # the piece (song, tune, session) it belongs to
    variant: str = "full"   # its reading: the whole texture, or one part alone ("melody")
    meter: tuple[tuple[int, int], ...] = ((0, 96),)   # its bar grid (Meter.changes) ...
    origin: int = 0                                    # ... and the tick of its first BAR

    @classmethod
    def of(cls, tokens: np.ndarray, meta) -> Sequence:
        """From a cache index entry (``SeqMeta``) and its tokens."""
        lo, hi = meta.pitch_min, meta.pitch_max        # None: no pitched notes
        return cls(tokens, meta.style, meta.dataset, bool(meta.drums),
                   0 if lo is None else int(lo), 127 if hi is None else int(hi),
                   np.flatnonzero(tokens == BAR), meta.group, meta.variant,
                   tuple(meta.meter), meta.origin)


def load_split(cache, split: str, datasets: set[str] | None = None) -> list[Sequence]:
    return [Sequence.of(cache.tokens(split, i), m)
            for i, m in enumerate(cache.sequences(split))
            if datasets is None or m.dataset in datasets]


def hold_out(cache, datasets: set[str] | None = None,
             share: float = 0.1) -> tuple[list[Sequence], list[Sequence]]:
    """(train, val) from the train split alone, for a cache without a val split (a small
    folder of the user's own): the groups whose names hash lowest, ``share`` of them and at
    least one, are held out, so no piece is in both."""
    seqs = load_split(cache, "train", datasets)
    groups = sorted({s.group for s in seqs}, key=lambda g: hashlib.sha256(g.encode()).digest())
    held = set(groups[:max(1, round(share * len(groups)))]) if len(groups) > 1 else set()
    return [s for s in seqs if s.group not in held], [s for s in seqs if s.group in held]


def augment(tokens: np.ndarray, seq: Sequence, rng: np.random.Generator,
            transpose: int, velocity_shift: int) -> np.ndarray:
    out = tokens.astype(np.int64)
    if transpose and not seq.drums:
        lo = max(-transpose, -seq.pitch_min)
        hi = min(transpose, 127 - seq.pitch_max)
        if hi >= lo:
            out = shift_pitches(out, int(rng.integers(lo, hi + 1)))
    if velocity_shift:
        shift = int(rng.integers(-velocity_shift, velocity_shift + 1))
        vel = (out >= VEL_BASE) & (out < DUR_BASE)
        out[vel] = np.clip(out[vel] + shift, VEL_BASE, VEL_BASE + N_VELOCITY_BINS - 1)
    return out


class GeneratorBatches:
    """Random ``[B, T]`` input/target windows with style ids, weighted by dataset."""

    def __init__(self, seqs: list[Sequence], styles: tuple[str, ...], *, window: int,
                 batch: int, weights: dict[str, float] | None = None, transpose: int = 0,
                 velocity_shift: int = 0, style_dropout: float = 0.0,
                 genre_only: float = 0.0, arrange: float = 0.0, phrase_start: float = 0.0,
                 phrase_bars: int = 8, switch: float = 0.0, mix: float = 0.0,
                 seed: int = 0) -> None:
        self.seqs = [s for s in seqs if len(s.bars)]
        self.styles, self.window, self.batch = styles, window, batch
        self.transpose, self.velocity_shift = transpose, velocity_shift
        self.style_dropout, self.genre_only, self.arrange = style_dropout, genre_only, arrange
        self.phrase_start, self.phrase_bars = phrase_start, phrase_bars
        self.parts = [sorted(parts_of(s.tokens)) if arrange else [] for s in self.seqs]
        self.rng = np.random.default_rng(seed)
        self.switch, self.mix = switch, mix
        self.lead_ins = LeadIns(self.seqs, self.rng) if switch else None
        self.grooves = Grooves(self.seqs, self.rng) if mix else None
        by_ds = np.array([s.dataset for s in self.seqs])
        w = np.array([len(s.tokens) for s in self.seqs], dtype=np.float64)
        for ds in set(by_ds):   # each dataset gets its share; within it, longer pieces more
            sel = by_ds == ds
            share = (weights or {}).get(ds, 1.0 if weights is None else 0.0)
            w[sel] = w[sel] / w[sel].sum() * share if w[sel].sum() else 0.0
        self.p = w / w.sum()

    def style_id(self, tag: str, switched: bool = False) -> int:
        """A window's style: dropped, its genre alone, or whole; after a lead-in of another
        genre never dropped (no style means "go on as you hear")."""
        u = self.rng.random()
        if switched:
            u = self.style_dropout + u * (1 - self.style_dropout)
        if u < self.style_dropout:
            tag = NO_STYLE
        elif u < self.style_dropout + self.genre_only:
            tag = genre_of(tag)
        return self.styles.index(tag) if tag in self.styles else 0

    def start_bar(self, n_bars: int) -> int:
        """The bar a window starts on: a phrase line (``phrase_start`` of the time) or any."""
        if self.rng.random() < self.phrase_start:
            return self.phrase_bars * int(self.rng.integers(-(-n_bars // self.phrase_bars)))
        return int(self.rng.integers(n_bars))

    def arranged(self, seq: Sequence, parts: list[int], start: int) -> np.ndarray:
        """A window from ``start`` whose first bars keep one part alone: the melody half
        the time, else another part the piece has."""
        part = MELODY if MELODY in parts and self.rng.random() < 0.5 else \
            parts[self.rng.integers(len(parts))]
        n_bars = int(np.searchsorted(seq.bars, start + self.window)) - \
            int(np.searchsorted(seq.bars, start))
        until = int(self.rng.integers(1, max(2, n_bars)))
        tokens = seq.tokens[start:start + 2 * self.window]
        return keep_part(tokens, part, until, part_before(seq, start))[:self.window]

    def lead_in(self, seq: Sequence, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """``chunk`` of ``seq`` led into by bars of another genre (``data.switch``, see
        :mod:`bridge.train.switch`): (lead-in, chunk in the lead-in's key, the bar the
        lead-in starts on); an empty lead-in where there is none to take. The key is read
        from the 16 bars about the lead-in; the two are then transposed together."""
        src = self.lead_ins.other(seq)
        where = self.lead_ins.bars(src, self.window) if src is not None else None
        if where is None:
            return chunk[:0], chunk, -1
        bar, start, end = where
        lead, _ = with_part(src.tokens[start:end], part_before(src, start))
        lead = augment(lead, src, self.rng, 0, self.velocity_shift)
        around = src.bars[max(0, bar - 8):bar + 9]          # 16 bars about the lead-in
        key = src.tokens[around[0]:around[-1] if bar + 8 < len(src.bars) else None]
        chunk = shift_pitches(chunk, key_shift(key, chunk, *room(chunk, 6)))
        lo, hi = room(np.concatenate([lead, chunk]), self.transpose)
        shift = int(self.rng.integers(lo, hi + 1)) if hi > lo else 0
        return shift_pitches(lead, shift), shift_pitches(chunk, shift), bar

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        """``(x, y, styles, bars)``: inputs and targets ``[B, T]``, style ids and the index
        of the bar each window starts on ``[B]``."""
        T = self.window
        while True:
            x = np.zeros((self.batch, T), dtype=np.int64)
            y = np.zeros((self.batch, T), dtype=np.int64)
            st = np.zeros(self.batch, dtype=np.int64)
            bars = np.zeros(self.batch, dtype=np.int64)
            for b, i in enumerate(self.rng.choice(len(self.seqs), self.batch, p=self.p)):
                seq = self.seqs[i]
                bars[b] = self.start_bar(len(seq.bars))
                start = int(seq.bars[bars[b]])
                if len(self.parts[i]) > 1 and self.rng.random() < self.arrange:
                    chunk, said = self.arranged(seq, self.parts[i], start), -1
                else:
                    chunk, said = with_part(seq.tokens[start:start + T], part_before(seq, start))
                    chunk = chunk[:T]
                chunk = augment(chunk, seq, self.rng, self.transpose, self.velocity_shift)
                lead = chunk[:0]
                mixed = self.grooves.under(seq, int(bars[b]), chunk, T) \
                    if self.mix and self.rng.random() < self.mix else None
                if mixed is not None:                  # a groove under it (data.mix)
                    chunk, said = mixed, first_part(mixed)
                elif self.switch and self.rng.random() < self.switch:
                    lead, chunk, lead_bar = self.lead_in(seq, chunk)
                    if len(lead):
                        bars[b] = lead_bar
                        chunk = np.concatenate([lead, chunk])[:T]
                        said += len(lead) if said >= 0 else 0
                n = len(chunk)
                x[b, 0], x[b, 1:n] = BOS, chunk[:n - 1]
                y[b, :n] = chunk
                y[b, :len(lead)] = 0                     # heard, not scored
                if 0 <= said < n:
                    y[b, said] = 0               # told, not guessed
                st[b] = self.style_id(seq.style, switched=len(lead) > 0)
            yield torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(st), \
                torch.from_numpy(bars)


def eval_windows(seqs: list[Sequence], window: int
                 ) -> Iterator[tuple[np.ndarray, str, int]]:
    """Consecutive windows of at most ``window`` tokens, each starting on a BAR (as cut,
    so that bits per event compare across versions): tokens, style, the bar it starts on."""
    for seq in seqs:
        for start, bar in window_starts(seq, window):
            yield seq.tokens[start:start + window].astype(np.int64), seq.style, bar


def window_starts(seq: Sequence, window: int) -> Iterator[tuple[int, int]]:
    """Where :func:`eval_windows` cuts ``seq``'s windows: (token, bar) of each start."""
    bars = seq.bars
    i = 0
    while i < len(bars):
        start = int(bars[i])
        yield start, i
        i = int(np.searchsorted(bars, start + window))


def bar_windows(seq: Sequence, n_bars: int, *, stride: int | None = None,
                max_tokens: int = 1024, parted: bool = False) -> Iterator[np.ndarray]:
    """Windows of ``n_bars`` bars (stride ``n_bars`` unless given), capped in tokens;
    ``parted``: each with the PART of its first notes said before them."""
    bars, stride = seq.bars, stride or n_bars
    for i in range(0, max(1, len(bars) - n_bars + 1), stride):
        start = int(bars[i])
        end = int(bars[i + n_bars]) if i + n_bars < len(bars) else len(seq.tokens)
        window = seq.tokens[start:min(end, start + max_tokens)].astype(np.int64)
        yield with_part(window, part_before(seq, start))[0] if parted else window


def tag_targets(style: str, genres: tuple[str, ...],
                substyles: tuple[str, ...]) -> tuple[int, int]:
    """(genre index, sub-style index or -1) of a style tag."""
    return genres.index(genre_of(style)), substyles.index(style) if style in substyles else -1


class TaggerBatches:
    """Random windows of 2..8 bars with genre and sub-style targets, balanced: a genre at
    random, then one of its sub-styles at random (macro-F1 weighs rare ones as much as
    common ones), then a sequence of that style (``melodies`` of the time a melody alone,
    where the style has one: each genre's melodies as often, whatever share of its
    readings they are); a share of them (``perform``) played another way
    (:func:`bridge.train.perform.reperform`)."""

    def __init__(self, seqs: list[Sequence], genres: tuple[str, ...],
                 substyles: tuple[str, ...], *, batch: int, min_bars: int = 2,
                 max_bars: int = 8, max_tokens: int = 768, transpose: int = 0,
                 velocity_shift: int = 0, perform: float = 0.0, melodies: float = 0.0,
                 seed: int = 0) -> None:
        self.seqs = [s for s in seqs if len(s.bars) and genre_of(s.style) in genres]
        self.genres, self.substyles, self.batch = genres, substyles, batch
        self.min_bars, self.max_bars, self.max_tokens = min_bars, max_bars, max_tokens
        self.transpose, self.velocity_shift = transpose, velocity_shift
        self.perform, self.melodies = perform, melodies
        self.rng = np.random.default_rng(seed)
        self.by_genre: dict[str, dict[str, list[int]]] = {}    # genre -> style -> sequences
        self.melody: dict[str, list[int]] = {}                  # style -> its melodies alone
        for i, s in enumerate(self.seqs):
            self.by_genre.setdefault(genre_of(s.style), {}).setdefault(s.style, []).append(i)
            if s.variant == "melody":
                self.melody.setdefault(s.style, []).append(i)

    def pool(self, style: str, pool: list[int]) -> list[int]:
        """The sequences to draw a window of ``style`` from: its melodies alone
        ``melodies`` of the time, else all its readings."""
        if self.melodies and style in self.melody and self.rng.random() < self.melodies:
            return self.melody[style]
        return pool

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        genres = sorted(self.by_genre)
        while True:
            chunks, g, s = [], [], []
            for _ in range(self.batch):
                styles = self.by_genre[genres[self.rng.integers(len(genres))]]
                style = sorted(styles)[self.rng.integers(len(styles))]
                pool = self.pool(style, styles[style])
                seq = self.seqs[pool[self.rng.integers(len(pool))]]
                n = int(self.rng.integers(self.min_bars, self.max_bars + 1))
                i = int(self.rng.integers(max(1, len(seq.bars) - n + 1)))
                end = int(seq.bars[i + n]) if i + n < len(seq.bars) else len(seq.tokens)
                start = int(seq.bars[i])
                chunk = seq.tokens[start:min(end, start + self.max_tokens)]
                if self.rng.random() < self.perform:       # played another way
                    chunk, _ = with_part(chunk.astype(np.int64), part_before(seq, start))
                    chunk = reperform(chunk, self.rng)[:self.max_tokens]
                chunks.append(augment(chunk, seq, self.rng, self.transpose,
                                      self.velocity_shift))
                gi, si = tag_targets(seq.style, self.genres, self.substyles)
                g.append(gi)
                s.append(si)
            yield pad_batch(chunks), torch.tensor(g), torch.tensor(s)


def pad_batch(chunks: list[np.ndarray]) -> torch.Tensor:
    x = np.zeros((len(chunks), max(len(c) for c in chunks)), dtype=np.int64)
    for i, c in enumerate(chunks):
        x[i, :len(c)] = c
    return torch.from_numpy(x)
