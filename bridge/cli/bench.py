"""`continuo bench`: measure the daemon's latency, throughput, capacity and startup."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from bridge.bench.run import PARTS
from bridge.cli.options import Finite, folder_to_write


def _parts(_ctx: click.Context, _param: click.Parameter, value: str) -> frozenset[str]:
    names = frozenset(p.strip() for p in value.split(",") if p.strip())
    unknown = names - set(PARTS)
    if unknown:
        raise click.BadParameter(f"unknown part(s) {', '.join(sorted(unknown))} "
                                 f"(choose from {', '.join(PARTS)})")
    return names


@click.command()
@click.option("--model", "model_dir", help="Model folder (default: the shipped model).")
@click.option("--random-model", is_flag=True,
              help="Use a random model with the shipped architecture (latency does not "
                   "depend on the weights; throughput and capacity do).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="auto measures CUDA too when present, and the daemon "
                                      "picks the faster device for batch-1 streaming.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False),
              help="Write the result as JSON here.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False),
              help="Draw the latency distributions to this PNG.")
@click.option("--quick", is_flag=True, help="A fast smoke run: a few of everything.")
@click.option("--trials", type=click.IntRange(1), default=500, show_default=True,
              help="End-to-end trials over OSC and over MIDI.")
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True,
              help="Model steps per configuration.")
@click.option("--sessions", default="1,2,4,8,16,32", show_default=True,
              help="Concurrent accompany session counts to try, in order.")
@click.option("--accompany-seconds", type=Finite(0.5), default=10.0,
              show_default=True, help="Length of each accompany run.")
@click.option("--jack-period", type=click.IntRange(16, 4096), default=128, show_default=True,
              help="JACK period in frames at 48 kHz for the MIDI part (128 = 2.67 ms).")
@click.option("--midi-api", type=click.Choice(["auto", "jack", "none"]), default="auto",
              show_default=True, help="auto/jack: a private JACK server when jackd is "
                                      "installed; none: skip MIDI.")
@click.option("--skip", default="", callback=_parts,
              help=f"Parts to leave out, comma-separated: {', '.join(PARTS)}.")
@click.option("--gig", "gig_minutes", type=Finite(0), default=0.0,
              help="Also play a gig this many minutes long: one performer in call mode "
                   "(accompany mode and style changes on the way) against the daemon as it "
                   "starts; answer lead, late notes and memory over time (20 or more shows "
                   "what builds up over a set).")
def bench(model_dir: str | None, random_model: bool, device: str, json_file: str | None,
          plot_file: str | None, quick: bool, trials: int, steps: int, sessions: str,
          accompany_seconds: float, jack_period: int, midi_api: str,
          skip: frozenset[str], gig_minutes: float) -> None:
    """Measure latency (model steps, OSC and MIDI end to end), throughput, concurrent
    accompany sessions, time to ready and memory; print a table.

    The method and the reference figures are in docs/latency.md.
    """
    import torch

    from bridge.bench.run import random_model as make_random

    if random_model and model_dir:
        raise click.UsageError("--model and --random-model exclude each other")
    if device == "cuda" and not torch.cuda.is_available():
        raise click.UsageError("--device cuda: no CUDA device is available")
    try:
        counts = tuple(int(n) for n in sessions.split(",") if n.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise click.BadParameter(f"{sessions!r}: comma-separated numbers of 1 or more",
                                 param_hint="--sessions")
    for name, path in (("--json", json_file), ("--plot", plot_file)):
        if path:                        # (checked before minutes of measuring, not after)
            folder_to_write(Path(path).parent, f"{name} {path}").mkdir(parents=True,
                                                                      exist_ok=True)
    if random_model:
        model_dir = str(make_random())
        click.echo(f"random model with the shipped architecture in {model_dir} (removed "
                   "afterwards)", err=True)
    try:
        _run(model_dir or "", device, json_file, plot_file, quick, trials, steps, counts,
             accompany_seconds, jack_period, midi_api, skip, gig_minutes)
    finally:
        if random_model:
            shutil.rmtree(str(model_dir), ignore_errors=True)


def _run(model_dir: str, device: str, json_file: str | None, plot_file: str | None,
         quick: bool, trials: int, steps: int, counts: tuple[int, ...],
         accompany_seconds: float, jack_period: int, midi_api: str,
         skip: frozenset[str], gig_minutes: float) -> None:
    from bridge.bench import report
    from bridge.bench.daemon import BenchError
    from bridge.bench.run import Options, run
    from bridge.model.checkpoint import CheckpointError

    options = Options(model_dir=model_dir, device=device, trials=trials,
                      pings=trials, steps=steps, sessions=counts,
                      accompany_s=accompany_seconds, jack_period=jack_period,
                      midi_api=midi_api, gig_minutes=gig_minutes,
                      skip=skip | ({"midi"} if midi_api == "none" else frozenset()))
    if quick:
        options = options.quickly()
    try:
        result = run(options, say=lambda line: click.echo(line, err=True))
    except CheckpointError as exc:
        raise click.ClickException(f"{exc} (try --model DIR or --random-model)") from None
    except BenchError as exc:
        raise click.ClickException(str(exc)) from None
    if json_file:                   # first: a measurement outlives a fault in the report
        report.write_json(result, json_file)
        click.echo(f"wrote {json_file}", err=True)
    click.echo(report.table(result))
    if plot_file:
        report.plot(result, plot_file)
        click.echo(f"wrote {plot_file}", err=True)
