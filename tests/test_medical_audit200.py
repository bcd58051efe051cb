"""Audit 200 (medical inputs): a refusal where the guessed value is not used, a ``--series`` read two ways, and a
copied slice called a second volume.

Each class reproduces one finding on small files built here in ``tmp_path`` (nibabel images, pydicom series).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from kernelcli import medical
from kernelcli.errors import UsageError

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402
from test_medical_audit127 import ct_series  # noqa: E402


def _plane(path, spacing=(0.5, 0.5)) -> np.ndarray:
    """A 2-D NIfTI (20 x 16 voxels of ``spacing`` mm: no voxel size along z); returns its values as (x, y)."""
    data = np.random.default_rng(15).normal(size=(20, 16)).astype(np.float32)
    img = nib.Nifti1Image(data, np.diag([*spacing, 1, 1]))
    img.header.set_xyzt_units("mm")
    nib.save(img, path)
    return data


class TestAxisZLiftsTheAssumedDepth:
    """#1: ``--axis z`` leaves z alone, so a kernel in mm sized by the in-plane voxel sizes (in the file) runs where
    only the depth was assumed; where it is refused, the advice names ``--axis z``."""

    def test_a_2d_nifti_smoothed_within_its_plane(self, tmp_path):
        data = _plane(tmp_path / "two_d.nii")
        done = run_in_process("convolve", "two_d.nii", "-k", "gaussian:1.5mm", "--axis", "z", "-o", "t.nii", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        expected = ndimage.gaussian_filter(data.astype(np.float64), 3.0, mode="nearest", truncate=3)  # 1.5 mm / 0.5 mm
        written = np.asarray(nib.load(tmp_path / "t.nii").dataobj)
        np.testing.assert_allclose(written.reshape(expected.shape), expected, atol=1e-6)

    def test_without_axis_z_the_refusal_names_it(self, tmp_path):
        _plane(tmp_path / "two_d.nii")
        refused = run_in_process("convolve", "two_d.nii", "-k", "gaussian:1.5mm", "-o", "t.nii", cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "the voxel size is not in the file" in refused.stderr and "--axis z to smooth within the slices" in refused.stderr
        assert not (tmp_path / "t.nii").exists()

    @pytest.mark.parametrize("spec", ["gradient", "log:2mm"])
    def test_a_kernel_along_every_axis_stays_refused(self, tmp_path, spec):
        _plane(tmp_path / "two_d.nii")
        refused = run_in_process("convolve", "two_d.nii", "-k", spec, "--axis", "z", "-o", "t.nii", cwd=tmp_path)
        assert refused.returncode == 2 and "the voxel size is not in the file" in refused.stderr
        assert "--axis z to smooth" not in refused.stderr

    def test_an_axis_that_keeps_the_assumed_one_stays_refused(self, tmp_path):
        _plane(tmp_path / "two_d.nii")
        refused = run_in_process("convolve", "two_d.nii", "-k", "box:2mm", "--axis", "x", "-o", "t.nii", cwd=tmp_path)
        assert refused.returncode == 2 and "the voxel size is not in the file" in refused.stderr

    def test_a_dicom_series_without_pixel_spacing_is_refused_whatever_the_axis(self, tmp_path):
        ct_series(tmp_path / "s", drop=("PixelSpacing",))
        refused = run_in_process("convolve", "s", "-k", "gaussian:1mm", "--axis", "z", "-o", "t.nii", cwd=tmp_path)
        assert refused.returncode == 2 and "no PixelSpacing" in refused.stderr and "--axis z" not in refused.stderr

    def test_a_single_dicom_slice_without_thickness(self, tmp_path):
        ct_series(tmp_path / "s", n=1, drop=("SliceThickness",))
        done = run_in_process("convolve", "s", "-k", "gaussian:1.5mm", "--axis", "z", "-o", "t.nii.gz", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        refused = run_in_process("convolve", "s", "-k", "gaussian:1.5mm", "-o", "u.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "--axis z to smooth within the slices" in refused.stderr

    def test_in_memory_and_tile_by_tile_agree(self, tmp_path):
        data = np.random.default_rng(1).normal(size=(12, 10, 5)).astype(np.float32)
        img = nib.Nifti1Image(data, np.diag([0.5, 0.5, 1, 1]))
        img.header.set_xyzt_units("mm")
        img.header["pixdim"][3] = 0
        nib.save(img, tmp_path / "z0.nii")
        for extra, out in (([], "m.nii"), (["--tiled"], "t.nii")):
            done = run_in_process("convolve", "z0.nii", "-k", "gaussian:1.5mm", "--axis", "z", *extra, "-o", out, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        np.testing.assert_array_equal(np.asarray(nib.load(tmp_path / "m.nii").dataobj), np.asarray(nib.load(tmp_path / "t.nii").dataobj))

    def test_filter_volume_alike(self):
        vol = medical.Volume(np.ones((1, 4, 5), np.float32), (1.0, 0.5, 0.5), np.eye(4), Path("p.nii"),
                             "NIfTI-1", spacing_assumed="a 2-D image", assumed_axes=("z",))
        kernel = medical.resolve_volume_kernel("gaussian:1mm")
        result, _ = medical.filter_volume(vol, kernel, medical.VolumeOptions(axis="z"))
        np.testing.assert_allclose(result, 1.0, atol=1e-6)
        with pytest.raises(UsageError, match="voxel size is not in the file"):
            medical.filter_volume(vol, kernel, medical.VolumeOptions())
