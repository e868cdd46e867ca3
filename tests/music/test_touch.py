"""A player's touch: chords spread as the prompt's player spreads them."""

from __future__ import annotations

import pytest

from bridge.music import touch
from bridge.music.piece import Note

TEMPO = 120.0                      # half a second a beat: 0.01 beats are 5 ms
TRIAD = (60, 64, 67)


def chords_played(delays: dict[int, float], count: int = 8, at: float = 0.0) -> list[Note]:
    """``count`` triads a beat apart, each pitch ``delays[pitch]`` beats after the beat."""
    return [Note(at + b + delays[p], 0.9, p, 80) for b in range(count) for p in TRIAD]


def test_a_score_or_too_few_chords_have_no_touch():
    assert touch.heard(chords_played(dict.fromkeys(TRIAD, 0.0)), TEMPO) is None
    melody_leads = {60: 0.03, 64: 0.02, 67: 0.0}
    assert touch.heard(chords_played(melody_leads, count=7), TEMPO) is None
    assert touch.heard(chords_played(melody_leads), TEMPO) is not None
    drums = [Note(n.start, n.duration, n.pitch, n.velocity, drum=True)
             for n in chords_played(melody_leads)]
    assert touch.heard(drums, TEMPO) is None      # a drummer's flams are not a touch


def test_a_run_of_fast_notes_is_no_chord():
    run = [Note(i * 0.125, 0.125, 60 + i % 12, 80) for i in range(64)]   # 32nds at 120
    assert touch.chords(run, 60 / TEMPO) == []
    assert touch.chords(run, 60 / 40) == []       # at 40 bpm too: 94 ms apart


def test_a_continuation_is_spread_as_the_player_spreads():
    """The melody leads by 15 ms, the bass comes last: so do the continuation's chords."""
    melody_leads = {60: 0.03, 64: 0.01, 67: 0.0}
    heard = touch.heard(chords_played(melody_leads), TEMPO)
    out = touch.play(chords_played(dict.fromkeys(TRIAD, 0.0), 4, at=32.0), heard, seed=0)
    for b in range(4):
        starts = {n.pitch: n.start - 32.0 - b for n in out if b <= n.start - 32.0 < b + 0.5}
        assert starts == pytest.approx(melody_leads)
    assert [n.duration for n in out] == [0.9] * 12             # each note moved whole


def test_the_first_note_of_a_chord_keeps_its_place_and_a_single_note_its_own():
    heard = touch.heard(chords_played({60: 0.0, 64: 0.02, 67: 0.04}), TEMPO)
    line = [Note(40.0 + i, 0.5, 72, 80) for i in range(4)]
    assert touch.play(line, heard, seed=3) == line
    out = touch.play([Note(40.0, 1.0, 48, 80), Note(40.0, 1.0, 72, 80)], heard, seed=3)
    assert sorted(n.start for n in out) == pytest.approx([40.0, 40.04])   # ranks spread


def test_chords_of_another_size_take_the_nearest_and_the_draw_is_seeded():
    played = chords_played({60: 0.0, 64: 0.02, 67: 0.04})              # triads, rolled up
    played += [Note(20 + b + 0.01 * (4 - i), 0.9, 48 + 5 * i, 80)      # fives, rolled down
               for b in range(8) for i in range(5)]
    heard = touch.heard(played, TEMPO)
    five = [Note(50.0, 1.0, p, 80) for p in (48, 55, 60, 64, 67)]
    out = sorted(touch.play(five, heard, seed=7), key=lambda n: n.pitch)
    assert [n.start for n in out] == pytest.approx([50.04, 50.03, 50.02, 50.01, 50.0])
    two = [Note(50.0, 1.0, p, 80) for p in (48, 67)]                   # a triad's ends
    assert [n.start for n in touch.play(two, heard, seed=7)] == pytest.approx([50.0, 50.04])
    six = [Note(50.0, 1.0, p, 80) for p in range(60, 72, 2)]
    assert touch.play(six, heard, seed=1) == touch.play(six, heard, seed=1)


def test_a_delayed_note_never_sounds_into_the_next_of_its_pitch():
    heard = touch.heard(chords_played({60: 0.0, 64: 0.0, 67: 0.04}), TEMPO)
    legato = [Note(10.0, 1.0, 60, 80), Note(10.0, 1.0, 64, 80), Note(10.0, 1.0, 67, 80),
              Note(11.0, 1.0, 67, 80)]
    out = touch.play(legato, heard, seed=0)
    g = sorted((n for n in out if n.pitch == 67), key=lambda n: n.start)
    assert g[0].start == pytest.approx(10.04) and g[0].end == pytest.approx(g[1].start)
    assert touch.play(legato, None, seed=0) == legato
