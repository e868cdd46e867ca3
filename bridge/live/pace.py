"""How long a session's choices among candidates take, and what follows from it: how long
before its line an answer is prepared, and how many candidates it is chosen among.

A choice (:mod:`bridge.live.choice`) draws its candidates whole before any is heard; the
worker steps them together, one batch, so it takes about as long as its answer has bars,
times its candidates plus :data:`STEP_ROWS` (a batched step's own cost, in rows: a step of
16 rows costs about 4 times one of 1 on our CPU). An answer due sooner than its choice can
be made is drawn once, unchosen; so :class:`Pace` draws fewer candidates where the time left
is short (of 4 or 8 is most of what 16 buy: docs/musicality.md, "Choosing among
candidates"), never fewer than :data:`MIN_WIDTH`. What it knows of the machine is what this
session's choices took, on the loop's clock (so a busy worker, or other sessions, count):
a slower one is taken at once, a quicker one eased toward, and one not made by its answer's
line as slower than the time it had. Until one is measured every choice is as wide as the
session asks (a miss costs one answer a single draw, and is learnt from).
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS = 0.15 / (16 + 4)  # a bar, a candidate (and STEP_ROWS), until one is measured, for
#                            the lead (our 2-core CPU: 16 candidates of 4 bars of a melody in
#                            about 0.4 s, of drums, denser, more)
MISSED = 1.5              # a choice not made in time took at least this many times its time
STEP_ROWS = 4             # a batched step costs as much as this many more candidates
MARGIN = 1.5              # a choice is given this many times what it should take
MIN_WIDTH = 4             # fewer candidates choose no better than one draw (of 2 on the
#                           grooves: 0.764 against one draw's 0.765)
LEAD_S = (0.1, 2.0)       # trading, an answer is prepared no sooner or later than these
#                           before its line (seconds)


@dataclass
class Pace:
    seconds: float | None = None      # a choice's time, a bar, a candidate (and STEP_ROWS)

    def cost(self, width: int, bars: int) -> float:
        """Seconds a choice among ``width`` candidates of ``bars`` bars should take."""
        return (SECONDS if self.seconds is None else self.seconds) * _units(width, bars)

    def lead(self, width: int, bars: int) -> float:
        """Trading, how long before its line an answer chosen among ``width`` is prepared:
        its choice's time, with the margin (a single draw has its first note in moments)."""
        if width < 2:
            return LEAD_S[0]
        return min(max(MARGIN * self.cost(width, bars), LEAD_S[0]), LEAD_S[1])

    def width(self, candidates: int, bars: int, left: float) -> int:
        """How many of ``candidates`` an answer of ``bars`` bars due in ``left`` seconds is
        chosen among: halved while that is too many to draw in time, down to
        :data:`MIN_WIDTH` (an answer due before its choice is made plays one draw)."""
        width = candidates
        while self.seconds is not None and width // 2 >= MIN_WIDTH \
                and MARGIN * self.cost(width, bars) > left:
            width //= 2
        return width

    def made(self, width: int, bars: int, took: float) -> None:
        """A choice among ``width`` of ``bars`` bars took ``took`` seconds."""
        seconds = took / _units(width, bars)
        if self.seconds is None or seconds > self.seconds:
            self.seconds = seconds
        else:
            self.seconds = (self.seconds + seconds) / 2

    def missed(self, width: int, bars: int, had: float) -> None:
        """A choice among ``width`` of ``bars`` bars was not made in the ``had`` seconds
        before its answer was due."""
        self.seconds = max(self.seconds or 0.0, MISSED * had / _units(width, bars))


def _units(width: int, bars: int) -> int:
    """What a choice among ``width`` candidates of ``bars`` bars costs, in :attr:`Pace.seconds`
    (a bar of a candidate, a batched step's own cost counted as :data:`STEP_ROWS` more)."""
    return bars * (width + STEP_ROWS)
