"""Parts and channels: which part a note someone plays is heard in, which parts Continuo
plays, and which MIDI channel each of its notes leaves on. Pure functions of a session's
parameters (``plays``, ``part``, ``channels``, ``channel``, ``role``), so a soloist and a
band member answer by one rule.

- A performer's note is drums if ``plays`` (a member's ``part``) says drums, or, on auto,
  if it came on MIDI channel 10 (``params.is_drum``). Otherwise it is in ``plays``' part,
  or with ``channels=parts`` in its channel's part (melody 1, harmony 2, bass 3), or melody.
- Continuo plays ``part``: auto is drums after drums and any pitched part otherwise, and
  both where the performer played both lately (``SIDE_NOTES`` notes of each in the last
  ``SIDE_BARS`` bars: a band's MIDI into the virtual port); in accompany mode, auto is the
  parts the performer does not play; a band's stream plays its members' parts.
- A generated note leaves on ``channel``, or with ``channels=parts`` on its part's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.live.params import PART_CHANNELS
from bridge.music.piece import Note
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, PART_SETS, PARTS, part_index, parts_named

BY_CHANNEL = {channel: part_index(name) for name, channel in PART_CHANNELS.items()}
SIDE_BARS = 4     # drums and pitched parts that both play this many bars before a
SIDE_NOTES = 4    # continuation, this many notes each or more, go on, each from its own
HEARD_AS = {"accompaniment": HARMONY, "pitched": MELODY}   # a member's part set, heard


def input_part(params: dict[str, Any], drum: bool, channel: int | None = None) -> int:
    """The part a soloist's note is heard in."""
    plays = params["plays"]
    if drum:
        return DRUMS
    if plays != "auto":
        return part_index(plays)
    if params["channels"] == "parts" and channel in BY_CHANNEL:
        return BY_CHANNEL[channel]
    return MELODY


def member_part(params: dict[str, Any], drum: bool) -> int:
    """The part a performing or listening band member's notes are heard in."""
    part = params["part"]
    if part == "auto":
        return DRUMS if drum else MELODY
    return HEARD_AS[part] if part in HEARD_AS else part_index(part)


def output_parts(params: dict[str, Any], last_drum: bool, both: bool = False
                 ) -> frozenset[int] | None:
    """The parts a soloist's continuation is in; None for any pitched part. On auto:
    every part, drums beside pitched parts, where the performer plays ``both``; in
    accompany mode, what :func:`accompanying` plays."""
    part = params["part"]
    if part == "auto":
        if params["mode"] == "accompany":
            return accompanying(params, last_drum, both)
        if both:
            return PART_SETS["pitched"] | {DRUMS}
        return frozenset((DRUMS,)) if last_drum else None
    return None if part == "pitched" else parts_named(part)


def accompanying(params: dict[str, Any], last_drum: bool, both: bool) -> frozenset[int]:
    """What accompany mode plays on auto: the parts the performer does not. Under a melody
    the harmony and bass (on auto it wrote a second melody over the performer's: of 40
    runs from a melody's first note, 0.97 of its notes in the melody part); under drums
    alone a bass (docs/musicality.md, "A bass under a drummer"); under both, the pitched
    parts the performer does not play, and no drums."""
    if last_drum and not both:
        return frozenset((BASS,))
    return PART_SETS["pitched"] - {input_part(params, drum=False)}


def playing_both(onsets: dict[bool, Sequence[float]], since: float) -> bool:
    """Do the onsets of drums and of pitched notes (beats, ``onsets[drum]``) hold
    ``SIDE_NOTES`` of each from ``since`` on (the beat ``SIDE_BARS`` bars back)? One rule
    for ``continuo continue`` (:func:`bridge.offline.continuation.sides`) and a soloist's voice."""
    return all(sum(b >= since for b in onsets.get(drum, ())) >= SIDE_NOTES
               for drum in (True, False))


def out_channel(params: dict[str, Any], note: Note) -> int:
    """The MIDI channel a generated note leaves on (1-16)."""
    if params["channels"] == "parts":
        return PART_CHANNELS[PARTS[note.part]]
    return params["channel"]


def drums_constraint(parts: frozenset[int] | None) -> bool | None:
    """The sampler's drums flag for these parts: drums only (True), pitched only (False), or
    both (None: a band of drums and bass)."""
    if parts is None or DRUMS not in parts:
        return False
    return True if parts == {DRUMS} else None
