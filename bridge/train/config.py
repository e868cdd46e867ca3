"""Training configs: a TOML file (``models/configs/NAME.toml``) read into dataclasses.

    kind = "generator"            # or "tagger"
    out = "runs/generator"        # checkpoints, curves, logs
    seed = 0
    init = "models/default"       # optional: fine-tune this checkpoint (its architecture)
    [data]   cache, datasets (name -> sampling weight), window, augmentation ...
    [model]  fields of GeneratorConfig / TaggerConfig
    [optim]  lr, batch, epochs, steps_per_epoch, patience, clip, schedule ...
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from bridge.model.generator import GeneratorConfig
from bridge.model.tagger import TaggerConfig


class TrainConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DataConfig:
    cache: str = "data/cache"
    datasets: dict[str, float] = field(default_factory=dict)   # empty = all, by size
    window: int = 256                 # generator: tokens per window
    min_bars: int = 2                 # tagger: window length range in bars
    max_bars: int = 8
    eval_bars: int = 4
    max_tokens: int = 768             # tagger: longest training window in tokens
    transpose: int = 5                # ± semitones (pitched sequences)
    velocity_shift: int = 1           # ± velocity bins
    perform: float = 0.0              # tagger: share of windows played another way (their
    #                                   dynamics and timing drawn afresh: bridge.train.perform)
    melodies: float = 0.0             # tagger: share of windows drawn from a melody alone,
    #                                   where the style has one (0: as the readings fall)
    style_dropout: float = 0.15       # generator: share of windows trained with no style
    genre_only: float = 0.25          # generator: share trained with the genre alone
    arrange: float = 0.0              # generator: share of windows (of pieces with several
    #                                   parts) whose first bars keep one part alone
    phrase_start: float = 0.0         # generator: share of windows that start on a phrase
    #                                   line (a bar whose index in the piece is a multiple of
    #                                   ``phrase_bars``: the piece's first bar, a section's),
    #                                   so the model learns the form: where phrases return
    phrase_bars: int = 8
    switch: float = 0.0               # generator: share of windows led into by 1-8 bars of
    #                                   another genre, unscored, their own in its key under
    #                                   their tag: a style request's meaning (train.switch)
    mix: float = 0.0                  # generator: share of pitched windows with a groove laid
    #                                   under them, bar on bar (train.mix): drums and pitched
    #                                   parts heard together, which no source has
    val_windows: int = 3000           # most validation windows per epoch


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 2e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.0
    batch: int = 32
    epochs: int = 30
    steps_per_epoch: int = 500
    warmup: int = 200                 # steps (with max_minutes: at most WARMUP_SHARE of it)
    schedule: str = "cosine"          # cosine | constant
    patience: int = 4                 # epochs without val improvement before stopping
    clip: float = 1.0
    max_minutes: float = 0.0          # training-time budget (0 = none): the LR schedule
    #                                   follows steps or time, whichever is further along,
    #                                   and training ends when the budget is spent
    recall_aux: float = 0.0           # generator with recall: weight of its heads' own
    #                                   loss beside the model's (see heads_nll)
    keep_init: float = 0.0            # with ``init``: share of the starting weights in the
    #                                   best checkpoint (0 = none): the trained weights are
    #                                   averaged with those it started from, so a fine-tune
    #                                   keeps what the start knew (weight-space ensembling)
    keep_from: str = ""               # with ``keep_init``: average with this checkpoint or
    #                                   model folder instead of ``init`` (a chain of runs
    #                                   averaged with the model it began from)
    train_only: str = ""              # train only the parameters under this name (e.g.
    #                                   "recall": grow recall on a trained model, the rest
    #                                   frozen); empty = all
    lr_scale: dict[str, float] = field(default_factory=dict)   # the learning rate times
    #                                   this for the parameters under a name (e.g.
    #                                   {phrase = 30}: a part grown on a trained model,
    #                                   which starts at zero and must catch up with it)


@dataclass(frozen=True)
class TrainConfig:
    kind: str
    out: str
    seed: int = 0
    threads: int = 0                  # torch CPU threads (0 = torch's default)
    init: str = ""                    # a checkpoint (or model folder) to fine-tune
    source: str = ""                  # the TOML file it was read from (for model cards)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    model: dict[str, Any] = field(default_factory=dict)

    def model_config(self) -> GeneratorConfig | TaggerConfig:
        cls = GeneratorConfig if self.kind == "generator" else TaggerConfig
        return cls.from_dict(self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SHARES = ("perform", "melodies", "style_dropout", "genre_only", "arrange", "phrase_start",
          "switch", "mix", "keep_init")          # each a share: 0 to 1
AT_LEAST = {"window": 8, "min_bars": 1, "max_bars": 1, "eval_bars": 1, "max_tokens": 8,
            "transpose": 0, "velocity_shift": 0, "phrase_bars": 1, "val_windows": 1,
            "lr": 0, "min_lr": 0, "weight_decay": 0, "batch": 1, "epochs": 1, "steps_per_epoch": 1,
            "warmup": 0, "patience": 1, "clip": 0, "max_minutes": 0, "recall_aux": 0}
SCHEDULES = ("cosine", "constant")


def _checked(name: str, value: Any, default: Any) -> Any:
    """``value`` for the key ``name``, of its default's type and in its range, else a
    clear error (a wrong value failed deep in training, or hung before its first step)."""
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        article = "an" if kind is int else "a"
        raise TrainConfigError(f"{name} = {value!r}: {article} {kind.__name__} is wanted")
    if kind in (int, float):
        if not math.isfinite(value):
            raise TrainConfigError(f"{name} = {value!r}: a finite number is wanted")
        if name in SHARES and not 0 <= value <= 1:
            raise TrainConfigError(f"{name} = {value!r}: a share from 0 to 1 is wanted")
        if name in AT_LEAST and value < AT_LEAST[name]:
            raise TrainConfigError(f"{name} = {value!r}: at least {AT_LEAST[name]}")
    if kind is dict and not all(isinstance(x, int | float) and not isinstance(x, bool)
                                and math.isfinite(x) and x >= 0 for x in value.values()):
        raise TrainConfigError(f"{name} = {value!r}: each value a number of 0 or more")
    if name == "schedule" and value not in SCHEDULES:
        raise TrainConfigError(f"{name} = {value!r}: one of {', '.join(SCHEDULES)}")
    return value


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise TrainConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    defaults = cls()
    try:
        built = cls(**{k: _checked(k, v, getattr(defaults, k)) for k, v in data.items()})
    except TrainConfigError as exc:
        raise TrainConfigError(f"{where}: {exc}") from None
    if getattr(built, "max_bars", 1) < getattr(built, "min_bars", 1):
        raise TrainConfigError(f"{where}: max_bars {built.max_bars} is under min_bars "
                               f"{built.min_bars}")
    return built


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a TOML training config; ``overrides`` maps dotted keys (``optim.lr``) to values."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TrainConfigError(f"training config {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrainConfigError(f"{path}: {exc}") from None
    for key, value in (overrides or {}).items():
        section, _, name = key.rpartition(".")
        (raw.setdefault(section, {}) if section else raw)[name] = value
    kind = raw.get("kind")
    if kind not in ("generator", "tagger"):
        raise TrainConfigError(f"{path}: kind must be 'generator' or 'tagger', got {kind!r}")
    try:
        config = TrainConfig(
            kind=kind, out=raw.get("out", f"runs/{kind}"), seed=raw.get("seed", 0),
            threads=raw.get("threads", 0), init=raw.get("init", ""), source=str(path),
            data=_build(DataConfig, raw.get("data", {}), f"{path} [data]"),
            optim=_build(OptimConfig, raw.get("optim", {}), f"{path} [optim]"),
            model=raw.get("model", {}),
        )
        config.model_config()   # validates [model] against the model's config
    except TypeError as exc:
        raise TrainConfigError(f"{path}: {exc}") from None
    extra = sorted(set(raw) - {"kind", "out", "seed", "threads", "init", "data", "optim",
                               "model"})
    if extra:
        raise TrainConfigError(f"{path}: unknown key(s) {', '.join(extra)}")
    return config
