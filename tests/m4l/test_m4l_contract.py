"""The contract: what the patch sends and routes, read from its texts, against the registry.

A protocol change that forgets one side fails here: the tests add, retype and remove
routes in the registry (monkeypatched) and expect the check to say so.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

import bridge.osc.routes as registry
from bridge.m4l import problems
from bridge.m4l.contract import Graph, check, infer, sent_by_texts
from bridge.m4l.device import NOT_SENT, Device, build
from bridge.osc.routes import IN, OUT, Arg, Route, route, routes


@pytest.fixture(scope="module")
def device() -> Device:
    return build()


@pytest.fixture(scope="module")
def patcher(device: Device) -> dict[str, Any]:
    return device.patch.to_json()


def run(patcher: dict[str, Any], device: Device) -> list[str]:
    return check(patcher, not_sent=device.not_sent, sent=device.sent, received=device.received)


def replace_routes(monkeypatch: pytest.MonkeyPatch, new: tuple[Route, ...]) -> None:
    monkeypatch.setattr(registry, "ROUTES", new)
    monkeypatch.setattr(registry, "BY_ADDRESS",
                        {r.address + ":" + r.direction: r for r in new})


def test_the_device_keeps_the_contract(device: Device, patcher: dict[str, Any]) -> None:
    assert run(patcher, device) == []
    assert problems(device) == []


def test_sends_read_from_the_texts(patcher: dict[str, Any], device: Device) -> None:
    found: list[str] = []
    texts = sent_by_texts(Graph(patcher), found)
    assert found == []
    assert texts == {(s.address, s.types) for s in device.sent}
    assert ("/continuo/note/in", ("s", "i", "i", "f")) in texts
    assert ("/continuo/transport/set", ("s", "f", "f", "i", "i", "i")) in texts
    assert ("/continuo/session/hello", ("s", "i")) in texts
    for address, types in texts:      # each is an `in` route with exactly these types
        rt = route(address, IN)
        assert len(types) == len(rt.args)
        assert all(a.type in (t, "any") for a, t in zip(rt.args, types, strict=True))


def test_every_in_route_is_sent_or_deliberately_not(device: Device) -> None:
    sent = {s.address for s in device.sent}
    assert sent | NOT_SENT == {r.address for r in routes(IN)}
    assert not sent & NOT_SENT


def test_every_out_route_is_routed_and_handled(patcher: dict[str, Any]) -> None:
    g = Graph(patcher)
    router = next(i for i in g.box if g.words(i)[0] == "route" and
                  g.words(i)[1][0].startswith("/continuo/"))
    addresses = g.words(router)[1]
    assert set(addresses) == {r.address for r in routes(OUT)}
    for k in range(len(addresses)):
        assert g.targets(router, k), addresses[k]


def test_a_new_out_route_nobody_routes_fails(monkeypatch: pytest.MonkeyPatch,
                                             device: Device, patcher: dict[str, Any]) -> None:
    fake = Route("/continuo/fake/beep", OUT, (Arg("session", "s"),), "a new daemon message")
    replace_routes(monkeypatch, (*registry.ROUTES, fake))
    found = run(patcher, device)
    assert "the daemon sends /continuo/fake/beep but the device does not route it" in found
    # rebuilt under the new registry, the route names it, but nothing handles it
    rebuilt = build()
    assert "/continuo/fake/beep is routed to nothing" in problems(rebuilt)


def test_a_new_in_route_must_be_sent_or_declared(monkeypatch: pytest.MonkeyPatch,
                                                 device: Device,
                                                 patcher: dict[str, Any]) -> None:
    fake = Route("/continuo/fake/knob", IN, (Arg("session", "s"), Arg("x", "f")), "a knob")
    replace_routes(monkeypatch, (*registry.ROUTES, fake))
    assert any("/continuo/fake/knob is neither sent" in p for p in run(patcher, device))


def test_a_retyped_argument_fails(monkeypatch: pytest.MonkeyPatch, device: Device,
                                  patcher: dict[str, Any]) -> None:
    def retype(rt: Route) -> Route:
        if rt.address == "/continuo/note/in":
            return Route(rt.address, rt.direction, (*rt.args[:3], Arg("beat", "i")), rt.doc)
        if rt.address == "/continuo/note/out":
            return Route(rt.address, rt.direction, (*rt.args[:3], Arg("beat", "i"),
                                                    *rt.args[4:]), rt.doc)
        return rt
    replace_routes(monkeypatch, tuple(retype(r) for r in registry.ROUTES))
    found = run(patcher, device)
    assert any("/continuo/note/in with types s i i f: argument beat is f, the route says i"
               in p for p in found), found
    assert any("unpacks /continuo/note/out" in p for p in found), found


def test_a_removed_route_fails(monkeypatch: pytest.MonkeyPatch, device: Device,
                               patcher: dict[str, Any]) -> None:
    replace_routes(monkeypatch, tuple(r for r in registry.ROUTES
                                      if r.address != "/continuo/generate/start"))
    found = run(patcher, device)
    assert "the device sends /continuo/generate/start, which is no 'in' route" in found


def test_a_retyped_route_breaks_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def rename(rt: Route) -> Route:
        if rt.address == "/continuo/note/in":
            return Route(rt.address, rt.direction, (*rt.args[:3], Arg("when", "f")), rt.doc)
        return rt
    replace_routes(monkeypatch, tuple(rename(r) for r in registry.ROUTES))
    with pytest.raises(KeyError, match="no argument 'beat'"):
        build()


def _mutated(patcher: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    broken = copy.deepcopy(patcher)
    hits = [b["box"] for b in broken["patcher"]["boxes"] if b["box"].get("text") == old]
    assert hits, old
    hits[0]["text"] = new
    return broken


def test_texts_are_checked_not_just_records(patcher: dict[str, Any], device: Device) -> None:
    # the note/in payload made to send an int beat: the texts disagree with registry and record
    broken = _mutated(patcher, "pack 0 0 0.", "pack 0 0 0")
    found = run(broken, device)
    assert any("/continuo/note/in with types s i i i" in p for p in found), found
    assert any("in the patch but not recorded: /continuo/note/in s i i i" in p for p in found)
    # a typo in an address
    found = run(_mutated(patcher, "prepend /continuo/generate/start",
                         "prepend /continuo/generate/strat"), device)
    assert any("/continuo/generate/strat, which is no 'in' route" in p for p in found)
    # a message sneaking past the address stages
    found = run(_mutated(patcher, "prepend /continuo/session/bye", "prepend bye"), device)
    assert any("is no address stage" in p for p in found), found


def test_infer_reads_payload_types(patcher: dict[str, Any]) -> None:
    g = Graph(patcher)
    by_text = {g.box[i].get("text"): i for i in g.box}
    assert infer(g, by_text["prepend temperature"]) == {("s", "f")}
    assert infer(g, by_text["prepend length_bars"]) == {("s", "i")}
    assert infer(g, by_text['style ""']) == {("s", "s")}
    assert infer(g, by_text["pack 0. 0. 0 0 0"]) == {("f", "f", "i", "i", "i")}
