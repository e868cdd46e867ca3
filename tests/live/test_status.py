"""The status key table (bridge/live/status.py): families expand to exactly their names."""

import pytest

from bridge.live import status
from bridge.live.params import PARAMS
from bridge.timing.latency import summary_ms


@pytest.mark.parametrize("key, entry", [
    ("version", "version"), ("feed_ms_p99", "feed_ms_<stat>"), ("feed_ms_n", "feed_ms_<stat>"),
    ("midi_late_ms_max", "midi_late_ms_<stat>"), ("answers_cold", "answers_<kind>"),
    ("tag2", "tag<i>"), (PARAMS[0].name, "<param>"),
])
def test_a_sent_key_finds_its_entry(key, entry):
    assert status.describe(key).key == entry


@pytest.mark.parametrize("key", ["feed_ms_p95", "feed_ms_", "answers_", "tag3", "tags",
                                 "Version", "first_note_ms_p50x", "nonsense"])
def test_anything_else_is_undocumented(key):
    assert status.describe(key) is None


def test_the_latency_family_is_what_summary_ms_sends():
    sent = summary_ms("first_note", [0.001, 0.002])
    assert all(status.describe(k).key == "first_note_ms_<stat>" for k in sent)
    assert len(sent) == len(status.PLACEHOLDERS["stat"])


def test_keys_are_unique_and_scoped():
    keys = [k.key for k in status.KEYS]
    assert len(keys) == len(set(keys))
    assert {k.scope for k in status.KEYS} == {status.DAEMON, status.SESSION}
