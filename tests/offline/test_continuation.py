"""Whole-file continuation: where it starts and what it hears, on the piece's own grid."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from bridge.live.choice import in_key
from bridge.live.quote import GROOVE, TUNE
from bridge.music.likeness import Bars, consensus
from bridge.music.piece import Note, Piece
from bridge.offline.continuation import (
    CONTEXT_TOKENS,
    ContinueOptions,
    continue_piece,
    draw_candidates,
    draw_continuation,
    plan_continuation,
    prompt_of,
    quiet_bars,
    sides,
)
from bridge.vocab import (
    BAR,
    BEAT_BASE,
    DUR_BASE,
    MELODY,
    N_DURATIONS,
    PITCH_BASE,
    SUB_BASE,
    TICKS_PER_BEAT,
    Meter,
    part_index,
    part_token,
)

HALF = TICKS_PER_BEAT // 2


def _shifted_piece(bars: int = 6, *extra: Note) -> Piece:
    """4/4 bars that begin half a beat into the file (as POP909's do), a note per beat."""
    notes = [Note(0.5 + i, 0.75, 60 + i % 5, 80) for i in range(4 * bars)]
    return Piece([*notes, *extra], Meter([(HALF, 4 * TICKS_PER_BEAT)]))


def test_the_prompt_is_the_first_bars_cut_at_the_bar_line():
    piece = _shifted_piece(6, Note(8.0, 3.0, 72, 90))   # sounds across the line at 8.5
    prompt, start = prompt_of(piece, 2)
    assert start == HALF + 2 * 4 * TICKS_PER_BEAT
    assert max(n.start for n in prompt.notes) < 8.5
    assert max(n.end for n in prompt.notes) == pytest.approx(8.5)


def test_a_first_note_a_rounding_before_its_bar_line_stays_in_the_prompt():
    """POP909's first note may lie a hair before the beat its bar grid is read from (1.9979
    for 2.0): it is on that line, as the tokens place it, not dropped from the prompt."""
    early = Note(2.0 - 1 / 480, 1.0, 73, 90)
    piece = Piece([early, *(Note(3.0 + i, 0.5, 60, 80) for i in range(12))],
                  Meter([(2 * TICKS_PER_BEAT, 4 * TICKS_PER_BEAT)]))   # bars from beat 2
    prompt, start = prompt_of(piece, 2)
    assert start == 10 * TICKS_PER_BEAT
    assert prompt.notes[0] == early and len(prompt.notes) == 1 + 7
    assert piece.between(4.0, 6.0) == [n for n in piece.notes if 4.0 <= n.start < 6.0]


def test_without_prompt_bars_it_starts_on_the_next_beat_of_the_pieces_grid():
    piece = _shifted_piece()                       # the last note ends at beat 24.25
    _, start = prompt_of(piece)
    assert start == round(24.5 * TICKS_PER_BEAT)   # not beat 25: the grid is shifted


@pytest.mark.parametrize("signature, beat", [((6, 8), 4.5), ((3, 4), 4.0)])
def test_in_a_compound_meter_it_starts_on_the_next_dotted_quarter(signature, beat):
    """A jig (6/8) whose last note ends on its second bar's third eighth: its beats are
    dotted quarters, so it goes on from the bar's second beat (it came in on the fifth
    eighth, the next quarter note, off the jig's pulse); a waltz from the next quarter."""
    bar = 3 * TICKS_PER_BEAT
    notes = [Note(i * 0.5, 0.5, 62 + i % 5, 80) for i in range(8)]   # ends at beat 4.0
    piece = Piece(notes, Meter([(0, bar)]), signatures=((0, *signature),))
    _, start = prompt_of(piece)
    assert start == round(beat * TICKS_PER_BEAT)


def test_the_bars_no_note_starts_in_before_a_continuation_are_counted():
    tune = [Note(i, 0.9, 60 + i % 5, 80) for i in range(16)]        # 4 bars of 4
    assert quiet_bars(*prompt_of(Piece(tune))) == 0
    assert quiet_bars(*prompt_of(Piece(tune), 3)) == 0                # cut at a bar line
    drone = Piece([*tune, Note(15.0, 400.0, 36, 80)])                 # its last note held
    assert quiet_bars(*prompt_of(drone)) == 99                        # to beat 415: bars
    #                                                                   4-102 start nothing
    assert quiet_bars(Piece([]), 0) == 0


def test_a_note_shorter_than_a_tick_is_not_played_over():
    _, start = prompt_of(Piece([Note(0.0, 1 / 480, 60, 80)]))
    assert start == TICKS_PER_BEAT                 # the next beat, not the note's own


@pytest.mark.parametrize("prompt_bars", [None, 3])
def test_a_continuation_lies_on_the_grid_after_its_prompt(models, prompt_bars):
    generator, _ = models
    piece = _shifted_piece()
    _, start = prompt_of(piece, prompt_bars)
    end = piece.meter.shift(start, 2)
    for seed in range(3):                          # the model places its first note
        out = continue_piece(generator, piece, ContinueOptions(bars=2, prompt_bars=prompt_bars,
                                                               seed=seed))
        ticks = [round(n.start * TICKS_PER_BEAT) for n in out.notes]
        assert all(start <= t < end for t in ticks)
    with torch.no_grad():             # one that wants a note at once, on the earliest beat
        generator.head.weight.zero_()
        generator.head.bias.zero_()
        generator.head.bias[SUB_BASE:SUB_BASE + TICKS_PER_BEAT - 1] = -30.0
        generator.head.bias[BEAT_BASE:SUB_BASE] = -torch.arange(1.0, SUB_BASE - BEAT_BASE + 1)
        generator.head.bias[part_token(MELODY)] = 20.0
        generator.head.bias[PITCH_BASE + 60] = 20.0
    out = continue_piece(generator, piece, ContinueOptions(bars=2, prompt_bars=prompt_bars,
                                                           seed=1))
    first = min(n.start for n in out.notes) * TICKS_PER_BEAT
    assert first == start                          # on the piece's grid, not a whole beat


def test_a_continuation_ends_by_the_end_of_its_bars(models):
    """A note held on past the bars asked for is let go there: a file (or a clip made of
    it) is as long as asked for."""
    generator, _ = models
    piece = _shifted_piece()
    _, start = prompt_of(piece, 3)
    end = piece.meter.shift(start, 1) / TICKS_PER_BEAT
    with torch.no_grad():                          # one that holds every note 16 beats
        generator.head.bias[DUR_BASE:DUR_BASE + N_DURATIONS - 1] = -30.0
    for seed in range(2):
        out = continue_piece(generator, piece, ContinueOptions(bars=1, prompt_bars=3,
                                                               seed=seed))
        assert out.notes and all(n.start < end for n in out.notes)
        assert max(n.end for n in out.notes) == pytest.approx(end)


def test_drums_come_out_on_a_gm_kit_s_keys(models, monkeypatch):
    """The Roland keys the generator learnt from the Groove takes (closed and open hi-hat
    edges, 22 and 26) are silent on a GM kit: they leave on the hi-hats' GM keys, and a
    hit that lands on a key already struck at that instant is played once."""
    from bridge.offline import continuation as cont

    generator, _ = models
    piece = Piece([Note(float(i), 0.25, 36 + 6 * (i % 2), 90, drum=True) for i in range(16)],
                  Meter())
    _, start = prompt_of(piece)
    at = start / TICKS_PER_BEAT
    drawn = [Note(at, 0.1, 22, 90, drum=True), Note(at, 0.1, 42, 80, drum=True),
             Note(at + 1, 0.1, 26, 90, drum=True), Note(at + 1, 0.5, 64, 90)]
    monkeypatch.setattr(cont, "draw_continuation", lambda *a, **k: (drawn, drawn))
    out = continue_piece(generator, piece, ContinueOptions(bars=1, touch=False))
    assert [(n.start - at, n.pitch, n.velocity) for n in out.notes] == \
        [(0.0, 42, 90), (1.0, 64, 90), (1.0, 46, 90)]


def test_the_context_says_which_bar_of_the_prompt_it_begins_on(models):
    """Recall's phrase positions count bars from the piece's first: a prompt longer than the
    context is heard from a later bar, and the state is told which."""
    generator, _ = models
    short = _shifted_piece(4)
    _, context, _, bar = plan_continuation(generator, short, ContinueOptions(bars=1))
    assert bar == 0 and context[0] == BAR
    long = _shifted_piece(200)                     # far more than the context holds
    _, context, _, bar = plan_continuation(generator, long, ContinueOptions(bars=1))
    assert len(context) <= CONTEXT_TOKENS and context[0] == BAR
    assert bar + context.count(BAR) == 200 and bar > 100


def test_a_continuation_is_the_draw_most_like_the_others(models):
    generator, _ = models
    piece = _shifted_piece()
    options = ContinueOptions(bars=2, prompt_bars=3, seed=1, candidates=4)
    spans, chosen = draw_candidates(generator, piece, options)
    assert len(spans) == 4 and len({tuple(s) for s in spans}) > 1      # four draws
    _, start = prompt_of(piece, 3)
    bars = Bars.spanning(piece.meter, start, piece.meter.shift(start, 2))
    assert len(bars) == 2 and chosen == consensus(spans, bars)
    end = bars.lines[-1]                           # (a note held past it let go there)
    assert continue_piece(generator, piece, options).notes == [
        n if n.end <= end else replace(n, duration=end - n.start)
        for n in Piece(spans[chosen]).notes]
    one = continue_piece(generator, piece, ContinueOptions(bars=2, prompt_bars=3, seed=1,
                                                           candidates=1))
    assert one.notes == continue_piece(generator, piece, ContinueOptions(
        bars=2, prompt_bars=3, seed=1, candidates=1)).notes
    with pytest.raises(ValueError, match="candidates"):
        draw_candidates(generator, piece, ContinueOptions(candidates=0))


def test_quotes_are_offered_unless_a_style_is_asked_for(models, monkeypatch):
    import bridge.live.quote as quote

    generator, _ = models
    asked = []
    monkeypatch.setattr(quote, "quotes", lambda *args: asked.append(args) or [])
    for style in ("", generator.config.styles[-1]):
        draw_candidates(generator, _shifted_piece(), ContinueOptions(
            bars=1, prompt_bars=3, seed=1, candidates=2, style=style))
    assert asked[0][0] and not asked[1][0]       # the unstyled draw quotes, the styled not


def _groove(bars: int = 8) -> Piece:
    """Kick and snare on the beats, a bar's own hi-hat key in each bar."""
    return Piece([Note(4 * b + i, 0.25, key, 90, drum=True)
                  for b in range(bars) for i in range(4)
                  for key in (36 if i % 2 == 0 else 38, 42 + b % 3)])


@pytest.mark.parametrize("drums", [True, False])
def test_the_choice_hears_bars_heard_before_played_again(models, monkeypatch, drums):
    """A groove's latest bars; a tune's first strain (8 bars back) and its latest bars."""
    import bridge.live.choice as choice

    generator, _ = models
    seen = []
    monkeypatch.setattr(choice, "consensus", lambda *args: seen.append(args) or 0)
    monkeypatch.setattr(choice, "copying", lambda *args: "what copies cost")
    piece = _groove(9) if drums else _shifted_piece(9)
    draw_candidates(generator, piece, ContinueOptions(bars=1, prompt_bars=8, seed=0,
                                                      candidates=4))
    _, _, _, voters, bonus = seen[0]
    assert bonus == "what copies cost"       # (unstyled: no key, copies cost a little)
    prompt = prompt_of(piece, 8)[0].notes
    latest = [replace(x, start=x.start + 16) for x in prompt if 16 <= x.start < 32]
    if drums:
        assert voters == [(latest, GROOVE.voters[0][1])]
        return
    first = [replace(x, start=x.start + 32) for x in prompt if x.start < 16]
    assert voters == [(first, TUNE.voters[0][1]), (latest, TUNE.voters[1][1])]


def test_a_styled_choice_keeps_to_the_key_of_the_prompt(models, monkeypatch):
    import bridge.live.choice as choice

    generator, _ = models
    seen = []
    monkeypatch.setattr(choice, "consensus", lambda *args: seen.append(args) or 0)
    piece = _shifted_piece(9)
    style = next(s for s in generator.config.styles if s and "/" not in s)
    spans, _ = draw_candidates(generator, piece, ContinueOptions(
        bars=1, prompt_bars=8, seed=0, candidates=4, style=style))
    *_, voters, key = seen[0]
    assert voters == [] and key == in_key(spans, prompt_of(piece, 8)[0].notes)


def test_a_style_request_is_guided_as_hard_as_its_genres_strength(models):
    generator, _ = models
    generator.config = replace(generator.config, style_strength=(("folk", 2.5),))
    options = ContinueOptions(bars=1, guidance=1.2)
    folk = plan_continuation(generator, _shifted_piece(), replace(options, style="folk"))[0]
    pop = plan_continuation(generator, _shifted_piece(), replace(options, style="pop"))[0]
    assert (folk.guidance, pop.guidance) == (pytest.approx(3.0), pytest.approx(1.2))
    generator.config = replace(generator.config,
                               style_strength=(("folk", 2.5), ("jazz->folk", 4.0)))
    for heard, expected in (("jazz", 4.8), ("pop", 3.0), (None, 3.0)):
        gen = plan_continuation(generator, _shifted_piece(),
                                replace(options, style="folk", heard=heard))[0]
        assert gen.guidance == pytest.approx(expected)


def test_a_bass_asked_for_under_a_melody_comes_in_under_it(models):
    """`continue --part bass` on a melody alone: the bass comes in on the first bar line,
    an octave and more under the tune, even from a model sure the tune goes on alone."""
    from bridge.live.entry import UNDER_MELODY
    from bridge.vocab import BASS

    generator, _ = models
    with torch.no_grad():                          # the tune's pitch, and on in time
        generator.head.weight.zero_()
        generator.head.bias.zero_()
        generator.head.bias[PITCH_BASE + 72] = 20.0
        generator.head.bias[BEAT_BASE:SUB_BASE] = 15.0
    tune = Piece([Note(i * 0.5, 0.5, 67 + (i * 5) % 12, 90, part=MELODY) for i in range(40)])
    low = min(n.pitch for n in tune.notes if n.start >= 12)    # the last two bars' lowest
    for seed in range(4):
        out = continue_piece(generator, tune, ContinueOptions(bars=2, part="bass", seed=seed))
        assert out.notes and {n.part for n in out.notes} == {BASS}
        assert min(n.start for n in out.notes) == 20.0           # bar 6's line
        assert max(n.pitch for n in out.notes) <= low - UNDER_MELODY[BASS]


def test_a_line_played_alone_goes_on_alone(models):
    """No part asked for: a melody alone is continued as a melody, even by a model sure the
    chords come in now; a prompt of several parts leaves the model free to move."""
    from bridge.vocab import BASS, HARMONY

    generator, _ = models
    with torch.no_grad():                          # the chords' turn, at every instant
        generator.head.weight.zero_()
        generator.head.bias.zero_()
        generator.head.bias[part_token(HARMONY)] = 20.0
        generator.head.bias[BEAT_BASE:SUB_BASE] = 12.0
    tune = Piece([Note(i * 0.5, 0.5, 67 + (i * 5) % 12, 90, part=MELODY) for i in range(40)])
    for seed in range(3):
        out = continue_piece(generator, tune, ContinueOptions(bars=2, seed=seed))
        assert out.notes and {n.part for n in out.notes} == {MELODY}
    asked = continue_piece(generator, tune, ContinueOptions(bars=2, part="harmony", seed=0))
    assert asked.notes and {n.part for n in asked.notes} == {HARMONY}
    with_bass = replace(tune, notes=[*tune.notes, *(Note(i * 2.0, 2.0, 43, 80, part=BASS)
                                                    for i in range(10))])
    out = continue_piece(generator, with_bass, ContinueOptions(bars=2, seed=0))
    assert HARMONY in {n.part for n in out.notes}


def _band(bars: int = 8, drums_until: int = 8) -> Piece:
    """A tune with a groove under it, the groove playing its first ``drums_until`` bars."""
    tune = _shifted_piece(bars).notes
    groove = [replace(n, start=n.start + 0.5) for n in _groove(drums_until).notes]
    return Piece([*tune, *groove], Meter([(HALF, 4 * TICKS_PER_BEAT)]))


def test_drums_and_pitched_parts_that_both_play_now_are_heard_apart():
    prompt, start = prompt_of(_band(), 8)
    drums, pitched = sides(prompt, start)
    assert {n.drum for n in drums.notes} == {True} and {n.drum for n in pitched.notes} == {False}
    assert sorted(drums.notes + pitched.notes, key=str) == sorted(prompt.notes, key=str)
    assert drums.meter == pitched.meter == prompt.meter
    for quiet in (_band(drums_until=4),                        # the drummer stopped 4 bars ago
                  _band(drums_until=0),                        # no drummer
                  Piece([*_shifted_piece(8).notes,             # a crash and a kick of late
                         Note(28.5, 1.0, 49, 90, drum=True), Note(32.5, 0.5, 36, 90, drum=True)],
                        Meter([(HALF, 4 * TICKS_PER_BEAT)]))):
        prompt, start = prompt_of(quiet, 8)
        assert sides(prompt, start) == [prompt]


def test_a_band_goes_on_with_each_side_drawn_and_chosen_apart(models, monkeypatch):
    """Each side is planned on its own notes alone, drums for drums and pitches for the
    rest; pitched parts asked for hear the pitched parts alone, drums the whole band."""
    import bridge.offline.continuation as offline

    generator, _ = models
    planned = []
    plan = offline.plan_continuation

    def spy(generator, prompt, options, start_tick=None):
        gen, *rest = plan(generator, prompt, options, start_tick)
        planned.append(({n.drum for n in prompt.notes}, gen.constraints.drums,
                        options.style))
        return (gen, *rest)

    monkeypatch.setattr(offline, "plan_continuation", spy)
    options = ContinueOptions(bars=2, prompt_bars=8, seed=0, candidates=2)
    notes, first = draw_continuation(generator, _band(10), options)
    assert planned == [({True}, True, ""), ({False}, False, "")]
    assert notes == Piece(notes).notes and first == Piece(first).notes   # in time order
    for style, asked in (("folk", ["", "folk"]), ("drums/funk", ["drums/funk", ""])):
        planned.clear()
        draw_continuation(generator, _band(10), replace(options, style=style, heard="pop"))
        assert [p[2] for p in planned] == asked          # each side asked for its own
    planned.clear()
    draw_continuation(generator, _band(10), replace(options, part="bass"))
    assert planned == [({False}, False, "")]
    planned.clear()
    draw_continuation(generator, _band(10), replace(options, part="drums"))
    assert planned == [({True, False}, True, "")]


@pytest.mark.parametrize("part", ["bass", "accompaniment", "melody"])
def test_pitched_parts_for_a_drummer_come_in_hearing_no_drums_a_bass_led_by_the_kick(
        models, monkeypatch, part):
    """Over drums alone, pitched parts asked for are drawn from nothing heard (the model
    never heard drums and pitched parts at once), after a silence; a bass quotes the kick's
    hits (their drum keys, which it cannot play: only its time is led to them)."""
    import bridge.offline.continuation as offline
    from bridge.live.quote import KICKS, PULSE

    generator, _ = models
    seen = {}
    choosing = offline.choosing

    def spy(gen, k, heard, how):
        seen.update(prefix=list(gen.prefix), heard=list(heard), how=how)
        seen["gens"] = choosing(gen, k, heard, how)
        return seen["gens"]

    monkeypatch.setattr(offline, "choosing", spy)
    groove = _groove(10)
    options = ContinueOptions(bars=2, prompt_bars=8, seed=0, candidates=4, part=part)
    notes, _ = draw_continuation(generator, groove, options)
    assert notes and not any(n.drum for n in notes)
    assert seen["prefix"].count(BAR) == 4 + 1 and set(seen["prefix"]) == {BAR}   # silence
    if part == "melody":
        assert seen["heard"] == []                     # nothing to quote
        return
    _, start = prompt_of(groove, 8)
    assert seen["how"] == PULSE and seen["heard"] == \
        [n for n in groove.notes if n.start < start / TICKS_PER_BEAT]
    kicks = {round(n.start * TICKS_PER_BEAT) % (4 * TICKS_PER_BEAT)
             for n in groove.notes if n.pitch in KICKS}
    led = [e for g in seen["gens"] if g.quote is not None for e in g.quote.events]
    assert led and {e[0] % (4 * TICKS_PER_BEAT) for e in led} == kicks   # the kick's places
    assert {e[1] for e in led} == {part_index("bass")}                   # as the bass's
