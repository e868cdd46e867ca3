"""The inference worker: feeds and generations in order, prepared generations, results
handed to the loop, tagging when idle."""

from __future__ import annotations

import asyncio
import copy
import threading
import time

import pytest
import torch

from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.model.stream import Streamer
from bridge.model.stream_graph import Graphs
from bridge.vocab import BAR, Cursor, Meter
from tests.waiting import wait_until


def test_tags_run_on_the_worker_when_it_is_idle(models):
    generator, tagger = models
    engine = Engine(generator, tagger, "cpu")        # no loop: results are called directly
    engine.start()
    got, done = [], threading.Event()

    def on_tags(session, tags):
        got.append((session, tags, threading.current_thread().name))
        done.set()

    engine.open("s", 0)
    engine.feed("s", [BAR, BAR])
    engine.tag("s", [BAR, BAR, BAR], on_tags)
    assert done.wait(10)
    assert got[0][0] == "s" and got[0][1] and got[0][2] == "continuo-inference"
    assert engine.stop(2.0)


def test_tagging_waits_for_generations_and_the_newest_request_wins(models):
    generator, tagger = models
    engine = Engine(generator, tagger, "cpu")
    events: list[str] = []
    both = threading.Event()
    cursor = Cursor(Meter())
    gen = Generation("s", cursor.time_tokens(0), cursor, end_tick=10**6, max_tokens=400,
                     seed=1, on_done=lambda g, reason: events.append("generation done"))

    def on_tags(session, tags):
        events.append("tags")
        both.set()

    engine.open("s", 0)
    engine.generate(gen)
    engine.tag("s", [BAR, BAR], on_tags)             # replaced by the next one
    engine.tag("s", [BAR, BAR, BAR], on_tags)
    engine.start()
    assert both.wait(20)
    engine.call(lambda: None)
    assert engine.stop(2.0)
    assert events == ["generation done", "tags"]


def test_latency_percentiles_for_status(models):
    generator, _ = models
    engine = Engine(generator, None, "cpu")
    engine.start()
    engine.open("s", 0)
    for _ in range(5):
        engine.feed("s", [BAR])
    fed = threading.Event()
    engine.call(fed.set)
    assert fed.wait(10)
    lat = engine.latency_ms()
    assert lat["feed_ms_n"] == 5
    assert 0 <= lat["feed_ms_p50"] <= lat["feed_ms_p90"] <= lat["feed_ms_p99"] \
        <= lat["feed_ms_max"]
    assert "first_note_ms_p50" not in lat
    assert engine.stop(2.0)


def test_a_request_is_served_between_the_pieces_of_a_tagging_pass(models, monkeypatch):
    generator, tagger = models
    engine = Engine(generator, tagger, "cpu")
    events: list[str] = []
    first_piece, posted = threading.Event(), threading.Event()
    whole = tagger.tag_steps

    def steps(tokens, *args, **kwargs):
        inner = whole(tokens, *args, **kwargs)
        yield next(inner)
        first_piece.set()
        posted.wait(5)                   # the request is queued before the next piece
        return (yield from inner)

    monkeypatch.setattr(tagger, "tag_steps", steps)
    done = threading.Event()
    engine.open("s", 0)
    engine.start()
    engine.tag("s", [BAR] * 300, lambda session, tags: (events.append("tags"), done.set()))
    assert first_piece.wait(5)
    engine.call(lambda: events.append("request"))
    posted.set()
    assert done.wait(10)
    assert engine.stop(2.0)
    assert events == ["request", "tags"]


def _started(generator, *, hold: bool, seed: int):
    """A fresh engine running a seeded generation; its notes and end reasons as they come."""
    engine = Engine(generator, None, "cpu")
    engine.start()
    notes, done = [], []
    cursor = Cursor(Meter())
    gen = Generation("s", cursor.time_tokens(0), cursor, end_tick=2 * 96, seed=seed,
                     note_now=True, hold=hold, on_note=lambda g, n: notes.append(n),
                     on_done=lambda g, reason: done.append(reason))
    engine.open("s", 0)
    engine.generate(gen)
    return engine, gen, notes, done


def _run(generator, *, hold: bool):
    """A seeded generation to its end; held ones are resumed once parked."""
    engine, gen, notes, done = _started(generator, hold=hold, seed=5)
    if hold:
        wait_until(lambda: notes, 10)
        time.sleep(0.2)
        assert len(notes) == 1 and not done          # parked at its first note
        engine.resume(gen)
    wait_until(lambda: done, 10)
    assert engine.stop(2.0)
    return gen, notes, done


def test_a_prepared_generation_waits_at_its_first_note_then_goes_on_as_if_never_held(models):
    generator, _ = models
    held, held_notes, held_done = _run(generator, hold=True)
    plain, plain_notes, plain_done = _run(generator, hold=False)
    assert held.tokens == plain.tokens and held_notes == plain_notes
    assert held_done == plain_done == ["end"]


def test_resuming_a_cancelled_prepared_generation_ends_it(models):
    generator, _ = models
    engine, gen, notes, done = _started(generator, hold=True, seed=2)
    wait_until(lambda: notes, 10)
    gen.cancel()
    engine.resume(gen)
    wait_until(lambda: done, 10)
    assert done == ["cancelled"] and len(notes) == 1
    assert engine.stop(2.0)


def test_results_reach_the_loop_in_order_and_a_stalled_loop_does_not_stall_the_worker(models):
    generator, _ = models
    loop = asyncio.new_event_loop()          # not running yet: nobody takes the hand-over
    engine = Engine(generator, None, "cpu", loop)
    engine.start()
    events = []

    def on_note(gen, note):
        events.append(("note", threading.current_thread() is threading.main_thread()))
        if len(events) == 1:
            raise RuntimeError("a broken callback")   # logged; the others still run

    cursor = Cursor(Meter())
    gen = Generation("s", cursor.time_tokens(0), cursor, end_tick=2 * 96, seed=1,
                     note_now=True, on_note=on_note,
                     on_done=lambda g, reason: events.append(("done", reason)))
    engine.open("s", 0)
    engine.generate(gen)
    wait_until(lambda: gen.reason, 10)         # the worker finished on its own
    assert not events
    loop.run_until_complete(asyncio.sleep(0.05))  # now the loop runs what it was handed
    assert events[-1] == ("done", "end")
    assert events[:-1] == [("note", True)] * len(gen.notes)
    assert engine.stop(2.0)
    loop.close()


def test_the_worker_waits_for_the_loop_to_send_a_responses_first_note_only(models):
    """A response's first note is handed over before the worker samples on; an
    accompaniment's (planned ahead, ``note_now`` off) is not waited for."""
    generator, _ = models

    async def main(note_now: bool) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        engine = Engine(generator, None, "cpu", loop)
        engine._results.wait_s = 10.0        # the wait's bound, out of the way
        engine.start()
        seen, done = [], loop.create_future()    # (tokens, notes) when the loop got one
        cursor = Cursor(Meter())
        gen = Generation("s", cursor.time_tokens(0), cursor, end_tick=4 * 96, seed=3,
                         note_now=note_now,
                         on_note=lambda g, n: seen.append((len(g.tokens), len(g.notes))),
                         on_done=lambda g, reason: done.set_result(reason))
        engine.open("s", 0)
        time.sleep(0.2)                      # the loop is busy: the worker must wait...
        engine.generate(gen)
        time.sleep(0.2)                      # ... or run ahead meanwhile
        await asyncio.wait_for(done, 10)
        assert engine.stop(2.0)
        return seen[0]

    assert asyncio.run(main(note_now=True)) == (4, 1)   # part, pitch, velocity, duration
    assert asyncio.run(main(note_now=False))[1] > 1    # it sampled on meanwhile


def _together(engine: Engine, seeds: list[int]) -> list[list[int]]:
    """Two rounds of seeded generations of different lengths, run at once (the batch
    shrinks as they end), from sessions fed alike; each one's tokens."""
    done, tokens = [], []
    engine.start()
    for i in range(len(seeds)):
        engine.open(f"s{i}", i)
        engine.feed(f"s{i}", [BAR] * (i + 1))
    for round_ in range(2):
        gens = []
        for i, seed in enumerate(seeds):
            cursor = Cursor(Meter())
            gens.append(engine.generate(Generation(
                f"s{i}", cursor.time_tokens(0), cursor, end_tick=(i + 1) * 96,
                seed=seed + round_, on_done=lambda g, reason: done.append(reason))))
        want = (round_ + 1) * len(seeds)
        wait_until(lambda: len(done) == want, 20)  # noqa: B023 (called in this round)
        tokens += [gen.tokens for gen in gens]
    assert engine.stop(2.0)
    return tokens


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))])
def test_generations_stepped_through_graph_slots_match_eager_steps(models, device):
    """Sessions' states, the generations cloned from them and the batches they form all
    move through the slots; the sampled tokens are those of plain steps. (On CPU the
    slots run the eager step: their bookkeeping is what is tested.)"""
    generator = copy.deepcopy(models[0]).to(device)
    runs = []
    for graphs in (True, False):
        engine = Engine(generator, None, device)
        engine.streamer = Streamer(generator, device, fast=False, graphs=graphs)
        if graphs and device == "cpu":
            engine.streamer.graphs = Graphs(engine.streamer, capture=False)
        runs.append(_together(engine, [3, 4, 5]))
    assert runs[0] == runs[1]
    assert all(len(tokens) > 10 for tokens in runs[0])


def test_a_failing_generation_ends_in_error_and_the_worker_goes_on(models):
    """Whatever a generation raises (here, its mask breaks), it ends with ``error``, the
    generations batched with it run to their end, and the worker serves on and says so."""
    generator, _ = models
    engine = Engine(generator, None, "cpu")
    engine.start()
    ended = []

    def gen() -> Generation:
        cursor = Cursor(Meter())
        return Generation("s", cursor.time_tokens(0), cursor, end_tick=2 * 96, seed=1,
                          note_now=True, on_done=lambda g, reason: ended.append(g))

    def broken_mask():
        raise RuntimeError("broken mask")

    good, broken, other = gen(), gen(), gen()
    broken.mask = broken_mask
    engine.open("s", 0)
    for g in (good, broken, other):
        engine.generate(g)
    wait_until(lambda: len(ended) == 3, 10)
    assert broken.reason == "error" and "broken mask" in broken.error
    assert good.reason == other.reason == "end" and good.notes and other.notes
    assert engine.health() == {"worker": "ok", "worker_errors": 1}
    again = gen()
    engine.generate(again)                          # still serving
    wait_until(lambda: again.reason, 10) and again.reason == "end"
    assert engine.stop(2.0)
    assert engine.health()["worker"] == "stopped"


def test_siblings_start_together_from_one_prefix_as_each_would_alone(models):
    generator, _ = models
    engine = Engine(generator, None, "cpu")
    cursor = Cursor(Meter(), origin=0)
    prefix = [BAR, *cursor.time_tokens(24)]
    for t in prefix:
        cursor.advance(t)

    def gen(seed: int) -> Generation:
        return Generation("s", list(prefix), cursor.copy(), end_tick=4 * 96, max_tokens=60,
                          seed=seed, candidate=True)

    engine.open("s", 0)
    engine.feed("s", [BAR, BAR])
    engine.drain()
    siblings = [gen(s) for s in (1, 2, 1)]
    engine.generate(siblings)
    rows, feed = [], engine.streamer.feed
    engine.streamer.feed = lambda state, tokens: (rows.append(len(tokens)), feed(state, tokens))
    engine.drain()
    engine.streamer.feed = feed
    assert rows[:len(prefix) + 1] == [*[1] * len(prefix), 3]      # the prefix fed once
    alone = engine.generate(gen(2))
    engine.drain()
    assert siblings[0].tokens == siblings[2].tokens != siblings[1].tokens
    assert siblings[1].tokens == alone.tokens
    assert engine.stats["prepared"] == 4 and engine.stats["generations"] == 0
    assert not engine.latency["first_note"]            # candidates are prepared work


def test_run_now_feeds_a_context_heard_before_only_once(models):
    generator, _ = models
    cursor = Cursor(Meter(), origin=0)
    prefix = [BAR, *cursor.time_tokens(24)]
    for t in prefix:
        cursor.advance(t)
    context = [BAR, BAR, BAR]

    def gen(seed: int) -> Generation:
        return Generation("offline", list(prefix), cursor.copy(), end_tick=4 * 96,
                          max_tokens=40, seed=seed)

    fresh = Engine(generator, None, "cpu")
    alone = [gen(s) for s in (1, 2)]
    for g in alone:
        Engine(generator, None, "cpu").run_now(g, context)
    rows, feed = [], fresh.streamer.feed
    fresh.streamer.feed = lambda state, tokens: (rows.append(len(tokens)), feed(state, tokens))
    again = [gen(s) for s in (1, 2)]
    fresh.run_now(again[0], context)
    first = len(rows)
    fresh.run_now(again[1], context)
    start = first - len(context) - len(prefix) - len(again[0].tokens)   # a fresh state's
    assert start in (0, 1)
    assert len(rows) - first == len(prefix) + len(again[1].tokens)   # no context fed
    assert [g.tokens for g in again] == [g.tokens for g in alone]
    before, other = len(rows), gen(1)
    fresh.run_now(other, [BAR, BAR])                     # another context: fed anew
    assert len(rows) - before == start + 2 + len(prefix) + len(other.tokens)
