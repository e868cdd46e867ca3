"""`continuo eval`: the models beside baselines, on any manifest folder or MIDI folder."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge.cli.musicality import run_accompaniment, run_call, run_continuation, run_styles
from bridge.live.params import STYLE_WEIGHTS


@click.command("eval")
@click.option("--task",
              type=click.Choice(["models", "continuation", "accompaniment", "call", "styles"]),
              default="models", show_default=True,
              help="models: bits per event and tagger accuracy beside baselines; "
                   "continuation: the musicality benchmark (model vs one draw, echo and "
                   "shuffle); accompaniment: the model accompanies a melody played live (vs hold "
                   "and echo); call: trading fours with the daemon in call mode (its answers "
                   "vs an echo of the call); styles: how often style requests land at each "
                   "--guidance, and the strength that lands each genre best (run it on the "
                   "training split).")
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
@click.option("--bars", default=4, show_default=True, type=click.IntRange(1),
              help="Tagger window in bars.")
@click.option("--only", type=click.Choice(["generator", "tagger"]), help="Evaluate one model.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Write the report and confusion matrices (PNG, JSON) here.")
@click.option("--seeds", default="0,1,2", show_default=True,
              help="continuation, accompaniment, call: the model's seeds per piece "
                   "(comma-separated).")
@click.option("--limit", type=click.IntRange(1),
              help="continuation, accompaniment, call: the first N pieces of each dataset only "
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
@click.option("--alone", is_flag=True,
              help="accompaniment: the model hears the prompt's melody alone and brings the "
                   "accompaniment in (the baselines still replay the prompt's).")
@click.option("--from-start", is_flag=True,
              help="accompaniment: the model accompanies from the prompt's first beat, "
                   "hearing the melody alone from its first note, as when a performer starts "
                   "a song with it in accompany mode (the truth's 4 bars are scored).")
@click.option("--bands", is_flag=True,
              help="continuation: also the band pieces, each pitched piece of a genre played "
                   "over drums with one of the data's grooves laid under it (reported as "
                   "NAME+groove; the data must hold drum pieces).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="call: a session parameter of the daemon's session (repeatable), e.g. "
                   "trade_bars=4; the rest at the daemon's defaults, length_bars 4.")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--write-cards", is_flag=True,
              help="Keep this report beside each evaluated model and rewrite its "
                   "MODEL_CARD.md.")
def evaluate(task, model, data, split, datasets, variants, train_cache, train_data, ngram_order,
             bars, only, out, seeds, limit, style_prompts, weights, write_model, use_music21,
             alone, from_start, bands, settings, device, as_json, write_cards) -> None:
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
        run_continuation(model, data, split, datasets, out, seeds, limit, style_prompts,
                         as_json, write_cards, use_music21, bands)
        return
    if task == "accompaniment":
        run_accompaniment(model, data, split, datasets, out, seeds, limit, as_json,
                          write_cards, use_music21,
                          "start" if from_start else "alone" if alone else "all")
        return
    if task == "call":
        run_call(model, data, split, datasets, out, seeds, limit, as_json, use_music21,
                 settings)
        return
    if task == "styles":
        run_styles(model, data, split, datasets, out, seeds, style_prompts, weights,
                   write_model, as_json, use_music21)
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
