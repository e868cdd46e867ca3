import pytest
import torch

from bridge.model.generator import Generator, GeneratorConfig
from bridge.model.stream import Streamer, stack
from bridge.model.stream_numpy import NumpyStep
from bridge.vocab import BAR, BOS, VOCAB_SIZE

RECALL = {"recall_window": 8, "recall_heads": 2, "recall_dim": 8,   # a ring shorter than
          "recall_match": True}                                       # the sequence, or not
VARIANTS = [{}, {"conv_kernel": 3}, {"attn_window": 16}, {"n_layer": 3, "attn_window": 8},
            {"conv_kernel": 3, **RECALL}, {"recall_window": 64}, {**RECALL, "recall_window": 64}]
# (device, numpy fast path): the torch path on CPU and CUDA, and the numpy path on CPU
# (the numpy path with its weights as trained: its 16-bit rounding is test_stream_fast's)
PATHS = [("cpu", False), ("cpu", True),
         pytest.param("cuda", False, marks=pytest.mark.skipif(
             not torch.cuda.is_available(), reason="no CUDA device"))]


def exact(streamer: Streamer) -> Streamer:
    if streamer.fast:
        streamer.numpy = NumpyStep(streamer, int16=False)
    return streamer


@pytest.mark.parametrize("device, fast", PATHS)
@pytest.mark.parametrize("extra", VARIANTS)
def test_streaming_matches_the_sequence_model(extra, device, fast):
    torch.manual_seed(0)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=48, **extra)).eval()
    tokens = torch.randint(3, VOCAB_SIZE, (1, 30))
    tokens[0, 0] = BOS
    with torch.no_grad():
        reference, _ = model(tokens, torch.tensor([4]))
    streamer = exact(Streamer(model.to(device), device, fast=fast))
    assert streamer.fast == (fast and not extra.get("attn_window"))
    state = streamer.start(4)                  # feeds BOS
    outputs = [state.logits.clone()]
    for t in tokens[0, 1:]:
        streamer.feed(state, t.view(1).to(device))
        outputs.append(state.logits.clone())
    assert torch.allclose(torch.cat(outputs).cpu(), reference[0], atol=1e-5)


@pytest.mark.parametrize("device, fast", PATHS)
@pytest.mark.parametrize("conv", [0, 3])
def test_phrase_positions_stream_as_the_sequence_model_counts_them(conv, device, fast):
    """Recall told each event's bar in the phrase: a stream started on bar 5 of the piece
    counts its BARs as the sequence model does from ``bars=5``, and the position matters."""
    torch.manual_seed(3)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=48, conv_kernel=conv, **RECALL,
                                      phrase_bars=4)).eval()
    torch.nn.init.normal_(model.phrase.weight)             # trained: not the zeros it starts as
    tokens = torch.randint(3, VOCAB_SIZE, (1, 40))
    tokens[0, 0] = BOS
    tokens[0, 1::6] = BAR                                  # a bar every six events
    with torch.no_grad():
        reference, _ = model(tokens, torch.tensor([4]), bars=torch.tensor([5]))
        elsewhere, _ = model(tokens, torch.tensor([4]), bars=torch.tensor([6]))
    assert not torch.allclose(reference, elsewhere, atol=1e-3)
    streamer = exact(Streamer(model.to(device), device, fast=fast))
    state = streamer.start(4, bar=5)
    outputs = [state.logits.clone()]
    for t in tokens[0, 1:]:
        streamer.feed(state, t.view(1).to(device))
        outputs.append(state.logits.clone())
    assert torch.allclose(torch.cat(outputs).cpu(), reference[0], atol=1e-5)
    assert int(state.bar) == 5 + int((tokens == BAR).sum()) - 1


@pytest.mark.parametrize("extra, fast", [({"attn_window": 8}, False), (RECALL, False),
                                         (RECALL, True)])
def test_batched_sessions_match_single_sessions(extra, fast):
    torch.manual_seed(1)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=32, **extra)).eval()
    streamer = Streamer(model, fast=fast)
    singles = [streamer.start(s) for s in (0, 3, 7)]
    batch = stack(singles)
    seqs = torch.randint(3, VOCAB_SIZE, (3, 12))
    for step in range(12):
        for i, state in enumerate(singles):
            streamer.feed(state, seqs[i, step].view(1))
        streamer.feed(batch, seqs[:, step])
    for i, state in enumerate(singles):
        assert torch.allclose(batch.row(i).logits, state.logits, atol=1e-5)


@pytest.mark.parametrize("device, fast", PATHS)
@pytest.mark.parametrize("extra", [{"attn_window": 8}, {"conv_kernel": 3, **RECALL}])
def test_a_batch_keeps_some_rows_in_place_and_they_step_as_before(extra, device, fast):
    """keep: the rows kept move up within the batch's own memory and go on as they would
    have alone; the rows left behind are gone."""
    torch.manual_seed(2)
    model = Generator(GeneratorConfig(n_embd=32, n_hidden=32, **extra)).eval().to(device)
    streamer = Streamer(model, device, fast=fast)
    singles = [streamer.start(s) for s in range(5)]
    batch = stack(singles)
    seqs = torch.randint(3, VOCAB_SIZE, (5, 16), device=device)
    for step in range(8):
        for i, state in enumerate(singles):
            streamer.feed(state, seqs[i, step].view(1))
        streamer.feed(batch, seqs[:, step])
    memory = batch.h.data_ptr(), batch.recall_keys is None or batch.recall_keys.data_ptr()
    kept = batch.keep([1, 3, 4])
    assert kept.batch == 3
    assert (kept.h.data_ptr(), kept.recall_keys is None or kept.recall_keys.data_ptr()) == memory
    for step in range(8, 16):
        for i in (1, 3, 4):
            streamer.feed(singles[i], seqs[i, step].view(1))
        streamer.feed(kept, seqs[[1, 3, 4], step])
    for row, i in enumerate((1, 3, 4)):
        assert torch.allclose(kept.row(row).logits, singles[i].logits, atol=1e-5)
        assert torch.allclose(kept.row(row).h, singles[i].h, atol=1e-5)


def test_keep_refuses_rows_out_of_order_or_out_of_the_batch():
    streamer = Streamer(Generator(GeneratorConfig(n_embd=16, n_hidden=16)).eval())
    batch = stack([streamer.start(s) for s in range(3)])
    for rows in ([2, 1], [0, 0], [1, 3], [-1, 0]):
        with pytest.raises(ValueError, match="ascend"):
            batch.keep(rows)


def test_set_style_changes_only_what_comes_next():
    model = Generator(GeneratorConfig(n_embd=16, n_hidden=16)).eval()
    streamer = Streamer(model)
    a, b = streamer.start(1), streamer.start(1)
    streamer.set_style(b, 2)
    assert torch.equal(a.h, b.h)
    streamer.feed(a, torch.tensor([5]))
    streamer.feed(b, torch.tensor([5]))
    assert not torch.allclose(a.h, b.h)
