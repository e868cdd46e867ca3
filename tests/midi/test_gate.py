"""The input callback's gate (bridge/midi/gate.py) on real JACK ports, under a flood."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.midi.ports import open_input

pytestmark = pytest.mark.jack

FLOOD = Path(__file__).with_name("_flood.py")        # a script too, so loaded by its path
_spec = importlib.util.spec_from_file_location("_flood", FLOOD)
_flood = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_flood)
SETTLE_S, flood = _flood.SETTLE_S, _flood.flood


def counter():
    calls = []
    return calls, lambda message, when: calls.append(message)


def test_a_flowing_input_cancels_its_own_callback():
    calls, callback = counter()
    with flood("tgate_src", "Gate Flood"):
        inp = open_input("jack", virtual_name="Gate In", client_name="tgate_in",
                         connect_to="tgate_src:Gate Flood", callback=callback)
        try:
            time.sleep(SETTLE_S)
            assert calls, "the flood reaches the input"
            inp.stop_callbacks()
            heard = len(calls)
            time.sleep(SETTLE_S)
            assert inp._gate.cancelled_by == "input"
            assert len(calls) == heard                  # nothing after the gate closed
        finally:
            inp.close()


def test_a_quiet_input_is_cancelled_by_the_closer():
    calls, callback = counter()
    inp = open_input("jack", virtual_name="Quiet In", client_name="tquiet_in", callback=callback)
    try:
        inp.stop_callbacks()
        assert inp._gate.cancelled_by == "closer" and not calls
        inp.stop_callbacks()                            # a second close is a no-op
    finally:
        inp.close()


def test_the_callback_tuple_outlives_the_cancel():
    inp = open_input("jack", virtual_name="Kept In", client_name="tkept_in",
                     callback=lambda message, when: None)
    try:
        kept = inp._gate._kept
        assert kept is not None and any(ref is kept for ref in gc.get_referents(inp._rt))
        inp.stop_callbacks()
        assert not any(ref is kept for ref in gc.get_referents(inp._rt))   # rtmidi let go
        assert kept[0] == inp._gate._call                                  # ours did not
    finally:
        inp.close()


@pytest.mark.slow
def test_closing_under_a_flood_does_not_crash():
    rounds = 25
    done = subprocess.run([sys.executable, str(FLOOD), str(rounds)], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.startswith(f"closed {rounds} times")
