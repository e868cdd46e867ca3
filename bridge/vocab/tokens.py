"""Token ids: the layout of the vocabulary, each token's kind, and conversions between
musical values (beats, parts, velocities, durations) and tokens (see :mod:`bridge.vocab`)."""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

VOCAB_VERSION = 2          # 2: PART tokens

TICKS_PER_BEAT = 24
MAX_BEATS_PER_BAR = 8
N_PITCHES = 128
N_VELOCITY_BINS = 16
PARTS: tuple[str, ...] = ("melody", "harmony", "bass", "drums")   # in token (and time) order
MELODY, HARMONY, BASS, DRUMS = range(len(PARTS))
NO_PART = -1              # a note not yet given a part (see bridge.music.parts)
REGISTER_TOP = {BASS: 67}  # the highest pitch a part is drawn at (G4: a four-string bass's
#                            top fret), unless the range asked for lies above it


def _duration_ticks() -> tuple[int, ...]:
    exact = range(1, 49)                      # to 2 beats: every tick
    coarse = [*range(51, 97, 3), *range(102, 193, 6), *range(204, 385, 12)]
    return (*exact, *coarse)


DURATION_TICKS: tuple[int, ...] = _duration_ticks()   # 96 bins, 1 tick .. 16 beats
N_DURATIONS = len(DURATION_TICKS)

# -- token id layout ----------------------------------------------------------------------

PAD, BOS, EOS, BAR = 0, 1, 2, 3
BEAT_BASE = 4                                  # BEAT_1 .. BEAT_7
SUB_BASE = BEAT_BASE + MAX_BEATS_PER_BAR - 1   # SUB_1 .. SUB_23
PITCH_BASE = SUB_BASE + TICKS_PER_BEAT - 1
DRUM_BASE = PITCH_BASE + N_PITCHES
VEL_BASE = DRUM_BASE + N_PITCHES
DUR_BASE = VEL_BASE + N_VELOCITY_BINS
PART_BASE = DUR_BASE + N_DURATIONS
VOCAB_SIZE = PART_BASE + len(PARTS)

# token kinds, for grammar and masks
K_SPECIAL, K_BAR, K_BEAT, K_SUB, K_PITCH, K_DRUM, K_VEL, K_DUR, K_PART = range(9)


def _kinds() -> np.ndarray:
    kinds = np.empty(VOCAB_SIZE, dtype=np.int8)
    kinds[:BAR] = K_SPECIAL
    kinds[BAR] = K_BAR
    kinds[BEAT_BASE:SUB_BASE] = K_BEAT
    kinds[SUB_BASE:PITCH_BASE] = K_SUB
    kinds[PITCH_BASE:DRUM_BASE] = K_PITCH
    kinds[DRUM_BASE:VEL_BASE] = K_DRUM
    kinds[VEL_BASE:DUR_BASE] = K_VEL
    kinds[DUR_BASE:PART_BASE] = K_DUR
    kinds[PART_BASE:VOCAB_SIZE] = K_PART
    kinds.setflags(write=False)
    return kinds


KIND = _kinds()


def beat_token(beat: int) -> int:
    assert 1 <= beat < MAX_BEATS_PER_BAR, beat
    return BEAT_BASE + beat - 1


def sub_token(tick: int) -> int:
    assert 1 <= tick < TICKS_PER_BEAT, tick
    return SUB_BASE + tick - 1


def note_token(pitch: int, drum: bool) -> int:
    assert 0 <= pitch < N_PITCHES, pitch
    return (DRUM_BASE if drum else PITCH_BASE) + pitch


def part_token(part: int) -> int:
    assert 0 <= part < len(PARTS), part
    return PART_BASE + part


def part_notes(part: int) -> tuple[int, int]:
    """The note tokens a part may play, ``[lo, hi)``: drums its drum keys, the others
    pitches."""
    return (DRUM_BASE, VEL_BASE) if part == DRUMS else (PITCH_BASE, DRUM_BASE)


def part_index(name: str) -> int:
    """``"bass"`` -> its index in ``PARTS``; ``ValueError`` naming the parts otherwise."""
    try:
        return PARTS.index(name)
    except ValueError:
        raise ValueError(f"unknown part {name!r}: one of {', '.join(PARTS)}") from None


# several parts played together, by one name
PART_SETS: dict[str, frozenset[int]] = {
    "accompaniment": frozenset((HARMONY, BASS)),       # under a melody
    "pitched": frozenset((MELODY, HARMONY, BASS)),
}


def parts_named(name: str) -> frozenset[int]:
    """``"bass"`` or ``"accompaniment"`` -> the part indices it names."""
    if name in PART_SETS:
        return PART_SETS[name]
    try:
        return frozenset((part_index(name),))
    except ValueError:
        raise ValueError(f"unknown part {name!r}: one of "
                         f"{', '.join((*PARTS, *PART_SETS))}") from None


def velocity_bin(velocity: int) -> int:
    """MIDI velocity 1..127 -> bin 0..15 (8 velocities per bin)."""
    return min(max(velocity, 1), 127) // 8


def bin_velocity(vbin: int) -> int:
    """Bin -> a representative MIDI velocity (the bin's centre, never 0)."""
    return max(1, min(127, vbin * 8 + 4))


_DUR_EDGES = tuple(float(t) for t in DURATION_TICKS)


def duration_bin(ticks: float) -> int:
    """Duration in ticks -> nearest bin (clipped to 1 tick .. 16 beats)."""
    i = bisect_left(_DUR_EDGES, ticks)          # (a numpy search costs 10x more per note)
    if i == 0:
        return 0
    if i >= N_DURATIONS:
        return N_DURATIONS - 1
    return i if (_DUR_EDGES[i] - ticks) < (ticks - _DUR_EDGES[i - 1]) else i - 1


def duration_step(dbin: int) -> int:
    """Width in ticks of the duration grid around bin ``dbin`` (the round-trip tolerance)."""
    if dbin + 1 < N_DURATIONS:
        return DURATION_TICKS[dbin + 1] - DURATION_TICKS[dbin]
    return DURATION_TICKS[dbin] - DURATION_TICKS[dbin - 1]


def token_name(token: int) -> str:
    kind = KIND[token]
    if kind == K_SPECIAL:
        return ("PAD", "BOS", "EOS")[token]
    if kind == K_BAR:
        return "BAR"
    if kind == K_BEAT:
        return f"BEAT_{token - BEAT_BASE + 1}"
    if kind == K_SUB:
        return f"SUB_{token - SUB_BASE + 1}"
    if kind == K_PITCH:
        return f"PITCH_{token - PITCH_BASE}"
    if kind == K_DRUM:
        return f"DRUM_{token - DRUM_BASE}"
    if kind == K_VEL:
        return f"VEL_{token - VEL_BASE}"
    if kind == K_DUR:
        return f"DUR_{token - DUR_BASE}"
    return f"PART_{PARTS[token - PART_BASE]}"
