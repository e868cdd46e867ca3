"""The running generations stepped as one batch: a guided generation's two rows move
through it as one (on an engine whose worker is off)."""

from __future__ import annotations

import time

import torch

from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.model.stream import Streamer
from bridge.vocab import BAR, Cursor, Meter


def _guided_engine(generator) -> Engine:
    """An engine (worker off) with a session guided toward style 2 and one plain session
    in style 1, both fed the same bar lines."""
    engine = Engine(generator, None, "cpu")
    engine._handle(("open", "guided", 2, True))
    engine._handle(("open", "plain", 1, False))
    for sid in ("guided", "plain"):
        engine._handle(("feed", sid, [BAR, BAR], time.perf_counter(), None))
    return engine


def _generation(sid: str, seed: int, guidance: float = 0.0) -> Generation:
    cursor = Cursor(Meter())
    return Generation(sid, cursor.time_tokens(0), cursor, end_tick=2 * 96, seed=seed,
                      guidance=guidance)


def test_a_guided_generation_samples_its_styled_state_pushed_away_from_its_unstyled_twin(
        models):
    from bridge.model.sampling import guide

    generator, _ = models
    engine = _guided_engine(generator)
    assert engine._states["guided"].batch == 2 and engine._states["plain"].batch == 1
    guided, plain = _generation("guided", 1, guidance=3.0), _generation("plain", 2)
    engine.running.begin(guided, engine._states["guided"])
    engine.running.begin(plain, engine._states["plain"])
    logits = engine.running.logits(engine.running.current().logits.numpy())
    # the same tokens through separate states: style 2, no style, style 1
    streamer = Streamer(generator, "cpu")
    refs = [streamer.start(style) for style in (2, 0, 1)]
    for state in refs:
        for token in [BAR, BAR, *guided.prefix]:
            streamer.feed(state, [token])
    styled, unstyled, other = (s.logits[0].numpy() for s in refs)
    assert torch.allclose(torch.tensor(logits[0]), torch.tensor(guide(styled, unstyled, 3.0)),
                          atol=1e-4)
    assert torch.allclose(torch.tensor(logits[1]), torch.tensor(other), atol=1e-5)
    assert not torch.allclose(torch.tensor(logits[0]), torch.tensor(styled), atol=1e-3)


def test_guided_generations_sample_alike_alone_and_batched_with_others(models):
    """A guided generation's two rows move through batches (which shrink as generations
    end) as one: its tokens are those it samples alone."""
    generator, _ = models
    runs = [("guided", 0, 4.0), ("plain", 1, 0.0), ("guided", 2, 2.0)]

    def run(chosen: list[tuple[str, int, float]]) -> list[list[int]]:
        engine = _guided_engine(generator)
        gens = [_generation(sid, seed, guidance) for sid, seed, guidance in chosen]
        for gen in gens:
            engine.running.begin(gen, engine._states[gen.session])
        while engine.running.active:
            engine.running.step()
        return [gen.tokens for gen in gens]

    together = run(runs)
    assert together == [run([one])[0] for one in runs]
    assert together[0] != together[2] and all(len(t) > 5 for t in together)


def test_a_batch_shrinks_in_place_as_its_generations_end(models):
    """Candidates of one choice end one by one; the batch they run in is not copied apart
    and stacked again each time (the allocator's churn: docs/latency.md), and each draws
    the tokens it draws alone."""
    generator, _ = models
    draws = [(5, 3), (6, 9), (7, 5), (8, 4096)]       # (seed, most tokens)

    def run(chosen: list[tuple[int, int]]) -> tuple[list[list[int]], set[int]]:
        engine = _guided_engine(generator)
        gens = [_generation("plain", seed) for seed, _ in chosen]
        for gen, (_, most) in zip(gens, chosen, strict=True):
            gen.max_tokens = most
        engine.running.begin(gens, engine._states["plain"])
        first = engine.running.current()           # held: its memory is not reused
        memory = set()
        while engine.running.active:
            memory.add(engine.running.current().h.data_ptr())
            engine.running.step()
        assert first.batch == len(chosen)
        return [gen.tokens for gen in gens], memory

    together, memory = run(draws)
    assert len(memory) == 1
    assert [len(t) for t in together[:3]] == [3, 9, 5] and len(together[3]) > 9
    assert together == [run([draw])[0][0] for draw in draws]
