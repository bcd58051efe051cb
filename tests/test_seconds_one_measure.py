"""`seconds` is one measure (audit 98 #2): one input's --json record and summary line timed the computing alone,
while the same call's --report, and a batch's record of the same file, timed the whole job (a volume's window and
gzip write said 0.0 ms). Now every record times the whole job of its input: read, compute and write."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

IN_THIS_PROCESS = {"KERNELCLI_WORKER": "off"}  # (a worker up elsewhere in the suite would not see the slowed write)


@pytest.fixture
def slow_write(monkeypatch):
    """Writing an output takes 0.3 s more (every writer flushes its file with fsync before it is put in place): a
    record that leaves the write out is caught (in-process runs only)."""
    import os

    real = os.fsync

    def fsync(fd):
        time.sleep(0.3)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.fixture
def g(tmp_path):
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (40, 40), dtype=np.uint8)).save(tmp_path / "g.png")
    return tmp_path


def test_json_and_report_agree_and_count_the_write(g, slow_write):
    r = run_in_process("convolve", "g.png", "-k", "gaussian:2", "-o", "o.png", "--json", "--report", "rep.json", cwd=g, env=IN_THIS_PROCESS)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)["seconds"]
    reported = json.loads((g / "rep.json").read_text())["items"][0]["seconds"]
    assert said == reported and said >= 0.3


def test_the_summary_line_counts_the_write(g, slow_write):
    r = run_in_process("convolve", "g.png", "-k", "gaussian:2", "-o", "o.png", cwd=g, env=IN_THIS_PROCESS)
    assert r.returncode == 0, r.stderr
    ms = float(r.stderr.strip().rsplit(", ", 1)[1].removesuffix(" ms"))
    assert ms >= 300, r.stderr


def test_a_volume_copy_is_timed(g, slow_write):
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)), g / "v.nii.gz")
    r = run_in_process("convolve", "v.nii.gz", "-o", "w.nii.gz", "--window", "0,2000", "--json", cwd=g, env=IN_THIS_PROCESS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seconds"] >= 0.3


def test_a_gallery_is_timed_whole(g, slow_write):
    r = run_in_process("gallery", "g.png", "--family", "edge", "-o", "s.png", "--json", cwd=g, env=IN_THIS_PROCESS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seconds"] >= 0.3
