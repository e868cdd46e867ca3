"""What Continuo plays in a session: parts, channels, style (bridge/live/voice.py)."""

from bridge.live.params import PART_CHANNELS
from bridge.music.piece import Note
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY

from .test_session import make


def test_a_band_stream_plays_its_members_parts_and_says_when_they_change(sim):
    s, _, _ = make(sim(120.0))
    v = s.voice
    assert v.parts() is None                       # alone, auto: any pitched part
    assert v.for_band((frozenset({HARMONY}), frozenset({BASS})))
    assert v.parts() == {HARMONY, BASS}
    assert not v.for_band((frozenset({BASS}), frozenset({HARMONY})))   # the same parts
    assert v.for_band((frozenset({DRUMS}),))
    gen = v.generation(s.time.now_beat() + 1, s.time.now_beat() + 5, note_now=True,
                       on_done=lambda g, r: None)
    assert gen.parts == {DRUMS} and gen.constraints.drums is True
    s.close()


def test_style_and_guidance_as_the_worker_needs_them(sim):
    s, _, _ = make(sim(120.0))
    styles = s.engine.generator.config.styles
    assert (s.voice.style_index, s.voice.guided) == (0, False)
    s.set_param("style", "jazz")
    assert s.voice.style_index == styles.index("jazz") and s.voice.guided
    s.set_param("guidance", 0)                     # the style alone, no unstyled twin
    assert s.voice.style_index == styles.index("jazz") and not s.voice.guided
    s.close()


def test_each_note_leaves_on_its_channel(sim):
    s, _, _ = make(sim(120.0), channel=5)
    assert s.voice.channel(Note(0, 1, 60, 90, part=BASS)) == 5
    s.set_param("channels", "parts")
    assert s.voice.channel(Note(0, 1, 60, 90, part=BASS)) == PART_CHANNELS["bass"]
    assert s.voice.channel(Note(0, 1, 60, 90, part=MELODY)) == PART_CHANNELS["melody"]
    s.close()
