import numpy as np
import torch

from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode, encode
from bridge.train.switch import key_shift, pitch_classes, room
from bridge.train.windows import GeneratorBatches, Sequence
from bridge.vocab import BAR, BOS, MELODY, PITCH_BASE, STYLES, Meter

MAJOR = (0, 2, 4, 5, 7, 9, 11)
WEIGHT = np.array([4, 1, 3, 1, 3, 1, 1]) / 14    # the tonic triad most, as tunes do


def _tune(tonic: int, bars: int, seed: int) -> np.ndarray:
    """A melody of eighths on the major scale of ``tonic`` (a MIDI pitch), ``bars`` bars."""
    rng = np.random.default_rng(seed)
    steps = rng.choice(MAJOR, size=8 * bars, p=WEIGHT)
    notes = [Note(0.5 * i, 0.5, tonic + int(s), 90, part=MELODY) for i, s in enumerate(steps)]
    return np.asarray(encode(Piece(notes)), dtype=np.uint16)


def _seq(tokens: np.ndarray, style: str, variant: str = "melody") -> Sequence:
    pitches = tokens[(tokens >= PITCH_BASE) & (tokens < PITCH_BASE + 128)] - PITCH_BASE
    return Sequence(tokens, style, style.split("/")[0], False, int(pitches.min()),
                    int(pitches.max()), np.flatnonzero(tokens == BAR), style, variant)


def test_key_shift_lays_one_key_on_another():
    c, a = _tune(60, 8, 0), _tune(69, 8, 1)            # C major, A major
    assert key_shift(c, a, -6, 6) == 3                  # A up 3 semitones: C
    assert key_shift(a, c, -6, 6) == -3
    assert key_shift(c, a, -2, 2) in range(-2, 3)       # only what the range allows
    assert key_shift(c[:1], a, -6, 6) == 0              # a lead-in with no notes
    assert pitch_classes(c).sum() == 64
    assert room(np.array([PITCH_BASE + 2, PITCH_BASE + 125, BAR]), 6) == (-2, 2)


def test_switch_windows_lead_in_with_another_genre_unscored_then_the_tag_in_its_key():
    folk = [_seq(_tune(60, 16, i), "folk/reel") for i in range(3)]
    jazz = [_seq(_tune(66, 16, 10 + i), "jazz/bebop") for i in range(3)]
    chords = [_seq(_tune(62, 16, 20), "pop", variant="full")]   # no other genre in its variant
    batches = GeneratorBatches(folk + jazz + chords, STYLES, window=160, batch=64,
                               style_dropout=0.5, switch=0.6, seed=2)
    x, y, st, _ = next(iter(batches))
    led = (y[:, :3] == 0).all(dim=1).numpy()           # windows whose start is not scored
    assert 0.3 < led.mean() < 0.8
    for b in np.flatnonzero(led):
        tokens = x[b, 1:].numpy()
        scored = np.flatnonzero(y[b].numpy())[0]
        assert x[b, 0] == BOS and y[b, scored] == BAR and scored <= 80
        lead, rest = tokens[:scored], y[b, scored:].numpy()
        rest = rest[rest > 0]
        tag = STYLES[int(st[b])]
        assert tag, "a switch window always carries its tag"
        # what follows the lead-in is the tagged genre's music, laid on the lead-in's key
        assert tag.split("/")[0] in ("folk", "jazz")
        tonic = next(t for t in (0, 6) if set(np.flatnonzero(pitch_classes(lead))) <=
                     {(t + s) % 12 for s in MAJOR})
        assert set(np.flatnonzero(pitch_classes(rest))) <= {(tonic + s) % 12 for s in MAJOR}
        assert (tonic == 6) == tag.startswith("folk")     # the lead-in: the other genre's
        decode(tokens[tokens > 0].tolist(), Meter(), 0)   # the whole window is grammatical
    assert (st[torch.from_numpy(~led)] == 0).any()      # ordinary windows still drop styles
    plain = GeneratorBatches(folk + jazz, STYLES, window=160, batch=64, seed=2)
    _, y0, _, _ = next(iter(plain))
    assert not (y0[:, :3] == 0).all(dim=1).any()        # without ``switch``: no lead-ins

