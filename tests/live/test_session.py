"""A session on simulated time (tests/live/conftest.py ``sim``): no sleeps, no worker
thread; the engine's work takes no simulated time."""

import pytest

from bridge.live import plan_quote as pq
from bridge.live import quote as q
from bridge.live.choice import choose
from bridge.live.outputs import NOTE_OUT, OscNotes
from bridge.live.pace import LEAD_S, MARGIN
from bridge.live.params import ACCOMPANY_TEMPERATURE, ParamError
from bridge.live.phrase import ceil_to_grid
from bridge.live.ready import PREP_S
from bridge.live.session import Session
from bridge.live.states import ACCOMPANYING, LISTENING, RESPONDING
from bridge.live.voice import draw_seed
from bridge.music.piece import Note
from bridge.osc.events import message_of
from bridge.timing.clock import BeatClock
from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, TICKS_PER_BEAT

from .conftest import Recorder

TEMPO = 120.0


def make(w, **params):
    sent = []
    clock = BeatClock(w.loop.time(), TEMPO)
    out = Recorder(clock, w.loop)
    s = Session("s", engine=w.engine, clock=clock, output=out,
                styles=w.engine.generator.config.styles, loop=w.loop,
                notify=lambda e: sent.append(message_of(e)),
                params={"length_bars": 1, "seed": 3, **params})
    return s, out, sent


def play_phrase(w, s, pitches=(60, 62, 64, 65)):
    for p in pitches:
        s.note_on(p, 90)
        w.run(0.5)
        s.note_off(p)


@pytest.mark.parametrize("answer_on, step", [("grid", 1.0), ("bar", 4.0)])
def test_call_mode_answers_after_a_beat_of_silence(sim, answer_on, step):
    """On the next whole beat (``grid`` 1) or the next bar line (4/4) after it."""
    w = sim(TEMPO)
    s, out, sent = make(w, answer_on=answer_on)
    play_phrase(w, s)
    end = s.time.now_beat()
    w.until(lambda: s.state == RESPONDING and out.played)
    first = min(n.start for n, _ in out.played)
    assert first == pytest.approx(-(-(end + 1.0) // step) * step, abs=1e-6)
    assert all(first <= n.start < first + 4.0 for n, _ in out.played)
    assert all(n.start >= at for (n, _), at in zip(out.played, out.played_at, strict=True))
    s.close()
    assert ("/continuo/session/state", ["s", RESPONDING]) in sent


def test_a_phrase_the_sustain_pedal_holds_is_answered_once_it_lifts(sim):
    """A pianist lets the keys go and holds the chord with the pedal: that is no silence.
    The answer comes in on the bar line after a beat from the pedal's lift."""
    w = sim(TEMPO)
    s, out, _ = make(w, answer_on="bar")
    s.pedal(127)
    play_phrase(w, s)
    w.until(lambda: s.time.now_beat() >= 9.0)      # a bar and more of pedal after the keys
    assert not out.played and s.state == LISTENING
    s.pedal(0)
    lifted = s.time.now_beat()
    w.until(lambda: s.state == RESPONDING and out.played)
    assert min(n.start for n, _ in out.played) == pytest.approx(ceil_to_grid(lifted + 1, 4))
    s.close()


def _chords(w, s, spread: float, count: int = 10) -> None:
    """The performer strikes ``count`` triads, each note ``spread`` beats after the one
    below it, a beat apart."""
    for _ in range(count):
        for p in (48, 55, 64):
            s.note_on(p, 80)
            w.run(spread)
        w.run(1.0 - 3 * spread)
        for p in (48, 55, 64):
            s.note_off(p)


def _played_chord(s, out, at: float = 40.0) -> list[float]:
    """Continuo plays a chord at stream beat ``at`` (melody first, as the model orders an
    instant): each note's song beat after the chord's place."""
    before = len(out.played)
    for p in (76, 67, 60):
        s.play(Note(at, 1.0, p, 80, part=MELODY if p == 76 else HARMONY))
    place = s.time.song_beat(round(at * TICKS_PER_BEAT))
    return [n.start - place for n, _ in out.played[before:]]


@pytest.mark.parametrize("touch", ["player", "together"])
def test_continuo_strikes_its_chords_as_the_performer_strikes_theirs(sim, touch):
    """A pianist who rolls their chords 10 ms a note (0.02 beats at 120 bpm) is answered
    with chords rolled so, the melody first (``touch`` player), or at once (together);
    one who strikes them at once, with chords at once."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual", touch=touch)
    _chords(w, s, 0.02)
    delays = _played_chord(s, out)
    if touch == "player":
        assert delays == pytest.approx([0.0, 0.02, 0.04], abs=0.002)
    else:
        assert delays == [0.0, 0.0, 0.0]
    assert _played_chord(s, out, 41.0)[0] == 0.0       # each chord's first on its place
    s.close()
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual")
    _chords(w, s, 0.0)
    assert _played_chord(s, out) == [0.0, 0.0, 0.0]
    s.close()


@pytest.mark.parametrize("answer_on", ["grid", "bar"])
def test_a_rest_inside_a_phrase_is_answered_only_on_the_grid(sim, answer_on):
    """A beat and a half of rest in the middle of a bar, then the phrase goes on before the
    bar line: on the grid an answer came in and was cut off by the performer; on the bar
    nothing sounded, and the phrase's real end is answered."""
    w = sim(TEMPO)
    s, out, _ = make(w, answer_on=answer_on)
    w.until(lambda: s.time.now_beat() >= 4.0)
    s.note_on(60, 90)                            # bar 2, beat 1
    w.run(0.25)
    s.note_off(60)                               # silence from beat 4.5
    w.until(lambda: s.time.now_beat() >= 6.0)    # a beat and a half later
    interrupted = list(out.played)
    play_phrase(w, s, (62, 64, 65))
    w.until(lambda: s.state == RESPONDING and len(out.played) > len(interrupted))
    if answer_on == "grid":
        assert interrupted and out.cancels                # cut off by the performer
    else:
        assert not interrupted and s.responder.counts["chosen"] == 1
        assert min(n.start for n, _ in out.played) == pytest.approx(12.0, abs=1e-6)
    s.close()


def test_trading_fours_answers_on_the_trade_s_bar_lines(sim):
    """Trading fours from bar 2: a rest that reaches a bar line inside the call is not
    answered, the answer comes in on bar 6 with the call's last note still held and plays
    4 bars, none of its notes ringing into the performer's turn, and the performer's next
    four (a pickup into bar 10) are answered on bar 14."""
    w = sim(TEMPO)
    s, out, _ = make(w, trade_bars=4, length_bars=0, candidates=1)

    def at(beat):
        w.until(lambda: s.time.now_beat() >= beat - 1e-9)

    for on, off, pitch in ((4.0, 6.0, 60), (9.0, 20.5, 62)):   # silent from 6 to 9
        at(on)
        s.note_on(pitch, 90)
        if off > 20.0:
            w.until(lambda: s.state == RESPONDING)
            assert s.time.now_beat() < 20.0 and s.phrase.sounding   # held, and answered
        at(off)
        s.note_off(pitch)
    w.until(lambda: out.played)
    first = [n for n, _ in out.played]
    assert min(n.start for n in first) >= 20.0 - 1e-6
    assert all(n.start < 36.0 for n in first) and s.responder.counts["cold"] == 0
    assert all(n.end <= 36.0 + 1e-6 for n in first)   # none rings into the next turn
    assert s.responder.counts["ready"] == 1      # prepared with the note held to the line
    at(35.25)                                    # a beat's pickup into bar 10
    s.note_on(64, 90)
    at(37.0)
    s.note_off(64)
    w.until(lambda: len(out.played) > len(first))
    second = [n for n, _ in out.played[len(first):]]
    assert min(n.start for n in second) >= 52.0 - 1e-6
    assert all(n.end <= 68.0 + 1e-6 for n in second)
    assert sum(s.responder.counts.values()) == 2
    s.close()


def test_trading_a_line_passed_unanswered_is_answered_on_the_next_bar_not_from_the_past(sim):
    """Trading fours, a note held over the line whose answer a stop took: let go two bars
    later, it is answered from the next bar line, its notes all sent ahead of their time
    (they had gone out 2 bars late, the answer drawn from the line passed)."""
    w = sim(TEMPO)
    s, out, _ = make(w, trade_bars=1, length_bars=1, candidates=1)

    def at(beat):
        w.until(lambda: s.time.now_beat() >= beat - 1e-9)

    at(4.0)
    s.note_on(60, 90)
    at(6.0)
    s.stop()                                     # before the line, bar 3 (beat 8)
    at(13.0)
    s.note_off(60)                               # a bar and more after it
    w.until(lambda: out.played)
    assert min(n.start for n, _ in out.played) >= 16.0 - 1e-6
    assert all(n.start >= at for (n, _), at in zip(out.played, out.played_at, strict=True))
    s.close()


@pytest.mark.parametrize("lost", ["note_off", "pedal"])
def test_a_panic_lets_go_of_what_a_lost_message_left_held(sim, lost):
    """A note-off (or the pedal's lift) lost on the way: the phrase never ends and nothing
    is answered, until the performer presses panic; then the next phrase is answered, and
    the lost note's late note-off changes nothing (no answer comes for it: its phrase was
    let go)."""
    w = sim(TEMPO)
    s, out, _ = make(w)
    if lost == "pedal":
        s.pedal(127)
    s.note_on(50, 90)                            # its note-off (or the pedal lift) is lost
    if lost == "pedal":
        w.run(0.5)
        s.note_off(50)
    play_phrase(w, s)
    w.run(12)
    assert not out.played and s.state == LISTENING
    s.panic()
    assert not s.phrase.sounding and not s.down and not s.context.held
    w.run(1)
    s.note_off(50)                               # arriving at last: nothing to end
    w.run(8)
    assert not out.played
    play_phrase(w, s)
    w.until(lambda: out.played)
    s.close()


@pytest.mark.parametrize("late_s, begins", [(0.05, 4.0), (0.5, 8.0)])
def test_a_phrase_timer_a_moment_late_answers_on_its_line_one_long_late_on_the_next(
        sim, late_s, begins):
    """A busy loop fires the phrase-end timer a little after its line (bar 2, beat 4): the
    answer still begins there; one that fires long after it begins on the next bar."""
    w = sim(TEMPO)
    s, _, _ = make(w)
    play_phrase(w, s)
    due = s.phrase.response_start(s.params, s.time.bar_beats)
    assert due == 4.0
    s.time.disarm("phrase")
    w.loop.run_until(s.time.clock.time_at(due) + late_s)
    s.responder.phrase_due(due)
    assert s.responder.begins == begins
    s.close()


@pytest.mark.parametrize("release", [None, 19.0])
def test_trading_with_the_last_note_held_over_the_line_answers_with_the_choice(sim, release):
    """Trading fours: the answer is prepared and chosen among its candidates before the line
    whether the call's last note is held over it (heard as held to the line) or let go
    just before it (prepared again, as it ended)."""
    w = sim(TEMPO)
    s, out, _ = make(w, trade_bars=1, length_bars=0, candidates=4)
    w.until(lambda: s.time.now_beat() >= 16.0)
    s.note_on(60, 90)                                  # bar 5: the answer is due on bar 6
    w.until(lambda: s.time.now_beat() >= 17.0)
    s.note_on(64, 90)                                  # held from beat 17 ...
    w.until(lambda: s.time.now_beat() >= 17.5)
    s.note_off(60)
    if release is not None:
        w.until(lambda: s.time.now_beat() >= release)
        s.note_off(64)                                 # ... or let go at beat 19
    w.until(lambda: out.played)
    assert min(n.start for n, _ in out.played) >= 20.0 - 1e-6
    assert s.responder.counts["chosen"] == 1 and s.responder.counts["cold"] == 0
    assert s.responder.kept_answers == 0              # it heard the call to its end
    s.close()


def _busy(w, seconds: float) -> None:
    """Let ``seconds`` pass with the worker doing nothing asked of it meanwhile (busy, or
    slow: on our CPU a choice among 16 candidates of 4 bars takes about 0.4 s)."""
    settle, w.loop.settle = w.loop.settle, lambda: None
    w.loop.run_until(w.loop.time() + seconds)
    w.loop.settle = settle


def test_trading_a_hit_too_near_the_line_to_prepare_again_keeps_the_choice(sim):
    """A drummer plays up to the line. The answer prepared before the last hits, chosen
    among its candidates, is played on the line: the worker could not draw the candidates
    again in the moment left, and a hit there had left the answer a single draw still
    being sampled (or one drawn cold on the line)."""
    w = sim(TEMPO)
    s, out, _ = make(w, trade_bars=1, length_bars=0, candidates=4)
    r = s.responder
    w.until(lambda: s.time.now_beat() >= 16.0)
    for _ in range(14):                                # bar 5 in sixteenths: due on bar 6
        s.note_on(38, 100, channel=9)
        w.run(0.125)
        s.note_off(38, channel=9)
        w.run(0.125)
    w.until(lambda: r.choice is not None and r.choice.chosen is not None)
    before = r.ready_key
    w.until(lambda: s.time.now_beat() >= 20.0 - s.time.beats_in(0.06))
    s.note_on(42, 100, channel=9)                      # 60 ms before the line
    _busy(w, 0.01)
    s.note_off(42, channel=9)
    _busy(w, 0.06)                                     # the line: the answer begins
    assert r.ready_key == before and s.state == RESPONDING
    w.until(lambda: s.time.now_beat() >= 24.5)
    assert out.played and min(n.start for n, _ in out.played) >= 20.0 - 1e-6
    assert r.counts == {"chosen": 1, "ready": 0, "waited": 0, "cold": 0}
    assert r.kept_answers == 1
    assert ("answers_kept", 1) in r.status()
    s.close()


def test_trading_a_chord_let_go_note_by_note_up_to_the_line_is_still_answered_ready(sim):
    """Trading, a chord's notes let go one by one, a few hundredths of a second apart, up
    to the line: the answer is prepared before it begins, and kept through the last of
    them (each had put its preparation off until the instant after it, past the line:
    the answer was drawn cold)."""
    w = sim(TEMPO)
    s, _, _ = make(w, trade_bars=1, length_bars=0, candidates=4)
    r = s.responder
    w.until(lambda: s.time.now_beat() >= 16.0)
    for p in range(60, 68):
        s.note_on(p, 90)                               # bar 5: a chord, due on bar 6
    w.until(lambda: s.time.now_beat() >= 19.5)
    s.note_on(72, 90)                                  # struck before the lead: made again
    for p in range(60, 68):                            # let go a tick apart from 19.6
        w.until(lambda p=p: s.time.now_beat() >= 19.6 + (p - 60) / TICKS_PER_BEAT)
        s.note_off(p)
    w.until(lambda: s.state == RESPONDING)
    assert r.counts == {"chosen": 1, "ready": 0, "waited": 0, "cold": 0}
    assert r.kept_answers == 1
    s.note_off(72)
    s.close()


def test_a_choice_is_as_wide_and_prepared_as_early_as_the_worker_s_pace_allows(sim):
    """How long this session's choices take sets how long before the line a trade's answer
    is prepared and, where an answer is due too soon for all its candidates, how many it
    is chosen among (fewer: one draw had played)."""
    w = sim(TEMPO)
    s, _, _ = make(w, trade_bars=2, length_bars=0, candidates=16)
    r = s.responder
    lead = r.lead()
    assert lead == pytest.approx(MARGIN * r.pace.cost(16, 2))     # nothing measured
    w.until(lambda: s.time.now_beat() >= 16.0)
    s.note_on(60, 90)                                   # a call on bar 5: due on bar 7
    w.run(0.5)
    settle, w.loop.settle = w.loop.settle, lambda: None
    s.note_off(60)                                      # prepared now, in the silence ...
    w.loop.run_until(w.loop.time() + 2.0)
    w.loop.settle = settle                              # ... and chosen 2 s later
    w.until(lambda: r.choice is not None and r.choice.chosen is not None)
    assert len(r.choice.gens) == 16                     # it had 3.75 s
    assert r.pace.cost(16, 2) == pytest.approx(2.0)
    assert r.lead() == LEAD_S[1]                        # 3 s: at most 2
    s.set_param("temperature", 0.9)                     # again, due in 1.72 s: of 16
    w.until(lambda: r.choice is not None and r.choice.chosen is not None)
    assert len(r.choice.gens) == 4                      # (3 s) and 8 (1.8 s), too many
    assert r.pace.cost(16, 2) == pytest.approx(1.0)     # made at once: half way back
    s.set_param("temperature", 0.8)
    w.until(lambda: r.choice is not None and r.choice.chosen is not None)
    assert len(r.choice.gens) == 16                     # (1.5 s)
    s.close()


def test_trading_a_note_in_the_moment_before_the_line_is_the_calls_last(sim):
    """The answer begins a moment before its line (PREP_S) to be on time; a drummer's hit
    pushed just ahead of the line then is still the call's: the answer comes in on the
    line, and the performer's turn is after it. It had cut the answer off, and the hit
    opened a call whose answer came a trade later."""
    w = sim(TEMPO)
    s, out, _ = make(w, trade_bars=1, length_bars=0, candidates=1)
    w.until(lambda: s.time.now_beat() >= 16.0)
    s.note_on(36, 100, channel=9)
    w.run(0.05)
    s.note_off(36, channel=9)
    w.until(lambda: s.state == RESPONDING)
    assert s.time.now_beat() < 20.0
    s.note_on(38, 100, beat=19.98, channel=9)          # pushed ahead of bar 6's line
    s.note_off(38, channel=9)
    w.until(lambda: s.time.now_beat() >= 24.5)
    assert out.played and not out.cancels
    assert all(20.0 - 1e-6 <= n.start < 24.0 for n, _ in out.played)
    assert sum(s.responder.counts.values()) == 1 and s.phrase.turn == 24.0
    s.close()


def test_barge_in_cancels_the_response(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, length_bars=4)
    play_phrase(w, s)
    w.until(lambda: s.state == RESPONDING)
    s.note_on(70, 100)
    assert s.state == LISTENING and not s.responder.active
    assert out.cancels and out.cancels[-1] == pytest.approx(s.time.now_beat(), abs=0.1)
    s.note_off(70)
    s.close()
    assert out.closed


@pytest.mark.parametrize("action", ["phrase_end", "generate"])
def test_a_phrase_answered_on_request_is_not_answered_again_by_its_timer(sim, action):
    """An explicit phrase end (or a request) in the silence answers the phrase once: the
    answer, over before the phrase-end timer's bar line, is not followed by a second."""
    w = sim(TEMPO)
    s, out, _ = make(w, phrase_beats=8.0, candidates=1)
    play_phrase(w, s)                            # released at beat 2: the timer's line is 12
    s.act(action)
    w.until(lambda: s.state == RESPONDING and out.played)
    s.responder.cancel()                         # as if its last note had sounded now
    s.set_state(LISTENING)
    assert s.time.now_beat() < s.phrase.response_start(s.params, s.time.bar_beats)
    first = list(out.played)
    w.run(16.0)                                  # past the timer's bar line
    assert out.played == first and sum(s.responder.counts.values()) == 1
    assert s.state == LISTENING
    s.close()


@pytest.mark.parametrize("action", ["panic", "stop"])
def test_panic_or_stop_before_the_phrase_end_means_no_answer(sim, action):
    """Pressed in the beat of silence before the answer was due: the answer does not come
    (it played a whole answer a beat later); the next phrase is answered as ever."""
    w = sim(TEMPO)
    s, out, _ = make(w)
    play_phrase(w, s)
    w.run(0.3)                                   # within the beat of silence
    s.act(action)
    w.run(8.0)
    assert not out.played and s.state == LISTENING and not s.responder.active
    play_phrase(w, s)
    w.until(lambda: out.played)
    s.close()


def test_manual_mode_only_on_request_and_off_refuses(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual")
    play_phrase(w, s)
    w.run(3)
    assert not out.played
    s.respond()
    w.until(lambda: out.played)
    s.set_param("mode", "off")
    with pytest.raises(ParamError):
        s.respond()
    s.close()


def test_accompany_keeps_committing_ahead(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", grid=0.5, lookahead_beats=2.0, temperature=0.8)
    assert s.state == ACCOMPANYING
    plans = []
    submit = s.submit
    s.submit = lambda gen: (plans.append(gen), submit(gen))
    play_phrase(w, s, (60, 64, 67, 72, 67, 64))
    w.until(lambda: s.accompanist.replans >= 8 and out.played)
    # steadier than a soloist: its plans sample colder than the session's temperature
    assert plans and all(g.temperature == pytest.approx(0.8 * ACCOMPANY_TEMPERATURE)
                         for g in plans)
    # committed ahead: every note reaches the output before its start beat
    for (note, _), at in zip(out.played, out.played_at, strict=True):
        assert note.start >= at, (note, at)
    s.close()


@pytest.mark.parametrize("pitches, bars", [((60, 64, 67, 72) * 2, 2),
                                           ((60, 62, 64, 65, 67, 69, 71, 72), 1)])
def test_accompany_waits_until_it_has_heard_the_key(sim, pitches, bars):
    """Nothing heard yet, nothing to go with: it played a chord in a key of its own from the
    first beat; then, from the first note or two, a key it guessed and kept for good. Now
    it comes in once it has heard two bars, or one that holds five pitch classes."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", part="accompaniment", plays="melody", grid=1.0,
                     lookahead_beats=2.0)
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    w.run(8)                                       # two bars of nothing
    assert s.state == ACCOMPANYING and not out.played and s.accompanist.replans == 0
    for pitch in pitches * 3:                      # eighth notes from bar 3's line
        s.note_on(pitch, 90)
        w.run(0.25)
        s.note_off(pitch)
        w.run(0.25)
    w.until(lambda: out.played)
    assert min(n.start for n, _ in out.played) == pytest.approx(8.0 + 4 * bars)
    s.close()


def test_while_the_performer_rests_what_continuo_played_is_fed_not_carried(sim):
    """A plan's prefix stays short through a long rest: Continuo's notes are fed once
    their time has passed, not carried in every plan's prefix until the performer plays."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", grid=1.0)
    plans = []
    submit = s.submit
    s.submit = lambda gen: (plans.append(gen), submit(gen))
    play_phrase(w, s, (60, 64, 67, 72))
    rest = len(plans)
    w.run(96)                                       # 24 bars of rest
    assert len(out.played) > 48
    mean = [sum(len(g.prefix) for g in some) / len(some)
            for some in (plans[rest:rest + 16], plans[-16:])]
    assert mean[1] < mean[0] + 16, mean             # (carried on: 78 -> 602 tokens)
    s.close()


def test_accompany_plans_quote_the_changes_heard_unless_a_style_is_asked_for(sim):
    w = sim(TEMPO)
    styles = [st for st in w.engine.generator.config.styles if st]
    for style, quoting in (("", True), (styles[0], False)):
        s, _, _ = make(w, mode="accompany", grid=1.0, lookahead_beats=2.0, style=style)
        plans = []
        submit = s.submit
        s.submit = lambda gen, plans=plans, submit=submit: (plans.append(gen), submit(gen))
        play_phrase(w, s, (60, 64, 67, 72) * 5)              # five bars of it
        w.until(lambda s=s: s.accompanist.replans >= 12)
        quoted = [g for g in plans if g.quote is not None]
        assert bool(quoted) == quoting, style
        if quoting:                      # once 4 bars were heard: those notes, moved on
            assert plans[-1] in quoted
            assert quoted[-1].quote.events[0][0] >= quoted[-1].not_before
            low, high = pq.PLAN_BONUS                           # as hard as the lead repeats
            assert low <= quoted[-1].quote.bonus <= high
        s.close()



def test_a_bass_accompanying_a_drummer_is_led_by_the_kick_and_stays_a_bass(sim):
    """Plans of a bass under a drummer quote the kick's hits (led by the drums' notes,
    which it never plays, they went nowhere: the same bass under every groove), and what
    it plays stays in a bass's register."""
    from bridge.live.quote import PULSE
    from bridge.vocab import REGISTER_TOP

    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", grid=1.0, lookahead_beats=2.0, part="bass",
                     plays="drums", seed=3)
    plans = []
    submit = s.submit
    s.submit = lambda gen: (plans.append(gen), submit(gen))
    for beat in range(24):                                # six bars: kick 1 and 3, snare
        key = 36 if beat % 2 == 0 else 38
        s.note_on(key, 100, channel=9)
        w.run(0.25)
        s.note_off(key, channel=9)
        w.run(0.75)
    late = [g.quote for g in plans[-4:]]
    assert late and all(quote is not None and quote.bonus == PULSE.bonus for quote in late)
    bar = 4 * TICKS_PER_BEAT
    assert {t % bar for quote in late for t, *_ in quote.events} == {0, 2 * TICKS_PER_BEAT}
    bass = [n for n, _ in out.played]
    assert bass and max(n.pitch for n in bass) <= REGISTER_TOP[q.BASS]
    s.close()


@pytest.mark.parametrize("begin, line", [(4.0, 12.0), (5.0, 16.0)])
def test_accompany_brings_its_parts_in_on_the_bar_line(sim, begin, line):
    """A melody begun on (or after) bar 2's line: the harmony and bass it lacks come in on
    the first bar line after it has heard the key (two bars of these four pitch classes;
    they came in on the next beat: each plan, a beat or two long, never reached a bar
    line, and took any beat)."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", part="accompaniment", plays="melody", grid=1.0)
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    w.run(begin)
    for p in [60, 64, 67, 72, 71, 67, 64, 62] * 2:
        s.note_on(p, 90)
        w.run(0.5)
        s.note_off(p)
        w.run(0.5)
    first = min(n.start for n, _ in out.played)
    assert first == pytest.approx(line)
    s.close()


def test_accompany_plans_quote_the_strain_the_melody_has_come_back_to(sim):
    w = sim(TEMPO)
    s, _, _ = make(w, mode="accompany", grid=1.0, lookahead_beats=2.0, part="accompaniment",
                   plays="melody")
    plans = []
    submit = s.submit
    s.submit = lambda gen: (plans.append(gen), submit(gen))
    strain = [60 + 2 * b for b in range(8)]               # 8 bars, a pitch of their own each
    play_phrase(w, s, [p for p in [*strain, *strain[:2]] for _ in range(8)])   # 8 a bar
    played = {(round(n.start * TICKS_PER_BEAT), q.note_token(n.pitch, False))
              for n in s.quotable() if n.part == MELODY}
    bar = 4 * TICKS_PER_BEAT
    late = [g.quote for g in plans[-4:] if g.quote is not None]
    assert late
    for quote in late:                                   # its melody: as 8 bars back, not 4
        melody = [(t, note) for t, part, note, _, _ in quote.events if part == MELODY]
        assert melody
        assert all((t - 8 * bar, note) in played for t, note in melody)
        assert not any((t - 4 * bar, note) in played for t, note in melody)
        assert quote.bonus == pq.PLAN_BONUS[1]              # the melody repeats it exactly
    s.close()


def test_params_validate_and_style_restyles(sim):
    w = sim(TEMPO)
    s, _, _ = make(w)
    with pytest.raises(ParamError):
        s.set_param("temperature", 9.0)
    with pytest.raises(ParamError, match=r"it knows: .*folk/jig.*jazz/bebop"):
        s.set_param("style", "polka/unknown")       # every style it knows is listed
    assert s.set_param("style", "jazz/bebop") == "jazz/bebop"
    assert s.voice.style_index == w.engine.generator.config.styles.index("jazz/bebop")
    assert s.set_param("style", " Jazz/BeBop") == "jazz/bebop"     # as the table names it
    assert s.set_param("mode", "CALL") == "call"
    with pytest.raises(ParamError, match=r"got 0\.3$"):        # an OSC float32 as sent
        s.set_param("grid", 0.30000001192092896)
    s.close()


def test_a_style_with_guidance_keeps_an_unstyled_twin_of_the_state_and_only_then(sim):
    w = sim(TEMPO)
    s, _, _ = make(w)
    rows = lambda: w.engine._states["s"].batch          # noqa: E731 (read on the worker)
    play_phrase(w, s)
    w.until(lambda: rows() == 1)       # no style: nothing to guide to
    s.set_param("style", "folk")                       # guidance on by default
    w.until(lambda: rows() == 2)
    s.set_param("guidance", 0.0)
    w.until(lambda: rows() == 1)
    s.set_param("guidance", 2.5)
    w.until(lambda: rows() == 2)
    s.set_param("style", "")
    w.until(lambda: rows() == 1)
    s.close()


def test_tags_arrive_after_a_bar_of_input(sim):
    w = sim(TEMPO)
    s, _, sent = make(w)
    play_phrase(w, s, (60, 62, 64, 65, 67, 69, 71, 72))
    w.until(lambda: any(a == "/continuo/tags/update" for a, _ in sent))
    tags = [args for a, args in sent if a == "/continuo/tags/update"]
    assert tags[0][0] == "s" and len(tags[0]) >= 3
    assert all(isinstance(p, float) and 0 <= p <= 1 for p in tags[0][2::2])
    # the genre the voice then hears the performer in: the first genre of those tags
    assert s.voice.heard() == next(t for t in tags[-1][1::2] if "/" not in t)
    s.close()


def test_a_new_genre_heard_makes_the_answer_kept_ready_again_for_a_style_request(sim):
    """A request for jazz from folk is pushed harder than from pop: when the tags say the
    performer moved to folk, the answer kept ready is drawn again, and still answers."""
    from dataclasses import replace

    w = sim(TEMPO)
    s, out, _ = make(w, candidates=1)
    generator = s.engine.generator
    generator.config = replace(generator.config, style_strength=(("folk->jazz", 3.0),))
    s.set_param("style", "jazz")
    s.style_watch._result("s", [("pop", 0.9)])
    play_phrase(w, s)
    ready = s.responder.ready
    assert ready is not None and ready.guidance == 1.0
    s.style_watch._result("s", [("folk", 0.8), ("folk/jig", 0.5)])    # from the worker
    assert s.responder.ready is not ready and s.responder.ready.guidance == 3.0
    w.until(lambda: s.state == RESPONDING and out.played)
    assert s.responder.counts["cold"] == 0
    s.close()

def test_a_loop_back_keeps_stream_time_moving_forward(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, length_bars=4)
    s.clock.set_transport(w.loop.time(), TEMPO, 30.0, True, 4, 4)
    play_phrase(w, s)
    w.until(lambda: s.state == RESPONDING)
    before = s.context.encoder.cursor.tick
    s.clock.set_transport(w.loop.time(), TEMPO, 2.0, True, 4, 4)      # the loop restarts
    assert s.time.offset > 0 and s.time.offset % 96 == 0
    assert s.state == LISTENING and out.cancels                     # answer stopped
    s.note_on(72, 100, 2.0)
    s.note_off(72, 2.25)
    s.context.encoder.release(s.time.tick(3.0))
    assert s.context.encoder.cursor.tick > before                           # still forward
    s.close()


@pytest.mark.parametrize("when", ["answering", "before the answer"])
def test_a_jump_on_stops_what_was_planned_instead_of_playing_it_late(sim, when):
    """The host moves on past what was planned (a click further along the arrangement):
    the answer stops, or the one the phrase was to get never comes, and nothing the device
    was yet to get for the old place is sent, late, all at once (tests/live/test_stage.py
    found it)."""
    w = sim(TEMPO)
    clock = BeatClock(w.loop.time(), TEMPO)
    sent: list[tuple[float, list]] = []           # (song beat when sent, the note's args)
    out = OscNotes("s", clock, lambda address, args: sent.append(
        (clock.beat_at(w.loop.time()), args)) if address == NOTE_OUT else None, w.loop)
    s = Session("s", engine=w.engine, clock=clock, output=out,
                styles=w.engine.generator.config.styles, loop=w.loop,
                notify=lambda e: None, params={"length_bars": 4, "seed": 3})
    clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    play_phrase(w, s)
    if when == "answering":
        w.until(lambda: s.state == RESPONDING and sent)
    count = len(sent)
    clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat() + 32.0, True, 4, 4)
    assert s.state == LISTENING and not s.responder.active
    w.run(16)
    assert len(sent) == count
    play_phrase(w, s)                               # the next phrase is answered as ever
    w.until(lambda: len(sent) > count)
    w.run(16)
    assert all(args[3] >= beat for beat, args in sent)
    s.close()


def test_accompany_after_a_panic_listens_and_comes_in_with_the_next_note(sim):
    w = sim(TEMPO)
    s, out, sent = make(w, mode="accompany")
    play_phrase(w, s)
    w.until(lambda: out.played)
    s.panic()
    assert s.state == LISTENING and not s.accompanist.running
    count = len(out.played)
    w.run(8)
    assert len(out.played) == count                  # it stopped, and says so
    assert ("/continuo/session/state", ["s", LISTENING]) in sent
    play_phrase(w, s, (67, 65))                      # the performer plays on
    assert s.state == ACCOMPANYING and s.accompanist.running
    w.until(lambda: len(out.played) > count)
    s.close()


def test_accompany_stops_and_starts_again_on_request(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", grid=0.5)
    play_phrase(w, s)
    s.stop()
    assert s.state == LISTENING and not s.accompanist.running
    count = len(out.played)
    w.run(3)
    assert len(out.played) == count                 # silent while stopped
    s.respond()
    assert s.state == ACCOMPANYING and s.accompanist.running
    w.until(lambda: len(out.played) > count)
    s.close()


def _ready_for_now(s) -> bool:
    """An answer is ready, and a request made now would still want it (its start is the
    next grid line a little more than the preparation time ahead)."""
    note = s.responder.ready_note
    ahead = (PREP_S + 0.01) / s.clock.seconds_per_beat
    return note is not None and ceil_to_grid(s.time.now_beat() + ahead, s.params["grid"]) \
        == pytest.approx(s.time.song_beat(round(note.start * TICKS_PER_BEAT)))


def test_a_request_after_a_phrase_plays_the_answer_kept_ready_at_once(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual", grid=1.0)
    play_phrase(w, s)
    w.until(lambda: _ready_for_now(s))
    assert s.responder.choice is None     # manual mode's moves on every grid line: one draw
    ready = s.responder.ready_note
    s.respond()
    assert [n.start for n, _ in out.played] == [ready.start]   # before respond returned
    assert s.responder.counts == {"chosen": 0, "ready": 1, "waited": 0, "cold": 0}
    w.until(lambda: s.state == LISTENING)       # it went on and ended
    assert len(out.played) > 1
    s.close()


def test_a_drummer_s_answer_drawn_alone_quotes_the_groove_a_melody_s_does_not(sim):
    from bridge.live.quote import GROOVE

    w = sim(TEMPO)
    for plays, quoted in (("drums", True), ("melody", False)):
        s, out, _ = make(w, mode="call", plays=plays, candidates=1, length_bars=2)
        for _ in range(2):                           # two bars of a beat
            play_phrase(w, s, (36, 38, 36, 38))
        w.until(lambda s=s: s.responder.ready is not None)
        quote = s.responder.ready.quote
        assert (quote is not None) == quoted
        if quoted:
            assert quote.bonus == GROOVE.bonus and quote.steers == {DRUMS}
        w.until(lambda s=s, out=out: s.state == RESPONDING and out.played)
        s.close()


def test_a_loop_played_is_answered_going_round(sim):
    """Four bars of one figure: the answer drawn alone quotes it whole turns back, and a
    choice's draws quote it so, free to copy it; a phrase that does not go round, not."""
    w = sim(TEMPO)
    rising = tuple((60 + i, 62 + i, 64 + i, 65 + i) for i in range(8))
    for figures, loop in ((((60, 62, 64, 65),) * 8, True), (rising, False)):
        for candidates in (1, 4):
            s, out, _ = make(w, mode="call", candidates=candidates, length_bars=2)
            for figure in figures:
                play_phrase(w, s, figure)
            w.until(lambda s=s: s.responder.ready is not None)
            if candidates == 1:
                quote = s.responder.ready.quote
                assert (quote is not None) == loop
                if loop:
                    assert quote.bonus == q.loop(1).bonus
                    assert [e[2] for e in quote.events[:4]] == [
                        q.note_token(p, False) for p in figures[0]]
            else:
                w.until(lambda s=s: s.responder.choice is not None)
                how = s.responder.choice.how           # (a bar's rest before it)
                assert (how == q.loop(1, rest=1)) == loop and how.copies == loop
            w.until(lambda s=s, out=out: s.state == RESPONDING and out.played)
            s.close()


def test_playing_again_drops_the_answer_kept_ready(sim):
    w = sim(TEMPO)
    s, _, _ = make(w, mode="manual")
    play_phrase(w, s)
    w.until(lambda: s.responder.ready_note is not None)
    kept = s.responder.ready
    s.note_on(67, 90)
    assert kept.cancelled and s.responder.ready is None
    s.note_off(67)
    assert s.responder.ready is not None and s.responder.ready is not kept
    s.set_param("temperature", 0.5)              # a new recipe: prepared again
    assert s.responder.ready.temperature == 0.5
    s.close()
    assert s.responder.ready is None


def _chosen_for_now(s) -> bool:
    """A choice is made, every candidate ended, and a request made now would want it."""
    choice = s.responder.choice
    ahead = (PREP_S + 0.01) / s.clock.seconds_per_beat
    return choice is not None and choice.chosen is not None and \
        ceil_to_grid(s.time.now_beat() + ahead, s.params["grid"]) == \
        pytest.approx(s.responder.ready_at)


def test_a_request_plays_the_prepared_candidate_most_like_the_others_at_once(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="call", grid=1.0, candidates=4, phrase_beats=4.0)
    play_phrase(w, s)
    w.until(lambda: _chosen_for_now(s))
    choice, single = s.responder.choice, s.responder.ready
    seed = draw_seed(3, s.time.tick(s.responder.ready_at))        # make()'s seed, its start
    assert len(choice.gens) == 4 and [g.seed for g in choice.gens] == [seed * 4 + i
                                                                       for i in range(4)]
    drawn = [[(n.start, n.pitch) for n in notes] for notes in choice.heard]
    assert len(set(map(tuple, drawn))) > 1                  # the draws differ
    chosen = choice.heard[choice.chosen]
    assert choice.chosen == choose(choice.heard, choice.gens, choice.bars, choice.heard_notes,
                                   choice.heard_bars, choice.voters)  # its voters' say too
    at = s.responder.ready_at
    s.respond()
    assert [n.pitch for n, _ in out.played] == [n.pitch for n in chosen]   # all at once
    assert all(at <= n.start < at + 4 for n, _ in out.played)          # its one bar
    assert s.responder.counts == {"chosen": 1, "ready": 0, "waited": 0, "cold": 0}
    assert single.cancelled and not choice.cancelled
    w.until(lambda: s.state == LISTENING)
    assert len(out.played) == len(chosen)
    s.close()


def test_a_request_before_the_choice_is_made_plays_the_single_answer_kept_ready(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="call", grid=1.0, candidates=4, phrase_beats=4.0)
    play_phrase(w, s)
    w.until(lambda: _ready_for_now(s) and s.responder.choice is not None)
    choice, note = s.responder.choice, s.responder.ready_note
    choice.chosen = None                      # as if a candidate were still being drawn
    s.respond()
    assert [n.start for n, _ in out.played] == [note.start]       # its first note, at once
    assert s.responder.counts == {"chosen": 0, "ready": 1, "waited": 0, "cold": 0}
    assert choice.cancelled and s.responder.choice is None
    s.close()


def test_call_mode_answers_with_the_answer_prepared_at_the_phrase_end(sim):
    w = sim(TEMPO)
    s, out, _ = make(w)
    play_phrase(w, s)
    w.until(lambda: out.played)
    counts = s.responder.counts
    assert counts["cold"] == 0 and counts["chosen"] == 1     # the sim's worker takes no time
    s.close()


def test_without_prepare_every_answer_starts_from_scratch(sim):
    w = sim(TEMPO)
    clock = BeatClock(w.loop.time(), TEMPO)
    out = Recorder(clock, w.loop)
    s = Session("s", engine=w.engine, clock=clock, output=out, loop=w.loop, prepare=False,
                styles=w.engine.generator.config.styles, params={"mode": "manual"})
    play_phrase(w, s)
    assert s.responder.ready is None
    s.respond()
    w.until(lambda: out.played)
    assert s.responder.counts == {"chosen": 0, "ready": 0, "waited": 0, "cold": 1}
    s.close()


def test_transport_stop_ends_a_response_and_start_resumes_the_mode(sim):
    w = sim(TEMPO)
    s, out, sent = make(w, length_bars=4)
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    play_phrase(w, s)
    w.until(lambda: s.state == RESPONDING and out.played)
    s.clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat(), False, 4, 4)   # stop
    assert s.state == LISTENING and not s.responder.active and out.panics == 1
    count = len(out.played)
    w.run(2)
    assert len(out.played) == count                  # nothing after the stop
    s.set_param("mode", "accompany")                 # stopped: it waits for the song
    assert s.state == LISTENING and not s.accompanist.running
    w.run(4)
    assert len(out.played) == count
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)   # start: accompany
    assert s.state == ACCOMPANYING and s.accompanist.running
    s.clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat(), False, 4, 4)
    assert s.state == LISTENING and not s.accompanist.running
    s.close()
    assert ("/continuo/session/state", ["s", LISTENING]) in sent


def test_a_take_after_the_song_stopped_is_listened_to_afresh(sim):
    """Stopped and started again (another song, or the same again): accompany mode came in
    at once on the take before (it had heard enough) and quoted its bars, in its key. Now
    it waits to hear the new take, and quotes only what it heard of it."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="accompany", part="accompaniment", plays="melody", grid=1.0)
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    for pitch in (60, 62, 64, 65, 67, 69, 71, 72) * 4:     # four bars of C major
        s.note_on(pitch, 90)
        w.run(0.25)
        s.note_off(pitch)
        w.run(0.25)
    now = s.time.tick(s.time.now_beat()) / TICKS_PER_BEAT
    w.until(lambda: any(n.start > now + 1 for n in s.context.notes))   # planned ahead
    s.clock.set_transport(w.loop.time(), TEMPO, s.time.now_beat(), False, 4, 4)   # stop
    w.run(4)
    played = len(out.played)
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, False, 4, 4)    # cued to the top
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)     # the next take
    assert s.quotable() == [] and s.heard() == (None, 0)    # (not what it had planned)
    for pitch in (66, 66, 69, 69):                 # a bar of it: two pitch classes
        s.note_on(pitch, 90)
        w.run(0.5)
        s.note_off(pitch)
        w.run(0.5)
    w.run(2)
    assert len(out.played) == played               # not yet: it has not heard the key
    assert {n.pitch for n in s.quotable()} == {66, 69}
    s.close()


def test_a_drum_the_model_plays_on_a_roland_key_leaves_on_its_gm_key(sim):
    """Key 22 (the Groove takes' closed hi-hat edge) is silent on a GM kit: it leaves on
    42, and the model hears what it played, as it learnt it."""
    w = sim(TEMPO)
    s, out, _ = make(w)
    start = s.time.tick(s.time.now_beat() + 1) / TICKS_PER_BEAT
    s.play(Note(start, 0.25, 22, 90, drum=True, part=DRUMS))
    assert [n.pitch for n, _ in out.played] == [42]
    assert [n.pitch for n in s.context.recent()] == [22]
    s.close()


def test_a_contradictory_pitch_range_is_refused(sim):
    w = sim(TEMPO)
    s, _, _ = make(w)
    s.set_param("pitch_high", 70)
    with pytest.raises(ParamError, match="pitch_low 80 is above pitch_high 70"):
        s.set_param("pitch_low", 80)
    s.set_param("pitch_low", 50)
    with pytest.raises(ParamError, match="pitch_low 50 is above pitch_high 40"):
        s.set_param("pitch_high", 40)
    assert (s.params["pitch_low"], s.params["pitch_high"]) == (50, 70)
    s.close()


def test_a_far_song_position_costs_a_few_bars_of_context(sim):
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual")
    s.clock.set_transport(w.loop.time(), TEMPO, 0.0, True, 4, 4)
    s.note_on(60, 90, 0.0)
    s.note_off(60, 0.5)
    before = len(s.context.history)
    s.clock.set_transport(w.loop.time(), TEMPO, 900_000.0, True, 4, 4)
    s.note_on(62, 90, 900_000.0)
    s.note_off(62, 900_000.5)
    assert len(s.context.history) - before < 20              # not 225,000 bars of silence
    s.respond()
    w.until(lambda: out.played)
    assert out.played[0][0].start >= 900_000.5
    s.close()


def test_a_generation_knows_what_the_session_still_sounds(sim):
    w = sim(TEMPO)
    from bridge.music.piece import Note
    from bridge.vocab import note_token

    s, _, _ = make(w, mode="manual")
    now = s.time.now_beat()
    s.play(Note(now + 1.0, 8.0, 67, 90))           # stream beats = song beats here
    [gen] = s.generations(now + 2.0, now + 6.0, note_now=True, on_done=lambda g, r: None)
    assert gen.sounding == {note_token(67, False): s.time.tick(now + 9.0)}
    [later] = s.generations(now + 10.0, now + 12.0, note_now=True, on_done=lambda g, r: None)
    assert later.sounding == {}
    s.stop()                                        # released: nothing sounds
    assert s.context.sounding == {}
    s.close()


def test_the_performer_s_part_and_the_part_asked_for(sim):
    """``plays`` labels what the performer plays; a generation plays the ``part`` asked
    for and only hears its other notes (auto: every pitched part, drums after drums)."""
    from bridge.vocab import BASS, DRUMS, HARMONY, MELODY, PART_BASE

    w = sim(TEMPO)
    s, out, _ = make(w, plays="harmony", part="bass", length_bars=2)
    play_phrase(w, s, (60, 64, 67))
    assert PART_BASE + HARMONY in s.context.history and PART_BASE + MELODY not in s.context.history
    now = s.time.now_beat()
    assert [g.parts for g in s.generations(now + 1, now + 5, note_now=True,
                                           on_done=lambda g, r: None)] == [{BASS}]
    w.run(6)
    assert out.played and all(n.part == BASS for n, _ in out.played)
    s.set_param("part", "auto")                     # every pitched part it writes
    assert s.voice.parts() is None
    s.set_param("plays", "drums")
    s.note_on(36, 90)
    w.run(0.1)
    s.note_off(36)
    assert s.voice.parts() == {DRUMS} and PART_BASE + DRUMS in s.context.history
    s.set_param("part", "pitched")
    assert s.voice.parts() is None
    s.set_param("part", "accompaniment")            # under a melody: harmony and bass
    assert s.voice.parts() == {HARMONY, BASS}
    s.close()


def test_a_performer_playing_drums_and_keys_is_answered_with_both_each_from_its_own(sim):
    """Channel 10 and channel 1 at once (a DAW's clip into the virtual port): on auto the
    answer plays drums and pitched parts, drawn apart; keys alone again, pitched parts."""
    from bridge.live.context import DRUMS_APART, PITCHED_APART

    w = sim(TEMPO)
    s, out, _ = make(w, length_bars=1)
    drawn = []
    submit = s.submit
    s.submit = lambda gen: (drawn.append(gen), submit(gen))[1]
    for i in range(8):                                  # 2 bars: kick and keys together
        s.note_on(36, 100, channel=10)
        s.note_on(60 + i % 3, 90, channel=1)
        w.run(0.4)
        s.note_off(36, channel=10)
        s.note_off(60 + i % 3, channel=1)
        w.run(0.1)
    assert s.voice.parts() == {MELODY, HARMONY, BASS, DRUMS}
    w.until(lambda: s.state == RESPONDING and out.played)
    assert {s.sid + PITCHED_APART, s.sid + DRUMS_APART} <= \
        {g.session for g in drawn if not isinstance(g, list)}
    w.until(lambda: s.state == LISTENING)
    assert {n.drum for n, _ in out.played} == {True, False}
    for _ in range(20):                                 # 5 bars of keys alone
        s.note_on(64, 90, channel=1)
        w.run(0.45)
        s.note_off(64, channel=1)
        w.run(0.05)
    assert s.voice.parts() is None
    s.close()


def test_a_session_asked_for_drums_hears_its_performer_s_osc_notes_as_drums(sim):
    """The device's track sends notes without a channel, and what is played there and what
    Continuo plays go to one instrument: asked for drums, ``plays auto`` hears drums. A
    MIDI note keeps its channel's reading; ``plays`` said outright wins."""
    from bridge.vocab import PART_BASE

    w = sim(TEMPO)
    for plays, channel, heard in (("auto", None, DRUMS), ("auto", 1, MELODY),
                                  ("auto", 10, DRUMS), ("melody", None, MELODY)):
        s, _, _ = make(w, part="drums", plays=plays)
        s.note_on(36, 90, channel=channel)
        w.run(0.1)
        s.note_off(36, channel=channel)
        assert PART_BASE + heard in s.context.history
        assert s.voice.last_drum == (heard == DRUMS)
        s.close()
    s, _, _ = make(w, part="bass")                          # asked for another part
    s.note_on(36, 90)
    assert s.voice.last_drum is False
    s.close()


def test_one_table_of_actions_for_osc_and_midi(sim):
    """phrase_end is call mode's: refused in another mode, whichever way it is asked."""
    w = sim(TEMPO)
    s, out, _ = make(w, mode="manual")
    play_phrase(w, s)
    with pytest.raises(ParamError, match="call mode"):
        s.act("phrase_end")
    s.act("generate")
    w.until(lambda: out.played)
    s.act("stop")
    assert s.state == LISTENING
    s.set_param("mode", "call")
    s.act("phrase_end")
    assert s.state == RESPONDING
    s.act("panic")
    s.close()


def test_a_model_with_phrase_positions_hears_the_song_bar_its_stream_is_in(models):
    """Recall's phrase positions: the stream's first BAR is the song bar of the first note
    (the transport stands in bar 8, index 7), and a style change's fresh state is told
    where its context begins, so both count the bars the song is in."""
    from bridge.model.generator import Generator, GeneratorConfig
    from bridge.vocab import BAR

    from .conftest import Sim

    phrased = Generator(GeneratorConfig(n_embd=32, n_hidden=32, recall_window=64,
                                        recall_heads=2, recall_dim=8, phrase_bars=8)).eval()
    w = Sim(phrased, models[1], TEMPO)
    s, _, _ = make(w)
    s.clock.set_transport(w.loop.time(), TEMPO, 29.0, True, 4, 4)   # bar 8 (beats 28-32)
    bar = lambda: int(w.engine._states["s"].bar[0])                  # noqa: E731
    play_phrase(w, s)                      # beats 29-31: bar 8
    w.engine.drain()
    assert s.context.first_bar == 7 and bar() == 7
    play_phrase(w, s, (67, 69, 71, 72, 74, 76))                      # on into bar 9
    w.run(1.0)
    w.engine.drain()
    assert s.context.bars_fed == s.context.history.count(BAR) >= 2
    now = s.context.encoder.cursor.tick
    assert bar() == 7 + s.context.bars_fed - 1 == s.time.meter.bar_index(now)
    s.set_param("style", "folk")           # a fresh state from the context
    w.engine.drain()
    assert w.engine._states["s"].bar.tolist() == [7 + s.context.bars_fed - 1] * 2   # and its twin
    s.close()


def test_a_note_ends_as_it_was_heard_whatever_was_turned_meanwhile(sim):
    """A key held while ``plays`` is turned to drums: its note-off still ends the melody
    note (heard as a drum, it ended nothing, and the phrase waited for it for ever)."""
    w = sim(TEMPO)
    s, out, _ = make(w)
    s.note_on(60, 90)
    w.run(0.5)
    s.set_param("plays", "drums")
    s.note_off(60)
    assert s.phrase.silent and not s.context.held
    w.until(lambda: out.played)
    s.close()
