"""Classification metrics: accuracy, macro-F1 and confusion matrices (numpy, no sklearn)."""

from __future__ import annotations

import numpy as np


def confusion(true: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    """``[n, n]`` counts, rows = true class, columns = predicted class."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.asarray(true), np.asarray(pred)), 1)
    return m


def accuracy(true: np.ndarray, pred: np.ndarray) -> float:
    true, pred = np.asarray(true), np.asarray(pred)
    return float((true == pred).mean()) if true.size else float("nan")


def macro_f1(true: np.ndarray, pred: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Mean F1 over ``labels`` (default: the classes present in ``true``)."""
    true, pred = np.asarray(true), np.asarray(pred)
    if not true.size:
        return float("nan")
    labels = np.unique(true) if labels is None else np.asarray(labels)
    scores = []
    for c in labels:
        tp = np.sum((pred == c) & (true == c))
        fp = np.sum((pred == c) & (true != c))
        fn = np.sum((pred != c) & (true == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))
