"""Drum keys as a General MIDI kit plays them.

The Groove MIDI Dataset was played on a Roland TD-11, whose hi-hat edges and third tom rim
have keys that General MIDI's percussion map (35-81) lacks or gives to another instrument:
the closed hi-hat's edge is key 22 (8 % of every drum hit the generator learnt), the open
hi-hat's edge 26 (2.6 %), and the floor tom's rim 58 (GM's vibraslap). The generator plays
them as it learnt them; on a GM kit (a DAW's drum rack, a GM synth) 22 and 26 are silent,
so a groove lost half its closed hi-hats. What Continuo sends out plays each on the GM key
of its instrument (:func:`gm_key`); what it hears and feeds the model stays as learnt.
"""

from __future__ import annotations

GM_KEYS = range(35, 82)          # General MIDI's percussion map (Acoustic Bass Drum .. Open
#                                  Triangle)
TD11_TO_GM = {22: 42, 26: 46, 58: 43}   # closed / open hi-hat edge, floor tom rim


def gm_key(pitch: int) -> int:
    """The GM key of the drum the generator plays on ``pitch``."""
    return TD11_TO_GM.get(pitch, pitch)
