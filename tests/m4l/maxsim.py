"""A small simulator of Max's message passing, for the objects the Continuo device uses.

The device's test bench (tests/m4l/test_m4l_device.py); ``Sim(patcher)`` raises
``NotImplementedError`` for an object it does not model.

It runs the built patch's JSON, not the builder's records: boxes, cords and send/receive
buses as Max would load them. Semantics modelled (from Max's reference): outlets fire right
to left; the left inlet is hot, the others store; fan-out goes to the rightmost destination
first; ``trigger`` converts per argument; ``pipe``/``makenote``/``delay``/``metro`` run on a
virtual millisecond clock; message boxes take ``set``. Live is stubbed: ``live.thisdevice``,
``live.path``, ``live.observer``, the transport and the ``live.*`` parameters (restored and
output on load, as Live does). What the patch sends over UDP and to the track's MIDI output
is recorded with the virtual time. It models our understanding of Max, so it checks the
wiring and the order of operations, not Max itself.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from bridge.m4l import objects
from tests.m4l.maxsim_objects import (
    BANG,
    MESSAGE_OBJECTS,
    Msg,
    atom,
    init_state,
    param_value,
    ui,
)
from tests.m4l.maxsim_timing import TIMED_OBJECTS, metro_arm


def num(msg: Msg) -> float:
    return msg[0] if msg and isinstance(msg[0], (int, float)) else 0


@dataclass
class Transport:
    tempo: float = 120.0
    beat: float = 0.0        # at `since` ms
    since: float = 0.0
    playing: bool = False
    numerator: int = 4
    denominator: int = 4

    def beat_at(self, now: float) -> float:
        return self.beat + ((now - self.since) * self.tempo / 60000.0 if self.playing else 0.0)


@dataclass
class Obj:
    sim: Sim
    id: str
    kind: str
    args: list[Any]
    text: str
    attrs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def out(self, outlet: int, msg: Msg) -> None:
        self.sim.emit(self.id, outlet, msg)


class Sim:
    def __init__(self, patcher: dict[str, Any], *, live_id: int = 5, seed: int = 7) -> None:
        top = patcher["patcher"]
        self.now = 0.0
        self.rng = random.Random(seed)
        self.live_id = live_id
        self.transport = Transport()
        self.live: dict[str, Any] = {"is_playing": 0, "tempo": 120.0,
                                     "signature_numerator": 4, "signature_denominator": 4}
        self.sent: list[tuple[float, str, list[Any], int]] = []   # time, address, args, port
        self.notes: list[tuple[float, int, int, int]] = []        # time, pitch, vel, channel
        self.ccs: list[tuple[float, int, int, int]] = []          # time, ctl, value, channel
        self.midi_out: list[tuple[float, tuple[int, ...]]] = []   # thru: raw messages
        self.udp_port = 0
        self.listen_port = 0
        self._queue: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self.objs: dict[str, Obj] = {}
        self.x: dict[str, float] = {}
        for entry in top["boxes"]:
            b = entry["box"]
            self.x[b["id"]] = b["patching_rect"][0]
            if b["maxclass"] == "newobj":
                word, args, attrs = objects.split(b["text"])
                kind = objects.canonical(word)
                attr = {attrs[i][1:]: attrs[i + 1] for i in range(0, len(attrs) - 1, 2)}
                self.objs[b["id"]] = Obj(self, b["id"], kind, [atom(a) for a in args],
                                         b["text"], attr)
            else:
                self.objs[b["id"]] = Obj(self, b["id"], b["maxclass"],
                                         objects.tokens(b.get("text") or ""), b.get("text", ""),
                                         dict(b))
        self.cords: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for ln in top["lines"]:
            (s, o), (d, i) = ln["patchline"]["source"], ln["patchline"]["destination"]
            self.cords.setdefault((s, o), []).append((d, i))
        for key in self.cords:       # Max: the rightmost destination first
            self.cords[key].sort(key=lambda di: -self.x[di[0]])
        for o in self.objs.values():
            init_state(o)

    # -- driving it -------------------------------------------------------------------------

    def load(self) -> None:
        """Live restores the parameters with an initial value (each outputs it), then
        live.thisdevice bangs."""
        for o in self.params():
            if o.attrs["saved_attribute_attributes"]["valueof"]["parameter_initial_enable"]:
                o.out(0, param_value(o))
        for o in self.of("live.thisdevice"):
            o.out(0, BANG)

    def params(self) -> list[Obj]:
        return [o for o in self.objs.values() if o.attrs.get("parameter_enable")]

    def param(self, longname: str) -> Obj:
        return next(o for o in self.params() if o.attrs["varname"] == longname)

    def set_param(self, longname: str, value: Any) -> None:
        o = self.param(longname)
        if o.kind == "live.button":
            o.out(0, BANG)
            return
        o.state["value"] = value
        o.out(0, param_value(o))

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objs.values() if o.kind == kind]

    def text_of(self, box_id: str) -> str:
        return " ".join(str(a) for a in self.objs[box_id].state.get("shown", [])) or \
            self.objs[box_id].text

    def deliver(self, address: str, *args: Any) -> None:
        """A datagram from the daemon reaches udpreceive (on the scheduler thread)."""
        for o in self.of("udpreceive"):
            o.out(0, [address, *args])

    def midi_in(self, *data: int) -> None:
        for o in self.of("midiin"):
            for byte in data:
                o.out(0, [byte])

    def set_transport(self, *, tempo: float | None = None, beat: float | None = None,
                      playing: bool | None = None) -> None:
        t = self.transport
        t.beat, t.since = t.beat_at(self.now), self.now
        if tempo is not None:
            t.tempo = tempo
            self._observe("tempo", tempo)
        if beat is not None:
            t.beat = beat
        if playing is not None and playing != t.playing:
            t.playing = playing
            for o in self.of("transport"):            # transport reports state changes
                o.out(6, [int(playing)])
            self._observe("is_playing", int(playing))
            for o in self.of("metro"):
                if isinstance(o.args[0], str) and o.state.get("on"):
                    metro_arm(o)

    def set_enabled(self, on: bool) -> None:
        for o in self.of("live.thisdevice"):
            o.out(1, [int(on)])

    def free(self) -> None:
        for o in self.of("freebang"):
            o.out(0, BANG)

    def advance(self, ms: float) -> None:
        end = self.now + ms
        while self._queue and self._queue[0][0] <= end:
            when, _, callback = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            callback()
        self.now = end

    def after(self, ms: float, callback: Any) -> list[bool]:
        alive = [True]
        heapq.heappush(self._queue, (self.now + max(0.0, ms), next(self._seq),
                                     lambda: alive[0] and callback()))
        return alive

    def _observe(self, prop: str, value: Any) -> None:
        self.live[prop] = value
        for o in self.of("live.observer"):
            if o.args[0] == prop and o.state.get("bound"):
                o.out(0, [value])

    # -- message passing -----------------------------------------------------------------------

    def emit(self, box_id: str, outlet: int, msg: Msg) -> None:
        for dst, inlet in list(self.cords.get((box_id, outlet), [])):
            self.receive(self.objs[dst], inlet, list(msg))

    def receive(self, o: Obj, inlet: int, msg: Msg) -> None:
        handler = HANDLERS.get(o.kind) or (ui if o.kind.startswith("live.") else None)
        if handler is None:
            raise NotImplementedError(f"maxsim: no model of {o.kind!r} ({o.text})")
        handler(o, inlet, msg)


HANDLERS = {**MESSAGE_OBJECTS, **TIMED_OBJECTS}
