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


def corner_gap(path: Path) -> float:
    """The largest distance (mm) between where a written NIfTI's qform and sform put a corner voxel."""
    import itertools

    img = nib.load(str(path))
    q, s = img.header.get_qform(), img.header.get_sform()
    n = img.shape[:3]
    return max(float(np.linalg.norm(((q - s) @ [i * (n[0] - 1), j * (n[1] - 1), k * (n[2] - 1), 1])[:3]))
               for i, j, k in itertools.product((0, 1), repeat=3))


def shear_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "which a qform cannot hold" in n]


class TestShearNote:
    def test_a_sheared_mgh_says_how_far_a_nifti_outputs_qform_is(self, tmp_path):
        from nibabel.testing import data_path

        src = Path(shutil.copy(Path(data_path) / "test.mgz", tmp_path / "test.mgz"))
        report = medical.convolve_volume_file(src, None, medical.VolumeOptions(), out=tmp_path / "o.nii.gz")
        [note] = shear_notes(report.notes)
        assert note.startswith("test.mgz: the grid is sheared (its z and y axes 51.8 degrees from perpendicular)"), note
        assert f"{corner_gap(tmp_path / 'o.nii.gz'):.3g} mm off" in note and "12.1 mm off" in note, note
        assert "SimpleITK" in note and "sform holds the grid exactly" in note, note
        # read back, the NIfTI says the same shear and distance, of its own qform
        [again] = shear_notes(medical.read_volume(tmp_path / "o.nii.gz").notes)
        assert "51.8 degrees" in again and "12.1 mm off" in again, again

    def test_the_cli_prints_it_for_an_mgh_written_as_nifti(self, invoke, tmp_path):
        from nibabel.testing import data_path

        src = shutil.copy(Path(data_path) / "test.mgz", tmp_path / "test.mgz")
        done = invoke("convolve", str(src), "-o", str(tmp_path / "c.nii.gz"))
        assert done.exit_code == 0 and "51.8 degrees from perpendicular" in done.stderr, done.stderr

    def test_an_unsheared_mgh_has_no_note(self, tmp_path):
        nib.save(nib.MGHImage(DATA.astype(np.float32), oblique_affine()), str(tmp_path / "o.mgz"))
        report = medical.convolve_volume_file(tmp_path / "o.mgz", None, medical.VolumeOptions(), out=tmp_path / "c.nii.gz")
        assert shear_notes(report.notes) == []

    def test_a_sheared_nrrd_has_the_note(self, tmp_path):
        sitk = pytest.importorskip("SimpleITK")
        img = sitk.GetImageFromArray(np.zeros((6, 5, 4), np.float32))
        img.SetDirection((1, 0, 0, 0, 1, 0.5, 0, 0, 1))
        img.SetSpacing((1.0, 1.0, 2.0))
        sitk.WriteImage(img, str(tmp_path / "s.nrrd"))
        # (said where a NIfTI is written, of the qform it stores: review 48, finding 6)
        report = medical.convolve_volume_file(tmp_path / "s.nrrd", None, medical.VolumeOptions(), out=tmp_path / "o.nii.gz")
        [note] = shear_notes(report.notes)
        assert note.startswith("s.nrrd: the grid is sheared (its z and y axes 26.6 degrees"), note
        assert f"{corner_gap(tmp_path / 'o.nii.gz'):.3g} mm off" in note, note

    def test_a_tilted_series_says_how_far_the_qform_is(self, tmp_path):
        pytest.importorskip("pydicom")
        from test_medical import make_series, tilt_series

        make_series(tmp_path / "s", [0, 2, 4, 6])
        tilt_series(tmp_path / "s")
        report = medical.convolve_volume_file(tmp_path / "s", None, medical.VolumeOptions(), out=tmp_path / "o.nii.gz")
        [note] = shear_notes(report.notes)
        assert "14 degrees from perpendicular" in note and f"{corner_gap(tmp_path / 'o.nii.gz'):.3g} mm off" in note, note
        assert any("gantry tilt of 14.04 degrees" in n for n in report.notes), report.notes

    def test_a_sheared_nifti_in_metres_says_the_distance_in_mm(self, tmp_path):
        s = oblique_affine()
        s[:3, 2] += 0.4 * s[:3, 1] / np.linalg.norm(s[:3, 1])
        notes = {}
        for unit, unit_mm in (("mm", 1.0), ("meter", 1000.0)):
            a = s.copy()
            a[:3] /= unit_mm
            img = nib.Nifti1Image(DATA, a)
            img.set_sform(a, 1)
            img.set_qform(a, 1, strip_shears=True)
            img.header.set_xyzt_units(unit)
            nib.save(img, str(tmp_path / f"{unit}.nii"))
            [notes[unit]] = shear_notes(medical.read_volume(tmp_path / f"{unit}.nii").notes)
        assert notes["mm"].replace("mm.nii", "x") == notes["meter"].replace("meter.nii", "x")
        assert f"{corner_gap(tmp_path / 'mm.nii'):.3g} mm off" in notes["mm"], notes["mm"]
