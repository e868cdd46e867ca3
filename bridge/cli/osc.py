"""``continuo send`` (one OSC message to the daemon, print the replies) and ``osc-doc``."""

from __future__ import annotations

import math
from pathlib import Path

import click

from bridge.cli.options import Finite
from bridge.config import Config


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("address")
@click.argument("args", nargs=-1)
@click.option("--host", default=Config.osc_host, show_default=True, help="Daemon host.")
@click.option("--port", type=click.IntRange(1, 65535), default=Config.osc_port, show_default=True,
              help="Daemon OSC port.")
@click.option("--reply-port", type=click.IntRange(0, 65535), default=Config.reply_port,
              show_default=True,
              help="Port to listen on for replies (and send from); 0 = any free port.")
@click.option("--timeout", type=Finite(0, min_open=True), default=1.0, show_default=True,
              help="Seconds to wait for replies.")
def send(address: str, args: tuple[str, ...], host: str, port: int, reply_port: int,
         timeout: float) -> None:
    """Send ADDRESS with ARGS to the daemon and print every reply that arrives in time.

    ARGS are typed by the route (`continuo osc-doc` lists them); session-scoped routes take
    the session id as their first ARG. Example: continuo send /continuo/ping
    """
    import asyncio

    from bridge.osc.codec import OscArgumentError, arg_specs, check_args
    from bridge.osc.routes import IN, route
    from bridge.osc.transport import OscClient, OscPortError

    try:
        rt = route(address, IN)
    except KeyError:
        raise click.BadParameter(f"{address} is not a message the daemon accepts "
                                 "(see `continuo osc-doc`)", param_hint="ADDRESS") from None
    specs = arg_specs(rt, len(args))   # shorter than args when there are too many
    try:
        values = check_args(rt, [_parse(text, specs[i].type, specs[i].name) if i < len(specs)
                                 else text for i, text in enumerate(args)])
    except (ValueError, OscArgumentError) as exc:
        raise click.UsageError(str(exc)) from None

    ping = route("/continuo/ping", IN).address

    async def exchange() -> tuple[int, int, bool]:
        """How many replies came, the port they were listened for on, and whether the
        daemon answers there (asked with a ping where the message got no reply: a note in,
        say, is answered only when it is refused)."""
        async with await OscClient.open(host, port, reply_port) as client:
            client.send(rt.address, values)
            got = 0
            async for message in client.replies(timeout):
                click.echo(str(message))
                got += 1
            up = got > 0
            if not up and rt.address != ping:
                client.send(ping, [])
                up = any([m async for m in client.replies(timeout)])
            return got, client.address[1], up

    try:
        got, listening, up = asyncio.run(exchange())
    except OscPortError as exc:
        raise click.ClickException(str(exc)) from None
    if not got and up:
        click.echo(f"sent; the daemon at {host}:{port} is up and did not answer it "
                   "(it answers this message only when it refuses it)", err=True)
        return
    if not got:
        hint = "is `continuo run` running?"
        if rt.address == "/continuo/session/hello" and len(values) > 1 and values[1] == 0:
            hint = (f"a hello with reply_port 0 is answered on the daemon's --reply-port; "
                    f"to hear it here, name {listening}, the port this command listens on")
        click.echo(f"no reply from {host}:{port} within {timeout} s — {hint}", err=True)
        raise SystemExit(1)


def _parse(text: str, kind: str, name: str) -> object:
    """A command-line word as the declared OSC type (``any``: int, else float, else text)."""
    if kind == "i":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name} takes an int; got {text!r}") from None
    if kind == "f":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{name} takes a number; got {text!r}") from None
    if kind == "any":
        for number in (int, float):
            try:
                value = number(text)
            except ValueError:
                continue
            if math.isfinite(value):
                return value
    return text


@click.command("osc-doc")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/osc.md"), show_default=True, help="File to write.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if the file differs from what would be written.")
def osc_doc(output: Path, check: bool) -> None:
    """Write the OSC protocol reference (routes and session parameters) as Markdown."""
    from bridge.osc.docs import render

    text = render()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            state = "is missing" if current is None else "is stale"
            click.echo(f"{output} {state}: run `continuo osc-doc --output {output}`", err=True)
            raise SystemExit(1)
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8", newline="\n")
    click.echo(f"wrote {output}")
