"""MIDI ports (python-rtmidi: JACK, ALSA, CoreMIDI, WinMM) and the echo filter."""
