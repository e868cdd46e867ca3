"""Fine-tuning: start from a trained checkpoint instead of random weights.

``continuo train generator --config ... --init models/default`` trains the shipped generator
further on the config's data (a user's own MIDI, say). The architecture comes from the
checkpoint, except that a generator without recall grows it when the config's [model] asks
for one (``recall_window`` > 0): its other weights carry over, the recall block starts
fresh with its gate trusting the old prediction; likewise recall's phrase positions
(``phrase_bars``), which start at zero (recall as before). The label tables (the
generator's styles, the tagger's genres and sub-styles) become the checkpoint's, followed
by the new data's new labels, so a folder of `ambient` files adds a style without
renumbering the others (a tagger's sub-style shares are the new data's). Rows of
known labels keep their weights; a new style starts as "no style" (a copy of row 0), a new
tagger class from a fresh row. A checkpoint of an older vocabulary (whose tokens are the
first ones of this one's: version 1 lacked the PART tokens) grows its token rows: a new
token's embedding and output row start as the mean of the old ones.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from bridge.model import checkpoint
from bridge.vocab import VOCAB_SIZE

log = logging.getLogger(__name__)

# per kind: config field of each label table -> the parameters whose rows it indexes
LABEL_TABLES = {
    "generator": {"styles": ("style_emb.weight",)},
    "tagger": {"genres": ("genre_head.weight", "genre_head.bias"),
               "substyles": ("sub_head.weight", "sub_head.bias")},
}


# per kind: the parameters whose rows are the vocabulary's tokens
TOKEN_TABLES = {"generator": ("tok_emb.weight", "head.weight", "head.bias"),
                "tagger": ("emb.weight",)}

# per kind: parts an --init checkpoint grows when the config asks for one it lacks (each
# the config fields it takes, the first of them saying whether the part is there)
GROWABLE = {"generator": (("recall_window", "recall_heads", "recall_dim", "recall_match"),
                          ("phrase_bars",))}


def checkpoint_folder(path: str | Path, kind: str) -> Path:
    """``path`` itself, or its ``kind`` subfolder when it is a model folder."""
    path = Path(path)
    return path / kind if (path / kind / checkpoint.META).exists() else path


def base_model(path: str | Path, kind: str, data_labels: dict[str, list[str]],
               asked: dict | None = None):
    """The checkpoint's model, and the config dict of the model to train: its architecture
    (grown by the parts ``asked`` for that it lacks, see ``GROWABLE``), its label tables
    extended by ``data_labels``' new entries."""
    base, _ = checkpoint.load(checkpoint_folder(path, kind), kind,
                              versions=tuple(checkpoint.VOCAB_SIZES))
    config = {**base.config.to_dict(), "vocab_size": VOCAB_SIZE}
    if config.pop("style_strength", None):    # measured on the weights before, not these
        log.info("fine-tuning: the style strengths start again at 1 "
                 "(measure them: continuo eval --task styles --split train --write-model)")
    for grow in GROWABLE.get(kind, ()):
        if not config.get(grow[0]) and (asked or {}).get(grow[0]):
            config.update({k: asked[k] for k in grow if k in asked})
            log.info("fine-tuning: adding %s", ", ".join(f"{k}={config[k]}" for k in grow))
    unused = {k: v for k, v in (asked or {}).items()
              if k in config and k not in data_labels and config[k] != v}
    if unused:                          # (the checkpoint's own architecture is trained)
        log.warning("fine-tuning %s keeps its architecture: %s not used", path,
                    ", ".join(f"model.{k} = {v!r} (it has {config[k]!r})"
                              for k, v in sorted(unused.items())))
    for field, labels in data_labels.items():
        known = list(config[field])
        config[field] = known + [label for label in labels if label not in known]
        if len(config[field]) > len(known):
            log.info("fine-tuning: new %s %s", field, ", ".join(config[field][len(known):]))
    return base, config


@torch.no_grad()
def transfer(base: torch.nn.Module, model: torch.nn.Module, kind: str) -> None:
    """Copy ``base``'s weights into ``model`` (same architecture, longer label tables)."""
    tables = {name: field for field, names in LABEL_TABLES[kind].items() for name in names}
    target = model.state_dict()
    for name, value in base.state_dict().items():
        if name in TOKEN_TABLES[kind] and value.size(0) < target[name].size(0):
            n = value.size(0)
            target[name][:n].copy_(value)
            target[name][n:].copy_(value.mean(0) if name != "emb.weight" else value[1:].mean(0))
            continue
        if name not in tables:
            target[name].copy_(value)
            continue
        n = value.size(0)                       # the base's labels come first
        target[name][:n].copy_(value)
        if kind == "generator" and target[name].size(0) > n:
            target[name][n:].copy_(value[0])   # a new style begins as no style


def keep_init(model: torch.nn.Module, init: str | Path, kind: str, share: float) -> None:
    """Average ``model``'s weights, in place, with those of the checkpoint it was
    fine-tuned from (``init``): ``share`` of the starting weights (its tables grown as in
    :func:`transfer`), the rest the trained ones."""
    base, _ = checkpoint.load(checkpoint_folder(init, kind), kind,
                              versions=tuple(checkpoint.VOCAB_SIZES))
    start = type(model)(model.config)
    transfer(base, start, kind)
    begin, trained = start.state_dict(), model.state_dict()
    model.load_state_dict({name: (1.0 - share) * value + share * begin[name].to(value.device)
                           if value.is_floating_point() else value
                           for name, value in trained.items()})
