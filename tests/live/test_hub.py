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


def test_the_midi_port_session_is_no_clients_to_open_close_or_let_expire(run_live):
    """A client that says hello or bye as `midi` (the id status names the MIDI port's
    session by) is refused: the port's session lives as long as the daemon."""
    from bridge.live.api import bind_api
    from bridge.live.midi_session import SID
    from bridge.live.outputs import OscNotes
    from bridge.osc.codec import encode
    from bridge.osc.router import Router
    from bridge.osc.routes import IN
    from bridge.timing.clock import BeatClock

    async def body(engine, loop):
        hub, _ = make(engine, loop)
        with pytest.raises(OscRequestError, match="MIDI port session"):
            hub.hello(SID, 9100, HOST)             # taken without MIDI too (--no-midi)
        clock = BeatClock(loop.time(), 120.0)
        hub.add(SID, clock, OscNotes(SID, clock, lambda *a: None, loop))
        router = Router()
        bind_api(router, hub)
        for address, args in (("/continuo/session/hello", (SID, 9100)),
                              ("/continuo/session/bye", (SID,))):
            replies = router.dispatch(encode(address, args, IN), (HOST, 50000))
            assert replies and {r.address for r in replies} == {"/continuo/error"}
            assert all("MIDI port session" in r.args[1] for r in replies)
        assert hub.is_port(SID) and SID not in hub.addresses and SID not in hub._expiry
        with pytest.raises(OscRequestError, match="printable"):
            hub.hello("a\nFAKE ERROR line", 9100, HOST)     # a log line of its own
        hub.close_all()
    run_live(body)


def test_a_song_position_out_of_range_is_refused_with_the_transport_stopped_too(run_live):
    """Stopped, a note's beat is not used (the session's own clock stamps it), but one no
    song has (a million beats and more) is still an error, and nothing is played."""
    from bridge.live.api import bind_api
    from bridge.osc.codec import encode
    from bridge.osc.router import Router
    from bridge.osc.routes import IN

    async def body(engine, loop):
        hub, _ = make(engine, loop)
        hub.hello("dev", 9100, HOST)
        router = Router()
        bind_api(router, hub)
        session = hub.get("dev")
        assert not session.clock.playing
        for address, args in (("/continuo/note/in", ("dev", 60, 100, 1e7)),
                              ("/continuo/note/in", ("dev", 60, 0, -1.5e6)),
                              ("/continuo/pedal/in", ("dev", 127, -2e6))):
            replies = router.dispatch(encode(address, args, IN), (HOST, 50000))
            assert [r.address for r in replies] == ["/continuo/error"], address
            assert "beat" in replies[0].args[1]
        assert not session.down and not session.phrase.pedals
        assert router.dispatch(encode("/continuo/note/in", ("dev", 60, 100, 3.0), IN),
                               (HOST, 50000)) == []               # in range: heard
        assert (60, None) in session.down
        hub.close_all()
    run_live(body)


def test_a_session_that_moves_port_tells_the_old_one_to_let_go(run_live):
    async def body(engine, loop):
        hub, sent = make(engine, loop)
        hub.hello("dev", 9100, HOST)
        hub.hello("dev", 9100, HOST)                       # its heartbeat: nothing
        assert not [s for s in sent if s[0] == "/continuo/session/panic"]
        hub.hello("dev", 9200, HOST)                       # reopened elsewhere
        assert ("/continuo/session/panic", ["dev"], (HOST, 9100)) in sent
        assert hub.reply_address((HOST, 1), "dev") == (HOST, 9200)
        hub.close_all()
    run_live(body)
