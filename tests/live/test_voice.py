"""What Continuo plays in a session: parts, channels, style (bridge/live/voice.py)."""

from bridge.live.context import DRUMS_APART, PITCHED_APART
from bridge.live.params import PART_CHANNELS
from bridge.live.voice import draw_seed
from bridge.music.piece import Note
from bridge.vocab import (
    BASS,
    DRUMS,
    HARMONY,
    K_DRUM,
    KIND,
    MELODY,
    PART_BASE,
    TICKS_PER_BEAT,
    note_token,
)

from .test_session import make


def test_a_band_stream_plays_its_members_parts_and_says_when_they_change(sim):
    s, _, _ = make(sim(120.0))
    v = s.voice
    assert v.parts() is None                       # alone, auto: any pitched part
    assert v.for_band((frozenset({HARMONY}), frozenset({BASS})))
    assert v.parts() == {HARMONY, BASS}
    assert not v.for_band((frozenset({BASS}), frozenset({HARMONY})))   # the same parts
    assert v.for_band((frozenset({DRUMS}),))
    [gen] = v.generations(s.time.now_beat() + 1, s.time.now_beat() + 5, note_now=True,
                          on_done=lambda g, r: None)
    assert gen.parts == {DRUMS} and gen.constraints.drums is True
    s.close()


def test_drums_beside_pitched_parts_are_drawn_apart_each_from_its_side_alone(sim):
    s, _, _ = make(sim(120.0), seed=7, pitch_low=30)
    s.voice.for_band((frozenset({HARMONY, BASS}), frozenset({DRUMS})))
    s.context.note_on(s.time.tick(0.0), 72, 90, False, MELODY)    # a melody is heard
    now = s.time.now_beat()
    pitched, drums = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
    assert (pitched.session, drums.session) == (s.sid + PITCHED_APART, s.sid + DRUMS_APART)
    start = s.time.tick(now + 1)
    assert (pitched.parts, pitched.entering, pitched.seed) == ({HARMONY, BASS}, {HARMONY, BASS},
                                                               draw_seed(7, start))
    assert (drums.parts, drums.entering, drums.seed) == ({DRUMS}, {DRUMS}, draw_seed(8, start))
    assert (pitched.constraints.drums, drums.constraints.drums) == (False, True)
    assert drums.constraints.pitch_low == 30
    heard = ([*s.context.pitched.history, *pitched.prefix],
             [*s.context.drums.history, *drums.prefix])
    assert PART_BASE + MELODY in heard[0] and PART_BASE + MELODY not in heard[1]
    # each side hears its own notes only: Continuo's, a performer's
    s.play(Note(now + 1, 0.5, 36, 100, drum=True, part=DRUMS))
    s.play(Note(now + 1, 0.5, 48, 100, part=BASS))
    s.context.note_on(s.time.tick(now + 1.5), 42, 80, True, DRUMS)
    assert {(n.pitch, n.drum) for n in s.context.drums.recent()} == {(36, True), (42, True)}
    assert {(n.pitch, n.drum) for n in s.context.pitched.recent()} == {(72, False), (48, False)}
    soon = s.time.tick(now + 1.25)                 # and knows which of Continuo's sound
    assert set(s.context.pitched.sounding_after(soon)) == {note_token(48, False)}
    assert set(s.context.drums.sounding_after(soon)) == {note_token(36, True)}
    s.voice.for_band((frozenset({HARMONY, BASS}),))             # the drummer left: the
    [alone] = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
    assert alone.parts == {HARMONY, BASS} and alone.session == s.sid + PITCHED_APART
    s.close()                                                   # drums heard stay unheard
    s, _, _ = make(sim(120.0), seed=7)
    s.voice.for_band((frozenset({HARMONY, BASS}),))             # no drum heard at all:
    s.context.note_on(s.time.tick(0.0), 72, 90, False, MELODY)
    [alone] = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
    assert alone.session == s.sid and not s.context.apart       # the whole context
    s.close()


def test_pitched_parts_for_a_drummer_come_in_hearing_no_drums_a_bass_led_by_the_kick(sim):
    """A performer plays drums; the session plays the bass: drawn from the pitched parts
    heard alone (none: it comes in from a silence), its choice's draws led to the kick."""
    from bridge.live.choice import Choice
    from bridge.live.quote import PULSE

    s, _, _ = make(sim(120.0), seed=3, part="bass")
    for beat in range(16):                                      # four bars of kick and snare
        key = 36 if beat % 2 == 0 else 38
        s.context.note_on(s.time.tick(beat), key, 100, True, DRUMS)
        s.context.note_off(s.time.tick(beat + 0.25), key, True)
    [gen] = s.generations(16.0, 24.0, note_now=False, on_done=lambda g, r: None)
    assert gen.session == s.sid + PITCHED_APART and gen.parts == {BASS}
    assert not any(KIND[t] == K_DRUM for t in [*s.context.pitched.history, *gen.prefix])
    choice = Choice(gen, 4, s.quotable())
    assert choice.how == PULSE
    led = {e[0] % (4 * TICKS_PER_BEAT) for g in choice.gens if g.quote for e in g.quote.events}
    assert led == {0, 2 * TICKS_PER_BEAT}                       # the kick's places in the bar
    s.close()


def test_the_sides_kept_apart_begin_with_what_each_played_before(sim):
    """Kept once the band plays drums too: the pitched parts' context hears the melody
    played and held before, and knows the bass Continuo still sounds, so its first
    generation neither forgets the tune nor strikes that bass again."""
    w = sim(120.0)
    s, _, _ = make(w, seed=7)
    s.voice.for_band((frozenset({BASS}),))
    for i, pitch in enumerate((60, 62, 64)):        # a phrase ended, then a note held
        s.context.note_on(s.time.tick(i * 0.5), pitch, 90, False, MELODY)
        s.context.note_off(s.time.tick(i * 0.5 + 0.4), pitch, False)
    s.context.note_on(s.time.tick(1.5), 67, 90, False, MELODY)
    s.play(Note(1.5, 8.0, 43, 100, part=BASS))
    w.run(2)                                        # held on past its instant
    s.voice.for_band((frozenset({BASS}), frozenset({DRUMS})))   # a drummer joins
    now = s.time.now_beat()
    pitched, drums = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
    heard = [*s.context.pitched.history, *pitched.prefix]
    for pitch in (60, 62, 64, 67):
        assert note_token(pitch, False) in heard
    assert note_token(43, False) in pitched.sounding and not drums.sounding
    s.context.note_off(s.time.tick(now), 67, False)              # its release reaches it
    assert (67, False) not in s.context.pitched.held
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


def test_a_generation_is_guided_as_hard_as_its_styles_genre_asks(sim):
    from dataclasses import replace

    s, _, _ = make(sim(120.0))
    generator = s.engine.generator
    generator.config = replace(generator.config,
                               style_strength=(("folk->jazz", 2.5), ("jazz", 2.0)))
    now = s.time.now_beat()
    for style, guidance, expected in (("jazz", 1.5, 3.0), ("folk", 1.5, 1.5), ("", 1.5, 1.5)):
        s.set_param("style", style)
        s.set_param("guidance", guidance)
        [gen] = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
        assert gen.guidance == expected
    # the tags say the performer plays folk: a request for jazz from folk has its own
    s.style_watch.tags = [("folk", 0.8), ("folk/jig", 0.5), ("pop", 0.1)]
    assert s.style_watch.genre == "folk"
    s.set_param("style", "jazz")
    [gen] = s.generations(now + 1, now + 5, note_now=True, on_done=lambda g, r: None)
    assert gen.guidance == 1.5 * 2.5
    s.close()


def test_each_note_leaves_on_its_channel(sim):
    s, _, _ = make(sim(120.0), channel=5)
    assert s.voice.channel(Note(0, 1, 60, 90, part=BASS)) == 5
    s.set_param("channels", "parts")
    assert s.voice.channel(Note(0, 1, 60, 90, part=BASS)) == PART_CHANNELS["bass"]
    assert s.voice.channel(Note(0, 1, 60, 90, part=MELODY)) == PART_CHANNELS["melody"]
    s.close()


def test_a_fixed_seed_draws_afresh_at_each_start_and_the_same_again_at_the_same_start(sim):
    """With ``seed`` set, an answer like the last must not repeat it note for note: every
    draw takes the session's seed with the tick it starts on; the same start, the same
    seed (a performance is repeatable)."""
    s, _, _ = make(sim(120.0), seed=7)
    now = s.time.now_beat()

    def seed_from(start: float) -> int:
        [gen] = s.generations(start, start + 4, note_now=True, on_done=lambda g, r: None)
        return gen.seed

    assert len({seed_from(now + 1), seed_from(now + 5), seed_from(now + 9)}) == 3
    assert seed_from(now + 5) == seed_from(now + 5) == draw_seed(7, s.time.tick(now + 5))
    s.set_param("seed", -1)
    assert seed_from(now + 1) is None                   # unseeded: the worker's own draws
    s.close()


def test_what_was_played_lately_is_counted_in_stream_time_which_a_loop_does_not_undo(sim):
    """A 4-bar loop: a melody on its first pass, drums alone on its next. The melody is not
    heard as played lately beside the drums (it was, counted in song beats, which the loop
    took back: drums were answered with chords and a bass)."""
    w = sim(120.0)
    s, _, _ = make(w, channels="parts")
    s.clock.set_transport(w.loop.time(), 120.0, 0.0, True, 4, 4)
    for beat in range(4, 8):                          # pass 1: a melody, beats 4-8
        w.run(beat - s.time.now_beat())
        s.note_on(60 + beat, 90, channel=1)
        w.run(0.5)
        s.note_off(60 + beat, channel=1)
    w.run(16 - s.time.now_beat())
    s.clock.set_transport(w.loop.time(), 120.0, 0.0, True, 4, 4)   # the loop goes round
    for beat in range(4, 8):                          # pass 2: drums alone, beats 4-8
        w.run(beat - s.time.now_beat())
        s.note_on(36, 100, channel=10)
        w.run(0.25)
        s.note_off(36, channel=10)
    assert not s.voice.playing_both() and s.voice.parts() == {DRUMS}
    s.close()
