"""Audit 141 (the README read top to bottom): the pipes' findings, checked."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from conftest import run_piped as kernelcli


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


# 5: a NIfTI (1 or 2, gzip-compressed too) or MGH file on stdin is named, as a DICOM, NRRD or MetaImage is

def volume_bytes(tmp_path: Path, kind: str) -> bytes:
    nib = pytest.importorskip("nibabel")
    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    image = {"nifti1": nib.Nifti1Image, "nifti2": nib.Nifti2Image}.get(kind, nib.MGHImage)
    path = tmp_path / f"v_{kind}.{'mgh' if kind == 'mgh' else 'nii'}"
    nib.save(image(data if kind != "mgh" else data.astype(np.float32), np.eye(4)), path)
    return path.read_bytes()


@pytest.mark.parametrize("kind, named", [("nifti1", "a NIfTI file"), ("nifti2", "a NIfTI file"), ("mgh", "an MGH file")])
@pytest.mark.parametrize("packed", [False, True])
def test_a_nifti_or_mgh_on_stdin_is_named(tmp_path, kind, named, packed):
    data = volume_bytes(tmp_path, kind)
    data = gzip.compress(data) if packed else data
    r = kernelcli("convolve", "-", "-k", "box:3", "-o", "-", "--format", "npy", cwd=tmp_path, data=data)
    assert r.returncode == 2 and r.stdout == b"", r.stderr
    said = f"input '-': stdin holds {named}{' (gzip-compressed)' if packed else ''}; volumes (NIfTI, DICOM, MGH, NRRD, MetaImage) are read from files, not pipes: give its path"
    assert said in r.stderr, r.stderr


def test_what_is_no_volume_is_read_as_before(tmp_path):
    from kernelcli.io.pipes import sniff_volume

    assert sniff_volume(b"1 2 3\n4 5 6\n") is None
    assert sniff_volume(gzip.compress(b"1,2\n3,4\n")) is None
    assert sniff_volume(b"\x93NUMPY\x01\x00" + bytes(600)) is None
    assert sniff_volume(bytes(600)) is None
    r = kernelcli("convolve", "-", "-k", "box:3", cwd=tmp_path, data=b"1 2 3\n4 5 6\n7 8 9\n")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
