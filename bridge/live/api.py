"""The OSC API: one handler per ``in`` route of ``bridge/osc/routes.py``.

Handlers turn requests into session calls and replies. Bad values raise
:class:`OscRequestError` (the router answers ``/continuo/error``); nothing here crashes the
daemon.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge import __version__
from bridge.live.hub import Hub
from bridge.live.params import PARAMS, STYLES, ParamError
from bridge.osc.router import OscRequestError, Reply, Request, Router
from bridge.timing.clock import ClockError, check_beat


def _guard(fn: Callable[[Request], list[Reply] | None]) -> Callable:
    def handler(request: Request) -> list[Reply] | None:
        try:
            return fn(request)
        except (ParamError, ClockError) as exc:
            raise OscRequestError(str(exc)) from None
    return handler


def _check_midi(**values: int) -> None:
    for name, value in values.items():
        if not 0 <= value <= 127:
            raise OscRequestError(f"{name} {value} is outside 0-127")


def bind_api(router: Router, hub: Hub) -> None:
    """Bind every ``in`` route to ``hub``'s sessions."""

    def hello(r: Request) -> list[Reply]:
        session = hub.hello(r["instance"], r["reply_port"], r.sender[0])
        # hello names an instance, not yet a session: address its replies explicitly
        to = hub.addresses[session.sid]
        return [Reply("/continuo/session/ready", [session.sid, __version__, hub.model_name], to),
                Reply("/continuo/session/state", [session.sid, session.state], to)]

    def bye(r: Request) -> None:
        hub.get(r["session"])
        if hub.is_port(r["session"]):
            raise OscRequestError(f"{r['session']!r} is the daemon's MIDI port session: it "
                                  "lives as long as the daemon")
        hub.bye(r["session"])

    def ping(r: Request) -> list[Reply]:
        if r.session is not None and r.session in hub.sessions:
            hub.touch(r.session)
        return [Reply("/continuo/ping/reply", [__version__])]

    def status(r: Request) -> list[Reply]:
        args: list = []
        bad = [(f"bad_{kind}", n) for kind, n in router.counts.items()]
        for key, value in [*hub.status(r.session), *bad]:
            args += [key, int(value) if isinstance(value, bool) else value]
        return [Reply("/continuo/status/reply", args)]

    def note_in(r: Request) -> None:
        _check_midi(pitch=r["pitch"], velocity=r["velocity"])
        session = hub.get(r["session"])
        beat = _stamp(session, r["beat"])
        if r["velocity"] > 0:
            session.note_on(r["pitch"], r["velocity"], beat)
        else:
            session.note_off(r["pitch"], beat)

    def pedal_in(r: Request) -> None:
        _check_midi(value=r["value"])
        session = hub.get(r["session"])
        session.pedal(r["value"], _stamp(session, r["beat"]))

    def _stamp(session, beat: float) -> float | None:
        # the device's song position is only meaningful while its transport runs;
        # stopped, the session's own free-running clock stamps what was played (a
        # position out of range is refused either way)
        beat = check_beat(beat)
        return beat if session.clock.playing else None

    def transport(r: Request) -> None:
        session = hub.get(r["session"])
        if r["playing"] not in (0, 1):
            raise OscRequestError(f"playing must be 0 or 1, got {r['playing']}")
        session.clock.set_transport(hub.loop.time(), r["tempo"], r["beat"], bool(r["playing"]),
                                    r["numerator"], r["denominator"])
        session.time.sync_meter()

    def param_set(r: Request) -> list[Reply]:
        session = hub.get(r["session"])
        value = session.set_param(r["name"], r["value"])
        return [Reply("/continuo/param/value", [session.sid, r["name"], value])]

    def param_get(r: Request) -> list[Reply]:
        session = hub.get(r["session"])
        if r["name"] == STYLES:
            return [Reply("/continuo/param/value", [session.sid, STYLES,
                                                    *(s for s in session.styles if s)])]
        names = [p.name for p in PARAMS] if r["name"] == "" else [r["name"]]
        for name in names:
            if name not in session.params:
                raise OscRequestError(f"unknown parameter {name!r}")
        return [Reply("/continuo/param/value", [session.sid, n, session.params[n]])
                for n in names]

    def action(name: str) -> Callable[[Request], None]:
        def handler(r: Request) -> None:
            hub.get(r["session"]).act(name)
        return handler

    for address, fn in {
        "/continuo/session/hello": hello, "/continuo/session/bye": bye,
        "/continuo/session/panic": action("panic"), "/continuo/ping": ping,
        "/continuo/status/get": status, "/continuo/note/in": note_in,
        "/continuo/pedal/in": pedal_in,
        "/continuo/transport/set": transport, "/continuo/param/set": param_set,
        "/continuo/param/get": param_get, "/continuo/generate/start": action("generate"),
        "/continuo/generate/stop": action("stop"), "/continuo/phrase/end": action("phrase_end"),
    }.items():
        router.bind(address, _guard(fn))
    router.check_bound()
