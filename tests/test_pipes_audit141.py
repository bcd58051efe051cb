"""Audit 141 (the README read top to bottom): the pipes' findings, checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import process_env


def kernelcli(*args: str, cwd: Path, data: bytes | None = b"") -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own, ``data`` on stdin (stdout as bytes, stderr as text)."""
    r = subprocess.run([sys.executable, "-m", "kernelcli", *args], input=data, capture_output=True, cwd=cwd,
                       env=process_env(), timeout=120)
    r.stderr = r.stderr.decode()
    return r


@pytest.fixture
def inputs(tmp_path):
    """t.nii (a small NIfTI-1), g.png (grey) and v.npy (an int16 (Z, Y, X) array) in ``tmp_path``."""
    nib = pytest.importorskip("nibabel")
    from PIL import Image

    rng = np.random.default_rng(141)
    nib.save(nib.Nifti1Image(rng.integers(0, 50, (8, 9, 5)).astype(np.int16), np.diag([1, 1, 2, 1])), tmp_path / "t.nii")
    Image.fromarray(rng.integers(0, 256, (12, 14), dtype=np.uint8)).save(tmp_path / "g.png")
    np.save(tmp_path / "v.npy", rng.integers(-100, 100, (3, 10, 11)).astype(np.int16))
    return tmp_path


# 3: -o /dev/stdout points to the formats this input writes through a pipe, as the bare -o - does

def suggested_formats(stderr: str) -> list[str]:
    """The formats a refusal's 'give --out - --format A|B' (or 'add --format A|B') names."""
    said = stderr.split("--format ", 1)[1]
    return said.split()[0].split("|")


@pytest.mark.parametrize("args, formats", [
    (["convolve", "t.nii", "-k", "box:3vox"], ["npy", "png"]),
    (["convolve", "g.png", "-k", "box:3", "-k", "sobel_v"], ["npy", "tif"]),
    (["convolve", "v.npy", "--layout", "zyx", "-k", "box:3"], ["npy"]),
    (["pool", "t.nii", "-f", "2"], ["npy", "png"]),
])
def test_stdouts_device_file_points_to_formats_the_input_writes(inputs, args, formats):
    r = kernelcli(*args, "-o", "/dev/stdout", cwd=inputs)
    assert r.returncode == 2 and r.stdout == b"", r.stderr
    assert "stdout is written as --out -, not through its device file; give --out - --format" in r.stderr, r.stderr
    assert suggested_formats(r.stderr) == formats, r.stderr
    for fmt in formats:  # following the hint runs (it led to a second refusal: --format csv for a volume)
        r = kernelcli(*args, "-o", "-", "--format", fmt, "-q", cwd=inputs)
        assert r.returncode == 0 and r.stdout, (fmt, r.stderr)


def test_a_link_to_stdout_gets_the_volumes_formats(inputs):
    (inputs / "so.npy").symlink_to("/proc/self/fd/1")
    r = kernelcli("convolve", "t.nii", "-k", "box:3vox", "-o", "so.npy", cwd=inputs)
    assert r.returncode == 2 and suggested_formats(r.stderr) == ["npy", "png"], r.stderr
    assert (inputs / "so.npy").is_symlink()


def test_a_banks_bare_out_dash_names_the_maps_formats(inputs):
    r = kernelcli("convolve", "g.png", "-k", "box:3", "-k", "sobel_v", "-o", "-", cwd=inputs)
    assert r.returncode == 2 and "add --format npy|tif" in r.stderr, r.stderr
    r = kernelcli("convolve", "g.png", "-k", "box:3", "-o", "-", cwd=inputs)  # one kernel: an image's six
    assert r.returncode == 2 and "add --format bmp|csv|jpg|npy|png|tif" in r.stderr, r.stderr
