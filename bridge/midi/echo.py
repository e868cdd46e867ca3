"""The echo filter: the daemon ignores its own output looped back to its input.

A user may route Continuo Out back into Continuo In (directly, or through a DAW track that
monitors both). Each channel message the daemon sends is recorded with its time; an
incoming message with the same bytes within ``window_s`` after it is taken as that echo,
consumed (one echo per message sent) and dropped. JACK adds about one period per hop, so
50 ms leaves room for a few periods and a busy loop. A performer who plays the very note the
daemon just played, within the window, is filtered too; that is the price of the loop.

A note-off is filtered only once a loop has shown itself (a note-on or a controller of ours
come back: ``looped``). A performer's release is the same bytes as the daemon's, and
without a loop there is none to hide: a performer stabbing a note the daemon was sounding
let go of it within the window of the daemon's own release (a barge-in), the release was
dropped, and the session heard the key held for the rest of the take.

Memory is bounded: records older than the window expire, and at most ``capacity`` are kept.
Times are seconds in one monotonic domain (``loop.time()`` / ``time.monotonic()``).
"""

from __future__ import annotations

from collections import deque

import mido

EARLY_S = 0.005   # an echo may be stamped this much before its send (stamps taken apart)


class EchoFilter:
    def __init__(self, window_s: float = 0.05, capacity: int = 1024) -> None:
        if window_s <= 0 or capacity < 1:
            raise ValueError(f"echo window {window_s} s, capacity {capacity}")
        self.window_s = window_s
        self._sent: deque[tuple[float, bytes]] = deque(maxlen=capacity)
        self.echoes = 0           # incoming messages dropped as echoes
        self.looped = False       # has a message of ours other than a release come back?

    def __len__(self) -> int:
        return len(self._sent)

    def sent(self, message: mido.Message, when: float) -> None:
        """The daemon sent ``message`` at ``when`` (channel messages only are recorded)."""
        if message.is_meta or not hasattr(message, "channel"):
            return
        self._expire(when)
        self._sent.append((when, bytes(message.bytes())))

    def is_echo(self, message: mido.Message, when: float) -> bool:
        """True if ``message``, received at ``when``, is the echo of one we sent; the
        record is consumed."""
        if message.is_meta or not hasattr(message, "channel"):
            return False
        self._expire(when)
        release = message.type == "note_off" or (message.type == "note_on"
                                                 and message.velocity == 0)
        if release and not self.looped:
            return False
        key = bytes(message.bytes())
        for i, (sent_at, sent_key) in enumerate(self._sent):
            if sent_key == key and sent_at - EARLY_S <= when:
                del self._sent[i]
                self.echoes += 1
                self.looped = True
                return True
        return False

    def _expire(self, now: float) -> None:
        sent = self._sent
        while sent and sent[0][0] < now - self.window_s:
            sent.popleft()
