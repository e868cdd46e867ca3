"""Playing the daemon's notes on the beat, and letting go of every one of them.

The scheduler is native Max timing, nothing on the low-priority thread:

    /continuo/note/out -> [unpack] -> [pipe ... delay_ms] -> generation check -> [makenote]
                                                                       -> [noteout] (channel)

- The daemon sends each note ``delay_ms`` ahead of its start; ``pipe`` holds it that long
  (the scheduler thread, as ``udpreceive`` delivers without ``@defer``). ``makenote`` sends
  the note-off ``duration`` beats later (ms from the tempo the transport section reports).
- Pitch and channel travel through ``pipe`` and ``makenote`` as one number
  (``pitch + 128 * (channel - 1)``), so each note-off leaves on its note's channel.
- ``/continuo/note/cancel beat`` starts a new *generation*: notes queued before it play only
  if they start before ``beat`` (notes two or more generations old: before the earliest
  cut since). A cut at or before now also releases what sounds (``makenote flush``).
- **Safety**: panic (button or daemon), the transport stopping, the device switched off and
  the device deleted clear the queue (``pipe clear``) and release what sounds (``makenote
  flush``, and for panics, off and delete the thru notes and CC 123 on all 16 channels).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.m4l.patch import Box, Patch
from bridge.m4l.protocol import OscIn, OscOut
from bridge.osc.routes import OUT, route

TICKS_PER_BEAT = 480         # Max's transport ticks per quarter note
NO_CUT = 1_000_000.0         # "no cancel yet" as a beat
UNPACK_ATOMS = {"i": "0", "f": "0.", "s": "s"}
NOTE_OUT = route("/continuo/note/out", OUT)
NOTE_CANCEL = route("/continuo/note/cancel", OUT)
PANIC = route("/continuo/session/panic", OUT)
# play a note of generation $i1 starting at beat $f2, with generation $i3 current, the
# latest cut at $f4 and the earliest cut that older generations have seen at $f5
PLAYABLE = ("expr ($i1 >= $i3) || ($i1 == $i3 - 1 && $f2 < $f4) || "
            "($i1 < $i3 - 1 && $f2 < $f5)")


def unpack_text(types: tuple[str, ...]) -> str:
    return "unpack " + " ".join(UNPACK_ATOMS[t] for t in types)


@dataclass
class Queue:
    clear: Box          # message "clear" to the pipe: drop what waits
    flush: Box          # message "flush" to makenote: note-offs for what sounds


def scheduler(p: Patch, rx: OscIn) -> Queue:
    # -- receive: drop the session id, name the fields
    args = NOTE_OUT.args[1:]
    field = {a.name: i for i, a in enumerate(args)}
    note = p.box("zl.slice 1")
    fields = p.box(unpack_text(tuple(a.type for a in args)))
    rx.handle(NOTE_OUT.address, note, types=("s", *(a.type for a in args)), handler=fields)
    p.connect(note, 1, fields, 0)
    p.row()
    # -- queue: [pipe pitch+channel velocity ms generation beat | delay]
    queue = p.box("pipe 0 0 0. 0 0. 0.")
    wait = p.box("maximum 0.")
    p.connect(fields, field["delay_ms"], wait, 0)
    p.connect(wait, 0, queue, 5)
    channel, encode = p.box("clip 1 16"), p.box("expr $i1 + 128 * ($i2 - 1)")
    p.connect(fields, field["channel"], channel, 0)
    p.connect(channel, 0, encode, 1)
    length = p.box("* 500.")
    p.connect(fields, field["duration"], length, 0)
    p.connect(p.chain(p.box("r ---tempo"), p.box("!/ 60000.")), 0, length, 1)
    p.connect(length, 0, queue, 2)
    p.connect(fields, field["beat"], queue, 4)
    p.connect(fields, field["velocity"], queue, 1)
    p.connect(fields, field["pitch"], encode, 0)
    p.connect(encode, 0, queue, 0)
    p.row()
    # -- due: play it unless a cancel since it was queued cut it off
    due = p.box("pack 0 0 0. 0 0.")
    for outlet in range(5):
        p.connect(queue, outlet, due, outlet)
    split = p.box("t l l")
    p.connect(due, 0, split, 0)
    check, playable, gate = p.box("unpack 0 0 0. 0 0."), p.box(PLAYABLE), p.box("gate 1")
    p.connect(split, 1, check, 0)
    p.connect(check, 4, playable, 1)
    p.connect(check, 3, playable, 0)
    p.connect(playable, 0, gate, 0)
    p.connect(split, 0, gate, 1)
    p.row()
    # -- sound: makenote pairs every note-on with its note-off; decode the channel after it
    play, note_on = p.box("unpack 0 0 0."), p.box("makenote 100 500")
    p.connect(gate, 0, play, 0)
    for outlet in (2, 1, 0):
        p.connect(play, outlet, note_on, outlet)
    out, code = p.box("noteout"), p.box("t i i")
    p.connect(note_on, 1, out, 1)
    p.connect(note_on, 0, code, 0)
    p.connect(p.chain(code, p.box("% 128")), 0, out, 0)
    quotient = p.box("/ 128")
    p.connect(code, 1, quotient, 0)
    p.connect(p.chain(quotient, p.box("+ 1")), 0, out, 2)
    p.row()
    q = Queue(clear=p.message("clear"), flush=p.message("flush"))
    p.connect(q.clear, 0, queue, 0)
    p.connect(q.flush, 0, note_on, 0)
    _cancel(p, rx, queue, playable, q)
    p.row()
    panic = p.box("t b")                   # the daemon's panic: everything off here
    rx.handle(PANIC.address, panic)
    p.connect(panic, 0, p.box("s ---all-off"), 0)
    return q


def _cancel(p: Patch, rx: OscIn, queue: Box, playable: Box, q: Queue) -> None:
    cancel = p.box("zl.slice 1")
    at = p.box(unpack_text(tuple(a.type for a in NOTE_CANCEL.args[1:])))
    rx.handle(NOTE_CANCEL.address, cancel, types=("s", *(a.type for a in NOTE_CANCEL.args[1:])),
              handler=at)
    p.connect(cancel, 1, at, 0)
    step = p.box("t b f f f")
    p.connect(at, 0, step, 0)
    p.row()
    # 1. a cut at or before now releases what sounds
    release, now = p.box("t f b"), p.box("transport")
    p.connect(step, 3, release, 0)
    p.connect(release, 1, now, 0)
    beats, past = p.box(f"/ {TICKS_PER_BEAT}."), p.box("expr $f1 <= $f2 + 0.001")
    p.connect(now, 7, beats, 0)
    p.connect(beats, 0, past, 1)
    p.connect(release, 0, past, 0)
    p.connect(p.chain(past, p.box("sel 1")), 0, q.flush, 0)
    p.row()
    # 2. older generations: the earliest of their cut, the latest cut and this one
    older, latest_cut, older_cut = p.box("t f b b"), p.box(f"f {NO_CUT}"), p.box(f"f {NO_CUT}")
    fold = p.box("expr min($f1, min($f2, $f3))")
    p.connect(step, 2, older, 0)
    p.connect(older, 2, latest_cut, 0)
    p.connect(latest_cut, 0, fold, 1)
    p.connect(older, 1, older_cut, 0)
    p.connect(older_cut, 0, fold, 2)
    p.connect(older, 0, fold, 0)
    keep = p.box("t f f")
    p.connect(fold, 0, keep, 0)
    p.connect(keep, 1, older_cut, 1)
    p.connect(keep, 0, playable, 4)
    p.row()
    # 3. this cut is now the latest; 4. what follows is a new generation
    latest = p.box("t f f")
    p.connect(step, 1, latest, 0)
    p.connect(latest, 1, latest_cut, 1)
    p.connect(latest, 0, playable, 3)
    generation = p.box("i")
    p.connect(step, 0, generation, 0)
    following = p.chain(generation, p.box("+ 1"), p.box("t i i i"))
    p.connect(following, 2, generation, 1)
    p.connect(following, 1, queue, 3)
    p.connect(following, 0, playable, 2)


def safety(p: Patch, out: OscOut, q: Queue) -> None:
    # All off: drop the queue, release the generated notes and the thru notes, CC 123.
    everything = p.box("t b b b b")
    p.connect(p.box("r ---all-off"), 0, everything, 0)
    p.connect(everything, 3, q.clear, 0)
    p.connect(everything, 2, q.flush, 0)
    p.connect(everything, 1, p.box("s ---thru-off"), 0)
    channels, each = p.box("uzi 16"), p.box("t 0 i")
    p.connect(everything, 0, channels, 0)
    p.connect(channels, 2, each, 0)
    all_notes_off = p.box("ctlout 123 1")
    p.connect(each, 1, all_notes_off, 2)
    p.connect(each, 0, all_notes_off, 0)
    p.row()
    # Transport stopped: only what we generated (the performer may still hold keys).
    stopped = p.box("t b b")
    p.connect(p.box("r ---stopped"), 0, stopped, 0)
    p.connect(stopped, 1, q.clear, 0)
    p.connect(stopped, 0, q.flush, 0)
    p.row()
    # Device switched off (the daemon is told to panic too) or deleted (it is told bye).
    off = p.box("t b b")
    p.connect(p.chain(p.box("r ---enabled"), p.box("sel 0")), 0, off, 0)
    p.connect(off, 1, p.box("s ---all-off"), 0)
    p.connect(off, 0, p.box("s ---tell-panic"), 0)
    bye = out.sender("/continuo/session/bye")
    gone = p.box("t b b")
    p.connect(p.box("freebang"), 0, gone, 0)
    p.connect(gone, 1, p.box("s ---all-off"), 0)
    p.connect(gone, 0, bye.entry, 0)
