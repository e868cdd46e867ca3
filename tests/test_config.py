import dataclasses

import pytest
from click.testing import CliRunner

from bridge.config import Config, ConfigError, env_name


def test_defaults_toml_env_cli_in_that_order(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('osc_port = 9100\nreply_port = 9101\ntempo = 90.0\nset = ["mode=manual"]\n')
    env = {"CONTINUO_REPLY_PORT": "9201", "CONTINUO_TEMPO": "100"}
    config = Config.load(file=toml, env=env, cli={"tempo": 110.0, "midi": None})
    assert config.osc_port == 9100          # TOML
    assert config.reply_port == 9201        # env over TOML
    assert config.tempo == 110.0            # CLI over env
    assert config.midi is True              # default (unset CLI flag)
    assert config.pairs("set") == {"mode": "manual"}


def test_every_field_has_an_env_name_and_help():
    for f in dataclasses.fields(Config):
        assert env_name(f.name) == "CONTINUO_" + f.name.upper()
        assert f.metadata["help"]


def test_env_values_are_parsed_and_checked():
    env = {"CONTINUO_MIDI": "off", "CONTINUO_CC": "temperature=21, top_p=22"}
    config = Config.load(env=env, cli={})
    assert config.midi is False and config.pairs("cc") == {"temperature": "21", "top_p": "22"}
    with pytest.raises(ConfigError, match="CONTINUO_OSC_PORT"):
        Config.load(env={"CONTINUO_OSC_PORT": "lots"})
    with pytest.raises(ConfigError, match="osc_port"):
        Config.load(env={"CONTINUO_OSC_PORT": "70000"})
    with pytest.raises(ConfigError, match="device"):
        Config.load(env={"CONTINUO_DEVICE": "tpu"})


def test_midi_latency_is_auto_or_milliseconds(tmp_path):
    assert Config().midi_latency_ms is None                          # auto: measured
    assert Config.load(env={"CONTINUO_MIDI_LATENCY": "0"}).midi_latency_ms == 0.0
    (tmp_path / "c.toml").write_text("midi_latency = 4.5\n")
    assert Config.load(file=tmp_path / "c.toml", env={}).midi_latency_ms == 4.5
    for bad in ("soon", "-1", "500", "nan"):
        with pytest.raises(ConfigError, match=r"midi_latency: .* milliseconds"):
            Config(midi_latency=bad)


@pytest.mark.parametrize("field, bad, message", [
    ("max_sessions", 0, "at least 1"), ("threads", 0, "at least 1"),
    ("session_timeout", -5.0, "seconds above 0"), ("session_timeout", float("nan"), "seconds"),
    ("shutdown_timeout", float("inf"), "seconds above 0"), ("tempo", float("nan"), "20-400"),
    ("cc", ("temperature=200",), "controllers 0-119"), ("cc", ("tempo=21",), "no parameter"),
    ("cc", ("temperature=x",), "not a controller"), ("cc", ("top_p=102",), "both"),
    ("signature", "3-4", "not a time signature"), ("signature", "3/5", "denominator"),
    ("signature", "0/4", "numerator"),
])
def test_numbers_and_controls_are_checked_before_anything_starts(field, bad, message):
    """Refused at once, MIDI or not (--no-midi: a wrong --cc is still a mistake)."""
    with pytest.raises(ConfigError, match=message):
        Config(midi=False, **{field: bad})


def test_toml_errors_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("osc_prot = 1\n")
    with pytest.raises(ConfigError, match="osc_prot"):
        Config.load(file=bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(file=tmp_path / "none.toml", env={})
    (tmp_path / "run.toml").write_text("[run]\nosc_port = 9300\n")
    assert Config.load(file=tmp_path / "run.toml", env={}).osc_port == 9300


def test_run_flags_are_generated_from_the_config():
    from bridge.cli.run import run

    help_text = CliRunner().invoke(run, ["--help"]).output
    for f in dataclasses.fields(Config):
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        assert flag.split("/")[0] in help_text, flag
