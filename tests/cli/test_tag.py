"""`continuo tag` over several files and folders."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bridge.cli.tag import tag
from bridge.music.midifile import write_midi
from bridge.music.piece import Note, Piece
from tests.cli.conftest import steps


def test_tag_prints_one_json_line_per_file(tiny_model_dir, folder):
    (folder / "broken.mid").write_bytes(b"MThd nonsense")
    result = CliRunner().invoke(tag, [str(folder), "--json", "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [Path(r["file"]).name for r in lines] == ["a.mid", "broken.mid", "b.mid"]
    assert lines[0]["tags"] and lines[0]["windows"] == 3
    assert "error" in lines[1] and "tags" not in lines[1]


def test_a_bands_drums_are_tagged_beside_its_music(tiny_model_dir, tmp_path):
    kit = [Note(b * 4 + i / 2, 0.1, 36 if i % 4 == 0 else 42, 90, drum=True)
           for b in range(8) for i in range(8)]
    write_midi(Piece([*steps(8).notes, *kit]), tmp_path / "band.mid")
    runner = CliRunner()
    args = [str(tmp_path / "band.mid"), "--model", str(tiny_model_dir)]
    line = json.loads(runner.invoke(tag, [*args, "--json"]).output)
    assert line["tags"] and line["drums"]
    assert all(t["tag"].split("/")[0] == "drums" for t in line["drums"])
    printed = runner.invoke(tag, args).output
    assert "its drums:" in printed and f"  {line['drums'][0]['tag']}" in printed
