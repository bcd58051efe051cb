"""Audit 8, item 13: a batch's notes never pass one file's numbers off as another's, and come in the inputs' order.

Grouped "numbers aside", ``a.nii.gz: gaussian:1mm on 3x0.8x0.5 mm voxels ...: a 3x9x13 kernel (and 1 more file
like it: c.nii.gz)`` hid c.nii.gz's other voxels and kernel; and which file a shared note named depended on
which finished first.
"""

from __future__ import annotations

from types import SimpleNamespace

from kernelcli.cli import _batch_display
from kernelcli.cli._batch_display import BatchDisplay, group_notes

A = "gaussian:1mm on 3x0.8x0.5 mm voxels (z, y, x): a 3x9x13 kernel"
C = "gaussian:1mm on 2.5x0.7x0.7 mm voxels (z, y, x): a 5x11x11 kernel"


def test_notes_that_differ_in_a_number_say_so():
    # grouped, but never as if the first file's numbers were the others' (a batch of 200 files keeps one line)
    lines = group_notes([("a.nii.gz", A), ("c.nii.gz", C)])
    assert lines == [f"a.nii.gz: {A} (and 1 more file like it, with other numbers: c.nii.gz)"]


def test_notes_of_which_only_some_differ_say_some():
    # a byte copy's note, numbers and all, was listed under 'with other numbers' beside one that differed
    lines = group_notes([("a.nii.gz", A), ("b.nii.gz", A), ("c.nii.gz", C)])
    assert lines == [f"a.nii.gz: {A} (and 2 more files like it, some with other numbers: b.nii.gz, c.nii.gz)"]


def test_notes_alike_but_for_the_file_name_are_grouped():
    lines = group_notes([("a.nii", "a.nii: no unit; assuming mm"), ("b.nii", "b.nii: no unit; assuming mm"), ("c.nii", A)])
    assert lines == ["a.nii: no unit; assuming mm (and 1 more file like it: b.nii)", f"c.nii: {A}"]


def test_notes_come_in_the_order_of_the_inputs_not_of_finishing(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(_batch_display, "note", said.append)
    inputs = ["in/a.nii", "in/b.nii", "in/c.nii"]
    runs = []
    for finished in (inputs, inputs[::-1], [inputs[1], inputs[2], inputs[0]]):
        display = BatchDisplay(len(inputs), bar=False, quiet=False, order=inputs)
        for path in finished:
            name = path.split("/")[-1]
            display.update(SimpleNamespace(status="ok", error=None, input=path, notes=[f"{name}: same", A]), 1, 3)
        said.clear()
        display.print_notes()
        runs.append(list(said))
    assert runs[0] == runs[1] == runs[2], runs
    assert runs[0] == ["note: a.nii: same (and 2 more files like it: b.nii, c.nii)", f"note: a.nii: {A} (and 2 more files like it: b.nii, c.nii)"]


def test_what_a_folder_scan_passes_over_is_noted(tmp_path):
    # audit 42, F1: 'convolve f1 -r -d out' over f1/ct/*.dcm beside f1/a.png said '1 ok' and nothing of the series;
    # a folder or broken link named like an image was passed over in silence too
    import json
    import os
    import shutil

    from conftest import SAMPLES, run_in_process

    pydicom_data = __import__("pytest").importorskip("pydicom.data")
    (tmp_path / "f" / "ct").mkdir(parents=True)
    (tmp_path / "f" / "sub" / "x.png").mkdir(parents=True)
    for slice_ in ("1.dcm", "2.dcm"):
        shutil.copy(pydicom_data.get_testdata_file("CT_small.dcm"), tmp_path / "f" / "ct" / slice_)
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "f")
    os.symlink(tmp_path / "gone.png", tmp_path / "f" / "dead.png")
    for args in (["f", "-r"], ["f/**/*"]):
        result = run_in_process("convolve", *args, "-k", "box:3", "-d", "out", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        (item,) = json.loads(result.stdout)["items"]
        said = item["notes"][0]
        assert said.startswith("not read: ") and said in result.stderr
        for part in ("f/dead.png, a broken link", "f/sub/x.png, a folder", "f/ct, 2 DICOM files: a DICOM series is one volume"):
            assert part in said
        shutil.rmtree(tmp_path / "out")
    top = run_in_process("convolve", "f", "-k", "box:3", "-d", "out", cwd=tmp_path)
    assert top.returncode == 0 and "not read: f/dead.png, a broken link named like an input\n" in top.stderr


def test_errors_come_in_the_order_of_the_inputs_not_of_finishing(monkeypatch):
    # batch audit F6: errors were printed as the files finished: 5 different stderrs in 6 runs of one batch
    said: list[str] = []
    monkeypatch.setattr(_batch_display, "error", said.append)
    inputs = ["a.png", "b.png", "c.png", "d.png"]
    record = {path: SimpleNamespace(status="failed" if path != "c.png" else "ok", error=f"{path}: bad", input=path, notes=[])
              for path in inputs}
    for finished in (inputs, inputs[::-1], ["b.png", "d.png", "a.png", "c.png"]):
        said.clear()
        with BatchDisplay(len(inputs), bar=False, quiet=False, order=inputs) as display:
            for n, path in enumerate(finished, 1):
                display.update(record[path], n, len(inputs))
                if finished[0] == "b.png" and n == 2:
                    assert said == []  # a.png has not finished: nothing said yet
        assert said == ["a.png: bad", "b.png: bad", "d.png: bad"]
    said.clear()
    with BatchDisplay(len(inputs), bar=False, quiet=False, order=inputs) as display:  # interrupted: a.png never finished
        display.update(record["d.png"], 1, 4)
        display.update(record["b.png"], 2, 4)
    assert said == ["b.png: bad", "d.png: bad"]
