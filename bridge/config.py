"""The daemon's configuration: one frozen dataclass, three ways to set it.

Every field of :class:`Config` is at once a CLI flag (``--osc-port``), an environment
variable (``CONTINUO_OSC_PORT``) and a TOML key (``osc_port``). Precedence, lowest first:
defaults, the TOML file, the environment, the command line. Nothing else declares them.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_origin, get_type_hints

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ENV_PREFIX = "CONTINUO_"
DEFAULT_CONFIG_FILE = Path.home() / ".config" / "continuo" / "config.toml"
MIDI_LATENCY_MAX_MS = 200.0


class ConfigError(ValueError):
    """A configuration value that cannot be used, with where it came from."""


def _opt(help: str, *, choices: tuple[str, ...] = (), flag: str = "") -> dict[str, Any]:
    return {"help": help, "choices": choices, "flag": flag}


@dataclass(frozen=True)
class Config:
    # model and compute
    model: str = field(default="", metadata=_opt(
        "Model directory holding generator/ and tagger/ checkpoints (default: the shipped model)."))
    device: str = field(default="auto", metadata=_opt(
        "Where inference runs; auto picks the faster path for batch-1 streaming.",
        choices=("auto", "cpu", "cuda")))
    threads: int = field(default=1, metadata=_opt(
        "Torch CPU threads for inference (1 leaves a core for I/O)."))
    # OSC
    osc_host: str = field(default="127.0.0.1", metadata=_opt("Address the OSC server binds."))
    osc_port: int = field(default=9000, metadata=_opt("UDP port the daemon listens on for OSC."))
    reply_port: int = field(default=9001, metadata=_opt(
        "UDP port replies go to when a client names none in its hello."))
    # MIDI
    midi: bool = field(default=True, metadata=_opt(
        "Open MIDI ports (--no-midi: OSC only, for machines without a MIDI API).",
        flag="--midi/--no-midi"))
    midi_api: str = field(default="auto", metadata=_opt(
        "MIDI backend; auto tries this platform's and serves OSC only if none works.",
        choices=("auto", "jack", "alsa", "coremidi", "winmm")))
    midi_in: str = field(default="", metadata=_opt(
        "Connect to this existing input port (substring match) instead of creating 'Continuo In'."))
    midi_out: str = field(default="", metadata=_opt(
        "Connect to this existing output port instead of creating 'Continuo Out'."))
    midi_clock: str = field(default="auto", metadata=_opt(
        "Beat clock of the MIDI port session: follow MIDI clock on the input, or run internally.",
        choices=("auto", "midi", "internal")))
    midi_latency: str = field(default="auto", metadata=_opt(
        "Milliseconds the MIDI system takes (clock in plus notes out): notes are sent this much "
        "early so they land on the grid; auto: two hops through the MIDI API, measured at "
        "startup; 0 sends on time."))
    tempo: float = field(default=120.0, metadata=_opt("Tempo of the internal clock (bpm)."))
    signature: str = field(default="4/4", metadata=_opt(
        "Time signature of the MIDI port session, e.g. 3/4 or 7/8 (MIDI clock carries none): "
        "where its answers come in and how its bars are heard."))
    band: str = field(default="", metadata=_opt(
        "The MIDI port session plays in this band, with the devices that join it "
        "(docs/ableton.md, 'A band')."))
    cc: tuple[str, ...] = field(default=(), metadata=_opt(
        "MIDI CC mapping NAME=CC (repeatable), overriding the defaults, e.g. temperature=21."))
    # sessions
    set: tuple[str, ...] = field(default=(), metadata=_opt(
        "Default session parameter NAME=VALUE (repeatable), e.g. mode=accompany."))
    prepare: bool = field(default=True, metadata=_opt(
        "Keep the answer to a request sampled while the performer pauses (up to its first "
        "note; with the candidates parameter above 1, whole, and the candidates' choice), so "
        "that it starts at once (--no-prepare: one draw sampled on request, less idle work).",
        flag="--prepare/--no-prepare"))
    max_sessions: int = field(default=32, metadata=_opt("Most sessions served at once."))
    session_timeout: float = field(default=30.0, metadata=_opt(
        "Close an OSC session not heard from for this many seconds (devices heartbeat)."))
    # service
    log_level: str = field(default="info", metadata=_opt(
        "Log verbosity.", choices=("debug", "info", "warning", "error")))
    shutdown_timeout: float = field(default=0.8, metadata=_opt(
        "Seconds a clean shutdown may take before it is forced."))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{f.name}: {value!r} is not one of {', '.join(choices)}")
        for name in ("osc_port", "reply_port"):
            port = getattr(self, name)
            if not 0 < port < 65536:
                raise ConfigError(f"{name}: {port} is not a UDP port (1-65535)")
        if not 20.0 <= self.tempo <= 400.0:
            raise ConfigError(f"tempo: {self.tempo} bpm is outside 20-400")
        _ = self.midi_latency_ms                # auto or a number of milliseconds
        _ = self.time_signature
        for name, low in (("threads", 1), ("max_sessions", 1)):
            if getattr(self, name) < low:
                raise ConfigError(f"{name}: {getattr(self, name)} must be at least {low}")
        for name in ("session_timeout", "shutdown_timeout"):
            seconds = getattr(self, name)
            if not 0.0 < seconds < math.inf:
                raise ConfigError(f"{name}: {seconds} is not a number of seconds above 0")
        for name in ("cc", "set"):
            for item in getattr(self, name):
                if "=" not in item:
                    raise ConfigError(f"{name}: {item!r} is not NAME=VALUE")
        from bridge.live.params import ParamError, cc_map, param

        try:
            if self.band:
                param("band").validate(self.band)
            cc_map(self.pairs("cc"))             # MIDI's controls, checked with MIDI off too
        except ParamError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def time_signature(self) -> tuple[int, int]:
        """``signature`` as (numerator, denominator)."""
        from bridge.timing.clock import ClockError, check_signature

        num, _, den = self.signature.partition("/")
        try:
            return check_signature(int(num), int(den))
        except (ValueError, ClockError) as exc:
            raise ConfigError(f"signature: {self.signature!r} is not a time signature such as "
                              f"3/4 ({exc})") from None

    @property
    def midi_latency_ms(self) -> float | None:
        """``midi_latency`` in milliseconds, None for auto (measure it)."""
        if self.midi_latency == "auto":
            return None
        try:
            ms = float(self.midi_latency)
        except ValueError:
            ms = math.nan
        if not 0.0 <= ms <= MIDI_LATENCY_MAX_MS:
            raise ConfigError(f"midi_latency: {self.midi_latency!r} is not auto or a number "
                              f"of milliseconds (0-{MIDI_LATENCY_MAX_MS:g})")
        return ms

    def pairs(self, name: str) -> dict[str, str]:
        """A NAME=VALUE tuple field (``cc``, ``set``) as a dict."""
        return dict(item.split("=", 1) for item in getattr(self, name))

    # -- building one -----------------------------------------------------------------

    @classmethod
    def load(
        cls,
        *,
        file: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        cli: Mapping[str, Any] | None = None,
    ) -> Config:
        """Merge defaults < TOML file < environment < CLI (``None`` CLI values are unset)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = file or env.get(ENV_PREFIX + "CONFIG")
        if path:
            values.update(_from_toml(Path(path), required=True))
        elif DEFAULT_CONFIG_FILE.exists():
            values.update(_from_toml(DEFAULT_CONFIG_FILE, required=False))
        values.update(_from_env(env))
        values.update({k: v for k, v in (cli or {}).items() if v is not None and v != ()})
        return cls(**values)


def field_types() -> dict[str, type]:
    """Each field's plain Python type (``tuple`` for the repeatable ones)."""
    hints = get_type_hints(Config)
    return {f.name: (tuple if get_origin(hints[f.name]) is tuple else hints[f.name])
            for f in dataclasses.fields(Config)}


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def _coerce(name: str, raw: Any, source: str) -> Any:
    kind = field_types()[name]
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{raw!r} is not a boolean")
        if kind is tuple:
            if isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            return tuple(str(item) for item in raw)
        if kind is int and isinstance(raw, float):
            raise ValueError(f"{raw!r} is not an integer")
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {name}: {exc}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    return {f.name: _coerce(f.name, env[env_name(f.name)], env_name(f.name))
            for f in dataclasses.fields(Config) if env_name(f.name) in env}


def _from_toml(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    data = data.get("run", data)  # keys at the top level or under [run]
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}")
    return {k: _coerce(k, v, str(path)) for k, v in data.items()}
