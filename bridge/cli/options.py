"""Click options generated from :class:`bridge.config.Config`: one flag per field."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bridge.config import Config, ConfigError, env_name, field_types
from bridge.live.params import param


class Finite(click.FloatRange):
    """A :class:`click.FloatRange` that refuses NaN and the infinities (NaN is neither
    below nor above any bound, so a range alone lets it through)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def folder_to_write(path: str | Path, what: str) -> Path:
    """``path``, a folder a command writes into (made where it is not yet); a usage error
    that says ``what`` where it, or a folder above it, is a file."""
    path = Path(path)
    for above in (path, *path.parents):
        if above.exists():
            if not above.is_dir():
                raise click.UsageError(f"{what}: {above} is a file, not a folder")
            break
    return path


def session_range(name: str) -> click.ParamType:
    """The command-line type of session parameter ``name``: its range from the one
    registry (:mod:`bridge.live.params`), as OSC and MIDI CC have it."""
    p = param(name)
    return Finite(p.low, p.high) if p.kind is float else click.IntRange(p.low, p.high)


def config_options(fn: Callable) -> Callable:
    """Decorate a command with ``--config FILE`` and a flag for every Config field."""
    types = field_types()
    for f in reversed(dataclasses.fields(Config)):
        meta = f.metadata
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        help_text = f"{meta['help']} [env {env_name(f.name)}; default {f.default!r}]"
        kind = types[f.name]
        kwargs: dict[str, Any] = {"default": None, "help": help_text}
        if kind is bool:
            decls = [flag]
        elif kind is tuple:
            decls, kwargs = [flag], {**kwargs, "multiple": True, "default": ()}
            kwargs["metavar"] = "NAME=VALUE"
        else:
            decls = [flag]
            kwargs["type"] = click.Choice(meta["choices"]) if meta.get("choices") else kind
        fn = click.option(*decls, f.name, **kwargs)(fn)
    return click.option("--config", "config_file", type=click.Path(dir_okay=False),
                        help="TOML file of settings (keys = these flags' names with "
                        "underscores) [env CONTINUO_CONFIG]")(fn)


def build_config(config_file: str | None, values: dict[str, Any]) -> Config:
    try:
        return Config.load(file=config_file, cli=values)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
