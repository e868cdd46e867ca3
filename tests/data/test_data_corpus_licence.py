"""bridge.data.corpus: which corpus files may be used, by their own licence metadata (no
music21 needed: the check reads files under any root)."""

from __future__ import annotations

import zipfile

from bridge.data.corpus import restriction


def test_restriction_reads_the_file_and_its_folder(tmp_path):
    (tmp_path / "essen").mkdir()
    (tmp_path / "essen" / "license.txt").write_text("permission for non-commercial use")
    (tmp_path / "essen" / "a.abc").write_text("X:1\nK:C\nC")
    (tmp_path / "humdrum").mkdir()
    (tmp_path / "humdrum" / "b.krn").write_text(
        "!!!YEM: Rights to all derivative electronic formats reserved.\n**kern")
    (tmp_path / "humdrum" / "c.krn").write_text("!!!COM: anon\n**kern")
    (tmp_path / "humdrum" / "d.xml").write_text("<rights>CC BY-NC 4.0</rights>")
    assert "non-commercial" in restriction("essen/a.abc", tmp_path)
    assert "rights reserved" in restriction("humdrum/b.krn", tmp_path)
    assert restriction("humdrum/c.krn", tmp_path) is None
    assert "non-commercial" in restriction("humdrum/d.xml", tmp_path)
    with zipfile.ZipFile(tmp_path / "humdrum" / "e.mxl", "w") as z:     # compressed MusicXML
        z.writestr("META-INF/container.xml", "<container/>")
        z.writestr("e.xml", "<rights>CC BY-NC-SA</rights>")
    assert "non-commercial" in restriction("humdrum/e.mxl", tmp_path)
