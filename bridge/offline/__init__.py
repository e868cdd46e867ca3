"""Whole-file tools on the live models, run in the calling thread with the daemon's tokens,
sampling and engine: continuing a piece (:mod:`bridge.offline.continuation`, ``continuo
continue``) and tagging one (:mod:`bridge.offline.tags`, ``continuo tag``)."""
