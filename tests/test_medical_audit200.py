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
from kernelcli.errors import ImageReadError, UsageError

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
        pytest.importorskip("dask")  # (--tiled: the [distributed] extra)
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


def _numbered_series(folder: Path) -> None:
    """Two series in ``folder`` whose SeriesInstanceUIDs are bare integers, as some anonymisers write them: UID "1"
    (listed [0]: 4 slices of 8 x 10, files A*.dcm) and UID "2" (listed [1]: 4 slices of 6 x 10, files B*.dcm)."""
    for uid, rows, prefix in (("1", 8, "A"), ("2", 6, "B")):
        def per(k, ds, uid=uid):
            ds.SeriesInstanceUID, ds.SeriesNumber = uid, int(uid)
        ct_series(folder / prefix, n=4, rows=rows, per=per)
        for k, path in enumerate(sorted((folder / prefix).iterdir())):
            path.rename(folder / f"{prefix}{k}.dcm")
        (folder / prefix).rmdir()


class TestSeriesNumberReadTwoWays:
    """#2: ``--series 1`` was read as the UID "1" (listed [0]) without a word, where the listing's index 1 is another
    series; both readings are now named, and ``uid:``/``index:`` say which is meant."""

    def test_the_command_refuses_naming_both_readings(self, tmp_path):
        _numbered_series(tmp_path / "s")
        refused = run_in_process("convolve", "s", "--series", "1", "-o", "o.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr and not (tmp_path / "o.nii.gz").exists()
        assert ("--series 1 reads two ways: the SeriesInstanceUID of [0] or the index of [1] (UID 2); give --series uid:1 "
                "for [0] or --series index:1 for [1]") in refused.stderr

    @pytest.mark.parametrize("given, rows", [("uid:1", 8), ("index:1", 6), ("0", 8), ("2", 6), ("index:0", 8), ("uid:2", 6)])
    def test_each_reading_picked(self, tmp_path, given, rows):
        _numbered_series(tmp_path / "s")
        done = run_in_process("convolve", "s", "--series", given, "-o", "o.npy", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert np.load(tmp_path / "o.npy").shape == (4, rows, 10)

    def test_the_listing_says_how_to_pick(self, tmp_path):
        _numbered_series(tmp_path / "s")
        refused = run_in_process("convolve", "s", "-o", "o.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "--series uid:UID or --series index:INDEX" in refused.stderr

    def test_the_api_in_its_words(self, tmp_path):
        _numbered_series(tmp_path / "s")
        with pytest.raises(UsageError, match=r"series='1' reads two ways: .* give series='uid:1' for \[0\] or series='index:1'"):
            medical.read_volume(tmp_path / "s", series="1")
        assert medical.read_volume(tmp_path / "s", series="index:1").data.shape == (4, 6, 10)
        with pytest.raises(UsageError, match=r"series='index:2': no such series"):
            medical.read_volume(tmp_path / "s", series="index:2")


class TestACopiedSliceIsNotASecondVolume:
    """#3: a copy of a series' file (one SOPInstanceUID twice) was called "more than one volume ... put each in its own
    folder"; it is the same slice twice, named so, with the advice to remove one."""

    def test_the_copy_is_named_as_one_instance(self, tmp_path):
        ct_series(tmp_path / "s")
        (tmp_path / "s" / "IM002 copy.dcm").write_bytes((tmp_path / "s" / "IM002.dcm").read_bytes())
        refused = run_in_process("convolve", "s", "-o", "o.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr and not (tmp_path / "o.nii.gz").exists()
        assert "IM002 copy.dcm and IM002.dcm are the same DICOM instance (SOPInstanceUID " in refused.stderr
        assert "remove one of them" in refused.stderr and "more than one volume" not in refused.stderr

    def test_a_copy_in_a_series_without_positions_is_not_read_as_a_slice_more(self, tmp_path):
        def unnumbered(k, ds):
            del ds.InstanceNumber
        ct_series(tmp_path / "s", n=3, drop=("ImagePositionPatient",), per=unnumbered)
        (tmp_path / "s" / "IM001b.dcm").write_bytes((tmp_path / "s" / "IM001.dcm").read_bytes())
        with pytest.raises(ImageReadError, match="IM001.dcm and IM001b.dcm are the same DICOM instance"):
            medical.read_volume(tmp_path / "s")

    def test_two_instances_at_one_position_are_still_two_volumes(self, tmp_path):
        def second_echo(k, ds):
            if k == 3:
                ds.ImagePositionPatient = [10.0, -20.0, 30.0 + 2.5 * 2]
        ct_series(tmp_path / "s", per=second_echo)
        refused = run_in_process("convolve", "s", "-o", "o.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "same slice position" in refused.stderr and "more than one volume" in refused.stderr
