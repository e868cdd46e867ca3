"""The router, without sockets: every failure becomes an error reply, nothing raises."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.live.params import ParamError, param
from bridge.osc.codec import encode, encode_raw
from bridge.osc.router import OscRequestError, Reply, Request, RouteBindingError, Router
from bridge.osc.routes import BY_ADDRESS, IN, ROUTES, Arg, Route, routes

CLIENT = ("127.0.0.1", 50123)
ERROR = "/continuo/error"


def msg(address: str, *args) -> bytes:
    return encode(address, args, IN)


def errors(replies: list[Reply]) -> list[tuple[str, str]]:
    assert all(r.address == ERROR for r in replies), replies
    return [r.args for r in replies]


@pytest.fixture
def seen() -> list[Request]:
    return []


@pytest.fixture
def router(seen) -> Router:
    router = Router()

    @router.handler("/continuo/ping")
    def ping(request: Request):
        seen.append(request)
        return Reply("/continuo/ping/reply", ("0.1.0",))

    @router.handler("/continuo/param/set")
    def param_set(request: Request):
        seen.append(request)
        try:
            value = param(request["name"]).validate(request["value"])
        except ParamError as exc:
            raise OscRequestError(str(exc)) from exc
        return [Reply("/continuo/param/value", (request.session, request["name"], value))]

    @router.handler("/continuo/note/in")
    def note_in(request: Request):
        seen.append(request)

    @router.handler("/continuo/generate/start")
    def crash(request: Request):
        raise ZeroDivisionError("division by zero")

    return router


def test_a_handler_gets_a_checked_request(router, seen):
    assert router.dispatch(msg("/continuo/note/in", "s1", 60, 100, 2), CLIENT) == []
    (request,) = seen
    assert request == Request("/continuo/note/in", ("s1", 60, 100, 2.0),
                              {"session": "s1", "pitch": 60, "velocity": 100, "beat": 2.0},
                              [], CLIENT)
    assert isinstance(request.args[3], float)
    assert request["pitch"] == 60 and request.session == "s1"


def test_ints_are_coerced_to_float_on_the_wire_too(router, seen):
    router.dispatch(encode_raw("/continuo/note/in", ["s1", 60, 100, 3]), CLIENT)
    assert seen[0].named["beat"] == 3.0 and isinstance(seen[0].named["beat"], float)


def test_optional_args(router, seen):
    assert router.dispatch(msg("/continuo/ping"), CLIENT) == [
        Reply("/continuo/ping/reply", ("0.1.0",), CLIENT)]
    router.dispatch(msg("/continuo/ping", "s1"), CLIENT)
    assert seen[0].named == {} and seen[0].session is None
    assert seen[1].named == {"session": "s1"}


def test_repeat_groups(monkeypatch):
    # no 'in' route has a repeat group yet: declare one for the test
    rt = Route("/continuo/test/tags", IN, (Arg("session", "s"),), "test",
               repeat=(Arg("tag", "s"), Arg("weight", "f")))
    monkeypatch.setitem(BY_ADDRESS, rt.address + ":" + IN, rt)
    router, got = Router(), []
    router.bind(rt.address, got.append)
    assert router.dispatch(encode_raw(rt.address, ["s1", "jazz", 1, "folk", 0.5]), CLIENT) == []
    assert got[0].named == {"session": "s1"}
    assert got[0].repeat == [("jazz", 1.0), ("folk", 0.5)]
    assert got[0].args == ("s1", "jazz", 1.0, "folk", 0.5)
    router.dispatch(encode_raw(rt.address, ["s1"]), CLIENT)
    assert got[1].repeat == []
    (error,) = errors(router.dispatch(encode_raw(rt.address, ["s1", "jazz"]), CLIENT))
    assert error[1] == ("/continuo/test/tags takes s:session (s:tag f:weight)*; got 2 "
                        "arguments: the last (tag weight) group is incomplete")


def test_replies_with_repeat_groups_are_checked():
    router = Router()
    router.bind("/continuo/status/get", lambda r: Reply(
        "/continuo/status/reply", ("sessions", 2, "tempo", 120.0, "model", "small")))
    (reply,) = router.dispatch(msg("/continuo/status/get"), CLIENT)
    assert reply.args == ("sessions", 2, "tempo", 120.0, "model", "small")


def test_unknown_address(router, caplog):
    caplog.set_level(logging.WARNING)
    replies = router.dispatch(encode_raw("/continuo/pong"), CLIENT)
    assert errors(replies) == [("/continuo/pong",
                                "unknown address /continuo/pong (did you mean /continuo/ping?)")]
    assert replies[0].destination == CLIENT
    assert "127.0.0.1:50123" in caplog.text and "unknown address /continuo/pong" in caplog.text
    assert errors(router.dispatch(encode_raw("/other/thing"), CLIENT)) == [
        ("/other/thing", "unknown address /other/thing")]


def test_out_address_sent_to_the_daemon(router):
    assert errors(router.dispatch(encode_raw("/continuo/ping/reply", ["x"]), CLIENT)) == [
        ("/continuo/ping/reply", "/continuo/ping/reply is sent by the daemon, not to it")]


def test_wrong_count_names_the_signature(router, seen):
    (error,) = errors(router.dispatch(encode_raw("/continuo/note/in", ["s1", 60, 100]), CLIENT))
    assert error == ("/continuo/note/in", "/continuo/note/in takes s:session i:pitch i:velocity "
                     "f:beat; got 3 arguments, need 4")
    assert seen == []


@pytest.mark.parametrize(("args", "problem"), [
    (["s1", "60", 100, 0.0], "argument 2 (pitch) must be an int32 (i): got string '60'"),
    (["s1", 60.0, 100, 0.0], "argument 2 (pitch) must be an int32 (i): got float 60.0"),
    (["s1", 60, True, 0.0], "argument 3 (velocity) must be an int32 (i): got boolean True (T/F)"
                            "; send 1 or 0 as an int instead"),
    ([1, 60, 100, 0.0], "argument 1 (session) must be a string (s): got int 1"),
    (["s1", 2**40, 100, 0.0], "argument 2 (pitch) must be an int32 (i): got int 1099511627776, "
                              "outside int32"),
])
def test_wrong_types_name_the_signature(router, seen, args, problem):
    (error,) = errors(router.dispatch(encode_raw("/continuo/note/in", args), CLIENT))
    assert error == ("/continuo/note/in", "/continuo/note/in takes s:session i:pitch "
                     f"i:velocity f:beat; {problem}")
    assert seen == []


def test_handler_request_error(router):
    assert errors(router.dispatch(msg("/continuo/param/set", "s1", "temperature", 9), CLIENT)) \
        == [("/continuo/param/set", "temperature must be within 0.1..2; got 9")]
    assert router.dispatch(msg("/continuo/param/set", "s1", "temperature", 1), CLIENT) == [
        Reply("/continuo/param/value", ("s1", "temperature", 1.0), CLIENT)]


def test_handler_crash_is_an_internal_error_and_serving_goes_on(router, caplog):
    caplog.set_level(logging.WARNING)
    assert errors(router.dispatch(msg("/continuo/generate/start", "s1"), CLIENT)) == [
        ("/continuo/generate/start", "internal error: ZeroDivisionError: division by zero")]
    (record,) = [r for r in caplog.records if r.exc_info]
    assert "Traceback" in caplog.text and "127.0.0.1:50123" in record.getMessage()
    assert router.dispatch(msg("/continuo/ping"), CLIENT)[0].address == "/continuo/ping/reply"


@pytest.mark.parametrize("result", [
    Reply("/continuo/nope", ()),
    Reply("/continuo/ping/reply", ()),
    Reply("/continuo/ping", ()),
    ["not a reply"],
    42,
])
def test_bad_handler_results_are_internal_errors(result):
    router = Router()
    router.bind("/continuo/ping", lambda request: result)
    ((address, message),) = errors(router.dispatch(msg("/continuo/ping"), CLIENT))
    assert address == "/continuo/ping" and message.startswith("internal error: ")


def test_async_handler_is_refused():
    router = Router()

    async def ping(request):
        return None

    router.bind("/continuo/ping", ping)
    ((_, message),) = errors(router.dispatch(msg("/continuo/ping"), CLIENT))
    assert "handler returned an awaitable" in message


def test_malformed_datagram_is_an_error_with_empty_address(router, caplog):
    caplog.set_level(logging.WARNING)
    assert errors(router.dispatch(b"\x00\x01garbage", CLIENT)) == [
        ("", "malformed OSC packet: not OSC: a packet starts with '/' or '#bundle', this one "
             "with b'\\x00\\x01garbag'")]
    assert "(unparseable)" in caplog.text and "127.0.0.1:50123" in caplog.text
    (error,) = errors(router.dispatch(b"/continuo/ping\x00\x00,i\x00\x00", CLIENT))
    assert error[0] == "/continuo/ping" and "truncated" in error[1]
    assert router.dispatch(msg("/continuo/ping"), CLIENT)[0].address == "/continuo/ping/reply"


def test_bundle_messages_are_each_answered(router):
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address in ("/continuo/ping", "/continuo/nope", "/continuo/ping"):
        bundle.add_content(OscMessageBuilder(address).build())
    replies = router.dispatch(bundle.build().dgram, CLIENT)
    assert [r.address for r in replies] == ["/continuo/ping/reply", ERROR, "/continuo/ping/reply"]


def test_reply_address_policy_comes_from_the_daemon():
    asked = []

    def reply_address(sender, session):
        asked.append((sender, session))
        return (sender[0], 9011) if session else (sender[0], 9001)

    router = Router(reply_address)
    there = ("10.0.0.9", 7)
    router.bind("/continuo/ping", lambda r: [Reply("/continuo/ping/reply", ("v",)),
                                             Reply("/continuo/ping/reply", ("v",), there)])
    router.bind("/continuo/note/in", lambda r: None)
    assert [r.destination for r in router.dispatch(msg("/continuo/ping", "s1"), CLIENT)] == [
        ("127.0.0.1", 9011), ("10.0.0.9", 7)]
    assert router.dispatch(msg("/continuo/ping"), CLIENT)[0].destination == ("127.0.0.1", 9001)
    # a session-scoped message with bad arguments: its errors go to the session's port
    bad = encode_raw("/continuo/note/in", ["s1", "C4", 100, 0.0])
    assert router.dispatch(bad, CLIENT)[0].destination == ("127.0.0.1", 9011)
    assert router.dispatch(b"junk", CLIENT)[0].destination == ("127.0.0.1", 9001)
    assert asked == [(CLIENT, "s1"), (CLIENT, None), (CLIENT, "s1"), (CLIENT, None)]


def test_a_failing_reply_address_falls_back_to_the_sender(caplog):
    router = Router(lambda sender, session: 1 / 0)
    router.bind("/continuo/ping", lambda r: Reply("/continuo/ping/reply", ("v",)))
    assert router.dispatch(msg("/continuo/ping"), CLIENT)[0].destination == CLIENT
    assert "reply_address failed" in caplog.text


def test_unbound_route_is_an_internal_error():
    ((address, message),) = errors(Router().dispatch(msg("/continuo/ping"), CLIENT))
    assert (address, message) == ("/continuo/ping", "internal error: /continuo/ping is not served")


def test_binding_rules():
    router = Router()
    with pytest.raises(RouteBindingError, match="/continuo/nope: it is no route"):
        router.bind("/continuo/nope", print)
    with pytest.raises(RouteBindingError, match="it is an 'out' route"):
        router.bind("/continuo/note/out", print)
    router.bind("/continuo/ping", print)
    with pytest.raises(RouteBindingError, match="already bound"):
        router.bind("/continuo/ping", print)
    with pytest.raises(RouteBindingError, match="no handler for /continuo/session/hello, "):
        router.check_bound()
    for rt in routes(IN):
        if rt.address != "/continuo/ping":
            router.bind(rt.address, print)
    router.check_bound()


def test_dispatch_needs_no_event_loop():
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    router = Router()
    router.bind("/continuo/ping", lambda r: None)
    assert router.dispatch(msg("/continuo/ping"), CLIENT) == []


def test_huge_unknown_addresses_are_clipped_in_replies():
    router = Router()
    ((address, message),) = errors(router.dispatch(encode_raw("/x" * 20_000), CLIENT))
    assert len(address) == 200 and address.endswith("...")
    assert len(message) < 300


@pytest.mark.parametrize("rt", ROUTES, ids=lambda r: f"{r.direction}:{r.address}")
def test_routes_fit_what_the_router_assumes(rt):
    names = [a.name for a in (*rt.args, *rt.repeat)]
    assert len(names) == len(set(names)), "Request.named needs unique argument names"
    if "session" in names:
        assert names[0] == "session", "the session id is the first argument"


def test_a_refusal_may_name_one_more_address(router):
    there = ("127.0.0.1", 9333)

    def refuse(request):
        raise OscRequestError("no room", also=there)

    router.bind("/continuo/session/hello", refuse)
    replies = router.dispatch(msg("/continuo/session/hello", "dev", 9333), CLIENT)
    assert [(r.args, r.destination) for r in replies] == [
        (("/continuo/session/hello", "no room"), CLIENT),
        (("/continuo/session/hello", "no room"), there)]


def test_bad_messages_are_counted_and_their_warnings_limited(router, caplog):
    from bridge.osc import router as router_module

    now = [0.0]
    limited = Router(clock=lambda: now[0])
    limited.bind("/continuo/ping", lambda r: None)
    caplog.set_level(logging.WARNING)
    huge = encode_raw("/continuo/note/in", ["x" * 60_000])     # one argument of four
    for _ in range(router_module.WARN_BURST + 30):
        limited.dispatch(huge, CLIENT)
    limited.dispatch(b"junk", CLIENT)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == router_module.WARN_BURST
    assert max(len(r.getMessage()) for r in warnings) < 2 * router_module.LOG_CHARS
    now[0] += 1.0                                   # a second later: two more lines
    for _ in range(3):
        limited.dispatch(b"junk", CLIENT)
    later = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(later) == router_module.WARN_BURST + 2
    assert "(31 more bad messages not logged)" in later[-2]
    assert limited.counts["bad_arguments"] == router_module.WARN_BURST + 30
    assert limited.counts["malformed"] == 4 and limited.counts["refused"] == 0
    reply = limited.dispatch(huge, CLIENT)[0]
    assert len(reply.args[1]) <= router_module.REPLY_CHARS  # no 60 kB echo either
