"""A band: members on one stream, on a simulated clock (no sleeps, no worker thread)."""

from __future__ import annotations

import pytest

from bridge.config import Config
from bridge.live.context import DRUMS_APART, PITCHED_APART
from bridge.live.engine import Engine
from bridge.live.hub import Hub
from bridge.live.params import ParamError
from bridge.live.states import ACCOMPANYING, LISTENING
from bridge.osc.events import message_of
from bridge.timing.clock import BeatClock
from bridge.timing.simloop import SimLoop
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, PART_BASE
from tests.live.conftest import Recorder

TEMPO = 120.0


class Rig:
    """A hub on a simulated clock; members with recording outputs."""

    def __init__(self, generator) -> None:
        self.engine = Engine(generator, None)
        self.loop = SimLoop(settle=self.engine.drain)
        self.sent: list = []
        self.hub = Hub(Config(), self.engine, generator.config.styles, "tiny", self.loop,
                       send=lambda address, args, to: self.sent.append((address, args, to)))
        self.outputs: dict[str, Recorder] = {}

    def member(self, sid: str, **params):
        clock = BeatClock(self.loop.time(), TEMPO)
        clock.set_transport(self.loop.time(), TEMPO, 0.0, True)
        out = self.outputs[sid] = Recorder(clock, self.loop)
        session = self.hub.add(sid, clock, out, notify=lambda e: self.sent.append(message_of(e)))
        for name, value in params.items():
            session.set_param(name, value)
        return session

    def at(self, beat: float, fn, *args) -> None:
        self.loop.call_at(beat * 60.0 / TEMPO, fn, *args)

    def run_to(self, beat: float) -> None:
        self.loop.run_until(beat * 60.0 / TEMPO)


def melody(rig: Rig, member, start: float, bars: int) -> None:
    for i in range(bars * 4):
        b = start + i
        rig.at(b, member.note_on, 72 + (i % 5), 90, b)
        rig.at(b + 0.9, member.note_off, 72 + (i % 5), b + 0.9)


def test_a_trio_the_performer_plays_the_melody_continuo_harmony_and_bass(models):
    generator, _ = models
    rig = Rig(generator)
    singer = rig.member("singer", band="trio", role="perform", part="melody", seed=5)
    keys = rig.member("keys", band="trio", role="play", part="harmony", channel=2)
    bass = rig.member("bass", band="trio", role="play", part="bass", channel=3)
    band = rig.hub.bands["trio"]
    assert set(band.members) == {"singer", "keys", "bass"}
    assert band.stream.voice.parts() == {HARMONY, BASS}
    melody(rig, singer, 0.0, 6)
    singer.set_param("mode", "accompany")           # band-wide: the stream accompanies
    assert band.stream.params["mode"] == "accompany" and band.stream.accompanist.running
    rig.run_to(24.0)
    played = {sid: out.played for sid, out in rig.outputs.items()}
    assert not played["singer"]                     # a performer's track plays nothing back
    assert played["keys"] and played["bass"]
    assert all(n.part == HARMONY and ch == 2 for n, ch in played["keys"])
    assert all(n.part == BASS and ch == 3 for n, ch in played["bass"])
    assert PART_BASE + MELODY in band.stream.context.history       # the stream heard the melody
    assert not keys.accompanist.running and not bass.accompanist.running
    # the stream's state reaches every member as its own
    assert ("/continuo/session/state", ["keys", "accompanying"]) in rig.sent
    rig.hub.close_all()
    assert not rig.hub.bands



def _singer_bass_and_drums(rig: Rig, **singer):
    """A band of a performed melody, a bass and a drummer; the singer, the band's stream
    and what it hands the worker (recorded as it goes)."""
    voice = rig.member("singer", band="four", role="perform", part="melody", seed=5, **singer)
    rig.member("bass", band="four", role="play", part="bass", channel=3)
    rig.member("kit", band="four", role="play", part="drums", channel=10)
    stream = rig.hub.bands["four"].stream
    drawn = []
    submit = stream.submit
    stream.submit = lambda gen: (drawn.append(gen), submit(gen))[1]
    return voice, stream, drawn


def _drums_drawn_apart(stream, drawn) -> bool:
    """The bass from the band's pitched parts alone, the drums from its drums alone."""
    return {(g.session, tuple(g.parts)) for g in drawn} == \
        {(stream.sid + PITCHED_APART, (BASS,)), (stream.sid + DRUMS_APART, (DRUMS,))}


def test_a_band_keeps_time_by_another_member_when_the_first_leaves(models):
    """The band's stream kept the clock of the member that formed it: once that member had
    gone, the others' transport stopped and started nothing (the band played on by itself,
    or never again). Now it follows a member still there."""
    generator, _ = models
    rig = Rig(generator)
    keys = rig.member("keys", band="trio", role="play", part="harmony", channel=2)
    singer = rig.member("singer", band="trio", role="perform", part="melody", seed=5)
    rig.member("bass", band="trio", role="play", part="bass", channel=3)
    stream = rig.hub.bands["trio"].stream
    assert stream.clock is keys.clock
    melody(rig, singer, 0.0, 8)
    singer.set_param("mode", "accompany")
    rig.run_to(8.0)
    rig.hub.bye("keys")
    assert stream.clock is singer.clock and stream.accompanist.running
    rig.run_to(12.0)
    singer.clock.set_transport(rig.loop.time(), TEMPO, 12.0, False)      # the song stops
    assert stream.state == LISTENING and not stream.accompanist.running
    played = len(rig.outputs["bass"].played)
    rig.run_to(16.0)
    assert len(rig.outputs["bass"].played) == played                      # nothing plays
    singer.clock.set_transport(rig.loop.time(), TEMPO, 16.0, True)       # and starts again
    assert stream.state == ACCOMPANYING and stream.accompanist.running
    rig.hub.close_all()


def test_a_band_wide_parameter_set_by_one_member_is_every_members(models):
    generator, _ = models
    rig = Rig(generator)
    singer = rig.member("singer", band="trio", role="perform", part="melody")
    keys = rig.member("keys", band="trio", role="play", part="harmony", channel=2)
    singer.set_param("mode", "manual")
    singer.set_param("temperature", 0.5)
    assert keys.params["mode"] == "manual" and keys.params["temperature"] == 0.5
    assert ("/continuo/param/value", ["keys", "mode", "manual"]) in rig.sent
    assert ("/continuo/param/value", ["keys", "temperature", 0.5]) in rig.sent
    assert ("/continuo/param/value", ["singer", "mode", "manual"]) not in rig.sent  # (its
    keys.set_param("channel", 5)                                 # own reply is the route's)
    assert singer.params["channel"] != 5                          # a member's own, its own
    rig.hub.close_all()


def test_a_member_whose_role_turns_stops_what_it_was_sent(models):
    """Keys turned from played to listened (a person plays it now) is told to drop what it
    was sent to play from now, as a part turned is; the bass plays on."""
    generator, _ = models
    rig = Rig(generator)
    singer = rig.member("singer", band="trio", role="perform", part="melody", seed=5)
    keys = rig.member("keys", band="trio", role="play", part="harmony", channel=2)
    rig.member("bass", band="trio", role="play", part="bass", channel=3)
    band = rig.hub.bands["trio"]
    melody(rig, singer, 0.0, 6)
    singer.set_param("mode", "accompany")
    rig.run_to(12.0)
    before = len(rig.outputs["keys"].cancels)
    keys.set_param("role", "listen")
    assert len(rig.outputs["keys"].cancels) == before + 1
    assert rig.outputs["keys"].cancels[-1] == pytest.approx(band.stream.time.now_beat())
    sent = len(rig.outputs["keys"].played)
    rig.run_to(20.0)
    assert len(rig.outputs["keys"].played) == sent and rig.outputs["bass"].played
    rig.hub.close_all()


def test_a_drummer_beside_the_bass_plays_its_drums(models):
    generator, _ = models
    rig = Rig(generator)
    singer, stream, plans = _singer_bass_and_drums(rig)
    melody(rig, singer, 0.0, 4)
    singer.set_param("mode", "accompany")
    rig.run_to(16.0)
    assert _drums_drawn_apart(stream, plans)
    assert sum(g.parts == {DRUMS} for g in plans) == len(plans) // 2    # one each a step
    played = rig.outputs["kit"].played
    assert played and all(n.drum and n.part == DRUMS and ch == 10 for n, ch in played)
    tune, kit = stream.context.pitched.history, stream.context.drums.history
    assert PART_BASE + MELODY in tune and PART_BASE + DRUMS not in tune   # the melody heard,
    assert PART_BASE + DRUMS in kit and PART_BASE + MELODY not in kit     # each side alone
    rig.hub.close_all()


@pytest.mark.parametrize("mode, start", [("call", 12.0), ("manual", 10.0)])
def test_a_band_answers_a_phrase_with_its_drums_beside_the_bass(models, mode, start):
    """A 2-bar phrase ends at beat 10: a 2-bar answer from the bar line after it (call), or
    from the grid line after a request (manual)."""
    generator, _ = models
    rig = Rig(generator)
    singer, stream, drawn = _singer_bass_and_drums(rig, mode=mode, phrase_beats=2.0)
    melody(rig, singer, 0.0, 2)
    if mode == "manual":                  # a request: the answer kept ready
        rig.at(9.5, stream.respond)
    rig.run_to(48.0)                             # (the tiny model's notes may be long)
    responder = stream.responder
    assert stream.state == LISTENING and not responder.sampling
    assert sum(responder.counts.values()) == 1
    answers = [g for g in drawn if not isinstance(g, list)]        # not a choice's
    assert _drums_drawn_apart(stream, answers)
    kit, bass = rig.outputs["kit"].played, rig.outputs["bass"].played
    assert kit and all(n.drum and n.part == DRUMS and ch == 10 for n, ch in kit)
    assert bass and all(n.part == BASS and ch == 3 for n, ch in bass)
    assert all(start <= n.start < start + 8.0 for n, _ in kit + bass)
    rig.hub.close_all()


def test_a_listening_track_is_heard_never_answered(models):
    generator, _ = models
    rig = Rig(generator)
    chords = rig.member("chords", band="duo", role="listen", part="harmony")
    rig.member("lead", band="duo", role="play", part="melody")
    stream = rig.hub.bands["duo"].stream
    assert stream.params["mode"] == "call" and stream.state == LISTENING
    for b in range(8):                               # a chord a bar: context only
        for p in (60, 64, 67):
            rig.at(4 * b, chords.note_on, p, 70, 4.0 * b)
            rig.at(4 * b + 3.5, chords.note_off, p, 4.0 * b + 3.5)
    rig.run_to(34.0)
    assert PART_BASE + HARMONY in stream.context.history
    assert not rig.outputs["lead"].played           # call mode answers performers only
    rig.hub.close_all()


def test_call_mode_over_a_listening_track_answers_with_the_choice(models):
    """A backing track plays a chord every other beat while the performer calls: each
    answer is chosen among its candidates, prepared again hearing the chords (it had gone
    on unheard of them and was never taken: every answer was drawn cold)."""
    generator, _ = models
    rig = Rig(generator)
    chords = rig.member("chords", band="duo", role="listen", part="harmony")
    singer = rig.member("singer", band="duo", role="perform", part="melody", seed=5)
    rig.member("lead", band="duo", role="play", part="melody")
    stream = rig.hub.bands["duo"].stream
    stream.set_param("candidates", 4)
    for b in range(16):
        for p in (48, 52, 55):
            rig.at(2 * b, chords.note_on, p, 70, 2.0 * b)
            rig.at(2 * b + 1.5, chords.note_off, p, 2.0 * b + 1.5)
    melody(rig, singer, 0.0, 2)                      # two calls, answered on bars 4 and 8
    melody(rig, singer, 16.0, 2)
    rig.run_to(32.0)
    assert stream.responder.counts == {"chosen": 2, "ready": 0, "waited": 0, "cold": 0}
    assert rig.outputs["lead"].played
    rig.hub.close_all()


def test_members_leave_and_the_band_ends_with_its_last(models):
    generator, _ = models
    rig = Rig(generator)
    a = rig.member("a", band="b1", mode="accompany")
    b = rig.member("b", band="b1", role="play", part="bass")
    stream = rig.hub.bands["b1"].stream
    assert stream.params["mode"] == "accompany"     # the first member brought its settings
    b.set_param("touch", "together")                 # how the band strikes its chords
    assert stream.params["touch"] == "together"
    cancels = len(rig.outputs["b"].cancels)
    b.set_param("band", "")                          # alone again: its own session plays
    assert b.band is None and "b" not in rig.hub.bands["b1"].members
    assert len(rig.outputs["b"].cancels) > cancels  # the band's notes through it stop
    assert stream.voice.parts() == frozenset()     # nobody left to play
    b.set_param("mode", "accompany")
    assert b.accompanist.running and not stream.closed
    rig.hub.bye("a")                                 # the last member leaves: it ends
    assert not rig.hub.bands and stream.closed and a.closed
    with pytest.raises(ParamError, match="band must be"):
        b.set_param("band", "x" * 65)
    rig.hub.close_all()


def test_a_band_s_name_is_the_same_band_whatever_its_case_and_spacing(models):
    """Typed on two devices as "Jam Session" and " jam  session", one band (there were
    two, each playing alone); blank is alone."""
    generator, _ = models
    rig = Rig(generator)
    a = rig.member("a", band="Jam Session", mode="accompany")
    b = rig.member("b", band=" jam  session", role="play", part="bass")
    assert a.band is b.band and len(rig.hub.bands) == 1
    assert a.band.name == "Jam Session"                 # as its first member spelt it
    b.set_param("band", "   ")
    assert b.band is None and len(a.band.members) == 1
    rig.hub.bye("a")
    assert not rig.hub.bands
    rig.hub.close_all()


def test_one_midi_port_with_a_channel_per_part(models):
    """channels=parts: the performer's channel says its part, each played part leaves on
    its own channel (melody 1, harmony 2, bass 3)."""
    generator, _ = models
    rig = Rig(generator)
    midi = rig.member("midi", channels="parts", part="accompaniment", seed=2)
    for i in range(24):                                   # a chord a bar on channel 2,
        chord = [(60, 2), (64, 2)] if i % 4 == 0 else []  # a melody on channel 1
        for pitch, channel in [(72 + i % 5, 1), *chord]:
            rig.at(i, midi.note_on, pitch, 90, float(i), channel)
            rig.at(i + 0.9, midi.note_off, pitch, i + 0.9, channel)
    rig.run_to(8.0)
    heard = midi.context.history
    assert PART_BASE + HARMONY in heard and PART_BASE + MELODY in heard
    midi.set_param("mode", "accompany")
    rig.run_to(24.0)
    played = rig.outputs["midi"].played
    assert played and {n.part for n, _ in played} <= {HARMONY, BASS}
    assert all(ch == {HARMONY: 2, BASS: 3}[n.part] for n, ch in played)
    rig.hub.close_all()


def test_the_midi_session_joins_a_band_by_config():
    from bridge.config import Config, ConfigError

    assert Config(band="live").band == "live"
    with pytest.raises(ConfigError, match="band must be"):
        Config(band="x" * 65)


def _singer_and_keys(models):
    """A duo: a singer performs the melody, Continuo plays the keys; the rig, the singer
    and the band's stream."""
    rig = Rig(models[0])
    singer = rig.member("singer", band="duo", role="perform", part="melody")
    rig.member("keys", band="duo", role="play", part="harmony")
    return rig, singer, rig.hub.bands["duo"].stream


@pytest.mark.parametrize("how", ["leaves", "is deleted", "turns to play", "turns its part"])
def test_a_note_held_as_a_member_goes_is_let_go_in_the_band(models, how):
    """A performer holds a note as its track leaves the band, is deleted, or is turned to
    play or to another part: the band lets go of that note (the stream's phrase waited for
    it for ever and never answered again: tests/live/test_stage.py found it)."""
    rig, singer, stream = _singer_and_keys(models)
    singer.note_on(60, 90)
    assert not stream.phrase.silent
    if how == "leaves":
        singer.set_param("band", "")
    elif how == "is deleted":
        rig.hub.bye("singer")
    elif how == "turns to play":
        singer.set_param("role", "play")
    else:
        singer.set_param("part", "drums")
    if how in ("turns to play", "turns its part"):
        assert not stream.phrase.silent
        singer.note_off(60)
    assert stream.phrase.silent
    if how == "leaves":
        singer.note_off(60)                     # heard alone now: nothing to let go
        assert singer.phrase.silent
    rig.hub.close_all()


def test_one_pitch_held_by_two_members_ends_as_each_was_heard(models):
    """The singer and a listened-to chord track hold the same pitch: the singer's note-off
    ends the singer's note (not the chord's, context only), so the phrase ends."""
    generator, _ = models
    rig = Rig(generator)
    singer = rig.member("singer", band="duo", role="perform", part="melody")
    chords = rig.member("chords", band="duo", role="listen", part="harmony")
    rig.member("keys", band="duo", role="play", part="bass")
    stream = rig.hub.bands["duo"].stream
    singer.note_on(60, 90)
    chords.note_on(60, 70)
    singer.note_off(60)
    assert stream.phrase.silent
    chords.note_off(60)
    assert not stream.context.held
    rig.hub.close_all()


def test_a_members_sustain_pedal_holds_the_bands_phrase_until_it_lifts_or_leaves(models):
    rig, singer, stream = _singer_and_keys(models)
    for lift in (lambda: singer.pedal(0), lambda: singer.set_param("band", "")):
        singer.pedal(127)
        singer.note_on(60, 90)
        singer.note_off(60)
        assert not stream.phrase.silent           # the pedal holds it
        lift()
        assert stream.phrase.silent
    singer.note_on(62, 90)                        # alone again, the pedal still down
    singer.note_off(62)
    assert not singer.phrase.silent
    singer.pedal(0)
    assert singer.phrase.silent
    rig.hub.close_all()
