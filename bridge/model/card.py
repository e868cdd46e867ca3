"""Model cards: ``MODEL_CARD.md`` beside a checkpoint, written from what it records.

A card states what the model is, the data it learnt from with licences and attribution,
how it was trained, its metrics beside the baselines (from ``continuo eval``), and its
known limits. ``continuo eval --write-cards`` writes one for each model it evaluated.
"""

from __future__ import annotations

import json
from typing import Any

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
    "wjd": ("unresolved (ODbL 1.0 or CC BY-NC-SA 4.0 by secondary sources)",
            "Weimar Jazz Database, Jazzomat Research Project, HfM Franz Liszt Weimar. "
            "Pfleiderer, Frieler, Abeßer, Zaddach, Burkhart (eds.): *Inside the Jazzomat*, "
            "Schott Campus 2017."),
    "music21": ("per piece (see music21's corpus/license.txt; some not for commercial use)",
                "music21's bundled corpus (music21 is BSD-licensed) and the encoders and "
                "editors it credits for each collection."),
}


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return f"{x:,}" if isinstance(x, int) else ("?" if x is None else str(x))


def render(kind: str, meta: dict, report: dict | None, ablation: dict | None = None) -> str:
    data = meta.get("data", {})
    cfg = meta.get("config", {})
    training = meta.get("training", {})
    optim = training.get("optim", {})
    lines = [f"# Continuo {kind}: model card", ""]
    if kind == "generator":
        lines += [
            "A multi-layer LSTM over Continuo's event tokens (beat-relative time, pitch or "
            "drum, velocity, duration; see `bridge/vocab.py`), conditioned on a style tag. It "
            "continues what a performer plays, one event at a time, in the live daemon.", ""]
    else:
        lines += [
            "A convolutional front end, a bidirectional LSTM and attention pooling over 2 to 8 "
            "bars of events, with a genre head and a sub-style head. It tags what a performer "
            "plays once a bar in the live daemon.", ""]
    lines += ["## Model", "", "| | |", "|---|---|",
              f"| parameters | {_fmt(meta.get('params'))} |",
              f"| vocabulary version | {meta.get('vocab_version')} |"]
    for key in ("n_embd", "n_hidden", "n_layer", "n_conv", "conv_kernel", "conv_layers",
                "attn_window", "recall_window", "recall_heads", "recall_dim", "dropout"):
        if key in cfg:
            lines.append(f"| {key} | {cfg[key]} |")
    styles = cfg.get("styles") or [*cfg.get("genres", []), *cfg.get("substyles", [])]
    lines += [f"| styles | {', '.join(s or '(none)' for s in styles)} |", ""]
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
    if sources:
        lines += ["", f"Sources: `{json.dumps(sources, sort_keys=True)}`"]
    lines += ["", "## Training", "",
              f"Adam (lr {_fmt(optim.get('lr'))} with warm-up and cosine decay to "
              f"{_fmt(optim.get('min_lr'))}), cross-entropy, batch {optim.get('batch')}, "
              f"gradient clipping at {optim.get('clip')}, validation every epoch, early "
              f"stopping after {optim.get('patience')} epochs without improvement; best of "
              f"{meta.get('epoch')} epoch(s). Reproduce with "
              f"`continuo train {kind} --config models/configs/{kind}.toml`.", "",
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
            lines += ["", f"Baseline: {part.get('baseline')}. Events: {_fmt(part.get('events'))}; "
                      "windows of up to 256 events from a bar line, scored from BOS, without "
                      "the style."]
        else:
            lines += [f"| genre accuracy | {_fmt(part.get('genre_accuracy'))} | "
                      f"{_fmt(part.get('baseline_genre_accuracy'))} |",
                      f"| sub-style macro-F1 | {_fmt(part.get('substyle_macro_f1'))} | "
                      f"{_fmt(part.get('baseline_substyle_macro_f1'))} |"]
            for g, acc in part.get("genre_accuracy_per_genre", {}).items():
                lines.append(f"| {g} accuracy | {_fmt(acc)} | |")
            lines += ["", f"Baseline: {part.get('baseline')}. Windows: {_fmt(part.get('windows'))}"
                      f" of {part.get('bars')} bars."]
            if part.get("unknown_genre_windows"):
                lines += ["", f"{part['unknown_genre_windows']:,} windows of genres the model "
                          f"was not trained on ({', '.join(part['unknown_genre_sequences'])}) "
                          f"are not in these figures; counted as errors, genre accuracy is "
                          f"{_fmt(part['genre_accuracy_all_windows'])}."]
    else:
        lines.append(f"Validation during training: `{json.dumps(meta.get('metrics', {}))}`")
    if ablation:
        lines += ["", *render_ablation(ablation)]
    lines += ["", "## Known limits", "", *limits(kind, data.get("datasets", [])), ""]
    return "\n".join(lines)


def render_ablation(ablation: dict) -> list[str]:
    """The architecture study recorded in ``ablation.json`` beside the checkpoint."""
    lines = ["## Architecture", "", ablation["question"], "", ablation["method"], "",
             "| variant | parameters | steps | val bits per event | CPU step (ms) |",
             "|---|---|---|---|---|"]
    for run in ablation["runs"]:
        lines.append(f"| {run['variant']} | {_fmt(run['params'])} | {_fmt(run['steps'])} | "
                     f"{_fmt(run['val_bits_per_event'])} | {run['cpu_step_ms']:.2f} |")
    lines.append("")
    for run in ablation["runs"]:
        if run.get("note"):
            lines += [f"{run['variant']}: {run['note']}.", ""]
    return [*lines, ablation["choice"]]


LICENCE_PENDING = {"wjd": "jazz", "music21": "classical"}   # source -> the genre it brings


def limits(kind: str, datasets: list[str]) -> list[str]:
    out = list(LIMITS[kind])
    missing = [name for name in LICENCE_PENDING if name not in datasets]
    if missing:
        genres = " or ".join(LICENCE_PENDING[name] for name in missing)
        out.append(f"- Trained without {' and '.join(missing)}, so no {genres}: their "
                   "licences are not confirmed for commercial use. Where they allow it, train "
                   "with them (`continuo data build --music21`; add `wjd` to the config's "
                   "datasets).")
    return out


LIMITS = {
    "generator": [
        "- It knows the styles of its data only; a style outside its table falls back to "
        "the genre, then to none.",
        "- Each genre comes from one source with its own texture (pop: piano arrangements, "
        "folk: melody and block chords, drums: GM percussion): asking a solo line for "
        "`drums` or a drum part for `pop` leaves its training distribution.",
        "- Timing is quantised to 1/24 beat; micro-timing finer than that is lost.",
        "- Small by design (fast on one CPU core): long-range form (verse, chorus) is beyond "
        "it.",
    ],
    "tagger": [
        "- Genres are confounded with texture (pop = piano arrangements, folk = melody and "
        "chords, drums = percussion only): it may tag by texture rather than by style.",
        "- It knows the genres of its data only.",
        "- Sub-styles that are collections rather than dance types (folk/ashover, "
        "folk/playford, folk/christmas, folk/morris) cannot be told apart by ear.",
        "- Short windows (2 bars) of sparse input are tagged with low confidence.",
    ],
}
