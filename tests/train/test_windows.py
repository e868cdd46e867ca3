import numpy as np
import torch

from bridge.data.cache import TokenCache
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode, encode
from bridge.train.parts import keep_part, part_before, token_parts
from bridge.train.windows import (
    GeneratorBatches,
    Sequence,
    TaggerBatches,
    augment,
    bar_windows,
    eval_windows,
    load_split,
)
from bridge.vocab import (
    BAR,
    BASS,
    BOS,
    HARMONY,
    MELODY,
    PART_BASE,
    PITCH_BASE,
    STYLES,
    VEL_BASE,
    VOCAB_SIZE,
    Cursor,
    Meter,
)


def test_generator_batches_start_on_bars_and_shift_targets(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    batches = iter(GeneratorBatches(seqs, STYLES, window=32, batch=6, transpose=3,
                                    velocity_shift=1, style_dropout=0.5, seed=1))
    x, y, st, bars = next(batches)
    assert x.shape == y.shape == (6, 32) and st.shape == bars.shape == (6,)
    assert (x[:, 0] == BOS).all() and (y[:, 0] == BAR).all()
    real = x[:, 1:] != 0                       # input t+1 is target t wherever it exists,
    told = real & (y[:, :-1] == 0)             # but for the part of the first notes, told
    assert ((x[:, 1:][told] >= PART_BASE) & (x[:, 1:][told] < VOCAB_SIZE)).all()
    assert told.any() and (told.sum(1) <= 1).all()
    assert torch.equal(x[:, 1:][real & ~told], y[:, :-1][real & ~told])
    assert (st == 0).any()                     # some windows trained without a style


def test_augment_keeps_every_note_in_range_and_drums_untouched(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    rng = np.random.default_rng(0)
    for seq in seqs:
        for _ in range(5):
            out = augment(seq.tokens, seq, rng, transpose=12, velocity_shift=2)
            assert out.min() >= 0 and out.max() < VOCAB_SIZE
            pitched = (out >= PITCH_BASE) & (out < PITCH_BASE + 128)
            assert (pitched == ((seq.tokens >= PITCH_BASE) & (seq.tokens < PITCH_BASE + 128))).all()
            if seq.drums:
                notes = (seq.tokens >= PITCH_BASE) & (seq.tokens < VEL_BASE)
                assert (out[notes] == seq.tokens[notes]).all()
            decode(out.tolist(), Meter(), 0)    # still grammatical


def test_eval_and_bar_windows(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "val")
    windows = list(eval_windows(seqs, 64))
    assert windows and all(w[0] == BAR and len(w) <= 64 for w, _, _ in windows)
    for seq in seqs:                         # each says the bar of the piece it starts on
        mine = [(w, bar) for w, style, bar in eval_windows([seq], 64)]
        assert [bar for _, bar in mine] == [0, *np.cumsum([np.count_nonzero(w == BAR)
                                                           for w, _ in mine])[:-1]]
    four = [w for s in seqs for w in bar_windows(s, 4)]
    assert all(np.count_nonzero(w == BAR) <= 4 for w in four)


def test_tagger_batches_balance_genres(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    genres = tuple(sorted({s.style.split("/")[0] for s in seqs}))
    subs = tuple(sorted({s.style for s in seqs if "/" in s.style}))
    x, g, s = next(iter(TaggerBatches(seqs, genres, subs, batch=64, seed=0)))
    assert x.shape[0] == 64 and set(g.tolist()) == set(range(len(genres)))
    assert ((s == -1) == (g == genres.index("pop"))).all()


def test_tagger_batches_draw_melodies_alone_as_often_as_asked():
    def seq(pitch: int, variant: str) -> Sequence:
        notes = [Note(0.5 * i, 0.5, pitch, 80, part=MELODY) for i in range(64)]
        tokens = np.asarray(encode(Piece(notes)), dtype=np.uint16)
        return Sequence(tokens, "pop", "pop909", False, pitch, pitch,
                        np.flatnonzero(tokens == BAR), f"{variant}{pitch}", variant)

    seqs = [seq(72, "melody")] + [seq(40 + i, "full") for i in range(9)]
    for melodies, lo, hi in ((0.0, 0.03, 0.2), (0.5, 0.4, 0.6), (1.0, 1.0, 1.0)):
        x, _, _ = next(iter(TaggerBatches(seqs, ("pop",), (), batch=256, melodies=melodies,
                                          seed=1)))
        share = (x == PITCH_BASE + 72).any(dim=1).float().mean().item()
        assert lo <= share <= hi, (melodies, share)


def test_hold_out_takes_whole_groups_from_train_for_validation(fixture_cache):
    from bridge.data.cache import TokenCache
    from bridge.train.windows import hold_out, load_split

    cache = TokenCache(fixture_cache)
    train, val = hold_out(cache)
    everything = load_split(cache, "train")
    assert val and train and len(train) + len(val) == len(everything)
    assert not {s.group for s in train} & {s.group for s in val}     # whole groups


def _band(bars: int) -> list[Note]:
    """Melody on every beat, a chord on beats 1 and 3, bass on beat 1, for ``bars`` bars."""
    notes = []
    for bar in range(bars):
        t = 4.0 * bar
        notes += [Note(t + b + 0.5 * (bar % 2), 0.5, 72 + b, 80, part=MELODY) for b in range(4)]
        notes += [Note(t + b, 2.0, p, 60, part=HARMONY) for b in (0, 2) for p in (60, 64, 67)]
        notes.append(Note(t, 4.0, 36 + bar, 70, part=BASS))
    return notes


def test_keep_part_leaves_one_part_alone_for_the_first_bars_then_all(fixture_cache):
    notes = _band(6)
    tokens = np.asarray(encode(Piece(list(notes))), dtype=np.uint16)
    for part in (MELODY, HARMONY, BASS):
        out = keep_part(tokens, part, 3, first_part=-1)
        cursor = Cursor(Meter())
        for t in out:                        # raises on anything the grammar forbids
            cursor.advance(int(t))
        got = sorted((n.start, n.pitch, n.part) for n in decode(out))
        want = sorted((n.start, n.pitch, n.part) for n in notes
                      if n.start >= 12 or n.part == part)
        assert got == want
    # a window cut from the middle: its first notes are in the part that was set before it
    bars = np.flatnonzero(tokens == BAR)
    seq = load_split(TokenCache(fixture_cache), "train")[0]
    seq.tokens = tokens
    first = part_before(seq, int(bars[2]))
    assert first == MELODY                   # bar 1 ends with a melody note
    out = keep_part(tokens[bars[2]:], HARMONY, 1, first)
    assert out[0] == BAR and out[1] == PART_BASE + HARMONY   # the melody's first notes left
    pitched = (out >= PITCH_BASE) & (out < PITCH_BASE + 128)
    assert pitched.sum() == len(decode(tokens)) - 2 * 11 - 5   # bars 0-1; 2: melody, bass


def test_arranged_windows_start_with_one_part(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    tokens = np.asarray(encode(Piece(_band(12))), dtype=np.uint16)
    seqs[0].tokens, seqs[0].bars = tokens, np.flatnonzero(tokens == BAR)
    batches = GeneratorBatches(seqs[:1], STYLES, window=400, batch=1, arrange=1.0, seed=3)
    window = batches.arranged(seqs[0], [MELODY, HARMONY, BASS], 0)
    first_bar = window[:int(np.flatnonzero(window == BAR)[1])]
    assert len(decode(first_bar)) in (4, 6, 1)          # the melody, the chords or the bass
    assert len(decode(window)) > len(decode(first_bar)) * 2


def test_phrase_windows_start_on_the_pieces_phrase_lines(fixture_cache):
    seqs = load_split(TokenCache(fixture_cache), "train")
    phrased = GeneratorBatches(seqs, STYLES, window=64, batch=2, phrase_start=1.0,
                               phrase_bars=8, seed=1)
    starts = {phrased.start_bar(20) for _ in range(300)}
    assert starts == {0, 8, 16}                  # every phrase line of a 20-bar piece
    anywhere = GeneratorBatches(seqs, STYLES, window=64, batch=2, seed=1)
    assert {anywhere.start_bar(20) for _ in range(300)} == set(range(20))
    x, _, _, bars = next(iter(phrased))
    assert x.shape == (2, 64) and set(bars.tolist()) <= {0, 8, 16, 24}


def test_each_token_is_its_parts_the_time_tokens_no_parts():
    from bridge.vocab import BAR, DUR_BASE, NO_PART, PART_BASE, PITCH_BASE, VEL_BASE, sub_token

    tokens = np.array([BAR, PITCH_BASE + 60, VEL_BASE + 5, DUR_BASE + 3,        # a melody note
                       PART_BASE + 2, PITCH_BASE + 36, VEL_BASE, DUR_BASE,      # the bass
                       sub_token(12), PITCH_BASE + 38, VEL_BASE, DUR_BASE])     # the bass again
    parts = token_parts(tokens, before=0)
    assert parts.tolist() == [NO_PART, 0, 0, 0, 2, 2, 2, 2, NO_PART, 2, 2, 2]
    assert token_parts(tokens)[1] == NO_PART                # no part said before the window
