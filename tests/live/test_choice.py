"""A response chosen among candidates (bridge.live.choice), its callbacks driven by hand as
the worker's hand-over would call them on the loop."""

import pytest

from bridge.live.choice import KEY_WEIGHT, Choice, in_key
from bridge.live.generation import Generation
from bridge.music.likeness import consensus
from bridge.music.piece import Note
from bridge.vocab import BAR, BASS, HARMONY, Cursor, Meter

TUNE = [Note(0, 1, 60, 90), Note(1, 1, 62, 90), Note(2, 1, 64, 90), Note(3, 1, 65, 90)]
NEAR = [Note(0, 1, 60, 90), Note(1, 1, 62, 90), Note(2, 1, 64, 90), Note(3, 1, 67, 90)]
ASTRAY = [Note(0.25, 0.25, 80, 90), Note(0.75, 0.25, 83, 90), Note(3.5, 2, 90, 90)]


def _choice(k: int = 3, seed: int | None = 5) -> tuple[Choice, list, list]:
    notes, ends = [], []
    cursor = Cursor(Meter(), origin=0)
    cursor.advance(BAR)
    gen = Generation("s", [BAR], cursor, 4 * 96, seed=seed, note_now=True,
                     on_note=lambda g, n: notes.append((g, n)),
                     on_done=lambda g, r: ends.append((g, r)))
    return Choice(gen, k), notes, ends


def _draw(choice: Choice, i: int, notes: list[Note], reason: str | None = "end") -> None:
    g = choice.gens[i]
    for n in notes:
        g.on_note(g, n)
    if reason is not None:
        g.on_done(g, reason)


def test_candidates_are_siblings_with_their_own_seeds_and_cursors():
    choice, _, _ = _choice(k=3, seed=5)
    assert [g.seed for g in choice.gens] == [15, 16, 17]
    assert len({id(g.cursor) for g in choice.gens}) == 3
    assert all(g.prefix == [BAR] and g.note_now and g.end_tick == 4 * 96 for g in choice.gens)
    assert all(g.seed is None for g in _choice(k=2, seed=None)[0].gens)
    assert choice.bars.lines == (0.0, 4.0, 8.0, 12.0, 16.0)      # 4 bars of 4/4
    with pytest.raises(ValueError):
        _choice(k=1)


def test_nothing_is_heard_before_release_then_the_one_most_like_the_others():
    choice, notes, ends = _choice()
    for i, drawn in enumerate((ASTRAY, NEAR, TUNE)):
        _draw(choice, i, drawn)
    assert notes == [] and ends == []
    assert choice.chosen == consensus([ASTRAY, NEAR, TUNE], choice.bars) == 1
    choice.release()
    assert [n for _, n in notes] == NEAR and ends == [(choice, "end")]
    assert all(g is choice for g, _ in notes)
    choice.release()                                  # once only
    assert len(notes) == len(NEAR)


def test_seedless_candidates_with_the_workers_state_are_told_apart():
    """The daemon's default seed (-1) gives candidates the same recipe; the worker then
    gives each a state of tensors. Each candidate's notes still go to it alone."""
    import torch

    choice, notes, _ = _choice(seed=None)
    for g in choice.gens:
        g.state = torch.zeros(2, 3)
    for i, drawn in enumerate((ASTRAY, NEAR, TUNE)):
        _draw(choice, i, drawn)
    assert choice.heard == [ASTRAY, NEAR, TUNE] and choice.chosen == 1
    choice.release()
    assert [n for _, n in notes] == NEAR


def test_released_before_every_draw_ended_it_plays_the_choice_once_made():
    choice, notes, ends = _choice()
    _draw(choice, 0, TUNE)
    choice.release()
    _draw(choice, 1, ASTRAY)
    assert notes == [] and ends == []
    _draw(choice, 2, NEAR)
    assert [n for _, n in notes] == choice.heard[choice.chosen] and ends == [(choice, "end")]


def test_failed_draws_are_left_out_and_all_failing_is_an_error():
    choice, notes, ends = _choice()
    _draw(choice, 0, ASTRAY)
    choice.gens[1].error = "RuntimeError: boom"
    _draw(choice, 1, [], reason="error")
    _draw(choice, 2, TUNE)
    choice.release()
    assert choice.chosen in (0, 2) and ends == [(choice, "end")]
    assert [n for _, n in notes] == choice.heard[choice.chosen]
    failing, _, ends = _choice(k=2)
    failing.gens[0].error = "RuntimeError: boom"
    _draw(failing, 0, [], reason="error")
    _draw(failing, 1, [], reason="error")
    assert ends == [(failing, "error")] and failing.error == "RuntimeError: boom"


def test_cancel_stops_every_candidate_and_ends_once_they_have():
    choice, notes, ends = _choice(k=2)
    choice.cancel()
    assert all(g.cancelled for g in choice.gens)
    _draw(choice, 0, [], reason="cancelled")
    _draw(choice, 1, [], reason="cancelled")
    assert notes == [] and ends == [(choice, "cancelled")]


def test_under_a_style_request_the_choice_keeps_to_the_key_heard():
    """Two draws equally like each other (a tie: the first), one in the key of what was
    heard before and one a semitone off: given the notes whose key it keeps, the in-key one."""
    in_c = [Note(4 + i, 1, p, 90) for i, p in enumerate((60, 64, 67, 72))]
    off = [Note(4 + i, 1, p + 1, 90) for i, p in enumerate((60, 64, 67, 72))]
    heard = [Note(i * 0.5, 0.5, p, 90) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72))]
    for key_of, chosen in (((), 0), (heard, 1)):
        notes, ends = [], []
        cursor = Cursor(Meter(), origin=0)
        cursor.advance(BAR)
        cursor.advance(BAR)                               # from bar 1, after what was heard
        gen = Generation("s", [BAR, BAR], cursor, 5 * 96, seed=1, note_now=True,
                         on_note=lambda g, n, notes=notes: notes.append(n),
                         on_done=lambda g, r, ends=ends: ends.append(r))
        choice = Choice(gen, 2, key_of=key_of)
        _draw(choice, 0, off)
        _draw(choice, 1, in_c)
        assert choice.chosen == chosen


def test_a_draw_leaving_out_a_part_asked_for_is_not_chosen_while_another_plays_them_all():
    """Asked for harmony and bass, two draws alike play the bass alone and one plays both:
    the one with both, though the two alike would outvote it; with none playing both, the
    choice is among them all as before; asked for any part, a draw of one part counts."""
    bass = [Note(i, 1, 40 + i, 90, part=BASS) for i in range(4)]
    chords = [Note(i, 1, p, 90, part=HARMONY) for i in range(4) for p in (60, 64)]
    alike = [Note(i, 1, 40 + i + (i == 3), 90, part=BASS) for i in range(4)]
    for parts, drawn, chosen in (
            (frozenset((HARMONY, BASS)), (bass, alike, bass[:2] + chords[:2]), 2),
            (frozenset((HARMONY, BASS)), (bass, alike, bass[:3]), 0),
            (None, (bass, alike, bass[:2] + chords[:2]), 0)):
        choice, _, _ = _choice()
        for g in choice.gens:
            g.parts = parts
        for i, notes in enumerate(drawn):
            _draw(choice, i, notes)
        assert choice.chosen == chosen, (parts, chosen)


def test_a_styled_choice_counts_each_draws_notes_in_the_key_heard():
    heard = [Note(i, 1, p, 80) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72))]
    in_c = [Note(i, 1, p, 80) for i, p in enumerate((60, 64, 67, 72))]
    half = [Note(i, 1, p, 80) for i, p in enumerate((60, 61, 67, 68))]
    assert in_key([in_c, half, []], heard) == [KEY_WEIGHT, KEY_WEIGHT / 2, 0.0]
    assert in_key([in_c], heard, weight=1.0) == [1.0]
    assert in_key([in_c, half], []) == [0.0, 0.0]                  # no key heard
