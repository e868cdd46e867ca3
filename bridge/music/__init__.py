"""Notes and pieces in beat time, MIDI files, and the token encoding of both."""
