"""Training configs: a wrong value is one clear error before anything is trained."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bridge.train.config import TrainConfigError, load_config
from bridge.train.loop import WARMUP_SHARE, lr_at


@pytest.mark.parametrize("key, value, says", [
    ("optim.max_minutes", "abc", "max_minutes = 'abc': a float is wanted"),
    ("optim.max_minutes", -1, "max_minutes = -1.0: at least 0"),
    ("optim.lr", -1e-3, "lr = -0.001: at least 0"),
    ("optim.epochs", 0, "epochs = 0: at least 1"),
    ("optim.epochs", True, "epochs = True: an int is wanted"),
    ("optim.batch", 0, "batch = 0: at least 1"),
    ("optim.schedule", "linear", "one of cosine, constant"),
    ("data.window", 0, "window = 0: at least 8"),
    ("data.mix", 1.5, "mix = 1.5: a share from 0 to 1"),
    ("data.max_bars", 1, "max_bars 1 is under min_bars 2"),
    ("data.datasets", {"pop909": -1}, "each value a number of 0 or more"),
])
def test_a_wrong_value_is_one_clear_error(tiny_config, key, value, says):
    with pytest.raises(TrainConfigError, match=r"\[(optim|data)\]: ") as caught:
        load_config(tiny_config("generator"), {key: value})
    assert says in str(caught.value)


def test_a_time_budget_warms_up_in_a_share_of_it(tiny_config):
    """A short fine-tune (a minute, some 40 steps on a CPU) reaches its learning rate early
    in its budget, however many steps the warm-up counts."""
    config = load_config(tiny_config("generator"), {"optim.warmup": 500,
                                                    "optim.max_minutes": 1.0})
    lr = config.optim.lr
    assert lr_at(10, config, seconds=0.0) == pytest.approx(lr * 11 / 500)       # by steps
    assert lr_at(10, config, seconds=60 * WARMUP_SHARE / 2) == pytest.approx(lr / 2)
    assert lr_at(10, config, seconds=60 * WARMUP_SHARE) == pytest.approx(lr, rel=0.01)
    assert lr_at(10, config, seconds=45.0) < lr_at(10, config, seconds=10.0) < lr


def test_the_command_refuses_a_folder_it_cannot_use(tiny_config, tmp_path):
    from bridge.cli.train import train as train_cmd

    config = tiny_config("generator", epochs=1)
    (tmp_path / "afile").write_text("")
    for out in (tmp_path / "afile", tmp_path / "afile" / "run"):
        result = CliRunner().invoke(train_cmd, ["generator", "--config", str(config),
                                                "--out", str(out)])
        assert result.exit_code == 2 and "afile is a file, not a folder" in result.output
    trained = tmp_path / "trained"
    (trained / "best").mkdir(parents=True)                 # a model trained there before
    (trained / "best" / "model.safetensors").write_bytes(b"weights")
    result = CliRunner().invoke(train_cmd, ["generator", "--config", str(config),
                                            "--out", str(trained)])
    assert result.exit_code == 1 and "holds a trained model" in result.output
    assert (trained / "best" / "model.safetensors").read_bytes() == b"weights"
    result = CliRunner().invoke(train_cmd, ["generator", "--config", str(config),
                                            "--set", "optim.lr=-1"])
    assert result.exit_code == 1 and "lr = -1.0: at least 0" in result.output
    assert "Traceback" not in result.output
