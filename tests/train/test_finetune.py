"""Fine-tuning from a checkpoint: its weights, its label tables first, new labels after."""

import pytest
import torch

from bridge.model import checkpoint
from bridge.train.config import load_config
from bridge.train.loop import train
from bridge.train.tasks import make_task


def test_generator_starts_from_the_checkpoint_and_adds_the_data_s_new_styles(tiny_config):
    # a base that knows two styles only (the fixture data has more)
    base_dir = train(load_config(tiny_config("generator", epochs=1),
                                 {"model.styles": ["", "pop"], "model.n_hidden": 24}),
                     device="cpu", progress=False)
    checkpoint.update_config(base_dir, "generator", style_strength={"pop": 2.0})
    base, _ = checkpoint.load(base_dir, "generator")
    config = load_config(tiny_config("generator"), {"init": str(base_dir)})
    model = make_task(config, torch.device("cpu")).model
    styles = model.config.styles
    assert styles[:2] == ("", "pop") and "folk/jig" in styles
    assert model.config.n_hidden == 24                 # the checkpoint's architecture
    assert model.config.style_strength == ()           # measured on the base's weights only
    for name, value in base.state_dict().items():
        new = model.state_dict()[name]
        if name == "style_emb.weight":
            assert torch.equal(new[:2], value)
            assert torch.equal(new[styles.index("folk/jig")], value[0])  # starts as no style
        else:
            assert torch.equal(new, value), name


def test_tagger_keeps_its_classes_first_and_trains_on(tiny_config, tmp_path):
    first = train(load_config(tiny_config("tagger", epochs=1),
                              {"model.genres": ["folk"], "model.substyles": ["folk/jig"]}),
                  device="cpu", progress=False)
    base, _ = checkpoint.load(first, "tagger")
    # a model folder works as well as the checkpoint folder itself
    folder = tmp_path / "model"
    folder.mkdir()
    first.rename(folder / "tagger")
    config = load_config(tiny_config("tagger", epochs=1),
                         {"init": str(folder), "out": str(tmp_path / "tuned")})
    model = make_task(config, torch.device("cpu")).model
    assert model.config.genres[0] == "folk" and len(model.config.genres) > 1
    assert model.config.substyles[0] == "folk/jig" and "drums/rock" in model.config.substyles
    assert torch.equal(model.genre_head.weight[:1], base.genre_head.weight)
    assert torch.equal(model.sub_head.bias[:1], base.sub_head.bias)
    assert torch.equal(model.lstm.weight_hh_l0, base.lstm.weight_hh_l0)
    shares = model.config.substyle_shares            # the new data's, for every sub-style
    assert len(shares) == len(model.config.substyles) and sum(shares) == pytest.approx(1.0)
    assert min(shares) > 0                           # none ruled out
    tuned = train(config, device="cpu", progress=False)
    _, meta = checkpoint.load(tuned, "tagger")
    assert meta["training"]["init"] == str(folder)


def test_cli_init_that_is_no_checkpoint_is_one_clear_error(tiny_config, tmp_path):
    from click.testing import CliRunner

    from bridge.cli.train import train as train_cmd

    result = CliRunner().invoke(train_cmd, [
        "generator", "--config", str(tiny_config("generator")), "--init", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a checkpoint folder" in result.output and "Traceback" not in result.output


def test_fine_tune_on_a_user_folder_through_the_cli(tiny_config, fixture_data, tmp_path):
    """What the README tells a user to do: their own folder of MIDI files, named by style,
    built into a cache and trained on from the shipped-like checkpoint."""
    import shutil

    from click.testing import CliRunner

    from bridge.cli.data import data as data_cmd
    from bridge.cli.train import train as train_cmd

    base = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                 progress=False)
    mine = tmp_path / "mine" / "ambient"
    mine.mkdir(parents=True)
    for i, src in enumerate(["nottingham/combined/jigs1.mid", "nottingham/combined/reels1.mid",
                             "pop909/001/001.mid"]):
        shutil.copy(fixture_data / src, mine / f"piece{i}.mid")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(data_cmd, ["build", "--no-data", "--user", str(mine.parent),
                                           "--out", str(cache)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "tuned"
    result = CliRunner().invoke(train_cmd, [
        "generator", "--config", str(tiny_config("generator", epochs=1)), "--init", str(base),
        "--set", f'data.cache="{cache}"', "--set", "data.datasets={}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    model, _ = checkpoint.load(out / "best", "generator")
    assert "ambient" in model.config.styles and "folk/jig" in model.config.styles


def test_a_fine_tune_says_which_model_settings_it_cannot_use(tiny_config, tmp_path, caplog):
    base = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                 progress=False)
    width = checkpoint.load(base, "generator")[0].config.n_hidden
    config = load_config(tiny_config("generator", epochs=1), {
        "init": str(base), "out": str(tmp_path / "tuned"), "model.n_hidden": width * 2})
    with caplog.at_level("WARNING", logger="bridge.train.finetune"):
        tuned = train(config, device="cpu", progress=False)
    assert checkpoint.load(tuned, "generator")[0].config.n_hidden == width
    assert f"model.n_hidden = {width * 2} (it has {width}) not used" in caplog.text


def test_a_generator_grows_recall_and_trains_only_it(tiny_config, tmp_path):
    base_dir = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                     progress=False)
    base, _ = checkpoint.load(base_dir, "generator")
    assert base.recall is None
    config = load_config(tiny_config("generator", epochs=1), {
        "init": str(base_dir), "out": str(tmp_path / "grown"), "model.recall_window": 32,
        "model.recall_heads": 2, "model.recall_dim": 4, "optim.train_only": "recall"})
    grown_dir = train(config, device="cpu", progress=False)
    grown, meta = checkpoint.load(grown_dir, "generator")
    assert grown.config.recall_window == 32 and grown.config.recall_heads == 2
    assert meta["training"]["optim"]["train_only"] == "recall"
    for name, value in base.state_dict().items():       # everything else as it was
        assert torch.equal(grown.state_dict()[name], value), name
    torch.manual_seed(config.seed)                        # as training began: it learnt
    start = make_task(config, torch.device("cpu")).model.recall
    assert not torch.equal(grown.recall.query.weight, start.query.weight)


def test_a_generator_with_recall_grows_phrase_positions_that_start_as_nothing(tiny_config,
                                                                             tmp_path):
    base_dir = train(load_config(tiny_config("generator", epochs=1), {
        "model.recall_window": 32, "model.recall_heads": 2, "model.recall_dim": 4}),
        device="cpu", progress=False)
    base, _ = checkpoint.load(base_dir, "generator")
    assert base.phrase is None
    config = load_config(tiny_config("generator", epochs=1), {
        "init": str(base_dir), "out": str(tmp_path / "phrased"), "model.phrase_bars": 8})
    start = make_task(config, torch.device("cpu")).model.eval()
    assert start.config.phrase_bars == 8 and not start.phrase.weight.any()
    tokens = torch.randint(3, start.config.vocab_size, (2, 40))
    with torch.no_grad():                                  # recall as before
        assert torch.allclose(start(tokens, torch.tensor([0, 1]), bars=torch.tensor([0, 3]))[0],
                              base.eval()(tokens, torch.tensor([0, 1]))[0])
    grown, _ = checkpoint.load(train(config, device="cpu", progress=False), "generator")
    assert grown.config.phrase_bars == 8 and grown.phrase.weight.any()   # and it learnt


def test_train_only_must_name_parameters(tiny_config):
    import pytest

    from bridge.train.config import TrainConfigError

    config = load_config(tiny_config("generator", epochs=1), {"optim.train_only": "nothing"})
    with pytest.raises(TrainConfigError, match="names no parameters"):
        train(config, device="cpu", progress=False)


def test_a_card_names_the_config_a_model_was_trained_with_and_where_it_started(tiny_config):
    from bridge.model import card

    path = tiny_config("generator", epochs=1)
    training = load_config(path, {"init": "models/default"}).to_dict()
    text = card.render("generator", {"training": training, "config": {}}, None)
    assert f"Reproduce with `continuo train generator --config {path}`" in text
    assert "starting from the checkpoint then in `models/default`" in text
    chained = load_config(path, {"init": "runs/long/best", "optim.keep_init": 0.5,
                                 "optim.keep_from": "models/default"}).to_dict()
    text = card.render("generator", {"training": chained, "config": {}}, None)
    assert "averaged with the one then in `models/default` (0.5 of its weights" in text



def test_a_checkpoint_of_the_vocabulary_before_parts_grows_its_token_rows(tiny_config,
                                                                          tmp_path):
    """A version-1 checkpoint (no PART tokens) is refused for playing, but a fine-tune
    starts from it: its token rows come first, the new tokens start as their mean."""
    import json

    import pytest

    from bridge.model.generator import Generator, GeneratorConfig
    from bridge.vocab import VOCAB_SIZE

    old = Generator(GeneratorConfig(vocab_size=checkpoint.VOCAB_SIZES[1], n_embd=16,
                                    n_hidden=16, styles=("", "pop")))
    folder = checkpoint.save(tmp_path / "v1", old)
    meta = json.loads((folder / checkpoint.META).read_text())
    (folder / checkpoint.META).write_text(json.dumps({**meta, "vocab_version": 1}))
    with pytest.raises(checkpoint.CheckpointError, match="version 1"):
        checkpoint.load(folder, "generator")
    config = load_config(tiny_config("generator"), {"init": str(folder)})
    model = make_task(config, torch.device("cpu")).model
    assert model.config.vocab_size == VOCAB_SIZE
    n = checkpoint.VOCAB_SIZES[1]
    for name in ("tok_emb.weight", "head.weight", "head.bias"):
        before, after = old.state_dict()[name], model.state_dict()[name]
        assert torch.equal(after[:n], before)
        assert torch.allclose(after[n:], before.mean(0).expand_as(after[n:]))


def test_keep_init_averages_the_trained_weights_with_the_start(tiny_config):
    base_dir = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                     progress=False)
    base, _ = checkpoint.load(base_dir, "generator")
    config = load_config(tiny_config("generator", epochs=1),
                         {"init": str(base_dir), "out": str(base_dir.parent / "tuned"),
                          "optim.keep_init": 0.25, "optim.lr": 0.05})
    best = train(config, device="cpu", progress=False)
    blended, meta = checkpoint.load(best, "generator")
    trained, _ = checkpoint.load(best.parent / "last", "generator")   # one epoch: the same
    assert meta["kept_init"]["share"] == 0.25 and "val_bits" in meta["metrics_trained"]
    assert "val_bits" in meta["metrics"]                 # the averaged weights, validated
    for name, value in blended.state_dict().items():
        want = 0.75 * trained.state_dict()[name] + 0.25 * base.state_dict()[name]
        assert torch.allclose(value, want, atol=1e-6), name


def test_keep_from_averages_a_chain_of_runs_with_the_model_it_began_from(tiny_config):
    first = train(load_config(tiny_config("generator", epochs=1)), device="cpu",
                  progress=False)
    second = train(load_config(tiny_config("generator", epochs=1),
                               {"init": str(first), "out": str(first.parent / "second"),
                                "optim.lr": 0.05}), device="cpu", progress=False)
    config = load_config(tiny_config("generator", epochs=1),
                         {"init": str(second), "out": str(first.parent / "third"),
                          "optim.keep_init": 0.5, "optim.keep_from": str(first),
                          "optim.lr": 0.05})
    best = train(config, device="cpu", progress=False)
    blended, meta = checkpoint.load(best, "generator")
    trained, _ = checkpoint.load(best.parent / "last", "generator")
    origin, _ = checkpoint.load(first, "generator")
    assert meta["kept_init"] == {"checkpoint": str(first), "share": 0.5}
    for name, value in blended.state_dict().items():
        want = 0.5 * trained.state_dict()[name] + 0.5 * origin.state_dict()[name]
        assert torch.allclose(value, want, atol=1e-6), name
