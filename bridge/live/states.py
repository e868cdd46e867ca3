"""What a session is doing, as reported by ``/continuo/session/state``."""

IDLE = "idle"                   # mode off: listening only for the tags
LISTENING = "listening"         # waiting for the performer (call, manual)
RESPONDING = "responding"       # playing an answer (call, manual)
ACCOMPANYING = "accompanying"   # accompany mode, running
