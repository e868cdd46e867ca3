"""The codec: checked encoding, and decoding that refuses malformed packets with a reason."""

from __future__ import annotations

import math
import struct

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.osc.codec import (
    Message,
    OscArgumentError,
    OscDecodeError,
    check_args,
    decode,
    encode,
    encode_raw,
    split_args,
)
from bridge.osc.routes import IN, OUT, ROUTES, route

SAMPLE = {"i": 7, "f": 0.5, "s": "x y", "any": "jazz"}


def osc_string(text: str) -> bytes:
    data = text.encode() + b"\x00"
    return data + b"\x00" * (-len(data) % 4)


def raw(address: str, tags: str, payload: bytes = b"") -> bytes:
    return osc_string(address) + osc_string(tags) + payload


def bundle(*elements: bytes, timetag: bytes = b"\x00" * 7 + b"\x01") -> bytes:
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def sample_args(rt, groups: int = 2, optional: bool = True) -> list:
    args = [SAMPLE[a.type] for a in rt.args if optional or not a.optional]
    return args + [SAMPLE[a.type] for _ in range(groups) for a in rt.repeat]


# -- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("rt", ROUTES, ids=lambda r: f"{r.direction}:{r.address}")
def test_every_route_round_trips(rt):
    for optional in (True, False):
        args = sample_args(rt, optional=optional)
        (message,) = decode(encode(rt.address, args, rt.direction))
        assert message == Message(rt.address, tuple(args))


def test_ints_become_floats_where_f_is_declared():
    data = encode("/continuo/note/cancel", ["s1", 4])
    assert b",sf\x00" in data
    assert decode(data) == [Message("/continuo/note/cancel", ("s1", 4.0))]
    assert isinstance(decode(data)[0].args[1], float)


def test_any_keeps_the_python_type_on_the_wire():
    for value, tag in ((3, b",ssi"), (0.25, b",ssf"), ("folk/jig", b",sss")):
        data = encode("/continuo/param/set", ["s1", "style", value], IN)
        assert tag in data
        assert decode(data)[0].args[2] == value
        assert type(decode(data)[0].args[2]) is type(value)


def test_repeat_groups_split():
    rt = route("/continuo/tags/update", OUT)
    args = check_args(rt, ["s1", "jazz", 0.75, "folk", 1])
    named, groups = split_args(rt, args)
    assert named == {"session": "s1"}
    assert groups == [("jazz", 0.75), ("folk", 1.0)]
    assert split_args(route("/continuo/ping", IN), ()) == ({}, [])


def test_empty_repeat_and_missing_optional_are_fine():
    assert decode(encode("/continuo/status/reply", [])) == [Message("/continuo/status/reply")]
    assert decode(encode("/continuo/ping", [], IN)) == [Message("/continuo/ping")]


def test_int32_limits():
    rt = route("/continuo/ping/reply", OUT)
    note = route("/continuo/note/in", IN)
    assert check_args(note, ["s", 2**31 - 1, -(2**31), 0.0])[1:3] == (2**31 - 1, -(2**31))
    with pytest.raises(OscArgumentError, match="outside int32"):
        check_args(note, ["s", 2**31, 1, 0.0])
    assert check_args(rt, ["0.1.0"]) == ("0.1.0",)


# -- encoding errors --------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "args", "direction", "match"), [
    ("/continuo/nope", [], OUT, r"no 'out' route '/continuo/nope'$"),
    ("/continuo/note/in", ["s", 60, 100, 0.0], OUT, r"it is an 'in' route"),
    ("/continuo/note/out", ["s", 60, 100, 0.0, 1.0, 1], OUT,
     r"takes s:session i:pitch .* f:delay_ms; got 6 arguments, need 7"),
    ("/continuo/ping/reply", [], OUT, r"got 0 arguments, need 1"),
    ("/continuo/ping", ["a", "b"], IN, r"takes \[s:session\]; got 2 arguments, need 0 to 1"),
    ("/continuo/tags/update", ["s", "jazz"], OUT,
     r"got 2 arguments: the last \(tag probability\) group is incomplete"),
    ("/continuo/tags/update", [], OUT, r"got 0 arguments, need at least 1"),
    ("/continuo/note/cancel", ["s", True], OUT,
     r"argument 2 \(beat\) must be a number \(f\): got boolean True \(T/F\)"),
    ("/continuo/note/in", ["s", 60.0, 100, 0.0], IN,
     r"argument 2 \(pitch\) must be an int32 \(i\): got float 60.0"),
    ("/continuo/note/in", ["s", "C4", 100, 0.0], IN, r"got string 'C4'"),
    ("/continuo/note/cancel", ["s", "1"], OUT, r"must be a number \(f\): got string '1'"),
    ("/continuo/note/cancel", ["s", math.nan], OUT, r"got float nan, not a finite float32"),
    ("/continuo/note/cancel", ["s", math.inf], OUT, r"not a finite float32"),
    ("/continuo/note/cancel", ["s", 1e39], OUT, r"not a finite float32"),
    ("/continuo/ping/reply", ["a\x00b"], OUT, r"containing NUL"),
    ("/continuo/ping/reply", [b"0.1"], OUT, r"must be a string \(s\): got bytes b'0.1'"),
    ("/continuo/param/value", ["s", "seed", None], OUT,
     r"must be an int32, float or string: got NoneType None"),
    ("/continuo/ping/reply", "0.1.0", OUT, r"must be a sequence, not one str"),
])
def test_encode_errors(address, args, direction, match):
    with pytest.raises(OscArgumentError, match=match):
        encode(address, args, direction)


def test_long_values_are_shortened_in_messages():
    with pytest.raises(OscArgumentError) as info:
        encode("/continuo/note/cancel", ["s", "x" * 10_000])
    assert len(str(info.value)) < 200


# -- decoding ---------------------------------------------------------------------------------

def test_bundles_are_flattened_in_order_and_time_tags_ignored():
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(OscMessageBuilder("/continuo/ping").build())
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(OscMessageBuilder("/continuo/status/get").build())
    outer.add_content(inner.build())
    far_future = struct.pack(">II", 0xFFFFFFF0, 0)   # ~2106: python-osc's server would sleep
    data = bundle(outer.build().dgram, encode("/continuo/generate/start", ["s"], IN),
                  timetag=far_future)
    assert [m.address for m in decode(data)] == [
        "/continuo/status/get", "/continuo/ping", "/continuo/generate/start"]
    assert decode(bundle()) == []


def test_client_types_double_int64_and_booleans():
    builder = OscMessageBuilder("/continuo/x")
    for value, tag in ((0.5, "d"), (2**40, "h"), (5, "h"), (True, "T"), (False, "F")):
        builder.add_arg(value, tag)
    assert decode(builder.build().dgram) == [Message("/continuo/x", (0.5, 2**40, 5, True, False))]


def test_message_without_type_tag_string_has_no_args():
    assert decode(osc_string("/continuo/ping")) == [Message("/continuo/ping")]


def test_encode_raw_sends_what_routes_forbid():
    data = encode_raw("/anything", [True, False, 1, 2**40, 0.5, "s"])
    assert b",TFihfs\x00" in data
    assert decode(data)[0].args == (True, False, 1, 2**40, 0.5, "s")


@pytest.mark.parametrize(("data", "match", "address"), [
    (b"", r"empty packet", ""),
    (b"hello world!", r"not OSC: .* b'hello wo'", ""),
    (b"/continuo/ping", r"unreadable address", ""),
    (b"/a\x00\x00" + b"\xff\xfe\x00\x00", r"unreadable type tag string", "/a"),
    (raw("/a", "ii"), r"type tag string 'ii' does not start with ','", "/a"),
    (raw("/a", ",i"), r"truncated: argument 1 \(i\) needs 4 bytes, 0 left", "/a"),
    (raw("/a", ",if", struct.pack(">i", 1)), r"argument 2 \(f\) needs 4 bytes, 0 left", "/a"),
    (raw("/a", ",i", b"\x00" * 8), r"4 bytes after the arguments of type tags .,i.", "/a"),
    (raw("/a", ",s", b"abcd"), r"argument 1 \(s\) is not a complete OSC string", "/a"),
    (raw("/a", ",s", b"\xff\xfe\x00\x00"), r"argument 1 \(s\) is not valid UTF-8", "/a"),
    (raw("/a", ",ci", b"\x00" * 8), r"unsupported OSC type tag c in ',ci'", "/a"),
    (raw("/a", ",b", struct.pack(">i", 0)), r"unsupported OSC type tag b", "/a"),
    (raw("/a", ",[i]", struct.pack(">i", 0)), r"unsupported OSC type tag \[, \]", "/a"),
    (raw("/a", ",N"), r"unsupported OSC type tag N", "/a"),
    (b"#bundle\x00\x00\x00", r"no complete time tag", ""),
    (bundle(osc_string("/a"))[:-2], r"bad bundle element size 4", ""),
    (bundle() + b"\x00\x00", r"element size at byte 16 is cut off", ""),
    (bundle() + struct.pack(">i", -4), r"bad bundle element size -4", ""),  # loops python-osc
    (bundle() + struct.pack(">i", 0), r"bad bundle element size 0", ""),
    (bundle(b"junk"), r"not OSC", ""),
    (bundle(raw("/ok", ","), raw("/a", ",i")), r"truncated", "/a"),
])
def test_decode_errors(data, match, address):
    with pytest.raises(OscDecodeError, match=match) as info:
        decode(data)
    assert info.value.address == address


def test_bundle_nesting_is_limited():
    data = raw("/continuo/ping", ",")
    for _ in range(8):
        data = bundle(data)
    assert decode(data) == [Message("/continuo/ping")]
    with pytest.raises(OscDecodeError, match="nested deeper than 8"):
        decode(bundle(data))


def test_message_str_for_printing():
    message = Message("/continuo/error", ("", "bad thing", 1, 0.10000000149011612, 120.0, 1e-9))
    assert str(message) == "/continuo/error '' 'bad thing' 1 0.1 120.0 1e-09"
    assert str(Message("/continuo/ping/reply", ("0.1.0",))) == "/continuo/ping/reply 0.1.0"


def test_decode_agrees_with_python_osc_on_well_formed_messages():
    from pythonosc.osc_message import OscMessage

    builder = OscMessageBuilder("/continuo/any")
    for value, tag in ((-5, "i"), (0.1, "f"), (1e300, "d"), (-(2**62), "h"), ("", "s"),
                       ("héllo", "s"), ("abcd", "s"), (True, "T"), (False, "F")):
        builder.add_arg(value, tag)
    data = builder.build().dgram
    assert decode(data)[0].args == tuple(OscMessage(data).params)
