"""Band pieces for the continuation benchmark (``continuo eval --task continuation
--bands``): the data's pitched pieces with one of its drum takes laid under them.

No source has drums and pitched parts at once, while a user's file often has both (a song
with its drum track, game music). A band piece takes a pitched piece of a genre that is
played over drums (:data:`bridge.train.mix.DRUMS_FOR`) and a groove of a style that belongs
with it, whose bars are as long as the piece's first, and lays the groove's bars on the
piece's, bar for bar, over the prompt and the truth alike (what falls past a shorter bar of
the piece is left out). The groove is the one of those styles next in turn (by path), so
the same data gives the same pieces. They are reported as their own dataset,
``NAME+groove``.
"""

from __future__ import annotations

from dataclasses import replace

from bridge.evaluate.continuation import PROMPT_BARS, TRUTH_BARS, Case
from bridge.music.piece import Note, Piece
from bridge.train.mix import DRUMS_FOR
from bridge.vocab import genre_of

BAND = "+groove"          # a band piece's dataset: its music's dataset and this
BARS = PROMPT_BARS + TRUTH_BARS


def lay_under(music: Piece, groove: Piece, bars: int = BARS) -> list[Note]:
    """``groove``'s first ``bars`` bars on ``music``'s, bar for bar."""
    lines, theirs = music.bar_lines(bars), groove.bar_lines(bars)
    out = []
    for i in range(bars):
        for n in groove.notes:
            if theirs[i] <= n.start < theirs[i + 1]:
                start = lines[i] + n.start - theirs[i]
                if start < lines[i + 1]:
                    out.append(replace(n, start=start))
    return out


def band_cases(cases: list[Case]) -> list[Case]:
    """A band piece for each pitched case of a genre played over drums, with a drum case
    of a style that belongs with it and bars as long."""
    grooves = sorted((c for c in cases if c.drums and c.piece.bars() >= BARS),
                     key=lambda c: c.name)
    turn: dict[tuple[str, float], int] = {}
    out = []
    for case in cases:
        genre = genre_of(case.style)
        styles = DRUMS_FOR.get(genre, ())
        if case.drums or not styles:
            continue
        length = case.prompt_bars.lines[1] - case.prompt_bars.lines[0]
        mine = [g for g in grooves if g.style.split("/", 1)[-1] in styles
                and g.prompt_bars.lines[1] - g.prompt_bars.lines[0] == length]
        if not mine:
            continue
        at = turn.get((genre, length), 0)
        turn[(genre, length)] = at + 1
        groove = mine[at % len(mine)]
        notes = [n for n in case.piece.notes if n.start < case.bars.lines[-1]]
        piece = replace(case.piece, notes=notes + lay_under(case.piece, groove.piece))
        out.append(Case(f"{case.name}+{groove.name}", case.dataset + BAND, case.group,
                        case.style, piece))
    return out
