import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.model import checkpoint
from bridge.train.config import TrainConfigError, load_config
from bridge.train.loop import lr_at, train


@pytest.mark.parametrize("kind", ["generator", "tagger"])
def test_trains_saves_and_resumes(kind, tiny_config):
    config = load_config(tiny_config(kind, epochs=2))
    best = train(config, device="cpu", progress=False)
    out = best.parent
    for name in ("best", "last", "curves.png", "history.json", "train_state.safetensors"):
        assert (out / name).exists(), name
    _, meta = checkpoint.load(best, kind)
    assert meta["metrics"]["val_loss"] > 0 and meta["training"]["kind"] == kind
    assert meta["data"]["train_sequences"] > 0
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    # resume: one more epoch continues from step 6, not from scratch
    config = load_config(tiny_config(kind, epochs=3))
    train(config, resume=True, device="cpu", progress=False)
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["step"] == 9


def test_generator_styles_come_from_the_data(tiny_config):
    best = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                 progress=False)
    model, _ = checkpoint.load(best, "generator")
    assert model.config.styles[0] == "" and "folk/jig" in model.config.styles
    assert "classical" not in model.config.styles      # no classical data in the fixtures


def test_early_stopping(tiny_config):
    # with a zero learning rate validation never improves after the first epoch
    config = load_config(tiny_config("generator", epochs=10, patience=1, lr=0.0),
                         {"optim.min_lr": 0.0})
    best = train(config, device="cpu", progress=False)
    history = json.loads((best.parent / "history.json").read_text())
    assert len(history) == 2


def test_lr_schedule_warms_up_then_decays(tiny_config):
    config = load_config(tiny_config("generator", epochs=4))
    lrs = [lr_at(step, config) for step in range(12)]
    assert lrs[0] < lrs[1] == pytest.approx(config.optim.lr)
    assert lrs[-1] < lrs[2] and lrs[-1] >= config.optim.min_lr


def test_lr_scale_sets_a_parts_own_learning_rate_and_resumes(tiny_config):
    """A part scaled to 0 stays as it began while the rest trains; a resumed run keeps
    each parameter's optimizer state with its own part; a scale for no part is an error."""
    import torch

    from bridge.train.tasks import make_task

    config = load_config(tiny_config("generator", epochs=1), {"optim.lr_scale": {"head": 0.0}})
    torch.manual_seed(config.seed)
    start = make_task(config, torch.device("cpu")).model
    trained, _ = checkpoint.load(train(config, device="cpu", progress=False), "generator")
    assert torch.equal(trained.head.weight, start.head.weight)
    assert not torch.equal(trained.tok_emb.weight, start.tok_emb.weight)
    more = load_config(tiny_config("generator", epochs=2), {"optim.lr_scale": {"head": 0.0}})
    again, _ = checkpoint.load(train(more, resume=True, device="cpu", progress=False),
                               "generator")
    assert torch.equal(again.head.weight, start.head.weight)
    with pytest.raises(TrainConfigError, match=r"lr_scale names no part.*nothing"):
        train(load_config(tiny_config("generator"), {"optim.lr_scale": {"nothing": 2.0}}),
              device="cpu", progress=False)


def test_config_errors(tmp_path, tiny_config):
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "generator"\n[optim]\nlearning_rate = 1\n')
    with pytest.raises(TrainConfigError, match="learning_rate"):
        load_config(bad)
    with pytest.raises(TrainConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(TrainConfigError):
        load_config(tiny_config("generator"), {"model.n_hiden": 3})


@pytest.mark.slow
def test_distributed_data_parallel_on_two_cpu_processes(tiny_config):
    path = tiny_config("generator", epochs=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "bridge", "train", "generator", "--config", str(path), "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "cpu x2" in out.stderr
    config = load_config(path)
    history = json.loads((Path(config.out) / "history.json").read_text())
    assert len(history) == 1 and history[0]["val_loss"] > 0


def test_time_budget_ends_training_and_steers_the_schedule(tiny_config):
    # a budget of ~0.1 s is spent long before 50 epochs: training stops after the epoch in
    # which it ran out, with the best checkpoint saved and the LR decayed by time
    config = load_config(tiny_config("generator", epochs=50), {"optim.max_minutes": 0.002})
    best = train(config, device="cpu", progress=False)
    history = json.loads((best.parent / "history.json").read_text())
    assert 1 <= len(history) < 50 and (best / "model.safetensors").exists()
    assert lr_at(config.optim.warmup + 1, config, seconds=0.12) == config.optim.min_lr
    assert lr_at(config.optim.warmup + 1, config, seconds=0.0) > config.optim.min_lr


def test_ctrl_c_keeps_the_steps_of_the_epoch_so_far(tiny_config, monkeypatch):
    """Interrupted in its first epoch, a run validates and saves what it learnt so far and
    ends, resumable (it lost everything since the last epoch's end)."""
    import bridge.train.loop as loop

    make_task = loop.make_task

    def interrupted_at_step_3(*args, **kwargs):
        task = make_task(*args, **kwargs)
        loss, calls = task.loss, []

        def stop(*a, **k):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return loss(*a, **k)
        task.loss = stop
        return task

    monkeypatch.setattr(loop, "make_task", interrupted_at_step_3)
    config = load_config(tiny_config("generator", epochs=5))
    best = train(config, device="cpu", progress=False)
    history = json.loads((best.parent / "history.json").read_text())
    assert [(h["epoch"], h["step"]) for h in history] == [(1, 2)]
    assert (best / "model.safetensors").exists() and (best.parent / "last").is_dir()
    assert json.loads((best.parent / "train_state.json").read_text())["epoch"] == 1

