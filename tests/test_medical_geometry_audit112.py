"""Audit 112: two volumes' grids compared in mm with one rule, and the shear note of a single-affine input.

Finding 1: ``--mask`` compared affines in each file's own unit with an absolute 1e-3, so a mask 0.99 voxel off
was taken for a NIfTI in metres, and a mask on the same grid stored in mm was refused for an input in metres.
Finding 4: a sheared MGH (nibabel's test.mgz) written as NIfTI got the nearest unsheared qform, 12 mm off its
sform, with no note, where a sheared NIfTI and a gantry tilt get one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical
from kernelcli.errors import UsageError

nib = pytest.importorskip("nibabel")


def oblique_affine(unit_mm: float = 1.0) -> np.ndarray:
    """An oblique grid of 0.9 x 1.1 x 2.5 mm voxels, in a header unit of ``unit_mm`` millimetres."""
    from nibabel.eulerangles import euler2mat

    a = np.eye(4)
    a[:3, :3] = euler2mat(0.3, 0.2, 0.1) @ np.diag([0.9, 1.1, 2.5])
    a[:3, 3] = [-20, 15, 7]
    a[:3] /= unit_mm
    return a


def save(path: Path, data: np.ndarray, affine: np.ndarray, unit: str = "mm") -> Path:
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, 1)
    img.set_sform(affine, 1)
    img.header.set_xyzt_units(unit, "sec")
    nib.save(img, str(path))
    return path


def shifted(affine: np.ndarray, voxels: float) -> np.ndarray:
    """``affine`` moved ``voxels`` along its i axis."""
    moved = affine.copy()
    moved[:3, 3] += moved[:3, 0] * voxels
    return moved


DATA = np.random.default_rng(1).integers(0, 1000, size=(10, 8, 6)).astype(np.int16)
MASK = (DATA > 500).astype(np.uint8)


def smooth(tmp_path: Path, src: Path, mask: Path, out: str = "s.nii.gz") -> medical.VolumeReport:
    return medical.convolve_volume_file(src, "gaussian:2mm", medical.VolumeOptions(mask=mask), out=tmp_path / out)


class TestMaskGridInMillimetres:
    @pytest.mark.parametrize("unit,unit_mm", [("mm", 1.0), ("meter", 1000.0), ("micron", 0.001)])
    def test_a_mask_most_of_a_voxel_off_is_refused_in_every_unit(self, tmp_path, unit, unit_mm):
        a = oblique_affine(unit_mm)
        src = save(tmp_path / "in.nii", DATA, a, unit)
        mask = save(tmp_path / "m.nii.gz", MASK, shifted(a, 0.99), unit)
        with pytest.raises(UsageError, match=r"--mask .*m\.nii\.gz: another grid: .*0\.891 mm"):
            smooth(tmp_path, src, mask)
        assert not (tmp_path / "s.nii.gz").exists()

    def test_a_mask_on_the_same_grid_stored_in_mm_is_taken_for_an_input_in_metres(self, tmp_path):
        src = save(tmp_path / "in.nii", DATA, oblique_affine(1000.0), "meter")
        mask = save(tmp_path / "m.nii.gz", MASK, oblique_affine(), "mm")
        report = smooth(tmp_path, src, mask)
        assert report.output_shape == [6, 8, 10]
        # the same call with the mask in metres gives the same voxels
        mask_m = save(tmp_path / "mm.nii.gz", MASK, oblique_affine(1000.0), "meter")
        first = medical.read_volume(tmp_path / "s.nii.gz").data.copy()
        medical.convolve_volume_file(src, "gaussian:2mm", medical.VolumeOptions(mask=mask_m), out=tmp_path / "t.nii.gz")
        np.testing.assert_array_equal(medical.read_volume(tmp_path / "t.nii.gz").data, first)

    def test_a_mask_within_one_percent_of_a_voxel_is_the_same_grid(self, tmp_path):
        a = oblique_affine()
        src = save(tmp_path / "in.nii", DATA, a)
        smooth(tmp_path, src, save(tmp_path / "m.nii.gz", MASK, shifted(a, 0.005)))
        with pytest.raises(UsageError, match="another grid"):
            smooth(tmp_path, src, save(tmp_path / "m2.nii.gz", MASK, shifted(a, 0.02)), "t.nii.gz")

    def test_the_refusal_names_how_far_apart_the_grids_are(self, tmp_path):
        a = oblique_affine()
        src = save(tmp_path / "in.nii", DATA, a)
        mask = save(tmp_path / "m.nii.gz", MASK, shifted(a, 0.5))
        with pytest.raises(UsageError) as caught:
            smooth(tmp_path, src, mask)
        message = str(caught.value)
        assert "\n" not in message
        assert "0.45 mm" in message and "voxel (0, 0, 0)" in message and "more than 1% of a 0.9 mm voxel" in message, message
        assert "resample it onto the input" in message, message

    def test_the_cli_exits_2_naming_the_mask(self, invoke, tmp_path):
        a = oblique_affine(1000.0)
        src = save(tmp_path / "in.nii", DATA, a, "meter")
        mask = save(tmp_path / "m.nii.gz", MASK, shifted(a, 0.99), "meter")
        done = invoke("convolve", str(src), "-k", "gaussian:2mm", "--mask", str(mask), "-o", str(tmp_path / "o.nii.gz"))
        assert done.exit_code == 2, done.stderr
        assert "m.nii.gz: another grid" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "o.nii.gz").exists()


class TestOneGridRule:
    def test_the_qform_sform_rule_and_the_mask_rule_are_one_function(self):
        from kernelcli.medical import geometry, nifti_geometry

        assert nifti_geometry.AFFINE_TOLERANCE == geometry.GRID_TOLERANCE
        a = oblique_affine()
        assert geometry.grids_apart(a, a, (10, 8, 6)) is None
        apart = geometry.grids_apart(a, shifted(a, 0.5), (10, 8, 6))
        assert apart is not None and apart.distance == pytest.approx(0.45)
