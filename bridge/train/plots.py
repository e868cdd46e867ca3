"""Loss curves as PNG (matplotlib, headless)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def plot_history(history: list[dict], path: Path, title: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # optional dependency: curves are a convenience
        log.debug("matplotlib missing: no curves written")
        return
    epochs = [h["epoch"] for h in history]
    keys = ["train_loss", "val_loss"]
    extra = [k for k in history[-1] if k.startswith("val_") and k not in keys
             and isinstance(history[-1][k], float)]
    fig, axes = plt.subplots(1, 2 if extra else 1, figsize=(11 if extra else 6, 4),
                             squeeze=False)
    for k in keys:
        axes[0, 0].plot(epochs, [h[k] for h in history], marker="o", label=k)
    axes[0, 0].set(xlabel="epoch", ylabel="loss (nats)", title=f"{title}: loss")
    axes[0, 0].legend()
    if extra:
        for k in extra:
            axes[0, 1].plot(epochs, [h.get(k) for h in history], marker="o", label=k)
        axes[0, 1].set(xlabel="epoch", title=f"{title}: validation")
        axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
