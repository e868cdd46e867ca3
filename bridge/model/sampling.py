"""Choosing the next token: grammar, constraints, style guidance, temperature and top-p.

Masks are boolean numpy arrays over the vocabulary. The grammar mask comes from
:meth:`bridge.vocab.Cursor.allowed`; :class:`Constraints` adds the performer's choices
(pitch or drum-key range, drums or pitched, the parts it may move to). Sampling runs on the
CPU in numpy with each session's own ``random.Random``, so a seed gives the same response
whether or not sessions are batched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bridge.model import kernels
from bridge.vocab import (
    BAR,
    DRUM_BASE,
    DRUMS,
    EOS,
    PART_BASE,
    PARTS,
    PITCH_BASE,
    VEL_BASE,
    VOCAB_SIZE,
)


@dataclass(frozen=True)
class Constraints:
    pitch_low: int = 0
    pitch_high: int = 127
    drums: bool | None = None      # True: drums only; False: pitched only; None: either
    allow_end: bool = False        # may the piece end (EOS)? never, live
    parts: frozenset[int] | None = None   # the only parts it may move to (None: any)

    def mask(self) -> np.ndarray:
        return _constraint_mask(self)


@lru_cache(maxsize=256)
def _constraint_mask(c: Constraints) -> np.ndarray:
    """The range holds for pitches and drum keys alike (a drum part kept to 35-40 plays
    kicks and snares only)."""
    mask = np.ones(VOCAB_SIZE, dtype=bool)
    lo, hi = max(0, c.pitch_low), min(127, c.pitch_high)
    in_range = np.zeros(128, dtype=bool)
    in_range[lo:hi + 1] = True
    mask[PITCH_BASE:DRUM_BASE] = in_range if c.drums is not True else False
    mask[DRUM_BASE:VEL_BASE] = in_range if c.drums is not False else False
    if not c.allow_end:
        mask[EOS] = False
    if c.drums is not None:
        mask[PART_BASE + DRUMS] = c.drums
        if c.drums:
            mask[PART_BASE:PART_BASE + DRUMS] = False
    if c.parts is not None:                 # (the cursor stays in the part it is in)
        for q in range(len(PARTS)):
            mask[PART_BASE + q] &= q in c.parts
    mask.setflags(write=False)
    return mask


def _guided() -> np.ndarray:
    """Per token, how much of the guidance weight it takes: every token but the pitches and
    the parts. A style request moves rhythm, articulation, dynamics and drum sounds; the
    pitches stay as the styled model predicts them, unpushed, so the music keeps its key
    (pushed, the styled melodies of the style-control benchmark fell from 0.88 of their
    notes in the prompt's key to 0.79; unpushed they stay at 0.87 and land in the genre
    asked for as often or more); and which part plays is the session's choice, not the
    style's (pushed toward a genre of full textures, a melody asked for went over to the
    chords it may not play: at guidance 1-2, 3-6 % of the shipped model's styled melodies
    in that benchmark came out silent; unpushed, none)."""
    out = np.ones(VOCAB_SIZE, dtype=np.float32)
    out[PITCH_BASE:DRUM_BASE] = 0.0
    out[PART_BASE:PART_BASE + len(PARTS)] = 0.0
    out.setflags(write=False)
    return out


GUIDED = _guided()


def guide(styled: np.ndarray, unstyled: np.ndarray, weight: float) -> np.ndarray:
    """Classifier-free guidance: ``(1 + w) * styled - w * unstyled`` over one row of logits
    (or log-probabilities), so the tokens a style makes likelier than the music alone does
    gain, by ``w`` (0 = the styled prediction as it is); ``w`` is ``weight`` times the
    token's share (``GUIDED``: none for pitches and parts)."""
    w = weight * GUIDED
    with np.errstate(invalid="ignore"):             # inf - inf where a side rules out
        out = styled + w * (styled - unstyled)
    out = np.where(np.isfinite(out), out, np.minimum(styled, unstyled))
    return np.where(w == 0.0, styled, out).astype(np.float32)


NOTE_NOW = np.zeros(VOCAB_SIZE, dtype=bool)      # only notes: "play something now"
NOTE_NOW[PITCH_BASE:VEL_BASE] = True
NOTE_NOW[PART_BASE:PART_BASE + len(PARTS)] = True   # (a note in another part starts so)
NOTE_NOW.setflags(write=False)
TIME_TOKENS = np.zeros(VOCAB_SIZE, dtype=bool)
TIME_TOKENS[BAR:PITCH_BASE] = True                # BAR, BEAT_*, SUB_*
TIME_TOKENS.setflags(write=False)


def sample(
    logits: np.ndarray,          # [V] float32
    mask: np.ndarray,            # [V] bool, at least one True
    temperature: float,
    top_p: float,
    rng: random.Random,
) -> int:
    """One token from ``softmax(logits / temperature)`` restricted to ``mask`` and top-p."""
    allowed = np.count_nonzero(mask)
    if allowed <= 1:
        if not allowed:
            raise ValueError("no token is allowed here (contradictory constraints?)")
        return int(np.flatnonzero(mask)[0])
    pick = kernels.pick if kernels.ready() else kernels.pick_numpy
    return pick(logits, mask, float(temperature), float(top_p), rng.random())
