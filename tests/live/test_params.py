import math

import pytest

from bridge.live.params import PARAMS, ParamError, param, settings


@pytest.mark.parametrize("name", [p.name for p in PARAMS if p.kind is float])
@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf, "nan", "NaN", "inf", "-inf"])
def test_a_number_that_is_not_finite_is_refused_whichever_way_it_comes(name, raw):
    """As a float (OSC) or as text (--set, an OSC string): NaN passes no range check."""
    with pytest.raises(ParamError, match=f"{name} takes finite values"):
        param(name).validate(raw)


def test_numbers_as_text_still_read():
    assert param("temperature").validate(" 0.5 ") == 0.5
    assert param("length_bars").validate("4") == 4
    with pytest.raises(ParamError, match="length_bars takes int values; got 'nan'"):
        param("length_bars").validate("nan")
    with pytest.raises(ParamError, match="within"):
        param("temperature").validate("9")


def test_settings_from_the_command_line_are_typed_and_checked():
    """`continuo run --set` and `continuo eval --set`: one reading for both."""
    assert settings({"trade_bars": "4", "temperature": "0.5", "mode": "CALL"}) == {
        "trade_bars": 4, "temperature": 0.5, "mode": "call"}
    with pytest.raises(ParamError, match=r"--set temperature=nan: temperature takes finite"):
        settings({"temperature": "nan"})
    with pytest.raises(ParamError, match="unknown parameter"):
        settings({"tempo": "120"})
    with pytest.raises(ParamError, match="pitch_low 80 is above pitch_high 70"):
        settings({"pitch_low": "80", "pitch_high": "70"})
    with pytest.raises(ParamError, match="it knows: folk"):
        settings({"style": "polka"}, ("", "folk"))
