"""The keys of ``/continuo/status/reply``, each described once.

``Hub.status`` sends them, docs/osc.md lists them (``bridge/osc/docs.py``), and a test holds
a live daemon's reply, with and without a session, to this table. A key may name a family
with a ``<placeholder>``, whose values are listed in ``PLACEHOLDERS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.live.params import PARAMS
from bridge.live.respond import ANSWER_KINDS
from bridge.live.states import ACCOMPANYING, IDLE, LISTENING, RESPONDING
from bridge.live.tagging import TOP_TAGS
from bridge.osc.router import BAD_KINDS
from bridge.timing.latency import STATS

DAEMON, SESSION = "daemon", "session"

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "stat": STATS,
    "kind": ANSWER_KINDS,
    "param": tuple(p.name for p in PARAMS),
    "i": tuple(str(i) for i in range(TOP_TAGS)),
    "bad": BAD_KINDS,
}


@dataclass(frozen=True)
class StatusKey:
    key: str
    scope: str          # DAEMON: always there; SESSION: when a session is named
    meaning: str

    def matches(self, name: str) -> bool:
        return re.fullmatch(_pattern(self.key), name) is not None


def _pattern(key: str) -> str:
    parts = re.split(r"<(\w+)>", key)       # literal, placeholder, literal, ...
    return "".join(re.escape(p) if i % 2 == 0 else f"({'|'.join(PLACEHOLDERS[p])})"
                   for i, p in enumerate(parts))


KEYS: tuple[StatusKey, ...] = (
    StatusKey("version", DAEMON, "Continuo's version."),
    StatusKey("model", DAEMON, "The loaded model's name."),
    StatusKey("device", DAEMON, "Where the model runs, e.g. `cpu`."),
    StatusKey("sessions", DAEMON, "Sessions open now."),
    StatusKey("uptime", DAEMON, "Seconds since the daemon started."),
    StatusKey("worker", DAEMON, "The inference worker: `ok` while it runs, `dead` if it "
                                "ended (no session gets notes then: restart the daemon)."),
    StatusKey("worker_errors", DAEMON, "Faults the worker caught and survived (each logged "
                                       "with its traceback; a failed continuation is also "
                                       "reported to its session on /continuo/error)."),
    StatusKey("bad_<bad>", DAEMON,
              "Bad messages since startup, by kind: `malformed` (not OSC), `unknown_address`, "
              "`bad_arguments` (wrong types or count), `refused` (a value or request the "
              "daemon cannot use), `internal` (a fault of ours, logged with its traceback). "
              "Each got a /continuo/error reply; the log shows the first few and then at most "
              "two a second."),
    StatusKey("feed_ms_<stat>", DAEMON,
              "Milliseconds from a played note's arrival to the model having read it, over "
              "the recent notes of every session; absent until the first."),
    StatusKey("first_note_ms_<stat>", DAEMON,
              "Milliseconds from a request (phrase end, generate) to its first note being "
              "decoded, over recent requests that no answer kept ready met (those have "
              "their first note before the request); absent until the first."),
    StatusKey("state", SESSION, "What the session is doing: "
              + ", ".join(f"`{s}`" for s in (IDLE, LISTENING, RESPONDING, ACCOMPANYING)) + "."),
    StatusKey("late", SESSION, "Accompaniment notes dropped because they would have "
                               "sounded late."),
    StatusKey("answers_<kind>", SESSION,
              "How requests were answered: `chosen` (among the candidates drawn for the "
              "answer kept ready), `ready` (the answer kept ready had its first note "
              "sampled), `waited` (it was still sampling it), `cold` (none matched: sampled "
              "from scratch)."),
    StatusKey("answers_kept", SESSION,
              "Of those answers, trading, how many were prepared before the call's last "
              "notes (played too near the line to prepare it again in time)."),
    StatusKey("notes_out", SESSION, "Note-ons sent to the session."),
    StatusKey("notes_skipped", SESSION,
              "Notes not sent (OSC) because the device would still be sounding their pitch "
              "on their channel until after they end (a pitched part on the drums' channel "
              "meeting a drum of its number, a note held on by a faster tempo)."),
    StatusKey("midi_ports", SESSION,
              "MIDI port session only: `ok`, or `lost` while its JACK server is away (the "
              "session is idle then; the ports are made again when the server is back)."),
    StatusKey("midi_late_ms_<stat>", SESSION,
              "MIDI port session only: milliseconds after its due time (its beat's time less "
              "`midi_lead_ms`) that each note-on left the daemon, by its own clock, over "
              "recent notes."),
    StatusKey("midi_lead_ms", SESSION,
              "MIDI port session only: how early notes leave for the MIDI system's latency "
              "(`--midi-latency`: measured at startup, or as set)."),
    StatusKey("midi_timer_lead_ms", SESSION,
              "MIDI port session only: how early the scheduler arms its timers for their own "
              "lateness (the median of the recent ones, measured as it plays)."),
    StatusKey("<param>", SESSION, "Each session parameter's value (see Session parameters)."),
    StatusKey("tempo", SESSION, "The session clock's tempo in beats per minute."),
    StatusKey("beat", SESSION, "The session clock's beat now."),
    StatusKey("playing", SESSION, "1 while the host's transport or MIDI clock plays."),
    StatusKey("clock", SESSION, "What drives the clock: `internal`, `transport` or `midi`."),
    StatusKey("signature", SESSION, "Time signature, e.g. `4/4`."),
    StatusKey("tag<i>", SESSION, f"The top {TOP_TAGS} style tags, each `tag probability`; "
                                 "absent until the session has been heard."),
)


def describe(name: str) -> StatusKey | None:
    """The entry a key sent in a status reply belongs to; None if undocumented."""
    return next((k for k in KEYS if k.matches(name)), None)
