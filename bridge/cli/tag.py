"""`continuo tag FILES...`: the style tags of MIDI files and folders (every .mid/.midi
below, in path order). A file that cannot be read is reported on stderr and the others go
on; the command then exits with status 1."""

from __future__ import annotations

import json

import click

from bridge.cli.inputs import Batch, InputError, grid_option, load_model, midi_inputs, read_piece


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--model", help="Model folder (default: the shipped model).")
@click.option("--bars", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Window length in bars.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per file.")
@grid_option
def tag(files: tuple[str, ...], model: str | None, bars: int, as_json: bool,
        grid: str) -> None:
    """Print the style tags of MIDI files (files or folders)."""
    from bridge.offline.tags import tag_piece

    tagger = load_model(model, "tagger")
    # what the generator beside it hears counts too (bridge.model.ear), where the tagger
    # was fitted to count it
    generator = load_model(model, "generator", needed=False) \
        if tagger.config.generator_weight else None
    batch = Batch(midi_inputs(files), "tag", as_json=as_json)
    for path, _ in batch:
        try:
            result = {"file": str(path),
                      **tag_piece(tagger, read_piece(path, grid)[0], bars, generator=generator)}
        except InputError as exc:
            batch.fail(exc, path)
            continue
        if as_json:
            click.echo(json.dumps(result))
            continue
        click.echo(f"{path}: {result['windows']} window(s) of {bars} bars")
        for t in result["tags"]:
            click.echo(f"  {t['tag']:<22} {t['probability']:.2f}")
        if "drums" in result:
            click.echo("  its drums:")
            for t in result["drums"]:
                click.echo(f"  {t['tag']:<22} {t['probability']:.2f}")
