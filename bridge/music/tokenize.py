"""Notes <-> tokens: whole pieces, generated token streams, and live note-on/off streams.

All three share :class:`bridge.vocab.Cursor`, so the grammar is written once.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from bridge.music.parts import label
from bridge.music.piece import Note, Piece
from bridge.vocab import (
    DRUM_BASE,
    DRUMS,
    DUR_BASE,
    DURATION_TICKS,
    EXPECT_TIME_OR_NOTE,
    K_DRUM,
    K_DUR,
    K_PART,
    K_PITCH,
    K_VEL,
    KIND,
    MELODY,
    NO_PART,
    PITCH_BASE,
    TICKS_PER_BEAT,
    VEL_BASE,
    Cursor,
    Meter,
    bin_velocity,
    duration_bin,
    note_token,
    order_key,
    velocity_bin,
)

MAX_SILENT_BARS = 4       # live input: a longer silence is heard as this many empty bars


def to_tick(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def note_tokens(pitch: int, velocity: int, duration_ticks: float, drum: bool) -> list[int]:
    """The three tokens of one note (the cursor already at its start)."""
    return [note_token(pitch, drum), VEL_BASE + velocity_bin(velocity),
            DUR_BASE + duration_bin(duration_ticks)]


def encode(piece: Piece) -> list[int]:
    """A piece as tokens, starting with the BAR of its first note's bar (no BOS). Notes
    without a part are given one (:func:`bridge.music.parts.label`); a note struck twice at
    one instant is kept once: the first struck in the first part (by part order) that
    plays it."""
    notes: dict[tuple[int, bool, int], Note] = {}
    for n in sorted(label(piece.notes), key=lambda n: n.part):
        notes.setdefault((to_tick(n.start), n.drum, n.pitch), n)
    if not notes:
        return []
    ordered = sorted(notes.items(), key=lambda kv: (kv[0][0], order_key(
        kv[1].part, note_token(kv[1].pitch, kv[1].drum))))
    first = ordered[0][0][0]
    cursor = Cursor(piece.meter, origin=piece.meter.bar_start(first))
    tokens: list[int] = []
    for (tick, drum, pitch), note in ordered:
        tokens += cursor.time_tokens(tick)
        tokens += cursor.part_tokens(note.part)
        nt = note_tokens(pitch, note.velocity, note.duration * TICKS_PER_BEAT, drum)
        for t in nt:
            cursor.advance(t)
        tokens += nt
    return tokens


@dataclass
class Decoder:
    """Follows a token stream and yields each note when its duration token arrives."""

    cursor: Cursor
    _pending: tuple[int, int, bool, int] | None = None  # tick, pitch, drum, velocity

    @property
    def pending(self) -> tuple[int, int] | None:
        """The note it is in the middle of: its tick and note token (None between notes)."""
        if self._pending is None:
            return None
        tick, pitch, drum, _ = self._pending
        return tick, note_token(pitch, drum)

    def feed(self, token: int) -> Note | None:
        kind = KIND[token]
        tick = self.cursor.tick
        self.cursor.advance(token)
        if kind == K_PART:
            return None
        if kind in (K_PITCH, K_DRUM):
            drum = bool(kind == K_DRUM)
            self._pending = (tick, token - (DRUM_BASE if drum else PITCH_BASE), drum, 0)
        elif kind == K_VEL and self._pending:
            self._pending = (*self._pending[:3], bin_velocity(token - VEL_BASE))
        elif kind == K_DUR and self._pending:
            tick0, pitch, drum, velocity = self._pending
            self._pending = None
            return Note(start=tick0 / TICKS_PER_BEAT,
                        duration=DURATION_TICKS[token - DUR_BASE] / TICKS_PER_BEAT,
                        pitch=pitch, velocity=velocity, drum=drum, part=self.cursor.part)
        return None


def decode(tokens: Iterable[int], meter: Meter | None = None, origin: int = 0) -> list[Note]:
    """Tokens (from a first BAR landing on ``origin``) back to notes."""
    decoder = Decoder(Cursor(meter or Meter(), origin=origin))
    return [n for t in tokens if (n := decoder.feed(t)) is not None]


# -- live streams ----------------------------------------------------------------------------


def _part(part: int, drum: bool) -> int:
    return DRUMS if drum else (MELODY if part in (NO_PART, DRUMS) else part)


@dataclass
class _Held:
    tick: int
    pitch: int
    velocity: int
    drum: bool
    part: int = MELODY
    end: int | None = None   # release tick once known
    generated: bool = False  # played by the daemon (known in advance), not the performer
    known: bool = False      # known whole in advance (the daemon's, or a heard part's)
    head: bool = False       # its time, pitch and velocity tokens are out; its duration not


@dataclass
class LiveEncoder:
    """Turns a live stream of note-ons and note-offs (and known future notes) into tokens.

    Notes leave in start order (at one instant, in part order, then by note, as a piece is
    encoded), and none before the time of its start has passed: another note of the same
    instant may still come (a chord's notes arrive one by one, in any order), and go first.
    The first note in line leaves its time, pitch and velocity tokens then (its *head*),
    before it is released, so the model has heard it while it is held; its duration token
    follows at its release, and only then can the next note in line leave. A note held
    longer than ``max_hold`` ticks is let out with the duration held so far, so one
    sustained chord cannot hold back everything played over it. A silence longer than
    ``MAX_SILENT_BARS`` bars (a pause, or a song position far ahead) is heard as that many
    empty bars, so no work grows with it. Each call returns the tokens that became final;
    :meth:`snapshot` gives, without committing, the tokens of what is still held as if
    released now.
    """

    meter: Meter = field(default_factory=Meter)
    max_hold: int = 4 * TICKS_PER_BEAT
    cursor: Cursor | None = None
    _pending: list[tuple[int, int, int, _Held]] = field(default_factory=list)
    #                                          (tick, order at the instant, seq, note)
    _sounding: dict[tuple[int, bool], _Held] = field(default_factory=dict)
    _seq: int = 0

    def note_on(self, tick: int, pitch: int, velocity: int, drum: bool = False,
                part: int = MELODY) -> list[int]:
        """A performer's note starts (in ``part``, melody if it has none; a drum note is
        always ``drums``)."""
        sounding = self._sounding.get((pitch, drum))
        if sounding is not None and sounding.tick == tick:   # struck twice at once: one note
            sounding.velocity = max(sounding.velocity, velocity)
            return []
        out = self.note_off(tick, pitch, drum) if sounding is not None else []
        held = _Held(tick, pitch, velocity, drum, _part(part, drum))
        self._sounding[(pitch, drum)] = held
        self._insert(held)
        return out + self.release(tick)

    def note_off(self, tick: int, pitch: int, drum: bool = False) -> list[int]:
        held = self._sounding.pop((pitch, drum), None)
        if held is None:
            return []   # never started, or already let out by max_hold
        held.end = max(tick, held.tick + 1)
        return self.release(tick)

    def add_note(self, tick: int, duration: int, pitch: int, velocity: int,
                 drum: bool = False, part: int = MELODY, generated: bool = True) -> None:
        """A note whose release is known in advance: one the daemon itself plays, or
        (``generated`` False) one another player's part is known to play."""
        self._insert(_Held(tick, pitch, velocity, drum, _part(part, drum),
                           end=tick + max(duration, 1), generated=generated, known=True))

    def cut(self, tick: int) -> None:
        """The daemon's own notes stop at ``tick`` (barge-in): later ones are forgotten,
        sounding ones end there."""
        kept = []
        for p in self._pending:
            held = p[-1]
            if held.generated and held.tick > tick:
                continue
            if held.generated and held.end is not None and held.end > tick:
                held.end = max(tick, held.tick + 1)
            kept.append(p)
        self._pending = kept

    def release(self, now: int) -> list[int]:
        """Tokens that can be final at time ``now``: whole notes, and the head of the
        first one still held."""
        out: list[int] = []
        while self._pending:
            tick, _, _, held = self._pending[0]
            if tick > now or (tick == now and not held.head):
                break         # a note waits for its instant to pass: what else is played
                #               there may still come, and go first
            if held.end is None and now - tick >= self.max_hold:
                held.end = now
                self._sounding.pop((held.pitch, held.drum), None)
            cursor = self._ensure_cursor(tick)
            if not held.head:
                out += self._emit_head(cursor, held)
                held.head = True
            if held.end is None:
                break                  # its duration comes with its release
            self._pending.pop(0)
            out += self._emit_duration(cursor, held.end - held.tick)
        return out

    def snapshot(self, now: int, until: int | None = None) -> tuple[list[int], Cursor | None]:
        """Tokens of every note started by ``until`` (default ``now``), not committed:
        notes still held are cut at ``now``. Returns them with the cursor after them."""
        until = now if until is None else until
        cursor = self.cursor.copy() if self.cursor else None
        out: list[int] = []
        for tick, _, _, held in self._pending:
            if tick > until:
                break
            if cursor is None:
                cursor = Cursor(self.meter, origin=self.meter.bar_start(tick))
            end = held.end if held.end is not None else max(now, tick + 1)
            if not held.head:
                out += self._emit_head(cursor, held)
            out += self._emit_duration(cursor, end - held.tick)
        return out, cursor

    @property
    def sounding(self) -> int:
        return len(self._sounding)

    def _insert(self, held: _Held) -> None:
        """Into line by start, and at one instant by part and note, as an encoded piece
        orders them; never ahead of the note whose head is out (its duration is due)."""
        self._seq += 1
        entry = (held.tick, order_key(held.part, note_token(held.pitch, held.drum)),
                 self._seq, held)
        at = bisect.bisect(self._pending, entry[:3], key=lambda p: p[:3])
        if at == 0 and self._pending and self._pending[0][-1].head:
            at = 1
        self._pending.insert(at, entry)

    def _ensure_cursor(self, tick: int) -> Cursor:
        if self.cursor is None:
            self.cursor = Cursor(self.meter, origin=self.meter.bar_start(tick))
        return self.cursor

    @staticmethod
    def _emit_head(cursor: Cursor, held: _Held) -> list[int]:
        """A note's time, part, pitch and velocity tokens."""
        assert cursor.expect == EXPECT_TIME_OR_NOTE
        out = cursor.time_tokens(max(held.tick, cursor.tick), MAX_SILENT_BARS)
        out += cursor.part_tokens(held.part)
        head = note_tokens(held.pitch, held.velocity, 1, held.drum)[:2]
        for t in head:
            cursor.advance(t)
        return out + head

    @staticmethod
    def _emit_duration(cursor: Cursor, duration: int) -> list[int]:
        token = DUR_BASE + duration_bin(duration)
        cursor.advance(token)
        return [token]
