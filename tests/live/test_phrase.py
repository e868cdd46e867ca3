from bridge.live.phrase import Phrase, ceil_to_grid


def test_ceil_to_grid():
    assert ceil_to_grid(4.0, 1.0) == 4.0
    assert ceil_to_grid(4.01, 1.0) == 5.0
    assert ceil_to_grid(4.9, 0.5) == 5.0
    assert ceil_to_grid(4.0000001, 1.0) == 4.0       # float noise stays on the grid


def test_phrase_end_and_response_start():
    p = Phrase()
    p.note_on((60, False), 0.0, 1.0)
    p.note_on((64, False), 0.5, 1.0)
    assert p.end_beat(1.0) is None                  # notes sound
    p.note_off((60, False), 1.0)
    assert p.end_beat(1.0) is None
    p.note_off((64, False), 3.25)
    assert p.end_beat(1.0) == 4.25
    assert p.response_start(1.0, 1.0) == 5.0
    assert p.response_start(1.0, 0.25) == 4.25
    assert p.call_bars(4.0) == 1


def test_a_new_phrase_starts_after_silence_only():
    p = Phrase()
    p.note_on((60, False), 0.0, 1.0)
    p.note_off((60, False), 0.5)
    p.note_on((62, False), 1.0, 1.0)                # half a beat of silence: same phrase
    p.note_off((62, False), 6.0)
    assert p.start == 0.0 and p.call_bars(4.0) == 2
    p.note_on((64, False), 8.0, 1.0)                # two beats later: a new phrase
    assert p.start == 8.0
