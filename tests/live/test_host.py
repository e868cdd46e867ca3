"""A session's collaborators reach it only through :class:`bridge.live.host.Host`."""

import ast
import inspect
from pathlib import Path

import pytest

import bridge.live
from bridge.live.events import TagsChanged
from bridge.live.host import Host
from bridge.live.tagging import OFFSET, TOP_TAGS, StyleWatch
from bridge.vocab import BAR, DRUMS, MELODY, Meter, note_token

from .test_session import make

COLLABORATORS = ("respond.py", "accompany.py", "tagging.py")
LIVE = Path(bridge.live.__file__).parent


def host_members() -> set[str]:
    names = set(Host.__annotations__)
    names |= {n for n, _ in inspect.getmembers(Host) if not n.startswith("_")}
    return names


def reaches(source: str) -> set[str]:
    """Every attribute a module reads of ``self.host`` or of a name bound to it."""
    tree = ast.parse(source)
    aliases = {n.targets[0].id for n in ast.walk(tree)
               if isinstance(n, ast.Assign) and len(n.targets) == 1
               and isinstance(n.targets[0], ast.Name) and ast.unparse(n.value) == "self.host"}

    def is_host(node: ast.AST) -> bool:
        return ast.unparse(node) == "self.host" or (isinstance(node, ast.Name)
                                                    and node.id in aliases)
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and is_host(n.value)}


@pytest.mark.parametrize("module", COLLABORATORS)
def test_a_collaborator_uses_nothing_of_its_session_but_the_host_interface(module):
    used = reaches((LIVE / module).read_text())
    assert used, f"{module} no longer holds its host as self.host: this test sees nothing"
    assert used <= host_members(), f"{module} reaches past Host: {sorted(used - host_members())}"


def test_the_check_sees_a_reach_past_the_interface():
    source = "class A:\n    def f(self):\n        s = self.host\n        s.engine.generate(1)\n"
    assert reaches(source) == {"engine"}


def test_a_session_is_a_host(sim):
    s, _, _ = make(sim(120.0))
    missing = [name for name in host_members() if not hasattr(s, name)]
    assert not missing


class FakeTime:
    """Timers by name, fired by hand."""

    def __init__(self) -> None:
        self.beat = 0.0
        self.timers: dict = {}
        self.meter = Meter()

    def now_beat(self) -> float:
        return self.beat

    def bar_after(self, beat: float) -> float:
        return (int(beat // 4) + 1) * 4.0

    def arm(self, name, beat, fn, lead=0.0) -> None:
        self.timers[name] = (beat, fn)

    def fire(self, name: str) -> None:
        beat, fn = self.timers.pop(name)
        self.beat = beat
        fn(beat)


class FakeHost:
    """Only what Host declares: the style watch must run on it alone."""

    def __init__(self) -> None:
        self.sid, self.params, self.closed = "h", {}, False
        self.time, self.events, self.asked = FakeTime(), [], []
        self.moved = 0
        self.both = False

    def plays_both(self) -> bool:
        return self.both

    def tag(self, tokens, on_result) -> None:
        self.asked.append((list(tokens), on_result))

    def heard_moved(self) -> None:
        self.moved += 1

    def notify(self, event) -> None:
        self.events.append(event)


def test_the_style_watch_runs_on_a_host_alone():
    host = FakeHost()
    watch = StyleWatch(host)
    watch.start()
    assert host.time.timers["tags"][0] == 4 + OFFSET
    host.time.fire("tags")
    assert host.asked == []                     # nothing heard: nothing to tag
    watch.note_on(0, 60, 90, False, MELODY)
    watch.note_off(12, 60, False)
    host.time.fire("tags")
    (tokens, answer), = host.asked
    assert tokens[0] == BAR and note_token(60, False) in tokens
    answer("h", [("jazz", 0.6), ("pop", 0.3), ("folk", 0.05), ("drums", 0.05)])
    assert host.events == [TagsChanged("h", (("jazz", 0.6), ("pop", 0.3), ("folk", 0.05),
                                             ("drums", 0.05)))]
    assert watch.status() == [(f"tag{i}", t) for i, t in
                              enumerate(["jazz 0.60", "pop 0.30", "folk 0.05"][:TOP_TAGS])]
    assert (watch.genre, host.moved) == ("jazz", 1)          # heard in jazz now
    answer("h", [("jazz", 0.5), ("jazz/cool", 0.3), ("pop", 0.3)])
    assert host.moved == 1 and len(host.events) == 2          # new tags, the same genre
    host.closed = True                          # a result after closing is dropped
    answer("h", [("pop", 0.9)])
    assert len(host.events) == 2 and host.moved == 1


def test_a_performer_playing_drums_beside_keys_is_tagged_by_the_keys():
    host = FakeHost()
    watch = StyleWatch(host)
    watch.start()
    for bar, both in enumerate((False, True)):         # a bar each, then its tags
        host.both = both
        for i in range(4):
            tick = 96 * bar + 24 * i
            watch.note_on(tick, 36, 100, True, DRUMS)
            watch.note_on(tick, 60 + i, 90, False, MELODY)
            watch.note_off(tick + 12, 36, True)
            watch.note_off(tick + 12, 60 + i, False)
        host.time.fire("tags")
        tokens = host.asked[-1][0]
        assert note_token(61, False) in tokens
        assert (note_token(36, True) in tokens) == (not both)

