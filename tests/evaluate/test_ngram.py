import numpy as np

from bridge.evaluate.metrics import accuracy, confusion, macro_f1
from bridge.evaluate.ngram import NGram, V


def test_kneser_ney_is_a_distribution_at_every_order():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(3, 30, size=rng.integers(5, 40)) for _ in range(200)]
    history = seqs[0][:6]
    for order in (1, 2, 4):
        model = NGram(order).fit(seqs)
        probe = [np.concatenate([history, [w]]) for w in range(V)]
        total = sum(np.exp(model.log_probs([p])[-1]) for p in probe)
        assert abs(total - 1.0) < 1e-9


def test_more_context_helps_on_structured_data():
    seqs = [np.array([5, 6, 7, 8] * 30) for _ in range(20)]
    b1, n = NGram(1).fit(seqs).bits(seqs)
    b3, _ = NGram(3).fit(seqs).bits(seqs)
    assert b3 / n < 0.2 * b1 / n


def test_metrics():
    t, p = np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2])
    assert accuracy(t, p) == 0.75
    assert abs(macro_f1(t, p) - np.mean([2 / 3, 2 / 3, 1.0])) < 1e-12
    assert confusion(t, p, 3).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
