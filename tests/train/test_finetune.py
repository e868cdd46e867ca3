"""Fine-tuning from a checkpoint: its weights, its label tables first, new labels after."""

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
    base, _ = checkpoint.load(base_dir, "generator")
    config = load_config(tiny_config("generator"), {"init": str(base_dir)})
    model = make_task(config, torch.device("cpu")).model
    styles = model.config.styles
    assert styles[:2] == ("", "pop") and "folk/jig" in styles
    assert model.config.n_hidden == 24                 # the checkpoint's architecture
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
    tuned = train(config, device="cpu", progress=False)
    _, meta = checkpoint.load(tuned, "tagger")
    assert meta["training"]["init"] == str(folder)
