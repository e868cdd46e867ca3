"""`continuo tag FILE` and `continuo continue IN -o OUT`."""

from __future__ import annotations

import json

import click


def _models(model: str | None, kind: str):
    from bridge.model import checkpoint

    try:
        folder = checkpoint.resolve_model_dir(model)
        return checkpoint.load(folder / kind, kind)[0]
    except checkpoint.CheckpointError as exc:
        raise click.ClickException(str(exc)) from None


def _read(path: str):
    from bridge.music.midifile import MidiFileError, read_midi

    try:
        piece = read_midi(path)
    except MidiFileError as exc:
        raise click.ClickException(str(exc)) from None
    if not piece.notes:
        raise click.ClickException(f"{path}: no notes")
    return piece


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", help="Model folder (default: the shipped model).")
@click.option("--bars", default=4, show_default=True, help="Window length in bars.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tag(file: str, model: str | None, bars: int, as_json: bool) -> None:
    """Print a MIDI file's style tags."""
    from bridge.offline import tag_piece

    result = {"file": file, **tag_piece(_models(model, "tagger"), _read(file), bars)}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{file}: {result['windows']} window(s) of {bars} bars")
    for t in result["tags"]:
        click.echo(f"  {t['tag']:<22} {t['probability']:.2f}")


@click.command("continue")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="MIDI file to write: the input and, on its own track, the continuation.")
@click.option("--bars", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--style", default="", help="Target style tag, e.g. jazz or folk/jig.")
@click.option("--temperature", default=1.0, show_default=True, type=click.FloatRange(0.1, 2))
@click.option("--top-p", default=0.95, show_default=True, type=click.FloatRange(0.05, 1))
@click.option("--seed", type=int, help="Random seed (reproducible output).")
@click.option("--only", is_flag=True, help="Write the continuation alone.")
@click.option("--png", type=click.Path(dir_okay=False), help="Also draw a piano roll here.")
@click.option("--model", help="Model folder (default: the shipped model).")
def continue_(file: str, output: str, bars: int, style: str, temperature: float, top_p: float,
              seed: int | None, only: bool, png: str | None, model: str | None) -> None:
    """Write a continuation of a MIDI file."""
    from bridge.music.midifile import write_midi
    from bridge.offline import ContinueOptions, continue_piece

    generator = _models(model, "generator")
    if style and style not in generator.config.styles:
        raise click.BadParameter(f"{style!r} is not a style this model knows "
                                 f"(e.g. {', '.join(generator.config.styles[1:8])})",
                                 param_hint="--style")
    piece = _read(file)
    result = continue_piece(generator, piece, ContinueOptions(
        bars=bars, style=style, temperature=temperature, top_p=top_p, seed=seed))
    if only:
        write_midi(result, output)
    else:
        write_midi(piece, output, extra=((result, 1),))
    click.echo(f"{output}: {len(result.notes)} notes over {bars} bars after beat "
               f"{min((n.start for n in result.notes), default=0):g}")
    if png:
        from bridge.music.pianoroll import piano_roll

        piano_roll([(piece, "0.45"), (result, "tab:orange")], png,
                   title=f"{file} + {bars} bars{f' ({style})' if style else ''}")
        click.echo(f"{png}: piano roll")
