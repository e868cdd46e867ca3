"""The inference worker: feeds and generations in order, tagging when idle."""

from __future__ import annotations

import threading

from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.vocab import BAR, Cursor, Meter


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
