import gc
import random

import pytest
import torch

from bridge.model import stream_graph
from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.stream import Streamer, stack
from bridge.model.stream_graph import Graphs
from bridge.vocab import VOCAB_SIZE

# the slots' bookkeeping with the eager step on CPU (every machine), real graphs on CUDA
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]


def _model(**extra) -> Generator:
    torch.manual_seed(0)
    return Generator(GeneratorConfig(n_embd=32, n_hidden=48, conv_kernel=3, **extra)).eval()


RECALL = {"recall_window": 8, "recall_heads": 2, "recall_dim": 8, "recall_match": True}
MODELS = [{}, RECALL]


def _pair(device: str, **extra) -> tuple[Streamer, Streamer]:
    """(graphed, eager) streamers over the same weights."""
    model = _model(**extra).to(device)
    graphed = Streamer(model, device, fast=False)
    if device == "cpu":
        graphed.graphs = Graphs(graphed, capture=False)
    assert graphed.graphs is not None
    return graphed, Streamer(model, device, fast=False, graphs=False)


def _same(a, b) -> None:
    for name in ("h", "c", "logits", "conv", "recall_keys", "recall_tokens", "recall_count",
                 "recall_runs"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None and y is None) or torch.equal(x, y), name


def _tokens(n: int, batch: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(3, VOCAB_SIZE) for _ in range(batch)] for _ in range(n)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("extra", MODELS)
def test_graph_steps_match_eager_steps(device, batch, extra):
    graphed, eager = _pair(device, **extra)
    a = stack([graphed.start(s) for s in range(batch)])
    b = stack([eager.start(s) for s in range(batch)])
    for row in _tokens(20, batch, seed=batch):
        graphed.feed(a, row)
        eager.feed(b, row)
        _same(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("extra", MODELS)
def test_a_batch_shrunk_in_a_slot_moves_out_before_its_slot_serves_another(device, extra):
    """keep leaves the rows in the slot's own buffers; the smaller batch moves into a slot
    of its size on its next step, so a state of the old size taking the old slot later
    does not touch it."""
    graphed, eager = _pair(device, **extra)
    a = stack([graphed.start(s) for s in range(4)])
    b = stack([eager.start(s) for s in range(4)])
    for row in _tokens(6, 4, seed=1):
        graphed.feed(a, row)
        eager.feed(b, row)
    a, b = a.keep([0, 2, 3]), b.keep([0, 2, 3])
    other = stack([graphed.start(s) for s in range(4)])
    for row, noise in zip(_tokens(6, 3, seed=2), _tokens(6, 4, seed=3), strict=True):
        graphed.feed(a, row)
        eager.feed(b, row)
        graphed.feed(other, noise)        # takes the batch-4 slot a's rows were kept in
        _same(a, b)
    a, b = a.keep([1]), b.keep([1])
    for row in _tokens(4, 1, seed=4):
        graphed.feed(a, row)
        eager.feed(b, row)
        _same(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("extra", MODELS)
def test_states_taking_turns_keep_their_own_values(device, extra):
    """More states than slots, fed in a random order: each moves in and out many times
    and ends where the same tokens take it eagerly."""
    graphed, eager = _pair(device, **extra)
    n = stream_graph.SLOTS[1] + 3
    pairs = [(graphed.start(s), eager.start(s)) for s in range(n)]
    rng = random.Random(5)
    for _ in range(200):
        a, b = rng.choice(pairs)
        token = [rng.randrange(3, VOCAB_SIZE)]
        graphed.feed(a, token)
        eager.feed(b, token)
    for a, b in pairs:
        _same(a, b)
    assert len(graphed.graphs.slots[1]) == stream_graph.SLOTS[1]


@pytest.mark.parametrize("device", DEVICES)
def test_a_resident_state_clones_and_restyles_like_any_other(device):
    graphed, eager = _pair(device)
    a, b = graphed.start(2), eager.start(2)
    graphed.feed(a, [7])
    eager.feed(b, [7])
    copy = a.clone()                       # a copy of the slot's buffers, not a view
    graphed.set_style(a, 5)                # in place, in the slot's buffers
    eager.set_style(b, 5)
    graphed.feed(a, [9])
    eager.feed(b, [9])
    _same(a, b)
    graphed.feed(copy, [9])                # the copy moves in; `a` moves out intact
    graphed.feed(a, [11])
    eager.feed(b, [11])
    _same(a, b)
    assert not torch.equal(copy.logits, a.logits)


@pytest.mark.parametrize("device", DEVICES)
def test_a_dropped_state_frees_its_slot(device):
    graphed, _ = _pair(device)
    state = graphed.start(0)
    (slot,) = [s for s in graphed.graphs.slots[1] if s.holds(state)]
    del state
    gc.collect()
    assert slot.free()


@pytest.mark.parametrize("device", DEVICES)
def test_a_token_count_that_is_not_the_batch_is_refused(device):
    graphed, _ = _pair(device)
    state = stack([graphed.start(0), graphed.start(1)])
    with pytest.raises(ValueError, match="batch of 2"):
        graphed.feed(state, [5])


def test_batches_over_the_limit_step_eagerly(monkeypatch):
    monkeypatch.setattr(stream_graph, "MAX_BATCH", 2)
    graphed, eager = _pair("cpu")
    a = stack([graphed.start(s) for s in range(3)])
    b = stack([eager.start(s) for s in range(3)])
    assert not graphed.graphs.feed(a, [4, 5, 6])
    graphed.feed(a, [4, 5, 6])
    eager.feed(b, [4, 5, 6])
    _same(a, b)
    assert 3 not in graphed.graphs.slots


def test_prepare_makes_every_slot_ahead():
    graphed, _ = _pair("cpu")
    graphed.graphs.prepare(range(1, 4))
    other = stream_graph.OTHER_SLOTS
    assert {b: len(s) for b, s in graphed.graphs.slots.items()} == \
        {1: stream_graph.SLOTS[1], 2: other, 3: other}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_uses_graphs_where_the_model_allows():
    assert Streamer(_model().to("cuda"), "cuda").graphs is not None
    assert Streamer(_model(**RECALL).to("cuda"), "cuda").graphs is not None
    assert Streamer(_model(attn_window=8).to("cuda"), "cuda").graphs is None
