"""The GPU path of :class:`bridge.model.stream.Streamer`: each step one captured CUDA graph.

A batch-1 step of the shipped model is about 35 small kernels. Launched one by one from
Python they cost 0.54 ms on an H100, almost all of it launch overhead; replayed as one CUDA
graph, 0.10 ms, and 0.13 ms for a batch of 32 (``docs/latency.md``). A graph always runs
on the same buffers, so a :class:`Slot` owns a static batch-B state and the graph of one
step over it. The state being fed *moves in*: its tensors are copied into the slot's and it
then uses the slot's own, so further feeds of that state copy nothing but the tokens. The
state it displaces moves out with copies of its own, so no state ever sees another's
values. A few slots per batch size keep a session's state and the generations drawn from it
resident at once.

Outputs are those of the eager torch path, bit for bit (the same kernels run), and a
:class:`Graphs` built with ``capture=False`` runs the same bookkeeping with the eager step
in place of the graph, which is how CPU-only machines test it.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from bridge.model.stream import State, Streamer, Tokens

log = logging.getLogger(__name__)

MOVED = ("h", "c", "logits", "style_bias", "conv",   # what a step reads and writes
         "recall_keys", "recall_tokens", "recall_count", "recall_runs", "bar")
SLOTS = {1: 4}              # slots per batch size; OTHER_SLOTS for any other
OTHER_SLOTS = 2
MAX_BATCH = 64              # larger batches step eagerly
WARMUP = 3                  # eager steps on a side stream before capture (lazy init)


class Slot:
    """A static batch-``batch`` state and one step over it, captured when ``capture``."""

    def __init__(self, streamer: Streamer, batch: int, capture: bool) -> None:
        self.static = streamer.blank(batch)
        self.tokens = torch.zeros(batch, dtype=torch.long, device=streamer.device)  # [B]
        self.resident: weakref.ref[State] | None = None
        self.used = 0                                      # for least-recently-used eviction

        def step() -> None:
            streamer._feed_torch(self.static, self.tokens)

        self.replay = _capture(step).replay if capture else step

    def holds(self, state: State) -> bool:
        return self.resident is not None and self.resident() is state

    def free(self) -> bool:
        return self.resident is None or self.resident() is None

    def move_in(self, state: State) -> None:
        """Give the resident its own copies, then make ``state`` use this slot's buffers."""
        old = None if self.resident is None else self.resident()
        if old is not None:
            for name in MOVED:
                mine = getattr(old, name)
                if mine is not None:
                    setattr(old, name, mine.clone())
        for name in MOVED:
            theirs = getattr(state, name)
            if theirs is not None:
                mine = getattr(self.static, name)
                mine.copy_(theirs)
                setattr(state, name, mine)
        self.resident = weakref.ref(state)

    def feed(self, state: State, tokens: Tokens) -> None:
        tokens = torch.as_tensor(tokens)
        if tokens.shape != self.tokens.shape:
            raise ValueError(f"{tuple(tokens.shape)} tokens for a batch of "
                             f"{self.tokens.numel()} sessions")
        if not self.holds(state):
            self.move_in(state)
        self.tokens.copy_(tokens)
        self.replay()


def _capture(step) -> torch.cuda.CUDAGraph:
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):               # lazy initialisations happen outside capture
        for _ in range(WARMUP):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph


class Graphs:
    """Slots by batch size, made on first use (or by :meth:`prepare`)."""

    def __init__(self, streamer: Streamer, capture: bool = True) -> None:
        self.streamer = streamer
        self.capture = capture
        self.slots: dict[int, list[Slot]] = {}
        self.failed = False                # a capture failed: every step runs eagerly
        self._tick = 0

    @torch.inference_mode()
    def feed(self, state: State, tokens: Tokens) -> bool:
        """One step of ``state`` through a slot; False if it must run eagerly instead."""
        slot = self._slot_for(state)
        if slot is None:
            return False
        self._tick += 1
        slot.used = self._tick
        slot.feed(state, tokens)
        return True

    @torch.inference_mode()
    def prepare(self, batches: range = range(1, 9)) -> None:
        """Make every slot for these batch sizes now, rather than in a live step."""
        for batch in batches:
            slots = self.slots.setdefault(batch, [])
            while not self.failed and len(slots) < SLOTS.get(batch, OTHER_SLOTS):
                self._add(batch)

    def _slot_for(self, state: State) -> Slot | None:
        batch = state.batch
        if self.failed or batch > MAX_BATCH:
            return None
        slots = self.slots.setdefault(batch, [])
        for slot in slots:
            if slot.holds(state):
                return slot
        for slot in slots:
            if slot.free():
                return slot
        if len(slots) < SLOTS.get(batch, OTHER_SLOTS):
            return self._add(batch)
        return min(slots, key=lambda s: s.used)

    def _add(self, batch: int) -> Slot | None:
        try:
            slot = Slot(self.streamer, batch, self.capture)
        except RuntimeError:
            log.warning("CUDA graph capture failed; streaming steps run eagerly",
                        exc_info=True)
            self.failed = True
            return None
        self.slots[batch].append(slot)
        return slot
