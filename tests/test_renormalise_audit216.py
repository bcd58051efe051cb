"""Audit 216 #1: a box renormalised at a volume's edges was not the exact mean: the zero-padded sum was divided by
each axis' weights inside in turn, three float32 roundings (126 of 512 voxels of a uint8 8x8x8 volume off by 1-2
steps, 'kernelcli volume ren.nii.gz -k box:3vox -m renormalise' too).  Now it is divided once, by the product of the
three, taken in float64: the exact mean, correctly rounded, on every path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from kernelcli._core.policy import Paths
from kernelcli.volume_filters import smooth_renormalised
from conftest import run_in_process


def _exact_mean(v: np.ndarray, n: int, dtype) -> np.ndarray:
    box = np.ones((n, n, n))
    total = ndimage.correlate(v.astype(np.float64), box, mode="constant")
    count = ndimage.correlate(np.ones(v.shape), box, mode="constant")
    return (total / count).astype(dtype)  # (float64's quotient rounded to float32: correctly rounded, p' >= 2p + 2)


@pytest.mark.parametrize("force", ["numpy", "jit"])
@pytest.mark.parametrize("n", [3, 5, 7])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16])
def test_a_renormalised_box_is_the_exact_mean_on_every_path(dtype, n, force):
    v = np.random.default_rng(n).integers(0, 255, (8, 9, 7)).astype(dtype)
    got = smooth_renormalised(v, (np.ones(n),) * 3, paths=Paths(force=force))
    assert np.array_equal(got, _exact_mean(v, n, got.dtype))


def test_on_the_command_line(tmp_path):
    nib = pytest.importorskip("nibabel")
    v = np.random.default_rng(0).integers(0, 255, (8, 8, 8)).astype(np.uint8)
    nib.save(nib.Nifti1Image(v, np.eye(4)), tmp_path / "ren.nii.gz")
    done = run_in_process("volume", "ren.nii.gz", "-k", "box:3vox", "-m", "renormalise", "-o", "o.nii.gz", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = np.asanyarray(nib.load(tmp_path / "o.nii.gz").dataobj)
    assert np.array_equal(got, _exact_mean(v, 3, got.dtype))


@pytest.mark.parametrize("force", ["numpy", "jit"])
@pytest.mark.parametrize("n", [7, 9, 15])
@pytest.mark.parametrize("dtype, low", [(np.uint16, 60000), (np.int16, 30000), (np.int16, -32768)])
def test_sums_past_2_to_the_24_are_divided_before_their_one_rounding(dtype, low, n, force):
    """Audit 217 #1: values near the dtype's top under box 9 sum past 2**24; the float64 sum was rounded to float32,
    then divided: 2,735 of 7,980 voxels 1 ulp off the mean (the test above draws values below 255 only)."""
    v = np.random.default_rng(n).integers(low, np.iinfo(dtype).max + 1, (20, 21, 19)).astype(dtype)
    got = smooth_renormalised(v, (np.ones(n),) * 3, paths=Paths(force=force))
    assert got.dtype == np.float32
    assert np.array_equal(got, _exact_mean(v, n, got.dtype))


def test_renormalise_equals_constant_where_the_window_lies_inside(tmp_path):
    nib = pytest.importorskip("nibabel")
    v = np.random.default_rng(9).integers(60000, 65536, (20, 21, 19)).astype(np.uint16)
    nib.save(nib.Nifti1Image(v, np.eye(4)), tmp_path / "ren16.nii.gz")
    for mode in ("renormalise", "constant"):
        done = run_in_process("volume", "ren16.nii.gz", "-k", "box:9vox", "-m", mode, "-o", f"{mode}.nii.gz", "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    ren, con = (np.asanyarray(nib.load(tmp_path / f"{mode}.nii.gz").dataobj) for mode in ("renormalise", "constant"))
    inside = (slice(4, -4),) * 3
    assert np.array_equal(ren, _exact_mean(v, 9, ren.dtype))
    assert np.array_equal(ren[inside], con[inside])
