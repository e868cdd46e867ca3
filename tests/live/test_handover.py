"""Worker -> loop results: in order, in one callback per hand-over, and the worker waits for
the loop only when something urgent (a response's first note) is in the batch."""

from __future__ import annotations

import asyncio
import threading

from bridge.live.handover import Handover


def _worker(handover: Handover, events: list, *, urgent: bool) -> threading.Thread:
    def run():
        handover.post(events.append, "first", urgent=urgent)
        handover.post(events.append, "second")
        handover.hand_over()
        events.append("worker went on")
    return threading.Thread(target=run)


def test_an_urgent_batch_holds_the_worker_until_the_loop_has_run_it():
    async def main():
        loop = asyncio.get_running_loop()
        events: list = []
        worker = _worker(Handover(loop, wait_s=10.0), events, urgent=True)
        worker.start()
        await loop.run_in_executor(None, worker.join)
        return events

    assert asyncio.run(main()) == ["first", "second", "worker went on"]


def test_other_batches_do_not_wait_for_the_loop():
    loop = asyncio.new_event_loop()          # not running: nobody takes the hand-over yet
    events: list = []
    worker = _worker(Handover(loop, wait_s=10.0), events, urgent=False)
    worker.start()
    worker.join(5.0)
    assert not worker.is_alive() and events == ["worker went on"]
    loop.run_until_complete(asyncio.sleep(0.01))
    assert events == ["worker went on", "first", "second"]
    loop.close()


def test_a_stalled_loop_holds_an_urgent_batch_no_longer_than_the_wait():
    loop = asyncio.new_event_loop()
    events: list = []
    worker = _worker(Handover(loop, wait_s=0.05), events, urgent=True)
    worker.start()
    worker.join(5.0)
    assert not worker.is_alive() and events == ["worker went on"]
    loop.close()


def test_without_a_loop_callbacks_run_at_once_and_a_failing_one_spares_the_rest():
    events: list = []
    handover = Handover(None)
    handover.post(events.append, 1)
    assert events == [1]
    loop = asyncio.new_event_loop()
    handover = Handover(loop)
    handover.post(lambda: 1 / 0)
    handover.post(events.append, 2)
    handover.hand_over()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert events == [1, 2]
    loop.close()
