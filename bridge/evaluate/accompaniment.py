"""``continuo eval --task accompaniment``: does the model accompany a melody it hears live
better than holding the last chord or repeating the last bars?

- Pieces: the continuation benchmark's pieces (:func:`bridge.evaluate.continuation.cases`)
  that have a melody and an accompaniment (harmony, bass) in both prompt and truth, on one
  bar length through their 12 bars.
- The run, per piece and seed: the daemon's own :class:`bridge.live.session.Session` in
  accompany mode, ``part`` accompaniment (harmony and bass), ``plays`` melody, every other
  parameter at the daemon's default, on a simulated clock (:mod:`bridge.timing.simloop`)
  at the piece's tempo. It hears the prompt's 8 bars (``heard`` "all": the melody as played,
  the accompaniment as a listening track plays it; "alone": the melody only, so that it
  brings the accompaniment in, :mod:`bridge.live.entry`), starts accompanying so that its
  first committed step is the truth's first beat, and then hears the true melody, note by
  note at its time, while its accompanist plans, commits and re-plans as in the daemon, for
  4 bars. "start": it accompanies from the prompt's first beat on, hearing the melody alone
  from its first note (a performer who starts a song with Continuo in accompany mode: it
  comes in when it has heard enough), and what it plays in the truth's 4 bars is scored.
- Baselines: **hold**, the prompt's last accompaniment chord (the accompaniment notes
  sounding at its last onset) held through the 4 bars; **echo**, the prompt's last 4 bars
  of accompaniment again.
- Metrics against the truth's accompaniment: ``chord_tone_fit``, the share of a
  candidate's notes whose pitch class sounds in the true melody or accompaniment at the
  note's onset (for the truth itself: sounding in *another* true note), and the
  continuation benchmark's metrics (``score`` and the rest, :mod:`bridge.evaluate.musicality`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from bridge.evaluate.continuation import (
    PROMPT_BARS,
    SEEDS,
    TRUTH_BARS,
    Case,
    by_dataset,
    cases,
    first_of_each,
)
from bridge.evaluate.musicality import METRICS, OWN, compare, mean_metrics, own
from bridge.music.likeness import EPS
from bridge.music.piece import Note
from bridge.progress import Progress
from bridge.vocab import BASS, HARMONY, MELODY

ACCOMPANIMENT = frozenset((HARMONY, BASS))
CANDIDATES = ("model", "hold", "echo")
NAMES = ("chord_tone_fit", *METRICS)
MIN_MELODY_NOTES = 8          # in the prompt, and at least one in the truth
TEMPO_RANGE = (60.0, 180.0)   # a piece's tempo, clamped: the daemon's lead is in seconds


def accompaniment(notes: Sequence[Note]) -> list[Note]:
    return [n for n in notes if n.part in ACCOMPANIMENT and not n.drum]


def melody(notes: Sequence[Note]) -> list[Note]:
    return [n for n in notes if n.part == MELODY and not n.drum]


def one_bar_length(lines: Sequence[float]) -> bool:
    """Do these bar lines mark bars of one length, a whole number of eighths (a time
    signature the simulated clock can keep)?"""
    lengths = np.diff(lines)
    return bool(np.allclose(lengths, lengths[0]) and lengths[0] * 2 == round(lengths[0] * 2))


def suitable(case: Case) -> bool:
    """A melody and an accompaniment in prompt and truth, one bar length throughout."""
    return bool(len(melody(case.prompt.notes)) >= MIN_MELODY_NOTES and melody(case.truth)
                and accompaniment(case.prompt.notes) and accompaniment(case.truth)
                and one_bar_length([*case.prompt_bars.lines, *case.bars.lines[1:]]))


# -- the baselines ----------------------------------------------------------------------------


def hold(case: Case) -> list[Note]:
    """The prompt's last accompaniment chord, held through the truth's bars."""
    acc = accompaniment(case.prompt.notes)
    last = max(n.start for n in acc)
    chord = {n.pitch: n for n in acc if n.start - EPS <= last < n.end - EPS or
             abs(n.start - last) < EPS}
    start, end = case.bars.lines[0], case.bars.lines[-1]
    return [Note(start, end - start, n.pitch, n.velocity, part=n.part)
            for _, n in sorted(chord.items())]


def echo(case: Case) -> list[Note]:
    """The prompt's last ``TRUTH_BARS`` bars of accompaniment again, bar for bar."""
    lines, first = case.prompt_bars.lines, PROMPT_BARS - TRUTH_BARS
    out = []
    for n in accompaniment(case.prompt.notes):
        i = case.prompt_bars.index(n.start)
        if i is not None and i >= first:
            out.append(replace(n, start=case.bars.lines[i - first] + n.start - lines[i]))
    return out


# -- the metric -----------------------------------------------------------------------------


def chord_tone_fit(candidate: Sequence[Note], truth: Sequence[Note]) -> float | None:
    """The share of ``candidate``'s notes whose pitch class sounds in ``truth`` at their
    onset (a note of ``truth`` itself does not count for itself); None without notes."""
    if not candidate:
        return None
    fit = 0
    for n in candidate:
        sounding = {m.pitch % 12 for m in truth if m is not n
                    and m.start - EPS <= n.start < m.end - EPS}
        fit += n.pitch % 12 in sounding
    return fit / len(candidate)


def metrics(notes: list[Note], case: Case) -> dict[str, float | None]:
    truth = accompaniment(case.truth)
    out = compare(notes, truth, case.bars, accompaniment(case.prompt.notes),
                  case.prompt_bars, case.key)
    return {"chord_tone_fit": chord_tone_fit(notes, [*melody(case.truth), *truth]), **out}


def truth_metrics(case: Case) -> dict[str, float | None]:
    truth = accompaniment(case.truth)
    return {"chord_tone_fit": chord_tone_fit(truth, [*melody(case.truth), *truth]),
            **own(truth, case.bars, accompaniment(case.prompt.notes), case.prompt_bars,
                  case.key)}


# -- the model, live on a simulated clock -----------------------------------------------------


class Taken:
    """The session's output: what it would play, in song beats (an ``Output``)."""

    def __init__(self) -> None:
        self.notes: list[Note] = []

    def play(self, note: Note, channel: int) -> None:
        self.notes.append(note)

    def cancel_from(self, beat: float) -> None:      # what has not started goes, the rest ends
        self.notes = [n if n.end <= beat else replace(n, duration=max(beat - n.start, EPS))
                      for n in self.notes if n.start < beat]

    def panic(self) -> None:
        pass

    def close(self) -> None:
        pass

    def status(self) -> dict:
        return {"notes_out": len(self.notes)}


def signature(bar_beats: float) -> tuple[int, int]:
    """A time signature with bars of ``bar_beats`` quarter notes (whole or half)."""
    return (int(bar_beats), 4) if bar_beats == int(bar_beats) else (int(bar_beats * 2), 8)


HEARD = ("all", "alone", "start")   # what it hears of the prompt (see the module)


def accompany(generator, engine, case: Case, seed: int, params: dict | None = None,
              heard: str = "all") -> list[Note]:
    """The daemon's accompaniment of ``case`` (see the module's docstring), in piece beats."""
    from bridge.live.accompany import MIN_LEAD_S
    from bridge.live.session import Session
    from bridge.timing.clock import BeatClock
    from bridge.timing.simloop import SimLoop

    origin = case.prompt_bars.lines[0]                 # piece beats -> song beats from 0
    start, end = case.bars.lines[0] - origin, case.bars.lines[-1] - origin
    numerator, denominator = signature(case.bars.lines[1] - case.bars.lines[0])
    tempo = min(max(case.piece.tempo, TEMPO_RANGE[0]), TEMPO_RANGE[1])
    loop = SimLoop(settle=engine.drain)
    clock = BeatClock(0.0, tempo, numerator=numerator, denominator=denominator)
    clock.set_transport(0.0, tempo, 0.0, True, numerator, denominator)
    out = Taken()
    session = Session(f"acc{seed}", engine=engine, clock=clock, output=out,
                      styles=generator.config.styles, loop=loop, prepare=False,
                      params={**(params or {}), "mode": "manual", "part": "accompaniment",
                              "plays": "melody", "seed": seed})
    if heard == "all":
        session.hear([replace(n, start=n.start - origin)
                      for n in accompaniment(case.prompt.notes)])
        engine.drain()
    for n in melody([*case.prompt.notes, *case.truth]):
        on, off = n.start - origin, n.end - origin
        if on < end:
            loop.call_at(clock.time_at(on), session.note_on, n.pitch, n.velocity, on)
            loop.call_at(clock.time_at(off), session.note_off, n.pitch, off)
    # accompany from where its first step commits exactly the truth's first beat
    enter = 0.0 if heard == "start" else clock.time_at(start) - MIN_LEAD_S - 1e-3
    loop.call_at(enter, session.set_param, "mode", "accompany")
    loop.run_until(clock.time_at(end))
    session.close()
    engine.drain()
    return [replace(n, start=n.start + origin) for n in out.notes if start - EPS <= n.start]


# -- the run ---------------------------------------------------------------------------------


def score_cases(generator, all_cases: list[Case], seeds: Sequence[int] = SEEDS,
                params: dict | None = None, heard: str = "all") -> list[dict]:
    from bridge.live.engine import Engine

    engine = Engine(generator, None)
    rows = []
    with Progress("accompaniment", len(all_cases), "pieces") as progress:
        for case in all_cases:
            runs = [accompany(generator, engine, case, s, params, heard) for s in seeds]
            rows.append({
                "piece": case.name, "dataset": case.dataset, "style": case.style,
                "model": mean_metrics([metrics(notes, case) for notes in runs], NAMES),
                "hold": metrics(hold(case), case), "echo": metrics(echo(case), case),
                "truth": truth_metrics(case),
                "notes": {"model": [len(n) for n in runs],
                          "truth": len(accompaniment(case.truth))},
            })
            progress.update()
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per dataset: means of every candidate, the truth's own values, and how often the
    model is above each baseline."""
    out = {}
    for ds, (entry, mine) in by_dataset(rows, CANDIDATES, NAMES,
                                        ("chord_tone_fit", *OWN)).items():
        entry["model_beats"] = {
            base: {m: round(sum(_beats(r, base, m) for r in mine) / len(mine), 4)
                   for m in ("chord_tone_fit", "score")} for base in ("hold", "echo")}
        out[ds] = entry
    return out


def _beats(row: dict, base: str, metric: str) -> bool:
    return (row["model"][metric] or 0.0) > (row[base][metric] or 0.0)


def evaluate_accompaniment(generator, records: Sequence, seeds: Sequence[int] = SEEDS,
                           limit: int | None = None, params: dict | None = None,
                           heard: str = "all") -> tuple[dict, list[dict]]:
    """The whole task: (report, per-piece rows); ``limit`` keeps the first pieces of each
    dataset; ``params`` sets session parameters (default: the daemon's defaults); ``heard``:
    what the model hears of the prompt (:func:`accompany`)."""
    if heard not in HEARD:
        raise ValueError(f"heard {heard!r}: one of {', '.join(HEARD)}")
    all_cases = first_of_each([c for c in cases(records) if suitable(c)], limit)
    rows = score_cases(generator, all_cases, seeds, params, heard)
    report = {"datasets": summarise(rows), "prompt_bars": PROMPT_BARS,
              "truth_bars": TRUTH_BARS, "seeds": list(seeds), "part": "accompaniment",
              "plays": "melody", "alone": heard != "all", "heard": heard,
              "params": dict(params or {})}
    return report, rows
