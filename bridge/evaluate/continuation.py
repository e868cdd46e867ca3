"""``continuo eval --task continuation``: are the model's continuations closer to what the
music really did than an echo of the performer's last bars?

- Pieces: every piece of the data with at least 12 bars, one per group (the file's own
  reading, a group's full texture before its single tracks, then path order), in
  (dataset, path) order. The prompt is its first 8 bars on its own bar grid (notes cut at
  the bar line), the truth the 4 bars after.
- Candidates: the model (seeds 0, 1, 2; temperature 1, top-p 0.95, no style), sampled as
  ``continuo continue --prompt-bars 8 --bars 4`` samples (the draw most like the others of
  its ``candidates``, half of them quoting the prompt; a band's drums and pitched parts
  apart, :func:`bridge.offline.continuation.draw_continuation`); **draw**, the first of
  those candidates alone (free: what one draw without a choice plays); **echo**, the
  prompt's last 4 bars again; **shuffle**, echo's onsets and durations with pitches drawn
  from the prompt's pitch histogram (seeded per piece).
- Metrics (:mod:`bridge.evaluate.musicality`) of each candidate against the truth, averaged
  per dataset (a piece's model figures first averaged over its seeds), the truth's own values
  beside them, and the share of pieces where the model's score beats the echo's.
- Style control: :mod:`bridge.evaluate.styles`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bridge.evaluate.musicality import METRICS, OWN, compare, mean_metrics, own
from bridge.live.params import GUIDANCE
from bridge.music.key import Key, find_key
from bridge.music.likeness import Bars
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import decode
from bridge.offline.continuation import ContinueOptions, draw_continuation, prompt_of
from bridge.progress import Progress
from bridge.vocab import MELODY, PARTS, Meter

PROMPT_BARS = 8
TRUTH_BARS = 4
SEEDS = (0, 1, 2)
STYLE_PROMPTS = 10   # style control: melody prompts of each genre (bridge.evaluate.styles)
TEMPERATURE = 1.0
TOP_P = 0.95
MELODY_PART = PARTS[MELODY]   # style control asks melody prompts for a melody
MIN_MELODY_NOTES = 16
CANDIDATES = ("model", "draw", "echo", "shuffle")


@dataclass
class Case:
    """One benchmark piece, cut into prompt and truth."""

    name: str
    dataset: str
    group: str
    style: str
    piece: Piece
    prompt: Piece = field(init=False)
    prompt_bars: Bars = field(init=False)
    bars: Bars = field(init=False)          # the truth's (and every candidate's) bars
    truth: list[Note] = field(init=False)
    key: Key | None = field(init=False)

    def __post_init__(self) -> None:
        lines = self.piece.bar_lines(PROMPT_BARS + TRUTH_BARS)
        self.prompt, _ = prompt_of(self.piece, PROMPT_BARS)
        self.prompt_bars = Bars(tuple(lines[:PROMPT_BARS + 1]))
        self.bars = Bars(tuple(lines[PROMPT_BARS:]))
        self.truth = [n for n in self.piece.notes if self.bars.index(n.start) is not None]
        self.key = find_key(self.prompt.notes)

    @property
    def drums(self) -> bool:
        return bool(np.mean([n.drum for n in self.prompt.notes]) > 0.5)


def pieces(records: Sequence, bars: int) -> list[tuple]:
    """One record of each group with at least ``bars`` bars, decoded: (meta, piece), in
    (dataset, path) order; of a group, its file's own reading, its full texture before its
    single tracks, then path order."""
    from bridge.data.sources import VARIANTS

    def rank(r) -> tuple:
        variant = VARIANTS.index(r.meta.variant) if r.meta.variant in VARIANTS else len(VARIANTS)
        return variant, r.meta.path

    chosen: dict[str, tuple] = {}
    for r in sorted(records, key=rank):
        m = r.meta
        if m.group in chosen:
            continue
        meter = Meter(list(m.meter))
        piece = Piece(decode(r.tokens.tolist(), meter, m.origin), meter, name=m.path)
        if piece.bars() >= bars:
            chosen[m.group] = m, piece
    return sorted(chosen.values(), key=lambda mp: (mp[0].dataset, mp[0].path))


def first_of_each(items: list, limit: int | None) -> list:
    """The first ``limit`` items of each dataset (all without a limit), datasets in name
    order: a benchmark's quick run (``--limit``)."""
    if limit is None:
        return items
    return [x for ds in sorted({x.dataset for x in items})
            for x in [x for x in items if x.dataset == ds][:limit]]


def cases(records: Sequence) -> list[Case]:
    """The benchmark's pieces from built records (``bridge.data.build.Record``)."""
    return [Case(m.path, m.dataset, m.group, m.style, piece)
            for m, piece in pieces(records, PROMPT_BARS + TRUTH_BARS)]


def melody_of(case: Case) -> Case | None:
    """The case's melody part alone, if its prompt holds enough of it."""
    notes = [n for n in case.piece.notes if n.part == MELODY]
    melody = Case(case.name, case.dataset, case.group, case.style,
                  Piece(notes, case.piece.meter, case.piece.tempo, case.piece.name))
    return melody if len(melody.prompt.notes) >= MIN_MELODY_NOTES else None


# -- the baselines ----------------------------------------------------------------------------


def echo(case: Case) -> list[Note]:
    """The prompt's last ``TRUTH_BARS`` bars played again, bar for bar."""
    lines = case.prompt_bars.lines
    first = PROMPT_BARS - TRUTH_BARS
    out = []
    for n in case.prompt.notes:
        i = case.prompt_bars.index(n.start)
        if i is not None and i >= first:
            start = case.bars.lines[i - first] + (n.start - lines[i])
            out.append(Note(start, n.duration, n.pitch, n.velocity, n.drum))
    return out


def shuffle(case: Case, seed: int) -> list[Note]:
    """Echo's rhythm, pitches drawn from the prompt's pitch histogram."""
    rng = random.Random(seed)
    pool = [(n.pitch, n.drum) for n in case.prompt.notes]
    out = []
    for n in echo(case):
        pitch, drum = rng.choice(pool)
        out.append(Note(n.start, n.duration, pitch, n.velocity, drum))
    return out


# -- the run -----------------------------------------------------------------------------------


def continuation(generator, case: Case, seed: int, engine, style: str = "",
                 part: str | None = None, guidance: float = GUIDANCE,
                 heard: str | None = None) -> list[Note]:
    return draws(generator, case, seed, engine, style, part, guidance, heard)[0]


def draws(generator, case: Case, seed: int, engine, style: str = "",
          part: str | None = None, guidance: float = GUIDANCE, heard: str | None = None
          ) -> tuple[list[Note], list[Note]]:
    """The continuation the model plays (chosen among its candidates) and its first
    candidate alone (one draw, as sampling without a choice plays); a style request from
    the prompt heard as genre ``heard`` (see :func:`bridge.offline.tags.heard_genre`)."""
    options = ContinueOptions(bars=TRUTH_BARS, prompt_bars=PROMPT_BARS, style=style,
                              guidance=guidance, temperature=TEMPERATURE, top_p=TOP_P,
                              seed=seed, part=part, heard=heard)
    return draw_continuation(generator, case.piece, options, engine)


def score_cases(generator, all_cases: list[Case], seeds: Sequence[int] = SEEDS,
                engine=None) -> list[dict]:
    """Every candidate's metrics on every case (one row per case)."""
    from bridge.live.engine import Engine

    engine = engine or Engine(generator, None)
    rows = []
    with Progress("continuation", len(all_cases), "pieces") as progress:
        for i, case in enumerate(all_cases):
            def metrics(notes: list[Note], case: Case = case) -> dict:
                return compare(notes, case.truth, case.bars, case.prompt.notes,
                               case.prompt_bars, case.key)
            runs, first = zip(*(draws(generator, case, s, engine) for s in seeds), strict=True)
            rows.append({
                "piece": case.name, "dataset": case.dataset, "style": case.style,
                "key": str(case.key) if case.key else None,
                "model": mean_metrics([metrics(notes) for notes in runs]),
                "model_seeds": [metrics(notes) for notes in runs],
                "draw": mean_metrics([metrics(notes) for notes in first]),
                "echo": metrics(echo(case)), "shuffle": metrics(shuffle(case, i)),
                "truth": own(case.truth, case.bars, case.prompt.notes, case.prompt_bars,
                             case.key),
                "notes": {"model": [len(n) for n in runs], "truth": len(case.truth)},
            })
            progress.update()
    return rows


def by_dataset(rows: list[dict], candidates: Sequence[str], names: Sequence[str],
               truth: Sequence[str]) -> dict[str, tuple[dict, list[dict]]]:
    """Per dataset (sorted): its pieces' count and means of every candidate's ``names``
    and the truth's ``truth``, and its rows."""
    out = {}
    for ds in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == ds]
        entry: dict = {"pieces": len(mine)}
        for name in candidates:
            entry[name] = mean_metrics([r[name] for r in mine], names)
        entry["truth"] = mean_metrics([r["truth"] for r in mine], truth)
        out[ds] = entry, mine
    return out


def summarise(rows: list[dict]) -> dict:
    """Per dataset: means of every candidate, the truth's own values, model vs echo."""
    out = {}
    for ds, (entry, mine) in by_dataset(rows, CANDIDATES, METRICS, OWN).items():
        entry["model_beats_echo"] = round(
            sum(r["model"]["score"] > r["echo"]["score"] for r in mine) / len(mine), 4)
        out[ds] = entry
    return out


def evaluate_continuation(generator, tagger, records: Sequence, seeds: Sequence[int] = SEEDS,
                          style_prompts: int = STYLE_PROMPTS,
                          limit: int | None = None, bands: bool = False
                          ) -> tuple[dict, list[dict]]:
    """The whole task: (report, per-piece rows). ``limit`` keeps the first pieces of each
    dataset (quick runs); ``bands`` adds the band pieces (:mod:`bridge.evaluate.bands`)."""
    from bridge.evaluate.bands import BAND, band_cases
    from bridge.evaluate.styles import style_control
    from bridge.live.engine import Engine

    all_cases = cases(records)
    if bands:
        all_cases += band_cases(all_cases)
    all_cases = first_of_each(all_cases, limit)
    engine = Engine(generator, None)
    rows = score_cases(generator, all_cases, seeds, engine)
    prompts = [c for c in all_cases if not c.dataset.endswith(BAND)]
    report = {
        "datasets": summarise(rows),
        "style_control": style_control(generator, tagger, prompts, style_prompts, engine,
                                       seeds) if tagger is not None else None,
        "prompt_bars": PROMPT_BARS, "truth_bars": TRUTH_BARS, "seeds": list(seeds),
        "temperature": TEMPERATURE, "top_p": TOP_P,
        "candidates": ContinueOptions().candidates,
    }
    return report, rows


def chart(report: dict, path: Path) -> None:
    """Each dataset's five overlaps and score: model, echo, shuffle side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bridge.music.likeness import OVERLAPS

    datasets = report["datasets"]
    names = ("score", *OVERLAPS)
    fig, axes = plt.subplots(len(datasets), 1, figsize=(9, 2.6 * len(datasets)),
                             squeeze=False)
    colors = {"model": "tab:orange", "draw": "navajowhite", "echo": "tab:blue",
              "shuffle": "0.6"}
    for ax, (ds, entry) in zip(axes[:, 0], datasets.items(), strict=True):
        x = np.arange(len(names))
        for j, cand in enumerate(CANDIDATES):
            ax.bar(x + (j - 1.5) * 0.2, [entry[cand][m] or 0 for m in names], 0.2,
                   label=cand, color=colors[cand])
        ax.set_xticks(x, names)
        ax.set_ylim(0, 1)
        ax.set_title(f"{ds}: {entry['pieces']} pieces, model beats echo on "
                     f"{100 * entry['model_beats_echo']:.0f} %", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
