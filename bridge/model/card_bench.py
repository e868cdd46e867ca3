"""The benchmark sections of a model card: the musicality benchmark
(``continuo eval --task continuation``) and the accompaniment benchmark
(``continuo eval --task accompaniment``), from the reports kept beside the checkpoint."""

from __future__ import annotations

from typing import Any


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return f"{x:,}" if isinstance(x, int) else ("?" if x is None else str(x))


def render_continuation(report: dict) -> list[str]:
    """The musicality benchmark's figures (``continuo eval --task continuation``)."""
    lines = ["## Musicality", "",
             f"`continuo eval --task continuation --data {report.get('data')} --split "
             f"{report.get('split')}` (docs/musicality.md): each piece's first "
             f"{report.get('prompt_bars')} bars continued for {report.get('truth_bars')} (seeds "
             f"{', '.join(map(str, report.get('seeds', [])))}; the model's continuation is the "
             f"one most like the others of {report.get('candidates', 1)} draws, half of them "
             "quoting the prompt in the model's own way, a drum part's nearly all, a loop's "
             "(music going round exactly three times) nearly all, whole turns back; its "
             "first and latest bars played again vote in the choice, a drum part's latest, "
             "a loop's next turn, and a bar copied note for note costs a little, but for a "
             "loop's; a prompt in one part goes on in it; one draw beside it), against what "
             "it really played, beside an echo of the prompt's last bars and a shuffle of "
             "them.", "",
             "| dataset | pieces | score: model | one draw | echo | shuffle | model beats echo | "
             "copied bars: model / truth | in key: model / truth | notes per bar: model / "
             "truth | duplicates | same-pitch overlaps: model / truth |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for ds, d in report.get("datasets", {}).items():
        m, t = d["model"], d["truth"]
        lines.append(
            f"| {ds} | {d['pieces']} | {_fmt(m['score'])} | "
            f"{_fmt(d.get('draw', {}).get('score'))} | {_fmt(d['echo']['score'])} | "
            f"{_fmt(d['shuffle']['score'])} | {100 * d['model_beats_echo']:.0f} % | "
            f"{_fmt(m['copied_bars'])} / {_fmt(t['copied_bars'])} | {_fmt(m['in_key'])} / "
            f"{_fmt(t['in_key'])} | {_fmt(m['notes_per_bar'])} / {_fmt(t['notes_per_bar'])} | "
            f"{_fmt(m['duplicates'])} | {_fmt(m['same_pitch_overlaps'])} / "
            f"{_fmt(t['same_pitch_overlaps'])} |")
    style = report.get("style_control")
    if style and style.get("requests"):
        keys = style.get("in_key") or {}
        seeds = style.get("seeds")
        drawn = f" (each drawn at seeds {', '.join(map(str, seeds))})" if seeds else ""
        lines += ["", f"Style control: {style['requests']} requests for another genre{drawn}, "
                  f"{style.get('part', 'any')} prompts asked for the same part "
                  f"({', '.join(style.get('by_request', {}))}), land there "
                  f"{_fmt(style['hit_rate'])} of the time (unstyled: "
                  f"{_fmt(style['unstyled_hit_rate'])}); in-key share "
                  f"{_fmt(keys.get('styled'))} (unstyled {_fmt(keys.get('unstyled'))})."]
    return lines


def render_accompaniment(report: dict) -> list[str]:
    """The accompaniment benchmark's figures."""
    lines = ["## Accompaniment", "",
             f"`continuo eval --task accompaniment --data {report.get('data')} --split "
             f"{report.get('split')}` (docs/musicality.md): the daemon's session accompanies "
             f"(part {report.get('part')}; its plans quote the changes heard 4 or 8 bars "
             "back, as the melody says) a melody played live on a simulated clock, "
             f"{report.get('truth_bars')} bars after a prompt of {report.get('prompt_bars')} "
             f"(seeds {', '.join(map(str, report.get('seeds', [])))}), beside the prompt's "
             "last chord held and its last bars of accompaniment repeated (echo).", "",
             "| dataset | pieces | chord-tone fit: model | hold | echo | truth | score: model "
             "| hold | echo | notes per bar: model / truth |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for ds, d in report.get("datasets", {}).items():
        m, h, e, t = d["model"], d["hold"], d["echo"], d["truth"]
        lines.append(
            f"| {ds} | {d['pieces']} | {_fmt(m['chord_tone_fit'])} | "
            f"{_fmt(h['chord_tone_fit'])} | {_fmt(e['chord_tone_fit'])} | "
            f"{_fmt(t['chord_tone_fit'])} | {_fmt(m['score'])} | {_fmt(h['score'])} | "
            f"{_fmt(e['score'])} | {_fmt(m['notes_per_bar'])} / {_fmt(t['notes_per_bar'])} |")
    lines += ["", "The truth's chord-tone fit counts its accompaniment's notes whose pitch "
              "class sounds in another true note at their onset."]
    return lines
