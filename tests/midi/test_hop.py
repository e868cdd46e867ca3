"""The MIDI system's hop, measured through a private pair of real JACK ports."""

from __future__ import annotations

import pytest

from bridge.midi import hop
from bridge.midi.ports import MidiUnavailable, list_ports


@pytest.mark.jack
def test_a_round_trip_through_jack_is_measured_and_its_ports_are_gone_after():
    one = hop.measure("jack", probes=7)
    assert one is not None and 0 < one < 0.05                 # about a period (5.3 ms)
    ports = list_ports(["jack"])["jack"]
    assert "inputs" in ports, ports
    assert not [n for n in ports["inputs"] + ports["outputs"] if hop.NAME in n]


def test_without_ports_there_is_nothing_to_measure(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise MidiUnavailable("winmm: cannot create virtual ports")

    monkeypatch.setattr(hop, "open_input", refuse)
    assert hop.measure("winmm") is None


def test_trips_come_from_the_ports_times_however_late_python_saw_the_probes():
    sent = {0: 10.000, 1: 10.010, 2: 10.020, 3: 10.030}
    true_trip = [0.0012, 0.0020, 0.0005, 0.0015]
    arrival = {i: sent[i] + true_trip[i] for i in sent}
    seen_late = {0: 0.004, 1: 0.0, 2: 0.003, 3: 0.010}      # the interpreter was busy
    back = {i: (arrival[i] + seen_late[i], arrival[i] - arrival[0]) for i in sent}
    assert hop.hops(sent, back) == pytest.approx(true_trip)
