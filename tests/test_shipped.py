"""The shipped default model, exercised end to end when its checkpoints exist."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.model import checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
pytestmark = pytest.mark.skipif(not (SHIPPED / "generator" / "model.json").exists(),
                                reason="no shipped model in models/default yet")


def test_checkpoints_load_and_describe_themselves():
    assert checkpoint.default_model_dir() == SHIPPED
    for kind in ("generator", "tagger"):
        _, meta = checkpoint.load(SHIPPED / kind, kind)
        assert meta["metrics"] and meta["data"]["datasets"] and meta["training"]
        assert (SHIPPED / kind / "MODEL_CARD.md").exists()
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*.safetensors"))
    assert size <= 25 * 2**20


def test_continue_and_tag_a_phrase(fixture_data):
    from bridge.music.midifile import read_midi
    from bridge.offline.continuation import ContinueOptions, continue_piece
    from bridge.offline.tags import tag_piece

    generator, _ = checkpoint.load(SHIPPED / "generator", "generator")
    tagger, _ = checkpoint.load(SHIPPED / "tagger", "tagger")
    piece = read_midi(fixture_data / "nottingham" / "melody" / "reels1.mid")
    out = continue_piece(generator, piece, ContinueOptions(bars=2, seed=0, style="folk/reel"))
    assert out.notes and min(n.start for n in out.notes) >= piece.beats - 1e-9
    tags = tag_piece(tagger, piece)["tags"]
    assert tags and tags[0]["tag"] in tagger.config.genres + tagger.config.substyles


def test_a_band_goes_on_with_its_drums_and_is_tagged_by_its_music(fixture_data):
    """A reel with a rock groove under it: continued, both sides play on; tagged, its genre
    is the reel's, and its drums are tagged beside it."""
    from dataclasses import replace

    from bridge.music.midifile import read_midi
    from bridge.offline.continuation import ContinueOptions, continue_piece
    from bridge.offline.tags import tag_piece

    generator, _ = checkpoint.load(SHIPPED / "generator", "generator")
    tagger, _ = checkpoint.load(SHIPPED / "tagger", "tagger")
    reel = read_midi(fixture_data / "nottingham" / "combined" / "reels1.mid")
    groove = read_midi(fixture_data / "groove" / "drummer1" / "session1"
                       / "1_rock_120_beat_4-4.mid")
    kit = [replace(n, start=n.start + 8.0 * i) for i in range(2) for n in groove.notes]
    band = replace(reel, notes=[*reel.notes, *(n for n in kit if n.start < reel.beats)])
    out = continue_piece(generator, band, ContinueOptions(bars=2, seed=0))
    assert {n.drum for n in out.notes} == {True, False}
    tags = tag_piece(tagger, band)
    assert tags["tags"][0]["tag"] != "drums" and tags["drums"][0]["tag"] == "drums"
    assert "drums" not in tag_piece(tagger, reel)


def test_a_performance_goes_on_with_its_chords_spread_as_the_player_spreads_them():
    """A song played without a click (its chords' notes some milliseconds apart) goes on
    with chords spread so too; the same song as written, with chords struck together."""
    from bridge.music.pulse import refit
    from bridge.offline.continuation import ContinueOptions, continue_piece, prompt_of
    from bridge.vocab import TICKS_PER_BEAT
    from tests.music.pieces import performed, song

    generator, _ = checkpoint.load(SHIPPED / "generator", "generator")

    def onsets(piece) -> list[float]:
        out = continue_piece(generator, piece, ContinueOptions(bars=2, seed=0)).notes
        pitched = [n for n in out if not n.drum]
        for a in pitched:                        # no pitch struck again while it sounds
            assert not any(b is not a and b.pitch == a.pitch and a.start <= b.start < a.end
                           for b in pitched)
        assert min(n.start for n in out) >= prompt_of(piece)[1] / TICKS_PER_BEAT
        return [n.start for n in pitched]

    def on_tick(x: float) -> bool:
        return abs(x * TICKS_PER_BEAT - round(x * TICKS_PER_BEAT)) < 1e-6

    written = onsets(song())
    assert written and all(map(on_tick, written))
    played = onsets(refit(performed(song(), jitter=0.01)[0])[0])
    assert any(not on_tick(x) for x in played)
    assert on_tick(min(played))                  # a chord's first note keeps its place


@pytest.mark.slow
def test_the_daemon_serves_the_shipped_model():
    from bridge.bench.daemon import Daemon
    from bridge.m4l.standin import DeviceStandIn

    proc = Daemon(None, ["--no-midi", "--set", "length_bars=1"], device="cpu")  # shipped model
    port = proc.port
    try:
        proc.wait_ready()
        assert "default" in proc.log()

        async def go():
            device = await DeviceStandIn.open("127.0.0.1", port)
            await device.wait_ready(5)
            device.transport(tempo=120.0, beat=0.0, playing=True)
            for p in (67, 69, 71, 72, 74, 72, 71, 69):
                device.note_on(p, 90)
                await asyncio.sleep(0.2)
                device.note_off(p)
                await asyncio.sleep(0.05)
            for _ in range(300):
                if device.notes and device.tags:
                    break
                await asyncio.sleep(0.02)
            device.close()
            return device

        device = asyncio.run(go())
        assert device.notes and device.tags and not device.errors
    finally:
        assert proc.stop() == 0
