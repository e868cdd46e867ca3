"""Style tags of what the performer plays, once a bar when they change.

The tagger reads the performer's own notes (never the daemon's answers) over the last
``TAG_BARS`` bars, with what the generator hears in them counted in
(:mod:`bridge.model.ear`), a little after each bar line (responses are prepared just before grid
positions, and the worker tags only when idle). A bar with no new input is not tagged again.
A performer who plays drums beside pitched notes (a band's clip) is tagged by the pitched
notes alone: the tagger learnt no source with both, and called such a song drums.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from bridge.live.events import TagsChanged
from bridge.music.tokenize import LiveEncoder
from bridge.vocab import BAR

if TYPE_CHECKING:
    from bridge.live.host import Host, Tags

TAG_BARS = 4
TOP_TAGS = 3              # the best tags a session's status reports
CHANGE = 0.05             # a probability moving by more than this is a change worth sending
OFFSET = 0.25             # beats after the bar line: away from responses starting on it


def last_bars(tokens: list[int], bars: int = TAG_BARS) -> list[int]:
    """The tokens from the ``bars``-th last bar line on (all of them if there are fewer):
    the window a tag reads."""
    lines = [i for i, t in enumerate(tokens) if t == BAR]
    return tokens[lines[-bars]:] if len(lines) >= bars else tokens


def top_genre(tags: Tags) -> str | None:
    """The genre that ``tags`` (best first) give first, if any."""
    return next((tag for tag, _ in tags if "/" not in tag), None)


class StyleWatch:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.encoders = (LiveEncoder(host.time.meter), LiveEncoder(host.time.meter))
        #                                 the performer's notes: all of them, pitched alone
        self.tokens: tuple[deque[int], deque[int]] = (deque(maxlen=4096), deque(maxlen=4096))
        self.tags: list[tuple[str, float]] = []
        self._fresh = False

    def status(self) -> list[tuple[str, str]]:
        """The best tags, for the session's status: ``tag<i>``, "TAG PROBABILITY"."""
        return [(f"tag{i}", f"{t} {p:.2f}") for i, (t, p) in enumerate(self.tags[:TOP_TAGS])]

    @property
    def genre(self) -> str | None:
        """The genre the performer was last heard playing (None before the first tag): a
        style request from it is guided at that pair's strength
        (:meth:`bridge.model.generator.Generator.guidance`)."""
        return top_genre(self.tags)

    def note_on(self, tick: int, pitch: int, velocity: int, drum: bool, part: int) -> None:
        for i, encoder in enumerate(self.encoders):
            if not (i and drum):
                self._heard(i, encoder.note_on(tick, pitch, velocity, drum, part))

    def note_off(self, tick: int, pitch: int, drum: bool) -> None:
        for i, encoder in enumerate(self.encoders):
            if not (i and drum):
                self._heard(i, encoder.note_off(tick, pitch, drum))

    def _heard(self, i: int, tokens: list[int]) -> None:
        if tokens:
            self.tokens[i].extend(tokens)
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
        heard = self.tokens[1] if self.host.plays_both() else self.tokens[0]
        self.host.tag(last_bars(list(heard)), self._result)

    def _result(self, _sid: str, tags: list[tuple[str, float]]) -> None:
        s = self.host
        if s.closed:
            return
        changed = [t for t, _ in tags] != [t for t, _ in self.tags] or any(
            abs(p - q) > CHANGE for (_, p), (_, q) in zip(tags, self.tags, strict=False))
        genre, self.tags = self.genre, tags
        if changed:
            s.notify(TagsChanged(s.sid, tuple(tags)))
        if self.genre != genre:
            s.heard_moved()
