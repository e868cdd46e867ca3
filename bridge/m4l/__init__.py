"""The Max for Live device, authored as Python and assembled into ``max4live/Continuo.amxd``.

``patch`` (the DSL), ``objects`` (inlet/outlet counts), ``protocol`` (the OSC plumbing),
``device``, ``face`` and ``playback`` (the device), ``amxd`` (the container), ``lint`` and
``contract`` (the checks), ``standin`` (a Python stand-in speaking the device's protocol,
for the bench), ``diagram`` (the signal-flow SVG). The simulator of Max's message passing
that runs the device in tests lives with them (``tests/m4l/maxsim.py``). ``render()``
builds, checks and packs the device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.m4l.device import Device


class DeviceProblems(ValueError):
    """The built device fails its lint or contract check."""


def problems(device: Device) -> list[str]:
    """Lint and contract problems of a built device (empty: good to ship)."""
    from bridge.m4l import contract, lint
    from bridge.m4l.device import LONGNAMES

    patcher = device.patch.to_json()
    return [*lint.lint(patcher, LONGNAMES.values()),
            *contract.check(patcher, not_sent=device.not_sent, sent=device.sent,
                            received=device.received)]


def render() -> bytes:
    """The bytes of ``Continuo.amxd``, built from source; DeviceProblems if it fails a check."""
    from bridge.m4l import amxd
    from bridge.m4l.device import build

    device = build()
    found = problems(device)
    if found:
        raise DeviceProblems("\n".join(found))
    return amxd.dumps(device.patch.to_json(), device.patch.device_type)
