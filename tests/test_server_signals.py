"""Signals: a stop during startup, and the second SIGINT that forces the exit."""

import asyncio
import signal
from types import SimpleNamespace

from bridge import server
from bridge.config import Config


def test_a_signal_during_startup_stops_it_and_shuts_down():
    daemon = server.Daemon(Config())
    steps = []

    async def slow_startup():
        steps.append("started")
        await asyncio.sleep(30)            # a long warm-up
        steps.append("finished")

    async def shutdown(quiet=False):
        steps.append("shutdown")

    daemon.startup, daemon.shutdown = slow_startup, shutdown

    async def main():
        asyncio.get_running_loop().call_later(0.05, daemon.handle_exit, signal.SIGTERM)
        await asyncio.wait_for(daemon.serve(), timeout=5)

    asyncio.run(main())
    assert steps == ["started", "shutdown"]


def test_a_failed_startup_shuts_down_and_raises():
    daemon = server.Daemon(Config())
    steps = []

    async def failing_startup():
        raise server.StartupError("no model")

    async def shutdown(quiet=False):
        steps.append(("shutdown", quiet))

    daemon.startup, daemon.shutdown = failing_startup, shutdown
    try:
        asyncio.run(daemon.serve())
    except server.StartupError as exc:
        assert str(exc) == "no model"
    else:
        raise AssertionError("the startup error was swallowed")
    assert steps == [("shutdown", True)]


def test_second_sigint_forces_the_exit_after_all_notes_off(monkeypatch):
    daemon = server.Daemon(Config())
    exits, panics, waits = [], [], []
    monkeypatch.setattr(server.os, "_exit", exits.append)
    monkeypatch.setattr(server.time, "sleep", waits.append)
    daemon.midi = SimpleNamespace(output=SimpleNamespace(panic=lambda: panics.append(1)))
    daemon.handle_exit(signal.SIGTERM)
    assert daemon.should_exit.is_set() and not exits
    daemon.handle_exit(signal.SIGTERM)         # a repeated SIGTERM does not force
    assert not exits
    daemon.handle_exit(signal.SIGINT)
    assert exits == [130] and panics == [1] and daemon.force_exit
    assert waits == [server.FORCED_FLUSH_S]      # the all-notes-off given time to leave
    assert signal.SIGHUP in server.HANDLED_SIGNALS       # a closed terminal shuts down too


def test_where_the_loop_takes_no_signal_handlers_plain_ones_stop_it(monkeypatch):
    """Windows' event loops have no add_signal_handler: a SIGINT still only sets the flag,
    the daemon shuts down, and the handler it replaced is back afterwards."""
    import os

    daemon = server.Daemon(Config())
    steps = []
    before = signal.getsignal(signal.SIGINT)

    async def startup():
        steps.append("ready")
        os.kill(os.getpid(), signal.SIGINT)    # as Ctrl-C would

    async def shutdown(quiet=False):
        steps.append("shutdown")

    def no_signal_handlers(*args):
        raise NotImplementedError

    daemon.startup, daemon.shutdown = startup, shutdown

    async def main():
        monkeypatch.setattr(asyncio.get_running_loop(), "add_signal_handler",
                            no_signal_handlers)
        await asyncio.wait_for(daemon.serve(), timeout=5)

    asyncio.run(main())
    assert steps == ["ready", "shutdown"] and daemon.should_exit.is_set()
    assert signal.getsignal(signal.SIGINT) is before
