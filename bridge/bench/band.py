"""The band in ``continuo bench``: four stand-ins in one band over real UDP loopback: one
performs the melody, three play (harmony, bass, drums), one transport at 120 bpm.

    call       per trial the performer plays a phrase (4 notes of 20 ms, 10 ms apart) and
               sends ``/continuo/generate/start``; one sample is the time from sending it to
               the first ``/continuo/note/out`` arriving at any playing member's socket
    accompany  accompany mode for ``seconds`` while the performer plays eighth notes with
               rests; a note is late when it arrives at its member after the time of its
               beat, or when the daemon drops it as too late (the band's ``late``, in every
               member's status)
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bridge.bench.osc import (
    HOST,
    STOP,
    TEMPO,
    _low_summary,
    _perform,
    open_device,
    play_phrase,
    session_status,
)
from bridge.bench.stats import summary
from bridge.m4l.standin import NOTE_OUT, DeviceStandIn
from bridge.osc.codec import Message
from bridge.osc.transport import OscClient

PLAYED = ("harmony", "bass", "drums")
BAND = "bench"


async def _form(port: int, seed: int) -> tuple[DeviceStandIn, list[DeviceStandIn]]:
    performer = await open_device(port)
    players = [await open_device(port) for _ in PLAYED]
    for d in (performer, *players):
        d.transport(tempo=TEMPO, beat=0.0, playing=True)
    performer.set_param("part", "melody")
    for d, part in zip(players, PLAYED, strict=True):
        d.set_param("part", part)
        d.set_param("role", "play")
    for d in (performer, *players):
        d.set_param("band", BAND)
    performer.set_param("seed", seed)
    await asyncio.sleep(0.2)
    return performer, players


async def band(port: int, trials: int, seconds: float, seed: int = 0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    performer, players = await _form(port, seed)
    client = await OscClient.open(HOST, port)
    waiting: dict[str, Any] = {}

    def on_message(m: Message) -> None:
        future = waiting.get("future")
        if m.address == NOTE_OUT and future is not None and not future.done() \
                and float(m.args[3]) >= waiting["beat"]:
            future.set_result(loop.time())

    for d in players:
        d.on_message = on_message
    try:
        times, missed = [], 0
        performer.set_param("mode", "manual")
        for _ in range(trials):
            await play_phrase(performer, rng)
            waiting["beat"], waiting["future"] = performer.beat(), loop.create_future()
            t0 = loop.time()
            performer.generate()
            try:
                times.append((await asyncio.wait_for(waiting["future"], 2.0) - t0) * 1e3)
            except asyncio.TimeoutError:
                missed += 1
            waiting.pop("future")
            client.send(STOP, [performer.session])
            await asyncio.sleep(0.02)
        for d in players:
            d.on_message = None
            d.received.clear()
        performer.set_param("mode", "accompany")
        await _perform(performer, loop.time() + seconds, rng)
        daemon_late = max(int(s.get("late", 0))
                          for s in await session_status(client, [performer, *players]))
    finally:
        for d in (performer, *players):
            d.close()
        client.close()
    notes, late, margins = {}, 0, []
    for d, part in zip(players, PLAYED, strict=True):
        t = d.transport_state
        notes[part] = 0
        for arrived, m in d.received:
            if m.address != NOTE_OUT:
                continue
            due = t.since + (float(m.args[3]) - t.beat) * 60.0 / t.tempo
            margins.append((due - arrived) * 1e3)
            notes[part] += 1
            late += arrived > due
    await asyncio.sleep(0.3)                 # let the daemon close the sessions
    return {"members": 1 + len(players), "played": list(PLAYED), "trials": trials,
            "missed": missed, "call": summary(times), "seconds": seconds, "notes": notes,
            "late_client": late, "late_daemon": daemon_late,
            "on_time": late == 0 and daemon_late == 0 and sum(notes.values()) > 0,
            "margin_ms": _low_summary(margins)}
