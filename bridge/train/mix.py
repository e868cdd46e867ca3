"""Mixture windows (``data.mix``): a drum groove laid under pitched music, bar on bar.

No source has drums and pitched parts together (Groove is drums alone; POP909, the folk
tunes, the solos and the scores have none), so a model trained on them alone has never heard
the two at once: asked for a bass line under a drummer it plays the groove again at pitches
(3.8 notes a beat where POP909's basses play 0.46), and asked for drums under a tune 1.3 a
beat (Groove plays 5.0). A mixture window takes a window of pitched music and a groove of a
style that belongs with its genre (``DRUMS_FOR``) whose bars are as long as the music's
first, and lays the groove's bars on the music's, bar for bar (what falls past a shorter bar
of the music is left out); a third of the time both play from the first bar, else one of
them enters a few bars in, as a band member joins (the drummer under a tune; the bass player
over a groove); half the time one part of the music plays alone over the groove (the bass,
half of those times it has one). The window keeps the pitched music's style.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode, encode
from bridge.train.parts import part_before, with_part
from bridge.vocab import BAR, BASS, TICKS_PER_BEAT, Meter, genre_of

if TYPE_CHECKING:
    from bridge.train.windows import Sequence

# the grooves a genre's music is played over (Groove's style labels)
DRUMS_FOR: dict[str, tuple[str, ...]] = {
    "pop": ("pop", "rock", "funk", "soul", "hiphop", "dance", "reggae", "gospel", "latin"),
    "jazz": ("jazz", "neworleans", "blues", "funk", "latin", "afrocuban"),
    "folk": ("country", "rock", "pop", "reggae"),
}
TOGETHER = 1 / 3       # both from the first bar; else one enters this many bars in, at most:
ENTER_BARS = 4
GROOVE_SPAN = 3        # windows' worth of a groove's tokens taken (drums are dense)
SOLO = 0.5             # of the music's several parts, one alone over the groove (the bass
                       # half the time it has one): a bass player with a drummer


def bar_lines(seq: Sequence, bar: int, count: int) -> list[int]:
    """Ticks of ``seq``'s bar lines from its bar ``bar`` on, ``count`` + 1 of them."""
    return Meter(list(seq.meter)).lines(seq.origin, bar + count)[bar:]


class Grooves:
    """The drum sequences of one meter each, by style and bar length."""

    def __init__(self, seqs: list[Sequence], rng: np.random.Generator) -> None:
        self.rng = rng
        self.pool: dict[tuple[str, int], list[Sequence]] = {}
        for s in seqs:
            if s.drums and s.style and len(s.meter) == 1 and len(s.bars) > 1:
                self.pool.setdefault((s.style.split("/", 1)[-1], s.meter[0][1]), []).append(s)

    def for_music(self, seq: Sequence, bar_ticks: int) -> Sequence | None:
        """A groove of ``bar_ticks`` bars to lay under ``seq``'s music, or None (no groove
        of its genre in that meter, or music that has drums already)."""
        if seq.drums:
            return None
        pools = [self.pool[(style, bar_ticks)] for style in DRUMS_FOR.get(genre_of(seq.style), ())
                 if (style, bar_ticks) in self.pool]
        if not pools:
            return None
        pool = pools[int(self.rng.integers(len(pools)))]
        return pool[int(self.rng.integers(len(pool)))]

    def solo(self, notes: list[Note]) -> list[Note]:
        """``SOLO`` of the time, one of the parts of ``notes`` alone (the bass half the
        time there is one); else all of them."""
        parts = sorted({n.part for n in notes})
        if len(parts) < 2 or self.rng.random() >= SOLO:
            return notes
        part = BASS if BASS in parts and self.rng.random() < 0.5 else \
            parts[int(self.rng.integers(len(parts)))]
        return [n for n in notes if n.part == part]

    def under(self, seq: Sequence, bar: int, chunk: np.ndarray, window: int
              ) -> np.ndarray | None:
        """``chunk`` (tokens of ``seq`` from its bar ``bar``, its first notes' part said)
        with a groove laid under it bar on bar, at most ``window`` tokens; None where there
        is none to lay."""
        notes = self.mixture(seq, bar, chunk, window)
        tokens = encode(Piece(notes, Meter(list(seq.meter)))) if notes else []
        return np.asarray(tokens, dtype=np.int64)[:window] if tokens else None

    def mixture(self, seq: Sequence, bar: int, chunk: np.ndarray, window: int) -> list[Note]:
        """The notes of :meth:`under` (in beats on ``seq``'s own grid); none if none."""
        n_bars = int(np.count_nonzero(chunk == BAR))
        lines = bar_lines(seq, bar, n_bars)
        groove = self.for_music(seq, lines[1] - lines[0])
        if groove is None:
            return []
        g_bar = int(self.rng.integers(len(groove.bars) - 1))
        g_start = int(groove.bars[g_bar])
        drums, _ = with_part(groove.tokens[g_start:g_start + GROOVE_SPAN * window],
                             part_before(groove, g_start))
        length = groove.meter[0][1]
        pitched = self.solo(decode(chunk.tolist(), Meter(list(seq.meter)), lines[0]))
        beat = []
        for n in decode(drums.tolist(), Meter([(0, length)])):   # bar j, offset o ->
            j, offset = divmod(round(n.start * TICKS_PER_BEAT), length)   # the music's bar j
            if j < n_bars and offset < lines[j + 1] - lines[j]:
                beat.append(replace(n, start=(lines[j] + offset) / TICKS_PER_BEAT))
        if not pitched or not beat:
            return []
        enter = 0 if n_bars < 2 or self.rng.random() < TOGETHER else \
            int(self.rng.integers(1, min(ENTER_BARS, max(1, n_bars // 2)) + 1))
        first = lines[min(enter, n_bars)] / TICKS_PER_BEAT
        if self.rng.random() < 0.5:
            beat = [n for n in beat if n.start >= first]            # the drummer joins
        else:
            pitched = [n for n in pitched if n.start >= first]      # the music joins
        end = max((n.start for n in pitched), default=-1.0)         # the groove stops with it
        beat = [n for n in beat if n.start <= end]
        return [*pitched, *beat] if pitched and beat else []
