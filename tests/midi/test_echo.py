"""EchoFilter: our own messages looped back are dropped, the performer's are kept."""

from __future__ import annotations

import mido
import pytest

from bridge.midi.echo import EchoFilter

ON = mido.Message("note_on", channel=0, note=60, velocity=100)
OFF = mido.Message("note_off", channel=0, note=60, velocity=0)


def test_an_echo_within_the_window_is_consumed_once():
    echo = EchoFilter(window_s=0.05)
    echo.sent(ON, 10.0)
    assert echo.is_echo(ON, 10.006)
    assert not echo.is_echo(ON, 10.007)          # consumed: a second one is the performer
    assert echo.echoes == 1


def test_each_message_sent_absorbs_one_echo():
    echo = EchoFilter()
    echo.sent(ON, 10.0)
    echo.sent(ON, 10.001)
    assert echo.is_echo(ON, 10.01) and echo.is_echo(ON, 10.011)
    assert not echo.is_echo(ON, 10.012)


def test_outside_the_window_or_different_bytes_is_not_an_echo():
    echo = EchoFilter(window_s=0.05)
    echo.sent(ON, 10.0)
    assert not echo.is_echo(OFF, 10.01)
    assert not echo.is_echo(ON.copy(velocity=99), 10.01)
    assert not echo.is_echo(ON.copy(channel=1), 10.01)
    assert not echo.is_echo(ON, 10.2)            # too late: the performer played it
    assert len(echo) == 0                        # and the record expired


def test_an_echo_stamped_before_its_send_is_accepted_a_little():
    echo = EchoFilter()
    echo.sent(ON, 10.0)
    assert echo.is_echo(ON, 9.998)
    echo.sent(ON, 11.0)
    assert not echo.is_echo(ON, 10.9)


def test_only_channel_messages_are_filtered():
    echo = EchoFilter()
    clock = mido.Message("clock")
    echo.sent(clock, 10.0)
    assert len(echo) == 0
    assert not echo.is_echo(clock, 10.001)
    cc = mido.Message("control_change", channel=3, control=123, value=0)
    echo.sent(cc, 10.0)
    assert echo.is_echo(cc, 10.002)


def test_memory_is_bounded():
    echo = EchoFilter(window_s=10.0, capacity=8)
    for i in range(100):
        echo.sent(ON.copy(note=i), 10.0 + i * 0.001)
    assert len(echo) == 8
    assert echo.is_echo(ON.copy(note=99), 10.2)
    assert not echo.is_echo(ON.copy(note=0), 10.2)     # evicted
    echo.sent(ON, 100.0)
    assert len(echo) == 1                             # the rest expired


@pytest.mark.parametrize("window, capacity", [(0.0, 8), (-1.0, 8), (0.05, 0)])
def test_bad_settings(window, capacity):
    with pytest.raises(ValueError):
        EchoFilter(window, capacity)


def test_a_release_is_filtered_only_once_a_loop_has_shown_itself():
    """Without a loop, a performer's release of the note the daemon just let go (the same
    bytes) is the performer's (it was dropped: the key was heard held for ever); once a
    note-on of ours has come back, releases are echoes too."""
    echo = EchoFilter()
    echo.sent(OFF, 10.0)
    assert not echo.is_echo(OFF, 10.01) and not echo.looped
    echo.sent(ON, 11.0)
    assert echo.is_echo(ON, 11.005) and echo.looped
    echo.sent(OFF, 11.5)
    assert echo.is_echo(OFF, 11.505)
    assert not echo.is_echo(OFF, 11.51)               # one echo per release sent
