"""How long the MIDI system takes: one hop, timed through a private pair of ports.

A MIDI-clock tick reaches the daemon one hop after the host sent it, so the daemon's time
for every beat is one hop late; a note it sends reaches the instrument one hop after it
leaves. Its notes would land two hops after the grid line, so the scheduler sends them that
much early (``NoteScheduler(lead_s=...)``). A hop is what a message takes from one
program's output port to another's input, which the daemon can measure by itself: it opens
a virtual input and an output connected to it (``Continuo Probe``, its own and connected to
nothing else), sends ``probes`` messages at random moments (a JACK period quantises a hop,
so the moment within it matters), and takes the median.

Python's own times are not the port's: the daemon's startup holds the interpreter in bursts
(measured so: hops of 1.9-4.4 ms where a quiet process sees 1.5). A probe whose sending was
held up is not timed, and arrivals come from rtmidi's time between messages, taken where
they arrive (``MidiInput.last_delta``): the first probe's arrival plus the sum of the deltas
since. The first arrival is at most each probe's Python time less its delta sum, and the
least of these bounds is it, as soon as one probe was seen at once. (The deltas add up only
while nothing rtmidi is told to ignore arrives in between, SysEx or active sensing: their
time is left out of the next delta. The probe's ports are private, so none does.)

On JACK a hop is up to a period, about half of one at the median (0.7-1.7 ms at 128 frames
and 48 kHz, 2.5-3.0 at 256); on CoreMIDI a fraction of a millisecond. Where no virtual port
can be made (Windows) there is nothing to measure: ``measure`` returns None and the caller
sends on time (or as ``--midi-latency`` says).
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

PROBES = 63                  # hops measured
SPACING_S = (0.001, 0.004)   # a random pause before each, so probes leave at any phase
TIMEOUT_S = 0.25             # a probe not back by then counts as lost
PROMPT_S = 0.0002            # a probe whose sending took longer is not timed
NAME = "Continuo Probe"


def measure(api: str, probes: int = PROBES, seed: int = 0) -> float | None:
    """The median hop in seconds between two ports of ``api``, or None where no port pair
    could be made or no probe came back."""
    arrived: dict[int, tuple[float, float]] = {}    # probe -> (Python's time, delta sum)
    wake = threading.Event()
    since_first = [0.0]

    def heard(message: mido.Message, when: float) -> None:
        if message.type == "control_change":
            if arrived:
                since_first[0] += inp.last_delta
            arrived[message.value] = (when, since_first[0])
            wake.set()

    try:
        inp = open_input(api, virtual_name=NAME, client_name="continuo_probe_in",
                         callback=heard)
    except MidiUnavailable as exc:
        log.info("MIDI hop not measured: %s", exc)
        return None
    try:
        out = open_output(api, virtual_name=f"{NAME} Out", client_name="continuo_probe_out",
                          connect_to=NAME)
    except MidiUnavailable as exc:
        log.info("MIDI hop not measured: %s", exc)
        close_all(inp)
        return None
    rng = random.Random(seed)
    sent: dict[int, float] = {}
    try:
        time.sleep(0.02)                         # the connection settles (a few periods)
        for i in range(min(probes, 128)):
            probe = mido.Message("control_change", channel=15, control=0, value=i)
            time.sleep(rng.uniform(*SPACING_S))
            wake.clear()
            before = time.monotonic()
            out.send(probe)
            after = time.monotonic()
            if after - before < PROMPT_S:        # else another thread took the interpreter
                sent[i] = before
            wake.wait(TIMEOUT_S)
    finally:
        close_all(inp, out)
    back = {i: arrived[i] for i in sent if i in arrived}
    if not back:
        log.warning("MIDI hop not measured: none of %d probes came back", len(sent))
        return None
    return median(hops(sent, back))


def hops(sent: dict[int, float], back: dict[int, tuple[float, float]]) -> list[float]:
    """Each probe's hop from when it was sent and ``(when Python saw it, the port's time
    since the first probe arrived)``: the first arrival is the least of the bounds
    ``when - since`` (Python sees a message at its arrival or later)."""
    first = min(when - since for when, since in back.values())
    return [first + since - sent[i] for i, (_, since) in back.items()]
