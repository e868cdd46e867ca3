"""Quotes (bridge.live.quote): what a draw is offered of the bars heard before, how strongly
it follows, and which draws a choice keeps."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.live import choice as ch
from bridge.live import quote as q
from bridge.live.choice import Choice, choose
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.model.sampling import Constraints
from bridge.music.likeness import Bars, consensus
from bridge.music.piece import Note, Piece
from bridge.offline.continuation import ContinueOptions, plan_continuation
from bridge.vocab import BAR, DRUMS, TICKS_PER_BEAT, Cursor, Meter
from tests.music.pieces import riff

BAR_TICKS = 4 * TICKS_PER_BEAT


def _heard(bars: int = 8) -> list[Note]:
    """A bar's own figure in each bar: bar b plays 60 + b on its beats."""
    return [Note(4 * b + i, 0.5, 60 + b, 80, part=0) for b in range(bars) for i in range(4)]


def test_a_quote_is_the_bars_heard_that_many_bars_back_moved_on():
    start = 8 * BAR_TICKS
    quote = q.Quote.of(_heard(), Meter(), start, lag=8, bars=2)
    assert [(t - start, note) for t, _, note, _, _ in quote.events] == [
        (i * TICKS_PER_BEAT + b * BAR_TICKS, q.note_token(60 + b, False))
        for b in range(2) for i in range(4)]
    assert quote.end == start + 2 * BAR_TICKS
    short = q.Quote.of(_heard(), Meter(), start, lag=1, bars=4)   # only up to the start
    assert short.end == start + BAR_TICKS and len(short.events) == 4
    late = [n for n in _heard() if n.start >= 24]                  # bars 6 and 7 only
    assert q.Quote.of(late, Meter(), start, lag=8) is None         # nothing there
    assert len(list(q.quotes(_heard(), Meter(), start, None))) == len(q.TUNE.lags)
    early = q.Quote.of(_heard(), Meter(), start, lag=10)        # reaches back before bar 0
    assert (early.begin, early.end) == (start + 2 * BAR_TICKS, start + 4 * BAR_TICKS)
    assert early.events[0][0] == early.begin                    # no silence quoted before it
    assert quote.begin is None                                  # all heard: from wherever


def _draw(models, quote_lag: int | None, seed: int, bonus: float) -> list[Note]:
    generator, _ = models
    prompt = Piece(_heard())
    start = 8 * BAR_TICKS
    gen, context, style, bar = plan_continuation(generator, prompt,
                                                 ContinueOptions(bars=2, seed=seed), start)
    if quote_lag is not None:
        gen.quote = q.Quote.of(prompt.notes, prompt.meter, start, quote_lag, bars=2,
                               bonus=bonus)
    Engine(generator, None).run_now([gen], context, style, bar)
    return [(n.start, n.pitch) for n in gen.notes if n.start < 40]


def test_a_draw_follows_its_quote_as_strongly_as_the_bonus(models):
    quoted = [(32 + 4 * b + i, 60 + b) for b in range(2) for i in range(4)]
    assert _draw(models, 8, 3, bonus=60.0)[:8] == quoted  # told: it plays it
    free = [_draw(models, None, s, bonus=60.0) for s in range(3)]
    assert all(d != quoted for d in free)                 # (the tiny model would not)


def _gen(seed: int | None = 2, bar: int = 0) -> Generation:
    """A response from the start of bar ``bar``, for 4 bars."""
    cursor = Cursor(Meter(), origin=0)
    for _ in range(bar + 1):
        cursor.advance(BAR)
    return Generation("s", [BAR] * (bar + 1), cursor, (bar + 4) * BAR_TICKS, seed=seed,
                      note_now=True)


def test_half_the_draws_quote_each_quote_in_turn():
    offered = list(q.quotes(_heard(), Meter(), 8 * BAR_TICKS, None))
    gens = q.draws(_gen(), 6, offered[:2])
    assert [g.seed for g in gens] == [12, 13, 14, 15, 16, 17]
    assert [g.quote for g in gens] == [None, None, None, offered[0], offered[1], offered[0]]
    assert all(g.quote is None for g in q.draws(_gen(), 4, []))


def test_a_groove_is_quoted_by_nearly_every_draw_the_latest_bars_first_and_harder():
    drums = [Note(4 * b + i, 0.25, 36 if i % 2 == 0 else 38, 90, drum=True, part=DRUMS)
             for b in range(8) for i in range(4)]
    groove = Generation("s", [BAR], Cursor(Meter(), origin=0), 4 * BAR_TICKS, seed=1,
                        constraints=Constraints(drums=True))
    assert q.quoting(groove) is q.GROOVE and q.quoting(_gen()) is q.TUNE
    offered = list(q.quotes(drums, Meter(), 8 * BAR_TICKS, frozenset((DRUMS,)), q.GROOVE))
    assert offered[0].events[0][0] == 8 * BAR_TICKS            # bar 4 again: the latest bars
    assert offered[0] == q.Quote.of(drums, Meter(), 8 * BAR_TICKS, 4, bonus=q.GROOVE.bonus,
                                    steers=frozenset((DRUMS,)))
    assert q.GROOVE.bonus > q.TUNE.bonus
    gens = q.draws(groove, 16, offered, q.GROOVE.free)
    assert [g.quote is None for g in gens] == [True, True] + [False] * 14
    assert [g.quote is None for g in q.draws(groove, 2, offered, q.GROOVE.free)] == [True, False]


def _beat(bars: int = 8, hats: bool = True) -> list[Note]:
    """A kick on every beat, and a hat on an off-beat that moves on bar by bar (a drummer's,
    no loop); ``hats`` False: the kicks alone (a drum machine's loop)."""
    kicks = [Note(4 * b + i, 0.25, 36, 90, drum=True, part=DRUMS)
             for b in range(bars) for i in range(4)]
    hat = [Note(4 * b + b % 4 + 0.5, 0.25, 42, 60, drum=True, part=DRUMS) for b in range(bars)]
    return sorted([*kicks, *hat], key=lambda n: n.start) if hats else kicks


def _drums(bar: int = 8) -> Generation:
    """A drum answer from the start of bar ``bar``, for 4 bars."""
    cursor = Cursor(Meter(), origin=0)
    for _ in range(bar + 1):
        cursor.advance(BAR)
    return Generation("s", [BAR] * (bar + 1), cursor, (bar + 4) * BAR_TICKS, seed=0,
                      note_now=True, constraints=Constraints(drums=True),
                      parts=frozenset((DRUMS,)))


def test_a_choice_of_drums_alone_quotes_as_a_groove():
    choice = Choice(_drums(), 8, _beat())
    assert choice.how is q.GROOVE
    assert [g.quote is None for g in choice.gens] == [True] + [False] * 7
    assert {g.quote.bonus for g in choice.gens[1:]} == {q.GROOVE.bonus}
    assert choice.gens[1].quote.events[0][0] == 8 * BAR_TICKS    # bar 4: 4 bars back
    [(notes, weight)] = choice.voters             # the choice hears bars 4-7 played again
    assert (4, weight) == q.GROOVE.voters[0]
    assert [n.start for n in notes if n.pitch == 36] == list(range(32, 48))
    bass = [Note(4 * b, 4.0, 40, 80, part=2) for b in range(8)]          # (not its part)
    assert q.voters(_drums(), sorted([*_beat(), *bass], key=lambda n: n.start)) == \
        choice.voters
    assert q.voters(_drums(), []) == []                                 # nothing heard


def test_a_tunes_choice_hears_its_first_strain_and_its_latest_bars_played_again():
    heard = _heard()                                  # bar b plays 60 + b
    [(first, w8), (latest, w4)] = Choice(_gen(bar=8), 4, heard).voters
    assert (8, w8) == q.TUNE.voters[0] and (4, w4) == q.TUNE.voters[1]
    assert [n.pitch for n in first] == [60 + b for b in range(4) for _ in range(4)]
    assert [n.pitch for n in latest] == [64 + b for b in range(4) for _ in range(4)]
    assert [n.start for n in first] == [n.start for n in latest] == list(range(32, 48))
    # six bars heard: the first strain's bars that were heard (bars 8-7 back are not)
    [(first, _), _] = q.voters(_gen(bar=6), _heard(6))
    assert [n.pitch for n in first] == [60, 60, 60, 60, 61, 61, 61, 61]
    assert [n.start for n in first] == list(range(32, 40))      # in the bars they fall in


def test_a_groove_answered_alone_quotes_its_latest_bars_a_tune_does_not():
    drums, groove = _beat(), _drums()
    quote = q.alone(groove, drums)
    assert quote == q.Quote.of(drums, Meter(), 8 * BAR_TICKS, 4, bonus=q.GROOVE.bonus,
                               steers=frozenset((DRUMS,)))
    assert q.alone(groove, []) is None                          # nothing heard
    assert q.alone(_gen(bar=8), _heard()) is None               # a tune's: free
    groove.quote = quote                    # a choice's free draws do not inherit it
    gens = q.draws(groove, 8, list(q.quotes(drums, Meter(), 8 * BAR_TICKS, None, q.GROOVE)),
                   q.GROOVE.free)
    assert gens[0].quote is None and all(g.quote is not None for g in gens[1:])


def test_an_answer_alone_reads_only_the_bars_it_quotes(monkeypatch):
    """A session hears up to HEARD_NOTES notes, and a drummer's lone answer is made on
    every request and every answer kept ready: it reads the bars of its first lag, not
    every lag's (a band's first note had come 5 ms later for it)."""
    made = []
    of = q.Quote.of.__func__
    monkeypatch.setattr(q.Quote, "of", classmethod(
        lambda cls, *a, **k: made.append(a[3]) or of(cls, *a, **k)))
    drums, groove = _beat(), _drums()
    assert q.alone(groove, drums) is not None and made == [q.GROOVE.lags[0]]
    made.clear()
    assert len(list(q.quotes(drums, Meter(), 8 * BAR_TICKS, None, q.GROOVE))) == 4
    assert made == list(q.GROOVE.lags)


def test_a_quoting_draw_may_copy_no_more_bars_than_the_free_ones_do():
    heard = _heard(2)
    heard_bars = Bars((0.0, 4.0, 8.0))
    bars = Bars((8.0, 12.0, 16.0))
    copy = [Note(8 + i, 0.5, 60, 80) for i in range(4)]          # bar 0 again
    other = [Note(12 + i, 0.5, 70, 80) for i in range(4)]
    two_back = q.Quoting(free=0.5, bonus=2.0, lags=(2,))
    gens = q.draws(_gen(), 4, list(q.quotes(heard, Meter(), 8 * TICKS_PER_BEAT, None, two_back)))
    spans = [other, other, copy, other]
    assert ch.allowed(gens, ch.copied(spans, bars, heard, heard_bars)) == [0, 1, 3]
    spans = [copy, other, copy, other]                            # a free draw copies too
    assert ch.allowed(gens, ch.copied(spans, bars, heard, heard_bars)) == [0, 1, 2, 3]


def test_a_draw_loses_a_little_in_the_choice_for_each_bar_it_copies():
    heard = _heard(2)
    heard_bars, bars = Bars((0.0, 4.0, 8.0)), Bars((8.0, 12.0, 16.0))
    copy = [Note(8 + i, 0.5, 60, 80) for i in range(4)]          # bar 0 again
    both = [*copy, *(Note(12 + i, 0.5, 61, 80) for i in range(4))]   # bars 0 and 1 again
    moved = [Note(8 + i, 0.5, 63, 80) for i in range(4)]          # higher: a bar of its own
    assert ch.copying(ch.copied([copy, both, moved, []], bars, heard, heard_bars), len(bars)) \
        == [-ch.COPY_WEIGHT / 2, -ch.COPY_WEIGHT, 0.0, 0.0]
    assert ch.copying(ch.copied([copy], bars, [], heard_bars), len(bars)) == [0.0]   # none heard
    assert consensus([copy, moved], bars) == 0                    # alike: the first
    assert consensus([copy, moved], bars, bonus=ch.copying(
        ch.copied([copy, moved], bars, heard, heard_bars), len(bars))) == 1


def test_a_choice_quotes_what_was_heard_before_it():
    heard = [*_heard(8), Note(40, 1, 90, 80)]                        # (a note after: not)
    choice = Choice(_gen(bar=8), 4, heard)
    assert [g.quote is not None for g in choice.gens] == [False, False, True, True]
    assert {g.quote.end for g in choice.gens[2:]} == {12 * BAR_TICKS}   # lags 8 and 7
    assert all(n.start < 32 for n in choice.heard_notes)
    assert choice.heard_bars.lines == tuple(4.0 * b for b in range(9))
    assert all(g.quote is None for g in Choice(_gen(bar=8), 4).gens)  # nothing heard


@pytest.mark.parametrize("k", [2, 3])
def test_a_choice_without_quotes_is_as_before(k):
    assert [g.seed for g in Choice(_gen(5), k).gens] == [5 * k + i for i in range(k)]


def test_a_quote_says_nothing_before_what_it_quotes_was_heard():
    early = q.Quote.of(_heard(), Meter(), 8 * BAR_TICKS, lag=10)   # bars 0-1, at bars 10-11
    assert early.bias(_gen(bar=8)) is None                          # bars 8-9: not heard then
    assert early.bias(_gen(bar=10)) is not None


def test_a_quote_leads_time_to_the_onsets_of_the_parts_it_steers_by():
    lead = [Note(4 * b + i, 0.5, 72, 80, part=0) for b in range(8) for i in (1, 3)]
    chords = [Note(4 * b + 2, 1.0, 48, 80, part=1) for b in range(8)]     # on beat 3
    heard = sorted([*lead, *chords], key=lambda n: n.start)
    gen = _gen(bar=8)                                    # at bar 8's line, before any note
    every = q.Quote.of(heard, Meter(), 8 * BAR_TICKS, 4)
    steered = q.Quote.of(heard, Meter(), 8 * BAR_TICKS, 4, steers=frozenset((1,)))
    to = {name: int(np.flatnonzero(quote.bias(gen))[0])
          for name, quote in (("every", every), ("steered", steered))}
    assert to["every"] == gen.cursor.copy().time_tokens(8 * BAR_TICKS + TICKS_PER_BEAT)[0]
    assert to["steered"] == gen.cursor.copy().time_tokens(8 * BAR_TICKS + 2 * TICKS_PER_BEAT)[0]


def test_a_loop_is_quoted_whole_turns_back_by_nearly_every_draw():
    assert q.loop(1).lags == (4, 5, 6, 7, 8) and q.loop(2).lags == (4, 6, 8)
    assert q.loop(3).lags == (6,) and q.loop(4).lags == (4, 8)
    assert q.loop(3).voters == ((6, 1.0),) and q.loop(3).single
    assert q.loop(2, rest=1).lags == (6, 8) and q.loop(4, rest=3).lags == (8,)
    assert q.quoting(_gen(bar=9), riff(3, bars=9)) == q.loop(3)
    assert q.quoting(_gen(bar=10), riff(3, bars=9)) == q.loop(3, 1)
    assert q.quoting(_gen(bar=8), _heard()) is q.TUNE
    choice = Choice(_gen(bar=8), 8, riff(2))
    assert [g.quote is None for g in choice.gens] == [True] + [False] * 7
    [(notes, weight)] = choice.voters                             # the next turns
    assert weight == 1.0 and [n.pitch for n in notes] == [60 + b % 2 for b in range(4)
                                                          for _ in range(4)]
    assert q.alone(_gen(bar=8), riff(2)) is not None             # alone too


def test_a_loops_draws_may_copy_the_bars_heard():
    """A choice keeps out quoting draws that copy more bars than the free ones, and takes a
    little from a draw for each bar it copies; not when what was heard goes round exactly."""
    heard_bars, bars = Bars(tuple(4.0 * b for b in range(9))), Bars((32.0, 36.0))
    copy = [Note(32 + i, 0.5, 60, 80, part=0) for i in range(4)]     # bar 0 again
    fresh = [Note(32 + i, 0.5, 70, 80, part=0) for i in range(4)]
    for heard, chosen in ((_heard(), 0), (riff(2), 1)):
        gen = _gen(bar=8)
        how = q.quoting(gen, heard)
        gens = q.draws(gen, 2, list(q.quotes(heard, Meter(), 8 * BAR_TICKS, None)))
        assert chosen == choose([fresh, copy], gens, bars, heard, heard_bars,
                                [(copy, 1.0)], loop=how.copies)   # a voter for the copy
        choice = Choice(gen, 2, heard)
        choice.heard = [fresh, copy]
        for g in choice.gens:
            g.cursor.advance(BAR)                   # drawn: the cursor has moved on
            choice._done(g, "end")
        assert choice.chosen == chosen


def test_what_a_part_plays_going_round_is_a_loop_whatever_the_others_play():
    """A drum machine's loop under a bass line played live: the drums' choice quotes the
    loop; a choice of any part hears the whole texture, which does not go round."""
    bass = [Note(4 * b + i, 1.0, 40 + b + i, 80, part=2) for b in range(8) for i in range(4)]
    heard = sorted([*_beat(hats=False), *bass], key=lambda n: n.start)
    assert q.quoting(_drums(), heard) == q.loop(1)
    assert q.quoting(_gen(bar=8), heard) is q.TUNE


def test_a_bass_for_a_drummer_hears_its_own_answers_and_no_other_pitched_part():
    """Drums heard, and pitched notes only of the parts it plays (its own answers before):
    still a bass for a drummer, led by the kick (a call's second answer was not: it heard
    its first, and drifted off the kick, 0.39 of its notes on it against 0.63)."""
    from bridge.vocab import BASS, MELODY

    bass = _gen()
    bass.parts = frozenset((BASS,))
    kit = [Note(b, 0.25, 36 if b % 2 == 0 else 38, 100, drum=True, part=DRUMS)
           for b in range(16)]
    answer = [Note(16 + b, 0.5, 40, 90, part=BASS) for b in range(4)]
    assert q.for_a_drummer(bass, kit) and q.for_a_drummer(bass, [*kit, *answer])
    assert q.quoting(bass, [*kit, *answer]) == q.PULSE
    tune = [Note(16 + b, 0.5, 72, 90, part=MELODY) for b in range(4)]
    assert not q.for_a_drummer(bass, [*kit, *tune])          # a band: a tune to go with
    assert not q.for_a_drummer(bass, answer)                  # no drummer
