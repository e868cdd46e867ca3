"""End to end over real UDP loopback, against a running daemon, through the device stand-in.

    ping       a controller's ``/continuo/ping`` -> ``/continuo/ping/reply``: the round trip
               of the OSC path alone (sockets, decode, router, encode; no session, no model)
    e2e        per trial the stand-in plays a phrase (4 notes of 20 ms, 10 ms apart), then
               sends ``/continuo/generate/start``; one sample is the time from sending it to
               the first ``/continuo/note/out`` arriving at the stand-in's socket (client
               clock, so an upper bound on the daemon's share). A controller then sends
               ``/continuo/generate/stop``. ``phrase/end`` in call mode runs the same code.
    call       per trial the stand-in plays a phrase in call mode and waits for the
               phrase-end timer's answer (one beat of silence, the next grid line): how
               many answers were chosen among candidates in time (``answers``), and how far
               ahead of its beat the first note was sent
    trade      a drummer trading ``TRADE_BARS`` bars in call mode, in sixteenths up to the
               line, the last hit 60 ms before it: how the answers were made (chosen among
               candidates in time, and how many of those were prepared before the last
               hits) and how far ahead of its beat each answer's first note was sent
    fed        from ``/continuo/status/get``: the daemon's own request -> fed latency of the
               performer's notes (``Engine.latency["feed"]``) and request -> first note
               decoded (``first_note``)
    accompany  N stand-ins in accompany mode sharing one transport at 120 bpm, each playing
               eighth notes with rests; a note is late when its ``/continuo/note/out``
               arrives after the time of its beat, or when the daemon drops it as too late
               (the session's ``late`` in its status)
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bridge.bench.stats import summary
from bridge.live.params import param
from bridge.live.respond import ANSWER_KINDS
from bridge.m4l.standin import NOTE_OUT, DeviceStandIn
from bridge.osc.codec import Message
from bridge.osc.routes import IN, OUT, route
from bridge.osc.transport import OscClient
from bridge.timing.latency import STATS

HOST = "127.0.0.1"
TEMPO = 120.0
STOP = route("/continuo/generate/stop", IN).address
STATUS = route("/continuo/status/get", IN).address
STATUS_REPLY = route("/continuo/status/reply", OUT).address
PING = route("/continuo/ping", IN).address
SCALE = (60, 62, 64, 65, 67, 69, 71, 72)
PHRASE_NOTES, NOTE_S, GAP_S = 4, 0.02, 0.01
TRADE_BARS, LAST_HIT_S = 2, 0.06     # the trade trial's turns, and its last hit before a line


def pairs(message: Message) -> dict[str, Any]:
    a = message.args
    return {str(a[i]): a[i + 1] for i in range(0, len(a) - 1, 2)}


async def status(client: OscClient, session: str | None = None) -> dict[str, Any]:
    replies = await client.request(STATUS, [session] if session else [], timeout=2.0, count=1)
    return pairs(replies[0]) if replies else {}


async def session_status(client: OscClient, devices: list[DeviceStandIn],
                         wait_s: float = 0.3) -> list[dict[str, Any]]:
    """Each device's session status: asked by ``client``, answered to the device (a
    session's replies go to its own address); {} for a device that heard none in ``wait_s``."""
    for d in devices:
        client.send(STATUS, [d.session])
    await asyncio.sleep(wait_s)
    out = []
    for d in devices:
        replies = [m for _, m in d.received if m.address == STATUS_REPLY]
        out.append(pairs(replies[-1]) if replies else {})
    return out


async def ping_rtt(client: OscClient, n: int, warmup: int = 5) -> list[float]:
    loop = asyncio.get_running_loop()
    for _ in range(warmup):
        await client.request(PING, [], timeout=1.0, count=1)
    out = []
    for _ in range(n):
        t0 = loop.time()
        if await client.request(PING, [], timeout=1.0, count=1):
            out.append((loop.time() - t0) * 1e3)
    return out


async def open_device(port: int, **params: Any) -> DeviceStandIn:
    device = await DeviceStandIn.open(HOST, port)
    await device.wait_ready(10)
    for name, value in params.items():
        device.set_param(name, value)
    return device


async def play_phrase(device: DeviceStandIn, rng: random.Random) -> None:
    """A phrase of ``PHRASE_NOTES`` short notes from the scale."""
    for _ in range(PHRASE_NOTES):
        pitch = rng.choice(SCALE)
        device.note_on(pitch, rng.randint(60, 110))
        await asyncio.sleep(NOTE_S)
        device.note_off(pitch)
        await asyncio.sleep(GAP_S)


async def e2e(port: int, reply_port: int, trials: int, pings: int, seed: int = 0) -> dict:
    """The phrase -> first note trials, the ping baseline, the daemon's own latencies.
    ``reply_port``: the daemon's ``--reply-port`` (where replies naming no session go)."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    client = await OscClient.open(HOST, port, reply_port)
    device = await open_device(port)
    device.transport(tempo=TEMPO, beat=0.0, playing=True)
    waiting: dict[str, Any] = {}

    def on_message(m: Message) -> None:
        future = waiting.get("future")
        if m.address == NOTE_OUT and future is not None and not future.done() \
                and float(m.args[3]) >= waiting["beat"]:
            future.set_result((loop.time(), float(m.args[6])))

    device.on_message = on_message
    try:
        rtt = await ping_rtt(client, pings)
        times, lead, missed = [], [], 0
        for _ in range(trials):
            await play_phrase(device, rng)
            waiting["beat"], waiting["future"] = device.beat(), loop.create_future()
            t0 = loop.time()
            device.generate()
            try:
                arrived, delay_ms = await asyncio.wait_for(waiting["future"], 2.0)
                times.append((arrived - t0) * 1e3)
                lead.append(delay_ms)
            except asyncio.TimeoutError:
                missed += 1
            waiting.pop("future")
            client.send(STOP, [device.session])
            await asyncio.sleep(0.02)
        daemon = await status(client)
        (session,) = await session_status(client, [device])
    finally:
        device.close()
        client.close()
    return {"trials": trials, "missed": missed, "e2e": summary(times), "raw_ms": times,
            "first_note_lead": summary(lead), "ping_rtt": summary(rtt),
            "fed": from_status(daemon, "feed"), "first_note": from_status(daemon, "first_note"),
            "answers": {k: session.get(f"answers_{k}") for k in ANSWER_KINDS}}


async def call_timer(port: int, reply_port: int, trials: int, seed: int = 0) -> dict:
    """Call mode as a performer meets it: a phrase, silence, the answer on the grid."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    client = await OscClient.open(HOST, port, reply_port)
    device = await open_device(port, mode="call")
    device.transport(tempo=TEMPO, beat=0.0, playing=True)
    waiting: dict[str, Any] = {}

    def on_message(m: Message) -> None:
        future = waiting.get("future")
        if m.address == NOTE_OUT and future is not None and not future.done():
            future.set_result(float(m.args[6]))

    device.on_message = on_message
    lead, missed = [], 0
    try:
        for _ in range(trials):
            waiting["future"] = loop.create_future()
            await play_phrase(device, rng)
            try:
                lead.append(await asyncio.wait_for(waiting["future"], 3.0))
            except asyncio.TimeoutError:
                missed += 1
            waiting.pop("future")
            client.send(STOP, [device.session])
            await asyncio.sleep(0.05)
        (session,) = await session_status(client, [device])
    finally:
        device.close()
        client.close()
    return {"trials": trials, "missed": missed, "first_note_lead": summary(lead),
            "answers": {k: session.get(f"answers_{k}") for k in ANSWER_KINDS},
            "candidates": param("candidates").default}


async def trade(port: int, reply_port: int, trials: int, seed: int = 0) -> dict:
    """Trading with a drummer who plays up to the line, as a performer meets it."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    client = await OscClient.open(HOST, port, reply_port)
    device = await open_device(port, mode="call", trade_bars=TRADE_BARS, length_bars=0,
                               plays="drums", part="drums")
    device.transport(tempo=TEMPO, beat=0.0, playing=True)
    turn, beat_s = TRADE_BARS * 4, 60.0 / TEMPO       # beats a turn (4/4), seconds a beat
    first: dict[int, float] = {}                      # a trade -> its answer's first note lead

    def on_message(m: Message) -> None:
        if m.address == NOTE_OUT:
            first.setdefault(int(float(m.args[3]) // (2 * turn)), float(m.args[6]))

    async def hit(pitch: int, at: float) -> None:
        await asyncio.sleep(max(0.0, t0 + at - loop.time()))
        device.note_on(pitch, rng.randint(70, 110))
        await asyncio.sleep(0.03)
        device.note_off(pitch)

    device.on_message = on_message
    t0 = loop.time() - device.beat() * beat_s          # beat 0's loop time
    try:
        for k in range(trials):
            call = (2 * k + 1) * turn                        # odd turns: the drummer's
            for i in range(turn * 4 - 1):                    # sixteenths, kick snare hats
                await hit(36 if i % 8 == 0 else 38 if i % 8 == 4 else 42,
                          (call + i / 4) * beat_s)
            await hit(46, (call + turn) * beat_s - LAST_HIT_S)
            await asyncio.sleep(max(0.0, t0 + (call + 2 * turn - 0.5) * beat_s - loop.time()))
        (session,) = await session_status(client, [device])
    finally:
        device.close()
        client.close()
    return {"trials": trials, "bars": TRADE_BARS, "last_hit_ms": LAST_HIT_S * 1e3,
            "answered": len(first), "first_note_lead": summary(list(first.values())),
            "answers": {k: session.get(f"answers_{k}") for k in (*ANSWER_KINDS, "kept")},
            "candidates": param("candidates").default}


def from_status(pairs_: dict[str, Any], name: str) -> dict | None:
    """The summary ``name`` (``<name>_ms_p50``... in a status reply) as bench figures."""
    out = {k: pairs_.get(f"{name}_ms_{k}") for k in STATS}
    return out if out["p50"] is not None else None


# -- concurrent accompany sessions --------------------------------------------------------------

async def _perform(device: DeviceStandIn, until: float, rng: random.Random) -> None:
    """Eighth notes from a scale with a rest now and then, until loop time ``until``."""
    loop = asyncio.get_running_loop()
    eighth = 30.0 / TEMPO
    while loop.time() < until:
        if rng.random() < 0.8:
            pitch = rng.choice(SCALE) - 12 * rng.randint(0, 1)
            device.note_on(pitch, rng.randint(60, 110))
            await asyncio.sleep(eighth * 0.8)
            device.note_off(pitch)
            await asyncio.sleep(eighth * 0.2)
        else:
            await asyncio.sleep(eighth)


async def accompany(port: int, sessions: int, seconds: float, seed: int = 0) -> dict:
    """N accompany sessions for ``seconds``; late counts seen by the clients and the daemon."""
    loop = asyncio.get_running_loop()
    grid = param("grid").default
    devices = await asyncio.gather(*(open_device(port) for _ in range(sessions)))
    client = await OscClient.open(HOST, port)
    try:
        for d in devices:                    # one Live set: one transport for every device
            d.transport(tempo=TEMPO, beat=0.0, playing=True)
        for i, d in enumerate(devices):
            d.set_param("grid", grid)
            d.set_param("seed", seed + i)
            d.set_param("mode", "accompany")
        until = loop.time() + seconds
        await asyncio.gather(*(_perform(d, until, random.Random(seed + i))
                               for i, d in enumerate(devices)))
        daemon_late = sum(int(s.get("late", 0)) for s in await session_status(client, devices))
    finally:
        for d in devices:
            d.close()
        client.close()
    notes, late, margins = 0, 0, []
    for d in devices:
        t = d.transport_state
        for arrived, m in d.received:
            if m.address != NOTE_OUT:
                continue
            due = t.since + (float(m.args[3]) - t.beat) * 60.0 / t.tempo
            margins.append((due - arrived) * 1e3)
            notes += 1
            late += arrived > due
    await asyncio.sleep(0.3)                 # let the daemon close the sessions
    return {"sessions": sessions, "seconds": seconds, "grid": grid, "notes": notes,
            "late_client": late, "late_daemon": daemon_late,
            "on_time": late == 0 and daemon_late == 0 and notes > 0,
            "margin_ms": _low_summary(margins)}


def _low_summary(margins: list[float]) -> dict | None:
    """How far ahead of their beat the notes arrived: the low end matters (min, p1, p50)."""
    if not margins:
        return None
    s = sorted(margins)
    return {"min": round(s[0], 3), "p1": round(s[len(s) // 100], 3),
            "p50": round(s[len(s) // 2], 3)}
