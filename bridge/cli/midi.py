"""``continuo ports``: the MIDI ports each API can see, and why an API cannot be used."""

from __future__ import annotations

import click

API_CHOICES = ("auto", "jack", "alsa", "coremidi", "winmm")


@click.command()
@click.option("--api", type=click.Choice(API_CHOICES), default="auto", show_default=True,
              help="List one MIDI API, or every API compiled into python-rtmidi.")
def ports(api: str) -> None:
    """List MIDI input and output ports per API (and why an API is unavailable)."""
    from bridge.midi.ports import available_apis, list_ports  # imports rtmidi

    compiled = available_apis()
    found = list_ports(None if api == "auto" else [api])
    if api != "auto" and api not in compiled:
        found[api] = {"error": "not compiled into python-rtmidi"}
    for name, info in found.items():
        if "error" in info:
            click.echo(f"{name}: unavailable: {info['error']}")
            continue
        click.echo(f"{name}:")
        for label, key in (("inputs (sources to read from)", "inputs"),
                           ("outputs (destinations to play to)", "outputs")):
            names = info[key]
            click.echo(f"  {label}:" + ("" if names else " none"))
            for port in names:
                click.echo(f"    {port}")
    if not any("error" not in info for info in found.values()):
        raise SystemExit(1)
