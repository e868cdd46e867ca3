"""The device's face: the ``live.*`` parameters, the read-outs, and what they send.

Parameter names, ranges, defaults and choices come from :mod:`bridge.live.params`; the
long names under which Live saves, automates and maps them are pinned here and never
change. Each change goes to the daemon as ``/continuo/param/set``; on (re)connect
(``---resend``) all of them go again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Config
from bridge.live.params import param
from bridge.m4l.patch import Box, ParamSpec, Patch
from bridge.m4l.protocol import OscIn, OscOut
from bridge.model.meta import shipped_styles
from bridge.vocab import NO_STYLE

STATUS_OFFLINE = "not connected"
# Read-outs are plain comments (they take "set"); their text follows Live's colour theme.
THEMED = {"textcolor": [0.9, 0.9, 0.9, 1.0],
          "saved_attribute_attributes": {"textcolor": {"expression":
                                                       "themecolor.live_control_fg"}}}

# The Style menu: "auto" (= no target style), then the shipped generator's style table in
# its order. Live saves the index, so that table only ever grows at its end: a fine-tune
# (train --init) appends the styles it adds, and tests/m4l pins the entries shipped so far.
STYLE_VALUES = shipped_styles()
STYLE_CHOICES = tuple("auto" if s == NO_STYLE else s for s in STYLE_VALUES)

# Parameter long names: Live stores automation and mappings under them. Never change one.
LONGNAMES = {"mode": "Mode", "temperature": "Temperature", "length_bars": "Length",
             "style": "Style", "thru": "Thru", "generate": "Generate", "panic": "Panic",
             "port": "Daemon Port", "band": "Band", "part": "Part", "role": "Role",
             "trade_bars": "Trade"}

# The Band menu: alone, or one of a few bands by name (the daemon takes any name over OSC).
BAND_VALUES = ("", "A", "B", "C", "D")
BAND_CHOICES = ("alone", *BAND_VALUES[1:])


@dataclass
class Face:
    mode: Box
    temperature: Box
    length: Box
    trade: Box
    style: Box
    thru: Box
    generate: Box
    panic: Box
    port: Box
    band: Box
    part: Box
    role: Box
    status: Box
    state: Box
    tags: Box
    error: Box


# -- face ----------------------------------------------------------------------------------

def build_face(p: Patch) -> Face:
    mode, temp, length = param("mode"), param("temperature"), param("length_bars")
    part, role, trade = param("part"), param("role"), param("trade_bars")
    label = {"maxclass": "live.comment"}
    p.comment("CONTINUO", None, (6, 4, 90, 18), **label, fontsize=12.0)
    status = p.comment(STATUS_OFFLINE, None, (100, 6, 140, 16), **THEMED)
    face = Face(
        mode=p.parameter("live.tab", ParamSpec(
            LONGNAMES["mode"], "Mode", "enum", mode.choices.index(mode.default),
            enum=mode.choices, unitstyle=9, annotation=mode.doc), None, (6, 26, 230, 20),
            num_lines_patching=1, num_lines_presentation=1),
        temperature=p.parameter("live.dial", ParamSpec(
            LONGNAMES["temperature"], "Temp", "float", temp.default, temp.low, temp.high,
            unitstyle=1, annotation=temp.doc), None, (6, 52, 56, 48)),
        length=p.parameter("live.dial", ParamSpec(
            LONGNAMES["length_bars"], "Bars", "int", length.default, length.low, length.high,
            unitstyle=0, annotation=length.doc), None, (66, 52, 56, 48)),
        trade=p.parameter("live.numbox", ParamSpec(
            LONGNAMES["trade_bars"], "Trade", "int", trade.default, trade.low, trade.high,
            unitstyle=0, annotation=trade.doc), None, (136, 140, 30, 15)),
        style=p.parameter("live.menu", ParamSpec(
            LONGNAMES["style"], "Style", "enum", 0, enum=STYLE_CHOICES, unitstyle=9,
            annotation="Target style of the responses; auto follows what you play."),
            None, (130, 70, 106, 15)),
        thru=p.parameter("live.toggle", ParamSpec(
            LONGNAMES["thru"], "Thru", "enum", 1, enum=("off", "on"), unitstyle=9,
            annotation="Pass the notes you play on to the track."), None, (6, 110, 15, 15)),
        generate=p.parameter("live.button", ParamSpec(
            LONGNAMES["generate"], "Generate", "enum", 0, enum=("off", "on"), unitstyle=9,
            annotation="Start a continuation now, on the next grid position.",
            initial_enable=False),
            None, (66, 110, 15, 15)),
        panic=p.parameter("live.button", ParamSpec(
            LONGNAMES["panic"], "Panic", "enum", 0, enum=("off", "on"), unitstyle=9,
            annotation="Release every note now, here and in the daemon.",
            initial_enable=False),
            None, (146, 110, 15, 15)),
        port=p.parameter("live.numbox", ParamSpec(
            LONGNAMES["port"], "Port", "float", Config.osc_port, 1024, 65535, unitstyle=0,
            visibility="stored", annotation="UDP port of the Continuo daemon "
            "(continuo run --osc-port)."), None, (40, 140, 50, 15)),
        band=p.parameter("live.menu", ParamSpec(
            LONGNAMES["band"], "Band", "enum", 0, enum=BAND_CHOICES, unitstyle=9,
            annotation=param("band").doc), None, (274, 148, 36, 15)),
        part=p.parameter("live.menu", ParamSpec(
            LONGNAMES["part"], "Part", "enum", part.choices.index(part.default),
            enum=part.choices, unitstyle=9, annotation=part.doc), None, (340, 148, 64, 15)),
        role=p.parameter("live.menu", ParamSpec(
            LONGNAMES["role"], "Role", "enum", role.choices.index(role.default),
            enum=role.choices, unitstyle=9, annotation=role.doc), None, (434, 148, 44, 15)),
        status=status,
        state=p.comment("state: -", None, (246, 26, 228, 16), **THEMED),
        tags=p.comment("tags: -", None, (246, 46, 228, 44), **THEMED),
        error=p.comment("", None, (246, 96, 228, 46), **THEMED),
    )
    p.row()
    p.comment("Style", None, (130, 52, 60, 16), **label)
    p.comment("Thru", None, (24, 109, 40, 16), **label)
    p.comment("Generate", None, (84, 109, 60, 16), **label)
    p.comment("Panic", None, (164, 109, 50, 16), **label)
    p.comment("Port", None, (6, 139, 32, 16), **label)
    p.comment("Trade", None, (100, 139, 34, 16), **label)
    p.comment("Band", None, (246, 147, 28, 16), **label)
    p.comment("Part", None, (314, 147, 26, 16), **label)
    p.comment("Role", None, (408, 147, 26, 16), **label)
    return face


# -- parameters to the daemon --------------------------------------------------------------

def parameters(p: Patch, out: OscOut, face: Face) -> None:
    setter = out.open_sender("/continuo/param/set")
    p.row()
    menus = ((face.mode, "mode", param("mode").choices), (face.style, "style", STYLE_VALUES),
             (face.band, "band", BAND_VALUES), (face.part, "part", param("part").choices),
             (face.role, "role", param("role").choices))
    for box, name, choices in menus:
        pick = p.box("sel " + " ".join(str(i) for i in range(len(choices))))
        p.connect(box, 0, pick, 0)
        for i, value in enumerate(choices):
            text = f'{param(name).name} {value or chr(34) * 2}'    # '' is sent as ""
            message = p.message(text)
            p.connect(pick, i, message, 0)
            out.feed(setter, message, 0, ("s", "s"))
        p.row()
    for box, name, kind in ((face.temperature, "temperature", "f"),
                            (face.length, "length_bars", "i"), (face.trade, "trade_bars", "i")):
        typed = p.box(f"t {kind}")
        p.connect(box, 0, typed, 0)
        out.feed(setter, p.chain(typed, p.box(f"prepend {param(name).name}")), 0, ("s", kind))
    p.row()
    again = (face.mode, face.style, face.temperature, face.length, face.trade, face.part,
             face.role, face.band)                # the band last: joined as what it is
    resend = p.box("t" + " b" * len(again))
    p.connect(p.box("r ---resend"), 0, resend, 0)
    for outlet, box in enumerate(reversed(again)):    # t fires right to left
        p.connect(resend, outlet, box, 0)
    p.row()
    generate = out.sender("/continuo/generate/start")
    p.connect(p.chain(face.generate, p.box("t b")), 0, generate.entry, 0)
    panic = out.sender("/continuo/session/panic")
    press = p.box("t b b")
    p.connect(face.panic, 0, press, 0)
    p.connect(press, 1, p.box("s ---all-off"), 0)
    p.connect(press, 0, panic.entry, 0)
    p.connect(p.box("r ---tell-panic"), 0, panic.entry, 0)


# -- display -------------------------------------------------------------------------------

def display(p: Patch, rx: OscIn, face: Face) -> None:
    state, show = p.box("zl.slice 1"), p.box("prepend set state:")
    rx.handle("/continuo/session/state", state)
    p.connect(state, 1, show, 0)
    p.connect(show, 0, face.state, 0)
    p.row()
    tags = p.box("zl.slice 1")
    rx.handle("/continuo/tags/update", tags)
    top = p.box("zl.slice 6")                # the three most likely tags and probabilities
    p.connect(tags, 1, top, 0)
    p.connect(p.chain(top, p.box("prepend set tags:")), 0, face.tags, 0)
    p.row()
    error = p.box("prepend set error:")
    rx.handle("/continuo/error", error)
    p.connect(error, 0, face.error, 0)
