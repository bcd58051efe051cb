"""Audit 213 F4: ``--montage`` refusals did not name the option (``error: mm.png: already exists; ...``), where
``--report``'s do (``error: --report rr2.json: already exists; ...``): with ``-o`` given too, the line did not say
which option was at fault.  Now every refusal of the montage's path starts ``--montage PATH:``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_in_process

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BANK = ["-k", "sobel_v", "-k", "sobel_h", "-o", "x.npy"]


@pytest.fixture
def folder(tmp_path):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "m1.png")
    (tmp_path / "mm.png").write_bytes(b"")
    (tmp_path / "mdir").mkdir()
    return tmp_path


@pytest.mark.parametrize("montage, extra, code", [("mm.png", [], 4), ("m1.png", ["--force"], 4), ("m.txt", [], 2),
                                                  ("mdir", [], 4), ("nodir/m.png", [], 2)])
def test_each_refusal_names_the_option(folder, montage, extra, code):
    r = run_in_process("convolve", "m1.png", *BANK, "--montage", montage, *extra, cwd=folder)
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith(f"error: --montage {montage}: "), r.stderr
    assert not (folder / "x.npy").exists()


def test_on_stdin_too(folder):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERNELCLI_WORKER": "off", "PYTHONPATH": str(SAMPLES.parent)}
    with open(folder / "m1.png", "rb") as stdin:  # (< m1.png: the montage is the file stdin reads)
        r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", *BANK, "--montage", "m1.png", "--force"],
                           stdin=stdin, capture_output=True, text=True, cwd=folder, env=env, timeout=120)
    assert r.returncode == 4, r.stderr
    assert r.stderr.startswith("error: --montage m1.png: is the input read on stdin"), r.stderr
