"""What a session tells its client, as typed events. Session logic emits these and never
a protocol's message: the OSC adapter (:func:`bridge.osc.events.message_of`, used by the
hub) turns them into OSC messages, the MIDI port session logs them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateChanged:
    session: str
    state: str                         # bridge.live.states


@dataclass(frozen=True)
class TagsChanged:
    session: str
    tags: tuple[tuple[str, float], ...]    # most likely first


@dataclass(frozen=True)
class Failed:
    """Something the session could not do; it goes on."""

    session: str
    message: str
    about: str = ""                    # the request it concerns (an OSC route), if any


@dataclass(frozen=True)
class ParamChanged:
    """A parameter set elsewhere (a band-wide one, by another member of its band)."""

    session: str
    name: str
    value: object


Event = StateChanged | TagsChanged | Failed | ParamChanged
