"""A gig in ``continuo bench --gig MINUTES``: one performer, for as long as a set lasts.

The rest of the bench is short (trials of a phrase, seconds of accompaniment). What builds up
over a session shows only when a session lasts: a history scanned on every answer (a band's
first note grew from 1.6 to 7 ms over a hundred phrases on 5 December: docs/latency.md),
memory that grows. So the daemon's own defaults (``continuo run --no-midi``) serve one
stand-in device at 120 bpm, round after round:

    call       the performer plays ``PHRASE_BARS`` bars of eighth notes (a rest now and
               then) and is silent ``REST_BARS`` bars while the answer plays (call mode,
               the answer on the phrase-end timer, chosen among candidates as on stage)
    accompany  every ``ACCOMPANY_EVERY``-th round: accompany mode while the performer plays
               on through the whole round
    style      every ``STYLE_EVERY``-th round asks for the next of the model's genres (and
               none again), as a performer turning the Style menu

Per round: the lead of the answer's first note (ms between its sending and its beat) and the
daemon's resident memory. Over the gig: notes late (sent with no time left, or dropped by the
daemon as too late: the session's status after each round says in which round and mode)
and notes struck again at the stand-in while they still sound.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bridge.bench.osc import (
    HOST,
    STATUS,
    STATUS_REPLY,
    STOP,
    TEMPO,
    _low_summary,
    _perform,
    open_device,
    pairs,
    session_status,
)
from bridge.m4l.standin import NOTE_OUT, Played
from bridge.osc.codec import Message
from bridge.osc.transport import OscClient

PHRASE_BARS, REST_BARS = 2, 3
ACCOMPANY_EVERY = 8
STYLE_EVERY = 5
GROWTH_WINDOW_MIN = 10.0      # memory growth is given per this many minutes


async def gig(port: int, minutes: float, rss_mb: Callable[[], float | None],
              genres: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Rounds (see the module's docstring) for ``minutes``; ``rss_mb`` reads the daemon's
    resident memory, ``genres`` are the styles asked for in turn."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    bar_s = 4 * 60.0 / TEMPO
    client = await OscClient.open(HOST, port)
    device = await open_device(port, mode="call")
    device.transport(tempo=TEMPO, beat=0.0, playing=True)
    sent: list[float] = []                       # every note's delay_ms as the daemon sent it
    answer: dict[str, Any] = {}
    dropped: list[tuple[float, str]] = []        # (minutes in, mode) of the round a note the
    asked = {"late": 0, "at": 0.0, "mode": ""}   # daemon dropped was in (status after each)

    def on_message(m: Message) -> None:
        if m.address == NOTE_OUT:
            sent.append(float(m.args[6]))
            future = answer.get("future")
            if future is not None and not future.done():
                future.set_result(float(m.args[6]))
        elif m.address == STATUS_REPLY and asked["mode"]:
            late = int(pairs(m).get("late") or 0)
            dropped.extend([(asked["at"], asked["mode"])] * max(0, late - asked["late"]))
            asked["late"] = max(late, asked["late"])

    device.on_message = on_message
    start = loop.time()
    leads: list[tuple[float, float]] = []        # (minutes in, the answer's first note's lead)
    memory: list[tuple[float, float]] = []       # (minutes in, MB)
    rounds = missed = 0
    styles, mode = ["", *genres], "call"
    try:
        while loop.time() - start < minutes * 60:
            rounds += 1
            accompany = rounds % ACCOMPANY_EVERY == 0
            if rounds % STYLE_EVERY == 0:
                device.set_param("style", styles[(rounds // STYLE_EVERY) % len(styles)])
            wanted = "accompany" if accompany else "call"
            if wanted != mode:
                device.set_param("mode", wanted)
                mode = wanted
            round_end = loop.time() + (PHRASE_BARS + REST_BARS) * bar_s
            if accompany:
                await _perform(device, round_end, rng)
            else:
                answer["future"] = loop.create_future()
                await _perform(device, loop.time() + PHRASE_BARS * bar_s, rng)
                try:
                    lead = await asyncio.wait_for(answer["future"],
                                                  max(0.1, round_end - loop.time()))
                    leads.append(((loop.time() - start) / 60, lead))
                except asyncio.TimeoutError:
                    missed += 1
                answer.pop("future")
                await asyncio.sleep(max(0.0, round_end - loop.time()))
            mb = rss_mb()
            if mb is not None:
                memory.append(((loop.time() - start) / 60, mb))
            asked.update(at=round((loop.time() - start) / 60, 2), mode=wanted)
            client.send(STATUS, [device.session])     # its reply: notes dropped this round
        client.send(STOP, [device.session])
        (session,) = await session_status(client, [device])
    finally:
        device.close()
        client.close()
    return {"minutes": round((loop.time() - start) / 60, 2), "rounds": rounds,
            "answers": len(leads), "missed": missed,
            "first_note_lead_ms": _low_summary([lead for _, lead in leads]),
            "first_note_lead_ms_by_quarter": _quarters(leads, minutes),
            "notes": len(sent), "late_client": sum(d < 0 for d in sent),
            "late_daemon": int(session.get("late") or 0),
            "late_daemon_rounds": [[at, mode] for at, mode in dropped],
            "struck_while_sounding": struck_while_sounding(device.notes),
            "errors": len(device.errors),
            "rss_mb": _memory(memory)}


def struck_while_sounding(notes: Sequence[Played]) -> int:
    """Notes that start on a channel and pitch while an earlier one there still sounds (a
    synth then plays on, on, off, and the second note is cut)."""
    count, last_off = 0, {}
    for n in sorted(notes, key=lambda n: n.on_at):
        key = (n.channel, n.pitch)
        if key in last_off and n.on_at < last_off[key] - 1e-3:
            count += 1
        off = float("inf") if n.off_at is None else n.off_at
        last_off[key] = max(off, last_off.get(key, off))
    return count


def _quarters(leads: list[tuple[float, float]], minutes: float) -> list[dict | None]:
    """The answers' first-note leads in each quarter of the gig: a lead that shrinks from
    the first quarter to the last is work that builds up over a session."""
    quarters: list[list[float]] = [[], [], [], []]
    for at, lead in leads:
        quarters[min(3, int(4 * at / minutes))].append(lead)
    return [_low_summary(q) for q in quarters]


def _memory(memory: list[tuple[float, float]]) -> dict[str, Any] | None:
    """Resident memory: first, highest and last round's, how it grew over the second half
    of the gig (MB per ``GROWTH_WINDOW_MIN`` minutes, from the least-squares line), and
    each round's (minutes in, MB)."""
    if not memory:
        return None
    half = [(t, mb) for t, mb in memory if t >= memory[-1][0] / 2]
    growth = None
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        slope = np.polyfit([t for t, _ in half], [mb for _, mb in half], 1)[0]
        growth = round(float(slope) * GROWTH_WINDOW_MIN, 1)
    return {"first": memory[0][1], "peak": max(mb for _, mb in memory), "last": memory[-1][1],
            "growth_second_half": growth, "per_minutes": GROWTH_WINDOW_MIN,
            "by_round": [[round(t, 2), mb] for t, mb in memory]}
