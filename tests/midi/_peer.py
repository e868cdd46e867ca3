"""A second process on the JACK server: it answers every note it gets an octave up.

Usage: python _peer.py SOURCE DESTINATION. It connects an input to the output port named
SOURCE and an output to the input port named DESTINATION, prints ``ready``, and runs until
its stdin closes; then it prints how many notes it echoed.
"""

from __future__ import annotations

import sys

import mido

from bridge.midi.ports import open_input, open_output


def main() -> None:
    source, destination = sys.argv[1], sys.argv[2]
    out = open_output("jack", virtual_name="peer out", client_name="continuo_peer_out",
                      connect_to=destination)
    echoed = 0

    def answer(message: mido.Message, when: float) -> None:
        nonlocal echoed
        if message.type in ("note_on", "note_off"):
            out.send(message.copy(note=min(127, message.note + 12)))
            echoed += 1

    inp = open_input("jack", virtual_name="peer in", client_name="continuo_peer_in",
                     connect_to=source, callback=answer)
    print("ready", flush=True)
    sys.stdin.read()
    inp.close()
    out.close()
    print(f"echoed {echoed}", flush=True)


if __name__ == "__main__":
    main()
