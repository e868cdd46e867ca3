"""Continuing a whole file (``continuo continue``) with the daemon's generator, tokens,
sampling, quotes and choice, in the calling thread."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bridge.live.choice import choose
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.live.params import CANDIDATES, GUIDANCE
from bridge.live.parts import SIDE_BARS, playing_both
from bridge.live.quote import choosing, for_a_drummer, heard_bars, quoting, voters
from bridge.model.generator import Generator
from bridge.model.sampling import Constraints
from bridge.music import touch
from bridge.music.drums import gm_key
from bridge.music.likeness import Bars
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import MAX_SILENT_BARS, encode, to_tick
from bridge.vocab import (
    BAR,
    BASS,
    DRUMS,
    NO_PART,
    PERCUSSION_GENRES,
    TICKS_PER_BEAT,
    Cursor,
    genre_of,
    parts_named,
)

CONTEXT_TOKENS = 1024     # the continuation hears at most this much of the input
QUIET_BARS = 4            # a continuation after this many bars with no note starting goes on
#                           from a silence, and mostly keeps it (quiet_bars)


@dataclass
class ContinueOptions:
    bars: int = 4
    prompt_bars: int | None = None    # hear only the first N bars, continue from there
    style: str = ""
    guidance: float = GUIDANCE          # how strongly the style acts (0 = a hint only)
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int | None = None
    pitch_low: int = 0
    pitch_high: int = 127
    drums: bool | None = None
    part: str | None = None           # play only this part or set of parts
    #                                   (bridge.vocab.parts_named); None: any, but a
    #                                   prompt in one part keeps to it (one_part)
    candidates: int = CANDIDATES      # draws to choose among (the one most like the others)
    heard: str | None = None          # the prompt's genre as the tagger hears it (a style
    #                                   request from it is guided at that pair's strength)
    touch: bool = True                # chords spread as the prompt's player's (touch_of)


def prompt_of(piece: Piece, prompt_bars: int | None = None) -> tuple[Piece, int]:
    """What a continuation hears and the tick where it starts, on the piece's own bar grid:
    the first ``prompt_bars`` bars (notes cut at the bar line) and that bar line, or the
    whole piece and the first beat of its grid at or after its last release."""
    if prompt_bars is None:
        # after the last release, and never at the last onset (a note shorter than a tick)
        last = max(to_tick(piece.beats), to_tick(piece.notes[-1].start) + 1) \
            if piece.notes else 0
        return piece, piece.meter.next_beat(last, piece.beat_ticks(last))
    lines = piece.bar_lines(prompt_bars)
    prompt = replace(piece, notes=piece.between(lines[0], lines[-1]),
                     tempo_changes=tuple(c for c in piece.tempo_changes if c[0] < lines[-1]))
    return prompt, to_tick(lines[-1])


def quiet_bars(prompt: Piece, start_tick: int) -> int:
    """Whole bars between the prompt's last onset and ``start_tick`` in which no note
    starts: the silence a continuation goes on from (a note held over them is heard for
    the longest duration the vocabulary says, 16 beats, and then as silence too)."""
    if not prompt.notes:
        return 0
    last = to_tick(max(n.start for n in prompt.notes))
    return max(0, prompt.meter.bar_index(start_tick) - prompt.meter.bar_index(last) - 1)


def continue_piece(generator: Generator, piece: Piece, options: ContinueOptions,
                   engine: Engine | None = None) -> Piece:
    """A continuation of ``piece`` (see :func:`prompt_of` for where it starts), sampled as
    the daemon samples (see :func:`draw_continuation`), its chords spread as the prompt's
    player spreads theirs (:func:`touch_of`) unless ``options.touch`` is off; pass an
    ``engine`` to reuse one over many pieces. Its notes end by the end of its bars (a last
    note held on past them is let go there): written to a file, it is as long as asked
    for, and a clip made of it loops in its bars."""
    notes, _ = draw_continuation(generator, piece, options, engine)
    prompt, start_tick = prompt_of(piece, options.prompt_bars)
    if options.touch:
        notes = touch.play(notes, touch_of(piece, prompt, start_tick), options.seed)
    start = start_tick / TICKS_PER_BEAT
    end = prompt.meter.shift(start_tick, options.bars) / TICKS_PER_BEAT
    kit: dict[tuple[float, bool, int], Note] = {}
    for n in notes:          # drums on a GM kit's keys (two hits of one at once: the first)
        n = replace(n, pitch=gm_key(n.pitch)) if n.drum else n
        kit.setdefault((n.start, n.drum, n.pitch), n)
    notes = list(kit.values())
    notes = [n if n.end <= end else replace(n, duration=end - n.start)
             for n in notes if n.start < end]        # (a chord rolled past it: not there)
    return Piece(notes, piece.meter, tempo=piece.tempo_at(start), name="continuation")


def touch_of(piece: Piece, prompt: Piece, start_tick: int) -> touch.Touch | None:
    """How the player of ``piece``'s ``prompt`` (:func:`prompt_of`, and where the
    continuation starts) spreads their chords (:mod:`bridge.music.touch`: a performance's
    are spread, a score's are not: None)."""
    return touch.heard(prompt.notes, piece.tempo_at(start_tick / TICKS_PER_BEAT))


def sides(prompt: Piece, start_tick: int) -> list[Piece]:
    """What a continuation from ``start_tick`` goes on from: the prompt's drums and its
    pitched parts apart where both play in its last ``SIDE_BARS`` bars (``SIDE_NOTES``
    notes each or more), else the whole prompt. No source the generator learnt from has
    drums and pitched parts at once: heard together, it went on with the side that had
    more notes and dropped the other (POP909's val songs with a groove under them: 0.614 of
    continuation score, the echo 0.801), or, free to play both, played neither as it does
    alone; each side apart goes on as the model knows it (0.796; docs/musicality.md, "A
    band goes on")."""
    since = prompt.meter.shift(start_tick, -SIDE_BARS) / TICKS_PER_BEAT
    onsets = {side: [n.start for n in prompt.notes if n.drum == side] for side in (True, False)}
    if not playing_both(onsets, since):
        return [prompt]
    return [replace(prompt, notes=[n for n in prompt.notes if n.drum == side])
            for side in (True, False)]


def draw_continuation(generator: Generator, piece: Piece, options: ContinueOptions,
                      engine: Engine | None = None) -> tuple[list[Note], list[Note]]:
    """The notes a continuation of ``piece`` plays, and those its first candidate alone
    plays (one draw, no choice): with no part or side asked for, each of the prompt's
    :func:`sides` drawn and chosen apart (:func:`draw_candidates`), then played together.
    Apart, a style request acts on the side it names (a drum style on the drums, a genre
    on the music), heard from no genre (``options.heard`` is the whole prompt's)."""
    prompt, start = prompt_of(piece, options.prompt_bars)
    asked = parts_named(options.part) if options.part else None
    if asked is not None and DRUMS not in asked and any(n.drum for n in prompt.notes):
        spans, chosen = under_drums(generator, prompt, start, options, asked, engine)
        return spans[chosen], spans[0]
    whole = options.part is not None or options.drums is not None
    heard = [prompt] if whole else sides(prompt, start)
    played: list[Note] = []
    first: list[Note] = []
    for side in heard:
        mine = options
        if len(heard) > 1:
            drums = genre_of(options.style) in PERCUSSION_GENRES
            mine = replace(options, heard=None,
                           style=options.style if drums == side.notes[0].drum else "")
        spans, chosen = _draw(generator, side, start, mine, engine)
        played += spans[chosen]
        first += spans[0]
    return Piece(played).notes, Piece(first).notes


def under_drums(generator: Generator, prompt: Piece, start: int, options: ContinueOptions,
                asked: frozenset[int], engine: Engine | None = None
                ) -> tuple[list[list[Note]], int]:
    """Pitched parts asked for over a prompt with drums (a bass for a drummer), drawn as
    :func:`draw_candidates` draws them, hearing the prompt's pitched parts alone: the model
    never heard drums and pitched parts at once, and hearing a groove a bass asked for
    played its hits (val, 10 Groove takes, seeds 0-1: 4.2 notes a beat, at pitches from 30
    to 78). Where no pitched part was heard, they come in from a silence, a bass quoting the
    kick's hits (:func:`bridge.live.quote.quoted`) so that it locks to the drummer."""
    pitched = replace(prompt, notes=[n for n in prompt.notes if not n.drum])
    led = not pitched.notes and BASS in asked            # a bass for a drummer: the kick
    return _draw(generator, pitched, start, options, engine,
                 quotes_from=prompt.notes if led else None)


def draw_candidates(generator: Generator, piece: Piece, options: ContinueOptions,
                    engine: Engine | None = None) -> tuple[list[list[Note]], int]:
    """``options.candidates`` continuations of ``piece`` drawn from the same state, some of
    them quoting the prompt unless a style is asked for (:mod:`bridge.live.quote`), and
    which of them is the one most like the others (and like the prompt's bars played again,
    copying few of them; under a style, keeping to the prompt's key)
    (:func:`bridge.live.choice.choose`): candidate ``i`` of seed ``s`` is drawn with seed
    ``s * candidates + i`` (one candidate: seed ``s``, free)."""
    prompt, start = prompt_of(piece, options.prompt_bars)
    return _draw(generator, prompt, start, options, engine)


def _draw(generator: Generator, prompt: Piece, start: int, options: ContinueOptions,
          engine: Engine | None, quotes_from: list[Note] | None = None
          ) -> tuple[list[list[Note]], int]:
    """Draw and choose from ``prompt``, the draws quoting ``quotes_from`` (default: the
    prompt; under drums alone, the drums: :func:`bridge.live.quote.quoted`)."""
    if options.candidates < 1:
        raise ValueError(f"candidates must be at least 1, not {options.candidates}")
    gen, context, style, bar = plan_continuation(generator, prompt, options, start)
    k = options.candidates
    source = prompt.notes if quotes_from is None else quotes_from
    # a style request leaves the music heard behind (but not a drummer's kick)
    quotable = [] if options.style and not for_a_drummer(gen, source) else source
    how = quoting(gen, quotable)
    gens = [gen] if k == 1 else choosing(gen, k, quotable, how)
    those = voters(gen, quotable, how)
    (engine or Engine(generator, None)).run_now(gens, context, style, bar)
    spans = [[n for n in g.notes if g.plays(n)] for g in gens]
    bars = Bars.spanning(prompt.meter, start, gen.end_tick)
    heard = heard_bars(prompt.notes, prompt.meter, start)
    return spans, choose(spans, gens, bars, prompt.notes, heard, those,
                         prompt.notes if options.style else (), loop=how.copies)


def one_part(prompt: Piece) -> frozenset[int] | None:
    """The part of a prompt played in one part (a melody alone, a bass line alone), which
    its continuation keeps to when no part is asked for; None (any part) after several.
    Free to move, the model arranged a tune played alone in a tenth to a quarter of its draws,
    adding chords and a bass (docs/musicality.md, "A line played alone goes on alone")."""
    heard = {n.part for n in prompt.notes if n.part != NO_PART}
    return frozenset(heard) if len(heard) == 1 else None


def plan_continuation(generator: Generator, prompt: Piece, options: ContinueOptions,
                      start_tick: int | None = None
                      ) -> tuple[Generation, list[int], int, int]:
    """What :func:`continue_piece` runs: the generation, its context tokens, the style
    and the index of the prompt's bar the context begins on; its notes start at or after
    ``start_tick`` (default: the first beat after the prompt's last release)."""
    if start_tick is None:
        if not prompt.notes:
            raise ValueError("nothing to continue: the prompt has no notes")
        start_tick = prompt_of(prompt)[1]
    tokens = encode(prompt)
    skipped = max(0, len(tokens) - CONTEXT_TOKENS)
    context = tokens[skipped:]
    cut = next((i for i, t in enumerate(context) if t == BAR), 0)
    context = context[cut:]
    bar = tokens[:skipped + cut].count(BAR)
    # the continuation's cursor follows the whole prompt's grid
    # a prompt of no notes (parts coming in under a drummer): heard as the longest silence
    # the model knows, and then coming in (val, 10 Groove takes, a bass: 1.08 notes a beat;
    # begun at once with nothing before, 1.53, at pitches up to 86)
    first = to_tick(prompt.notes[0].start) if prompt.notes else \
        prompt.meter.shift(start_tick, -MAX_SILENT_BARS)
    cursor = Cursor(prompt.meter, origin=prompt.meter.bar_start(first))
    for t in tokens:
        cursor.advance(t)
    end_tick = prompt.meter.shift(start_tick, options.bars)
    parts = parts_named(options.part) if options.part else None
    drums = options.drums if options.drums is not None else \
        sum(n.drum for n in prompt.notes) > len(prompt.notes) / 2
    if parts is not None:
        drums = parts == {DRUMS}
    style = generator.style_index(options.style) if options.style else 0
    # from the bar line: the model itself says whether its first note comes at the start
    gen = Generation("offline", cursor.bar_tokens(start_tick), cursor, end_tick,
                     constraints=Constraints(options.pitch_low, options.pitch_high, drums=drums,
                                             parts=one_part(prompt) if parts is None else None),
                     parts=parts,
                     temperature=options.temperature, top_p=options.top_p,
                     guidance=generator.guidance(style, options.guidance, options.heard),
                     seed=options.seed, not_before=start_tick)
    gen.bring_in([parts] if parts is not None else [], tokens)
    return gen, context, style, bar
