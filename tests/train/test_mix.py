import numpy as np

from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode, encode
from bridge.train.mix import Grooves, bar_lines
from bridge.train.parts import part_before, with_part
from bridge.train.windows import GeneratorBatches, Sequence
from bridge.vocab import BAR, BASS, BOS, DRUMS, MELODY, STYLES, TICKS_PER_BEAT, Meter

FOUR, THREE = 4 * TICKS_PER_BEAT, 3 * TICKS_PER_BEAT


def _seq(notes: list[Note], style: str, meter: list[tuple[int, int]], drums: bool = False
         ) -> Sequence:
    tokens = np.asarray(encode(Piece(notes, Meter(meter))), dtype=np.uint16)
    return Sequence(tokens, style, style.split("/")[0], drums, 40, 90,
                    np.flatnonzero(tokens == BAR), style, "full", tuple(meter), 0)


def _tune(bars: int, beats: int = 4, first: int = 60) -> list[Note]:
    return [Note(b * beats + i, 1.0, first + (b + i) % 7, 90, part=MELODY)
            for b in range(bars) for i in range(beats)]


def _groove(bars: int, beats: int = 4) -> list[Note]:
    """Kick on the beat, hat on the off-beat: 2 hits a beat."""
    return [Note(b * beats + i / 2, 0.1, 36 if i % 2 == 0 else 42, 100, drum=True, part=DRUMS)
            for b in range(bars) for i in range(2 * beats)]


def test_a_groove_is_laid_bar_for_bar_on_the_music_s_own_grid():
    # the music's bars: 4 beats, then from bar 2 on 3 beats (a changing meter, as POP909's)
    music = _seq(_tune(2) + [Note(8 + 3 * b + i, 1.0, 64, 80, part=MELODY)
                             for b in range(6) for i in range(3)],
                 "pop", [(0, FOUR), (2 * FOUR, THREE)])
    groove = _seq(_groove(16), "drums/rock", [(0, FOUR)], drums=True)
    grooves = Grooves([music, groove], np.random.default_rng(0))
    assert bar_lines(music, 1, 3) == [FOUR, 2 * FOUR, 2 * FOUR + THREE, 2 * FOUR + 2 * THREE]
    seen_late = False
    for seed in range(12):
        grooves.rng = np.random.default_rng(seed)
        start = int(music.bars[1])
        chunk, _ = with_part(music.tokens[start:].astype(np.int64), part_before(music, start))
        notes = grooves.mixture(music, 1, chunk, 2000)
        grooves.rng = np.random.default_rng(seed)               # the same draws: as tokens
        assert len(decode(grooves.under(music, 1, chunk, 2000).tolist())) == len(notes)
        drums = [n for n in notes if n.drum]
        pitched = [n for n in notes if not n.drum]
        assert drums and pitched and all(n.part == DRUMS for n in drums)
        lines = bar_lines(music, 0, 8)
        for n in drums:                        # on the music's grid: nothing past a bar's end
            tick = round(n.start * TICKS_PER_BEAT)
            bar = max(i for i, line in enumerate(lines) if line <= tick)
            assert (tick - lines[bar]) % (TICKS_PER_BEAT // 2) == 0
            assert tick - lines[bar] < lines[bar + 1] - lines[bar]
        assert max(n.start for n in drums) <= max(n.start for n in pitched)
        heard = {(n.start, n.pitch) for n in decode(chunk.tolist(), Meter(list(music.meter)),
                                                     FOUR)}
        assert {(n.start, n.pitch) for n in pitched} <= heard   # the music as it was
        seen_late |= min(n.start for n in drums) > min(n.start for n in pitched)
    assert seen_late                           # the drummer joins a few bars in, at times


def test_no_groove_where_none_belongs():
    groove = _seq(_groove(8), "drums/rock", [(0, FOUR)], drums=True)
    chorale = _seq(_tune(8), "classical/chorale", [(0, FOUR)])
    waltz = _seq(_tune(8, beats=3), "folk/waltz", [(0, THREE)])    # no groove in 3/4
    grooves = Grooves([groove, chorale, waltz], np.random.default_rng(0))
    for seq in (chorale, waltz, groove):
        assert grooves.under(seq, 0, seq.tokens.astype(np.int64), 768) is None


def test_mixture_windows_in_training_batches():
    songs = [_seq(_tune(16, first=55 + i), "pop", [(0, FOUR)]) for i in range(3)]
    grooves = [_seq(_groove(16), "drums/funk", [(0, FOUR)], drums=True) for _ in range(2)]
    batches = iter(GeneratorBatches(songs + grooves, STYLES, window=256, batch=16,
                                    weights={"pop": 1.0}, mix=1.0, seed=0))
    x, _, styles, _ = next(batches)
    assert (x[:, 0] == BOS).all()
    for row, style in zip(x.numpy(), styles.numpy(), strict=True):
        notes = decode([t for t in row[1:] if t])
        assert any(n.drum for n in notes) and any(not n.drum for n in notes)
        assert STYLES[style] in ("pop", "")             # the music's tag (or dropped)


def test_one_part_of_the_music_alone_over_the_groove_at_times():
    band = [Note(b * 4 + i, 1.0, 72 + i, 90, part=MELODY) for b in range(8) for i in range(4)]
    band += [Note(b * 4, 4.0, 40, 90, part=BASS) for b in range(8)]
    music = _seq(band, "pop", [(0, FOUR)])
    grooves = Grooves([music, _seq(_groove(16), "drums/rock", [(0, FOUR)], drums=True)],
                      np.random.default_rng(0))
    chunk = music.tokens.astype(np.int64)
    kinds = [frozenset(n.part for n in grooves.mixture(music, 0, chunk, 2000) if not n.drum)
             for _ in range(40)]
    assert frozenset({MELODY, BASS}) in kinds and frozenset({BASS}) in kinds
    assert frozenset({MELODY}) in kinds
