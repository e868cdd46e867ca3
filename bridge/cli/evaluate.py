"""`continuo eval`: the models beside baselines, on any manifest folder or MIDI folder."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge.live.params import STYLE_WEIGHTS


@click.command("eval")
@click.option("--task",
              type=click.Choice(["models", "continuation", "accompaniment", "styles"]),
              default="models", show_default=True,
              help="models: bits per event and tagger accuracy beside baselines; "
                   "continuation: the musicality benchmark (model vs one draw, echo and "
                   "shuffle); accompaniment: the model accompanies a melody played live (vs hold "
                   "and echo); styles: how often style requests land at each --guidance, and "
                   "the strength that lands each genre best (run it on the training split).")
@click.option("--model", help="Model folder (default: the shipped model).")
@click.option("--data", default="../shared/data", show_default=True,
              type=click.Path(exists=True, file_okay=False),
              help="A folder with a MANIFEST.tsv (path, dataset, group, split, labels), or a "
                   "folder of MIDI files (labels from folder names).")
@click.option("--split", default="val", show_default=True,
              help="Manifest rows to evaluate ('all' for every row).")
@click.option("--datasets", help="Only these datasets (comma-separated).")
@click.option("--variants", type=click.Choice(["files", "all"]), default="files",
              show_default=True,
              help="The files as they are, or also the track variants the build derives.")
@click.option("--train-cache", help="Token cache whose train split trains the baselines "
                                    "(default: data/cache).")
@click.option("--train-data", help="Manifest folder to build the baselines' training data "
                                   "from when there is no cache (default: ../shared/data).")
@click.option("--ngram-order", default=4, show_default=True, type=click.IntRange(1, 7))
@click.option("--bars", default=4, show_default=True, help="Tagger window in bars.")
@click.option("--only", type=click.Choice(["generator", "tagger"]), help="Evaluate one model.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Write the report and confusion matrices (PNG, JSON) here.")
@click.option("--seeds", default="0,1,2", show_default=True,
              help="continuation, accompaniment: the model's seeds per piece "
                   "(comma-separated).")
@click.option("--limit", type=click.IntRange(1),
              help="continuation, accompaniment: the first N pieces of each dataset only "
                   "(a quick run).")
@click.option("--style-prompts", default=10, show_default=True, type=click.IntRange(0),
              help="continuation, styles: melody prompts per genre for the style requests.")
@click.option("--guidance", "weights", default=",".join(f"{w:g}" for w in STYLE_WEIGHTS),
              show_default=True,
              help="styles: the guidance weights to try (comma-separated).")
@click.option("--write-model", is_flag=True,
              help="styles: keep each genre's best strength, and each pair's that needs "
                   "its own (FROM->TO), in the model's generator (config style_strength), "
                   "which continue and the daemon then use.")
@click.option("--music21", "use_music21", is_flag=True,
              help="Add music21's corpus pieces of the split (as `continuo data build "
                   "--music21` splits them).")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--write-cards", is_flag=True,
              help="Keep this report beside each evaluated model and rewrite its "
                   "MODEL_CARD.md.")
def evaluate(task, model, data, split, datasets, variants, train_cache, train_data, ngram_order,
             bars, only, out, seeds, limit, style_prompts, weights, write_model, use_music21,
             device, as_json, write_cards) -> None:
    """Generator bits per event beside an n-gram; tagger accuracy beside logistic regression;
    or (--task continuation) the musicality benchmark."""
    import logging

    import torch

    from bridge import logs
    from bridge.evaluate import run as ev
    from bridge.model import checkpoint

    logs.setup("warning" if as_json else "info")
    log = logging.getLogger("bridge.evaluate")
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                       else ("cpu" if device == "auto" else device))
    if task == "continuation":
        _continuation(model, data, split, datasets, out, seeds, limit, style_prompts, as_json,
                      write_cards, use_music21)
        return
    if task == "accompaniment":
        _accompaniment(model, data, split, datasets, out, seeds, limit, as_json, write_cards,
                       use_music21)
        return
    if task == "styles":
        _styles(model, data, split, datasets, out, seeds, style_prompts, weights, write_model,
                as_json, use_music21)
        return
    try:
        folder = checkpoint.resolve_model_dir(model)
        names = tuple(datasets.split(",")) if datasets else None
        seqs = ev.read_sequences(data, None if split == "all" else split, names,
                                 derived=variants == "all", music21=use_music21)
        log.info("%d sequences from %s (split %s)", len(seqs), data, split)
        train = ev.training_sequences(train_cache, train_data)
        report: dict = {"data": str(data), "split": split, "model": str(folder),
                        "sequences": len(seqs)}
        if only in (None, "generator"):
            report["generator"] = ev.evaluate_generator(folder, seqs, train, ngram_order, dev)
        if only in (None, "tagger"):
            from bridge.evaluate.tagger import evaluate_tagger

            report["tagger"] = evaluate_tagger(folder, seqs, train, bars, dev,
                                               Path(out) if out else None)
    except (ev.EvalError, checkpoint.CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    if write_cards:
        from bridge.model import card

        for kind in ("generator", "tagger"):
            if kind in report:
                card.write(folder / kind, report=report)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _table(report)


def _table(report: dict) -> None:
    click.echo(f"{report['data']} (split {report['split']}): {report['sequences']} sequences")
    g = report.get("generator")
    if g:
        click.echo(f"generator  {g['bits_per_event']:.3f} bits/event   n-gram baseline "
                   f"{g['baseline_bits_per_event']:.3f}   ({100 * g['improvement']:.1f} % fewer"
                   f" bits; {g['events']:,} events)")
        for name, d in (*g["per_dataset"].items(), *g.get("per_part", {}).items()):
            click.echo(f"  {name:<12} {d['bits_per_event']:.3f} vs "
                       f"{d['baseline_bits_per_event']:.3f}")
    t = report.get("tagger")
    if t:
        click.echo(f"tagger     genre accuracy {t['genre_accuracy']:.3f} (baseline "
                   f"{t['baseline_genre_accuracy']:.3f}); sub-style macro-F1 "
                   f"{t['substyle_macro_f1']:.3f} (baseline {t['baseline_substyle_macro_f1']:.3f})"
                   f"; {t['windows']:,} windows of {t['bars']} bars")
        if t["unknown_genre_windows"]:
            click.echo(f"           {t['unknown_genre_windows']:,} more windows of genres it was "
                       f"not trained on ({', '.join(t['unknown_genre_sequences'])}): accuracy "
                       f"{t['genre_accuracy_all_windows']:.3f} counting them as errors")


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


def _weights(weights: str) -> tuple[float, ...]:
    try:
        out = tuple(float(w) for w in weights.split(","))
    except ValueError:
        out = ()
    if not out or any(not 0 <= w <= 8 for w in out):
        raise click.BadParameter(f"{weights!r}: comma-separated numbers from 0 to 8",
                                 param_hint="--guidance")
    return out


def _styles(model, data, split, datasets, out, seeds, prompts, weights, write_model,
            as_json, use_music21=False) -> None:
    import torch

    from bridge.evaluate import run as ev
    from bridge.evaluate import styles
    from bridge.evaluate.continuation import cases
    from bridge.model import checkpoint

    seed_list, weight_list = _seeds(seeds), _weights(weights)
    torch.set_num_threads(1)          # batch-1 steps: one thread is fastest (docs/latency.md)
    try:
        folder = checkpoint.resolve_model_dir(model)
        generator = checkpoint.load(folder / "generator", "generator")[0]
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
    except (ev.EvalError, checkpoint.CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
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


def _accompaniment(model, data, split, datasets, out, seeds, limit, as_json, write_cards,
                   use_music21=False) -> None:
    import torch

    from bridge.evaluate import accompaniment as acc
    from bridge.evaluate import run as ev
    from bridge.model import checkpoint

    seed_list = _seeds(seeds)
    torch.set_num_threads(1)          # batch-1 steps: one thread is fastest (docs/latency.md)
    try:
        folder = checkpoint.resolve_model_dir(model)
        generator = checkpoint.load(folder / "generator", "generator")[0]
        records = _records(data, split, datasets, use_music21)
        result, rows = acc.evaluate_accompaniment(generator, records, seed_list, limit)
    except (ev.EvalError, checkpoint.CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
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
    click.echo(f"{report['data']} (split {report['split']}): accompaniment of a melody "
               f"played live, {result['truth_bars']} bars after {result['prompt_bars']}, "
               f"seeds {','.join(map(str, result['seeds']))}")
    for ds, entry in result["datasets"].items():
        click.echo(f"\n{ds}: {entry['pieces']} pieces")
        click.echo(f"  {'':<20}{'model':>9}{'hold':>9}{'echo':>9}{'truth':>9}")
        for name in acc.NAMES:
            cells = [entry[c].get(name) for c in (*acc.CANDIDATES, "truth")]
            click.echo(f"  {name:<20}" + "".join(
                f"{'':>9}" if v is None else f"{v:>9.3f}" for v in cells))


def _continuation(model, data, split, datasets, out, seeds, limit, style_prompts,
                  as_json, write_cards, use_music21=False) -> None:
    import torch

    from bridge.evaluate import continuation as cont
    from bridge.evaluate import run as ev
    from bridge.model import checkpoint

    seed_list = _seeds(seeds)
    torch.set_num_threads(1)          # batch-1 steps: one thread is fastest (docs/latency.md)
    try:
        folder = checkpoint.resolve_model_dir(model)
        generator = checkpoint.load(folder / "generator", "generator")[0]
        tagger = checkpoint.load(folder / "tagger", "tagger")[0] \
            if (folder / "tagger").is_dir() and style_prompts else None
        records = _records(data, split, datasets, use_music21)
        result, rows = cont.evaluate_continuation(generator, tagger, records, seed_list,
                                                  style_prompts, limit)
    except (ev.EvalError, checkpoint.CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
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
        click.echo(f"  {'':<20}" + "".join(f"{c:>9}" for c in (*CANDIDATES, "truth")))
        for name in METRICS:
            cells = [entry[c].get(name) for c in CANDIDATES]
            cells.append(entry["truth"].get(name))
            click.echo(f"  {name:<20}" + "".join(
                f"{'':>9}" if v is None else f"{v:>9.3f}" for v in cells))
    sc = result.get("style_control")
    if sc and sc["requests"]:
        keys = sc.get("in_key") or {}
        click.echo(f"\nstyle control ({sc.get('part', 'any')} part): {sc['requests']} requests"
                   f" x {len(sc.get('seeds') or [0])} seeds,"
                   f" hit rate {sc['hit_rate']:.2f} (unstyled {sc['unstyled_hit_rate']:.2f}); "
                   f"in key {keys.get('styled')} (unstyled {keys.get('unstyled')})")
