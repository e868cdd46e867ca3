"""``continuo eval --task call``: trading fours. Does the daemon answer a performer's
phrases, in call mode as it plays on stage, closer to what the music really did than an echo
of the phrase it heard?

- Pieces: every piece of the data with at least 16 bars on one bar length, one per group,
  in (dataset, path) order (:func:`bridge.evaluate.continuation.pieces`).
- The run, per piece and seed: the daemon's own :class:`bridge.live.session.Session` in call
  mode, every parameter at its default but ``length_bars`` 4, on a simulated clock
  (:mod:`bridge.timing.simloop`: the model's work takes no simulated time). Two rounds: the
  performer plays bars 1-4 and Continuo answers bars 5-8, the performer plays bars 9-12 and
  Continuo answers bars 13-16. A piece that begins with a pickup (its first note a beat or
  less before a bar line, :data:`bridge.live.phrase.PICKUP_BEATS`) is counted from that
  line, the pickup played before bar 1. The performer plays the piece's notes in their
  parts (drums as drums) and breathes for the last ``phrase_beats`` of each call (notes
  there are not played, notes sounding then are released), so that the default silence
  ends the phrase on the answer's bar line, the answer chosen among its candidates as the
  daemon chooses it while the performer is silent. A rest inside a call ends a phrase as on
  stage when its answer falls due before the performer plays on (with ``answer_on`` bar,
  the default: a silence of ``phrase_beats`` reaching a bar line): the answer begun then
  stops when the performer plays again (``notes_in_calls``); trading (``--set
  trade_bars=4``), the answer comes in on bar 5 whatever the call does. The second answer
  hears the first answer, not the piece's bars 5-8. The run's seed is
  the session's ``seed``, set once as a performer sets it; each answer draws afresh from it
  and the tick it starts on (:func:`bridge.live.voice.draw_seed`).
- Baseline: **echo**, the call as the performer played it, again in the answer's bars.
- Metrics of each answer against the piece's own bars there (the continuation benchmark's,
  :mod:`bridge.evaluate.musicality`); the prompt a copy would come from is everything heard
  before the answer (both players), the key the piece's before it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from bridge.evaluate.accompaniment import TEMPO_RANGE, Taken, one_bar_length, signature
from bridge.evaluate.continuation import SEEDS, by_dataset, first_of_each, pieces
from bridge.evaluate.musicality import METRICS, OWN, compare, mean_metrics, own
from bridge.live.params import param
from bridge.live.phrase import PICKUP_BEATS
from bridge.music.key import Key, find_key
from bridge.music.likeness import EPS, Bars
from bridge.music.piece import Note, Piece
from bridge.progress import Progress
from bridge.vocab import DRUMS

CALL_BARS = 4
ROUNDS = 2
PIECE_BARS = 2 * CALL_BARS * ROUNDS
CANDIDATES = ("model", "echo")
PARAMS = {"mode": "call", "length_bars": CALL_BARS}   # the rest at the daemon's defaults
DRUM_CHANNEL = 9
PHRASE_BEATS = param("phrase_beats").default


@dataclass
class Trade:
    """A piece cut into calls and answers."""

    name: str
    dataset: str
    style: str
    piece: Piece
    lines: tuple[float, ...]            # its first PIECE_BARS bars' lines
    begins: float                       # its first note: lines[0], or a pickup before it

    def call(self, r: int) -> tuple[float, float]:
        """Round ``r``'s call, from its first bar line to the answer's."""
        return self.lines[2 * r * CALL_BARS], self.lines[(2 * r + 1) * CALL_BARS]

    def answer_bars(self, r: int) -> Bars:
        first = (2 * r + 1) * CALL_BARS
        return Bars(self.lines[first:first + CALL_BARS + 1])

    def truth(self, r: int) -> list[Note]:
        bars = self.answer_bars(r)
        return [n for n in self.piece.notes if bars.index(n.start) is not None]

    def played(self, r: int, breath: float) -> list[Note]:
        """What the performer plays of round ``r``'s call: its notes, but none in the last
        ``breath`` beats, each released by then."""
        start, end = self.call(r)
        start = self.begins if r == 0 else start
        stop = end - breath
        return [replace(n, duration=min(n.end, stop) - n.start) for n in self.piece.notes
                if start - EPS <= n.start < stop - EPS]


def trades(records: Sequence) -> list[Trade]:
    """The task's pieces: at least ``PIECE_BARS`` bars, all of one length."""
    out = []
    for m, piece in pieces(records, PIECE_BARS):
        lines = tuple(piece.bar_lines(PIECE_BARS + 1))
        begins = piece.notes[0].start
        pickup = lines[1] - begins <= PICKUP_BEATS + EPS and piece.bars() > PIECE_BARS
        lines = lines[1:] if pickup else lines[:-1]
        if one_bar_length(lines):
            out.append(Trade(m.path, m.dataset, m.style, piece, lines,
                             begins if pickup else lines[0]))
    return out


def echo(trade: Trade, r: int, call: list[Note]) -> list[Note]:
    """The call as played (its bars, not a pickup), again in the answer's bars, bar for
    bar."""
    start = trade.call(r)[0]
    shift = trade.answer_bars(r).lines[0] - start
    return [replace(n, start=n.start + shift) for n in call if n.start >= start - EPS]


# -- the daemon, trading on a simulated clock -------------------------------------------------


def trade_fours(generator, engine, trade: Trade, seed: int, params: dict | None = None
                ) -> dict:
    """The session's answers to ``trade``'s calls: {"answers": [notes of each round's
    answer bars, piece beats], "heard": [what it had heard before each answer, both
    players], "calls": [what the performer played of each call], "in_calls": [Continuo's
    notes inside each call], "status": the session's answer counts}."""
    from bridge.live.session import Session
    from bridge.timing.clock import BeatClock
    from bridge.timing.simloop import SimLoop

    params = {**PARAMS, **(params or {}), "seed": seed}
    origin = trade.lines[0]                          # piece beats -> song beats from 0
    numerator, denominator = signature(trade.lines[1] - trade.lines[0])
    tempo = min(max(trade.piece.tempo, TEMPO_RANGE[0]), TEMPO_RANGE[1])
    breath = params.get("phrase_beats", PHRASE_BEATS)
    calls = [trade.played(r, breath) for r in range(ROUNDS)]
    onsets = sorted(n.start - origin for call in calls for n in call)

    def settle() -> None:
        """The worker's work, done at once, unless the performer plays again before this
        silence's answer would be due (the session's own rule, ``Phrase.response_start``)
        and the answer kept ready would be made again then: what it would prepare is
        thrown away unused (the worker of a real daemon is stopped there; drained, every
        gap between two notes would draw a whole choice). One kept through the call's last
        notes (``Responder.keeps``) is drawn whole."""
        if session.responder.keeps():
            engine.drain()
            return
        due = session.phrase.response_start(session.params, session.time)
        if due is None:                              # notes sound: no answer can be due yet
            return
        i = bisect.bisect_right(onsets, clock.beat_at(loop.time()) + 1e-9)
        if i == len(onsets) or onsets[i] >= due - 1e-6:
            engine.drain()

    loop = SimLoop(settle=settle)
    clock = BeatClock(0.0, tempo, numerator=numerator, denominator=denominator)
    clock.set_transport(0.0, tempo, 0.0, True, numerator, denominator)
    out = Taken()
    session = Session(f"call{seed}", engine=engine, clock=clock, output=out,
                      styles=generator.config.styles, loop=loop, params=params)
    for n in (n for call in calls for n in call):
        channel = DRUM_CHANNEL if n.drum else None
        part = DRUMS if n.drum else n.part
        on, off = n.start - origin, n.end - origin
        loop.call_at(clock.time_at(on), partial(session.note_on, part=part), n.pitch,
                     n.velocity, on, channel)
        loop.call_at(clock.time_at(off), partial(session.note_off, part=part), n.pitch, off,
                     channel)
    heard = []
    for r in range(ROUNDS):
        line = trade.answer_bars(r).lines[0]
        loop.run_until(clock.time_at(line - origin) - 1e-6)
        heard.append([*(n for call in calls[:r + 1] for n in call),
                      *(replace(n, start=n.start + origin) for n in out.notes
                        if n.start + origin < line - EPS)])
    loop.run_until(clock.time_at(trade.lines[-1] - origin) - 1e-6)
    played = [replace(n, start=n.start + origin) for n in out.notes]
    answers = [[n for n in played if trade.answer_bars(r).index(n.start) is not None]
               for r in range(ROUNDS)]
    in_calls = [sum(1 for n in out.notes if a - EPS <= n.start + origin < b - EPS)
                for a, b in (trade.call(r) for r in range(ROUNDS))]
    status = dict(session.responder.status())
    session.close()
    engine.drain()
    return {"answers": answers, "heard": heard, "calls": calls, "in_calls": in_calls,
            "status": status}


# -- the run ---------------------------------------------------------------------------------


def _before(trade: Trade, r: int) -> tuple[Bars, Bars, Key | None]:
    """Round ``r``'s answer bars, the bars before them and the piece's key up to them."""
    bars = trade.answer_bars(r)
    first = trade.lines.index(bars.lines[0])
    key = find_key([n for n in trade.piece.notes if n.start < bars.lines[0] - EPS])
    return bars, Bars(trade.lines[:first + 1]), key


def _metrics(trade: Trade, r: int, notes: list[Note], heard: list[Note]) -> dict:
    bars, before, key = _before(trade, r)
    return compare(notes, trade.truth(r), bars, heard, before, key)


def _truth(trade: Trade, r: int, heard: list[Note]) -> dict:
    bars, before, key = _before(trade, r)
    return own(trade.truth(r), bars, heard, before, key)


def score_trades(generator, all_trades: list[Trade], seeds: Sequence[int] = SEEDS,
                 params: dict | None = None) -> list[dict]:
    from bridge.live.engine import Engine

    engine = Engine(generator, None)
    rows = []
    with Progress("call", len(all_trades), "pieces") as progress:
        for trade in all_trades:
            runs = [trade_fours(generator, engine, trade, s, params) for s in seeds]
            model = [_metrics(trade, r, run["answers"][r], run["heard"][r])
                     for run in runs for r in range(ROUNDS)]
            first = runs[0]
            echoes = [_metrics(trade, r, echo(trade, r, first["calls"][r]), first["heard"][r])
                      for r in range(ROUNDS)]
            rows.append({
                "piece": trade.name, "dataset": trade.dataset, "style": trade.style,
                "model": mean_metrics(model), "echo": mean_metrics(echoes),
                "rounds": {"model": [mean_metrics(model[r::ROUNDS], ("score",))["score"]
                                     for r in range(ROUNDS)],
                           "echo": [e["score"] for e in echoes]},
                "truth": mean_metrics([_truth(trade, r, first["heard"][r])
                                       for r in range(ROUNDS)], OWN),
                "in_calls": [sum(run["in_calls"]) / ROUNDS for run in runs],
                "answers": {k: sum(run["status"].get(k, 0) for run in runs)
                            for k in runs[0]["status"]},
                "notes": {"model": [[len(a) for a in run["answers"]] for run in runs],
                          "truth": [len(trade.truth(r)) for r in range(ROUNDS)]},
            })
            progress.update()
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per dataset: means of the answers and the echo, the truth's own values, how often
    the answer beats the echo, how answers were made, Continuo's notes inside a call, and
    each round's score."""
    out = {}
    for ds, (entry, mine) in by_dataset(rows, CANDIDATES, METRICS, OWN).items():
        entry["model_beats_echo"] = round(
            sum(r["model"]["score"] > r["echo"]["score"] for r in mine) / len(mine), 4)
        entry["notes_in_calls"] = round(                 # Continuo's, a call, on average
            sum(sum(r["in_calls"]) for r in mine) / sum(len(r["in_calls"]) for r in mine), 4)
        entry["answers"] = {k: sum(r["answers"].get(k, 0) for r in mine)
                            for k in mine[0]["answers"]}
        entry["score_by_round"] = {
            c: [round(float(np.mean([r["rounds"][c][i] for r in mine])), 4)
                for i in range(ROUNDS)] for c in CANDIDATES}
        out[ds] = entry
    return out


def evaluate_call(generator, records: Sequence, seeds: Sequence[int] = SEEDS,
                  limit: int | None = None, params: dict | None = None
                  ) -> tuple[dict, list[dict]]:
    """The whole task: (report, per-piece rows); ``limit`` keeps the first pieces of each
    dataset; ``params`` sets session parameters (default: :data:`PARAMS`)."""
    from bridge.evaluate.run import EvalError

    all_trades = first_of_each(trades(records), limit)
    if not all_trades:
        raise EvalError(f"no piece of the data has {PIECE_BARS} bars of one length to trade")
    rows = score_trades(generator, all_trades, seeds, params)
    report = {"datasets": summarise(rows), "call_bars": CALL_BARS, "rounds": ROUNDS,
              "seeds": list(seeds), "limit": limit, "params": {**PARAMS, **(params or {})}}
    return report, rows
