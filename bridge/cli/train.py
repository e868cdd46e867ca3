"""`continuo train generator|tagger --config FILE`."""

from __future__ import annotations

import click


def _override(values: tuple[str, ...]) -> dict:
    import tomllib

    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        try:
            out[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = raw
    return out


@click.command()
@click.argument("kind", type=click.Choice(["generator", "tagger"]))
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="Training config (TOML), e.g. models/configs/generator.toml.")
@click.option("--out", help="Output folder (overrides the config's `out`).")
@click.option("--resume", is_flag=True, help="Continue from the output folder's last state.")
@click.option("--init", "init", metavar="DIR",
              help="Fine-tune: start from this checkpoint or model folder (e.g. "
                   "models/default); new styles in the data are added to its tables.")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]),
              show_default=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, e.g. --set optim.lr=1e-3 (repeatable).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning"]))
def train(kind: str, config_path: str, out: str | None, resume: bool, init: str | None,
          device: str, sets: tuple[str, ...], log_level: str) -> None:
    """Train the generator or the tagger (Adam, cross-entropy, early stopping).

    Several processes: torchrun --nproc_per_node 2 -m bridge train ...
    """
    from bridge import logs
    from bridge.cli.options import folder_to_write
    from bridge.data.cache import CacheError
    from bridge.model.checkpoint import CheckpointError
    from bridge.train.config import TrainConfigError, load_config
    from bridge.train.loop import train as run_training

    logs.setup(log_level)
    overrides = _override(sets)
    if out:
        overrides["out"] = out
    if init:
        overrides["init"] = init
    try:
        config = load_config(config_path, overrides)
    except TrainConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if config.kind != kind:
        raise click.ClickException(f"{config_path} configures a {config.kind}, not a {kind}")
    out_dir = folder_to_write(config.out, f"--out {config.out}")
    if not resume and (out_dir / "best").is_dir():
        raise click.ClickException(f"{out_dir} holds a trained model (best/): --resume "
                                   "trains on from where it stopped; another --out (or "
                                   "removing it) starts afresh")
    try:
        best = run_training(config, resume=resume, device=device)
    except (CheckpointError, CacheError, TrainConfigError) as exc:   # --init, or the data
        raise click.ClickException(str(exc)) from None
    click.echo(f"best checkpoint: {best}")
