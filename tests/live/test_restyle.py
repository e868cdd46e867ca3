"""A style request rebuilds the session's state in pieces while the state in use serves: the
worker is not held for hundreds of steps, and the state in place at the end is the one the
whole context heard in the new style (on an engine whose worker is off)."""

from __future__ import annotations

import random
import time

import pytest
import torch

from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.live.restyle import IDLE_PIECE
from bridge.vocab import BAR, VOCAB_SIZE, Cursor, Meter

CONTEXT = [BAR, *(random.Random(3).randrange(3, VOCAB_SIZE) for _ in range(5 * IDLE_PIECE))]
LATER = [BAR, 40, 50, 60]


def _engine(generator, style: int, guided: bool) -> Engine:
    engine = Engine(generator, None, "cpu")
    engine._handle(("open", "s", style, guided))
    engine._handle(("feed", "s", CONTEXT, time.perf_counter(), None))
    return engine


def _heard(engine: Engine, style: int, guided: bool, tokens: list[int]):
    return engine._heard_state(style, guided, 0, tokens)


def test_a_restyle_serves_the_state_in_use_meanwhile_and_puts_the_rebuilt_one_in_place(
        models):
    generator, _ = models
    for guided, rows in ((False, [2]), (True, [2, 0])):          # a guided twin: unstyled
        engine = _engine(generator, 1, guided)
        serving = engine._states["s"]
        engine._handle(("restyle", "s", 2, CONTEXT, guided, 0))
        assert engine._states["s"] is serving and engine._restyles     # not rebuilt yet
        assert serving.style.tolist() == rows                    # conditioned at once
        engine._handle(("feed", "s", LATER, time.perf_counter(), None))   # heard meanwhile
        engine.drain()
        assert not engine._restyles and engine._states["s"] is not serving
        reference = _heard(engine, 2, guided, CONTEXT + LATER)
        assert torch.allclose(engine._states["s"].logits, reference.logits, atol=1e-5)
        assert torch.allclose(engine._states["s"].h, reference.h, atol=1e-5)


def test_a_generation_asked_for_meanwhile_starts_without_waiting_for_the_rebuild(models):
    generator, _ = models
    engine = _engine(generator, 1, False)
    engine._handle(("restyle", "s", 2, CONTEXT, False, 0))
    cursor = Cursor(Meter())
    gen = Generation("s", cursor.time_tokens(0), cursor, end_tick=4 * 96, seed=0)
    engine._handle(("generate", [gen]))
    assert engine.running.active == [gen] and engine._restyles
    engine.running.step()
    assert engine._restyles.rebuilds["s"].pending         # one step, and the rebuild waits


@pytest.mark.parametrize(("old", "new"), [((0, False), (2, True)), ((1, False), (2, True)),
                                          ((1, True), (2, False))])
def test_a_twin_added_or_dropped_serves_meanwhile_too(models, old, new):
    """A guided twin comes or goes: the state in use serves in the new rows at once (the
    first styled, a twin unstyled), and the rebuilt one goes in place."""
    generator, _ = models
    engine = _engine(generator, *old)
    engine._handle(("restyle", "s", new[0], CONTEXT, new[1], 0))
    serving = engine._states["s"]
    assert engine._restyles and serving.style.tolist() == [new[0], 0][:1 + new[1]]
    engine._handle(("feed", "s", LATER, time.perf_counter(), None))
    engine.drain()
    reference = _heard(engine, *new, CONTEXT + LATER)
    assert engine._states["s"] is not serving
    assert torch.allclose(engine._states["s"].logits, reference.logits, atol=1e-5)


def test_a_twin_dropped_for_no_style_is_the_state_at_once(models):
    """Asked for no style, a guided session's unstyled twin is that state already: it heard
    the whole context without one, so nothing is rebuilt."""
    generator, _ = models
    engine = _engine(generator, 1, True)
    fed, feed_each = [], engine.streamer.feed_each
    engine.streamer.feed_each = lambda state, tokens: (fed.append(tokens),
                                                       feed_each(state, tokens))
    engine._handle(("restyle", "s", 0, CONTEXT, False, 0))
    assert not engine._restyles and not fed
    state, reference = engine._states["s"], _heard(engine, 0, False, CONTEXT)
    assert state.batch == 1 and state.style.tolist() == [0]
    assert torch.allclose(state.logits, reference.logits, atol=1e-5)
    assert torch.allclose(state.h, reference.h, atol=1e-5)


def test_a_closed_session_stays_closed(models):
    generator, _ = models
    engine = _engine(generator, 1, False)
    engine._handle(("restyle", "s", 3, CONTEXT, True, 0))
    engine._handle(("close", "s"))
    engine.drain()
    assert "s" not in engine._states and not engine._restyles
