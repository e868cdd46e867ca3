"""The simulated loop: callbacks in time order, time moving only when told."""

from __future__ import annotations

from bridge.timing.simloop import SimLoop


def test_callbacks_run_in_time_order_at_their_time_and_settle_after_each():
    settled: list[float] = []
    loop = SimLoop(10.0)
    loop.settle = lambda: settled.append(loop.time())
    seen: list[tuple[str, float]] = []

    def note(name: str) -> None:
        seen.append((name, loop.time()))
        if name == "b":                      # scheduled from a callback, due at once
            loop.call_soon(note, "b-soon")
            loop.call_later(0.5, note, "b-later")

    loop.call_at(12.0, note, "c")
    loop.call_at(11.0, note, "b")
    loop.call_at(10.5, note, "a")
    loop.call_at(11.0, note, "b2")           # same time: in the order asked
    loop.call_at(11.2, note, "never").cancel()
    loop.call_at(20.0, note, "later")
    loop.run_until(12.0)
    assert seen == [("a", 10.5), ("b", 11.0), ("b-soon", 11.0), ("b2", 11.0),
                    ("b-later", 11.5), ("c", 12.0)]
    assert settled == [t for _, t in seen] and loop.time() == 12.0
    loop.run_until(15.0)                     # nothing due: time moves on, nothing runs
    assert loop.time() == 15.0 and len(seen) == 6
    loop.run_until(25.0)
    assert seen[-1] == ("later", 20.0) and loop.time() == 25.0


def test_a_callback_due_in_the_past_runs_at_the_current_time():
    loop = SimLoop(5.0)
    seen = []
    loop.call_at(1.0, lambda: seen.append(loop.time()))
    loop.call_soon_threadsafe(lambda: seen.append(-loop.time()))
    loop.run_until(5.0)
    assert seen == [-5.0, 5.0]
