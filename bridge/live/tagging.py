"""Style tags of what the performer plays, once a bar when they change.

The tagger reads the performer's own notes (never the daemon's answers) over the last
``TAG_BARS`` bars, a little after each bar line (responses are prepared just before grid
positions, and the worker tags only when idle). A bar with no new input is not tagged again.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from bridge.live.events import TagsChanged
from bridge.vocab import BAR

if TYPE_CHECKING:
    from bridge.live.host import Host

TAG_BARS = 4
TOP_TAGS = 3              # the best tags a session's status reports
CHANGE = 0.05             # a probability moving by more than this is a change worth sending
OFFSET = 0.25             # beats after the bar line: away from responses starting on it


class StyleWatch:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.tokens: deque[int] = deque(maxlen=4096)
        self.tags: list[tuple[str, float]] = []
        self._fresh = False

    def status(self) -> list[tuple[str, str]]:
        """The best tags, for the session's status: ``tag<i>``, "TAG PROBABILITY"."""
        return [(f"tag{i}", f"{t} {p:.2f}") for i, (t, p) in enumerate(self.tags[:TOP_TAGS])]

    def heard(self, tokens: list[int]) -> None:
        if tokens:
            self.tokens.extend(tokens)
            self._fresh = True

    def start(self) -> None:
        self._arm(self.host.time.now_beat())

    def _arm(self, beat: float) -> None:
        s = self.host
        s.time.arm("tags", s.time.bar_after(beat) + OFFSET, self._bar)

    def _bar(self, beat: float) -> None:
        self._arm(beat)
        if not self._fresh:
            return
        self._fresh = False
        tokens = list(self.tokens)
        bars = [i for i, t in enumerate(tokens) if t == BAR]
        window = tokens[bars[-TAG_BARS]:] if len(bars) >= TAG_BARS else tokens
        self.host.tag(window, self._result)

    def _result(self, _sid: str, tags: list[tuple[str, float]]) -> None:
        s = self.host
        if s.closed:
            return
        changed = [t for t, _ in tags] != [t for t, _ in self.tags] or any(
            abs(p - q) > CHANGE for (_, p), (_, q) in zip(tags, self.tags, strict=False))
        self.tags = tags
        if changed:
            s.notify(TagsChanged(s.sid, tuple(tags)))
