"""`continuo run`: the daemon."""

from __future__ import annotations

import logging
import os
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
    code = server.run(config)
    # The daemon has stopped in order (notes released, ports and sockets closed, worker
    # stopped). Leave without the interpreter's teardown: after a MIDI port pair under JACK
    # it has been seen to crash (SIGSEGV in atexit, ~1 stop in 10 with a looped-back port),
    # which would turn a clean stop into a failed exit.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
