"""The MIDI server watch: lost once, back once, backoff while away (no sleeps: each answer
is handed to it as the executor would)."""

from __future__ import annotations

import asyncio

from bridge.midi import watch


def _answer(w: watch.ServerWatch, running: bool) -> float:
    """Give the watch one answer; the delay until it asks again."""
    future = w.loop.create_future()
    future.set_result(running)
    w._answered(future)
    return w._timer.when() - w.loop.time()


def test_lost_once_back_once_with_backoff_between():
    async def body():
        events = []
        w = watch.ServerWatch(asyncio.get_running_loop(), "s", lambda: events.append("lost"),
                              lambda: events.append("back"), check=lambda name: True)
        delays = [_answer(w, ok) for ok in (True, False, False, False, False, True, True)]
        w.stop()
        return events, delays

    events, delays = asyncio.run(body())
    assert events == ["lost", "back"]
    expected = [watch.CHECK_S, watch.RETRY_S, 2 * watch.RETRY_S, 4 * watch.RETRY_S,
                8 * watch.RETRY_S, watch.CHECK_S, watch.CHECK_S]
    assert [round(d, 1) for d in delays] == expected


def test_ports_that_fail_to_open_are_tried_again():
    async def body():
        w = watch.ServerWatch(asyncio.get_running_loop(), "s", lambda: None,
                              lambda: 1 / 0, check=lambda name: True)
        _answer(w, False)
        _answer(w, True)              # back, but the ports could not be made
        still = w.up
        w.stop()
        return still

    assert asyncio.run(body()) is False


def test_asks_off_the_loop_and_stops_cleanly():
    async def body():
        asked = []
        w = watch.ServerWatch(asyncio.get_running_loop(), "s", lambda: None, lambda: None,
                              check=lambda name: asked.append(name) or True)
        w._ask()
        for _ in range(100):
            if asked:
                break
            await asyncio.sleep(0.01)
        w.stop()
        return asked

    assert asyncio.run(body()) == ["s"]
