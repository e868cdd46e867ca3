"""The .amxd container, and the committed device being exactly a fresh build."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from bridge.m4l import amxd, render
from bridge.m4l.patch import amxdtype

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "max4live" / "Continuo.amxd"


@pytest.fixture(scope="module")
def data() -> bytes:
    return render()


def test_header_layout(data: bytes) -> None:
    assert data[0:4] == b"ampf"
    assert struct.unpack("<I", data[4:8]) == (4,)
    assert data[8:12] == b"mmmm"
    assert data[12:16] == b"meta"
    assert struct.unpack("<I", data[16:20]) == (4,)
    assert struct.unpack("<I", data[20:24])[0] in (0, 1)
    assert data[24:28] == b"ptch"
    (n,) = struct.unpack("<I", data[28:32])
    assert n == len(data) - 32


def test_payload_is_json_newline_nul(data: bytes) -> None:
    payload = data[32:]
    assert payload.endswith(b"}\n\x00")
    patcher = json.loads(payload[:-2])
    assert patcher["patcher"]["project"]["amxdtype"] == amxdtype("mmmm")
    assert amxdtype("mmmm") == int.from_bytes(b"mmmm", "big")


def test_round_trip(data: bytes) -> None:
    device = amxd.loads(data)
    assert (device.device_type, device.kind, device.meta) == ("mmmm", "midi", 0)
    assert device.payload_length == len(data) - 32
    assert amxd.dumps(device.patcher) == data


def test_builds_are_byte_identical(data: bytes) -> None:
    assert render() == data


def test_committed_device_is_a_fresh_build(data: bytes) -> None:
    assert COMMITTED.exists(), "run `continuo m4l build`"
    assert COMMITTED.read_bytes() == data, "max4live/Continuo.amxd is stale: run " \
                                           "`continuo m4l build`"


def test_refuses_what_it_cannot_read(data: bytes) -> None:
    with pytest.raises(amxd.AmxdError, match="not a device"):
        amxd.loads(b"RIFF" + data[4:])
    frozen = data[:20] + struct.pack("<I", amxd.FROZEN) + data[24:]
    with pytest.raises(amxd.AmxdError, match="frozen"):
        amxd.loads(frozen)
    with pytest.raises(amxd.AmxdError, match="claims"):
        amxd.loads(data[:-10])
    with pytest.raises(amxd.AmxdError, match="amxdtype"):
        amxd.dumps(amxd.loads(data).patcher, "aaaa")
