"""Session events (:mod:`bridge.live.events`) as the OSC messages a client receives."""

from __future__ import annotations

from typing import Any

from bridge.live.events import Event, Failed, ParamChanged, StateChanged, TagsChanged
from bridge.osc.routes import OUT, route

STATE = route("/continuo/session/state", OUT).address
TAGS = route("/continuo/tags/update", OUT).address
ERROR = route("/continuo/error", OUT).address
PARAM = route("/continuo/param/value", OUT).address


def message_of(event: Event) -> tuple[str, list[Any]]:
    """(address, arguments) of ``event``."""
    if isinstance(event, StateChanged):
        return STATE, [event.session, event.state]
    if isinstance(event, TagsChanged):
        args: list[Any] = [event.session]
        for tag, p in event.tags:
            args += [tag, round(p, 4)]
        return TAGS, args
    if isinstance(event, Failed):
        return ERROR, [event.about, event.message]
    if isinstance(event, ParamChanged):
        return PARAM, [event.session, event.name, event.value]
    raise TypeError(f"not a session event: {event!r}")
