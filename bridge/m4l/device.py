"""The Continuo Max for Live MIDI effect, authored with the patch DSL.

``build()`` returns the :class:`Device`: its :class:`~bridge.m4l.patch.Patch` and what it
sends and routes (for the contract test). Sections, in the order a message meets them:

- **face** (:mod:`bridge.m4l.face`): the ``live.*`` parameters (saved, automatable,
  mappable) and the read-outs; **parameters** and **display** there too.
- **network**: ``udpsend`` to the daemon, a gate that holds session messages until a
  session exists, ``udpreceive`` on this instance's own port and the ``route`` of every
  address the daemon sends.
- **handshake**: instance id and reply port from the Live API id of ``this_device``; hello
  on load and every ``HEARTBEAT_MS``; ready opens the session; no ready for
  ``WATCHDOG_MS`` means "not connected" and a move to the next port of the instance.
- **transport**: ``/continuo/transport/set`` on every change (``live.observer``), every
  sixteenth note while playing (``metro 16n``) and with each heartbeat.
- **input**: the track's notes to the daemon stamped with their beat; Thru passes them on.
- **playback** and **safety**: see :mod:`bridge.m4l.playback`.

Addresses come from :mod:`bridge.osc.routes` and parameter names, ranges and choices from
:mod:`bridge.live.params`: nothing here restates them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Config
from bridge.m4l import playback
from bridge.m4l.face import (
    LONGNAMES,
    STATUS_OFFLINE,
    STYLE_CHOICES,
    STYLE_VALUES,
    Face,
    build_face,
    display,
    parameters,
)
from bridge.m4l.patch import Box, Patch
from bridge.m4l.protocol import (
    HELLO_BUS,
    SESSION_BUS,
    TX_BUS,
    OscIn,
    OscOut,
    Received,
    Sender,
    Sent,
)

__all__ = ["LONGNAMES", "NOT_SENT", "STATUS_OFFLINE", "STYLE_CHOICES", "STYLE_VALUES",
           "Device", "build"]

WIDTH = 480
HEARTBEAT_MS = 2000        # hello doubles as heartbeat
WATCHDOG_MS = 5000         # no ready for this long: not connected
PORT_BASE, PORT_SPAN, PORT_STRIDE = 9100, 800, 97   # reply ports 9100-9899
TICKS_PER_BEAT = 480       # Max's transport ticks per quarter note

# `in` routes the device deliberately never sends (the contract test holds it to this).
NOT_SENT = frozenset({"/continuo/ping", "/continuo/status/get", "/continuo/param/get",
                      "/continuo/generate/stop", "/continuo/phrase/end"})


@dataclass
class Device:
    patch: Patch
    sent: list[Sent]
    received: list[Received]
    not_sent: frozenset[str] = NOT_SENT


def build() -> Device:
    p = Patch(WIDTH)
    out = OscOut(p)
    with p.section("face: parameters and read-outs"):
        face = build_face(p)
    with p.section("network"):
        rx = _network(p, face)
    with p.section("handshake and heartbeat"):
        _handshake(p, out, rx, face)
    with p.section("transport"):
        _transport(p, out)
    with p.section("input forwarding and thru"):
        _input(p, out, face)
    with p.section("parameters to the daemon"):
        parameters(p, out, face)
    with p.section("playback scheduler"):
        queue = playback.scheduler(p, rx)
    with p.section("display"):
        display(p, rx, face)
    with p.section("safety: all notes off"):
        playback.safety(p, out, queue)
        out.finish()
    return Device(p, out.sent, rx.received)


# -- network -------------------------------------------------------------------------------

def _network(p: Patch, face: Face) -> OscIn:
    send = p.box(f"udpsend {Config.osc_host} {Config.osc_port}")
    p.connect(p.box(f"r {HELLO_BUS}"), 0, send, 0)              # hello: always
    gate = p.box("gate 1 0")                                     # the rest: once connected
    p.connect(p.box(f"r {TX_BUS}"), 0, gate, 1)
    p.connect(p.box("r ---connected"), 0, gate, 0)
    p.connect(gate, 0, send, 0)
    p.row()
    daemon_port = p.chain(face.port, p.box("t i"), p.box("prepend port"))
    p.connect(daemon_port, 0, send, 0)
    p.row()
    listen = p.chain(p.box("r ---listen-port"), p.box("prepend port"), p.box("udpreceive"))
    p.row()
    rx = OscIn(p)
    p.connect(listen, 0, rx.router, 0)
    return rx


# -- handshake and heartbeat -----------------------------------------------------------------

def _handshake(p: Patch, out: OscOut, rx: OscIn, face: Face) -> None:
    # Load: live.thisdevice fires once the Live API is ready. Right to left: daemon port,
    # identity and reply port, the Live set observers, the timers, the watchdog.
    this = p.box("live.thisdevice")
    load = p.box("t b b b b b")
    p.connect(this, 0, load, 0)
    p.connect(this, 1, p.box("s ---enabled"), 0)
    p.connect(load, 4, face.port, 0)
    p.row()
    # Identity: the Live API id of this device is unique among the devices of the set.
    this_device = p.message("path this_device")
    p.connect(load, 3, this_device, 0)
    device_id = p.chain(this_device, p.box("live.path"), p.box("route id"))
    ident = p.box("t i i i")
    p.connect(device_id, 0, ident, 0)
    p.row()
    # instance = m4l-<id>-<random salt>, made once per device life and kept for every hello
    once, salt = p.box("gate 1 1"), p.box("t i b")
    p.connect(ident, 2, once, 1)
    p.connect(once, 0, salt, 0)
    instance, noise = p.box("pack 0 0"), p.box(f"random {2 ** 16}")
    p.connect(salt, 1, noise, 0)
    p.connect(noise, 0, instance, 1)
    p.connect(salt, 0, instance, 0)
    stored = p.box("zl.reg")
    named = p.chain(instance, p.box("prepend m4l"), p.box("tosymbol @separator -"))
    keep = p.box("t a 0")
    p.connect(named, 0, keep, 0)
    p.connect(keep, 1, once, 0)
    p.connect(keep, 0, stored, 1)
    p.row()
    # reply port = BASE + (id + STRIDE * attempt) % SPAN; the attempt grows on each timeout
    remembered = p.box("i")
    p.connect(ident, 1, remembered, 1)
    port = p.box(f"expr {PORT_BASE} + ($i1 + {PORT_STRIDE} * $i2) % {PORT_SPAN}")
    p.connect(ident, 0, port, 0)
    p.connect(remembered, 0, port, 0)
    bind = p.box("t b i i")
    p.connect(port, 0, bind, 0)
    p.connect(bind, 2, p.box("s ---listen-port"), 0)
    p.row()
    hello = out.sender("/continuo/session/hello")
    p.connect(bind, 1, hello.entry, hello.inlet("reply_port"))
    p.connect(stored, 0, hello.entry, hello.inlet("instance"))
    p.connect(bind, 0, stored, 0)
    p.row()
    # Heartbeat: hello (and the transport) every HEARTBEAT_MS.
    start, beat = p.message("1"), p.box(f"metro {HEARTBEAT_MS}")
    p.connect(load, 1, start, 0)
    p.connect(start, 0, beat, 0, fanout=True)
    p.connect(start, 0, p.box("s ---timers-on"), 0, fanout=True)
    tick = p.box("t b b")
    p.connect(beat, 0, tick, 0)
    p.connect(tick, 1, stored, 0)
    p.connect(tick, 0, p.box("s ---report"), 0)
    p.row()
    # Ready: the session id goes to every session slot; a new one (or the first after a
    # timeout) counts as a (re)connect. Any ready or reply restarts the watchdog.
    ready = p.box("t b a")             # "a": the message starts with a symbol (the id)
    rx.handle("/continuo/session/ready", ready)
    parts = p.box("zl.slice 1")
    p.connect(ready, 1, parts, 0)
    connected = p.box("prepend set connected")
    p.connect(parts, 1, connected, 0)
    p.connect(connected, 0, face.status, 0)
    new = p.box("zl.change")
    p.connect(parts, 0, new, 0)
    session = p.box("t b a")
    p.connect(new, 0, session, 0)
    p.connect(session, 1, p.box(f"s {SESSION_BUS}"), 0)
    p.connect(session, 0, p.box("s ---on-connect"), 0)
    p.row()
    watchdog = p.box(f"delay {WATCHDOG_MS}")
    p.connect(ready, 0, watchdog, 0)
    p.connect(load, 0, watchdog, 0)
    alive = p.box("t b")
    for address in ("/continuo/ping/reply", "/continuo/status/reply",
                    "/continuo/param/value"):
        rx.handle(address, alive)
    p.connect(alive, 0, watchdog, 0)
    p.row()
    # Lost: close the gate, forget the session, say so, move to the next port, keep trying.
    lost = p.box("t b b b b 0")
    p.connect(watchdog, 0, lost, 0)
    p.connect(lost, 4, p.box("s ---connected"), 0)
    forget, offline = p.message("zlclear"), p.message(f"set {STATUS_OFFLINE}")
    p.connect(lost, 3, forget, 0)
    p.connect(forget, 0, new, 0)
    p.connect(lost, 2, offline, 0)
    p.connect(offline, 0, face.status, 0)
    p.connect(lost, 0, watchdog, 0)
    move = p.box("t b b")
    p.connect(lost, 1, move, 0)
    attempt = p.box("i")
    p.connect(move, 1, attempt, 0)
    following = p.chain(attempt, p.box("+ 1"), p.box("t i i"))
    p.connect(following, 1, attempt, 1)
    p.connect(following, 0, port, 1)
    p.connect(move, 0, remembered, 0)
    p.row()
    # (Re)connect: open the gate first, then the parameters and the transport.
    connect = p.box("t b b 1")
    p.connect(p.box("r ---on-connect"), 0, connect, 0)
    p.connect(connect, 2, p.box("s ---connected"), 0)
    p.connect(connect, 1, p.box("s ---resend"), 0)
    p.connect(connect, 0, p.box("s ---report"), 0)
    p.row()
    # The Live set: observers report tempo, play state and time signature changes.
    path = p.message("path live_set")
    p.connect(load, 2, path, 0)
    live_set = p.chain(path, p.box("live.path"))
    report = p.box("s ---report")
    for prop in ("is_playing", "tempo", "signature_numerator", "signature_denominator"):
        observer = p.box(f"live.observer {prop}")
        p.connect(live_set, 0, observer, 1, fanout=True)
        p.connect(observer, 0, report, 0)


# -- transport -----------------------------------------------------------------------------

def _transport(p: Patch, out: OscOut) -> None:
    sixteenth = p.box("metro 16n @quantize 16n")
    p.connect(p.box("r ---timers-on"), 0, sixteenth, 0)
    report = p.box("t b b")
    p.connect(p.box("r ---report"), 0, report, 0)
    p.connect(sixteenth, 0, report, 0)
    p.row()
    now = p.box("transport")
    p.connect(report, 1, now, 0)
    tempo = p.box("float")
    p.connect(report, 0, tempo, 0)
    p.row()
    state = out.sender("/continuo/transport/set")
    p.connect(tempo, 0, state.entry, state.inlet("tempo"))
    keep = p.box("t f f")
    p.connect(now, 4, keep, 0)
    p.connect(keep, 1, tempo, 1)
    p.connect(keep, 0, p.box("s ---tempo"), 0)
    beats = p.box(f"/ {TICKS_PER_BEAT}.")
    p.connect(now, 7, beats, 0)
    p.connect(beats, 0, state.entry, state.inlet("beat"))
    signature = p.box("unpack 0 0")
    p.connect(now, 5, signature, 0)
    p.connect(signature, 0, state.entry, state.inlet("numerator"))
    p.connect(signature, 1, state.entry, state.inlet("denominator"))
    running = p.box("t i i")
    p.connect(now, 6, running, 0)
    p.connect(running, 1, state.entry, state.inlet("playing"))
    p.row()
    change = p.box("change")
    p.connect(running, 0, change, 0)
    p.connect(p.chain(change, p.box("sel 0")), 0, p.box("s ---stopped"), 0)


# -- input forwarding and thru -------------------------------------------------------------

def _beat(p: Patch, stamp: Box, sender: Sender) -> None:
    """The song position in beats (the transport's ticks) into ``sender``'s ``beat`` when
    ``stamp``'s right outlet bangs, before its left outlet sends the rest."""
    now = p.box("transport")
    p.connect(stamp, 1, now, 0)
    beats = p.box(f"/ {TICKS_PER_BEAT}.")
    p.connect(now, 7, beats, 0)
    p.connect(beats, 0, sender.entry, sender.inlet("beat"))


def _input(p: Patch, out: OscOut, face: Face) -> None:
    parse = p.chain(p.box("midiin"), p.box("midiparse @hires 1"))
    form = p.box("midiformat @hires 1")
    for outlet in range(1, 7):          # pressure, CC, program, aftertouch, bend, channel
        p.connect(parse, outlet, form, outlet)
    p.connect(form, 0, p.box("midiout"), 0)
    note = p.box("t l l")
    p.connect(parse, 0, note, 0)
    p.row()
    # To the daemon: pitch, velocity (0 = off) and the beat it was played on.
    stamp = p.box("t l b")
    p.connect(note, 0, stamp, 0)
    pitch_velocity = p.box("unpack 0 0")
    p.connect(stamp, 0, pitch_velocity, 0)
    note_in = out.sender("/continuo/note/in")
    _beat(p, stamp, note_in)
    p.connect(pitch_velocity, 1, note_in.entry, note_in.inlet("velocity"))
    p.connect(pitch_velocity, 0, note_in.entry, note_in.inlet("pitch"))
    p.row()
    # The sustain pedal (CC 64) too, with the beat it moved on: notes it holds still sound.
    pedal = p.box("route 64")
    p.connect(parse, 2, pedal, 0, fanout=True)      # (and thru, as it is)
    pedal_stamp = p.box("t i b")
    p.connect(pedal, 0, pedal_stamp, 0)
    pedal_in = out.sender("/continuo/pedal/in")
    _beat(p, pedal_stamp, pedal_in)
    p.connect(pedal_stamp, 0, pedal_in.entry, pedal_in.inlet("value"))
    p.row()
    # Thru: a gate, and a flush that releases held notes before the gate closes.
    gate = p.box("gate 1 1")
    p.connect(note, 1, gate, 1)
    held = p.box("flush")
    p.connect(gate, 0, held, 0)
    pair = p.box("pack 0 0")
    p.connect(held, 1, pair, 1)
    p.connect(held, 0, pair, 0)
    p.connect(pair, 0, form, 0)
    switch = p.box("t i b")
    p.connect(face.thru, 0, switch, 0)
    p.connect(switch, 1, held, 0)
    p.connect(switch, 0, gate, 0)
    p.connect(p.box("r ---thru-off"), 0, held, 0)
