"""Tagging passes, the inference worker's idle-time work, a piece at a time.

A pass over a session's last bars (:mod:`bridge.live.tagging` asks for one once a bar) first
scores what the generator hears of each genre there, a token's step of five rows a piece
(:mod:`bridge.model.ear`; on a CPU streamer of its own when the generator runs on CUDA, as
the tagger stays on the CPU), then runs the tagger in its pieces of about a millisecond
(:meth:`bridge.model.tagger.Tagger.tag_steps`) with that evidence counted in. The worker
serves any request between two pieces; a newer request for a session replaces the one
waiting and cancels its pass under way.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import torch

from bridge.model import ear
from bridge.model.generator import Generator
from bridge.model.stream import Streamer
from bridge.model.tagger import Tagger

log = logging.getLogger(__name__)

MOST = 1024      # tokens a pass reads at most: the latest

Tags = list[tuple[str, float]]


class Tagging:
    """The passes waiting (the newest per session) and the one under way."""

    def __init__(self, tagger: Tagger, generator: Generator, streamer: Streamer,
                 post: Callable[..., None]) -> None:
        self.tagger, self.generator, self.streamer = tagger, generator, streamer
        self.post = post                     # (on_result, session, tags) to the loop
        self._waiting: dict[str, tuple[list[int], Callable[[str, Tags], Any]]] = {}
        self._under_way: tuple[str, Any, Callable] | None = None
        self._ear: Streamer | None = None

    def __bool__(self) -> bool:
        return bool(self._waiting or self._under_way)

    def ask(self, session: str, tokens: list[int], on_result: Callable[[str, Tags], Any]
            ) -> None:
        """Tag ``tokens`` for ``session`` when the worker is idle: replaces its request
        waiting or under way."""
        self._waiting.pop(session, None)
        self._waiting[session] = (tokens, on_result)
        if self._under_way is not None and self._under_way[0] == session:
            self._under_way = None

    def step(self) -> None:
        """One piece of the pass under way (the oldest request's, begun if none is)."""
        if self._under_way is None:
            session, (tokens, on_result) = self._waiting.popitem()
            self._under_way = (session, self._pass(tokens[-MOST:]), on_result)
        session, steps, on_result = self._under_way
        try:
            next(steps)
        except StopIteration as done:
            self._under_way = None
            self.post(on_result, session, done.value)
        except Exception:   # a bad request must not kill the worker
            self._under_way = None
            log.exception("tagging failed")

    def _pass(self, tokens: list[int]):
        """What the generator hears in ``tokens`` (where the tagger counts it), then the
        tagger's pass with it."""
        evidence = None
        if self.tagger.config.generator_weight:
            styles = ear.styles_of(self.generator, self.tagger.config.genres)
            evidence = torch.from_numpy((yield from ear.evidence_steps(self._hearing(), tokens,
                                                                       styles)))
        return (yield from self.tagger.tag_steps(torch.tensor(tokens), evidence=evidence))

    def _hearing(self) -> Streamer:
        """The streamer the ear steps on: the worker's on the CPU, else a CPU copy."""
        if self._ear is None:
            self._ear = self.streamer if self.streamer.device.type == "cpu" else \
                Streamer(copy.deepcopy(self.generator).cpu(), "cpu")
        return self._ear
