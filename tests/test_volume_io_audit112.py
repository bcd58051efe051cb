"""Audit 112: a volume's inputs and outputs say what they hold (a Zarr given a volume kernel, a .png's voxel size)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


def _nifti(path, shape=(6, 7, 8), spacing=(2.5, 0.9, 0.8)):
    nib = pytest.importorskip("nibabel")
    x = np.random.default_rng(3).random(shape).astype(np.float32) * 100
    img = nib.Nifti1Image(x.transpose(2, 1, 0), np.diag([*spacing[::-1], 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return path


@pytest.mark.parametrize("kernel, what", [("box_3d", "a named 3-D kernel"), ("gaussian:1.5mm", "a size in mm"),
                                          ("fwhm:2vox", "a size in voxels")])
def test_a_zarr_given_a_volume_kernel_is_refused_as_an_npy_is(tmp_path, kernel, what):
    """F2: a .zarr (one kernelcli wrote from a NIfTI, spacing_mm recorded) given a volume kernel was refused as
    'unsupported file type .zarr' (exit 2), where a .npy gets the kernel's refusal (exit 3)."""
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    _nifti(tmp_path / "v.nii")
    made = run_in_process("convolve", "v.nii", "-k", "box:3vox", "--tiled", "-o", "tc.zarr", "-q", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    np.save(tmp_path / "v.npy", np.zeros((6, 7, 8), np.float32))
    npy = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", kernel, "-o", "o.npy", cwd=tmp_path)
    zarr = run_in_process("convolve", "tc.zarr", "-k", kernel, "-o", "o.zarr", cwd=tmp_path)
    assert npy.returncode == zarr.returncode == 3, (npy.stderr, zarr.stderr)
    assert zarr.stderr == npy.stderr.replace("v.npy", "tc.zarr")
    assert f"tc.zarr: {kernel}: {what} is for a volume input" in zarr.stderr and "unsupported" not in zarr.stderr
    assert not (tmp_path / "o.zarr").exists()
