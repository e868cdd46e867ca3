"""`continuo continue` over several files and folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.generate import continue_, output_name
from bridge.cli.tag import tag
from bridge.music.midifile import read_midi, write_midi
from bridge.music.piece import Note, Piece
from tests.cli.conftest import steps


def test_a_folder_with_prompt_bars_and_seeds(tiny_model_dir, folder, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(continue_, [
        str(folder), "--out-dir", str(out), "--prompt-bars", "8", "--bars", "2",
        "--seeds", "0,1", "--model", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(Path(r["output"]).relative_to(out).as_posix(), r["seed"]) for r in lines] == [
        ("a-seed0.mid", 0), ("a-seed1.mid", 1), ("jigs/b-seed0.mid", 0), ("jigs/b-seed1.mid", 1)]
    prompts = {}
    for r in lines:
        written = read_midi(r["output"])
        assert 32.0 <= r["first_beat"] < 40.0      # from the bar line after 8 bars, where
        #                                            the model puts its first note
        prompt = [n for n in written.notes if n.start < 32]
        assert prompt and max(n.end for n in prompt) <= 32 + 1e-6   # the prompt, cut there
        assert len(written.notes) - len(prompt) == r["notes"] > 0
        prompts.setdefault(Path(r["output"]).name.split("-")[0], []).append(
            sorted((n.start, n.pitch, n.end) for n in prompt))
    assert all(a == b and len(a) == 32 for a, b in prompts.values())   # every seed's: whole


def test_the_same_seed_gives_the_same_continuation(tiny_model_dir, folder, tmp_path):
    outs = []
    for name in ("x.mid", "y.mid"):
        result = CliRunner().invoke(continue_, [
            str(folder / "a.mid"), "-o", str(tmp_path / name), "--seed", "3", "--only",
            "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        outs.append(read_midi(tmp_path / name).notes)
    assert outs[0] == outs[1] and outs[0]


def test_a_bad_file_is_reported_and_the_others_go_on(tiny_model_dir, folder, tmp_path):
    (folder / "broken.mid").write_bytes(b"MThd nonsense")
    write_midi(steps(3), folder / "short.mid")
    result = CliRunner().invoke(continue_, [
        str(folder), "--out-dir", str(tmp_path / "out"), "--prompt-bars", "8",
        "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    assert "broken.mid" in result.output and "fewer than --prompt-bars 8" in result.output
    assert "2 of 4 file(s) failed" in result.output
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.mid")) == \
        ["a-continued.mid", "b-continued.mid"]


def test_usage_errors(tiny_model_dir, folder, tmp_path):
    runner = CliRunner()
    both = runner.invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", "--out-dir", "d"])
    assert both.exit_code == 2 and "either" in both.output
    many = runner.invoke(continue_, [str(folder), "-o", str(tmp_path / "x.mid")])
    assert many.exit_code == 2 and "--out-dir" in many.output
    seeds = runner.invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", "--seeds", "a"])
    assert seeds.exit_code == 2 and "comma-separated" in seeds.output
    twice = runner.invoke(continue_, [str(folder / "a.mid"), "--out-dir", str(tmp_path),
                                      "--seeds", "1,2,1"])
    assert twice.exit_code == 2 and "1 given twice" in twice.output
    for flag, value, shown in [("--temperature", "nan", "not a finite number"),
                               ("--top-p", "inf", "0.05<=x<=1.0"),
                               ("--guidance", "NaN", "not a finite number"),
                               ("--temperature", "3", "0.1<=x<=2"),   # the session's range
                               ("--candidates", "33", "1<=x<=32")]:
        bad = runner.invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", flag, value])
        assert bad.exit_code == 2 and shown in bad.output, (flag, value, bad.output)


def test_batch_json_reports_failures_and_progress_counts_every_continuation(
        tiny_model_dir, folder, tmp_path, monkeypatch):
    """`--json` holds a line for every input, failed ones too (as `tag --json` does); one
    file given twice is continued once; progress counts continuations, not files, so one
    long file with many seeds shows it is alive."""
    from bridge import progress

    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    (folder / "broken.mid").write_bytes(b"MThd nonsense")
    result = CliRunner().invoke(continue_, [
        str(folder / "broken.mid"), str(folder / "a.mid"), str(folder / "a.mid"),
        "--out-dir", str(tmp_path / "out"), "--bars", "1", "--candidates", "1",
        "--seeds", "0,1,2", "--json", "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["file"]).name for r in lines] == ["broken.mid"] + ["a.mid"] * 3
    assert "error" in lines[0] and [r["seed"] for r in lines[1:]] == [0, 1, 2]
    assert "continue: 3/6 continuations" in result.stderr     # the failed file counted
    assert result.stderr.count("continue: 6/6 continuations") == 1
    alone = CliRunner().invoke(continue_, [
        str(folder / "a.mid"), "--out-dir", str(tmp_path / "one"), "--bars", "1",
        "--candidates", "1", "--seeds", "0,1", "--model", str(tiny_model_dir)])
    assert "continue: 1/2 continuations" in alone.stderr


def test_a_continuation_after_bars_where_nothing_starts_says_so(tiny_model_dir, tmp_path):
    """A last note held for 100 bars is heard for 16 beats, then as silence: what follows
    may be silent too, and a note says why and what to do."""
    piece = steps(4)
    write_midi(Piece([*piece.notes, Note(15.0, 400.0, 36, 80)]), tmp_path / "drone.mid")
    write_midi(piece, tmp_path / "tune.mid")
    for name, quiet in (("drone", True), ("tune", False)):
        result = CliRunner().invoke(continue_, [
            str(tmp_path / f"{name}.mid"), "-o", str(tmp_path / f"{name}-out.mid"),
            "--seed", "0", "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        assert ("no note starts in the 99 bars before the continuation (beat 415)"
                in result.stderr) is quiet, result.stderr
        assert ("--prompt-bars N" in result.stderr) is quiet


def test_output_names():
    assert output_name(Path("x/a.mid"), 2, True) == Path("x/a-seed2.mid")
    assert output_name(Path("a.midi"), None, False) == Path("a-continued.mid")


def test_a_style_request_acts_by_its_guidance_and_an_unknown_style_lists_the_known(
        tiny_model_dir, folder, tmp_path):
    runner = CliRunner()
    notes = {}
    for guidance in ("0", "4"):
        target = tmp_path / f"g{guidance}.mid"
        result = runner.invoke(continue_, [
            str(folder / "a.mid"), "-o", str(target), "--seed", "3", "--only", "--style",
            "folk", "--guidance", guidance, "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        notes[guidance] = read_midi(target).notes
    assert notes["0"] != notes["4"]               # the same seed, pulled toward the style
    unknown = runner.invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", "--style",
                                        "polka", "--model", str(tiny_model_dir)])
    assert unknown.exit_code == 2 and "it knows:" in unknown.output
    assert "folk/jig" in unknown.output


def test_a_style_request_from_the_genre_the_tagger_hears_takes_that_pairs_strength(
        tiny_model_dir, folder, tmp_path):
    import shutil

    from bridge.model import checkpoint
    from bridge.offline.continuation import prompt_of
    from bridge.offline.tags import heard_genre

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    tagger, _ = checkpoint.load(model / "tagger", "tagger")
    heard = heard_genre(tagger, prompt_of(read_midi(folder / "a.mid"))[0])

    def notes(guidance: str, **strength: float) -> list[Note]:
        checkpoint.update_config(model / "generator", "generator", style_strength=strength)
        target = tmp_path / "out.mid"
        result = CliRunner().invoke(continue_, [
            str(folder / "a.mid"), "-o", str(target), "--seed", "3", "--only", "--style",
            "folk", "--guidance", guidance, "--model", str(model)])
        assert result.exit_code == 0, result.output
        return read_midi(target).notes

    paired = notes("1", **{f"{heard}->folk": 4.0, "folk": 1.0})
    assert paired == notes("4") != notes("1")          # pushed as hard as the pair says
    (model / "tagger" / "model.json").write_text("{")   # a tagger that cannot be read
    broken = CliRunner().invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", "--style",
                                            "folk", "--model", str(model)])
    assert broken.exit_code != 0 and "tagger" in broken.output
    shutil.rmtree(model / "tagger")                     # nothing to hear it with: the genre's
    assert notes("1", **{f"{heard}->folk": 4.0}) == notes("1")

def test_part_plays_one_part_and_writes_it_on_its_track(tiny_model_dir, folder, tmp_path):
    """`--part bass`: of the texture the model writes, only the bass is played (on the
    bass's own track); the other parts are heard, not written."""
    from bridge.vocab import BASS

    played = []
    for seed in range(4):
        target = tmp_path / f"bass{seed}.mid"
        result = CliRunner().invoke(continue_, [
            str(folder / "a.mid"), "-o", str(target), "--part", "bass", "--only", "--seed",
            str(seed), "--bars", "2", "--json", "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        notes = read_midi(target).notes
        assert {n.part for n in notes} <= {BASS}
        assert json.loads(result.output)["notes"] == len(notes)
        played += notes
    assert played                                 # the tiny model writes some bass
    bad = CliRunner().invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid", "--part", "oboe"])
    assert bad.exit_code == 2 and "melody" in bad.output


def test_a_bass_stays_in_its_register_unless_the_pitches_asked_for_lie_above_it(
        tiny_model_dir, folder, tmp_path):
    """The tiny model's basses go anywhere; a bass written stays at or below the register's
    top, and within --pitch-low and --pitch-high, which may lift it above."""
    from bridge.vocab import BASS, REGISTER_TOP

    line = tmp_path / "line.mid"                  # a bass line alone: nothing above it
    write_midi(Piece([Note(b, 1.0, 40 + b % 12, 90, part=BASS) for b in range(40)]), line)

    def bass(*flags: str) -> list:
        notes = []
        for seed in range(3):
            target = tmp_path / f"bass{seed}{''.join(flags)}.mid"
            result = CliRunner().invoke(continue_, [
                str(line), "-o", str(target), "--part", "bass", "--only",
                "--seed", str(seed), "--bars", "2", "--model", str(tiny_model_dir), *flags])
            assert result.exit_code == 0, result.output
            notes += read_midi(target).notes
        return notes

    low = bass()
    assert low and max(n.pitch for n in low) <= REGISTER_TOP[BASS]
    high = bass("--pitch-low", "80", "--pitch-high", "90")
    assert high and {n.pitch for n in high} <= set(range(80, 91))
    bad = CliRunner().invoke(continue_, [str(folder / "a.mid"), "-o", "x.mid",
                                         "--pitch-low", "90", "--pitch-high", "80"])
    assert bad.exit_code == 2 and "--pitch-high" in bad.output


def test_outputs_never_overwrite_an_input_or_each_other(tiny_model_dir, folder, tmp_path):
    runner = CliRunner()
    model = ["--model", str(tiny_model_dir), "--candidates", "1", "--bars", "1"]
    a = folder / "a.mid"
    before = a.read_bytes()
    itself = runner.invoke(continue_, [str(a), "-o", str(a), *model])
    assert itself.exit_code == 2 and "is an input" in itself.output
    os.link(a, tmp_path / "linked.mid")                  # the same file by another name
    linked = runner.invoke(continue_, [str(a), "-o", str(tmp_path / "linked.mid"), *model])
    assert linked.exit_code == 2 and "is an input" in linked.output
    assert a.read_bytes() == before
    (folder / "jigs" / "a.mid").write_bytes(before)     # one name from another place
    twice = runner.invoke(continue_, [str(a), str(folder / "jigs" / "a.mid"), str(a),
                                      "--out-dir", str(tmp_path / "out"), *model])
    assert twice.exit_code == 0, twice.output           # (the same file twice: once)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["a-2-continued.mid", "a-continued.mid"]


def test_outputs_inside_the_folder_read_are_not_read_again(tiny_model_dir, folder):
    args = [str(folder), "--out-dir", str(folder / "out"), "--model", str(tiny_model_dir),
            "--candidates", "1", "--bars", "1"]
    for _ in range(2):                                  # run again: the same two inputs
        result = CliRunner().invoke(continue_, args)
        assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(folder / "out").as_posix()
                  for p in (folder / "out").rglob("*.mid")) == \
        ["a-continued.mid", "jigs/b-continued.mid"]


def test_a_target_that_cannot_be_written_is_refused_before_any_sampling(
        tiny_model_dir, folder, tmp_path):
    runner = CliRunner()
    model = ["--model", str(tiny_model_dir), "--candidates", "1"]
    (tmp_path / "afile").write_text("")
    under_a_file = runner.invoke(continue_, [str(folder / "a.mid"), "-o",
                                             str(tmp_path / "afile" / "x.mid"), *model])
    assert under_a_file.exit_code == 2 and "cannot write" in under_a_file.output
    assert "afile is a file, not a folder" in under_a_file.output
    (tmp_path / "out" / "a-seed0.mid").mkdir(parents=True)
    a_folder = runner.invoke(continue_, [str(folder), "--out-dir", str(tmp_path / "out"),
                                         "--seed", "0", *model])
    assert a_folder.exit_code == 2 and "is a folder" in a_folder.output
    assert not list((tmp_path / "out").rglob("*-seed0.mid*/*"))
    picture = runner.invoke(continue_, [str(folder / "a.mid"), "-o", str(tmp_path / "x.mid"),
                                        "--png", str(tmp_path / "x.xyz"), *model])
    assert picture.exit_code == 2 and ".png" in picture.output
    no_seed = runner.invoke(continue_, [str(folder), "--out-dir", str(tmp_path / "o2"),
                                        "--seeds", ",,", *model])
    assert no_seed.exit_code == 2 and "comma-separated" in no_seed.output


def test_the_input_is_written_back_as_it_was_and_continued_on_its_instrument(
        tiny_model_dir, folder, tmp_path):
    import mido

    mid = mido.MidiFile(folder / "a.mid")
    mid.tracks[1].insert(1, mido.Message("program_change", channel=0, program=40))
    mid.tracks[1].insert(2, mido.Message("control_change", channel=0, control=64, value=127))
    mid.save(tmp_path / "violin.mid")
    result = CliRunner().invoke(continue_, [
        str(tmp_path / "violin.mid"), "-o", str(tmp_path / "out.mid"), "--prompt-bars", "8",
        "--bars", "2", "--seed", "0", "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    out = mido.MidiFile(tmp_path / "out.mid")
    kinds = [(m.type, getattr(m, "program", None)) for m in out.tracks[1]]
    assert ("program_change", 40) in kinds and ("control_change", None) in kinds
    new = [m for t in out.tracks[2:] for m in t]
    assert {m.program for m in new if m.type == "program_change"} == {40}
    assert {m.channel for m in new if m.type == "note_on"} - {9} and \
        0 not in {m.channel for m in new if m.type == "note_on"}


def test_a_file_played_off_its_own_beats_is_continued_on_the_beats_it_is_played_on(
        tiny_model_dir, tmp_path):
    """POP909's files: the notes 0.527 beats after the file's beats, its meter 2/4. The
    prompt is 8 bars of 4 on the music's beats, and a note on stderr says so; --grid file
    keeps the file's grid (8 bars of 2/4 from the bar of the first note)."""
    from bridge.vocab import TICKS_PER_BEAT, Meter
    from tests.music.pieces import song

    path = tmp_path / "song.mid"
    write_midi(song(0.527, bars=12, meter=Meter([(0, 2 * TICKS_PER_BEAT)])), path)
    runs = {}
    for grid in ("auto", "file"):
        result = CliRunner().invoke(continue_, [
            str(path), "-o", str(tmp_path / f"{grid}.mid"), "--prompt-bars", "8", "--bars", "1",
            "--candidates", "1", "--seed", "0", "--json", "--grid", grid,
            "--model", str(tiny_model_dir)])
        assert result.exit_code == 0, result.output
        runs[grid] = (json.loads(result.stdout), result.stderr)
    fitted, note = runs["auto"]
    assert fitted["start_beat"] == pytest.approx(32.527, abs=1 / 480)   # its own bar line
    assert fitted["first_beat"] >= fitted["start_beat"] - 1e-6
    assert "does not fit its notes" in note and "--grid file" in note
    kept, quiet = runs["file"]
    assert kept["start_beat"] == 16.0 and "does not fit" not in quiet
    tagged = CliRunner().invoke(tag, [str(path), "--json", "--model", str(tiny_model_dir)])
    assert json.loads(tagged.stdout)["windows"] == 3 and "does not fit" in tagged.stderr


def test_a_file_played_in_free_time_is_heard_on_its_beats_and_continued_in_its_time(
        tiny_model_dir, tmp_path):
    """A song played without a click (its beat 1.05 to 1.35 of the file's, onsets a little
    off): the prompt is 8 bars of the beats played, the continuation starts on the beat
    after them and is written back in the file's time, at the beat the player ended on."""
    from tests.music.pieces import performed, song

    piece, beats = performed(song(bars=12))
    write_midi(piece, tmp_path / "played.mid")
    result = CliRunner().invoke(continue_, [
        str(tmp_path / "played.mid"), "-o", str(tmp_path / "out.mid"), "--prompt-bars", "8",
        "--bars", "2", "--seed", "0", "--json", "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "played in free time" in result.stderr and "--grid file" in result.stderr
    report = json.loads(result.stdout)
    assert report["start_beat"] == pytest.approx(beats[32], abs=0.15)   # its bar 9
    assert report["first_beat"] >= report["start_beat"] - 1e-6
    out = read_midi(tmp_path / "out.mid")
    tick = 1 / 96                                      # (the file's ticks round a beat)
    prompt = [n for n in out.notes if n.start < report["start_beat"] - tick]
    new = [n for n in out.notes if n.start >= report["start_beat"] - tick]
    assert new and max(n.end for n in prompt) <= report["start_beat"] + tick
    # 2 bars of 4 beats at the player's last beat (1.05-1.35 file beats), not of the file's
    assert max(n.start for n in new) - report["start_beat"] < 8 * 1.4


def test_a_take_goes_on_with_its_chords_spread_as_the_player_spreads_them(
        tiny_model_dir, tmp_path):
    """A song played to a click whose chords' notes come some milliseconds apart: the
    continuation's chords are spread too, and a note on stderr says so; --together strikes
    the same continuation's chords at once. The song as written has no touch."""
    import random

    from bridge.vocab import TICKS_PER_BEAT
    from tests.music.pieces import song

    rng = random.Random(0)
    written = song(bars=12)
    played = Piece([Note(n.start + (rng.uniform(0.005, 0.03) if n.pitch < 76 else 0.0),
                         n.duration, n.pitch, n.velocity) for n in written.notes])
    write_midi(written, tmp_path / "written.mid")
    write_midi(played, tmp_path / "played.mid")

    def run(name: str, *flags: str) -> tuple[list[Note], str]:
        out = tmp_path / f"{name}{len(flags)}.out.mid"
        result = CliRunner().invoke(continue_, [
            str(tmp_path / f"{name}.mid"), "-o", str(out), "--only", "--prompt-bars", "8",
            "--bars", "4", "--candidates", "1", "--seed", "3", "--model", str(tiny_model_dir),
            *flags])
        assert result.exit_code == 0, result.output
        return read_midi(out).notes, result.stderr

    def on_ticks(notes: list[Note]) -> bool:
        return all(abs(n.start * TICKS_PER_BEAT - round(n.start * TICKS_PER_BEAT)) < 1e-3
                   for n in notes)

    spread, note = run("played")
    together, quiet = run("played", "--together")
    assert "spread as a player's" in note and "--together" in note
    assert "spread" not in quiet
    assert sorted(n.pitch for n in spread) == sorted(n.pitch for n in together)
    assert on_ticks(together) and not on_ticks(spread)
    score, said = run("written")
    assert "spread" not in said and on_ticks(score)


def test_a_loop_goes_on_going_round_and_a_note_says_so(tiny_model_dir, tmp_path):
    """A 2-bar figure played round for 8 bars: a note on stderr says the continuation goes
    round with it (it quotes the loop, bridge.live.quote.loop); a phrase that moves on, or a
    single draw (which quotes nothing), says nothing of it."""
    from tests.music.pieces import riff

    write_midi(Piece(riff(2)), tmp_path / "loop.mid")
    write_midi(Piece([Note(n.start, n.duration, n.pitch + int(n.start // 4), n.velocity)
                      for n in riff(2)]), tmp_path / "rising.mid")

    def said(name: str, *flags: str) -> str:
        result = CliRunner().invoke(continue_, [
            str(tmp_path / f"{name}.mid"), "-o", str(tmp_path / f"{name}{len(flags)}.out.mid"),
            "--bars", "2", "--candidates", "4", "--seed", "1", "--model",
            str(tiny_model_dir), *flags])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "goes round every 2 bar(s)" in said("loop")
    assert "goes round" not in said("rising")
    assert "goes round" not in said("loop", "--candidates", "1")

