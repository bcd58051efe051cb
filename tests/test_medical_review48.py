"""Review 48: a pooled volume's view in its name, the shear note only where a NIfTI is written, one distance rule.

Finding 5: ``pool ct.nii.gz -f 2 --format png`` and the same with ``--axis y`` both wrote ``ct_maxpool2.png`` (the
second refused, exit 4; with --force the coronal view replaced the axial one), where ``convolve -k sobel_3d`` names a
coronal .png ``_axisy``: pool now takes the words of :meth:`VolumeOptions.label` (a .png's view, ``--volume``,
``--resample-slices``), alone and in a batch, and so does a copy (no --kernel).
Finding 6: a sheared MGH/NRRD/DICOM read said "a NIfTI output's qform holds the nearest unsheared grid ..." whatever
was written (a .png, a .npy): the note now comes with a NIfTI output, of the grid that output holds.
Finding 7: ``grids_apart`` held each coordinate's difference to 1% of a voxel while its message speaks of the
distance: a grid (0.009, 0.009, 0.009) mm off on 1 mm voxels, 0.0156 mm away, was "the same grid".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import write_nifti
from kernelcli import medical
from kernelcli.errors import UsageError

nib = pytest.importorskip("nibabel")


def mgz(tmp_path: Path) -> Path:
    """nibabel's sheared test.mgz (51.8 degrees), its voxels and affine written to ``tmp_path`` with the affine's column
    lengths as its delta: the file's own delta, 1 mm, disagrees with its affine's 3.74 mm, and a pool of a header that
    gives the voxel size two ways is refused (audit 227 #1)."""
    from nibabel.testing import data_path

    img = nib.load(Path(data_path) / "test.mgz")
    nib.save(nib.MGHImage(np.asarray(img.dataobj), img.affine), tmp_path / "test.mgz")
    return tmp_path / "test.mgz"


def shear_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "which a qform cannot hold" in n]


class TestPoolNamesTheView:
    def test_a_coronal_png_is_named_apart_from_the_axial_one(self, invoke, tmp_path):
        write_nifti(tmp_path / "ct.nii.gz", shape=(8, 8, 8))
        axial = invoke("pool", "ct.nii.gz", "-f", "2", "--format", "png", "-q")
        coronal = invoke("pool", "ct.nii.gz", "-f", "2", "--format", "png", "--axis", "y", "-q")
        assert axial.exit_code == 0 and coronal.exit_code == 0, coronal.stderr
        assert (tmp_path / "ct_maxpool2.png").is_file() and (tmp_path / "ct_maxpool2_axisy.png").is_file()

    @pytest.mark.parametrize("given, output, operation", [
        (["--axis", "x", "--format", "png"], "ct_avgpool2_axisx.png", "avgpool2_axisx"),
        (["--axis", "z", "--format", "png"], "ct_avgpool2.png", "avgpool2"),
        (["--axis", "y", "-o", "v.png"], "v.png", "avgpool2_axisy"),
        (["--axis", "y", "--format", "npy"], "ct_avgpool2.npy", "avgpool2"),  # a .npy has no view: no word
    ])
    def test_the_name_and_the_operation_say_the_view_as_convolve_does(self, invoke, tmp_path, given, output, operation):
        write_nifti(tmp_path / "ct.nii.gz", shape=(8, 8, 8))
        done = invoke("pool", "ct.nii.gz", "-f", "2", "--op", "avg", "--json", *given)
        assert done.exit_code == 0, done.stderr
        doc = json.loads(done.stdout)
        assert (doc["output"], doc["operation"]) == (output, operation)
        assert (tmp_path / output).is_file()

    def test_the_volume_of_a_4d_input_is_a_word(self, invoke, tmp_path):
        img = nib.Nifti1Image(np.random.default_rng(2).random((8, 8, 8, 3)).astype(np.float32), np.eye(4))
        nib.save(img, str(tmp_path / "f.nii.gz"))
        assert invoke("pool", "f.nii.gz", "-f", "2", "-q").exit_code == 0
        one = invoke("pool", "f.nii.gz", "-f", "2", "--volume", "1", "-q")
        assert one.exit_code == 0, one.stderr
        assert nib.load(tmp_path / "f_maxpool2.nii.gz").shape == (4, 4, 4, 3)
        assert nib.load(tmp_path / "f_maxpool2_vol1.nii.gz").shape == (4, 4, 4)

    def test_a_batch_names_each_view_as_one_volume_alone(self, invoke, tmp_path):
        (tmp_path / "in").mkdir()
        write_nifti(tmp_path / "in" / "ct.nii.gz", shape=(8, 8, 8))
        for axis in ("z", "y"):
            done = invoke("pool", "in", "-f", "2", "--format", "png", "--axis", axis, "--out-dir", "out", "-q")
            assert done.exit_code == 0, done.stderr
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ct_maxpool2.png", "ct_maxpool2_axisy.png"]

    def test_the_tiled_path_names_as_the_in_memory_path(self, invoke, tmp_path):
        pytest.importorskip("dask")
        write_nifti(tmp_path / "ct.nii", shape=(8, 8, 8))
        docs = [json.loads(invoke("pool", "ct.nii", "-f", "2", "--axis", "y", "--format", "npy", "--json", "--force", *tiled).stdout)
                for tiled in ([], ["--tiled"])]
        assert [(d["output"], d["operation"]) for d in docs] == [("ct_maxpool2.npy", "maxpool2")] * 2

    def test_a_copy_names_its_view_too(self, invoke, tmp_path):
        write_nifti(tmp_path / "ct.nii.gz", shape=(8, 8, 8))
        assert invoke("convolve", "ct.nii.gz", "--format", "png", "-q").exit_code == 0
        coronal = invoke("convolve", "ct.nii.gz", "--format", "png", "--axis", "y", "-q")
        assert coronal.exit_code == 0, coronal.stderr
        assert (tmp_path / "ct_copy.png").is_file() and (tmp_path / "ct_copy_axisy.png").is_file()

    def test_a_batch_copy_is_named_as_one_copy_alone(self, invoke, tmp_path):
        (tmp_path / "in").mkdir()
        write_nifti(tmp_path / "in" / "ct.nii.gz", shape=(8, 8, 8))
        for axis in ("z", "y"):
            done = invoke("convolve", "in", "--format", "png", "--axis", axis, "--out-dir", "out", "-q")
            assert done.exit_code == 0, done.stderr
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ct_copy.png", "ct_copy_axisy.png"]


class TestShearNoteOnlyForANiftiOutput:
    @pytest.mark.parametrize("out", ["o.png", "o.npy"])
    def test_no_qform_note_for_an_output_without_one(self, tmp_path, out):
        report = medical.pool_volume_file(mgz(tmp_path), 1, out=tmp_path / out)
        assert shear_notes(report.notes) == [], report.notes
        assert not any("qform" in n for n in report.notes), report.notes

    def test_the_cli_says_nothing_of_a_qform_for_a_png(self, invoke, tmp_path):
        mgz(tmp_path)
        done = invoke("pool", "test.mgz", "-f", "1", "-o", "t.png")
        assert done.exit_code == 0 and "qform" not in done.stderr, done.stderr

    @pytest.mark.parametrize("size", [1, 2])
    def test_a_nifti_output_gets_the_note_of_its_own_qform(self, tmp_path, size):
        report = medical.pool_volume_file(mgz(tmp_path), size, out=tmp_path / "o.nii.gz")
        [note] = shear_notes(report.notes)
        header = nib.load(tmp_path / "o.nii.gz").header
        q, s = header.get_qform(), header.get_sform()
        n = header.get_data_shape()[:3]
        gap = max(float(np.linalg.norm(((q - s) @ [i * (n[0] - 1), j * (n[1] - 1), k * (n[2] - 1), 1])[:3]))
                  for i in (0, 1) for j in (0, 1) for k in (0, 1))
        assert note.startswith("test.mgz: the grid is sheared (its z and y axes 51.8 degrees"), note
        assert f"{gap:.3g} mm off" in note and "a NIfTI output's qform holds" in note, note

    def test_reading_alone_says_nothing_of_an_output(self, tmp_path):
        assert not any("NIfTI output" in n for n in medical.read_volume(mgz(tmp_path)).notes)

    def test_a_sheared_nifti_input_keeps_the_note_of_its_own_qform(self, tmp_path):
        s = np.eye(4)
        s[1, 2] = 0.5
        img = nib.Nifti1Image(np.zeros((6, 6, 10), np.float32), s)
        img.set_sform(s, 1)
        img.set_qform(s, 1, strip_shears=True)
        nib.save(img, str(tmp_path / "s.nii"))
        report = medical.pool_volume_file(tmp_path / "s.nii", 1, out=tmp_path / "o.npy")
        [note] = shear_notes(report.notes)
        assert note.startswith("s.nii: the sform is sheared") and "its qform holds" in note, note


class TestGridsApartIsADistance:
    def test_a_diagonal_shift_past_one_percent_is_another_grid(self):
        from kernelcli.medical.geometry import grids_apart

        moved = np.eye(4)
        moved[:3, 3] = 0.009  # 0.0156 mm from the grid: 1.56% of a 1 mm voxel
        apart = grids_apart(np.eye(4), moved, (4, 4, 4))
        assert apart is not None and apart.distance == pytest.approx(0.009 * 3 ** 0.5)
        assert "more than 1% of a 1 mm voxel" in apart.text()

    def test_within_one_percent_in_distance_is_the_same_grid(self):
        from kernelcli.medical.geometry import grids_apart

        moved = np.eye(4)
        moved[:3, 3] = 0.0057  # 0.00987 mm
        assert grids_apart(np.eye(4), moved, (4, 4, 4)) is None

    def test_a_mask_off_diagonally_by_more_than_one_percent_is_refused(self, tmp_path):
        src = write_nifti(tmp_path / "in.nii", shape=(6, 6, 6), spacing=(1.0, 1.0, 1.0))
        moved = np.eye(4)
        moved[:3, 3] = 0.009
        nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.uint8), moved), str(tmp_path / "m.nii.gz"))
        with pytest.raises(UsageError, match=r"another grid: .*0\.0156 mm apart, more than 1% of a 1 mm voxel"):
            medical.convolve_volume_file(src, "gaussian:1mm", medical.VolumeOptions(mask=tmp_path / "m.nii.gz"),
                                         out=tmp_path / "o.nii.gz")
        assert not (tmp_path / "o.nii.gz").exists()
