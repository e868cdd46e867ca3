"""`continuo continue FILES... (-o OUT | --out-dir DIR)`: continuations of MIDI files and
folders (every .mid/.midi below, in path order). A file that cannot be read is reported on
stderr and the others go on; the command then exits with status 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge.cli.inputs import Batch, InputError, grid_option, load_model, midi_inputs, read_piece
from bridge.cli.options import folder_to_write, session_range
from bridge.live.params import CANDIDATES, GUIDANCE, ParamError, known_style
from bridge.vocab import BASS, PART_SETS, PARTS, REGISTER_TOP, TICKS_PER_BEAT


def _seeds(seed: int | None, seeds: str | None) -> list[int | None]:
    if seeds is None:
        return [seed]
    if seed is not None:
        raise click.UsageError("--seed and --seeds exclude each other")
    try:
        out = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        out = []
    if not out:
        raise click.BadParameter(f"{seeds!r}: comma-separated integers",
                                 param_hint="--seeds")
    twice = sorted({s for s in out if out.count(s) > 1})
    if twice:
        raise click.BadParameter(f"{', '.join(map(str, twice))} given twice (one output "
                                 "per seed)", param_hint="--seeds")
    return out


def output_name(rel: Path, seed: int | None, many_seeds: bool) -> Path:
    """Where a continuation of ``rel`` goes under ``--out-dir``."""
    suffix = f"-seed{seed}" if many_seeds or seed is not None else "-continued"
    return rel.with_name(rel.stem + suffix + ".mid")


PICTURES = (".png", ".svg", ".pdf")


def plan_outputs(inputs: list[tuple[Path, Path]], seeds: list[int | None],
                 output: str | None, out_dir: str | None) -> list[list[Path]]:
    """Per input, its output for each seed, checked before anything is sampled: no output
    is an input or a folder, and no two outputs are one file (inputs of one name from
    different places are numbered: ``x-2-seed0.mid``)."""
    if output is not None:
        plan = [[Path(output)]]
    else:
        plan, taken = [], set()
        for _, rel in inputs:
            stem, n = rel, 1
            while any(output_name(stem, s, len(seeds) > 1) in taken for s in seeds):
                n += 1
                stem = rel.with_name(f"{rel.stem}-{n}{rel.suffix}")
            names = [output_name(stem, s, len(seeds) > 1) for s in seeds]
            taken.update(names)
            plan.append([Path(out_dir) / name for name in names])
    inputs_as_files = {_inode(path) for path, _ in inputs}   # by any name: a link, a hard one
    for target in (t for targets in plan for t in targets):
        if target.is_file() and _inode(target) in inputs_as_files:
            raise click.UsageError(f"{target} is an input: the continuation would overwrite it")
        if target.is_dir():
            raise click.UsageError(f"{target} is a folder: cannot write a MIDI file there")
    return plan


def _inode(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _make_parent(target: Path) -> None:
    folder_to_write(target.parent, f"cannot write {target}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from None


@click.command("continue")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="MIDI file to write (one input, one seed): the prompt as the input "
                   "wrote it (programs, pedals and all, cut where it ends) and, on tracks "
                   "of their own, the continuation, on the prompt's instrument.")
@click.option("--out-dir", type=click.Path(file_okay=False),
              help="Folder for the outputs, named <input>-seed<S>.mid (<input>-continued.mid "
                   "without a seed), sub-folders of an input folder kept (one inside an "
                   "input folder is not read as input).")
@click.option("--bars", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Bars to continue for (a note held on past them is let go at their end).")
@click.option("--prompt-bars", type=click.IntRange(1, 256),
              help="Hear only each file's first N bars (on its bar grid: see --grid; "
                   "counted from the bar of its first note) and "
                   "continue from the bar line after them; default: the whole file, "
                   "continued from the first beat after its last note.")
@click.option("--style", default="", help="Target style tag, e.g. jazz or folk/jig.")
@click.option("--guidance", default=GUIDANCE, show_default=True, type=session_range("guidance"),
              help="How strongly --style acts (0: the style only conditions the model), "
                   "times its genre's strength in the model, or the strength of the pair "
                   "from the genre the tagger hears the input in (docs/osc.md, \"Styles\").")
@click.option("--part", type=click.Choice((*PARTS, *PART_SETS)),
              help="Play only this part (harmony under a melody, say; accompaniment: "
                   "harmony and bass); default: any part, as the model chooses, but a "
                   "prompt in one part (a melody alone) goes on in it. Pitched parts over "
                   "drums hear the pitched parts alone (over drums alone: a bass led to the "
                   f"kick). A bass stays at or below pitch {REGISTER_TOP[BASS]} unless "
                   "--pitch-low lies above it.")
@click.option("--pitch-low", default=0, show_default=True, type=session_range("pitch_low"),
              help="Lowest pitch (drums: GM drum key) the continuation plays.")
@click.option("--pitch-high", default=127, show_default=True, type=session_range("pitch_high"),
              help="Highest pitch (drums: GM drum key) the continuation plays.")
@click.option("--temperature", default=1.0, show_default=True, type=session_range("temperature"))
@click.option("--top-p", default=0.95, show_default=True, type=session_range("top_p"))
@click.option("--candidates", default=CANDIDATES, show_default=True,
              type=session_range("candidates"),
              help="Draw this many continuations, half of them quoting the input's bars "
                   "5-8 bars back in the model's own way (drums alone: 7 in 8, the latest "
                   "bars first; music going round exactly, a loop: 7 in 8, whole turns "
                   "back), and write the one most like the others and like the input's "
                   "first and latest bars played again (drums: its latest; a loop: its next "
                   "turn) (1: a single draw, as it comes).")
@click.option("--seed", type=int, help="Random seed (reproducible output).")
@click.option("--seeds", help="Several seeds, comma-separated (e.g. 0,1,2): one output each.")
@click.option("--only", is_flag=True, help="Write the continuation alone.")
@click.option("--together", is_flag=True,
              help="Strike the continuation's chords at one instant, on the grid, even "
                   "after a performance (by default its chords are spread as the input's "
                   "player spreads theirs: a melody leading, a chord rolled; a score's "
                   "chords are struck together either way).")
@click.option("--png", type=click.Path(dir_okay=False),
              help="Also draw a piano roll here (one input, one seed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per output.")
@click.option("--model", help="Model folder (default: the shipped model).")
@grid_option
def continue_(files: tuple[str, ...], output: str | None, out_dir: str | None, bars: int,
              prompt_bars: int | None, style: str, guidance: float, part: str | None,
              pitch_low: int, pitch_high: int, temperature: float, top_p: float, candidates: int,
              seed: int | None, seeds: str | None, only: bool, together: bool, png: str | None,
              as_json: bool, model: str | None, grid: str) -> None:
    """Write continuations of MIDI files (files or folders)."""
    from bridge.live.engine import Engine
    from bridge.music.loop import period
    from bridge.music.midifile import continued, open_midi, write_midi
    from bridge.offline.continuation import (
        QUIET_BARS,
        ContinueOptions,
        continue_piece,
        prompt_of,
        quiet_bars,
        touch_of,
    )
    from bridge.offline.tags import heard_genre

    inputs = midi_inputs(files, out_dir)
    seed_list = _seeds(seed, seeds)
    single = len(inputs) == 1 and len(seed_list) == 1
    if (output is None) == (out_dir is None):
        raise click.UsageError("give either -o/--output (one file, one seed) or --out-dir")
    if output is not None and not single:
        raise click.UsageError("several inputs or seeds: use --out-dir")
    if pitch_low > pitch_high:
        raise click.BadParameter(f"{pitch_low} lies above --pitch-high {pitch_high}",
                                 param_hint="--pitch-low")
    if png and not single:
        raise click.UsageError("--png draws one continuation: one input, one seed")
    if png and Path(png).suffix.lower() not in PICTURES:
        raise click.BadParameter(f"{png}: a picture ends in {', '.join(PICTURES)}",
                                 param_hint="--png")
    plan = plan_outputs(inputs, seed_list, output, out_dir)
    for target in {t.parent: t for targets in plan for t in targets}.values():
        _make_parent(target)
    if png:
        _make_parent(Path(png))
    generator = load_model(model, "generator")
    try:
        style = known_style(style, generator.config.styles)
    except ParamError as exc:
        raise click.BadParameter(str(exc), param_hint="--style") from None
    # a style request is guided as hard as the genre it leaves needs: the tagger hears it
    tagger = load_model(model, "tagger", needed=False) if style else None
    engine = Engine(generator, None)
    batch = Batch(inputs, "continue", per=len(seed_list), unit="continuations",
                  as_json=as_json)
    for (path, _), targets in zip(batch, plan, strict=True):
        try:
            piece, found = read_piece(path, grid)
            if prompt_bars is not None and piece.bars() < prompt_bars:
                raise InputError(f"{path}: {piece.bars()} bar(s), fewer than --prompt-bars "
                                 f"{prompt_bars}")
        except InputError as exc:
            batch.fail(exc, path)
            continue
        prompt, start_tick = prompt_of(piece, prompt_bars)
        start = start_tick / TICKS_PER_BEAT if found is None else \
            found.file_beat(start_tick / TICKS_PER_BEAT)         # (in the file's beats)
        quiet = quiet_bars(prompt, start_tick)
        if quiet >= QUIET_BARS:
            click.echo(f"note: {path}: no note starts in the {quiet} bars before the "
                       f"continuation (beat {start:g}), so it goes on "
                       "from a silence and may play none; --prompt-bars N continues from "
                       "bar N's end", err=True)
        turn = None if style or part or candidates < 2 else period(
            prompt.notes, prompt.meter, start_tick)
        if turn is not None:
            click.echo(f"note: {path}: its music goes round every {turn[0]} bar(s) note for "
                       "note, so the continuation goes round with it (nearly all its draws "
                       "quote it)", err=True)
        if not together and touch_of(piece, prompt, start_tick) is not None:
            click.echo(f"note: {path}: its chords are spread as a player's, so the "
                       "continuation's are too (--together strikes them at once)", err=True)
        source = None if only else open_midi(path)   # (read as MIDI just now: it reads)
        heard = heard_genre(tagger, prompt, generator) if tagger is not None else None
        for s, target in zip(seed_list, targets, strict=True):
            result = continue_piece(generator, piece, ContinueOptions(
                bars=bars, prompt_bars=prompt_bars, style=style, guidance=guidance,
                temperature=temperature, top_p=top_p, seed=s, part=part,
                pitch_low=pitch_low, pitch_high=pitch_high,
                candidates=candidates, heard=heard, touch=not together), engine)
            if found is not None:
                result = found.written(result)
            try:
                if source is None:
                    write_midi(result, target)
                else:                            # the input as written, then the result
                    continued(source, start, result, piece.programs).save(target)
            except OSError as exc:
                batch.fail(InputError(f"cannot write {target}: {exc.strerror or exc}"), path,
                           output=str(target))
                continue
            finally:
                batch.step()
            first = min((n.start for n in result.notes), default=None)
            if as_json:
                click.echo(json.dumps({"file": str(path), "seed": s, "output": str(target),
                                       "notes": len(result.notes),
                                       "start_beat": start,
                                       "first_beat": first}))
            else:
                click.echo(f"{target}: {len(result.notes)} notes over {bars} bars"
                           + ("" if first is None else f" from beat {first:g}"))
            if png:
                from bridge.music.pianoroll import piano_roll

                heard_as = prompt if found is None else found.to_file(prompt)
                piano_roll([(heard_as, "0.45"), (result, "tab:orange")], png,
                           title=f"{path} + {bars} bars{f' ({style})' if style else ''}")
                click.echo(f"{png}: piano roll")
