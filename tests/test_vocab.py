import numpy as np
import pytest

from bridge import vocab
from bridge.vocab import (
    BAR,
    DURATION_TICKS,
    EXPECT_DUR,
    EXPECT_VEL,
    KIND,
    TICKS_PER_BEAT,
    VOCAB_SIZE,
    Cursor,
    Meter,
    beat_token,
    duration_bin,
    note_token,
    sub_token,
    token_name,
)


def test_layout_is_contiguous_and_named():
    names = [token_name(t) for t in range(VOCAB_SIZE)]
    assert len(set(names)) == VOCAB_SIZE
    assert names[:4] == ["PAD", "BOS", "EOS", "BAR"]
    assert VOCAB_SIZE < 65536  # caches store uint16


def test_ticks_cover_sixteenths_triplets_and_32nds():
    for division in (4, 3, 8, 6, 12, 24):  # 16th, 8th triplet, 32nd, 16th triplet, ...
        assert TICKS_PER_BEAT % division == 0


def test_duration_bins_round_to_nearest_and_clip():
    assert duration_bin(0.2) == 0
    for i, ticks in enumerate(DURATION_TICKS):
        assert duration_bin(ticks) == i
    assert DURATION_TICKS[duration_bin(10_000)] == DURATION_TICKS[-1]
    assert DURATION_TICKS[duration_bin(49)] in (48, 51)


def test_velocity_bins_round_trip_within_a_bin():
    for v in range(1, 128):
        assert abs(vocab.bin_velocity(vocab.velocity_bin(v)) - v) <= 4


def test_meter_bars_and_changes():
    m = Meter([(0, 96)])
    assert m.bar_start(95) == 0 and m.bar_start(96) == 96
    m.set(192, 72)                       # 3/4 from bar 3
    assert m.bar_start(192 + 72 + 1) == 264
    assert m.bar_length(96) == 96 and m.bar_length(192) == 72
    assert m.lines(96, 3) == [96, 192, 264, 336]     # across the change
    assert m.bar_start(-1) == -96        # bars extend backwards
    assert Meter.bar_ticks_of(6, 8) == 72 and Meter.bar_ticks_of(12, 4) == 144


@pytest.mark.parametrize("signature, beats", [
    ((9, 4), 3), ((10, 4), 5), ((12, 4), 6), ((15, 4), 5), ((16, 4), 8), ((18, 4), 6),
    ((9, 2), 6), ((7, 4), 7), ((9, 8), 4.5), ((11, 4), 5.5), ((17, 8), 4.25),
])
def test_a_long_bar_is_split_on_its_beats_where_it_can_be(signature, beats):
    """The grid's lines stay on the file's beats (9/4 as three bars of 3, not two of 4.5);
    a prime count of beats (11/4) is halved as before, and a bar that fits is left alone."""
    assert Meter.bar_ticks_of(*signature) == beats * TICKS_PER_BEAT
    m = Meter([(0, round(signature[0] * 4 / signature[1] * TICKS_PER_BEAT))])
    assert m.bar_length(0) == beats * TICKS_PER_BEAT


def test_a_phase_shift_with_the_same_bar_length_is_kept():
    m = Meter([(0, 96)])
    m.set(96, 96)                        # on the grid: no change recorded
    assert m.changes == [(0, 96)]
    m.set(200, 96)                       # off the grid: the downbeats move
    assert m.changes == [(0, 96), (200, 96)] and m.bar_start(250) == 200
    assert m.bar_length(192) == 8        # the bar cut short by the shift


def test_a_shift_by_bars_keeps_the_place_in_the_bar():
    meter = Meter([(0, 96), (192, 72)])            # two 4/4 bars, then 3/4
    assert meter.shift(0, 2) == 192
    assert meter.shift(48, 2) == 192 + 48
    assert meter.shift(192, 2) == 192 + 144
    assert meter.shift(192 + 60, -1) == 96 + 60    # back: the place kept
    assert meter.shift(96 + 80, 1) == 192 + 72     # ... at most the shorter bar's end
    assert meter.shift(5, -3) == -3 * 96 + 5       # before the first change


def test_bars_are_counted_across_changes():
    m = Meter([(0, 96)])
    m.set(192, 72)                       # 3/4 from bar 2
    m.set(200 + 192, 96)                 # 4/4 again, mid-bar: that 3/4 bar is cut short
    assert [m.bar_index(t) for t in (0, 95, 96, 191, 192, 263, 264, 336)] == \
        [0, 0, 1, 1, 2, 2, 3, 4]
    assert m.bar_index(392) == 5 and m.bar_index(392 + 96) == 6
    assert m.bar_index(-1) == -1         # before the first change: bars extend backwards


def test_a_resumed_cursor_is_told_bar_lines_only():
    c = Cursor(Meter(), origin=0)
    c.advance(BAR)
    c.advance(beat_token(2))
    assert c.bar_tokens(80) == [] and c.tick == 48        # its own bar: nothing to tell
    assert c.bar_tokens(2 * 96 + 30) == [BAR, BAR] and c.tick == 2 * 96   # not a BEAT


def test_cursor_grammar_moves_forward_only():
    c = Cursor(Meter(), origin=0)
    with pytest.raises(ValueError):
        c.advance(note_token(60, False))          # no note before the first BAR
    c.advance(BAR)
    c.advance(beat_token(2))
    assert c.tick == 48
    with pytest.raises(ValueError):
        c.advance(beat_token(1))                  # backwards
    c.advance(sub_token(6))
    with pytest.raises(ValueError):
        c.advance(sub_token(6))                   # not forward
    with pytest.raises(ValueError):
        c.advance(note_token(60, False))          # no note before the first PART
    c.advance(vocab.part_token(vocab.MELODY))
    with pytest.raises(ValueError):
        c.advance(sub_token(8))                   # after a PART comes its note
    with pytest.raises(ValueError):
        c.advance(note_token(36, True))           # a drum is never in the melody
    c.advance(note_token(60, False))
    assert c.expect == EXPECT_VEL
    mask = c.allowed()
    assert mask.sum() == vocab.N_VELOCITY_BINS
    c.advance(vocab.VEL_BASE + 5)
    assert c.expect == EXPECT_DUR
    c.advance(vocab.DUR_BASE)
    with pytest.raises(ValueError):
        c.advance(beat_token(4))                  # beat 4 does not exist in 4/4


def test_allowed_mask_matches_advance():
    rng = np.random.default_rng(0)
    c = Cursor(Meter([(0, 72)]), origin=0)
    for _ in range(500):
        mask = c.allowed()
        for token in rng.choice(VOCAB_SIZE, 20):
            probe = c.copy()
            try:
                probe.advance(int(token))
                ok = True
            except ValueError:
                ok = False
            if KIND[token] in (vocab.K_PITCH, vocab.K_DRUM, vocab.K_PART) and c.chord >= 0 \
                    and c.expect in (vocab.EXPECT_TIME_OR_NOTE, vocab.EXPECT_NOTE):
                if KIND[token] == vocab.K_PART:    # advance takes a part out of order too
                    later = token - vocab.PART_BASE > c.chord // VOCAB_SIZE
                    assert ok == (c.expect != vocab.EXPECT_NOTE)
                    assert mask[token] == (ok and later and token - vocab.PART_BASE != c.part)
                elif ok:                           # a note of this part, in any order
                    key = vocab.order_key(c.part, int(token))
                    assert mask[token] == (key > c.chord), token_name(int(token))
                else:
                    assert not mask[token]
            elif KIND[token] == vocab.K_PART:
                assert mask[token] == (ok and token - vocab.PART_BASE != c.part), \
                    token_name(int(token))
            elif KIND[token] != vocab.K_SPECIAL:
                assert ok == bool(mask[token]), token_name(int(token))
        c.advance(int(rng.choice(np.flatnonzero(mask & (np.arange(VOCAB_SIZE) != vocab.EOS)))))


def test_one_instant_never_offers_a_note_twice():
    """Notes at one instant come in part order, then token order (pitched by rising pitch,
    drums by rising key), as the encoder writes them: a repeat is never offered, an earlier
    part never comes back, a performer's chord in any order is still followed."""
    c = Cursor(Meter(), origin=0)
    c.advance(BAR)
    for token in (vocab.part_token(vocab.HARMONY), note_token(64, False), vocab.VEL_BASE,
                  vocab.DUR_BASE):
        c.advance(token)
    mask = c.allowed()
    assert not mask[note_token(64, False)] and not mask[note_token(60, False)]
    assert mask[note_token(65, False)] and not mask[note_token(36, True)]
    assert mask[vocab.part_token(vocab.BASS)] and mask[vocab.part_token(vocab.DRUMS)]
    assert not mask[vocab.part_token(vocab.MELODY)] and not mask[vocab.part_token(vocab.HARMONY)]
    for token in (note_token(60, False), vocab.VEL_BASE, vocab.DUR_BASE):   # out of order
        c.advance(token)
    assert c.chord == vocab.order_key(vocab.HARMONY, note_token(64, False))
    assert not c.allowed()[note_token(64, False)]
    for token in (vocab.part_token(vocab.DRUMS), note_token(38, True), vocab.VEL_BASE,
                  vocab.DUR_BASE):
        c.advance(token)
    mask = c.allowed()
    assert not mask[vocab.PITCH_BASE:vocab.DRUM_BASE + 39].any() and mask[vocab.DRUM_BASE + 39]
    assert not mask[vocab.PART_BASE:].any()     # drums are the last part
    c.advance(sub_token(1))                     # time moves on: every part again
    assert c.chord == -1 and c.allowed()[vocab.part_token(vocab.MELODY)]
    assert c.allowed()[note_token(38, True)] and not c.allowed()[note_token(64, False)]


def test_encoded_chords_follow_the_grammar_the_sampler_obeys():
    from bridge.music.piece import Note, Piece
    from bridge.music.tokenize import encode

    notes = [Note(0, 1, p, 80) for p in (67, 60, 64)] + [Note(0, 1, 36, 90, drum=True)]
    c = Cursor(Meter(), origin=0)
    for token in encode(Piece(notes)):
        assert c.allowed()[token], token_name(token)
        c.advance(token)


def test_next_beat_on_a_shifted_grid():
    m = Meter([(12, 96)])                       # bars from half a beat on
    assert m.next_beat(12) == 12 and m.next_beat(13) == 36 and m.next_beat(90) == 108
    assert Meter([(0, 84)]).next_beat(80) == 84  # a 3.5-beat bar: the next bar line


def test_time_tokens_reach_the_target():
    c = Cursor(Meter(), origin=96)
    tokens = c.time_tokens(96 * 3 + 30)
    assert tokens[:3] == [BAR, BAR, BAR] and c.tick == 96 * 3 + 30
    assert c.time_tokens(c.tick) == []
    with pytest.raises(ValueError):
        c.time_tokens(0)


def test_style_table_holds_every_manifest_label():
    for tag in ("pop", "folk/jig", "jazz/bebop", "drums/funk", "drums/jazz"):
        assert tag in vocab.STYLES
    assert vocab.style_tag(["folk", "reel"]) == "folk/reel"
    assert vocab.genre_of("drums/funk") == "drums"
