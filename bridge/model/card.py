"""Model cards: ``MODEL_CARD.md`` beside a checkpoint, written from what it records.

A card states what the model is, the data it learnt from with licences and attribution,
how it was trained, its metrics beside the baselines (from ``continuo eval``), how musical
its continuations are (``continuo eval --task continuation``), its architecture studies and
its known limits. It is written from files kept beside the checkpoint (:func:`write`):
``continuo eval --write-cards`` keeps its report there and rewrites the card, and so does
``--task continuation``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.model.card_bench import _fmt, render_accompaniment, render_continuation
from bridge.model.card_limits import limits

EVAL_NAME = "eval.json"                  # the last `continuo eval` report on this model
CONTINUATION_NAME = "continuation.json"  # the last `continuo eval --task continuation`
ACCOMPANIMENT_NAME = "accompaniment.json"  # the last `continuo eval --task accompaniment`
ABLATION_NAME = "ablation.json"          # architecture studies: one, or a list
CARD_NAME = "MODEL_CARD.md"

# What each source asks of anyone who redistributes what was made from it.
CREDITS: dict[str, tuple[str, str]] = {
    "pop909": ("MIT (dataset release; the songs themselves are copyrighted compositions)",
               "POP909, Music X Lab (Copyright (c) 2020). Wang, Chen, Jiang, Zhang, Xu, Dai, "
               "Bin, Xia: *POP909: A Pop-song Dataset for Music Arrangement Generation*, "
               "ISMIR 2020."),
    "nottingham": ("GNU GPL v3",
                   "Nottingham Music Database (traditional tunes), ABC cleaned and converted "
                   "to MIDI by Jukedeck (github.com/jukedeck/nottingham-dataset)."),
    "groove": ("CC BY 4.0 (creativecommons.org/licenses/by/4.0)",
               "Groove MIDI Dataset, Gillick, Roberts, Engel, Eck, Bamman (Google Magenta): "
               "*Learning to Groove with Inverse Sequence Transformations*, ICML 2019. "
               "Changes: exact duplicates removed; files tokenised to Continuo events."),
    "wjd": ("ODC Open Database License (ODbL) 1.0; the model is a Produced Work",
            "Contains information from the Weimar Jazz Database (Jazzomat Research Project, "
            "Hochschule fuer Musik Franz Liszt Weimar), made available under the ODC Open "
            "Database License (ODbL) 1.0. Pfleiderer, Frieler, Abeßer, Zaddach, Burkhart "
            "(eds.): *Inside the Jazzomat*, Schott Campus 2017."),
    "music21": ("as music21 documents it: freely distributable; files whose own metadata "
                "marks a non-commercial licence or reserved rights are left out (listed below)",
                "music21's bundled corpus (music21 is BSD-licensed; Cuthbert, Ariza: "
                "*music21: A Toolkit for Computer-Aided Musicology*, ISMIR 2010), with the "
                "encoders and editors it credits for each collection used (listed below)."),
}


def write(folder: str | Path, *, report: dict | None = None,
          continuation: dict | None = None, accompaniment: dict | None = None) -> Path:
    """Keep ``report`` (``continuo eval``'s), ``continuation`` and ``accompaniment`` beside
    the checkpoint in ``folder`` when given, then (re)write its card from everything kept
    there."""
    from bridge.model.checkpoint import read_meta

    folder = Path(folder)
    meta = read_meta(folder)
    kind = meta["kind"]
    if report is not None:
        kept = {k: report[k] for k in ("data", "split", kind) if k in report}
        (folder / EVAL_NAME).write_text(json.dumps(kept, indent=1) + "\n")
    for name, kept in ((CONTINUATION_NAME, continuation), (ACCOMPANIMENT_NAME, accompaniment)):
        if kept is not None:
            (folder / name).write_text(json.dumps(kept, indent=1) + "\n")
    card = folder / CARD_NAME
    card.write_text(render(kind, meta, _kept(folder / EVAL_NAME), _kept(folder / ABLATION_NAME),
                           _kept(folder / CONTINUATION_NAME),
                           _kept(folder / ACCOMPANIMENT_NAME)))
    return card


def _kept(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def render(kind: str, meta: dict, report: dict | None, ablation: dict | list | None = None,
           continuation: dict | None = None, accompaniment: dict | None = None) -> str:
    data = meta.get("data", {})
    cfg = meta.get("config", {})
    training = meta.get("training", {})
    optim = training.get("optim", {})
    lines = [f"# Continuo {kind}: model card", ""]
    if kind == "generator":
        lines += [
            "A multi-layer LSTM over Continuo's event tokens (beat-relative time, part, pitch "
            "or drum, velocity, duration; see `bridge/vocab/`), conditioned on a style tag. It "
            "continues what a performer plays, one event at a time, in the live daemon.", ""]
        if cfg.get("recall_window"):
            lines[-1:] = ["",
                f"Recall (`bridge/model/recall.py`) lets it play back what it heard: "
                f"{cfg.get('recall_heads')} learned pointer heads over the last "
                f"{cfg['recall_window']} events"
                + (" and an exact head (the event that followed the longest run of events "
                   "equal to the latest ones)" if cfg.get("recall_match") else "")
                + ", mixed with the LSTM's prediction by a learned gate."
                + (f" Recall also sees each event's bar in a phrase of {cfg['phrase_bars']} "
                   "bars (counted from the bar the music begins on), so the first bar of a "
                   "new phrase can find the first bar of the last one."
                   if cfg.get("phrase_bars") else ""), ""]
    else:
        lines += [
            "A convolutional front end, a bidirectional LSTM and attention pooling over 2 to 8 "
            "bars of events, with a genre head and a sub-style head. It tags what a performer "
            "plays once a bar in the live daemon."
            + (" A tag names sub-styles of its top genre, each weighed by the square root of "
               "its share of the training windows (training draws the sub-styles equally "
               "often, so the head alone would name a rare one as readily as a common one)."
               if cfg.get("substyle_shares") else "")
            + (" Each window's genre odds count what the generator beside it hears there "
               "(`bridge/model/ear.py`): how likely it finds the window's pitches, drum keys "
               "and parts under each genre's tag, times "
               f"{cfg['generator_weight']:g} (`generator_weight`, fitted on training "
               "windows); the tagger alone is reported beside it."
               if cfg.get("generator_weight") else ""), ""]
    lines += ["## Model", "", "| | |", "|---|---|",
              f"| parameters | {_fmt(meta.get('params'))} |",
              f"| vocabulary version | {meta.get('vocab_version')} |"]
    for key in ("n_embd", "n_hidden", "n_layer", "n_conv", "conv_kernel", "conv_layers",
                "attn_window", "recall_window", "recall_heads", "recall_dim", "phrase_bars",
                "dropout"):
        if key in cfg:
            lines.append(f"| {key} | {cfg[key]} |")
    styles = cfg.get("styles") or [*cfg.get("genres", []), *cfg.get("substyles", [])]
    lines += [f"| styles | {', '.join(s or '(none)' for s in styles)} |"]
    if cfg.get("style_strength"):
        lines.append("| style strength (a request for the genre, or for TO from FROM heard, is "
                     "guided at `guidance` times this; `continuo eval --task styles`) | "
                     + ", ".join(
                         f"{g} {v:g}" for g, v in sorted(cfg["style_strength"].items())) + " |")
    lines.append("")
    lines += ["## Data", "",
              f"Trained on the `train` split of the token cache `{data.get('cache')}` "
              f"({_fmt(data.get('train_sequences'))} sequences; validated on "
              f"{_fmt(data.get('val_sequences'))}). Splits are by group (a song, a tune, a "
              "drummer's session), never by file.", "",
              "| dataset | licence | attribution |", "|---|---|---|"]
    for ds in data.get("datasets", []):
        licence, credit = CREDITS.get(ds, ("the user's", "the user's own files"))
        lines.append(f"| {ds} | {licence} | {credit} |")
    sources = data.get("sources")
    corpus = (sources or {}).get("music21") or {}
    if corpus.get("collections"):
        lines += ["", "music21 collections used: " + "; ".join(corpus["collections"]) + "."]
    if corpus.get("excluded"):
        lines += ["", "Left out of music21's corpus by their own metadata: " + "; ".join(
            f"{where} ({n} files)" for where, n in corpus["excluded"].items()) + "."]
    if sources:
        lines += ["", f"Sources: `{json.dumps(sources, sort_keys=True)}`"]
    lines += ["", "## Training", "",
              f"Adam (lr {_fmt(optim.get('lr'))} with warm-up and cosine decay to "
              f"{_fmt(optim.get('min_lr'))}), cross-entropy, batch {optim.get('batch')}, "
              f"gradient clipping at {optim.get('clip')}, validation every epoch, early "
              f"stopping after {optim.get('patience')} epochs without improvement; best of "
              f"{meta.get('epoch')} epoch(s){_origin(kind, training)}", "",
              "```json", json.dumps(training, indent=1, sort_keys=True), "```", ""]
    lines += ["## Metrics", ""]
    if report is not None:
        lines += [f"`continuo eval --data {report.get('data')} --split {report.get('split')}`:",
                  ""]
        part = report.get(kind, {})
        lines += ["| metric | model | baseline |", "|---|---|---|"]
        if kind == "generator":
            lines += [f"| bits per event | {_fmt(part.get('bits_per_event'))} | "
                      f"{_fmt(part.get('baseline_bits_per_event'))} |",
                      f"| improvement | {100 * part.get('improvement', 0):.1f} % | |"]
            for ds, d in part.get("per_dataset", {}).items():
                lines.append(f"| {ds} bits per event | {_fmt(d['bits_per_event'])} | "
                             f"{_fmt(d['baseline_bits_per_event'])} |")
            for name, d in part.get("per_part", {}).items():
                lines.append(f"| {name} bits per event ({_fmt(d['events'])} events) | "
                             f"{_fmt(d['bits_per_event'])} | "
                             f"{_fmt(d['baseline_bits_per_event'])} |")
            lines += ["", f"Baseline: {part.get('baseline')}. Events: {_fmt(part.get('events'))}; "
                      "windows of up to 256 events from a bar line, scored from BOS, without "
                      "the style."
                      + (" By part: the events of each part's notes (its PART token, pitch or "
                         "drum key, velocity, duration); time: the events that move the "
                         "cursor (and a piece's end)." if part.get("per_part") else "")]
        else:
            lines += [f"| genre accuracy | {_fmt(part.get('genre_accuracy'))} | "
                      f"{_fmt(part.get('baseline_genre_accuracy'))} |",
                      f"| sub-style macro-F1 | {_fmt(part.get('substyle_macro_f1'))} | "
                      f"{_fmt(part.get('baseline_substyle_macro_f1'))} |"]
            for texture, t in part.get("genre_accuracy_by_texture", {}).items():
                lines.append(f"| genre accuracy, {texture} windows ({_fmt(t['windows'])}) | "
                             f"{_fmt(t['model'])} | {_fmt(t['baseline'])} |")
            for g, acc in part.get("genre_accuracy_per_genre", {}).items():
                lines.append(f"| {g} accuracy | {_fmt(acc)} | |")
            played = part.get("genre_accuracy_by_performance", {})
            for way, acc in played.get("ways", {}).items():
                lines.append(f"| genre accuracy, played {way} ({_fmt(played['windows'])}; "
                             f"melodies {_fmt(played['melody_windows'])}) | {_fmt(acc['all'])}; "
                             f"melodies {_fmt(acc['melody'])} | |")
            alone = part.get("tagger_alone", {})
            if part.get("generator_weight") and alone:
                lines += [f"| tagger alone (no generator's ear): genre accuracy | "
                          f"{_fmt(alone['genre_accuracy'])} | |",
                          f"| tagger alone: sub-style macro-F1 | "
                          f"{_fmt(alone['substyle_macro_f1'])} | |"]
                lines += [f"| tagger alone: {texture} windows | {_fmt(acc)} | |"
                          for texture, acc in alone["genre_accuracy_by_texture"].items()]
            lines += ["", f"Baseline: {part.get('baseline')}. Windows: {_fmt(part.get('windows'))}"
                      f" of {part.get('bars')} bars."]
            if part.get("unknown_genre_windows"):
                lines += ["", f"{part['unknown_genre_windows']:,} windows of genres the model "
                          f"was not trained on ({', '.join(part['unknown_genre_sequences'])}) "
                          f"are not in these figures; counted as errors, genre accuracy is "
                          f"{_fmt(part['genre_accuracy_all_windows'])}."]
    else:
        lines.append(f"Validation during training: `{json.dumps(meta.get('metrics', {}))}`")
    if continuation:
        lines += ["", *render_continuation(continuation)]
    if accompaniment:
        lines += ["", *render_accompaniment(accompaniment)]
    for study in ([ablation] if isinstance(ablation, dict) else ablation or []):
        lines += ["", *render_ablation(study)]
    lines += ["", "## Known limits", "", *limits(kind, data.get("datasets", [])), ""]
    return "\n".join(lines)


STUDY_COLUMNS = {"params": "parameters", "steps": "steps",
                 "val_bits_per_event": "val bits per event", "cpu_step_ms": "CPU step (ms)"}


def _origin(kind: str, training: dict) -> str:
    """Where the weights started and the command that trains them again."""
    source = training.get("source") or f"models/configs/{kind}.toml"
    init = training.get("init")
    start = (f", starting from the checkpoint then in `{init}` (see its own card in the "
             f"project's history)") if init else ""
    optim = training.get("optim", {})
    keep, keep_from = optim.get("keep_init"), optim.get("keep_from")
    if keep and keep_from:
        start += (f"; the best checkpoint was then averaged with the one then in "
                  f"`{keep_from}` ({keep:g} of its weights, `optim.keep_init`, "
                  f"`optim.keep_from`)")
    elif keep and init:
        start += (f"; the best checkpoint was then averaged with that starting one "
                  f"({keep:g} of its weights, `optim.keep_init`)")
    return f"{start}. Reproduce with `continuo train {kind} --config {source}`."


def render_ablation(ablation: dict) -> list[str]:
    """An architecture study recorded in ``ablation.json`` beside the checkpoint; its
    ``columns`` (key -> heading) default to ``STUDY_COLUMNS``."""
    columns = ablation.get("columns", STUDY_COLUMNS)
    lines = [f"## {ablation.get('title', 'Architecture')}", "", ablation["question"], "",
             ablation["method"], "", "| variant | " + " | ".join(columns.values()) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for run in ablation["runs"]:
        lines.append(f"| {run['variant']} | "
                     + " | ".join(_fmt(run[key]) if key in run else "" for key in columns)
                     + " |")
    lines.append("")
    for run in ablation["runs"]:
        if run.get("note"):
            lines += [f"{run['variant']}: {run['note']}.", ""]
    return [*lines, ablation["choice"]]
