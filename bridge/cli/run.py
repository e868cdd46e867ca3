"""`continuo run`: the daemon."""

from __future__ import annotations

import sys
from typing import Any

import click

from bridge.cli.options import build_config, config_options


@click.command()
@config_options
def run(config_file: str | None, **values: Any) -> None:
    """Start the daemon: load the model, open OSC and MIDI, serve until Ctrl-C.

    Every option can also come from CONTINUO_<NAME> or a TOML file (--config).
    """
    config = build_config(config_file, values)
    from bridge import logs, server

    logs.setup(config.log_level)
    sys.exit(server.run(config))
