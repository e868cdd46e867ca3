"""`continuo tag FILES...` and `continuo continue FILES... (-o OUT | --out-dir DIR)`.

Both take MIDI files and folders (every .mid/.midi below, in path order). A file that cannot
be read is reported on stderr and the others go on; the command then exits with status 1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import click

from bridge.cli.options import session_range
from bridge.live.params import CANDIDATES, GUIDANCE, ParamError, known_style
from bridge.progress import Progress
from bridge.vocab import PART_SETS, PARTS, TICKS_PER_BEAT


def _models(model: str | None, kind: str, needed: bool = True):
    """The model folder's ``kind`` model, or a clear error; None where the folder has none
    and it is not ``needed`` (one it has that cannot be loaded is still an error)."""
    from bridge.model import checkpoint

    try:
        folder = checkpoint.resolve_model_dir(model)
        if not needed and not (folder / kind).is_dir():
            return None
        return checkpoint.load(folder / kind, kind)[0]
    except checkpoint.CheckpointError as exc:
        raise click.ClickException(str(exc)) from None


class InputError(click.ClickException):
    """One input file that cannot be used (the batch goes on without it)."""


GRIDS = ("auto", "file")


def grid_option(command):
    return click.option(
        "--grid", type=click.Choice(GRIDS), default="auto", show_default=True,
        help="The beats and bars the music is heard on. auto: the file's own, unless its "
             "notes are played on other beats, or its bars are under 1.5 beats (1/4), "
             "when bars of 3 or 4 are found in the notes (bars of 3 too where the file "
             "gives no meter), or they are played in free time (no "
             "click), when they are heard on the beats found in them and a continuation "
             "is written back in the file's time (a note on stderr says so); file: the "
             "file's own, always.")(command)


def _read(path: Path, grid: str = "auto"):
    """``(piece, grid)``: the file's piece on the grid its notes are played on (``grid``
    auto), with a note on stderr where that is not the file's own, and that grid (None
    where the file's own serves)."""
    from bridge.music.midifile import MidiFileError, read_midi
    from bridge.music.pulse import refit

    try:
        piece = read_midi(path)
    except MidiFileError as exc:
        raise InputError(str(exc)) from None
    if not piece.notes:
        raise InputError(f"{path}: no notes")
    found = None
    if grid == "auto":
        piece, found = refit(piece)
        if found is not None and found.time is not None:
            click.echo(f"note: {path}: {found.why}, in bars of {found.bar_beats} of them "
                       "(--grid file keeps the file's)", err=True)
        elif found is not None:
            click.echo(f"note: {path}: its own grid does not fit its notes ({found.why}); "
                       f"heard in bars of {found.bar_beats} beats from beat "
                       f"{found.downbeat:g} (--grid file keeps the file's)", err=True)
    return piece, found


def midi_inputs(paths: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """``(file, path relative to the folder it was found in)`` for each MIDI file given or
    found below a folder given, in order."""
    from bridge.data.manifest import MIDI_SUFFIXES

    out: list[tuple[Path, Path]] = []
    for given in map(Path, paths):
        if given.is_dir():
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames.sort()
                out += [(Path(dirpath) / f, (Path(dirpath) / f).relative_to(given))
                        for f in sorted(filenames) if f.lower().endswith(MIDI_SUFFIXES)]
        else:
            out.append((given, Path(given.name)))
    seen: set[Path] = set()                    # a file given twice (or found twice): once
    out = [(f, rel) for f, rel in out if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not out:
        raise click.UsageError(f"no MIDI files in {', '.join(paths)}")
    return out


class Batch:
    """The inputs, with progress on stderr (each input's ``per`` outputs counted as they are
    written, ``step``); a file that fails is reported (``fail``: on stderr, and as a JSON
    line with ``as_json``) and the others go on; the command exits with status 1 at the end
    if any failed."""

    def __init__(self, inputs: list[tuple[Path, Path]], what: str, per: int = 1,
                 unit: str = "files", as_json: bool = False) -> None:
        self.inputs, self.what, self.per, self.unit = inputs, what, per, unit
        self.as_json, self.failed = as_json, 0
        self.progress: Progress | None = None

    def __iter__(self) -> Iterator[tuple[Path, Path]]:
        total = len(self.inputs) * self.per
        with Progress(self.what, total, self.unit, enabled=total > 1) as self.progress:
            for item in self.inputs:
                before = self.progress.done
                yield item
                left = self.per - (self.progress.done - before)    # (those it did not write)
                if left:
                    self.progress.update(left)
        if self.failed:
            raise click.ClickException(f"{self.failed} of {len(self.inputs)} file(s) failed")

    def step(self) -> None:
        """One of the current input's outputs is done."""
        if self.progress is not None:
            self.progress.update()

    def fail(self, exc: InputError, path: Path, **where: str) -> None:
        self.failed += 1
        if self.as_json:
            click.echo(json.dumps({"file": str(path), **where, "error": exc.message}))
        click.echo(f"error: {exc.message}", err=True)


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
    from bridge.offline import tag_piece

    tagger = _models(model, "tagger")
    # what the generator beside it hears counts too (bridge.model.ear), where the tagger
    # was fitted to count it
    generator = _models(model, "generator", needed=False) \
        if tagger.config.generator_weight else None
    batch = Batch(midi_inputs(files), "tag", as_json=as_json)
    for path, _ in batch:
        try:
            result = {"file": str(path),
                      **tag_piece(tagger, _read(path, grid)[0], bars, generator=generator)}
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
    sources = {path.resolve() for path, _ in inputs}
    for target in (t for targets in plan for t in targets):
        if target.resolve() in sources:
            raise click.UsageError(f"{target} is an input: the continuation would overwrite it")
        if target.is_dir():
            raise click.UsageError(f"{target} is a folder: cannot write a MIDI file there")
    return plan


def _make_parent(target: Path) -> None:
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
                   "without a seed), sub-folders of an input folder kept.")
@click.option("--bars", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Bars to continue for.")
@click.option("--prompt-bars", type=click.IntRange(1, 256),
              help="Hear only each file's first N bars (on its bar grid: see --grid) and "
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
                   "prompt in one part (a melody alone) goes on in it.")
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
              temperature: float, top_p: float, candidates: int,
              seed: int | None, seeds: str | None, only: bool, together: bool, png: str | None,
              as_json: bool, model: str | None, grid: str) -> None:
    """Write continuations of MIDI files (files or folders)."""
    from bridge.live.engine import Engine
    from bridge.music.loop import period
    from bridge.music.midifile import continued, open_midi, write_midi
    from bridge.offline import (
        QUIET_BARS,
        ContinueOptions,
        continue_piece,
        heard_genre,
        prompt_of,
        quiet_bars,
        touch_of,
    )

    inputs = midi_inputs(files)
    seed_list = _seeds(seed, seeds)
    single = len(inputs) == 1 and len(seed_list) == 1
    if (output is None) == (out_dir is None):
        raise click.UsageError("give either -o/--output (one file, one seed) or --out-dir")
    if output is not None and not single:
        raise click.UsageError("several inputs or seeds: use --out-dir")
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
    generator = _models(model, "generator")
    try:
        style = known_style(style, generator.config.styles)
    except ParamError as exc:
        raise click.BadParameter(str(exc), param_hint="--style") from None
    # a style request is guided as hard as the genre it leaves needs: the tagger hears it
    tagger = _models(model, "tagger", needed=False) if style else None
    engine = Engine(generator, None)
    batch = Batch(inputs, "continue", per=len(seed_list), unit="continuations",
                  as_json=as_json)
    for (path, _), targets in zip(batch, plan, strict=True):
        try:
            piece, found = _read(path, grid)
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
                candidates=candidates, heard=heard, touch=not together), engine)
            if found is not None:
                result = found.written(result)
            try:
                if source is None:
                    write_midi(result, target)
                else:                            # the input as written, then the result
                    continued(source, start, result).save(target)
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
