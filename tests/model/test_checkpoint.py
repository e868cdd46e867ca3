import json

import pytest
import torch

from bridge.model import checkpoint
from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.tagger import Tagger, TaggerConfig


def test_save_load_round_trip_describes_itself(tmp_path):
    model = Generator(GeneratorConfig(n_embd=16, n_hidden=16, styles=("", "pop", "mine")))
    checkpoint.save(tmp_path / "g", model, metrics={"val_bits": 1.5}, name="t")
    back, meta = checkpoint.load(tmp_path / "g", "generator")
    assert meta["metrics"]["val_bits"] == 1.5 and meta["params"] == model.num_params()
    assert back.config == model.config
    for a, b in zip(model.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_each_genre_is_guided_as_hard_as_its_strength_says_and_a_config_changes_in_place(
        tmp_path):
    model = Generator(GeneratorConfig(n_embd=8, n_hidden=8,
                                      styles=("", "pop", "classical", "classical/chorale")))
    assert [model.guidance(i, 1.5) for i in range(4)] == [1.5] * 4     # no strengths: as asked
    checkpoint.save(tmp_path / "g", model)
    config = checkpoint.update_config(tmp_path / "g", "generator",
                                      style_strength={"classical": 2.0})
    assert config["style_strength"] == {"classical": 2.0}
    back, _ = checkpoint.load(tmp_path / "g", "generator")
    assert back.config.style_strength == (("classical", 2.0),)
    # a sub-style is pushed as hard as its genre; no style, or a genre not named: as asked
    assert [back.guidance(i, 1.5) for i in range(4)] == [1.5, 1.5, 3.0, 3.0]
    assert back.guidance(2, 0.0) == 0.0
    # a request from a genre heard that has a strength of its own for it (FROM->TO)
    paired = checkpoint.update_config(tmp_path / "g", "generator", style_strength={
        "classical": 2.0, "pop->classical": 3.0})["style_strength"]
    back, _ = checkpoint.load(tmp_path / "g", "generator")
    assert paired == {"classical": 2.0, "pop->classical": 3.0}
    assert [back.guidance(3, 1.5, heard) for heard in ("pop", "folk", None)] == [4.5, 3.0, 3.0]
    assert back.guidance(1, 1.5, "pop") == 1.5                 # pop itself: not named
    for a, b in zip(model.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)                                        # the weights unchanged
    with pytest.raises(TypeError):
        checkpoint.update_config(tmp_path / "g", "generator", no_such_field=1)
    with pytest.raises(checkpoint.CheckpointError, match="not a tagger"):
        checkpoint.update_config(tmp_path / "g", "tagger", n_embd=4)


def test_other_vocabulary_version_is_refused(tmp_path):
    checkpoint.save(tmp_path / "t", Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8)))
    meta = json.loads((tmp_path / "t" / "model.json").read_text())
    meta["vocab_version"] = 999
    (tmp_path / "t" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(checkpoint.CheckpointError, match="vocabulary version 999"):
        checkpoint.load(tmp_path / "t", "tagger")


def test_wrong_kind_and_missing_folder(tmp_path):
    checkpoint.save(tmp_path / "t", Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8)))
    with pytest.raises(checkpoint.CheckpointError, match="not a generator"):
        checkpoint.load(tmp_path / "t", "generator")
    with pytest.raises(checkpoint.CheckpointError, match="not a checkpoint"):
        checkpoint.load(tmp_path / "nothing", "tagger")


def test_no_pickle_in_the_weights(tmp_path):
    checkpoint.save(tmp_path / "g", Generator(GeneratorConfig(n_embd=8, n_hidden=8)))
    raw = (tmp_path / "g" / "model.safetensors").read_bytes()
    assert b"\x80\x04" not in raw[:64] and raw[8:9] == b"{"   # safetensors JSON header


def test_tagger_tags_are_probabilities():
    tagger = Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8)).eval()
    tags = tagger.tags(torch.randint(3, 300, (40,)))
    assert tags and all(0.0 <= p <= 1.0 for _, p in tags)
    genres = [t for t, _ in tags if "/" not in t]
    assert abs(sum(p for t, p in tags if t in genres) - 1.0) < 1.0


@pytest.mark.parametrize("chunk", [7, 64, 1000])
def test_tagging_in_pieces_gives_what_the_whole_model_gives(chunk):
    torch.manual_seed(0)
    tagger = Tagger(TaggerConfig(n_embd=8, n_conv=16, n_hidden=12, conv_layers=3)).eval()
    x = torch.randint(3, 300, (150,))
    with torch.no_grad():
        g, s = tagger(x[None])
    steps, pieces = tagger.tag_steps(x, chunk=chunk), 0
    while True:
        try:
            next(steps)
            pieces += 1
        except StopIteration as done:
            chunked = done.value
            break
    assert pieces == -(-150 // (2 * chunk)) + 2 * -(-150 // chunk)   # conv, then LSTM
    reference = tagger._top_tags(g[0], s[0], 3)
    assert [t for t, _ in chunked] == [t for t, _ in reference]
    assert all(abs(p - q) < 1e-5 for (_, p), (_, q) in zip(chunked, reference, strict=True))
    assert tagger.tags(x) == chunked


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_tagging_in_pieces_on_cuda_after_the_cpu_gives_the_cpus_tags():
    torch.manual_seed(0)
    tagger = Tagger(TaggerConfig(n_embd=8, n_conv=16, n_hidden=12)).eval()
    x = torch.randint(3, 300, (150,))
    on_cpu = tagger.tags(x)
    on_cuda = tagger.to("cuda").tags(x.cuda())
    assert [t for t, _ in on_cuda] == [t for t, _ in on_cpu]
    assert all(abs(p - q) < 1e-4 for (_, p), (_, q) in zip(on_cuda, on_cpu, strict=True))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_weights_are_a_clear_error(tmp_path, damage):
    checkpoint.save(tmp_path / "t", Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8)))
    weights = tmp_path / "t" / "model.safetensors"
    raw = weights.read_bytes()
    weights.write_bytes({"truncated": raw[:1000], "garbage": b"\xff" * 64, "empty": b""}[damage])
    with pytest.raises(checkpoint.CheckpointError, match=r"model\.safetensors: damaged"):
        checkpoint.load(tmp_path / "t", "tagger")


def test_a_model_folder_that_is_not_one_says_what_it_is(tmp_path):
    from bridge.model.meta import resolve_model_dir

    with pytest.raises(checkpoint.CheckpointError, match="no such model folder"):
        resolve_model_dir(tmp_path / "nope")
    checkpoint.save(tmp_path / "m" / "generator", Generator(GeneratorConfig(n_embd=8,
                                                                            n_hidden=8)))
    assert resolve_model_dir(tmp_path / "m") == tmp_path / "m"
    with pytest.raises(checkpoint.CheckpointError, match=r"holds generator/: .*m\?"):
        resolve_model_dir(tmp_path / "m" / "generator")      # the checkpoint, not the model
    with pytest.raises(checkpoint.CheckpointError, match="holds generator/ and tagger/"):
        resolve_model_dir(tmp_path)


def test_weights_are_written_as_any_file_beside_them(tmp_path):
    """Readable by whoever may read the model card and the JSON beside them (safetensors
    wrote its file for its owner alone)."""
    folder = checkpoint.save(tmp_path / "g", Generator(GeneratorConfig(n_embd=8, n_hidden=8)))
    mode = (folder / checkpoint.WEIGHTS).stat().st_mode & 0o777
    assert mode == (folder / "model.json").stat().st_mode & 0o777
