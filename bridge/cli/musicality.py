"""The musicality tasks of ``continuo eval`` (continuation, accompaniment, call, styles): each
reads the data, runs its benchmark (:mod:`bridge.evaluate`), writes its report and prints
its table."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import click


def _records(data, split: str, datasets: str | None, use_music21: bool) -> list:
    from bridge.evaluate import run as ev

    names = tuple(datasets.split(",")) if datasets else None
    return ev.read_records(data, None if split == "all" else split, names,
                           music21=use_music21)


def _write(out: Path, task: str, report: dict, rows: list[dict]) -> None:
    """The task's report (``TASK.json``) and its per-piece rows (``TASK_pieces.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{task}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{task}_pieces.json").write_text(json.dumps(rows, indent=1) + "\n")


def _seeds(seeds: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise click.BadParameter(f"{seeds!r}: comma-separated integers",
                                 param_hint="--seeds") from None


def _session_params(items: tuple[str, ...]) -> dict:
    """``--set NAME=VALUE`` as session parameters, each checked as the daemon checks it."""
    from bridge.live.params import ParamError, settings

    try:
        bad = next((item for item in items if "=" not in item), None)
        if bad is not None:
            raise ParamError(f"{bad!r} is not NAME=VALUE")
        return settings(dict(item.split("=", 1) for item in items))
    except ParamError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from None


@contextmanager
def _clear_errors():
    """A benchmark's data or model errors as the command's own clear message."""
    from bridge.evaluate import run as ev
    from bridge.model import checkpoint

    try:
        yield
    except (ev.EvalError, checkpoint.CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None


def _generator(model):
    """The model folder and its generator, stepped on one thread (batch-1 steps: one thread
    is fastest, docs/latency.md)."""
    import torch

    from bridge.model import checkpoint

    torch.set_num_threads(1)
    folder = checkpoint.resolve_model_dir(model)
    return folder, checkpoint.load(folder / "generator", "generator")[0]


def _weights(weights: str) -> tuple[float, ...]:
    try:
        out = tuple(float(w) for w in weights.split(","))
    except ValueError:
        out = ()
    if not out or any(not 0 <= w <= 8 for w in out):
        raise click.BadParameter(f"{weights!r}: comma-separated numbers from 0 to 8",
                                 param_hint="--guidance")
    return out


def run_styles(model, data, split, datasets, out, seeds, prompts, weights, write_model,
               as_json, use_music21=False) -> None:
    from bridge.evaluate import run as ev
    from bridge.evaluate import styles
    from bridge.evaluate.continuation import cases
    from bridge.model import checkpoint

    seed_list, weight_list = _seeds(seeds), _weights(weights)
    with _clear_errors():
        folder, generator = _generator(model)
        tagger = checkpoint.load(folder / "tagger", "tagger")[0]
        records = _records(data, split, datasets, use_music21)
        result = styles.calibrate(generator, tagger, cases(records), weight_list, prompts,
                                  seed_list)
        if not result["requests"]:
            raise ev.EvalError(f"{data} (split {split}): no melody prompt of two genres the "
                               "models know, so no style request to make")
        if write_model:
            checkpoint.update_config(folder / "generator", "generator",
                                     style_strength=result["strength"])
    report = {"data": str(data), "split": split, "model": str(folder), "styles": result}
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "styles.json").write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['data']} (split {split}): {result['requests']} style requests "
               f"(melody prompts, the melody part), seeds {','.join(map(str, seed_list))}; "
               "hits / requests (in-key share) by the genre asked for")
    genres = result["genres"]
    click.echo(f"  {'guidance':<10}" + "".join(f"{g:>18}" for g in genres))
    for w, row in result["weights"].items():
        click.echo(f"  {w:<10}" + "".join(
            f"{row[g]['hits']:>7} / {row[g]['requests']:<4}({row[g]['in_key'] or 0:.2f})"
            for g in genres))
    click.echo("  strength  " + "".join(f"{result['strength'][g]:>18g}" for g in genres)
               + ("   (kept in the model)" if write_model else ""))
    pairs = [f"{k} {v:g}" for k, v in result["strength"].items() if "->" in k]
    if pairs:
        click.echo("  pairs     " + ", ".join(pairs) + " (a request from the first genre)")


def run_accompaniment(model, data, split, datasets, out, seeds, limit, as_json, write_cards,
                      use_music21=False, heard="all") -> None:
    from bridge.evaluate import accompaniment as acc

    seed_list = _seeds(seeds)
    with _clear_errors():
        folder, generator = _generator(model)
        records = _records(data, split, datasets, use_music21)
        result, rows = acc.evaluate_accompaniment(generator, records, seed_list, limit,
                                                  heard=heard)
    report = {"data": str(data), "split": split, "model": str(folder), "accompaniment": result}
    if out:
        _write(Path(out), "accompaniment", report, rows)
    if write_cards:
        from bridge.model import card

        card.write(folder / "generator", accompaniment={"data": str(data), "split": split,
                                                         **result})
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    heard = {"all": "the prompt's melody and accompaniment", "alone": "the melody alone",
             "start": "the melody alone, accompanied from its first note"}[result["heard"]]
    click.echo(f"{report['data']} (split {report['split']}): accompaniment of a melody "
               f"played live, {result['truth_bars']} bars after {result['prompt_bars']} "
               f"(heard: {heard}), seeds {','.join(map(str, result['seeds']))}")
    for ds, entry in result["datasets"].items():
        click.echo(f"\n{ds}: {entry['pieces']} pieces")
        _metric_rows(entry, acc.NAMES, (*acc.CANDIDATES, "truth"))


def run_call(model, data, split, datasets, out, seeds, limit, as_json,
             use_music21=False, settings: tuple[str, ...] = ()) -> None:
    from bridge.evaluate import call

    seed_list = _seeds(seeds)
    params = _session_params(settings)
    with _clear_errors():
        folder, generator = _generator(model)
        records = _records(data, split, datasets, use_music21)
        result, rows = call.evaluate_call(generator, records, seed_list, limit, params)
    report = {"data": str(data), "split": split, "model": str(folder), "call": result}
    if out:
        _write(Path(out), "call", report, rows)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['data']} (split {report['split']}): trading {result['call_bars']} "
               f"bars, {result['rounds']} rounds, the daemon in call mode, seeds "
               f"{','.join(map(str, result['seeds']))}")
    for ds, entry in result["datasets"].items():
        click.echo(f"\n{ds}: {entry['pieces']} pieces, the answer beats the echo on "
                   f"{100 * entry['model_beats_echo']:.0f} %; answers "
                   + ", ".join(f"{k.removeprefix('answers_')} {v}"
                               for k, v in entry["answers"].items())
                   + f"; Continuo's notes inside a call {entry['notes_in_calls']:g}")
        _metric_rows(entry, call.METRICS, (*call.CANDIDATES, "truth"))


def run_continuation(model, data, split, datasets, out, seeds, limit, style_prompts,
                     as_json, write_cards, use_music21=False, bands=False) -> None:
    from bridge.evaluate import continuation as cont
    from bridge.model import checkpoint

    seed_list = _seeds(seeds)
    with _clear_errors():
        folder, generator = _generator(model)
        tagger = checkpoint.load(folder / "tagger", "tagger")[0] \
            if (folder / "tagger").is_dir() and style_prompts else None
        records = _records(data, split, datasets, use_music21)
        result, rows = cont.evaluate_continuation(generator, tagger, records, seed_list,
                                                  style_prompts, limit, bands)
    report = {"data": str(data), "split": split, "model": str(folder), "continuation": result}
    if out:
        _write(Path(out), "continuation", report, rows)
        cont.chart(result, Path(out) / "continuation.png")
    if write_cards:
        from bridge.model import card

        card.write(folder / "generator", continuation={"data": str(data), "split": split,
                                                        **result})
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _continuation_table(report)


def _metric_rows(entry: dict, names, columns) -> None:
    """A dataset's table: a row per metric of ``names``, a column per candidate (blank
    where it has no such figure)."""
    click.echo(f"  {'':<20}" + "".join(f"{c:>9}" for c in columns))
    for name in names:
        cells = [entry[c].get(name) for c in columns]
        click.echo(f"  {name:<20}" + "".join(
            f"{'':>9}" if v is None else f"{v:>9.3f}" for v in cells))


def _continuation_table(report: dict) -> None:
    from bridge.evaluate.continuation import CANDIDATES
    from bridge.evaluate.musicality import METRICS

    result = report["continuation"]
    click.echo(f"{report['data']} (split {report['split']}): continuation of "
               f"{result['prompt_bars']} bars by {result['truth_bars']}, seeds "
               f"{','.join(map(str, result['seeds']))}; model: the one of "
               f"{result.get('candidates', 1)} draws most like the others, draw: one draw")
    for ds, entry in result["datasets"].items():
        click.echo(f"\n{ds}: {entry['pieces']} pieces, model beats echo on "
                   f"{100 * entry['model_beats_echo']:.0f} %")
        _metric_rows(entry, METRICS, (*CANDIDATES, "truth"))
    sc = result.get("style_control")
    if sc and sc["requests"]:
        keys = sc.get("in_key") or {}
        click.echo(f"\nstyle control ({sc.get('part', 'any')} part): {sc['requests']} requests"
                   f" x {len(sc.get('seeds') or [0])} seeds,"
                   f" hit rate {sc['hit_rate']:.2f} (unstyled {sc['unstyled_hit_rate']:.2f}); "
                   f"in key {keys.get('styled')} (unstyled {keys.get('unstyled')})")
