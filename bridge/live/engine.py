"""The inference worker: one thread that owns the warm generator and every session's state.

The asyncio loop never touches a tensor. It sends requests (``feed``, ``generate``,
``restyle``...) that the worker takes in order from a queue, so a generation always starts
from a state holding every event fed before it. Running generations advance together, one
token per step for all of them (batched, :mod:`bridge.live.stepper`), so a long response
never delays another session's first note.

A style request (``restyle``) rebuilds the session's state from its recent context in pieces
between the worker's other work, while the state in use, conditioned on the new style at
once, serves (:mod:`bridge.live.restyle`).

A session guided toward a style has two rows of state, with and without the style, fed the
same tokens; its generations carry both through the batch and sample from their mix
(:func:`bridge.model.sampling.guide`), at the cost of a second row per step.

A prepared generation (``hold``) stops after its first note and waits, parked, for the loop
to ``resume`` it (a request that wants exactly that answer) or to replace it; the loop holds
its first note meanwhile, so such a request is answered without waiting for the worker.

Results (notes, ends, tags) go to the loop after each step, in one batch, before the step's
tokens are fed; a batch with a response's first note waits until the loop has sent it
(:mod:`bridge.live.handover`).

Tagging (``tag``) is the worker's idle-time work (:mod:`bridge.live.tagwork`): a pass over
four bars takes about 100 ms of it (what the generator hears of each genre there, then the
tagger), in pieces of about a millisecond, so it runs only when no request is waiting and no
generation is running, and a newer request for a session replaces one still waiting. Feeds
and responses never queue behind a tagging pass that has not started. The tagger stays on
the CPU when the generator runs on CUDA: there its pieces take 1-4 ms, where on an H100 the
first piece at each new input length took 6-124 ms (kernel selection and loading), and the
worker's feeds and responses waited up to 0.33 s behind them (``docs/latency.md``).

Nothing a request or a generation raises stops the worker: a request that fails is logged
and dropped, a generation that fails ends with the reason ``error`` (its session is told),
and the others go on. ``health`` says whether the worker runs and how often it caught one.

Grammar and timing are the loop's business: a generation arrives with its ``prefix`` (the
tokens that bring a copy of the session's state from the last committed event to where the
response starts) and a :class:`bridge.vocab.Cursor` positioned after that prefix.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import torch

from bridge.live.generation import Generation
from bridge.live.handover import Handover
from bridge.live.restyle import BUSY_PIECE, IDLE_PIECE, Restyles
from bridge.live.stepper import Stepper
from bridge.live.tagwork import Tagging
from bridge.model.generator import Generator
from bridge.model.stream import State, Streamer, stack
from bridge.model.tagger import Tagger
from bridge.timing.latency import summary_ms, window

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, generator: Generator, tagger: Tagger | None, device: str = "cpu",
                 loop: Any = None) -> None:
        self.device = torch.device(device)
        self.streamer = Streamer(generator.to(self.device), self.device)
        self.generator = generator
        self.tagger = tagger.to("cpu").eval() if tagger is not None else None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._states: dict[str, State] = {}
        self._heard: tuple[tuple, State] | None = None   # run_now's last context, fed
        self._thread = threading.Thread(target=self._run, name="continuo-inference",
                                        daemon=True)
        self._restyles = Restyles(self.streamer)     # states rebuilt under another style
        self._results = Handover(loop)       # notes, ends, tags: to the loop, in order
        self._tagging = Tagging(self.tagger, generator, self.streamer, self._results.post) \
            if self.tagger is not None else None     # idle-time tagging passes
        self._stopped = False
        self.stats = {"feeds": 0, "steps": 0, "generations": 0, "prepared": 0, "errors": 0}
        # seconds, most recent last: request -> tokens fed; request -> first note decoded
        self.latency: dict[str, deque[float]] = {"feed": window(), "first_note": window()}
        self.running = Stepper(self.streamer, self._results, self.stats,
                               self.latency["first_note"], self._caught)

    # -- requests (any thread) --------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 0.5) -> bool:
        """Cancel everything and stop the worker; False if it did not stop in time."""
        self._stopped = True
        self.running.cancel_all()
        self._queue.put(("stop",))
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def guidance(self, style: int, weight: float, heard: str | None = None) -> float:
        """How hard a generation toward ``style`` is guided at a session's ``guidance``,
        the performer heard playing ``heard``
        (:meth:`bridge.model.generator.Generator.guidance`)."""
        return self.generator.guidance(style, weight, heard)

    def open(self, session: str, style: int, guided: bool = False) -> None:
        """A state for the session; ``guided`` adds an unstyled twin so that its
        generations can be guided toward ``style`` (see :meth:`_start`)."""
        self._queue.put(("open", session, style, guided))

    def close(self, session: str) -> None:
        self._queue.put(("close", session))

    def feed(self, session: str, tokens: list[int], bar: int | None = None) -> None:
        """The session hears ``tokens``; ``bar``: the index of the bar the first BAR among
        them opens, when the session knows it (its stream's first)."""
        if tokens:
            self._queue.put(("feed", session, list(tokens), time.perf_counter(), bar))

    def restyle(self, session: str, style: int, context: list[int],
                guided: bool = False, bar: int = 0) -> None:
        """Recompute the session's state under another style from its recent context
        (``bar``: the index of the bar its first BAR opens)."""
        self._queue.put(("restyle", session, style, list(context), guided, bar))

    def generate(self, gen: Generation | Sequence[Generation]
                 ) -> Generation | Sequence[Generation]:
        """Sample ``gen``: one generation, or siblings from one place (their prefix fed
        once: a choice's candidates)."""
        gens = [gen] if isinstance(gen, Generation) else list(gen)
        now = time.perf_counter()
        for g in gens:
            g.requested = now
        self._queue.put(("generate", gens))
        return gen

    def resume(self, gen: Generation) -> None:
        """Let a prepared generation go on past its first note (``hold`` cleared first)."""
        gen.hold = False
        gen.requested = time.perf_counter()
        self._queue.put(("resume", gen))

    def tag(self, session: str, tokens: list[int],
            on_result: Callable[[str, list[tuple[str, float]]], None]) -> None:
        if self.tagger is not None and tokens:
            self._queue.put(("tag", session, list(tokens), on_result))

    @torch.inference_mode()
    def run_now(self, gens: Generation | Sequence[Generation], context: list[int],
                style: int = 0, bar: int = 0) -> None:
        """Generate in the calling thread, without the worker (command-line tools, bench):
        a fresh state for ``style`` fed ``context`` (whose first BAR opens bar ``bar`` of
        the piece), then each of ``gens`` (one, or several from that same state, stepped
        together) to its end. The state fed last is kept: the same context again (another
        seed of one piece) starts from it without feeding it again."""
        assert not self._thread.is_alive(), "run_now is for an engine whose worker is off"
        gens = [gens] if isinstance(gens, Generation) else list(gens)
        guided = gens[0].guidance > 0
        key = (style, guided, bar, tuple(context))
        if self._heard is None or self._heard[0] != key:   # else: the same context again
            self._heard = (key, self._heard_state(style, guided, bar, context))
        self.running.begin(gens, self._heard[1])        # (begin copies it)
        while self.running.active:
            self.running.step()

    @torch.inference_mode()
    def drain(self) -> None:
        """Do in the calling thread everything asked so far, run every generation to its
        end and every tagging pass asked for (an engine whose worker is off, on a simulated
        clock: :mod:`bridge.timing.simloop`): requests between steps, as the worker takes
        them."""
        assert not self._thread.is_alive(), "drain is for an engine whose worker is off"
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                if self.running.active:
                    self.running.step()
                    if self._restyles:
                        self._restyle_step(BUSY_PIECE)
                elif self._idle_work:
                    self._idle_step()
                else:
                    return
                continue
            self._handle(request)

    def latency_ms(self) -> dict[str, float]:
        """The recent latencies' percentiles in milliseconds, for status and bench."""
        return {k: v for name, values in self.latency.items()
                for k, v in summary_ms(name, values).items()}

    def health(self) -> dict[str, Any]:
        """For status: ``worker`` is ``ok`` while the worker thread runs (``stopped`` after
        ``stop``, ``dead`` if it ever ended otherwise); ``worker_errors`` counts what it
        caught and survived."""
        if self._thread.is_alive() or not self._thread.ident:
            state = "ok"
        else:
            state = "stopped" if self._stopped else "dead"
        return {"worker": state, "worker_errors": self.stats["errors"]}

    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the worker after everything queued before it (for tests, bench)."""
        self._queue.put(("call", fn))

    # -- the worker ---------------------------------------------------------------------

    def _run(self) -> None:
        if self.streamer.graphs is not None:     # capture in this thread, before any request
            self.streamer.graphs.prepare()
        with torch.inference_mode():
            while True:
                try:                     # block only when there is no idle-time work
                    request = self._queue.get(block=not self._idle_work)
                except queue.Empty:
                    self._idle_step()
                    self._results.hand_over()
                    continue
                if not self._handle(request):
                    return
                self._results.hand_over()
                while self.running.active:
                    while True:                               # take what arrived meanwhile
                        try:
                            request = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if not self._handle(request):
                            return
                    try:
                        self.running.step()
                    except Exception as exc:   # a fault in a batched step: end what ran
                        self._caught("a generation step failed")
                        self.running.fail_all(exc)
                    if self._restyles:
                        self._restyle_step(BUSY_PIECE)

    def _handle(self, request: tuple) -> bool:
        kind = request[0]
        try:
            if kind == "stop":
                return False
            if kind == "open":
                self._restyles.drop(request[1])
                self._states[request[1]] = self._start(request[2], request[3])
            elif kind == "close":
                self._restyles.drop(request[1])
                self._states.pop(request[1], None)
                self.running.forget(request[1])
            elif kind == "feed":
                state = self._states.get(request[1])
                if state is not None:
                    if request[4] is not None:
                        self.streamer.set_bar(state, request[4])
                    self.streamer.feed_each(state, request[2])
                    self._restyles.heard(request[1], request[2], request[4])
                    self.stats["feeds"] += len(request[2])
                    self.latency["feed"].append(time.perf_counter() - request[3])
            elif kind == "restyle":
                _, session, style, context, guided, bar = request
                serving = self._states.get(session)
                self._states[session] = self._heard_state(style, guided, bar, context) \
                    if serving is None else self._restyles.begin(
                        session, serving, self._start(style, guided, bar), style, context)
            elif kind == "generate":
                self.running.begin(request[1], self._states.get(request[1][0].session))
            elif kind == "resume":
                self.running.resume(request[1])
            elif kind == "tag":                  # later, when idle; the newest wins
                self._tagging.ask(request[1], request[2], request[3])
            elif kind == "call":
                request[1]()
        except Exception as exc:   # a bad request must not kill the worker
            self._caught("inference request %s failed", kind)
            if kind in ("generate", "resume"):
                for gen in request[1] if kind == "generate" else [request[1]]:
                    if gen not in self.running.active:
                        self.running.fail(gen, exc)
        return True

    def _start(self, style: int, guided: bool, bar: int = 0) -> State:
        """A session's state: one row for its style and, when guided toward a style, a
        second row without it that is fed the same tokens; their two predictions are
        mixed at each step (:func:`bridge.model.sampling.guide`)."""
        if guided and style:
            return stack([self.streamer.start(style, bar), self.streamer.start(0, bar)])
        return self.streamer.start(style, bar)

    def _heard_state(self, style: int, guided: bool, bar: int, context: list[int]) -> State:
        """A fresh state (:meth:`_start`) fed ``context``."""
        state = self._start(style, guided, bar)
        self.streamer.feed_each(state, context)
        return state

    @property
    def _idle_work(self) -> bool:
        """Is there work for the worker's idle time (a style rebuild, a tagging pass)?"""
        return bool(self._restyles or self._tagging)

    def _idle_step(self) -> None:
        """One piece of idle-time work: a style rebuild before tagging."""
        if self._restyles:
            self._restyle_step(IDLE_PIECE)
        else:
            self._tagging.step()

    def _restyle_step(self, size: int) -> None:
        """A piece of the oldest style rebuild; its state goes in place once caught up."""
        try:
            done = self._restyles.piece(size)
        except Exception:   # a bad request must not kill the worker (the rebuild is gone)
            self._caught("a style rebuild failed")
            return
        if done is not None:
            self._states[done[0]] = done[1]

    def _caught(self, message: str, *args: Any) -> None:
        """A fault the worker survives: counted, logged with its traceback."""
        self.stats["errors"] += 1
        log.exception(message, *args)
