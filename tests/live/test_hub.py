"""The hub: where replies go, and fair admission when every session is taken."""

from __future__ import annotations

import pytest

from bridge.config import Config
from bridge.live import hub as hub_module
from bridge.live.hub import Hub
from bridge.osc.router import OscRequestError

HOST = "127.0.0.1"


def make(engine, loop, sessions: int = 3) -> tuple[Hub, list]:
    sent: list = []
    hub = Hub(Config(max_sessions=sessions), engine, engine.generator.config.styles, "tiny",
              loop, send=lambda address, args, to: sent.append((address, args, to)))
    return hub, sent


def test_a_flood_of_hellos_cannot_lock_out_a_device_that_plays(run_live):
    async def body(engine, loop):
        hub, sent = make(engine, loop)
        hub.hello("device", 9100, HOST)
        hub.get("device").note_on(60, 90)            # it plays: in use
        for i in range(10):                           # a flood of new ids
            hub.hello(f"flood{i}", 9200 + i, HOST)
        assert "device" in hub.sessions and len(hub.sessions) == 3
        assert set(hub.sessions) == {"device", "flood8", "flood9"}   # the newest flood
        closed = [(args, to) for address, args, to in sent if address == "/continuo/error"]
        assert closed[0][1] == (HOST, 9200) and "make room" in closed[0][0][1]
        hub.close_all()
    run_live(body)


def test_when_every_session_plays_a_new_one_is_refused_where_it_listens(run_live):
    async def body(engine, loop):
        hub, _ = make(engine, loop, sessions=2)
        for name in ("a", "b"):
            hub.hello(name, 9100, HOST)
            hub.get(name).note_on(60, 90)
        with pytest.raises(OscRequestError, match="too many sessions") as refused:
            hub.hello("c", 9300, HOST)
        assert refused.value.also == (HOST, 9300) and "c" not in hub.addresses
        hub.close_all()
    run_live(body)


def test_a_silent_session_makes_room(run_live, monkeypatch):
    async def body(engine, loop):
        monkeypatch.setattr(hub_module, "EVICT_SILENT_S", 0.0)
        hub, _ = make(engine, loop, sessions=1)
        hub.hello("a", 9100, HOST)
        hub.get("a").note_on(60, 90)
        hub.hello("b", 9101, HOST)                 # "a" has been silent long enough
        assert set(hub.sessions) == {"b"}
        hub.close_all()
    run_live(body)


def test_replies_without_an_open_session_go_back_to_the_sender(run_live):
    async def body(engine, loop):
        hub, _ = make(engine, loop)
        sender = (HOST, 50123)
        assert hub.reply_address(sender, None) == sender
        assert hub.reply_address(sender, "nobody") == sender
        hub.hello("dev", 9100, HOST)
        assert hub.reply_address(sender, "dev") == (HOST, 9100)
        hub.bye("dev")
        assert hub.reply_address(sender, "dev") == sender
        with pytest.raises(OscRequestError) as unknown:   # its old port hears it too
            hub.get("dev")
        assert unknown.value.also == (HOST, 9100)
        with pytest.raises(OscRequestError) as never:
            hub.get("never")
        assert never.value.also is None
        hub.close_all()
    run_live(body)
