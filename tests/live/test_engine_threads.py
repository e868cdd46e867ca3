"""The engine's two threads: the worker (feeds, generations) and the tagger."""

from __future__ import annotations

import threading

from bridge.live.engine import Engine
from bridge.vocab import BAR


def test_tags_come_from_their_own_thread_and_stop_stops_both(models):
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
    assert got[0][0] == "s" and got[0][1] and got[0][2] == "continuo-tagger"
    assert engine.stop(2.0)
    assert not engine._thread.is_alive() and not engine._tagging.is_alive()


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
