"""``--device``: what the daemon runs on. ``auto`` weighs measured steps; here the step
times are given, so the choice itself is what is tested (on any machine)."""

from __future__ import annotations

import logging

import pytest
import torch

from bridge.live import device
from bridge.live.device import MANY, DeviceError, pick_device


def _times(table: dict[tuple[str, int], float]):
    asked = []

    def step_time(device: str, batch: int) -> float:
        asked.append((device, batch))
        return table[device, batch]
    return step_time, asked


def test_without_cuda_auto_is_the_cpu_and_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    step_time, asked = _times({})
    assert pick_device("auto", step_time) == "cpu" and not asked
    with pytest.raises(DeviceError, match="no CUDA device"):
        pick_device("cuda", step_time)


@pytest.mark.parametrize("requested", ["cpu", "cuda"])
def test_a_named_device_is_taken_without_measuring(monkeypatch, requested):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    step_time, asked = _times({})
    assert pick_device(requested, step_time) == requested and not asked


def test_auto_takes_the_faster_batch_1_step(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    step_time, asked = _times({("cuda", 1): 1e-4, ("cpu", 1): 3e-4})
    assert pick_device("auto", step_time) == "cuda"
    assert asked == [("cuda", 1), ("cpu", 1)]


def test_auto_keeps_the_cpu_and_says_when_cuda_wins_many_sessions(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    step_time, _ = _times({("cuda", 1): 2e-4, ("cpu", 1): 1e-4,
                           ("cuda", MANY): 2e-4, ("cpu", MANY): 8e-4})
    with caplog.at_level(logging.INFO, logger="bridge.live.device"):
        assert pick_device("auto", step_time) == "cpu"
    assert "--device cuda for many concurrent sessions" in caplog.text


def test_a_step_is_timed_for_a_batch(models):
    generator = models[0]
    for batch in (1, 3):
        assert 0 < device.step_time(generator, "cpu", batch, steps=5) < 1.0
