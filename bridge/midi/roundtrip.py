"""How long the MIDI system takes: a round trip through a private pair of ports.

A MIDI-clock tick reaches the daemon one hop after the host sent it, so the daemon's time
for every beat is one hop late; a note it sends reaches the instrument one hop after it
leaves. Its notes would land the two hops together after the grid line, so the scheduler
sends them that much early (``NoteScheduler(lead_s=...)``). The two hops are what a message
takes from one program's port to another's and back, which the daemon can measure by itself:
it opens a virtual input and an output connected to it (``Continuo Probe``, its own and
connected to nothing else), sends ``probes`` messages at random moments (a JACK period
quantises a hop, so the moment within it matters), and takes the median of the round trips.

On JACK this is about one period (2-3 ms at 128 frames and 48 kHz); on CoreMIDI a fraction
of a millisecond. Where no virtual port can be made (Windows) there is nothing to measure:
``measure`` returns None and the caller sends on time (or as ``--midi-latency`` says).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from statistics import median

import mido

from bridge.midi.ports import MidiUnavailable, close_all, open_input, open_output

log = logging.getLogger(__name__)

PROBES = 15                  # round trips measured
SPACING_S = (0.001, 0.004)   # a random pause before each, so probes leave at any phase
TIMEOUT_S = 0.25             # a probe not back by then counts as lost
NAME = "Continuo Probe"


def measure(api: str, probes: int = PROBES, seed: int = 0) -> float | None:
    """The median round trip in seconds through two ports of ``api``, or None where no port
    pair could be made or no probe came back."""
    arrived: dict[int, float] = {}
    wake = threading.Event()

    def heard(message: mido.Message, when: float) -> None:
        if message.type == "control_change":
            arrived[message.value] = when
            wake.set()

    try:
        inp = open_input(api, virtual_name=NAME, client_name="continuo_probe_in",
                         callback=heard)
    except MidiUnavailable as exc:
        log.info("MIDI round trip not measured: %s", exc)
        return None
    try:
        out = open_output(api, virtual_name=f"{NAME} Out", client_name="continuo_probe_out",
                          connect_to=NAME)
    except MidiUnavailable as exc:
        log.info("MIDI round trip not measured: %s", exc)
        close_all(inp)
        return None
    rng = random.Random(seed)
    trips: list[float] = []
    try:
        time.sleep(0.02)                         # the connection settles (a few periods)
        for i in range(probes):
            time.sleep(rng.uniform(*SPACING_S))
            wake.clear()
            sent = time.monotonic()
            out.send(mido.Message("control_change", channel=15, control=0, value=i % 128))
            if wake.wait(TIMEOUT_S) and i % 128 in arrived:
                trips.append(arrived.pop(i % 128) - sent)
    finally:
        close_all(inp, out)
    if not trips:
        log.warning("MIDI round trip not measured: none of %d probes came back", probes)
        return None
    return median(trips)
