"""Quotes (bridge.live.quote): what a draw is offered of the bars heard before, how strongly
it follows, and which draws a choice keeps."""

from __future__ import annotations

import pytest

from bridge.live import quote as q
from bridge.live.choice import Choice
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.music.likeness import Bars
from bridge.music.piece import Note, Piece
from bridge.offline import ContinueOptions, plan_continuation
from bridge.vocab import BAR, TICKS_PER_BEAT, Cursor, Meter

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
    assert len(q.quotes(_heard(), Meter(), start)) == len(q.QUOTE_LAGS)
    assert q.bars_back(Meter(), start + 5, 3) == start - 3 * BAR_TICKS + 5


def _draw(models, quote_lag: int | None, seed: int, monkeypatch, bonus: float) -> list[Note]:
    generator, _ = models
    monkeypatch.setattr(q, "QUOTE_BONUS", bonus)
    prompt = Piece(_heard())
    start = 8 * BAR_TICKS
    gen, context, style, bar = plan_continuation(generator, prompt,
                                                 ContinueOptions(bars=2, seed=seed), start)
    if quote_lag is not None:
        gen.quote = q.Quote.of(prompt.notes, prompt.meter, start, quote_lag, bars=2)
    Engine(generator, None).run_now([gen], context, style, bar)
    return [(n.start, n.pitch) for n in gen.notes if n.start < 40]


def test_a_draw_follows_its_quote_as_strongly_as_the_bonus(models, monkeypatch):
    quoted = [(32 + 4 * b + i, 60 + b) for b in range(2) for i in range(4)]
    assert _draw(models, 8, 3, monkeypatch, bonus=60.0)[:8] == quoted  # told: it plays it
    free = [_draw(models, None, s, monkeypatch, bonus=60.0) for s in range(3)]
    assert all(d != quoted for d in free)                 # (the tiny model would not)


def _gen(seed: int | None = 2, bar: int = 0) -> Generation:
    """A response from the start of bar ``bar``, for 4 bars."""
    cursor = Cursor(Meter(), origin=0)
    for _ in range(bar + 1):
        cursor.advance(BAR)
    return Generation("s", [BAR] * (bar + 1), cursor, (bar + 4) * BAR_TICKS, seed=seed,
                      note_now=True)


def test_half_the_draws_quote_each_quote_in_turn():
    offered = q.quotes(_heard(), Meter(), 8 * BAR_TICKS)
    gens = q.draws(_gen(), 6, offered[:2])
    assert [g.seed for g in gens] == [12, 13, 14, 15, 16, 17]
    assert [g.quote for g in gens] == [None, None, None, offered[0], offered[1], offered[0]]
    assert all(g.quote is None for g in q.draws(_gen(), 4, []))


def test_a_quoting_draw_may_copy_no_more_bars_than_the_free_ones_do():
    heard = _heard(2)
    heard_bars = Bars((0.0, 4.0, 8.0))
    bars = Bars((8.0, 12.0, 16.0))
    copy = [Note(8 + i, 0.5, 60, 80) for i in range(4)]          # bar 0 again
    other = [Note(12 + i, 0.5, 70, 80) for i in range(4)]
    gens = q.draws(_gen(), 4, q.quotes(heard, Meter(), 8 * TICKS_PER_BEAT, lags=(2,)))
    spans = [other, other, copy, other]
    assert q.allowed(spans, gens, bars, heard, heard_bars) == [0, 1, 3]
    spans = [copy, other, copy, other]                            # a free draw copies too
    assert q.allowed(spans, gens, bars, heard, heard_bars) == [0, 1, 2, 3]


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
