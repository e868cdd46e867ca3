"""The benchmark's result as a table (stdout), JSON (``--json``) and a figure (``--plot``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

W = 42   # label column
REQUIRED = ("machine", "device", "feed_ms", "sample_ms", "e2e_osc_ms", "e2e_midi_ms",
            "realtime_factor", "sessions_on_time", "ready_s", "rss_mb")


def to_json(result: dict) -> dict:
    """The result without the raw samples (kept for the plot only)."""
    def strip(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "raw_ms"}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return strip(result)


def write_json(result: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(result), indent=2) + "\n")


def _p(p: dict | None) -> str:
    if not p:
        return "-"
    return (f"{p['p50']:8.3f} {p['p90']:8.3f} {p['p99']:8.3f} {p['max']:8.3f}"
            f"  n={p.get('n', '?')}")


def _v(x: Any, fmt: str = "{}") -> str:
    return "-" if x is None else fmt.format(x)


def table(result: dict) -> str:
    d = result["details"]
    m = result["model"]
    kind = f"trained, epoch {m.get('epoch')}" if m["trained"] else "RANDOM, untrained"
    lines = [
        f"continuo bench{' (quick)' if result['quick'] else ''}",
        f"machine  {result['machine']}",
        f"load     {result.get('load_before')} -> {result.get('load_after')} (1/5/15 min)"
        + (f"; busy: {', '.join(result['busy_before'])}" if result.get("busy_before") else ""),
        f"model    {m['name']} ({kind}; {m['params']:,} params; {m['config']}) {m['dir']}",
        f"device   {result['device']}    torch {result.get('torch')}  numpy "
        f"{result.get('numpy')}",
        "",
        f"{'latency (ms)':{W + 2}s} {'p50':>8s} {'p90':>8s} {'p99':>8s} {'max':>8s}",
    ]

    def row(name: str, p: dict | None) -> None:
        lines.append(f"  {name:{W}s} {_p(p)}")

    model = d.get("model", {})
    for key, label in (("cpu_1", "CPU 1 thread"), ("cpu_1_torch", "CPU 1 thread"),
                       ("cpu_all", f"CPU {model.get('cpu_threads')} threads"),
                       ("cuda", "CUDA"), ("cuda_eager", "CUDA")):
        if key in model:
            path = model[key].get("path", "")
            row(f"feed step, {label}, {path}", model[key]["feed"])
            row(f"sample step, {label}, {path}", model[key]["sample"])
            if key == "cpu_1" and "cpu_1_cold" in model:
                row("feed step, CPU 1 thread, caches flushed", model["cpu_1_cold"]["feed"])
    for key, label in (("batched_cpu", "CPU 1 thread"), ("batched_cpu_all", "CPU all threads"),
                       ("batched_cuda", "CUDA graph"), ("batched_cuda_eager", "CUDA eager")):
        for b, r in model.get(key, {}).items():
            row(f"feed, batch of {b:>2s}, {label}", r["step"])
    osc = d.get("osc", {})
    if osc:
        row("OSC ping round trip", osc.get("ping_rtt"))
        row("OSC phrase end -> first note out", osc.get("e2e"))
        if osc.get("missed"):
            lines.append(f"    ({osc['missed']} of {osc['trials']} trials got no note in 2 s)")
        answers = osc.get("answers") or {}
        if any(answers.values()):
            lines.append("    answers: {chosen} chosen among candidates, {ready} with their "
                         "first note ready, {waited} ready being prepared, {cold} from "
                         "scratch".format(**{"chosen": 0, **answers}))
        row("  request -> first note, when not ready", osc.get("first_note"))
        row("  in the daemon: played note -> fed", osc.get("fed"))
        row("  first note sent ahead of its beat by", osc.get("first_note_lead"))
    call = d.get("osc_call", {})
    if call:
        a = {"chosen": 0, **(call.get("answers") or {})}
        lines.append(f"  call mode, phrase-end timer: {a['chosen'] or 0} of {call['trials']} "
                     f"answers chosen among {call.get('candidates')} candidates in time, "
                     f"{(a.get('ready') or 0) + (a.get('waited') or 0)} one draw"
                     + (f", {call['missed']} missed" if call.get("missed") else ""))
        row("  first note sent ahead of its beat by", call.get("first_note_lead"))
    trade = d.get("osc_trade", {})
    if trade:
        a = {k: v or 0 for k, v in (trade.get("answers") or {}).items()}
        lines.append(f"  trading {trade['bars']} bars, a drummer's last hit "
                     f"{trade['last_hit_ms']:g} ms before the line: {a.get('chosen', 0)} of "
                     f"{trade['trials']} answers chosen among {trade.get('candidates')} in "
                     f"time ({a.get('kept', 0)} of them prepared before the last hits), "
                     f"{a.get('ready', 0) + a.get('waited', 0)} one draw, "
                     f"{a.get('cold', 0)} from scratch")
        row("  first note sent ahead of its beat by", trade.get("first_note_lead"))
    cold = d.get("osc_cold", {})
    if cold:
        row("OSC phrase end -> first note, --no-prepare", cold.get("e2e"))
        row("  in the daemon: request -> first note", cold.get("first_note"))
    midi = d.get("midi", {})
    if "lateness" in midi:
        lines.append(f"  MIDI through JACK, period {midi['period_frames']} frames at "
                     f"{midi['rate']} Hz = {midi['period_ms']} ms:")
        row("MIDI first note-on - its grid time", midi["lateness"])
        if midi.get("lead_ms") is not None:
            lines.append(f"    the daemon sends {midi['lead_ms']:g} ms early for the JACK hops, "
                         f"its timers {midi.get('timer_lead_ms') or 0:g} ms early for their "
                         "own lateness")
        if midi.get("sent_late"):
            row("  daemon's note-ons, after their due time", midi["sent_late"])
        if (midi.get("clock_lag") or {}).get("all"):
            row("  daemon's beat behind the rig's (clock lag)", midi["clock_lag"]["all"])
        if midi.get("rig_tick_late"):
            row("  rig's clock ticks, after their due time", midi["rig_tick_late"])
        row("MIDI trigger CC -> first note-on (grid wait)", midi["trigger_to_note"])
        if midi.get("missed"):
            lines.append(f"    ({midi['missed']} of {midi['trials']} trials got no note in 2 s)")
    elif midi:
        lines.append(f"  MIDI: skipped ({midi.get('skipped')})")
    lines.append("")
    tp = d.get("throughput")
    if tp:
        lines.append(f"throughput  4 bars at 120 bpm generated {tp['realtime_factor']}x faster "
                     f"than real time (worst run {tp['worst_factor']}x); "
                     f"{tp['tokens_per_s']} tokens/s, {tp['notes_per_4_bars']} notes per 4 bars"
                     f" on {tp.get('device', 'cpu')}")
        for device, factor in tp.get("by_device", {}).items():
            if device != tp.get("device"):
                lines.append(f"            on {device}: {factor}x")
    acc = d.get("accompany")
    if acc:
        lines.append(f"accompany   largest N with no late event: {result['sessions_on_time']} "
                     f"({acc['seconds']:g} s each, grid {acc['runs'][0]['grid']:g} beat)")
        for r in acc["runs"]:
            margin = r["margin_ms"] or {}
            lines.append(f"  {r['sessions']:>2d} sessions: {r['notes']:5d} notes, late "
                         f"{r['late_client']} at the clients, {r['late_daemon']} dropped by "
                         f"the daemon; earliest margin {_v(margin.get('min'), '{:.1f}')} ms")
    band = d.get("band")
    if band:
        call, margin = band["call"] or {}, band["margin_ms"] or {}
        lines.append(f"band        {band['members']} members (1 performs; plays "
                     f"{', '.join(band['played'])}): phrase end -> first note p50 "
                     f"{_v(call.get('p50'))} ms, p99 {_v(call.get('p99'))} ms "
                     f"({band['missed']} of {band['trials']} missed)")
        lines.append(f"            accompany {band['seconds']:g} s: "
                     f"{', '.join(f'{k} {n}' for k, n in band['notes'].items())} notes, late "
                     f"{band['late_client']} at the members, {band['late_daemon']} dropped; "
                     f"earliest margin {_v(margin.get('min'), '{:.1f}')} ms")
    gig = d.get("gig")
    if gig:
        lead, mem = gig["first_note_lead_ms"] or {}, gig["rss_mb"] or {}
        quarters = ", ".join(_v((q or {}).get("p50"))
                             for q in gig["first_note_lead_ms_by_quarter"])
        lines.append(f"gig         {gig['minutes']:g} min, {gig['rounds']} rounds: "
                     f"{gig['answers']} answers ({gig['missed']} missed), first note "
                     f"{_v(lead.get('p50'))} ms "
                     f"ahead at the median (by quarter {quarters}), least "
                     f"{_v(lead.get('min'))} ms")
        lines.append(f"            {gig['notes']} notes, late {gig['late_client']} at the device, "
                     f"{gig['late_daemon']} dropped{_rounds(gig)}; struck while sounding "
                     f"{gig['struck_while_sounding']}; RSS {_v(mem.get('first'))} -> "
                     f"{_v(mem.get('last'))} MB (peak {_v(mem.get('peak'))}), second half "
                     f"{_v(mem.get('growth_second_half'))} MB per {_v(mem.get('per_minutes'))} min")
    st = d.get("startup")
    if st:
        lines.append(f"startup     ready {st['ready_s']} s after launch (daemon's own startup "
                     f"{_v(st['daemon_startup_s'])} s); RSS {_v(st['rss_ready_mb'])} MB ready, "
                     f"{_v(st.get('rss_after_mb'))} MB after the load, peak "
                     f"{_v(st.get('rss_peak_mb'))} MB")
    lines += ["", "targets"]
    if result.get("quick"):
        lines.append("  (quick: a few trials of a fresh session; what builds up over a session, "
                     "as a band's first note did over 100 phrases, shows in a full run)")
    targets = result.get("targets", {})
    width = max([W, *map(len, targets)])
    for name, t in targets.items():
        mark = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        lines.append(f"  {name:{width}s} {_v(t['value']):>8s}  {mark}")
    return "\n".join(lines)


def _rounds(gig: dict) -> str:
    """In which rounds a gig's dropped notes were: ' (19.2 min, accompany; ...)'."""
    where = gig.get("late_daemon_rounds") or []
    return f" ({'; '.join(f'{at:g} min, {mode}' for at, mode in where)})" if where else ""


def plot(result: dict, path: str | Path) -> None:
    """Latency distributions (CDFs) and the model's step percentiles, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    d = result["details"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    for label, raw in (("OSC: phrase end -> first note", d.get("osc", {}).get("raw_ms")),
                       ("OSC: the same, --no-prepare", d.get("osc_cold", {}).get("raw_ms")),
                       ("MIDI: first note-on vs grid", d.get("midi", {}).get("raw_ms"))):
        if raw:
            v = np.sort(raw)
            ax.plot(v, np.arange(1, v.size + 1) / v.size, label=f"{label} (n={v.size})")
    ax.set(xlabel="ms", ylabel="fraction of trials", title="end to end")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.axvline(5.0, color="grey", ls=":", lw=1, label="5 ms")
    ax.legend(fontsize=8)
    ax = axes[1]
    model = d.get("model", {})
    keys = [k for k in ("cpu_1", "cpu_1_torch", "cpu_all", "cuda", "cuda_eager") if k in model]
    quantiles = ("p50", "p90", "p99")
    x = np.arange(len(keys))
    for i, q in enumerate(quantiles):
        ax.bar(x + (i - 1) * 0.25, [model[k]["feed"][q] for k in keys], 0.25, label=f"feed {q}")
    ax.plot(x, [model[k]["sample"]["p50"] for k in keys], "k^", label="sample p50")
    ax.set_xticks(x, [f"{k}\n[{model[k].get('path', '')}]" for k in keys], fontsize=8)
    ax.set(ylabel="ms", title="one streaming step, batch 1", yscale="log")
    ax.legend(fontsize=8)
    ax = axes[2]
    for key, label in (("batched_cpu", "CPU 1 thread"), ("batched_cpu_all", "CPU all"),
                       ("batched_cuda", "CUDA graph"), ("batched_cuda_eager", "CUDA eager")):
        if key in model:
            sizes = list(model[key])
            ax.plot([int(b) for b in sizes], [model[key][b]["step"]["p50"] for b in sizes],
                    "o-", label=label)
    ax.set(xlabel="sessions in the batch", ylabel="ms per step (p50)", xscale="log",
           title="batched steps")
    if model:
        ax.legend(fontsize=8)
    m = result["model"]
    fig.suptitle(f"continuo bench: {m['name']} ({'trained' if m['trained'] else 'random'}) "
                 f"on {result['machine']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
