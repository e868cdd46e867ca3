"""Tagging a whole file (``continuo tag``) with the daemon's tagger, and the genre the
daemon would hear in it, in the calling thread."""

from __future__ import annotations

from dataclasses import replace

import torch

from bridge.live.tagging import last_bars, top_genre
from bridge.model import ear
from bridge.model.generator import Generator
from bridge.model.tagger import Tagger
from bridge.music.piece import Piece
from bridge.music.tokenize import encode
from bridge.vocab import BAR, PERCUSSION_GENRES

BAND_SHARE = 0.1          # a piece whose drums and pitched parts each hold this share of its
#                           notes is tagged side by side (tag_piece)
TAG_WINDOWS = 32          # a longer piece is tagged from this many of its windows, spread
#                           evenly (the generator's ear scores each under every genre)


def bar_windows(tokens: list[int], bars: int) -> list[list[int]]:
    """Consecutive windows of ``bars`` bars (the last one may be shorter)."""
    starts = [i for i, t in enumerate(tokens) if t == BAR]
    return [tokens[starts[i]:starts[i + bars] if i + bars < len(starts) else len(tokens)]
            for i in range(0, len(starts), bars)]


def spread(windows: list[list[int]], most: int) -> list[list[int]]:
    """At most ``most`` of ``windows``, spread evenly from the first to the last."""
    if len(windows) <= most or most < 2:
        return windows[:most]
    return [windows[round(i * (len(windows) - 1) / (most - 1))] for i in range(most)]


def tag_piece(tagger: Tagger, piece: Piece, bars: int = 4, top: int = 3,
              generator: Generator | None = None) -> dict:
    """Style tags of a whole piece: the tagger's probabilities averaged over its windows
    (``TAG_WINDOWS`` of a long piece, spread evenly over it),
    each window's genres with what ``generator`` hears in it counted in
    (:mod:`bridge.model.ear`; None: the tagger alone). A band's drums and pitched parts
    (each ``BAND_SHARE`` of its notes or more) are tagged apart, as the tagger learnt them
    (no source has both: a song with a groove under it was tagged drums): its tags are its
    pitched parts', and ``drums`` holds its drums' (the drums genre and its styles)."""
    drums = [n for n in piece.notes if n.drum]
    kit = [g for g in tagger.config.genres if g in PERCUSSION_GENRES]
    if not kit or not BAND_SHARE <= len(drums) / max(len(piece.notes), 1) <= 1 - BAND_SHARE:
        return _tags(tagger, generator, piece, bars, top)
    pitched = replace(piece, notes=[n for n in piece.notes if not n.drum])
    return {**_tags(tagger, generator, pitched, bars, top),
            "drums": _tags(tagger, generator, replace(piece, notes=drums), bars, top,
                           kit)["tags"]}


@torch.inference_mode()
def _tags(tagger: Tagger, generator: Generator | None, piece: Piece, bars: int, top: int,
          genres: list[str] | None = None) -> dict:
    """The ``top`` genres (of ``genres``, default any) and the top genre's ``top`` styles."""
    windows = spread(bar_windows(encode(piece), bars), TAG_WINDOWS)
    if not windows:
        return {"tags": [], "windows": 0}
    heard = ear.hear(generator, tagger, windows)
    genre_p = torch.zeros(len(tagger.config.genres))
    sub_p = torch.zeros(len(tagger.config.substyles))
    prior = tagger.substyle_prior()
    for i, w in enumerate(windows):
        g, s = tagger(torch.tensor(w)[None])
        genre_p += tagger.heard(g[0], None if heard is None else heard[i]).softmax(0)
        sub_p += (s[0] + prior).softmax(0)
    genre_p /= len(windows)
    sub_p /= len(windows)
    order = [i for i in genre_p.argsort(descending=True).tolist()
             if genres is None or tagger.config.genres[i] in genres]
    tags = [(tagger.config.genres[i], float(genre_p[i])) for i in order[:top]]
    idx = tagger.substyles_of(tagger.config.genres[order[0]])
    if idx:
        within = sub_p[idx] / sub_p[idx].sum() * genre_p[order[0]]
        for j in within.argsort(descending=True).tolist()[:top]:
            tags.append((tagger.config.substyles[idx[j]], float(within[j])))
    tags.sort(key=lambda t: -t[1])
    return {"tags": [{"tag": t, "probability": round(p, 4)} for t, p in tags],
            "windows": len(windows)}


@torch.inference_mode()
def heard_genre(tagger: Tagger, piece: Piece, generator: Generator | None = None) -> str | None:
    """The genre of ``piece`` as the daemon hears a performer: the top genre of its last
    bars' tags (:mod:`bridge.live.tagging`), with what ``generator`` hears counted in."""
    tokens = last_bars(encode(piece))
    if not tokens:
        return None
    heard = ear.hear(generator, tagger, [tokens])
    return top_genre(tagger.tags(torch.tensor(tokens),
                                 evidence=None if heard is None else heard[0]))
