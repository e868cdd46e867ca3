"""`continuo send` against a real OscServer (in a thread), and `continuo osc-doc`."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.live.params import ParamError, param
from bridge.osc.docs import render
from bridge.osc.router import OscRequestError, Reply, Request, Router
from bridge.osc.transport import OscServer

HOST = "127.0.0.1"


def make_router() -> Router:
    router = Router()   # replies go back to the sender: `send` listens where it sends from
    router.bind("/continuo/ping", lambda r: Reply("/continuo/ping/reply", ("0.1.0",)))

    def param_set(request: Request) -> Reply:
        try:
            value = param(request["name"]).validate(request["value"])
        except ParamError as exc:
            raise OscRequestError(str(exc)) from exc
        return Reply("/continuo/param/value", (request.session, request["name"], value))

    router.bind("/continuo/param/set", param_set)
    router.bind("/continuo/note/in", lambda r: None)      # taken in silence, as the daemon does
    router.bind("/continuo/status/get", lambda r: Reply(
        "/continuo/status/reply", ("model", "small model", "sessions", 0)))
    return router


@pytest.fixture(scope="module")
def daemon_port():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = OscServer(make_router())
    _, port = asyncio.run_coroutine_threadsafe(server.start(HOST, 0), loop).result(5)
    yield port
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def send(*args: str, port: int, timeout: str = "0.5"):
    return CliRunner().invoke(main, ["send", *args, "--port", str(port), "--reply-port", "0",
                                     "--timeout", timeout])


def test_send_prints_the_reply(daemon_port):
    result = send("/continuo/ping", port=daemon_port)
    assert result.exit_code == 0, result.output
    assert result.output == "/continuo/ping/reply 0.1.0\n"


def test_a_message_taken_in_silence_is_sent_and_says_so(daemon_port):
    """A note in is answered only when it is refused: the daemon is asked whether it is up
    (a ping) before the command calls the message unanswered."""
    result = send("/continuo/note/in", "s1", "60", "100", "0.0", port=daemon_port)
    assert result.exit_code == 0, result.output
    assert "sent; the daemon at 127.0.0.1" in result.output and "is up" in result.output


def test_send_types_args_by_the_route(daemon_port):
    result = send("/continuo/param/set", "s1", "seed", "-1", port=daemon_port)
    assert result.exit_code == 0, result.output
    assert result.output == "/continuo/param/value s1 seed -1\n"
    result = send("/continuo/param/set", "s1", "temperature", "0.5", port=daemon_port)
    assert result.output == "/continuo/param/value s1 temperature 0.5\n"
    result = send("/continuo/param/set", "s1", "style", "folk/jig", port=daemon_port)
    assert result.output == "/continuo/param/value s1 style folk/jig\n"


def test_send_prints_error_replies_and_repeat_groups(daemon_port):
    result = send("/continuo/param/set", "s1", "temperature", "9", port=daemon_port)
    assert result.exit_code == 0
    assert result.output == ("/continuo/error /continuo/param/set "
                             "'temperature must be within 0.1..2; got 9'\n")
    result = send("/continuo/status/get", port=daemon_port)
    assert result.output == "/continuo/status/reply model 'small model' sessions 0\n"


def test_send_without_a_daemon_exits_1():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # bound, never answers
    silent.bind((HOST, 0))
    try:
        port = silent.getsockname()[1]
        result = send("/continuo/ping", port=port, timeout="0.2")
    finally:
        silent.close()
    assert result.exit_code == 1
    assert (f"no reply from 127.0.0.1:{port} within 0.2 s — is `continuo run` running?"
            in result.output)


@pytest.mark.parametrize("flag, value", [("--port", "99999"), ("--port", "0"),
                                         ("--reply-port", "65536"), ("--reply-port", "-1")])
def test_a_port_that_is_none_is_a_usage_error(flag, value):
    result = CliRunner().invoke(main, ["send", "/continuo/ping", flag, value])
    assert result.exit_code == 2                                        # a usage error
    assert f"Invalid value for '{flag}'" in result.output and "Traceback" not in result.output


def test_a_hello_answered_elsewhere_says_where():
    """A hello with reply_port 0 is answered on the daemon's --reply-port, not where this
    command listens: the hint says which port to name instead."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((HOST, 0))
    try:
        result = send("/continuo/session/hello", "me", "0", port=silent.getsockname()[1],
                      timeout="0.2")
    finally:
        silent.close()
    assert result.exit_code == 1 and "is answered on the daemon's --reply-port" in result.output
    assert int(result.output.split("to hear it here, name ")[1].split(",")[0]) > 0


@pytest.mark.parametrize(("args", "message"), [
    (["/continuo/nope"], "/continuo/nope is not a message the daemon accepts"),
    (["/continuo/note/out", "s1"], "is not a message the daemon accepts"),
    (["/continuo/note/in", "s1", "C4", "100", "0"], "pitch takes an int; got 'C4'"),
    (["/continuo/note/in", "s1", "60", "100", "x"], "beat takes a number; got 'x'"),
    (["/continuo/note/in", "s1", "60"], "takes s:session i:pitch i:velocity f:beat; got 2 "
                                        "arguments, need 4"),
    (["/continuo/ping", "s1", "extra"], "got 2 arguments, need 0 to 1"),
])
def test_send_usage_errors(args, message):
    result = CliRunner().invoke(main, ["send", *args, "--port", "9", "--timeout", "0.1"])
    assert result.exit_code == 2
    assert message in result.output


def test_send_reply_port_in_use():
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind((HOST, 0))
    try:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["send", "/continuo/ping", "--port", "9",
                                           "--reply-port", str(port)])
    finally:
        taken.close()
    assert result.exit_code == 1
    assert f"reply port {port} on 127.0.0.1 is in use" in result.output


def test_osc_doc_writes_and_checks(tmp_path):
    out = tmp_path / "docs" / "osc.md"
    runner = CliRunner()
    result = runner.invoke(main, ["osc-doc", "--output", str(out), "--check"])
    assert result.exit_code == 1 and "is missing" in result.output
    result = runner.invoke(main, ["osc-doc", "--output", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8") == render()
    result = runner.invoke(main, ["osc-doc", "--output", str(out), "--check"])
    assert result.exit_code == 0 and "up to date" in result.output
    out.write_text(render() + "edited\n", encoding="utf-8")
    result = runner.invoke(main, ["osc-doc", "--output", str(out), "--check"])
    assert result.exit_code == 1 and "is stale" in result.output
