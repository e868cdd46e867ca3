"""``continuo m4l``: build the Max for Live device, check it is current, inspect a device."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DEVICE = Path("max4live/Continuo.amxd")
DEFAULT_DIAGRAM = Path("docs/img/signal-flow.svg")


@click.group()
def m4l() -> None:
    """The Continuo Max for Live device (max4live/Continuo.amxd)."""


@m4l.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_DEVICE, show_default=True, help="Where to write the device.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if OUTPUT differs from a fresh build.")
def build(output: Path, check: bool) -> None:
    """Build the device from bridge/m4l, lint it and check it against the OSC routes."""
    from bridge.m4l import DeviceProblems, render

    try:
        data = render()
    except DeviceProblems as exc:
        raise click.ClickException(f"the device fails its checks:\n{exc}") from None
    if check:
        current = output.read_bytes() if output.exists() else None
        if current != data:
            what = "is stale" if current is not None else "is missing"
            click.echo(f"{output} {what}: run `continuo m4l build`", err=True)
            raise SystemExit(1)
        click.echo(f"{output} is up to date ({len(data)} bytes)")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes)")


@m4l.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def inspect(file: Path) -> None:
    """Print a device's container header and a summary of its patch."""
    from bridge.m4l import amxd, contract, lint

    data = file.read_bytes()
    try:
        device = amxd.loads(data)
    except amxd.AmxdError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    top = device.patcher["patcher"]
    click.echo(f"{file}: {len(data)} bytes")
    click.echo(f"  ampf  {device.device_type} ({device.kind} device)")
    click.echo(f"  meta  {device.meta}")
    click.echo(f"  ptch  {device.payload_length} bytes of JSON (+ newline + NUL)")
    click.echo(f"  amxdtype {top.get('project', {}).get('amxdtype')}, "
               f"{len(top['boxes'])} boxes, {len(top['lines'])} cords, "
               f"{top['openrect'][2]:g} x {top['openrect'][3]:g} px")
    click.echo("parameters:")
    for b in lint.boxes(device.patcher):
        if b.get("parameter_enable"):
            value = b["saved_attribute_attributes"]["valueof"]
            click.echo(f"  {value['parameter_longname']:<12} {b['maxclass']:<12} "
                       f"{_range(value)}")
    problems: list[str] = []
    graph = contract.Graph(device.patcher)
    click.echo("sends:")
    for address, types in sorted(contract.sent_by_texts(graph, problems)):
        click.echo(f"  {address} {' '.join(types)}")
    click.echo("routes: " + " ".join(sorted(contract.routed_by_texts(graph, problems))))
    problems += lint.lint(device.patcher)
    click.echo(f"lint: {len(problems)} problem(s)")
    for problem in problems:
        click.echo(f"  {problem}")


def _range(value: dict) -> str:
    if "parameter_enum" in value:
        return " | ".join(value["parameter_enum"])
    return f"{value['parameter_mmin']:g} .. {value['parameter_mmax']:g}"


@m4l.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_DIAGRAM, show_default=True, help="Where to write the SVG.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if OUTPUT is stale.")
def diagram(output: Path, check: bool) -> None:
    """Draw the signal-flow diagram of docs/ableton.md (plain SVG)."""
    from bridge.m4l.diagram import render

    text = render()
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            what = "is stale" if output.exists() else "is missing"
            click.echo(f"{output} {what}: run `continuo m4l diagram`", err=True)
            raise SystemExit(1)
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")
