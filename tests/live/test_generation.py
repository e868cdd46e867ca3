"""A generation's own mask: it never strikes a note it still sounds, nor one note twice at an
instant, however hard the model pushes for it."""

from __future__ import annotations

import torch

from bridge.evaluate.musicality import duplicates, same_pitch_overlaps
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.music.tokenize import Decoder
from bridge.vocab import (
    BAR,
    DUR_BASE,
    N_DURATIONS,
    PITCH_BASE,
    VEL_BASE,
    Cursor,
    Meter,
    beat_token,
    note_token,
)


def _generation(end_tick: int = 4 * 96) -> Generation:
    cursor = Cursor(Meter(), origin=0)
    cursor.advance(BAR)
    gen = Generation("s", [], cursor, end_tick)
    gen.decoder = Decoder(cursor)
    return gen


def test_a_sounding_note_is_left_out_until_it_ends():
    gen = _generation()
    c4 = note_token(60, False)
    for token in (c4, VEL_BASE + 8, DUR_BASE + 47):         # 48 ticks: two beats
        assert gen.mask()[token]
        gen.take(token)
    assert not gen.mask()[c4]                              # the same instant
    gen.take(beat_token(1))
    assert not gen.mask()[c4] and gen.mask()[note_token(62, False)]   # still sounding
    gen.take(beat_token(2))                                # it ended here: free again
    assert gen.mask()[c4] and not gen.sounding


def test_a_model_that_wants_one_long_note_gets_neither_repeats_nor_overlaps(models):
    generator, _ = models
    with torch.no_grad():                # every note C4, as long as possible, at once
        generator.head.weight.zero_()
        generator.head.bias.zero_()
        generator.head.bias[PITCH_BASE + 60] = 30.0
        generator.head.bias[PITCH_BASE + 62] = 20.0
        generator.head.bias[DUR_BASE + N_DURATIONS - 1] = 30.0
    gen = _generation(end_tick=8 * 96)
    gen.note_now = True
    Engine(generator, None).run_now(gen, [BAR])
    assert len(gen.notes) >= 2
    assert duplicates(gen.notes) == 0 and same_pitch_overlaps(gen.notes) == 0
