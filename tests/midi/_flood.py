"""MIDI clock in bursts on a JACK port, and (run as a script) closes under that flood.

``flood(client, port)`` sends bursts of clock ticks from a thread until the ``with`` block
ends: many messages per JACK cycle, so rtmidi's input thread is mid-delivery most of the
time. As a script (``python _flood.py N``) it opens and closes an input N times under the
flood, holding the GIL just before each close the way a busy daemon does, and exits 0 if
it lives: the crash it guards against (see bridge/midi/gate.py) kills the process.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import mido

from bridge.midi.ports import open_input, open_output

BURST = 20            # ticks per burst
GAP_S = 0.002         # between bursts
SETTLE_S = 0.05       # a few JACK periods after connecting


@contextlib.contextmanager
def flood(client: str, port: str) -> Iterator[None]:
    out = open_output("jack", virtual_name=port, client_name=client)
    tick = mido.Message("clock")
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            for _ in range(BURST):
                out.send(tick)
            stop.wait(GAP_S)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        out.close()


def main(rounds: int) -> None:
    heard = 0

    def count(message, when) -> None:
        nonlocal heard
        heard += 1

    with flood("tflood_src", "Flood"):
        for i in range(rounds):
            inp = open_input("jack", virtual_name=f"Flooded {i}", client_name=f"tflood_in{i}",
                             callback=count)
            subprocess.run(["jack_connect", "tflood_src:Flood", f"tflood_in{i}:Flooded {i}"],
                           check=True, timeout=10, capture_output=True)
            time.sleep(SETTLE_S)
            sum(range(400_000))               # hold the GIL a few ms, as a busy loop does
            inp.close()
    print(f"closed {rounds} times, heard {heard}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
