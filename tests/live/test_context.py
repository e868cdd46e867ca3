from bridge.live.context import Context
from bridge.vocab import BAR, MELODY, TICKS_PER_BEAT, Meter, note_token

BEAT = TICKS_PER_BEAT
BAR_TICKS = 4 * BEAT


class Worker:
    """What the context asks of the engine, written down."""

    def __init__(self) -> None:
        self.fed: list[tuple[list[int], int | None]] = []
        self.restyled: list[tuple[int, list[int], bool, int]] = []

    def feed(self, sid: str, tokens: list[int], bar: int | None) -> None:
        self.fed.append((tokens, bar))

    def restyle(self, sid: str, style: int, tokens: list[int], guided: bool, bar: int) -> None:
        self.restyled.append((style, tokens, guided, bar))


def test_the_stream_is_fed_as_it_comes_and_its_bars_counted_from_the_first():
    worker = Worker()
    c = Context("s", worker, Meter([(0, BAR_TICKS)]))
    c.note_on(2 * BAR_TICKS, 60, 90, False, MELODY)        # the stream begins in bar 2
    c.note_off(2 * BAR_TICKS + BEAT, 60, False)
    c.note_on(4 * BAR_TICKS, 62, 90, False, MELODY)        # two bars on
    c.note_off(4 * BAR_TICKS + BEAT, 62, False)
    fed = [t for tokens, _ in worker.fed for t in tokens]
    assert c.first_bar == 2 and worker.fed[0][1] == 2       # the worker told where it begins
    assert all(bar is None for _, bar in worker.fed[1:])
    assert c.bars_fed == fed.count(BAR) == 3 and list(c.history) == fed
    assert c.fed == len(worker.fed)
    c.restyle(5, True)                                      # from the context's first bar line
    style, tokens, guided, bar = worker.restyled[-1]
    assert (style, guided, bar) == (5, True, 2) and tokens == fed
    assert c.fed == len(worker.fed) + 1                     # the worker's state changed


def test_what_continuo_plays_sounds_until_it_ends_or_is_cut():
    c = Context("s", Worker(), Meter([(0, BAR_TICKS)]))
    c.played(0, 2 * BEAT, 64, 80, False, MELODY)
    c.played(BEAT, BEAT, 67, 80, False, MELODY)
    key = note_token(64, False)
    assert c.sounding_after(BEAT) == {key: 2 * BEAT, note_token(67, False): 2 * BEAT}
    assert c.sounding_after(2 * BEAT) == {}
    c.played(0, 4 * BEAT, 64, 80, False, MELODY)            # struck again: the later end
    assert c.sounding[key] == 4 * BEAT
    tokens, cursor = c.prefix(now=BEAT, start=3 * BEAT)     # what a continuation begins with
    assert tokens and cursor.tick == 3 * BEAT
    tokens, cursor = c.prefix(now=BAR_TICKS + BEAT, start=BAR_TICKS + 3 * BEAT, resume=True)
    assert tokens[-1] == BAR and cursor.tick == BAR_TICKS   # resumed: to the bar line of now
    c.cut(2 * BEAT)
    assert c.sounding == {}


def test_the_notes_of_both_players_are_kept_for_quotes():
    c = Context("s", Worker(), Meter([(0, BAR_TICKS)]))
    c.note_on(0, 60, 90, False, MELODY)
    c.note_off(BEAT, 60, False)
    c.hear([(BEAT, 2 * BEAT, 48, 70, False, 2)], BEAT)          # a listening track's note
    c.played(2 * BEAT, BEAT, 64, 80, False, MELODY)              # Continuo's
    c.note_on(3 * BEAT, 67, 100, False, MELODY)                  # still held
    assert [(n.start, n.duration, n.pitch, n.part) for n in c.recent()] == [
        (0.0, 1.0, 60, MELODY), (1.0, 2.0, 48, 2), (2.0, 1.0, 64, MELODY),
        (3.0, 1 / TICKS_PER_BEAT, 67, MELODY)]
    # an accompany plan quotes what it heard, not its own (a 4-bar loop of itself)
    assert [n.pitch for n in c.recent(own=False)] == [60, 48, 67]
    c.played(5 * BEAT, BEAT, 65, 80, False, MELODY)              # planned past a stop
    c.new_take(4 * BEAT)
    assert c.recent() == [] and c.heard() == (None, 0)
