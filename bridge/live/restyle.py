"""A session's state rebuilt under another style, a piece at a time, while the old one serves.

A style request recomputes the session's state from its recent context (up to
``CONTEXT_TOKENS``, :mod:`bridge.live.context`), so that the whole context, not only what
comes next, is heard in the new style. Fed in one go that was up to 768 steps of the worker,
a quarter of a second with a guided twin, and everything else waited: an accompaniment's
next notes came too late and were dropped when a performer turned the Style menu while it
played (``continuo bench --gig``, docs/latency.md). Now the request conditions the state in
use on the new style at once (what it computes from then on: :meth:`Streamer.set_style`),
and the worker rebuilds the state in pieces between its other work: ``IDLE_PIECE`` tokens
when nothing else waits, ``BUSY_PIECE`` beside each step of running generations. What the
session hears meanwhile goes to both; the rebuilt state replaces the other when it has
caught up. A guided twin (an unstyled second row) added meanwhile is a copy of the state in
use, unstyled; one dropped leaves the styled row, or the twin itself when the request is for
no style: the twin was fed the whole context without one, so nothing is rebuilt. Rebuilt at
once, a twin's coming or going held the worker 0.22-0.41 s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bridge.model.stream import State, Streamer, stack

IDLE_PIECE = 8      # tokens a piece when the worker is otherwise idle (~3 ms a row)
BUSY_PIECE = 2      # tokens a piece beside each step of running generations


@dataclass
class Rebuild:
    state: State                                      # the session's state under its new style
    pending: deque[tuple[int | None, list[int]]] = field(default_factory=deque)
    #                                                   (bar the first BAR opens, tokens) to feed


class Restyles:
    """The rebuilds under way, by session (the worker's; see the module)."""

    def __init__(self, streamer: Streamer) -> None:
        self.streamer = streamer
        self.rebuilds: dict[str, Rebuild] = {}

    def __bool__(self) -> bool:
        return bool(self.rebuilds)

    def begin(self, session: str, serving: State, fresh: State, style: int,
              context: list[int]) -> State:
        """Rebuild ``fresh`` (a new state under ``style``, not yet fed: one row, or two with
        a guided twin) from ``context``; returns the state the session uses meanwhile
        (:meth:`meanwhile`)."""
        self.rebuilds.pop(session, None)
        if serving.batch == 2 and fresh.batch == 1 and style == 0:
            return serving.keep([1])             # the twin: this context, heard unstyled
        self.rebuilds[session] = Rebuild(fresh, deque([(None, list(context))]))
        return self.meanwhile(serving, fresh.batch, style)

    def meanwhile(self, serving: State, rows: int, style: int) -> State:
        """``serving`` (one row, or a styled row and its unstyled twin) as ``rows`` rows
        conditioned on ``style`` from now on: the first row styled, a twin unstyled."""
        if rows == 1 and serving.batch == 2:
            serving = serving.keep([0])
        elif rows == 2 and serving.batch == 1:
            serving = stack([serving, serving])
            self.streamer.set_style(serving, 0, row=1)
        self.streamer.set_style(serving, style, row=0)
        return serving

    def heard(self, session: str, tokens: list[int], bar: int | None) -> None:
        """The session heard ``tokens`` (fed to the state it uses): its rebuild hears them too."""
        rebuild = self.rebuilds.get(session)
        if rebuild is not None:
            rebuild.pending.append((bar, list(tokens)))

    def drop(self, session: str) -> None:
        self.rebuilds.pop(session, None)

    def piece(self, size: int) -> tuple[str, State] | None:
        """Feed up to ``size`` tokens of the oldest rebuild; (session, state) when it has
        caught up (the caller puts it in place), else None."""
        session, rebuild = next(iter(self.rebuilds.items()))
        state = rebuild.state
        try:
            while size > 0 and rebuild.pending:
                bar, tokens = rebuild.pending[0]
                if bar is not None:
                    self.streamer.set_bar(state, bar)
                self.streamer.feed_each(state, tokens[:size])
                rebuild.pending[0] = (None, tokens[size:])
                size -= min(size, len(tokens))
                if not rebuild.pending[0][1]:
                    rebuild.pending.popleft()
        except Exception:                   # it goes: the session keeps the state it uses
            del self.rebuilds[session]
            raise
        if rebuild.pending:
            return None
        del self.rebuilds[session]
        return session, state
