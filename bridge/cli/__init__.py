"""The ``continuo`` command line: one click group, one module per command family."""

from __future__ import annotations

import importlib

import click

from bridge import __version__

# (module, attribute) of each subcommand, imported lazily so `continuo --help` stays fast
# and a command's heavy imports (torch) load only when it runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("bridge.cli.run", "run"),
    "ports": ("bridge.cli.midi", "ports"),
    "send": ("bridge.cli.osc", "send"),
    "osc-doc": ("bridge.cli.osc", "osc_doc"),
    "data": ("bridge.cli.data", "data"),
    "train": ("bridge.cli.train", "train"),
    "eval": ("bridge.cli.evaluate", "evaluate"),
    "tag": ("bridge.cli.tag", "tag"),
    "continue": ("bridge.cli.generate", "continue_"),
    "bench": ("bridge.cli.bench", "bench"),
    "m4l": ("bridge.cli.m4l", "m4l"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="continuo")
def main() -> None:
    """Continuo: a real-time neural MIDI companion."""
