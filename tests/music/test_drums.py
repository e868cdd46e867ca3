"""Drum keys as a General MIDI kit plays them."""

from bridge.music.drums import GM_KEYS, TD11_TO_GM, gm_key


def test_the_roland_keys_a_gm_kit_lacks_play_on_their_instruments_keys():
    assert gm_key(22) == 42 and gm_key(26) == 46 and gm_key(58) == 43
    assert all(gm_key(k) in GM_KEYS for k in TD11_TO_GM)
    assert [gm_key(k) for k in (36, 38, 42, 44, 46, 51)] == [36, 38, 42, 44, 46, 51]
