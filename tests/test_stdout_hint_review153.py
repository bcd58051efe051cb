"""The hint of ``-o /dev/stdout --format F`` names F only where ``-o -`` takes it for this result (review 153 #2).

Audit 142's fix named the ``--format`` given, whatever it was: a filter bank's ``--format png`` was told "give --out -
--format png", which the next call refuses ("several feature maps need .npy ... or .tif"), and a volume's
``--format csv`` likewise.  Expected: the formats that input writes through a pipe, as before.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def _run(folder, *args):
    env = {**os.environ, "KERNELCLI_WORKER": "off", "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=folder, capture_output=True, text=True,
                          env=env, timeout=120)
    return done.returncode, done.stderr.strip()


@pytest.fixture
def inputs(tmp_path):
    Image.fromarray((np.arange(64).reshape(8, 8) * 3).astype(np.uint8)).save(tmp_path / "g.png")
    return tmp_path


@pytest.mark.parametrize("fmt", ["png", "jpg", "csv"])
def test_a_bank_is_told_the_formats_it_takes(inputs, fmt):
    code, err = _run(inputs, "convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "-o", "/dev/stdout", "--format", fmt)
    assert code == 2 and err.count("\n") == 0, err
    assert err.endswith("give --out - --format npy|tif (what several feature maps write through a pipe)"), err


@pytest.mark.parametrize("fmt", ["npy", "tif"])
def test_a_format_the_bank_takes_is_the_one_named(inputs, fmt):
    code, err = _run(inputs, "convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "-o", "/dev/stdout", "--format", fmt)
    assert code == 2 and err.endswith(f"give --out - --format {fmt}"), err


def test_a_volume_is_told_the_formats_it_takes(tmp_path):
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 4), np.float32), np.eye(4)), str(tmp_path / "vol.nii.gz"))
    code, err = _run(tmp_path, "convolve", "vol.nii.gz", "-k", "box:3vox", "-o", "/dev/stdout", "--format", "csv")
    assert code == 2 and err.endswith("give --out - --format npy|png (what a volume writes through a pipe: its voxels, "
                                      "or a slice's picture)"), err
    code, err = _run(tmp_path, "convolve", "vol.nii.gz", "-k", "box:3vox", "-o", "/dev/stdout", "--format", "npy")
    assert code == 2 and err.endswith("give --out - --format npy"), err
