"""Style requests, measured: does a request for another genre land in that genre?

- Requests (same part): the first ``prompts`` melody-only prompts (a piece's melody part
  alone, when its prompt holds at least ``MIN_MELODY_NOTES``) of each pitched genre both
  models know, each asked for every other pitched genre, with the melody part asked for
  too (``--part melody``), so only the style can move the genre, not a change of texture.
  A request hits when the shipped tagger's top genre of its continuation is the one asked
  for, the tagger alone: never with the generator's ear counted in (``bridge.model.ear``),
  since a continuation drawn under a style is likely under it by construction (the prompt
  is heard as the daemon hears it, ear and all). Each is drawn at every seed (one draw of
  120 requests moved from 0.60 to 0.76 between seeds).
- :func:`style_control`, the continuation benchmark's part: the hit rate at the session's
  default guidance, beside how often the same prompts' unstyled continuations (the same
  seeds) land in the requested genre anyway, and the in-key shares of both (in the
  prompt's key): a request should keep the key.
- :func:`calibrate` (``continuo eval --task styles``): the same requests at several
  guidance weights (the default ``GUIDANCE`` always among them), each genre's hits and
  in-key share at each, and its hits by the genre asked from; per genre, among the weights
  at which requests from every other genre land at least as often as at the default, the
  one that lands most (the smaller on a tie): the generator's ``style_strength``, since the
  tags of some genres move the music less than others'. A strength that lands requests
  from one genre by failing those from another is not taken (pushed harder, requests for
  folk from chorales land more and from jazz solos far less); instead, where requests
  from one genre land clearly more at another weight (``PAIR_MARGIN``), that pair gets a
  strength of its own (``FROM->TO``), which applies when the tagger hears the music as
  FROM (the daemon: the performer's last bars; ``continue``: the prompt's). Run it on the
  training split, so that the benchmark's val prompts judge the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from bridge.evaluate.continuation import (
    MELODY_PART,
    SEEDS,
    STYLE_PROMPTS,
    Case,
    continuation,
    melody_of,
)
from bridge.live.params import GUIDANCE, STYLE_WEIGHTS
from bridge.live.tagging import top_genre
from bridge.music.key import in_key_share
from bridge.music.piece import Note, Piece
from bridge.offline.tags import heard_genre, tag_piece
from bridge.progress import Progress
from bridge.vocab import PERCUSSION_GENRES, Meter, genre_of

# a request from one genre to another gets a strength of its own when some weight lands
# more than this share of them beyond what its genre's strength lands
PAIR_MARGIN = 0.05


def known_genres(generator, tagger) -> list[str]:
    """The genres both models know (the model's style table, the tagger's genres)."""
    styles = generator.config.styles
    return [g for g in tagger.config.genres if g in styles]


def kind(genre: str) -> str:
    return "drums" if genre in PERCUSSION_GENRES else "pitched"


def tagged_genre(tagger, notes: list[Note], meter: Meter) -> str | None:
    """The top genre of the tags of a whole continuation (its windows averaged), by the
    tagger alone."""
    tags = tag_piece(tagger, Piece(list(notes), meter))["tags"]
    return top_genre([(t["tag"], t["probability"]) for t in tags])


def requests(generator, tagger, all_cases: list[Case], prompts: int
             ) -> tuple[list[str], list[tuple[Case, str]]]:
    """The pitched genres both models know, and the requests: (melody prompt, genre)."""
    genres = [g for g in known_genres(generator, tagger) if kind(g) == "pitched"]
    out = []
    for genre in genres:
        mine = [c for c in all_cases if genre_of(c.style) == genre]
        mine = [m for c in mine if (m := melody_of(c)) is not None][:prompts]
        out += [(c, t) for c in mine for t in genres if t != genre]
    return genres, out


def ask(generator, tagger, asked: list[tuple[Case, str, int]], engine, guidance: float,
        label: str = "style control") -> list[dict]:
    """Each (prompt, genre, seed) drawn under its request: its hit and in-key share."""
    out, heard = [], {}
    with Progress(label, len(asked), "requests") as progress:
        for case, target, seed in asked:
            if case.name not in heard:     # as the daemon hears a performer play the prompt
                heard[case.name] = heard_genre(tagger, case.prompt, generator)
            notes = continuation(generator, case, seed, engine, target, MELODY_PART, guidance,
                                 heard[case.name])
            out.append({"from": genre_of(case.style), "to": target,
                        "hit": tagged_genre(tagger, notes, case.piece.meter) == target,
                        "in_key": in_key_share(notes, case.key)})
            progress.update()
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def style_control(generator, tagger, all_cases: list[Case], prompts: int = STYLE_PROMPTS,
                  engine=None, seeds: Sequence[int] = SEEDS) -> dict:
    """How often a request for another genre lands there, at the default guidance."""
    from bridge.live.engine import Engine

    engine = engine or Engine(generator, None)
    genres, wanted = requests(generator, tagger, all_cases, prompts)
    asked = [(case, target, seed) for seed in seeds for case, target in wanted]
    styled = ask(generator, tagger, asked, engine, GUIDANCE)
    plain: dict[tuple[str, int], list[Note]] = {}
    for case, _, seed in asked:
        if (case.name, seed) not in plain:
            plain[case.name, seed] = continuation(generator, case, seed, engine,
                                                  part=MELODY_PART)
    unstyled = [{"hit": tagged_genre(tagger, plain[c.name, s], c.piece.meter) == t,
                 "in_key": in_key_share(plain[c.name, s], c.key)} for c, t, s in asked]
    n = len(asked)
    return {"hit_rate": round(sum(r["hit"] for r in styled) / n, 4) if n else None,
            "unstyled_hit_rate": round(sum(r["hit"] for r in unstyled) / n, 4) if n else None,
            "requests": len(wanted), "seeds": list(seeds), "guidance": GUIDANCE,
            "part": MELODY_PART,
            "in_key": {"styled": _mean(r["in_key"] for r in styled),
                       "unstyled": _mean(r["in_key"] for r in unstyled)},
            "by_request": _tally(styled, lambda r: f"{r['from']}->{r['to']}"),
            "genres": genres}


def calibrate(generator, tagger, all_cases: list[Case], weights: Sequence[float] = STYLE_WEIGHTS,
              prompts: int = STYLE_PROMPTS, seeds: Sequence[int] = (0,)) -> dict:
    """Each genre's hits at each guidance weight, the generator's own strengths set
    aside, and the weight that lands it best (see the module's docstring)."""
    from bridge.live.engine import Engine

    weights = sorted({*weights, GUIDANCE})                 # the default is the reference
    config = generator.config
    generator.config = replace(config, style_strength=())   # the weights as they are
    try:
        engine = Engine(generator, None)
        genres, wanted = requests(generator, tagger, all_cases, prompts)
        asked = [(case, target, seed) for seed in seeds for case, target in wanted]
        runs = {w: ask(generator, tagger, asked, engine, w, f"styles at guidance {w:g}")
                for w in weights}
    finally:
        generator.config = config
    table = {f"{w:g}": {g: _landed([r for r in rs if r["to"] == g]) for g in genres}
             for w, rs in runs.items()}
    strength = {}
    for g in genres:
        default = table[f"{GUIDANCE:g}"][g]["by_source"]
        fair = [w for w in weights if all(landed["hits"] >= default[source]["hits"]
                                          for source, landed
                                          in table[f"{w:g}"][g]["by_source"].items())]
        best = max(fair, key=lambda w: (table[f"{w:g}"][g]["hits"], -w))
        strength[g] = round(best / GUIDANCE, 4)
        strength.update(_pairs(table, weights, g, best))
    return {"requests": len(wanted), "seeds": list(seeds), "part": MELODY_PART,
            "genres": genres, "weights": table, "strength": strength}


def _pairs(table: dict, weights: Sequence[float], genre: str, best: float
           ) -> dict[str, float]:
    """The requests for ``genre`` from each other genre that land clearly more at another
    weight than at ``best`` (by more than ``PAIR_MARGIN`` of them): ``FROM->genre`` and
    the weight that lands them most (the smaller on a tie), as a strength."""
    out = {}
    for source, at_best in table[f"{best:g}"][genre]["by_source"].items():
        def hits(w: float, source: str = source) -> int:
            return table[f"{w:g}"][genre]["by_source"][source]["hits"]
        w = max(weights, key=lambda w: (hits(w), -w))
        if hits(w) - at_best["hits"] > PAIR_MARGIN * at_best["requests"]:
            out[f"{source}->{genre}"] = round(w / GUIDANCE, 4)
    return out


def _landed(rows: list[dict]) -> dict:
    """Requests for one genre: hits, requests, in-key share, and hits by the genre asked
    from (``by_source``)."""
    return {"hits": sum(r["hit"] for r in rows), "requests": len(rows),
            "in_key": _mean(r["in_key"] for r in rows),
            "by_source": _tally(rows, lambda r: r["from"])}


def _tally(rows: list[dict], key: Callable[[dict], str]) -> dict[str, dict[str, int]]:
    """Hits and requests of ``rows`` by ``key``, in order of first appearance."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        pair = out.setdefault(key(r), {"hits": 0, "requests": 0})
        pair["hits"] += r["hit"]
        pair["requests"] += 1
    return out
