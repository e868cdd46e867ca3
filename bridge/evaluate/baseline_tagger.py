"""The tagger's baseline: logistic regression on pitch-class and interval histograms.

Features of a window: the normalised histogram of its notes' pitch classes (12), of the
intervals between successive note starts' pitches clipped to ±12 semitones (25), and the
share of drum notes (1). Two multinomial logistic regressions (genre; sub-style over the
windows that have one), fitted with L2-regularised full-batch L-BFGS.
"""

from __future__ import annotations

import numpy as np
import torch

from bridge.vocab import DRUM_BASE, PITCH_BASE, VEL_BASE

N_FEATURES = 12 + 25 + 1


def features(tokens: np.ndarray) -> np.ndarray:
    t = np.asarray(tokens)
    notes = t[(t >= PITCH_BASE) & (t < VEL_BASE)]
    f = np.zeros(N_FEATURES, dtype=np.float32)
    if notes.size == 0:
        return f
    drum = notes >= DRUM_BASE
    pitch = np.where(drum, notes - DRUM_BASE, notes - PITCH_BASE)
    f[:12] = np.bincount(pitch % 12, minlength=12) / notes.size
    if notes.size > 1:
        steps = np.clip(np.diff(pitch), -12, 12) + 12
        f[12:37] = np.bincount(steps, minlength=25) / steps.size
    f[37] = drum.mean()
    return f


class LogisticRegression:
    def __init__(self, n_classes: int, l2: float = 1e-3) -> None:
        self.n_classes, self.l2 = n_classes, l2
        self.w = np.zeros((N_FEATURES + 1, n_classes), dtype=np.float32)

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int = 200) -> LogisticRegression:
        X = torch.from_numpy(np.hstack([x, np.ones((len(x), 1), np.float32)]))
        Y = torch.from_numpy(np.asarray(y, dtype=np.int64))
        # standardise inside the model: keeps L-BFGS well conditioned
        self.mu = X[:, :-1].mean(0)
        self.sd = X[:, :-1].std(0).clamp_min(1e-6)
        X[:, :-1] = (X[:, :-1] - self.mu) / self.sd
        W = torch.zeros(N_FEATURES + 1, self.n_classes, requires_grad=True)
        opt = torch.optim.LBFGS([W], max_iter=steps, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(X @ W, Y) + self.l2 * (W[:-1] ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.w = W.detach().numpy()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        X = (torch.from_numpy(x) - self.mu) / self.sd
        X = torch.hstack([X, torch.ones(len(x), 1)])
        return (X @ torch.from_numpy(self.w)).argmax(1).numpy()
