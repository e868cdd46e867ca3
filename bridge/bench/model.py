"""The model on its own, in this process: one streaming step, one sampling step, batches of
sessions, and how much faster than real time a continuation is generated.

    feed step    ``Streamer.feed(state, [token])``: one token into a batch-1 state, logits out
    sample step  what ``Engine._choose`` does before it feeds: logits to numpy, the grammar
                 and constraint mask, ``sample()`` (temperature 1, top-p 0.95)
    batched      one ``feed`` of a ``stack()`` of 1, 8 or 32 sessions' states

On CUDA both paths are measured: the captured graphs the daemon runs (``cuda``) and the
same step launched kernel by kernel (``cuda_eager``), which shows what the graphs save.

Steps run in a grammar-following loop (each sampled token advances a cursor and is fed), so
the masks and the tokens are those of real generation. On CUDA the feed includes waiting
for the GPU (``synchronize``) and the sample step the copy of the logits to the host, as in
the engine.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from bridge.bench.stats import summary, time_calls
from bridge.model import kernels
from bridge.model.generator import Generator
from bridge.model.sampling import Constraints, sample
from bridge.model.stream import Streamer, blas_threads, stack
from bridge.music.tokenize import Decoder
from bridge.vocab import TICKS_PER_BEAT, VOCAB_SIZE, Cursor, Meter

BATCHES = (1, 8, 32)
BARS, BPM = 4, 120.0                 # the continuation timed for the realtime factor


@dataclass(frozen=True)
class StepOptions:
    steps: int = 3000
    warmup: int = 300
    batch_steps: int = 500


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_loop(streamer: Streamer, steps: int, warmup: int, seed: int = 0) -> dict:
    """Feed and sample steps of a batch-1 state following the grammar (ms lists -> P)."""
    device = streamer.device
    state = streamer.start(0)
    cursor = Cursor(Meter())
    for token in cursor.time_tokens(0):
        streamer.feed(state, [token])
    decoder, constraints, rng = Decoder(cursor), Constraints(), random.Random(seed)
    feed_ms, sample_ms = [], []
    clock = time.perf_counter
    for i in range(warmup + steps):
        t0 = clock()
        logits = state.logits.float().cpu().numpy()[0]
        token = sample(logits, cursor.allowed() & constraints.mask(), 1.0, 0.95, rng)
        t1 = clock()
        decoder.feed(token)
        t2 = clock()
        streamer.feed(state, [token])
        _sync(device)
        t3 = clock()
        if i >= warmup:
            sample_ms.append((t1 - t0) * 1e3)
            feed_ms.append((t3 - t2) * 1e3)
    return {"feed": summary(feed_ms), "sample": summary(sample_ms),
            "step": summary(f + s for f, s in zip(feed_ms, sample_ms, strict=True))}


def cold_feeds(streamer: Streamer, steps: int, evict_mb: int = 64) -> dict:
    """Feed steps after reading ``evict_mb`` of other memory first, which pushes the
    weights (3.4 MB for the shipped model) out of the caches: what a step costs when the
    daemon wakes after other programs had the CPU (a DAW, or a training job)."""
    import numpy as np

    other = np.ones(evict_mb * 2**20 // 8)
    state = streamer.start(0)
    tokens = torch.randint(3, VOCAB_SIZE, (steps,), generator=torch.Generator().manual_seed(1))
    out = []
    for token in tokens.tolist():
        other.sum()
        t0 = time.perf_counter()
        streamer.feed(state, [token])
        _sync(streamer.device)
        out.append((time.perf_counter() - t0) * 1e3)
    return {"feed": summary(out), "evict_mb": evict_mb}


def batched(streamer: Streamer, steps: int, warmup: int) -> dict:
    """One feed of a batch of B sessions, for each B in BATCHES."""
    out = {}
    g = torch.Generator().manual_seed(0)
    for b in BATCHES:
        states = [streamer.start(s % 8) for s in range(b)]
        batch = stack(states)
        tokens = torch.randint(3, VOCAB_SIZE, (steps + warmup, b), generator=g).tolist()
        it = iter(tokens)

        def step() -> None:
            streamer.feed(batch, next(it))   # noqa: B023 (bound for this batch size)
            _sync(streamer.device)

        ms = time_calls(step, steps, warmup)
        p = summary(ms)
        out[str(b)] = {"step": p, "per_session_p50_ms": round(p["p50"] / b, 4)}
    return out


def micro(generator: Generator, device: str, options: StepOptions) -> dict:
    """The step benchmarks: CPU at 1 thread (numpy path and torch path) and all threads,
    CUDA when present and wanted; batched on each device measured."""
    threads = torch.get_num_threads()
    cores = os.cpu_count() or 1
    kernels.prepare(background=False)        # measure the steps the daemon settles on
    result: dict = {"cpu_threads": cores, "kernels": "numba" if kernels.ready() else "numpy"}
    try:
        with torch.inference_mode():
            torch.set_num_threads(1)
            fast = Streamer(generator.to("cpu"), "cpu")
            result["cpu_1"] = {"threads": 1, "path": "numpy" if fast.fast else "torch",
                               **step_loop(fast, options.steps, options.warmup)}
            result["cpu_1_cold"] = cold_feeds(fast, max(10, min(300, options.steps // 10)))
            if fast.fast:
                slow = Streamer(generator, "cpu", fast=False)
                result["cpu_1_torch"] = {"threads": 1, "path": "torch",
                                         **step_loop(slow, options.steps, options.warmup)}
            result["batched_cpu"] = batched(fast, options.batch_steps, options.warmup // 3)
            if cores > 1:
                torch.set_num_threads(cores)
                wide = Streamer(generator, "cpu")
                result["cpu_all"] = {"threads": cores, "path": "numpy" if wide.fast else "torch",
                                     **step_loop(wide, options.steps, options.warmup)}
                result["batched_cpu_all"] = batched(wide, options.batch_steps,
                                                    options.warmup // 3)
            torch.set_num_threads(1)
            if device != "cpu" and torch.cuda.is_available():
                name = torch.cuda.get_device_name()
                for key, graphs in (("cuda", True), ("cuda_eager", False)):
                    gpu = Streamer(generator.to("cuda"), "cuda", graphs=graphs)
                    path = "graph" if gpu.graphs is not None else "torch"
                    result[key] = {"name": name, "path": path,
                                   **step_loop(gpu, options.steps, options.warmup)}
                    result[f"batched_{key}"] = batched(gpu, options.batch_steps,
                                                       options.warmup // 3)
    finally:
        generator.to("cpu")
        torch.set_num_threads(threads)
        blas_threads(threads)
    result["faster"] = faster_by_batch(result)
    return result


def faster_by_batch(result: dict) -> dict[str, str]:
    """For each batch size, the device whose step is faster (what --device auto weighs)."""
    if "batched_cuda" not in result:
        return {b: "cpu" for b in result.get("batched_cpu", {})}
    return {b: ("cuda" if result["batched_cuda"][b]["step"]["p50"]
                < result["batched_cpu"][b]["step"]["p50"] else "cpu")
            for b in result["batched_cpu"]}


def headline(result: dict, device: str) -> tuple[str, dict, dict]:
    """(device, feed P, sample P) of the path the daemon would run: CPU at one thread
    (its default), or CUDA when asked for, or when ``auto`` and its step is faster."""
    cpu = result["cpu_1"]
    gpu = result.get("cuda")
    if gpu is not None and (device == "cuda" or gpu["step"]["p50"] < cpu["step"]["p50"]):
        return "cuda", gpu["feed"], gpu["sample"]
    return "cpu", cpu["feed"], cpu["sample"]


# -- throughput -------------------------------------------------------------------------------

KINDS = (("nottingham", "/combined/"), ("pop909", ""), ("groove", ""))   # folk, pop, drums


def contexts() -> list:
    """Pieces to prime the model with: the first validation MIDI file of each of a folk, a
    pop and a drum dataset in the shared data when it is there (``$CONTINUO_SHARED_DATA`` or
    ../shared/data), else a built-in phrase; each cut to its first 16 bars."""
    from bridge.cli.data import default_data
    from bridge.music.midifile import MidiFileError, read_midi

    folder = default_data()
    manifest = folder / "MANIFEST.tsv" if folder else None
    if manifest is None or not manifest.is_file():
        return [builtin_phrase()]
    rows = sorted(line.split("\t") for line in manifest.read_text().splitlines()[1:])
    pieces = []
    for dataset, part in KINDS:
        for row in rows:
            path = row[0]
            if len(row) < 4 or row[1] != dataset or row[3] != "val" or part not in path \
                    or not path.endswith(".mid") or "/versions/" in path:
                continue
            try:
                piece = read_midi(Path(folder) / path)
            except MidiFileError:
                continue
            if len(piece.notes) >= 16:
                pieces.append(_first_bars(piece, 16))
                break
    return pieces or [builtin_phrase()]


def _first_bars(piece, bars: int):
    from bridge.music.piece import Piece

    first = piece.meter.bar_start(round(piece.notes[0].start * TICKS_PER_BEAT))
    end = first
    for _ in range(bars):
        end += piece.meter.bar_length(end)
    notes = [n for n in piece.notes if round(n.start * TICKS_PER_BEAT) < end]
    return Piece(notes, piece.meter, tempo=piece.tempo, name=piece.name)


def builtin_phrase():
    """Four bars of a C-major melody in eighths and quarters (when no data is at hand)."""
    from bridge.music.piece import Note, Piece

    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 71, 67, 65, 64,
               62, 65, 69, 67, 65, 64, 62, 59, 60, 64, 62, 60]
    notes, beat = [], 0.0
    for i, p in enumerate(pitches):
        length = 1.0 if i % 7 == 6 else 0.5
        notes.append(Note(beat, length * 0.9, p, 80 + (i % 3) * 10))
        beat += length
    return Piece(notes, Meter(), tempo=BPM, name="builtin")


def realtime_factor(generator: Generator, device: str, seeds: int) -> dict:
    """Seconds of music (4 bars at 120 bpm) per second of generating it with
    ``Engine.run_now``, from a state already holding the context (as live, where the
    context was fed as it was played): timed from the generation's start to its end."""
    from bridge.config import Config
    from bridge.live.engine import Engine
    from bridge.offline.continuation import ContinueOptions, plan_continuation

    kernels.prepare(background=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(Config.threads)        # as the daemon runs it
    engine = Engine(generator, None, device)
    runs = []
    for piece in contexts():
        for seed in range(seeds):
            gen, context, style, first_bar = plan_continuation(
                generator, piece, ContinueOptions(bars=BARS, seed=seed))
            engine.run_now(gen, context, style, first_bar)
            wall = time.perf_counter() - gen.started
            bar = piece.meter.bar_length(piece.meter.bar_start(gen.end_tick - 1))
            music_s = BARS * bar / TICKS_PER_BEAT * 60.0 / BPM
            runs.append({"piece": piece.name, "seed": seed, "wall_ms": round(wall * 1e3, 2),
                         "music_s": music_s, "tokens": len(gen.tokens),
                         "notes": len(gen.notes), "reason": gen.reason})
    generator.to("cpu")
    torch.set_num_threads(threads)
    blas_threads(threads)
    total_music = sum(r["music_s"] for r in runs)
    total_wall = sum(r["wall_ms"] for r in runs) / 1e3
    return {"realtime_factor": round(total_music / total_wall, 1),
            "worst_factor": round(min(r["music_s"] / (r["wall_ms"] / 1e3) for r in runs), 1),
            "tokens_per_s": round(sum(r["tokens"] for r in runs) / total_wall),
            "notes_per_4_bars": round(sum(r["notes"] for r in runs) / len(runs), 1),
            "runs": runs}
