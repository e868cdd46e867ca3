"""The clocked objects of :mod:`bridge.m4l.maxsim` (pipe, makenote, metro, delay, the
transport) and the MIDI ones, on the simulator's virtual millisecond clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.m4l.maxsim_objects import BANG, Handler, Msg, coerce, num

if TYPE_CHECKING:
    from bridge.m4l.maxsim import Obj


def _pipe(o: Obj, inlet: int, msg: Msg) -> None:
    items, n = o.state["items"], len(o.state["items"])
    if msg == ["clear"]:
        for alive in o.state["pending"]:
            alive[0] = False
        o.state["pending"] = []
        return
    if inlet == n:
        o.state["delay"] = num(msg)
        return
    for k, value in enumerate(msg):
        if inlet + k < n:
            items[inlet + k] = coerce(items[inlet + k], value)
        elif inlet + k == n:
            o.state["delay"] = value
    if inlet != 0:
        return
    snapshot = list(items)

    def fire() -> None:
        for k in reversed(range(n)):
            o.out(k, [snapshot[k]])
    o.state["pending"].append(o.sim.after(o.state["delay"], fire))


def _makenote(o: Obj, inlet: int, msg: Msg) -> None:
    if msg == ["flush"]:
        for pitch, alive in o.state["held"]:
            if alive[0]:
                alive[0] = False
                o.out(1, [0])
                o.out(0, [pitch])
        o.state["held"] = []
        return
    if inlet == 1:
        o.state["vel"] = num(msg)
        return
    if inlet == 2:
        o.state["dur"] = num(msg)
        return
    pitch = num(msg)
    o.out(1, [o.state["vel"]])
    o.out(0, [pitch])
    entry: list[Any] = [pitch, None]

    def off() -> None:
        o.out(1, [0])
        o.out(0, [pitch])
    entry[1] = o.sim.after(o.state["dur"], off)
    o.state["held"].append(entry)


def _noteout(o: Obj, inlet: int, msg: Msg) -> None:
    cold = o.state["cold"]
    if inlet:
        cold[inlet] = int(num(msg))
        return
    if o.kind == "noteout":
        o.sim.notes.append((o.sim.now, int(num(msg)), cold[1], cold[2]))
    else:
        o.sim.ccs.append((o.sim.now, cold[1], int(num(msg)), cold[2]))


def _flush(o: Obj, inlet: int, msg: Msg) -> None:
    held: list[int] = o.state.setdefault("held", [])
    if msg == BANG:
        for pitch in list(held):
            o.out(1, [0])
            o.out(0, [pitch])
        held.clear()
        return
    pitch, vel = int(msg[0]), int(msg[1]) if len(msg) > 1 else 0
    if vel and pitch not in held:
        held.append(pitch)
    elif not vel and pitch in held:
        held.remove(pitch)
    o.out(1, [vel])
    o.out(0, [pitch])


def _midiparse(o: Obj, inlet: int, msg: Msg) -> None:
    byte = int(msg[0])
    if byte & 0x80:
        o.state["status"], o.state["data"] = byte, []
        return
    o.state["data"].append(byte)
    status, data = o.state["status"], o.state["data"]
    if status >> 4 in (0x8, 0x9) and len(data) == 2:
        o.out(6, [(status & 0x0F) + 1])
        o.out(0, [data[0], data[1] if status >> 4 == 0x9 else 0])
        o.state["data"] = []
    elif status >> 4 == 0xB and len(data) == 2:
        o.out(6, [(status & 0x0F) + 1])
        o.out(2, [data[0], data[1]])
        o.state["data"] = []


def _midiformat(o: Obj, inlet: int, msg: Msg) -> None:
    if inlet == 6:
        o.state["channel"] = int(num(msg))
        return
    channel = o.state.get("channel", 1) - 1
    if inlet == 0:
        o.sim.midi_out.append((o.sim.now, (0x90 | channel, int(msg[0]), int(msg[1]))))
    elif inlet == 2:
        o.sim.midi_out.append((o.sim.now, (0xB0 | channel, int(msg[0]), int(msg[1]))))


def _transport(o: Obj, inlet: int, msg: Msg) -> None:
    t, now = o.sim.transport, o.sim.now
    o.out(7, [t.beat_at(now) * 480.0])
    o.out(6, [int(t.playing)])
    o.out(5, [t.numerator, t.denominator])
    o.out(4, [float(t.tempo)])


def metro_arm(o: Obj) -> None:
    if o.state.get("timer"):
        o.state["timer"][0] = False
    interval = o.args[0]
    if isinstance(interval, str):                 # tempo-relative: 16n, only while playing
        t = o.sim.transport
        if not t.playing:
            return
        beat = t.beat_at(o.sim.now)
        step = 4.0 / int(interval[:-1])
        wait = (step - beat % step) or step
        ms = wait * 60000.0 / t.tempo
    else:
        ms = float(interval)

    def tick() -> None:
        o.out(0, BANG)
        metro_arm(o)
    o.state["timer"] = o.sim.after(ms, tick)


def _metro(o: Obj, inlet: int, msg: Msg) -> None:
    on = msg != ["stop"] and num(msg) != 0
    o.state["on"] = on
    if o.state.get("timer"):
        o.state["timer"][0] = False
        o.state["timer"] = None
    if on:
        if not isinstance(o.args[0], str):
            o.out(0, BANG)
        metro_arm(o)


def _delay(o: Obj, inlet: int, msg: Msg) -> None:
    if o.state.get("timer"):
        o.state["timer"][0] = False
    if msg != ["stop"]:
        o.state["timer"] = o.sim.after(float(o.args[0]), lambda: o.out(0, BANG))


TIMED_OBJECTS: dict[str, Handler] = {
    "pipe": _pipe, "makenote": _makenote, "noteout": _noteout, "ctlout": _noteout,
    "flush": _flush, "midiparse": _midiparse, "midiformat": _midiformat,
    "transport": _transport, "metro": _metro, "delay": _delay,
}
