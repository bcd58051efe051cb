"""Audit 223 #3: a refused kernel or ``--then`` step wrote ``--report`` for one input, but none for a batch (a folder,
several files), whose ``--json`` printed one bare record of ``"input": "b2"``, and an existing report was exit 4 for one
input but 3 for a batch.  A batch now checks its report first and records each input "not run", code 3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import process_env, small_png, write_nifti

UNKNOWN = "unknown kernel 'nosuch'; `kernelcli kernels` lists the catalogue"


def kernelcli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], capture_output=True, text=True, cwd=cwd,
                          env=process_env(), timeout=120)


@pytest.fixture
def files(tmp_path):
    small_png(tmp_path / "b2" / "a.png")
    small_png(tmp_path / "b2" / "b.png")
    (tmp_path / "nan.json").write_text('{"name": "a", "matrix": [[NaN, 1], [1, 1]]}')
    return tmp_path


def not_run_everywhere(document: dict, inputs: list[str], error: str, outputs=None) -> None:
    assert [item["input"] for item in document["items"]] == inputs
    for item, output in zip(document["items"], outputs or [None] * len(inputs)):
        assert (item["status"], item["code"], item["error"], item["output"]) == ("not run", 3, f"not run: {error}", output)
    assert document["totals"]["not_run"] == len(inputs)


@pytest.mark.parametrize("args, error", [
    (["b2", "-k", "nosuch"], UNKNOWN),
    (["b2/a.png", "b2/b.png", "-k", "nosuch"], UNKNOWN),
    (["b2", "-k", "nan.json"], "nan.json: matrix: row 1, column 1 is NaN, expected a finite number"),
    (["b2", "-k", "box:3", "-k", "nosuch"], UNKNOWN),  # a filter bank
    (["b2", "-k", "box:3", "--then", "nosuch"], UNKNOWN),  # a chain
    (["b2", "-k", "nosuch", "--then", "maxpool:2"], UNKNOWN),
])
def test_a_refused_kernel_writes_the_batchs_report_and_document(files, args, error):
    r = kernelcli("convolve", *args, "--out-dir", "o", "--report", "r.json", "--json", cwd=files)
    assert r.returncode == 3, r.stderr
    assert r.stderr == f"error: {error}\n"
    inputs = ["b2/a.png", "b2/b.png"]
    not_run_everywhere(json.loads(r.stdout), inputs, error)
    not_run_everywhere(json.loads((files / "r.json").read_text()), inputs, error)
    assert not (files / "o").exists()


def test_the_suffix_names_the_outputs(files):
    r = kernelcli("convolve", "b2", "-k", "nosuch", "--suffix", "s", "--out-dir", "o", "--report", "r.json", cwd=files)
    assert r.returncode == 3, r.stderr
    not_run_everywhere(json.loads((files / "r.json").read_text()), ["b2/a.png", "b2/b.png"], UNKNOWN,
                       ["o/a_s.png", "o/b_s.png"])


def test_an_existing_report_is_exit_4_as_for_one_input(files):
    (files / "r.json").write_text("{}")
    one = kernelcli("convolve", "b2/a.png", "-k", "nosuch", "-o", "x.png", "--report", "r.json", cwd=files)
    batch = kernelcli("convolve", "b2", "-k", "nosuch", "--out-dir", "o", "--report", "r.json", "--json", cwd=files)
    assert one.returncode == batch.returncode == 4, batch.stderr
    assert batch.stderr == "error: --report r.json: already exists; use --force to overwrite it; nothing was done\n"
    assert [(i["status"], i["code"], i["output"]) for i in json.loads(batch.stdout)["items"]] == [("not run", 4, None)] * 2
    assert (files / "r.json").read_text() == "{}"
    forced = kernelcli("convolve", "b2", "-k", "nosuch", "--out-dir", "o", "--report", "r.json", "--force", cwd=files)
    assert forced.returncode == 3
    not_run_everywhere(json.loads((files / "r.json").read_text()), ["b2/a.png", "b2/b.png"], UNKNOWN)


def test_a_report_in_the_output_folder_is_made_for_it_alone(files):
    r = kernelcli("convolve", "b2", "-k", "nosuch", "--out-dir", "o", "--report", "o/r.json", cwd=files)
    assert r.returncode == 3, r.stderr
    assert [p.name for p in (files / "o").iterdir()] == ["r.json"]


def test_a_bad_option_value_still_writes_no_report(files):
    (files / "v").mkdir()
    write_nifti(files / "v" / "a.nii.gz")
    r = kernelcli("convolve", "v", "-k", "box:3", "--stride", "2", "--out-dir", "o", "--report", "r.json", cwd=files)
    assert r.returncode == 2, r.stderr
    assert not (files / "r.json").exists()


@pytest.mark.parametrize("command", ["convolve", "volume"])
def test_volumes_and_a_mixed_batch(files, command):
    (files / "v").mkdir()
    write_nifti(files / "v" / "a.nii.gz")
    write_nifti(files / "v" / "b.nii.gz")
    r = kernelcli(command, "v", "-k", "nosuch", "--out-dir", "o", "--report", "r.json", cwd=files)
    assert r.returncode == 3, r.stderr
    # worded as an image batch's (audit 233 #1: a volume batch added '; every input of the batch is refused alike')
    not_run_everywhere(json.loads((files / "r.json").read_text()), ["v/a.nii.gz", "v/b.nii.gz"], UNKNOWN)
    write_nifti(files / "b2" / "c.nii.gz")
    r = kernelcli(command, "b2", "-k", "nosuch", "--out-dir", "o", "--report", "m.json", cwd=files)
    assert r.returncode == 3, r.stderr
    not_run_everywhere(json.loads((files / "m.json").read_text()), ["b2/a.png", "b2/b.png", "b2/c.nii.gz"], UNKNOWN)
