"""A call's --json and its --report say the same when it fails (audit 98 #3): a batch refused while planning printed
one flat record with "input": null, "output": null while its --report held the batch document; one input whose
default output exists said "output": null where the report named it; a matrix printed on stdout was "output": null
in --json and "stdout" in the report and the summary line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "bo").mkdir()
    for name in ("p.png", "q.png"):
        Image.fromarray(np.random.default_rng(3).integers(0, 255, (8, 8), dtype=np.uint8)).save(tmp_path / "b" / name)
    (tmp_path / "m.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    return tmp_path


def test_a_refused_batch_prints_the_reports_document(files):
    (files / "bo" / "p_sobel_v.png").touch()
    r = run_in_process("convolve", "b/p.png", "b/q.png", "-k", "sobel_v", "-d", "bo", "--json", "--report", "rep.json", cwd=files)
    assert r.returncode == 4, r.stderr
    said = json.loads(r.stdout)
    assert said == json.loads((files / "rep.json").read_text())
    assert [(i["input"], i["status"]) for i in said["items"]] == [("b/p.png", "failed"), ("b/q.png", "not run")]
    assert not (files / "bo" / "q_sobel_v.png").exists()
    r = run_in_process("convolve", "b/p.png", "b/q.png", "-k", "sobel_v", "-d", "bo", "--json", cwd=files)
    assert r.returncode == 4 and json.loads(r.stdout)["totals"]["failed"] == 1


def test_a_refused_default_output_is_named(files):
    (files / "b" / "p_sobel_v.png").touch()
    r = run_in_process("convolve", "p.png", "-k", "sobel_v", "--json", "--report", "../rep.json", cwd=files / "b")
    assert r.returncode == 4, r.stderr
    said = json.loads(r.stdout)
    reported = json.loads((files / "rep.json").read_text())["items"][0]
    assert said["output"] == reported["output"] == "p_sobel_v.png" and said["code"] == 4


def test_a_matrix_on_stdout_is_output_stdout(files):
    r = run_in_process("convolve", "m.csv", "-k", "sobel_v", "--json", "--report", "rep.json", cwd=files)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)
    assert said["output"] == json.loads((files / "rep.json").read_text())["items"][0]["output"] == "stdout"
    scipy = pytest.importorskip("scipy.ndimage")
    sobel_v = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    want = scipy.correlate(np.arange(1, 10.0).reshape(3, 3), sobel_v, mode="constant")
    np.testing.assert_array_equal(said["matrix"], want)


@pytest.mark.parametrize("args", [
    ["convolve", "broken.png", "-k", "box:3"],  # no -o: the default name the report names
    ["convolve", "b/p.png", "-k", "box:31", "--padding", "valid", "-o", "s.png"],  # larger than the image
    ["pool", "broken.png", "-f", "2", "-o", "pooled.png"],
])
def test_one_inputs_failure_prints_the_record_its_report_holds(files, args):
    # the README audit (107 #1): --json said "seconds": null, no input prefix and "output": null where --report
    # held the seconds, the prefix and the default output's name
    (files / "broken.png").write_bytes(b"garbage")
    r = run_in_process(*args, "--json", "--report", "rep.json", cwd=files)
    assert r.returncode != 0, r.stderr
    said = json.loads(r.stdout)
    assert said == json.loads((files / "rep.json").read_text())["items"][0]
    assert said["status"] == "failed" and said["seconds"] is not None and said["output"] is not None
    alone = json.loads(run_in_process(*args, "--json", cwd=files).stdout)  # without --report: the same fields
    assert {k: v for k, v in alone.items() if k != "seconds"} == {k: v for k, v in said.items() if k != "seconds"}


def test_a_piped_inputs_failure_names_stdin_in_both_records(files):
    # read-through: with --report, --json printed the pipe's stand-in path where the report said "stdin"
    (files / "x.png").touch()
    r = run_in_process("convolve", "-", "-k", "box:3", "-o", "x.png", "--report", "rep.json", "--json", cwd=files,
                       input=(files / "b" / "p.png").read_bytes())
    assert r.returncode == 4, r.stderr
    said = json.loads(r.stdout)
    assert said == json.loads((files / "rep.json").read_text())["items"][0]
    assert said["input"] == "stdin" and said["error"] == "x.png: already exists; use --force to overwrite it"  # (the line on stderr)
