import math

import pytest

from bridge.live.params import PARAMS, ParamError, param


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
