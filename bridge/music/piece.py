"""Notes in beat time: what every reader produces and every writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.vocab import NO_PART, TICKS_PER_BEAT, Meter


@dataclass(frozen=True, slots=True)
class Note:
    start: float      # beats (quarter notes) from the start of the piece
    duration: float   # beats, > 0
    pitch: int        # 0..127; the GM percussion key when ``drum``
    velocity: int     # 1..127
    drum: bool = False
    part: int = NO_PART  # index into bridge.vocab.PARTS (bridge.music.parts gives it)

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Piece:
    """A piece of music: notes sorted by start, the bar grid, and a tempo for playback."""

    notes: list[Note]
    meter: Meter = field(default_factory=Meter)
    tempo: float = 120.0   # bpm, only used to write audio-time formats
    name: str = ""
    # as a file gave them, so that writing it back keeps them: later tempos (beat, bpm),
    # and time signatures (tick, numerator, denominator; the meter knows bar lengths only)
    tempo_changes: tuple[tuple[float, float], ...] = ()
    signatures: tuple[tuple[int, int, int], ...] = ()
    programs: tuple[tuple[int, int], ...] = ()   # (part, GM program) its busiest channel
    #                                               was set to, where the file set one

    def __post_init__(self) -> None:
        self.notes.sort(key=lambda n: (n.start, n.drum, n.pitch))

    def beat_ticks(self, tick: int) -> int:
        """How long a beat is at ``tick`` (stream ticks), by the file's time signature: a
        dotted quarter in a compound meter (6/8, 9/8, 12/8), else a quarter note."""
        now = [(n, d) for t, n, d in self.signatures if t <= tick]
        compound = bool(now) and now[-1][1] == 8 and now[-1][0] % 3 == 0 and now[-1][0] > 3
        return TICKS_PER_BEAT * 3 // 2 if compound else TICKS_PER_BEAT

    @property
    def beats(self) -> float:
        """Length in beats up to the last release."""
        return max((n.end for n in self.notes), default=0.0)

    def bar_lines(self, count: int) -> list[float]:
        """The first ``count + 1`` bar lines (beats), from the bar of the first note."""
        tick = self.meter.bar_start(round(self.notes[0].start * TICKS_PER_BEAT)) \
            if self.notes else 0
        return [t / TICKS_PER_BEAT for t in self.meter.lines(tick, count)]

    def tempo_at(self, beat: float) -> float:
        """The tempo (bpm) in force at ``beat``."""
        return next((bpm for at, bpm in reversed(self.tempo_changes) if at <= beat), self.tempo)

    def between(self, start: float, end: float) -> list[Note]:
        """The notes that start in ``[start, end)`` on the tick grid the tokens place them on
        (a note a rounding before ``start`` is on its line), each ending by ``end`` at the
        latest."""
        eps = 1e-6
        lo, hi = round(start * TICKS_PER_BEAT), round(end * TICKS_PER_BEAT)
        return [n if n.end <= end + eps else
                Note(n.start, end - n.start, n.pitch, n.velocity, n.drum, n.part)
                for n in self.notes if lo <= round(n.start * TICKS_PER_BEAT) < hi]

    def bars(self) -> int:
        """Number of bars that hold notes, counted from the first note's bar."""
        if not self.notes:
            return 0
        first = self.meter.bar_start(round(self.notes[0].start * TICKS_PER_BEAT))
        last = round(self.notes[-1].start * TICKS_PER_BEAT)
        count, bar = 0, first
        while bar <= last:
            bar += self.meter.bar_length(bar)
            count += 1
        return count
