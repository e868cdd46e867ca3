"""The signal-flow diagram of docs/ableton.md, as plain SVG text (no external tools).

``render()`` lays out the two ways Continuo meets Live: the device on a MIDI track talking
OSC with the daemon (the addresses are read from the route registry, so the picture follows
the protocol), and the virtual MIDI ports with MIDI clock for setups without Max for Live.
Deterministic: ``continuo m4l diagram --check`` tells when the file is stale.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from bridge.config import Config
from bridge.m4l.device import HEARTBEAT_MS, PORT_BASE, PORT_SPAN, WATCHDOG_MS
from bridge.osc.routes import IN, OUT, routes

W, H = 1100, 640
FONT = "font-family='Helvetica, Arial, sans-serif'"
INK, DEVICE, DAEMON, LIVE, PORTS = "#222222", "#e8f0fb", "#fdf0e0", "#f3f3f3", "#eef7ec"


def _rect(x: int, y: int, w: int, h: int, fill: str, title: str = "", lines: tuple[str, ...] = (),
          size: int = 12) -> list[str]:
    out = [f"<rect x='{x}' y='{y}' width='{w}' height='{h}' rx='6' fill='{fill}' "
           f"stroke='{INK}' stroke-width='1.2'/>"]
    ty = y + 18
    if title:
        out.append(f"<text x='{x + 10}' y='{ty}' {FONT} font-size='{size + 1}' "
                   f"font-weight='bold' fill='{INK}'>{escape(title)}</text>")
        ty += 17
    for line in lines:
        out.append(f"<text x='{x + 10}' y='{ty}' {FONT} font-size='{size - 1}' "
                   f"fill='{INK}'>{escape(line)}</text>")
        ty += 15
    return out


def _arrow(x1: int, y1: int, x2: int, y2: int, label: str = "", dash: bool = False) -> list[str]:
    style = " stroke-dasharray='6 4'" if dash else ""
    out = [f"<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' stroke='{INK}' stroke-width='1.6'"
           f" marker-end='url(#head)'{style}/>"]
    if label:
        out.append(f"<text x='{(x1 + x2) // 2}' y='{(y1 + y2) // 2 - 6}' {FONT} font-size='11' "
                   f"text-anchor='middle' fill='{INK}'>{escape(label)}</text>")
    return out


def _messages(x: int, y: int, title: str, addresses: list[str]) -> list[str]:
    out = [f"<text x='{x}' y='{y}' {FONT} font-size='11' font-weight='bold' "
           f"fill='{INK}'>{escape(title)}</text>"]
    for k, address in enumerate(addresses):
        out.append(f"<text x='{x}' y='{y + 14 * (k + 1)}' {FONT} font-size='10' "
                   f"fill='{INK}'>{escape(address)}</text>")
    return out


def render() -> str:
    from bridge.m4l.device import NOT_SENT

    sent = [r.address for r in routes(IN) if r.address not in NOT_SENT]
    received = list(dict.fromkeys(r.address for r in routes(OUT)))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' "
        f"viewBox='0 0 {W} {H}'>",
        "<defs><marker id='head' markerWidth='10' markerHeight='8' refX='9' refY='4' "
        f"orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='{INK}'/></marker></defs>",
        f"<rect width='{W}' height='{H}' fill='white'/>",
        f"<text x='20' y='28' {FONT} font-size='18' font-weight='bold' fill='{INK}'>"
        "Continuo signal flow</text>",
    ]
    # Live: a MIDI track with the device
    parts += _rect(20, 44, 520, 400, LIVE, "Ableton Live: a MIDI track")
    parts += _rect(36, 90, 130, 58, "white", "Track input", ("keyboard, clip",))
    parts += _rect(36, 360, 130, 58, "white", "Instrument", ("after the device",))
    parts += _rect(186, 74, 340, 356, DEVICE, "Continuo.amxd (MIDI effect)")
    blocks = (
        ("input: midiin -> note/in + beat", "Thru -> midiout"),
        ("transport: live.observer + metro 16n", "-> transport/set"),
        (f"handshake: hello every {HEARTBEAT_MS / 1000:g} s", f"no ready for {WATCHDOG_MS / 1000:g}"
         " s = not connected"),
        ("parameters: Mode Temperature Length", "Style Thru Generate Panic"),
        ("playback: pipe (delay_ms) -> makenote", "-> noteout, on the beat"),
        ("safety: all notes off on stop, panic,", "device off or deleted"),
    )
    for k, (a, b) in enumerate(blocks):
        parts += _rect(200, 112 + 52 * k, 312, 44, "white", "", (a, b), size=12)
    parts += _arrow(166, 119, 200, 132)
    parts += _arrow(200, 398, 166, 389)
    # between them: OSC both ways, the addresses from the registry
    parts += _arrow(526, 100, 800, 100, "OSC over UDP")
    parts += _messages(560, 122, "device -> daemon", sent)
    parts += _arrow(800, 256, 526, 256, "OSC over UDP, to the device's own port")
    parts += _messages(560, 278, "daemon -> device", received)
    # the daemon
    parts += _rect(800, 74, 280, 356, DAEMON, "continuo run (daemon)",
                   (f"OSC in on {Config.osc_host}:{Config.osc_port}",
                    "one session per device instance",
                    "tagger: style tags of what you play",
                    "generator: continuation on the grid",
                    "notes sent ahead, with delay_ms",
                    "replies go to the port in hello:",
                    f"{PORT_BASE}-{PORT_BASE + PORT_SPAN - 1}, one per instance"))
    # without Max for Live: virtual MIDI ports
    parts += _rect(20, 466, 1060, 156, PORTS, "Without Max for Live: virtual MIDI ports")
    parts += _rect(40, 512, 240, 90, "white", "Live MIDI track A", (
        "MIDI To: Continuo In", "MIDI clock: Sync on for Continuo In"))
    parts += _rect(430, 512, 240, 90, "white", "continuo run", (
        "ports Continuo In / Continuo Out", "beat clock: --midi-clock"))
    parts += _rect(820, 512, 240, 90, "white", "Live MIDI track B", (
        "MIDI From: Continuo Out", "Monitor In -> instrument"))
    parts += _arrow(280, 557, 430, 557, "notes + clock")
    parts += _arrow(670, 557, 820, 557, "generated notes")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
