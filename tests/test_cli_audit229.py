"""convolve / pad / pool on the command line: what audit 229 found (links, conflicting options, records, notes, .npy).

#1 a batch's ``--report`` that is a link to one of its outputs was taken with ``--force`` (the link replaced by the
report, exit 0) where one input's is refused ("is also the output", exit 4).
#4 ``-o FILE`` with ``--out-dir`` on one input was told "for several inputs, a folder or a pattern use --out-dir DIR"
(stdin: "with '-' give --out PATH"; ``--tiled``: "--tiled works on one input"): the two options conflict.
#3 a batch file found written after the fact (as the run was interrupted, by a worker that died) was recorded
``"seconds": 0.0``, a value nobody measured: null.
#2 ``--suffix`` on a matrix printed on stdout (no ``-o``, no ``--format``) was dropped in silence: a note, as beside ``-o``.
#5 a ``.npy`` of Python objects was "not a valid .npy array (Array can't be memory-mapped ...)", as if broken, where a
complex one is "expected a numeric array, got dtype complex128"; kernels, weights and biases alike.
"""

from __future__ import annotations

import os

import pytest

from conftest import listing, run_in_process, small_png


@pytest.mark.parametrize("force", [["--force"], []], ids=["force", "no-force"])
@pytest.mark.parametrize("spelling", ["link", "name"])
def test_a_batch_report_that_is_an_output_is_refused_as_one_inputs_is(tmp_path, spelling, force):
    small_png(tmp_path / "b1" / "a.png")
    small_png(tmp_path / "b1" / "c.png")
    (tmp_path / "o").mkdir()
    report = "o/a_maxpool2.png"
    if spelling == "link":
        report = "o/r.json"
        os.symlink("a_maxpool2.png", tmp_path / report)
    before = listing(tmp_path)
    done = run_in_process("pool", "b1", "-f", "2", "-d", "o", "--report", report, *force, "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert f"error: --report {report}: is also the output; choose another --report file; nothing was done" in done.stderr
    assert listing(tmp_path) == before, "nothing written"


BOTH = ("error: --out and --out-dir both given: --out names one input's output file, --out-dir the folder of a batch's "
        "outputs; give one of them")


@pytest.mark.parametrize("argv", [
    ["convolve", "a.png", "-k", "box:3", "-o", "x.png", "--out-dir", "o"],
    ["convolve", "a.png", "-k", "box:3", "-o", "x.png", "-d", "2"],  # ('-d 2' meant as a dilation)
    ["convolve", "a.png", "-k", "box:3", "-k", "sobel_v", "--montage", "m.png", "-o", "x.png", "-d", "o"],
    ["pad", "a.png", "-p", "1", "-o", "x.png", "-d", "o", "--tiled"],
    ["pool", "a.png", "-f", "2", "-o", "-", "-d", "o"],
    ["pool", "-", "-f", "2", "-o", "x.png", "-d", "o"],
], ids=["out-dir", "d", "montage", "tiled", "stdout", "stdin"])
def test_out_and_out_dir_on_one_input_are_named_as_a_conflict(tmp_path, argv):
    small_png(tmp_path / "a.png")
    before = listing(tmp_path)
    done = run_in_process(*argv, cwd=tmp_path, input=(tmp_path / "a.png").read_bytes())
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [BOTH]
    assert listing(tmp_path) == before


def test_out_and_out_dir_on_several_inputs_keep_the_several_inputs_advice(tmp_path):
    small_png(tmp_path / "a.png")
    small_png(tmp_path / "b.png")
    done = run_in_process("pool", "a.png", "b.png", "-f", "2", "-o", "x.png", "-d", "o", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: --out names one output file; for several inputs, a folder or a pattern "
                                        "use --out-dir DIR"]


def _written_then_interrupted(path, *, out):
    from pathlib import Path

    Path(out).write_bytes(b"done")
    raise KeyboardInterrupt


def _written_then_killed(path, *, out):
    from pathlib import Path

    Path(out).write_bytes(b"done")
    os._exit(9)


@pytest.mark.parametrize("job, workers", [(_written_then_interrupted, 1), (_written_then_killed, 2)], ids=["interrupted", "killed"])
def test_a_file_found_written_after_the_fact_has_no_made_up_seconds(tmp_path, job, workers):
    from kernelcli import batch

    items = [batch.Item(tmp_path / f"{name}.png", tmp_path / f"{name}_x.png") for name in ("a", "b")]
    try:
        result = batch.run(items, job, workers=workers)
    except batch.BatchInterrupted as stopped:
        result = stopped.result
    ok = [r for r in result.records if r.status == "ok"]
    assert ok and all(r.seconds is None for r in ok), [(r.notes, r.seconds) for r in result.records]
    assert all(r.as_dict()["seconds"] is None for r in ok)


SUFFIX_NOTE = "--suffix 'mine' names the outputs --out does not: a matrix without --out or --format is printed on stdout"


@pytest.mark.parametrize("argv", [
    ["pool", "m.csv", "-f", "2"],
    ["pad", "m.csv", "-p", "1"],
    ["convolve", "m.csv", "-k", "box:3"],
    ["convolve", "m.csv", "-k", "box:3", "-k", "sobel_v"],
    ["convolve", "m.csv", "-k", "box:3", "--then", "sobel_v"],
    ["pool", "-", "-f", "2"],
], ids=["pool", "pad", "convolve", "bank", "chain", "stdin"])
def test_a_suffix_on_a_printed_matrix_is_noted(tmp_path, argv):
    import json

    (tmp_path / "m.csv").write_text("1,2,3,4\n5,6,7,8\n9,10,11,12\n13,14,15,16\n")
    before = listing(tmp_path)
    stdin = (tmp_path / "m.csv").read_bytes()
    done = run_in_process(*argv, "--suffix", "mine", cwd=tmp_path, input=stdin)
    assert done.returncode == 0, done.stderr
    assert f"note: {SUFFIX_NOTE}" in done.stderr.splitlines()
    printed = run_in_process(*argv, "--suffix", "mine", "--json", cwd=tmp_path, input=stdin)
    record = json.loads(printed.stdout)
    assert record["output"] == "stdout" and SUFFIX_NOTE in record["notes"], record
    assert listing(tmp_path) == before, "printed, no file"
    assert SUFFIX_NOTE not in run_in_process(*argv, "--suffix", "mine", "--format", "csv", cwd=tmp_path, input=stdin).stderr


@pytest.mark.parametrize("argv, code", [
    (["pool", "obj.npy", "-f", "2", "-o", "o.npy"], 2),
    (["pool", "-", "-f", "2", "-o", "o.npy"], 2),
    (["convolve", "a.png", "-k", "obj.npy", "-o", "o.npy"], 3),
    (["convolve", "a.png", "--weights", "obj4.npy", "-o", "o.npy"], 3),
    (["convolve", "a.png", "--weights", "w.npy", "--bias-file", "obj1.npy", "-o", "o.npy"], 3),
], ids=["input", "stdin", "kernel", "weights", "bias"])
def test_an_npy_of_python_objects_is_named_by_its_dtype(tmp_path, argv, code):
    import numpy as np

    small_png(tmp_path / "a.png")
    np.save(tmp_path / "obj.npy", np.array([[1, None], [2, 3]], dtype=object), allow_pickle=True)
    np.save(tmp_path / "obj4.npy", np.empty((1, 1, 3, 3), dtype=object), allow_pickle=True)
    np.save(tmp_path / "obj1.npy", np.empty((1,), dtype=object), allow_pickle=True)
    np.save(tmp_path / "w.npy", np.ones((1, 1, 3, 3), np.float32))
    shown = next((a for a in argv if a.startswith("obj")), "stdin")
    done = run_in_process(*argv, cwd=tmp_path, input=(tmp_path / "obj.npy").read_bytes())
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines() == [f"error: {shown}: expected a numeric array, got dtype object"]
    assert not (tmp_path / "o.npy").exists()
