"""The beat clock: song beats (quarter notes) <-> monotonic seconds.

Times are in the asyncio loop's ``loop.time()`` domain (``time.monotonic()``), and every
method takes ``now`` so the clock can be driven by fake times in tests. The map is linear:
an anchor ``(beat, time)`` and a tempo. It always runs; a host that stops leaves it
free-running at the last tempo from where it stood, and a host that starts re-anchors it.

Three sources drive it:

- ``internal``: ``set_tempo`` only.
- ``transport``: ``set_transport`` messages from the host (on change and every sixteenth
  while playing). A reported position that differs from the clock by more than
  ``jitter_s`` is a real jump (loop, relocation) and is followed at once, unless it lies
  behind the clock by no more than ``stale_s``: that is as likely a message held up on its
  way (a busy Max scheduler), and it is followed only when the next message says the same
  (one 140 ms late was taken for a loop: what was planned was cancelled, and the next
  message jumped on again); smaller errors are jitter and ignored one by one, but when the
  mean of the last ``drift_window`` errors exceeds ``drift_s`` the clock is shifted by that
  mean (a steady offset or slow drift).
- ``midi``: MIDI clock, 24 ticks per beat. The tempo and each tick's time come from a window
  of the latest ticks (:class:`bridge.timing.ticks.TickWindow`: medians, a tempo step
  followed in a few ticks, ticks lost on the way counted). The tempo is adopted when it
  differs from the clock's by more than ``tempo_tolerance`` (relative), and whenever the
  drift rule below moves the clock (a tempo kept within the tolerance would drift by up to
  0.2 % of a beat every beat: a sawtooth behind or ahead of the host). Each tick's time
  follows the same jitter/drift rule as the transport, with a drift bound of its own
  (``midi_drift_s``, 1 ms: smoothed ticks are steadier than transport messages, and the
  first tick's own delay must not stay in the clock); the first tick after a start or a
  step marks the beat. Start: the next tick is beat 0; Continue: the next tick is where the
  host stopped or its Song Position Pointer; Stop: free-run. Ticks while stopped keep the
  tempo current. The window restarts after a pause of ``midi_gap_s`` or when the first
  tick after Start/Continue is off the earlier ticks' grid. Ticks that come back after
  such a pause while playing, with no Stop, Start or Song Position Pointer between (a
  cable or USB hub dropped out while the host played on), go on from where the clock has
  free-run to, to the nearest tick: counted on from the tick before the pause, the song
  position went back by the pause, and every answer after it came in off the bar line.
  Ticks gone for longer (:meth:`midi_silent`: the master switched off or crashed, no Stop)
  stop the clock as a Stop would; when ticks come back, it plays on from where it free-ran
  to. A playing host transport outranks MIDI clock.

Listeners (``add_listener``) are called with a reason (``TEMPO``, ``POSITION``, ``START``,
``STOP``) after every change that moves the beat <-> time map, so schedulers can re-time
what they hold. Bad input raises :class:`ClockError` before any state changes.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bridge.timing.ticks import TickWindow
from bridge.vocab import TICKS_PER_BEAT

log = logging.getLogger(__name__)

TEMPO_MIN, TEMPO_MAX = 20.0, 400.0
DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
NUMERATOR_MAX = 64
SPP_MAX = 16383                    # 14-bit song position pointer, in sixteenths
MAX_BEAT = 1_000_000.0             # song positions beyond ±this many beats are refused
SOURCES = ("internal", "transport", "midi")
TEMPO, POSITION, START, STOP = "tempo", "position", "start", "stop"   # listener reasons

Listener = Callable[[str], None]


class ClockError(ValueError):
    """A tempo, position, time signature or time the clock cannot use."""


@dataclass(frozen=True)
class ClockConfig:
    jitter_s: float = 0.015        # position errors up to this are jitter, beyond a jump
    stale_s: float = 0.2           # ... but a host this little behind may be a late message:
    #                                the next one decides
    drift_s: float = 0.004         # ... but a mean error beyond this is corrected
    drift_window: int = 8          # messages (sixteenths) or ticks averaged for the drift
    midi_drift_s: float = 0.001    # ... and beyond this for MIDI clock, whose smoothed ticks
    #                                are steadier than transport messages: the first tick
    #                                after start anchors the beat with that tick's own delay
    #                                (up to a JACK period, or however late Python took it),
    #                                which the transport's 4 ms would leave standing all song
    tempo_tolerance: float = 0.002  # relative MIDI-clock tempo change that is adopted
    midi_window: int = 48          # ticks the MIDI-clock estimator looks at (2 beats)
    midi_min_ticks: int = 7        # ticks needed before the first estimate
    midi_gap_s: float = 1.0        # a pause this long in the ticks restarts the estimator,
    #                                as does a first tick after start off the earlier grid
    midi_step: float = 0.04        # the last midi_step_ticks tick gaps off the clock's tempo,
    midi_step_ticks: int = 4       # all the same way, by this much (relative) and by 5 times
    #                                what jitter would make of them: the tempo changed at once


def _finite(name: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ClockError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ClockError(f"{name}: {value!r} is not finite")
    return x


def check_tempo(bpm: float) -> float:
    x = _finite("tempo", bpm)
    if not TEMPO_MIN <= x <= TEMPO_MAX:
        raise ClockError(f"tempo {x:g} bpm is outside {TEMPO_MIN:g}-{TEMPO_MAX:g}")
    return x


def check_beat(beat: float, name: str = "beat") -> float:
    """A song position in beats: finite and within ±``MAX_BEAT`` (about 139 hours at 120
    bpm), so no position can make work or memory grow."""
    x = _finite(name, beat)
    if abs(x) > MAX_BEAT:
        raise ClockError(f"{name} {x:g} is outside ±{MAX_BEAT:g} beats")
    return x


def _integer(name: str, value: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ClockError(f"{name}: {value!r} is not an integer")


def check_signature(numerator: int, denominator: int) -> tuple[int, int]:
    num, den = _integer("numerator", numerator), _integer("denominator", denominator)
    if not 1 <= num <= NUMERATOR_MAX or den not in DENOMINATORS:
        raise ClockError(f"time signature {num}/{den}: numerator must be 1-{NUMERATOR_MAX}, "
                         f"denominator one of {', '.join(map(str, DENOMINATORS))}")
    return num, den


class BeatClock:
    def __init__(self, now: float, tempo: float = 120.0, *, numerator: int = 4,
                 denominator: int = 4, config: ClockConfig | None = None) -> None:
        self.config = config or ClockConfig()
        self._tempo = check_tempo(tempo)
        self._anchor_beat, self._anchor_time = 0.0, _finite("now", now)
        self.numerator, self.denominator = check_signature(numerator, denominator)
        self.playing = False
        self.source = "internal"
        self._listeners: list[Listener] = []
        self._errors: deque[float] = deque(maxlen=self.config.drift_window)
        self._doubt = False                     # the last transport message was behind by
        #                                         more than jitter, less than stale_s
        # MIDI clock: ticks seen (for the tempo), the position the next tick stands for
        self._window = TickWindow(self.config)
        self._next_tick = 0
        self._await_first_tick = False
        self._last_tick_time = 0.0              # smoothed time of the last tick
        self._lost = False                      # stopped for want of ticks (midi_silent)

    # -- the map ---------------------------------------------------------------------------

    @property
    def tempo(self) -> float:
        return self._tempo

    @property
    def lost(self) -> bool:
        """Stopped for want of MIDI clock ticks, not by the master (:meth:`midi_silent`)."""
        return self._lost

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self._tempo

    @property
    def _tick_s(self) -> float:
        """Seconds between MIDI clock ticks at the clock's tempo."""
        return self.seconds_per_beat / TICKS_PER_BEAT

    @property
    def bar_beats(self) -> float:
        """Beats (quarter notes) in one bar of the current time signature."""
        return self.numerator * 4.0 / self.denominator

    def beat_at(self, now: float) -> float:
        return self._anchor_beat + (now - self._anchor_time) * self._tempo / 60.0

    def time_at(self, beat: float) -> float:
        return self._anchor_time + (beat - self._anchor_beat) * 60.0 / self._tempo

    def snapshot(self, now: float) -> dict[str, object]:
        """The clock's state at ``now``, for status replies and logs."""
        return {"beat": round(self.beat_at(now), 4), "tempo": round(self._tempo, 3),
                "playing": self.playing, "source": self.source,
                "signature": f"{self.numerator}/{self.denominator}"}

    # -- listeners -------------------------------------------------------------------------

    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self, reason: str) -> None:
        for callback in list(self._listeners):
            try:
                callback(reason)
            except Exception:
                log.exception("clock listener %r failed on %s", callback, reason)

    def _anchor(self, beat: float, time: float, tempo: float | None = None) -> None:
        self._anchor_beat, self._anchor_time = beat, time
        if tempo is not None:
            self._tempo = tempo

    def _retempo(self, now: float, tempo: float) -> bool:
        """Change tempo keeping the beat at ``now`` (no jump); True if it changed."""
        if abs(tempo - self._tempo) <= 1e-9 * self._tempo:
            return False
        self._anchor(self.beat_at(now), now, tempo)
        return True

    def _follow(self, beat: float, time: float, drift_s: float | None = None) -> str | None:
        """The host says ``beat`` falls at ``time``: jump, correct drift (a mean error
        beyond ``drift_s``, the transport's by default), or ignore."""
        error = time - self.time_at(beat)          # seconds; > 0: the host is behind us
        if abs(error) > self.config.jitter_s:
            self._anchor(beat, time)
            self._errors.clear()
            return POSITION
        self._errors.append(error)
        if len(self._errors) == self._errors.maxlen:
            mean = sum(self._errors) / len(self._errors)
            if abs(mean) > (self.config.drift_s if drift_s is None else drift_s):
                self._anchor_time += mean
                self._errors.clear()
                return POSITION
        return None

    def _follow_host(self, beat: float, time: float) -> str | None:
        """:meth:`_follow` a transport message, but a first one a little behind the clock
        (more than jitter, at most ``stale_s``) waits for the next to say the same."""
        behind = time - self.time_at(beat)
        if self.config.jitter_s < behind <= self.config.stale_s and not self._doubt:
            self._doubt = True
            return None
        self._doubt = False
        return self._follow(beat, time)

    # -- internal --------------------------------------------------------------------------

    def set_tempo(self, now: float, bpm: float) -> None:
        """Change the tempo at ``now``; the beat at ``now`` stays where it was."""
        now, bpm = _finite("now", now), check_tempo(bpm)
        if self._retempo(now, bpm):
            self._notify(TEMPO)

    def set_signature(self, numerator: int, denominator: int) -> None:
        self.numerator, self.denominator = check_signature(numerator, denominator)

    # -- host transport --------------------------------------------------------------------

    def set_transport(self, now: float, tempo: float, beat: float, playing: bool,
                      numerator: int = 4, denominator: int = 4) -> None:
        """A transport message: the host stands at ``beat`` at ``now``."""
        now, tempo, beat = _finite("now", now), check_tempo(tempo), check_beat(beat)
        signature = check_signature(numerator, denominator)
        if not isinstance(playing, (bool, int)) or playing not in (0, 1):
            raise ClockError(f"playing: {playing!r} is not 0 or 1")
        was_playing = self.playing and self.source == "transport"
        self.source = "transport"
        self.numerator, self.denominator = signature
        reason: str | None = None
        if playing and not was_playing:
            self._anchor(beat, now, tempo)
            self._errors.clear()
            self.playing, reason = True, START
        elif playing:
            if self._retempo(now, tempo):
                reason = TEMPO
            reason = self._follow_host(beat, now) or reason
        elif was_playing:
            self._retempo(now, tempo)               # free-run from where we stand
            self.playing, reason = False, STOP
        elif self._retempo(now, tempo):
            reason = TEMPO
        if reason:
            self._notify(reason)

    # -- MIDI clock ------------------------------------------------------------------------

    def midi_tick(self, now: float) -> None:
        """A MIDI timing clock message (0xF8) arrived at ``now``."""
        now = _finite("now", now)
        window = self._window
        if self._lost and not self.playing:     # back after midi_silent stopped it
            window.clear()
            log.info("MIDI clock back: playing on from beat %.2f", self.beat_at(now))
            self._midi_play(now, round(self.beat_at(now) * TICKS_PER_BEAT))
        if window:
            if now < window.last_time:
                raise ClockError(f"tick at {now} is earlier than the last one")
            pause = now - window.last_time
            gap = pause > self.config.midi_gap_s
            if gap or (self._await_first_tick and self._off_phase(now)):
                window.clear()                  # the master paused or restarted its ticks
            if gap and self.playing and not self._await_first_tick and self.source == "midi":
                free_run = round(self.beat_at(now) * TICKS_PER_BEAT)   # back from a drop-out
                self._next_tick = max(self._next_tick, free_run)
                log.info("MIDI clock back after %.2f s without ticks: on from beat %.2f",
                         pause, self._next_tick / TICKS_PER_BEAT)
        lost = window.add(now, None if self._await_first_tick else self._tick_s)
        if self.playing:
            self._next_tick += lost              # ticks lost on the way, counted
        if self.playing and self.source == "transport":
            return                              # a playing host transport outranks ticks
        self.source = "midi"
        reason: str | None = None
        stepped = window.stepped(self._tick_s)
        per_tick = self._seconds_per_tick()
        if per_tick is not None:
            estimate = 60.0 / (per_tick * TICKS_PER_BEAT)
            if abs(estimate - self._tempo) > self.config.tempo_tolerance * self._tempo:
                self._retempo(now, estimate)
                reason = TEMPO
        when = now if per_tick is None else window.smoothed_time(per_tick)
        self._last_tick_time = when
        if self.playing:
            beat = self._next_tick / TICKS_PER_BEAT
            self._next_tick += 1
            if self._await_first_tick or (stepped and per_tick is not None):
                self._await_first_tick = False  # the first tick after start marks the beat,
                #                                 as the ticks since a step do
                self._anchor(beat, when)
                self._errors.clear()
                reason = POSITION
            elif not window.maybe_lost:                 # (after a gap, the next tick says
                moved = self._follow(beat, when, self.config.midi_drift_s)   # where it is)
                if moved and per_tick is not None:
                    self._retempo(when, estimate)   # the drift was (mostly) the tempo's
                reason = moved or reason
        if reason:
            self._notify(reason)

    def midi_silent(self, now: float, after_s: float) -> bool:
        """Stop as a MIDI Stop would when MIDI clock plays but no tick has come for
        ``after_s`` (the master switched off or crashed: no Stop will come); ticks coming
        back play on from where the clock free-ran to. True if it stopped now."""
        now = _finite("now", now)
        if not (self.playing and self.source == "midi" and self._window
                and now - self._window.last_time > after_s):
            return False
        self.midi_stop(now, lost=True)
        return True

    def _off_phase(self, now: float) -> bool:
        """Is a tick (the first after start/continue) off the grid of the earlier ones?"""
        if len(self._window) < self.config.midi_min_ticks:
            return True
        return abs(now - self._last_tick_time - self._tick_s) > self._tick_s / 2

    def midi_start(self, now: float) -> None:
        """MIDI Start (0xFA): play from beat 0; the next tick is beat 0."""
        self._midi_play(_finite("now", now), 0)

    def midi_continue(self, now: float) -> None:
        """MIDI Continue (0xFB): play from where the host stopped or its song position."""
        self._midi_play(_finite("now", now), self._next_tick)

    def midi_stop(self, now: float, lost: bool = False) -> None:
        """MIDI Stop (0xFC): keep free-running at the last tempo from where we stand
        (``lost``: no Stop came, the ticks did not, :meth:`midi_silent`)."""
        _finite("now", now)
        self.source = "midi"
        self._lost = lost
        if self.playing:
            self.playing = False
            self._notify(STOP)

    def song_position(self, now: float, sixteenths: int) -> None:
        """MIDI Song Position Pointer (0xF2): cue ``sixteenths`` for the next Continue."""
        now = _finite("now", now)
        position = _integer("song position", sixteenths)
        if not 0 <= position <= SPP_MAX:
            raise ClockError(f"song position {position} is not 0-{SPP_MAX} sixteenths")
        self.source = "midi"
        self._next_tick = position * TICKS_PER_BEAT // 4
        if self.playing:                        # a relocation while playing
            self._anchor(self._next_tick / TICKS_PER_BEAT, now)
            self._await_first_tick = True
            self._errors.clear()
            self._notify(POSITION)

    def _midi_play(self, now: float, tick: int) -> None:
        self.source = "midi"
        self._lost, self._window.maybe_lost = False, 0
        self._next_tick = tick
        self._anchor(tick / TICKS_PER_BEAT, now)
        self._await_first_tick = True
        self._errors.clear()
        self.playing = True
        self._notify(START)

    def _seconds_per_tick(self) -> float | None:
        """The window's tempo, per tick (None: too few ticks, or absurd)."""
        per_tick = self._window.seconds_per_tick()
        if per_tick is None:
            return None
        bpm = 60.0 / (per_tick * TICKS_PER_BEAT) if per_tick > 0 else math.inf
        if not TEMPO_MIN <= bpm <= TEMPO_MAX:
            log.debug("MIDI clock at %.1f bpm is outside %g-%g; ignored",
                      bpm, TEMPO_MIN, TEMPO_MAX)
            return None
        return per_tick
