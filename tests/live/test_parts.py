"""Parts and channels: one rule for a soloist's and a band member's notes."""

from __future__ import annotations

import pytest

from bridge.live import parts
from bridge.live.params import defaults
from bridge.music.piece import Note
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY


def params(**kw):
    return {**defaults(), **kw}


@pytest.mark.parametrize(("kw", "drum", "channel", "part"), [
    ({}, False, 1, MELODY),
    ({}, True, 10, DRUMS),
    ({"plays": "bass"}, False, 1, BASS),
    ({"channels": "parts"}, False, 2, HARMONY),
    ({"channels": "parts"}, False, 3, BASS),
    ({"channels": "parts"}, False, 7, MELODY),        # a channel of no part: the melody
    ({"plays": "bass", "channels": "parts"}, False, 2, BASS),   # plays names it first
])
def test_the_part_a_soloists_note_is_heard_in(kw, drum, channel, part):
    assert parts.input_part(params(**kw), drum, channel) == part


def test_a_members_part_and_what_continuo_plays():
    assert parts.member_part(params(part="accompaniment"), False) == HARMONY
    assert parts.member_part(params(part="auto"), True) == DRUMS
    assert parts.member_part(params(part="bass"), False) == BASS
    assert parts.output_parts(params(part="auto"), last_drum=True) == {DRUMS}
    assert parts.output_parts(params(part="auto"), last_drum=False) is None
    assert parts.output_parts(params(part="accompaniment"), False) == {HARMONY, BASS}
    both = parts.output_parts(params(part="auto"), last_drum=False, both=True)
    assert both == {MELODY, HARMONY, BASS, DRUMS}
    assert parts.output_parts(params(part="bass"), False, both=True) == {BASS}


def test_accompanying_on_auto_it_plays_the_parts_the_performer_does_not():
    """In accompany mode auto played any pitched part, and under a melody the model writes
    a melody: a second one over the performer's."""
    acc = params(mode="accompany", part="auto")
    assert parts.output_parts(acc, last_drum=False) == {HARMONY, BASS}
    assert parts.output_parts({**acc, "plays": "harmony"}, False) == {MELODY, BASS}
    assert parts.output_parts(acc, last_drum=True) == {BASS}             # under a drummer
    assert parts.output_parts(acc, last_drum=True, both=True) == {HARMONY, BASS}
    assert parts.output_parts({**acc, "part": "melody"}, False) == {MELODY}   # as asked


def test_a_soloist_plays_both_sides_where_both_were_played_lately():
    """4 notes of each in the last 4 bars (of 4 beats: at beat 32, since beat 16)."""
    keys, kit = [20.0, 21.0, 22.0, 30.0], [16.0, 18.0, 24.0, 31.0]
    assert parts.playing_both({False: keys, True: kit}, 16.0)
    assert not parts.playing_both({False: keys, True: kit}, 16.5)   # a hit too old
    assert not parts.playing_both({False: keys, True: kit[1:]}, 16.0)
    assert not parts.playing_both({False: keys}, 16.0)


def test_channels_and_the_samplers_drums_flag():
    bass = Note(pitch=40, velocity=90, start=0.0, duration=1.0, part=BASS)
    assert parts.out_channel(params(channel=5), bass) == 5
    assert parts.out_channel(params(channels="parts", channel=5), bass) == 3
    assert parts.drums_constraint(None) is False
    assert parts.drums_constraint(frozenset({DRUMS})) is True
    assert parts.drums_constraint(frozenset({DRUMS, BASS})) is None
