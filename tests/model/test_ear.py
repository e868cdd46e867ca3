"""The generator's ear: evidence for each genre from the notes of a window."""

import dataclasses
import threading

import numpy as np
import pytest
import torch

from bridge.live.engine import Engine
from bridge.model import ear
from bridge.model.stream import Streamer
from bridge.music.piece import Note, Piece
from bridge.music.tokenize import encode
from bridge.offline.tags import bar_windows, tag_piece
from bridge.vocab import DUR_BASE, K_DUR, KIND, VEL_BASE
from tests.conftest import tiny_models
from tests.model.test_stream import exact


def _models_with_ear(weight: float = 0.7):
    """The tiny random models (plumbing only), the tagger counting the ear at ``weight``."""
    generator, tagger = tiny_models()
    tagger.config = dataclasses.replace(tagger.config, generator_weight=weight)
    return generator, tagger


def _windows() -> list[list[int]]:
    notes = [Note(i * 0.5, 0.5, 60 + (i * 5) % 12, 80, part=0) for i in range(24)] + \
        [Note(i, 1.0, 36 + 2 * (i % 2), 100, drum=True, part=3) for i in range(12)]
    return bar_windows(encode(Piece(notes)), 1)


@pytest.mark.parametrize("fast", [False, True])
def test_streamed_evidence_is_the_batched_evidence(fast):
    generator, tagger = _models_with_ear()
    styles = ear.styles_of(generator, tagger.config.genres)
    windows = _windows()
    batched = ear.evidence(generator, windows, styles)                  # [N, S]
    streamer = exact(Streamer(generator, "cpu", fast=fast))
    for i, window in enumerate(windows):
        steps = ear.evidence_steps(streamer, window, styles, piece=2)
        pieces = 0
        while True:
            try:
                next(steps)
                pieces += 1
            except StopIteration as done:
                streamed = done.value
                break
        assert pieces == len(window) // 2
        np.testing.assert_allclose(streamed, batched[i], rtol=1e-4, atol=1e-3)
    assert np.ptp(batched, axis=1).max() > 0            # the styles are told apart


def test_only_pitches_drum_keys_and_parts_are_heard():
    """A window's durations and velocities are how it is played: the evidence leaves their
    own odds out (a last note's duration changes nothing), and counts each pitch's."""
    generator, tagger = _models_with_ear()
    styles = ear.styles_of(generator, tagger.config.genres)
    window = _windows()[0]
    assert KIND[window[-1]] == K_DUR
    other_duration = [*window[:-1], DUR_BASE + (window[-1] - DUR_BASE + 7) % 96]
    other_velocity = [*window[:-2], VEL_BASE + (window[-2] - VEL_BASE + 5) % 16, window[-1]]
    other_pitch = [*window[:-3], window[-3] + 1, *window[-2:]]
    base, dur, vel, pitch = ear.evidence(generator, [window, other_duration, other_velocity,
                                                     other_pitch], styles)
    np.testing.assert_allclose(dur, base, rtol=1e-6)
    np.testing.assert_allclose(vel, base, rtol=1e-6)
    assert not np.allclose(pitch, base)


def test_a_tag_counts_the_evidence_at_the_tagger_weight():
    _, tagger = _models_with_ear(weight=0.0)
    window = torch.tensor(_windows()[0])
    genres = tagger.config.genres
    alone = tagger.tags(window, top=len(genres))
    least = [t for t, _ in alone if "/" not in t][-1]       # its least likely genre, heard
    loud = torch.full((len(genres),), -50.0)
    loud[genres.index(least)] = 0.0
    assert tagger.tags(window, top=len(genres), evidence=loud) == alone   # weight 0
    tagger.config = dataclasses.replace(tagger.config, generator_weight=1.0)
    assert tagger.tags(window, evidence=loud)[0][0] == least


def test_the_daemon_tags_as_continuo_tag_does():
    """A performer's last bars tagged by the worker (ear, then tagger, in pieces) give what
    the whole-file tagging gives the same window."""
    generator, tagger = _models_with_ear()
    window = _windows()[0]
    engine = Engine(generator, tagger, "cpu")
    engine.start()
    got, done = [], threading.Event()
    engine.open("s", 0)
    engine.tag("s", window, lambda session, tags: (got.append(tags), done.set()))
    assert done.wait(10)
    assert engine.stop(2.0)
    evidence = ear.hear(generator, tagger, [window])[0]
    offline = tagger.tags(torch.tensor(window), evidence=evidence)
    assert [t for t, _ in got[0]] == [t for t, _ in offline]
    np.testing.assert_allclose([p for _, p in got[0]], [p for _, p in offline], atol=2e-3)


def test_continuo_tag_hears_a_piece_with_the_generator():
    generator, tagger = _models_with_ear(weight=5.0)
    notes = [Note(i * 0.5, 0.5, 60 + (i * 7) % 12, 80, part=0) for i in range(32)]
    piece = Piece(notes)
    alone = tag_piece(tagger, piece)
    heard = tag_piece(tagger, piece, generator=generator)
    assert alone["windows"] == heard["windows"]
    assert alone["tags"] != heard["tags"]
