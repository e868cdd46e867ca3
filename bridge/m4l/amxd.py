"""The ``.amxd`` container of an unfrozen Max for Live device.

Chunks of a 4-byte ASCII tag, a little-endian uint32 length and the data:

    ampf 4 <type>        type: mmmm MIDI effect, aaaa audio effect, iiii instrument
    meta 4 <uint32 0>    0 (or 1): unfrozen; 7: frozen
    ptch N <JSON>\\n\\0   the patcher JSON, a newline and a NUL, both counted in N

``dumps`` formats the JSON with sorted keys and fixed indentation, so a device rebuilds
byte for byte from its sources and ``continuo m4l build --check`` can compare.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from bridge.m4l.patch import DEVICE_TYPES, amxdtype

MAGIC, META, PATCH = b"ampf", b"meta", b"ptch"
UNFROZEN = 0
FROZEN = 7


class AmxdError(ValueError):
    """A file that is not an unfrozen device we can read."""


@dataclass(frozen=True)
class Amxd:
    device_type: str          # mmmm, aaaa or iiii
    meta: int
    patcher: dict[str, Any]   # {"patcher": {...}}
    payload_length: int       # N of the ptch chunk

    @property
    def kind(self) -> str:
        return {v: k for k, v in DEVICE_TYPES.items()}.get(self.device_type, "unknown")


def dumps_json(patcher: dict[str, Any]) -> bytes:
    return json.dumps(patcher, indent="\t", sort_keys=True, ensure_ascii=False).encode("utf-8")


def dumps(patcher: dict[str, Any], device_type: str = "mmmm") -> bytes:
    """The device file for ``patcher`` (``{"patcher": {...}}``)."""
    if device_type not in DEVICE_TYPES.values():
        raise AmxdError(f"device type {device_type!r} is not one of "
                        f"{', '.join(DEVICE_TYPES.values())}")
    declared = patcher.get("patcher", {}).get("project", {}).get("amxdtype")
    if declared != amxdtype(device_type):
        raise AmxdError(f"project.amxdtype {declared} does not match {device_type!r} "
                        f"({amxdtype(device_type)})")
    payload = dumps_json(patcher) + b"\n\x00"
    return b"".join([
        _chunk(MAGIC, device_type.encode("ascii")),
        _chunk(META, struct.pack("<I", UNFROZEN)),
        _chunk(PATCH, payload),
    ])


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data


def loads(data: bytes) -> Amxd:
    """Parse a device file; AmxdError for anything but an unfrozen, unencrypted device."""
    if not data.startswith(MAGIC):
        raise AmxdError(f"not a device: starts with {data[:4]!r}, not {MAGIC!r}")
    chunks: dict[bytes, bytes] = {}
    index = 0
    while index < len(data):
        if index + 8 > len(data):
            raise AmxdError(f"truncated chunk header at byte {index}")
        tag = data[index:index + 4]
        (length,) = struct.unpack_from("<I", data, index + 4)
        body = data[index + 8:index + 8 + length]
        if len(body) != length:
            raise AmxdError(f"chunk {tag!r} at byte {index} claims {length} bytes, "
                            f"{len(body)} left")
        chunks[tag] = body
        index += 8 + length
    if len(chunks.get(MAGIC, b"")) != 4 or len(chunks.get(META, b"")) != 4:
        raise AmxdError("ampf and meta chunks must hold 4 bytes each")
    (meta,) = struct.unpack("<I", chunks[META])
    if meta == FROZEN:
        raise AmxdError("frozen device (meta 7): unfreeze it in Max to read the patch")
    if PATCH not in chunks:
        raise AmxdError("no ptch chunk" + (" (encrypted device)" if b"ciph" in chunks else ""))
    payload = chunks[PATCH]
    if payload.startswith(b"mx@c"):
        raise AmxdError("frozen device (mx@c container)")
    text = payload[:-1] if payload.endswith(b"\x00") else payload
    try:
        patcher = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AmxdError(f"ptch is not JSON: {exc}") from None
    return Amxd(chunks[MAGIC].decode("ascii"), meta, patcher, len(payload))
