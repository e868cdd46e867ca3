import pytest

from bridge.live.phrase import Phrase, ceil_to_grid


def test_ceil_to_grid():
    assert ceil_to_grid(4.0, 1.0) == 4.0
    assert ceil_to_grid(4.01, 1.0) == 5.0
    assert ceil_to_grid(4.9, 0.5) == 5.0
    assert ceil_to_grid(4.0000001, 1.0) == 4.0       # float noise stays on the grid


ON_GRID = {"phrase_beats": 1.0, "answer_on": "grid", "grid": 1.0, "trade_bars": 0}
ON_BAR = {**ON_GRID, "answer_on": "bar"}


def test_phrase_end_and_response_start():
    p = Phrase()
    p.note_on((60, False), 0.0, ON_GRID, 4.0)
    p.note_on((64, False), 0.5, ON_GRID, 4.0)
    assert p.end_beat(1.0) is None                  # notes sound
    p.note_off((60, False), 1.0)
    assert p.end_beat(1.0) is None
    p.note_off((64, False), 3.25)
    assert p.end_beat(1.0) == 4.25
    assert p.response_start(ON_GRID, 4.0) == 5.0
    assert p.response_start({**ON_GRID, "grid": 0.25}, 4.0) == 4.25
    assert p.call_bars(4.0) == 1


def test_the_answer_comes_in_on_the_bar_line():
    p = Phrase()
    p.note_on((60, False), 0.0, ON_BAR, 4.0)
    p.note_off((60, False), 2.5)                    # silence from beat 2.5
    assert p.response_start(ON_BAR, 4.0) == 4.0      # the phrase ends at 3.5: bar 2
    assert p.response_start(ON_BAR, 3.0) == 6.0      # in 3/4, bar 3
    assert p.response_start({**ON_BAR, "phrase_beats": 1.5}, 4.0) == 4.0   # ends on it
    assert p.response_start({**ON_BAR, "phrase_beats": 1.6}, 4.0) == 8.0   # 0.1 short
    p.note_on((62, False), 3.75, ON_BAR, 4.0)       # played on before the bar line:
    assert p.response_start(ON_BAR, 4.0) is None     # nothing is answered,
    p.note_off((62, False), 7.0)
    assert p.start == 0.0 and p.call_bars(4.0) == 2  # and the phrase went on


@pytest.mark.parametrize("params, starts", [(ON_BAR, 0.0), (ON_GRID, 6.0)])
def test_a_rest_the_answer_did_not_come_in_after_is_inside_the_phrase(params, starts):
    p = Phrase()
    p.note_on((60, False), 0.0, params, 4.0)
    p.note_off((60, False), 4.5)                    # silence: the phrase ends at 5.5
    p.note_on((62, False), 6.0, params, 4.0)        # before the bar line, after the beat's
    assert p.start == starts


def test_a_new_phrase_starts_after_silence_only():
    p = Phrase()
    p.note_on((60, False), 0.0, ON_GRID, 4.0)
    p.note_off((60, False), 0.5)
    p.note_on((62, False), 1.0, ON_GRID, 4.0)       # half a beat of silence: same phrase
    p.note_off((62, False), 6.0)
    assert p.start == 0.0 and p.call_bars(4.0) == 2
    p.note_on((64, False), 8.0, ON_GRID, 4.0)       # two beats later: a new phrase
    assert p.start == 8.0


TRADE = {**ON_BAR, "trade_bars": 4}


@pytest.mark.parametrize("first, bar", [(0.0, 0.0), (1.5, 0.0), (2.9, 0.0), (3.0, 4.0),
                                        (3.5, 4.0), (4.25, 4.0)])
def test_a_trade_begins_on_the_bar_line_of_its_first_note_or_its_pickup(first, bar):
    """A beat or less before a line is a pickup into that bar; later in a bar, the call
    began on its line."""
    p = Phrase()
    p.note_on((60, False), first, TRADE, 4.0)
    assert p.call_bar == bar
    assert p.response_start(TRADE, 4.0) == bar + 16.0    # while the note sounds, too


def test_trading_answers_on_its_line_whatever_the_performer_does_meanwhile():
    p = Phrase()
    p.note_on((60, False), 0.0, TRADE, 4.0)
    p.note_off((60, False), 1.0)
    assert p.response_start(TRADE, 4.0) == 16.0          # a long rest in bar 1 ...
    p.note_on((62, False), 6.0, TRADE, 4.0)              # ... is inside the call
    assert p.start == 0.0 and p.response_start(TRADE, 4.0) == 16.0
    p.answer(32.0)                                       # from 16 to 32, the note held
    assert p.response_start(TRADE, 4.0) is None          # the call is answered
    p.note_on((64, False), 30.5, TRADE, 4.0)             # the next note is the next call,
    assert p.start == 30.5 and p.call_bar == 32.0        # on the performer's turn
    assert p.response_start(TRADE, 4.0) == 48.0


@pytest.mark.parametrize("comes_in, bar", [(30.0, 32.0), (33.5, 32.0), (36.5, 36.0),
                                           (21.0, 20.0), (27.5, 28.0)])
def test_the_next_call_begins_on_the_performer_s_turn_when_it_comes_in_about_then(
        comes_in, bar):
    """From half a bar before the last answer's end to a bar after it, the call is the
    performer's turn; earlier (cutting the answer short) or later, its own bar line."""
    p = Phrase()
    p.note_on((60, False), 0.0, TRADE, 4.0)
    p.note_off((60, False), 1.0)
    p.answer(32.0)
    p.note_on((62, False), comes_in, TRADE, 4.0)
    assert p.call_bar == bar
    p.reset()
    assert p.call_bar is None and p.turn is None and not p.answered


def test_a_note_after_an_answer_begun_early_opens_a_new_phrase():
    """An explicit phrase end answered before the silence's bar line: the next note is the
    next call, not more of the one answered."""
    p = Phrase()
    p.note_on((60, False), 0.0, ON_BAR, 4.0)
    p.note_off((60, False), 1.0)
    p.answer(5.0)
    p.note_on((62, False), 1.5, ON_BAR, 4.0)
    assert p.start == 1.5 and not p.answered


def test_a_note_let_go_under_the_sustain_pedal_sounds_until_it_lifts():
    p = Phrase()
    p.set_pedal(True, 0.0)
    p.note_on((60, False), 0.0, ON_BAR, 4.0)
    p.note_on((36, True), 0.0, ON_BAR, 4.0)         # a drum is never held by it
    p.note_off((36, True), 0.2)
    p.note_off((60, False), 0.5)
    assert not p.silent and p.end_beat(1.0) is None  # the pedal holds the note
    p.note_on((64, False), 2.0, ON_BAR, 4.0)
    p.note_on((60, False), 2.5, ON_BAR, 4.0)         # struck again: a key holds it now
    p.note_off((64, False), 3.0)
    p.set_pedal(False, 5.5)
    assert not p.silent                              # 60 is still down
    p.note_off((60, False), 6.0)
    assert p.end_beat(1.0) == 7.0 and p.response_start(ON_BAR, 4.0) == 8.0
    p.set_pedal(True, 8.0)
    p.note_on((62, False), 8.0, ON_BAR, 4.0)
    p.note_off((62, False), 8.5)
    p.set_pedal(False, 9.75)                         # the lift is the release
    assert p.end_beat(1.0) == 10.75


def test_a_pedal_holds_the_notes_of_its_own_channel_only():
    """MIDI's rule: a comping player's pedal on channel 2 does not hold the melody's notes
    on channel 1 (it held the melody's phrase open until it lifted)."""
    p = Phrase()
    p.set_pedal(True, 0.0, channel=2)
    p.note_on((60, False), 0.0, ON_BAR, 4.0)
    p.note_on((48, False), 0.0, ON_BAR, 4.0)
    p.note_off((60, False), 1.0, channel=1)
    assert not p.silent                              # 48 is still down
    p.note_off((48, False), 1.5, channel=2)          # held by its channel's pedal
    assert not p.silent and p.end_beat(1.0) is None
    p.set_pedal(False, 3.0, channel=1)               # another channel's lift: nothing
    assert not p.silent
    p.set_pedal(False, 3.5, channel=2)
    assert p.end_beat(1.0) == 4.5
