"""A generation's own mask: it never strikes a note it still sounds, nor one note twice at an
instant, however hard the model pushes for it."""

from __future__ import annotations

from dataclasses import replace

import torch

from bridge.evaluate.musicality import duplicates, same_pitch_overlaps
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.model.sampling import Constraints
from bridge.music.tokenize import Decoder
from bridge.vocab import (
    BAR,
    BASS,
    DUR_BASE,
    HARMONY,
    MELODY,
    N_DURATIONS,
    PART_BASE,
    PITCH_BASE,
    VEL_BASE,
    Cursor,
    Meter,
    beat_token,
    note_token,
    part_token,
)


def _generation(end_tick: int = 4 * 96, part: int | None = MELODY) -> Generation:
    cursor = Cursor(Meter(), origin=0)
    cursor.advance(BAR)
    if part is not None:
        cursor.advance(part_token(part))
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


def test_a_sounding_note_is_left_out_in_every_part():
    gen = _generation()
    c4 = note_token(60, False)
    for token in (c4, VEL_BASE + 8, DUR_BASE + 47):
        gen.take(token)
    gen.take(part_token(HARMONY))                          # the same pitch, another part
    assert not gen.mask()[c4] and gen.mask()[note_token(64, False)]


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


def test_a_generation_asked_for_a_part_plays_it_and_hears_the_others():
    from bridge.music.piece import Note

    gen = _generation()
    gen.parts = frozenset((HARMONY,))
    assert gen.plays(Note(0, 1, 60, 80, part=HARMONY))
    assert not gen.plays(Note(0, 1, 72, 80, part=MELODY))
    gen.parts = frozenset((HARMONY, BASS))                              # the accompaniment
    assert gen.plays(Note(0, 1, 40, 80, part=BASS))
    assert not gen.plays(Note(0, 1, 72, 80, part=MELODY))
    assert _generation().plays(Note(0, 1, 72, 80, part=MELODY))      # no part: plays all


def test_no_part_is_offered_that_could_play_nothing():
    """A PART must be followed by a note: with one pitch allowed and it sounding, no part
    is offered, only time."""

    gen = _generation()
    gen.constraints = Constraints(pitch_low=60, pitch_high=60)
    for token in (note_token(60, False), VEL_BASE + 8, DUR_BASE + 47):
        gen.take(token)
    mask = gen.mask()
    assert not mask[PART_BASE:PART_BASE + 3].any() and mask[beat_token(1)]
    gen.take(beat_token(2))                      # it has ended: the other parts may play it
    assert gen.mask()[PART_BASE + HARMONY]


def test_a_part_asked_for_that_the_context_lacks_is_favoured_until_it_enters():
    from bridge.live.entry import ENTRY_BARS, ENTRY_BIAS
    from bridge.live.entry import entering as entering_parts
    from bridge.vocab import lowest_notes

    def entering(asks, tokens):
        return entering_parts(asks, lowest_notes(tokens, ENTRY_BARS))
    from bridge.music.piece import Note, Piece
    from bridge.music.tokenize import encode

    melody = [Note(b, 1.0, 72, 90, part=MELODY) for b in range(16)]
    bass = [Note(4 * b, 4.0, 36, 80, part=BASS) for b in range(2, 4)]
    accompaniment, harmony, lows = frozenset((HARMONY, BASS)), frozenset((HARMONY,)), \
        frozenset((BASS,))
    alone = encode(Piece(list(melody)))
    assert entering([accompaniment], alone) == {HARMONY, BASS}
    assert entering([], alone) == frozenset()
    joined = encode(Piece([*melody, *bass]))            # the bass in the last two bars
    assert entering([accompaniment], joined) == frozenset()   # the accompaniment sounds
    assert entering([harmony, lows], joined) == {HARMONY}     # a band: each player's part
    early = encode(Piece([*melody, *(replace(n, start=n.start - 8) for n in bass)]))
    assert entering([lows], early) == {BASS}             # two bars ago is gone
    gen = _generation()
    assert gen.bias() is None
    gen.entering = frozenset((BASS,))
    bias = gen.bias()
    assert bias[PART_BASE + BASS] == ENTRY_BIAS and bias.sum() == ENTRY_BIAS


def test_a_plan_resumed_later_places_nothing_before_it_and_is_not_told_a_note_is_due(models):
    """Accompaniment re-plans from the edge of what it committed: the generation starts at the
    cursor of its context and draws what comes first at or after the edge; a BEAT fed up to
    the edge would tell the model an event is due there."""
    from bridge.vocab import K_PART, K_PITCH, KIND, SUB_BASE, sub_token

    edge = 2 * 24 + 12                                   # beat 2, half way through
    gen = _generation(part=None)
    gen.not_before = edge
    mask = gen.mask()
    assert not mask[(KIND == K_PITCH) | (KIND == K_PART)].any()     # nothing here, now
    assert not mask[beat_token(1)] and mask[beat_token(2)] and mask[beat_token(3)]
    assert mask[BAR]
    gen.take(beat_token(2))
    mask = gen.mask()
    assert not mask[part_token(MELODY)] and not mask[sub_token(11)] and mask[sub_token(12)]
    gen.take(sub_token(12))
    assert gen.mask()[part_token(MELODY)]                # at the edge: free
    later = _generation(part=None)
    later.not_before = 5 * 96                            # in a later bar: only BAR on the way
    assert not later.mask()[SUB_BASE:SUB_BASE + 23].any() and later.mask()[BAR]
    accompany = _generation(part=None)                   # heard up to beat 1: until the edge
    accompany.parts = frozenset((HARMONY, BASS))         # it imagines the melody it hears
    accompany.heard_until, accompany.not_before = 24, edge
    assert not accompany.mask()[part_token(MELODY)] and accompany.mask()[beat_token(1)]
    accompany.take(beat_token(1))
    mask = accompany.mask()
    assert mask[part_token(MELODY)] and not mask[part_token(HARMONY)]
    accompany.take(part_token(MELODY))
    assert accompany.mask()[note_token(72, False)]

    generator, _ = models
    with torch.no_grad():                                # a model that wants notes at once
        generator.head.weight.zero_()
        generator.head.bias.zero_()
        generator.head.bias[PITCH_BASE + 60] = 30.0
    for seed in range(4):
        gen = _generation(end_tick=4 * 96, part=None)
        gen.not_before, gen.seed = edge, seed
        Engine(generator, None).run_now(gen, [BAR])
        assert gen.notes and min(n.start for n in gen.notes) * 24 >= edge


def _melody_then_bar_line(end_tick: int = 4 * 96) -> Generation:
    """A melody note on the first downbeat, then the second bar line: a bass asked for."""
    gen = _generation(end_tick)
    for token in (note_token(72, False), VEL_BASE + 8, DUR_BASE + 23, BAR):
        gen.take(token)
    gen.entering = frozenset((BASS,))
    return gen


def test_a_part_the_context_lacks_comes_in_on_the_first_bar_line_after_what_sounds_there():
    """Favoured only, a bass never came in where the model was sure of its tune; it comes in
    as parts came in while the model learnt: on a bar line, after the notes placed there."""
    from bridge.vocab import K_BAR, K_BEAT, K_SUB, KIND

    time = (KIND == K_BAR) | (KIND == K_BEAT) | (KIND == K_SUB)
    gen = _melody_then_bar_line()
    mask = gen.mask()
    assert not (mask & time).any() and mask[PART_BASE + BASS] and mask[note_token(74, False)]
    for token in (note_token(74, False), VEL_BASE + 8, DUR_BASE + 11):   # the tune first
        gen.take(token)
    assert not (gen.mask() & time).any() and gen.mask()[PART_BASE + BASS]
    for token in (PART_BASE + BASS, note_token(40, False), VEL_BASE + 8, DUR_BASE + 23):
        gen.take(token)
    assert gen.entered and (gen.mask() & time).any()       # in: the music moves on
    later = _melody_then_bar_line()
    later.take(beat_token(1))                              # between bar lines: free
    assert (later.mask() & time).any()
    last = _melody_then_bar_line(end_tick=96 + 48)         # no bar line before its end:
    last.take(beat_token(1))                               # the first beat it may play
    assert not (last.mask() & time).any()
    assert gen.sibling(3).entered is False


def test_a_part_brought_in_stays_under_the_parts_above_it():
    from bridge.live.entry import ENTRY_BARS, UNDER_MELODY
    from bridge.live.entry import ceilings as ceilings_of
    from bridge.music.piece import Note, Piece
    from bridge.music.tokenize import encode
    from bridge.vocab import DRUMS, lowest_notes

    tune = [Note(b, 1.0, 72 + b % 5, 90, part=MELODY) for b in range(16)]   # lowest 72
    alone = encode(Piece([Note(0, 1.0, 60, 90, part=MELODY), *tune[1:]]))  # 60: bar one
    assert lowest_notes(alone, 2) == {MELODY: 72}          # the part read from before

    def ceilings(parts, tokens):
        return ceilings_of(parts, lowest_notes(tokens, ENTRY_BARS))

    assert ceilings(frozenset((HARMONY, BASS, DRUMS)), alone) == (
        (HARMONY, 72 - UNDER_MELODY[HARMONY]), (BASS, 72 - UNDER_MELODY[BASS]))
    chords = [Note(4 * b, 4.0, p, 70, part=HARMONY) for b in range(4) for p in (55, 59, 62)]
    with_chords = encode(Piece([*tune, *chords]))
    assert ceilings(frozenset((BASS,)), with_chords) == ((BASS, 55),)   # under the chords
    assert ceilings(frozenset((BASS,)), encode(Piece([Note(0, 1.0, 36, 90, drum=True,
                                                           part=DRUMS)]))) == ()
    gen = _generation(part=None)
    gen.bring_in([frozenset((BASS,))], alone)
    assert gen.entering == {BASS} and gen.under == ((BASS, 72 - UNDER_MELODY[BASS]),)
    gen.take(PART_BASE + BASS)
    mask = gen.mask()
    assert mask[note_token(60, False)] and not mask[note_token(61, False)]
    narrow = _generation(part=None)
    narrow.constraints = Constraints(pitch_low=65)         # no pitch left under the tune
    narrow.bring_in([frozenset((BASS,))], alone)
    assert narrow.entering == {BASS} and narrow.under == ()


def test_a_bass_stays_in_its_register_unless_the_range_asked_for_lies_above_it():
    """However empty its context (a bass for a drummer drew up to pitch 92), a bass plays
    no higher than ``REGISTER_TOP``, and under a tune lower still; a range asked for above
    the register wins over it. Other parts keep their whole range."""
    from bridge.vocab import REGISTER_TOP

    top = REGISTER_TOP[BASS]
    gen = _generation(part=BASS)
    assert gen.mask()[note_token(top, False)] and not gen.mask()[note_token(top + 1, False)]
    assert _generation(part=MELODY).mask()[note_token(100, False)]   # a melody: any height
    under = _generation(part=BASS)
    under.under = ((BASS, 50),)
    assert under.mask()[note_token(50, False)] and not under.mask()[note_token(51, False)]
    high = _generation(part=BASS)
    high.constraints = Constraints(pitch_low=top + 3)     # asked for above the register
    assert high.mask()[note_token(top + 10, False)]
    assert not _generation(part=BASS).sibling(1).mask()[note_token(top + 1, False)]


def test_no_part_is_offered_whose_pitches_under_its_ceiling_all_sound():
    """A part brought in under a ceiling, with the pitches its range leaves under it all
    sounding: its PART is not offered (it was, and the note after it had no pitch left:
    the generation failed; tests/live/test_stage.py found it)."""
    gen = _generation(part=None)
    gen.constraints = Constraints(pitch_low=58, pitch_high=100)
    gen.entering, gen.under = frozenset((BASS,)), ((BASS, 60),)
    gen.sounding = {note_token(p, False): 10 * 96 for p in (58, 59, 60)}
    mask = gen.mask()
    assert not mask[PART_BASE + BASS] and mask[PART_BASE + MELODY]
    gen.sounding.pop(note_token(59, False))      # one left: the bass may come in
    assert gen.mask()[PART_BASE + BASS]
