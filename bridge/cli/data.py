"""``continuo data``: build the token cache from MIDI/CSV folders, show its stats."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

SHARED_DATA_ENV = "CONTINUO_SHARED_DATA"
DEFAULT_DATA = Path("..") / "shared" / "data"
DEFAULT_CACHE = Path("data") / "cache"


def default_data() -> Path | None:
    """$CONTINUO_SHARED_DATA, else ../shared/data if it exists."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    return DEFAULT_DATA if (DEFAULT_DATA / "MANIFEST.tsv").is_file() else None


@click.group()
def data() -> None:
    """Training data: build the token cache, show what is in it."""


@data.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help=f"Folder with a MANIFEST.tsv (default: ${SHARED_DATA_ENV}, else "
                   f"{DEFAULT_DATA} if it exists).")
@click.option("--no-data", is_flag=True, help="Use no manifest folder (only --user/--music21).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CACHE,
              show_default=True, help="Output folder of the cache.")
@click.option("--user", "users", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of MIDI files, labelled by sub-folder names (repeatable); "
                   "each file is its own group, split train/val/test by a hash of its "
                   "path. Files of one piece (versions, parts) that must share a split: "
                   "give the folder a MANIFEST.tsv with a group column (bridge/data/"
                   "manifest.py).")
@click.option("--music21", "use_music21", is_flag=True,
              help="Add music21's corpus: Bach chorales, string quartets, Irish/Scottish folk.")
@click.option("--music21-limit", type=click.IntRange(min=1), default=None,
              help="Read at most N music21 corpus files (interleaved across collections).")
@click.option("--datasets", default=None, help="Comma-separated datasets of the manifest to use.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most N music files per dataset (quick builds).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def build(data_dir: Path | None, no_data: bool, out: Path, users: tuple[Path, ...],
          use_music21: bool, music21_limit: int | None, datasets: str | None, workers: int,
          limit: int | None, quiet: bool) -> None:
    """Read, check and tokenize the data into a token cache."""
    import logging

    from bridge.cli.options import folder_to_write
    from bridge.data.build import BuildConfig, BuildError
    from bridge.data.build import build as run_build
    from bridge.data.manifest import ManifestError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if no_data:
        data_dir = None
    elif data_dir is None:
        data_dir = default_data()
    if data_dir is None and not users and not use_music21:
        raise click.UsageError(f"no data: pass --data DIR (or set ${SHARED_DATA_ENV}), "
                               f"--user DIR or --music21")
    folder_to_write(out, f"--out {out}")
    names = tuple(x.strip() for x in datasets.split(",") if x.strip()) if datasets else None
    config = BuildConfig(out=out, data=data_dir, datasets=names, users=users,
                         music21=use_music21, music21_limit=music21_limit, limit=limit,
                         workers=workers, progress=not quiet)
    started = time.monotonic()
    try:
        stats = run_build(config)
    except (BuildError, ManifestError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary(stats))
    if stats["skipped"]["files"]:
        click.echo(f"(which files, and why: continuo data stats --cache {out} --skipped)")
    click.echo(f"wrote {out} in {time.monotonic() - started:.1f} s")


@data.command()
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_CACHE, show_default=True)
@click.option("--skipped", is_flag=True, help="Also list every skipped file.")
def stats(cache: Path, skipped: bool) -> None:
    """Print what a token cache holds."""
    from bridge.data.cache import CacheError, TokenCache

    try:
        tc = TokenCache(cache)
    except CacheError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{cache}  (vocabulary v{tc.stats['vocab_version']})")
    click.echo(summary(tc.stats, by="styles"))
    if skipped:
        for s in tc.stats["skipped"]["list"]:
            variant = f" [{s['variant']}]" if s["variant"] else ""
            click.echo(f"  {s['reason']:<18} {s['path']}{variant}  {s['detail']}")


def summary(stats: dict, by: str = "datasets") -> str:
    """A short table: sequences, tokens, notes per split and dataset (or style); skips."""
    from bridge.data.cache import ordered_splits

    name = by.rstrip("s")
    lines = [f"{'split':<6} {name:<22} {'seqs':>7} {'tokens':>12} {'notes':>10}"]
    for split in ordered_splits(stats["splits"]):
        for key, c in stats[by][split].items():
            lines.append(f"{split:<6} {key or '(none)':<22} {c['sequences']:>7} "
                         f"{c['tokens']:>12,} {c['notes']:>10,}")
        t = stats["splits"][split]
        lines.append(f"{split:<6} {'= all':<22} {t['sequences']:>7} {t['tokens']:>12,} "
                     f"{t['notes']:>10,}")
    skipped = stats["skipped"]
    if skipped["files"]:
        lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in skipped["files"].items()))
    if skipped["notes"]:
        lines.append("notes: " + ", ".join(f"{k} {v}" for k, v in skipped["notes"].items()))
    if stats.get("grids", {}).get("all"):
        lines.append("heard on the grid found in their notes: " + ", ".join(
            f"{k} {v}" for k, v in stats["grids"]["all"].items()))
    if stats.get("not_music"):
        lines.append("not music: " + ", ".join(f"{k} {v}" for k, v in
                                                stats["not_music"].items()))
    return "\n".join(lines)
