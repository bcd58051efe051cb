"""Audit 150 #5: one input's ``--kernel`` refused before the input is read (exit 3) writes its ``--report`` on every
path, as the volume path did (README: "``--report FILE`` writes the batch form for one input too"; a refused call's
``output`` null where it was never named): an image, a chain, ``--weights``, a tiled array, a NIfTI volume."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def inputs(tmp_path):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "p.png")
    np.save(tmp_path / "a.npy", np.random.default_rng(0).random((10, 12)))
    volume = (np.arange(8 * 9 * 10) % 50).astype(np.int16).reshape(10, 9, 8)
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "ct.nii.gz")
    return tmp_path


@pytest.mark.parametrize("args, output", [
    (["p.png", "-k", "nosuch"], None),
    (["p.png", "-k", "nosuch", "-o", "o.png"], "o.png"),
    (["p.png", "-k", "nosuch", "--then", "box:3"], None),
    (["p.png", "-k", "box:3", "--then", "nosuch"], None),
    (["p.png", "-k", "nosuch", "-k", "box:3", "-o", "o.npy"], "o.npy"),
    (["p.png", "--weights", "nosuch.npy"], None),
    (["a.npy", "-k", "nosuch", "--tiled", "-o", "t.npy"], "t.npy"),
    (["a.npy", "-k", "box:3", "--then", "nosuch", "--tiled", "-o", "t.npy"], "t.npy"),
    (["ct.nii.gz", "-k", "nosuch"], None),
], ids=["image", "image -o", "chain", "chain step", "bank", "weights", "tiled array", "tiled chain", "volume"])
def test_a_refused_kernel_writes_the_report_on_every_path(inputs, args, output):
    done = run_in_process("convolve", *args, "--report", "r.json", "--json", cwd=inputs)
    assert done.returncode == 3, done.stderr
    report = json.loads((inputs / "r.json").read_text())
    (item,) = report["items"]
    assert (item["input"], item["output"], item["status"], item["code"]) == (args[0], output, "failed", 3)
    assert "nosuch" in item["error"] and report["totals"]["failed"] == 1
    printed = json.loads(done.stdout)  # --json's record is the report's
    assert {k: v for k, v in printed.items() if k != "seconds"} == {k: v for k, v in item.items() if k != "seconds"}
    assert sorted(p.name for p in inputs.iterdir()) == ["a.npy", "ct.nii.gz", "p.png", "r.json"]


def test_a_report_that_may_not_be_written_is_still_refused_first(inputs):
    done = run_in_process("convolve", "p.png", "-k", "nosuch", "--report", "p.png", "--force", cwd=inputs)
    assert done.returncode == 4 and "--report p.png" in done.stderr
    assert (inputs / "p.png").read_bytes() == (SAMPLES / "phantom.png").read_bytes()
