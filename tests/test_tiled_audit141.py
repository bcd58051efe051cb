"""Audit 141 (the README read top to bottom): the tiled volume path's finding, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("dask.array")
nib = pytest.importorskip("nibabel")


def _nii(path):
    data = np.random.default_rng(141).integers(-1000, 2000, size=(13, 11, 9)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 1.0, 2.5, 1.0])), str(path))
    return path


# 9: the tiled volume path refused box_3d with --pad-value 5 but ran box:3vox, the same 3x3x3 mean; both are the same
# separable passes in memory and tile by tile, whose constant fill is exact for any factors: one rule, taken for both

@pytest.mark.parametrize("kernel", ["box_3d", "gaussian_3d", "sobel_3d", "box:3vox"])
def test_a_named_3d_kernel_with_a_pad_value_runs_tiled_as_in_memory(invoke, tmp_path, kernel):
    _nii(tmp_path / "t.nii")
    fill = ["-m", "constant", "--pad-value", "5"]
    r = invoke("convolve", "t.nii", "-k", kernel, *fill, "-o", "mem.nii", "-q")
    assert r.exit_code == 0, r.output
    r = invoke("convolve", "t.nii", "-k", kernel, *fill, "--tiled", "--chunks", "4,5,6", "-o", "til.nii", "--json")
    assert r.exit_code == 0, r.output  # (exit 2 before for the named kernels: "--pad-value (not 0) with a 3-D kernel")
    assert any("read tile by tile" in note for note in json.loads(r.stdout)["notes"]), r.stdout  # (not in memory)
    assert (tmp_path / "til.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()


def test_the_fill_reaches_the_result(invoke, tmp_path):
    _nii(tmp_path / "t.nii")
    for value, out in (("0", "zero.nii"), ("5", "five.nii")):
        r = invoke("convolve", "t.nii", "-k", "box_3d", "-m", "constant", "--pad-value", value, "--tiled", "-o", out, "-q")
        assert r.exit_code == 0, r.output
    zero, five = (np.asarray(nib.load(str(tmp_path / n)).dataobj, dtype=np.float64) for n in ("zero.nii", "five.nii"))
    assert np.allclose(five[0, 0, 0] - zero[0, 0, 0], 5 * 19 / 27, atol=1e-3)  # a corner voxel reads 19 padded of 27
    assert np.array_equal(five[1:-1, 1:-1, 1:-1], zero[1:-1, 1:-1, 1:-1])
