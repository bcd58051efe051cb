"""Audit 165 #6: a note several batch files share named them by base name, so two files of one name in two folders
were one name twice ("x.png: ... (and 1 more file like it: x.png)"); errors and records name the path as given.
A base name one input has is kept (the short form), a shared one gives way to the paths."""

from __future__ import annotations

import shutil

from conftest import SAMPLES, run_in_process


def test_two_files_of_one_name_are_named_by_their_paths(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / "nd" / sub).mkdir(parents=True)
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "nd" / sub / "x.png")
    done = run_in_process("convolve", "nd", "-r", "-k", "sobel_v", "--out-dir", "ndo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert any(line.startswith("note: nd/a/x.png: ") and line.endswith("(and 1 more file like it: nd/b/x.png)")
               for line in notes), notes


def test_files_of_distinct_names_keep_their_base_names(tmp_path):
    for sub, name in (("a", "x.png"), ("b", "y.png")):
        (tmp_path / "nd" / sub).mkdir(parents=True)
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "nd" / sub / name)
    done = run_in_process("convolve", "nd", "-r", "-k", "sobel_v", "--out-dir", "ndo", cwd=tmp_path)
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert any(line.startswith("note: x.png: ") and line.endswith("(and 1 more file like it: y.png)") for line in notes), notes
