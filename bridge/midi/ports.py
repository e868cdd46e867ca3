"""MIDI ports on python-rtmidi, with the MIDI API chosen explicitly.

rtmidi's default API on Linux is ALSA even while JACK runs, so the API is always named:
``jack``, ``alsa``, ``coremidi`` or ``winmm``, or ``auto`` to try this platform's APIs in
order (Linux: JACK if a server answers, then ALSA; macOS: CoreMIDI, then JACK; Windows:
WinMM) and raise :class:`MidiUnavailable` with one line saying what was tried and why.

A port is virtual (``Continuo In``/``Continuo Out``, which other programs connect to) unless
``connect_to`` names an existing port (case-insensitive substring; an exact name wins).
Input and output are separate rtmidi clients and need distinct client names (JACK renames
a duplicate). Windows' MIDI API cannot create virtual ports: there, a loopback driver such
as loopMIDI provides them and ``--midi-in``/``--midi-out`` name them.

The ports follow mido's template (``send`` checks, ``_send`` acts; ``panic``/``reset``).
An input hands each parsed message to ``callback(message, when)`` on rtmidi's thread,
``when`` being ``time.monotonic()`` at arrival (the asyncio loop's ``loop.time()``): the
daemon's callback passes it on with ``loop.call_soon_threadsafe``. Malformed or partial
messages are counted in ``dropped`` and logged, never raised into rtmidi's thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator

import mido
import mido.ports
import rtmidi

from bridge.midi.gate import CallbackGate

log = logging.getLogger(__name__)

API_IDS: dict[str, int] = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "winmm": rtmidi.API_WINDOWS_MM,
}
SETTLE_S = 0.1     # between closing two JACK ports: see close_all
ALSA_SEQUENCER = "/dev/snd/seq"
WINDOWS_HINT = ("Windows cannot create virtual MIDI ports: install a loopback driver such "
                "as loopMIDI and name its ports with --midi-in/--midi-out")

InputCallback = Callable[[mido.Message, float], None]


class MidiUnavailable(RuntimeError):
    """No MIDI API could open the port asked for; the message says what was tried."""


def available_apis() -> list[str]:
    """The APIs compiled into python-rtmidi, in this platform's preferred order."""
    compiled = set(rtmidi.get_compiled_api())
    return [name for name in dict.fromkeys(_platform_order() + tuple(API_IDS))
            if API_IDS[name] in compiled]


def _platform_order(platform: str | None = None) -> tuple[str, ...]:
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return ("jack", "alsa")
    if platform == "darwin":
        return ("coremidi", "jack")
    if platform in ("win32", "cygwin"):
        return ("winmm",)
    return ("jack", "alsa", "coremidi", "winmm")


# -- ports ---------------------------------------------------------------------------------

class MidiOutput(mido.ports.BaseOutput):
    """An rtmidi output: ``send(mido.Message)``, plus mido's ``panic()`` and ``reset()``."""

    def _open(self, *, rt: rtmidi.MidiOut, api: str, connected: str | None) -> None:
        self._rt, self.api, self.connected = rt, api, connected

    def _send(self, message: mido.Message) -> None:
        self._rt.send_message(message.bytes())

    def _close(self) -> None:
        _dispose(self._rt)


class MidiInput(mido.ports.BaseInput):
    """An rtmidi input. With a ``callback`` each message goes to ``callback(message, when)``
    on rtmidi's thread; without one, to mido's queue (``poll``/``receive``)."""

    def __init__(self, name: str, *, rt: rtmidi.MidiIn, api: str, connected: str | None,
                 callback: InputCallback | None = None) -> None:
        super().__init__(name, rt=rt, api=api, connected=connected)
        self.callback = callback
        self.received = 0
        self.dropped = 0
        # rtmidi's seconds since the previous message on this port, taken where it arrived
        # (before the interpreter was free to take it): that of the message being handed
        # to ``callback`` now
        self.last_delta = 0.0
        rt.ignore_types(sysex=True, timing=False, active_sense=True)   # let MIDI clock in
        self._gate = CallbackGate(rt, self._on_rtmidi)

    def _open(self, *, rt: rtmidi.MidiIn, api: str, connected: str | None) -> None:
        self._rt, self.api, self.connected = rt, api, connected

    def stop_callbacks(self) -> None:
        """No more callbacks into Python, and none left on its way (see ``gate``). Closing
        any JACK port of this process waits for the process cycle while holding the GIL, and
        a callback on its way into Python needs the GIL: call this before closing a port."""
        self._gate.close()

    def _close(self) -> None:
        self.stop_callbacks()
        _dispose(self._rt)

    def _on_rtmidi(self, event: tuple[list[int], float], _data: object = None) -> None:
        when = time.monotonic()
        data, self.last_delta = event
        try:
            message = mido.Message.from_bytes(data)
        except Exception as exc:                 # malformed or partial: count, log, drop
            self.dropped += 1
            level = logging.WARNING if _is_power_of_ten(self.dropped) else logging.DEBUG
            log.log(level, "%s: dropped malformed MIDI %r (%s; %d dropped so far)",
                    self.name, data, exc, self.dropped)
            return
        self.received += 1
        callback = self.callback
        if callback is None:
            with self._lock:
                self._messages.append(message)
            return
        try:
            callback(message, when)
        except Exception:
            log.exception("%s: input callback failed on %s", self.name, message)


def _is_power_of_ten(n: int) -> bool:
    return re.fullmatch(r"10*", str(n)) is not None


def close_all(*ports: MidiInput | MidiOutput) -> None:
    """Close ports that may feed each other: inputs stop their callbacks first (see
    ``MidiInput.stop_callbacks``), then outputs close, then inputs, JACK's ports
    ``SETTLE_S`` apart.

    Apart, because closing a port changes JACK's graph, and soon after the server asks every
    client to work out its latencies again, on the client's notification thread. JACK2's
    client library walks the client's list of ports there, while closing a port (rtmidi
    unregisters it before closing its client) removes it from that list on the closing
    thread, unlocked (jack2 issue #216): the process dies of SIGSEGV. It was seen in CI at
    the daemon's startup (the hop probe's ports closing), and again closing an input just
    after an output, 12 times in 600 loops of the daemon's startup and shutdown with both
    cores busy; none in 900 with the pause (docs/development.md)."""
    inputs = [p for p in ports if isinstance(p, MidiInput)]
    for port in inputs:
        port.stop_callbacks()
    closing = [p for p in ports if not isinstance(p, MidiInput)] + inputs
    for i, port in enumerate(closing):
        if i and closing[i - 1].api == "jack" and port.api == "jack":
            time.sleep(SETTLE_S)
        port.close()


def _dispose(rt: rtmidi.MidiIn | rtmidi.MidiOut) -> None:
    with contextlib.suppress(Exception):
        rt.close_port()
    with contextlib.suppress(Exception):
        rt.delete()


# -- opening -------------------------------------------------------------------------------

def open_input(api: str = "auto", *, virtual_name: str = "Continuo In",
               client_name: str = "continuo_in", connect_to: str | None = None,
               callback: InputCallback | None = None) -> MidiInput:
    """A virtual input port, or one connected to the existing output ``connect_to``."""
    rt, name, connected = _open(rtmidi.MidiIn, api, virtual_name, client_name, connect_to)
    return MidiInput(virtual_name, rt=rt, api=name, connected=connected, callback=callback)


def open_output(api: str = "auto", *, virtual_name: str = "Continuo Out",
                client_name: str = "continuo_out",
                connect_to: str | None = None) -> MidiOutput:
    """A virtual output port, or one connected to the existing input ``connect_to``."""
    rt, name, connected = _open(rtmidi.MidiOut, api, virtual_name, client_name, connect_to)
    return MidiOutput(virtual_name, rt=rt, api=name, connected=connected)


def _open(kind: type, api: str, virtual_name: str, client_name: str,
          connect_to: str | None) -> tuple[rtmidi.MidiIn | rtmidi.MidiOut, str, str | None]:
    if api != "auto" and api not in API_IDS:
        raise MidiUnavailable(f"unknown MIDI API {api!r} (one of auto, {', '.join(API_IDS)})")
    names = _platform_order() if api == "auto" else (api,)
    failures = []
    for name in names:
        try:
            rt = _client(kind, name, client_name)
        except MidiUnavailable as exc:
            failures.append(f"{name}: {exc}")
            continue
        try:
            connected = _open_port(rt, name, virtual_name, connect_to)
        except Exception as exc:
            _dispose(rt)
            failures.append(f"{name}: {_reason(exc)}")
            continue
        log.info("MIDI %s %r on %s%s", "input" if kind is rtmidi.MidiIn else "output",
                 virtual_name, name, f", connected to {connected!r}" if connected else "")
        return rt, name, connected
    message = "no MIDI API works: " + "; ".join(failures)
    if (sys.platform in ("win32", "cygwin") or api == "winmm") and not connect_to:
        message += f" ({WINDOWS_HINT})"
    raise MidiUnavailable(message)


def _client(kind: type, api: str, client_name: str) -> rtmidi.MidiIn | rtmidi.MidiOut:
    """An rtmidi client on ``api``, or MidiUnavailable with the short reason."""
    if API_IDS[api] not in rtmidi.get_compiled_api():
        raise MidiUnavailable("not compiled into python-rtmidi")
    if api == "alsa" and not os.path.exists(ALSA_SEQUENCER):
        raise MidiUnavailable(f"no ALSA sequencer (no {ALSA_SEQUENCER})")
    try:
        with _quiet_native_stderr():              # libjack prints its own complaints
            return kind(API_IDS[api], client_name)
    except Exception as exc:
        raise MidiUnavailable(_reason(exc)) from None


def _open_port(rt: rtmidi.MidiIn | rtmidi.MidiOut, api: str, virtual_name: str,
               connect_to: str | None) -> str | None:
    if not connect_to:
        if api == "winmm":
            raise MidiUnavailable("the Windows MIDI API has no virtual ports")
        rt.open_virtual_port(virtual_name)
        return None
    ports = rt.get_ports()
    wanted = connect_to.casefold()
    matches = [i for i, p in enumerate(ports) if p.casefold() == wanted] or \
              [i for i, p in enumerate(ports) if wanted in p.casefold()]
    if not matches:
        raise MidiUnavailable(f"no port matching {connect_to!r} (ports: "
                              f"{', '.join(ports) or 'none'})")
    if len(matches) > 1:
        log.warning("%r matches %s; using %r", connect_to,
                    ", ".join(repr(ports[i]) for i in matches), ports[matches[0]])
    rt.open_port(matches[0], virtual_name)
    return ports[matches[0]]


def _reason(exc: BaseException) -> str:
    """rtmidi's message without its ``Class::method:`` prefix."""
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"^\w+::\w+:\s*", "", text)


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence C-level stderr (file descriptor 2) for a moment; Python logging is unaffected
    unless it writes in this instant."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# -- listing -------------------------------------------------------------------------------

def list_ports(apis: list[str] | None = None) -> dict[str, dict[str, object]]:
    """``{api: {"inputs": [...], "outputs": [...]}}`` for each API that works and
    ``{api: {"error": reason}}`` for each that does not (default: every compiled API)."""
    result: dict[str, dict[str, object]] = {}
    for api in apis or available_apis():
        if api not in API_IDS:
            result[api] = {"error": f"unknown MIDI API (one of {', '.join(API_IDS)})"}
            continue
        try:
            rt_in = _client(rtmidi.MidiIn, api, "continuo_ports_in")
        except MidiUnavailable as exc:
            result[api] = {"error": str(exc)}
            continue
        try:
            rt_out = _client(rtmidi.MidiOut, api, "continuo_ports_out")
        except MidiUnavailable as exc:
            _dispose(rt_in)
            result[api] = {"error": str(exc)}
            continue
        result[api] = {"inputs": rt_in.get_ports(), "outputs": rt_out.get_ports()}
        _dispose(rt_in)
        _dispose(rt_out)
    return result
