"""The daemon: start up, serve, shut down.

    startup   load the models once, pick the device, start the inference worker, warm it
              up, bind OSC, open the MIDI ports, freeze what startup made out of the
              garbage collector's way; then one "ready" line
    serve     the asyncio loop does all I/O; signals only set a flag
    shutdown  release every sounding note (note-offs, then CC 123), close ports and
              sockets, stop the worker; bounded by ``shutdown_timeout``; exit 0

SIGINT, SIGTERM and SIGHUP (the terminal closed, the ssh link lost) shut down alike. A signal
during startup ends it after the step in progress (a model load, the warm-up) and shuts down
what was started; a second SIGINT forces the exit at once (the MIDI output still gets its
all-notes-off, given a moment to leave: a JACK client sends on its next period). A failed
startup raises :class:`StartupError` with one line that says what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import faulthandler
import gc
import logging
import os
import signal
import time
from typing import Any

from bridge import heap
from bridge.config import Config
from bridge.live.api import bind_api
from bridge.live.device import DeviceError, choose_device, load_models
from bridge.live.engine import Engine
from bridge.live.generation import Generation
from bridge.live.hub import Hub
from bridge.live.params import ParamError
from bridge.osc.router import Router
from bridge.osc.transport import OscPortError, OscServer
from bridge.timing.resolution import fine_timers
from bridge.vocab import BAR, Cursor, Meter

log = logging.getLogger(__name__)

HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP",
                                                           "SIGBREAK")
                        if hasattr(signal, name))     # SIGBREAK: Ctrl-Break on Windows
FORCED_FLUSH_S = 0.1     # a forced exit waits this long for the all-notes-off to leave


class StartupError(RuntimeError):
    """The daemon cannot start; the message is the one line a user sees."""


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.should_exit = asyncio.Event()
        self.force_exit = False
        self.engine: Engine | None = None
        self.hub: Hub | None = None
        self.osc: OscServer | None = None
        self.midi = None
        self.ready_s = 0.0
        self._previous: dict[int, Any] = {}     # signal handlers replaced (Windows)

    # -- startup ---------------------------------------------------------------------------

    async def startup(self) -> None:
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        cfg = self.config
        try:
            models = load_models(cfg.model, cfg.threads)
            device = choose_device(models, cfg.device)
        except DeviceError as exc:
            raise StartupError(str(exc)) from None
        generator = models.generator
        self.model_name = models.name
        self.engine = Engine(generator, models.tagger, device, loop)
        self.engine.start()
        warm = await self._warm_up()
        router = Router(lambda sender, session: self.hub.reply_address(sender, session))
        self.osc = OscServer(router)
        try:
            self.hub = Hub(cfg, self.engine, generator.config.styles, self.model_name, loop,
                           self.osc.sender.send)
        except ParamError as exc:
            raise StartupError(str(exc)) from None
        bind_api(router, self.hub)
        try:
            await self.osc.start(cfg.osc_host, cfg.osc_port)
        except OscPortError as exc:
            hint = " (another continuo running? try --osc-port)" \
                if exc.errno == errno.EADDRINUSE else \
                " (--osc-host is an address of this machine: 127.0.0.1, 0.0.0.0 for all)"
            raise StartupError(f"{exc}{hint}") from None
        ports = "no MIDI (--no-midi)"
        if cfg.midi:
            ports = self._open_midi(loop)
        # what startup made (torch, numba, the model: ~250k objects) lives as long as the
        # daemon; frozen, a full garbage collection does not scan it (~0.1 s, the GIL held)
        gc.collect()
        gc.freeze()
        self.ready_s = time.perf_counter() - t0
        log.info("ready: model %s (%s params, %s tags) on %s, warm-up %.0f ms; OSC %s:%d -> "
                 "replies %d; MIDI %s; startup %.2f s", self.model_name,
                 f"{generator.num_params():,}", "with" if models.tagger else "no", device,
                 warm * 1e3, cfg.osc_host, self.osc.address[1], cfg.reply_port, ports,
                 self.ready_s)

    def _open_midi(self, loop: asyncio.AbstractEventLoop) -> str:
        from bridge.live.midi_session import MidiSession
        from bridge.midi.ports import MidiUnavailable

        try:
            self.midi = MidiSession(self.hub, self.config, loop)
        except MidiUnavailable as exc:
            if self.config.midi_api != "auto":
                raise StartupError(f"{exc} (run with --no-midi for OSC only)") from None
            log.warning("%s; serving OSC only (name --midi-api to require MIDI)", exc)
            return "none available"
        except ParamError as exc:
            raise StartupError(str(exc)) from None
        except OSError as exc:
            raise StartupError(f"MIDI ports could not be opened: {exc}") from None
        return self.midi.ports

    async def _warm_up(self) -> float:
        """One short generation through the worker, so the first real one is warm."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        t0 = time.perf_counter()
        cursor = Cursor(Meter())
        prefix = cursor.time_tokens(0)
        gen = Generation("_warmup", prefix, cursor, end_tick=96, seed=0, max_tokens=64,
                         on_done=lambda g, reason: done.done() or done.set_result(reason))
        self.engine.open("_warmup", 0)
        self.engine.generate(gen)
        self.engine.tag("_warmup", [BAR], lambda *_: None)
        await asyncio.wait_for(done, timeout=60)
        self.engine.close("_warmup")
        for values in self.engine.latency.values():   # the warm-up was nobody's request
            values.clear()
        return time.perf_counter() - t0

    # -- serving ---------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """Signals only set the exit flag. Where the loop takes no signal handlers
        (Windows), plain handlers pass them to the loop, and ``restore_signal_handlers``
        puts the previous ones back."""
        loop = asyncio.get_running_loop()
        try:
            for sig in HANDLED_SIGNALS:
                loop.add_signal_handler(sig, self.handle_exit, sig)
        except NotImplementedError:
            for sig in HANDLED_SIGNALS:
                self._previous[sig] = signal.signal(
                    sig, lambda s, _frame: loop.call_soon_threadsafe(self.handle_exit, s))

    def restore_signal_handlers(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def handle_exit(self, sig: int) -> None:
        if self.should_exit.is_set() and sig == signal.SIGINT:
            self.force_exit = True
            log.warning("second interrupt: forcing exit")
            self._force()
        self.should_exit.set()

    def _force(self) -> None:
        """Leave now; the MIDI output still gets its all-notes-off on the way (a JACK client
        sends what it is given on its next period: leaving at once lost it)."""
        if self.midi is not None:
            with contextlib.suppress(Exception):
                self.midi.output.panic()
                time.sleep(FORCED_FLUSH_S)
        os._exit(130)

    async def serve(self) -> None:
        self.install_signal_handlers()
        try:
            await self._serve()
        finally:
            self.restore_signal_handlers()

    async def _serve(self) -> None:
        starting = asyncio.create_task(self.startup())
        stop = asyncio.create_task(self.should_exit.wait())
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            log.info("stopped during startup")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await self.shutdown(quiet=True)
            return
        if starting.exception() is not None:
            stop.cancel()
            await self.shutdown(quiet=True)
            raise starting.exception()
        await stop
        await self.shutdown()

    # -- shutdown --------------------------------------------------------------------------

    async def shutdown(self, quiet: bool = False) -> None:
        """Release, close, stop; ``quiet`` after a failed startup (its error says it all)."""
        t0 = time.perf_counter()
        level = logging.DEBUG if quiet else logging.INFO
        log.log(level, "shutting down")
        if self.hub is not None:
            self.hub.close_all()          # every session releases its notes
        if self.midi is not None:
            self.midi.close()
        if self.osc is not None:
            await asyncio.sleep(0)        # let the release messages leave the socket
            self.osc.close()
        if self.engine is not None:
            left = max(0.05, self.config.shutdown_timeout - (time.perf_counter() - t0))
            if not self.engine.stop(timeout=left):
                log.warning("inference worker still busy after %.2f s; leaving it", left)
        log.log(level, "stopped in %.0f ms", (time.perf_counter() - t0) * 1e3)


def run(config: Config) -> int:
    """Run the daemon until a signal; returns the exit status."""
    daemon = Daemon(config)
    faulthandler.enable()    # a crash in native code (a MIDI driver, torch) logs every thread
    heap.pin()               # large blocks go back to the system all set long
    try:
        with fine_timers():
            asyncio.run(daemon.serve())
    except StartupError as exc:
        log.error("cannot start: %s", exc)
        return 1
    return 0

