"""Review 184's findings (audit 184: medical inputs): one section per finding fixed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from test_medical import pydicom_file


def _sagittal_nifti(path):
    """A 6x20x24 (Z, Y, X) volume stored as a sagittal acquisition: voxel i runs anterior, j inferior, k right."""
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(184).integers(-1000, 2000, size=(6, 20, 24)).astype(np.float32)
    affine = np.array([[0, 0, 2.0, -50], [1.5, 0, 0, 20], [0, -0.5, 0, 30], [0, 0, 0, 1]])
    img = nib.Nifti1Image(data.transpose(2, 1, 0), affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return path


# 1: --axis x with a smoothing kernel and a .png output left voxel axis x alone, but the PNG's sagittal view is
# anatomical: on a sagittal acquisition the note said "smooths within those slices" of a picture smoothed one way

def test_the_axis_note_says_which_voxel_axis_the_view_is_across(invoke, tmp_path):
    _sagittal_nifti(tmp_path / "sag.nii.gz")
    r = invoke("convolve", "sag.nii.gz", "-k", "gaussian:1.5mm", "--axis", "x", "--window", "0,3000", "-o", "sagx.png")
    assert r.exit_code == 0, r.stderr
    text = " ".join(r.stderr.split())
    assert "smooths within those slices" not in text
    assert ("--axis x: gaussian:1.5mm leaves voxel axis x alone, which runs anterior-posterior here, while the PNG's "
            "sagittal view is across voxel axis z (left-right): the picture is smoothed top to bottom only (along voxel "
            "axis y) and across its slices; to smooth within the sagittal slices give --axis z") in text
    shown = np.asarray(Image.open(tmp_path / "sagx.png")).astype(float)
    assert np.abs(np.diff(shown, axis=0)).mean() * 3 < np.abs(np.diff(shown, axis=1)).mean()  # as the note says
    r = invoke("convolve", "sag.nii.gz", "-k", "sobel_h", "--axis", "x", "-o", "sobel.png")
    assert r.exit_code == 0 and "(coronal slices), while the PNG's sagittal view is across voxel axis z" in " ".join(r.stderr.split())
    # the way out the note gives: the sagittal slices smoothed within, then shown
    assert invoke("convolve", "sag.nii.gz", "-k", "gaussian:1.5mm", "--axis", "z", "-o", "within.nii.gz").exit_code == 0
    r = invoke("convolve", "within.nii.gz", "--axis", "x", "--window", "0,3000", "-o", "within.png")
    assert r.exit_code == 0, r.stderr
    shown = np.asarray(Image.open(tmp_path / "within.png")).astype(float)
    assert np.abs(np.diff(shown, axis=0)).mean() < 10 and np.abs(np.diff(shown, axis=1)).mean() < 10


# 2: one grid gave two kernel sizes by container: the NIfTI's float32 0.9 read as 0.9, ITK's double of it
# (0.89999997615814209, an .mha or .nrrd written from the .nii) read as is: gaussian:1.5mm 11 taps against 13

@pytest.mark.parametrize("suffix", [".mha", ".nrrd"])
def test_a_float32_voxel_size_reads_alike_in_every_container(invoke, tmp_path, suffix):
    nib = pytest.importorskip("nibabel")
    sitk = pytest.importorskip("SimpleITK")
    data = np.random.default_rng(2).random((10, 26, 14)).astype(np.float32) * 1000  # (Z, Y, X)
    img = nib.Nifti1Image(data.transpose(2, 1, 0), np.diag([0.7, 0.9, 2.5, 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, str(tmp_path / "v.nii"))
    sitk.WriteImage(sitk.ReadImage(str(tmp_path / "v.nii")), str(tmp_path / f"v{suffix}"))
    assert sitk.ReadImage(str(tmp_path / f"v{suffix}")).GetSpacing()[1] == float(np.float32(0.9)) != 0.9  # the double ITK holds
    notes = []
    for name in ("v.nii", f"v{suffix}"):
        r = invoke("convolve", name, "-k", "gaussian:1.5mm", "-o", f"{name}.npy")
        assert r.exit_code == 0, r.stderr
        notes.append(next(line for line in r.stderr.splitlines() if "kernel" in line))
    assert notes[0] == notes[1] == "note: gaussian:1.5mm on 2.5x0.9x0.7 mm voxels (z, y, x): a 5x11x15 kernel"
    np.testing.assert_array_equal(np.load(tmp_path / "v.nii.npy"), np.load(tmp_path / f"v{suffix}.npy"))


# 3: a NIfTI --mask whose qform and sform disagree, with a DICOM input: told to give --affine, which was then refused
# ("--affine sform picks a NIfTI's qform or sform; a DICOM input has neither"): no call read the mask

def test_a_two_way_mask_with_a_dicom_input_is_read_with_affine(invoke, tmp_path):
    nib = pytest.importorskip("nibabel")
    ct = pydicom_file("CT_small.dcm")
    assert invoke("convolve", ct, "-o", "ct.nii.gz").exit_code == 0
    s = nib.load(tmp_path / "ct.nii.gz")
    img = nib.Nifti1Image((np.asarray(s.dataobj) > 100).astype(np.uint8), s.affine)
    img.set_sform(s.affine, 1)
    q = s.affine.copy()
    q[0, 3] += 30
    img.set_qform(q, 1)
    nib.save(img, str(tmp_path / "two.nii.gz"))
    r = invoke("convolve", ct, "-k", "gaussian:1mm", "--mask", "two.nii.gz", "-o", "m.nii.gz")
    text = " ".join(r.stderr.split())
    assert r.exit_code == 2 and text.startswith("error: --mask two.nii.gz: the geometry reads two ways") and "give --affine sform" in text
    r = invoke("convolve", ct, "-k", "gaussian:1mm", "--mask", "two.nii.gz", "--affine", "sform", "-o", "m.nii.gz")
    assert r.exit_code == 0, r.stderr
    r = invoke("convolve", ct, "-k", "gaussian:1mm", "--mask", "two.nii.gz", "--affine", "qform", "-o", "q.nii.gz")
    assert r.exit_code == 2 and "--mask two.nii.gz: another grid" in r.stderr and not (tmp_path / "q.nii.gz").exists()
    r = invoke("convolve", ct, "-k", "gaussian:1mm", "--affine", "sform", "-o", "a.nii.gz")  # no NIfTI to pick for
    assert r.exit_code == 2 and "a DICOM input has neither" in r.stderr


# 4: a 4-D NIfTI of one volume (dim[0] 4, dim[4] 1) was written back 3-D, even by a copy, without a note

def test_a_one_volume_4d_nifti_is_written_back_4d(invoke, tmp_path):
    nib = pytest.importorskip("nibabel")
    d = np.random.default_rng(0).normal(size=(8, 8, 6, 1)).astype("f4")
    img = nib.Nifti1Image(d, np.diag([1, 1, 2, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.5
    nib.save(img, str(tmp_path / "t1.nii"))
    runs = {"g.nii.gz": ["-k", "gaussian:1mm"], "c.nii.gz": [], "k.nii.gz": ["-k", "gaussian:1mm", "--keep-dtype"]}
    for out, args in runs.items():
        assert invoke("convolve", "t1.nii", *args, "-o", out).exit_code == 0
    assert invoke("pool", "t1.nii", "-f", "2", "-o", "p.nii.gz").exit_code == 0
    for out in [*runs, "p.nii.gz"]:
        back = nib.load(tmp_path / out)
        assert back.header["dim"][0] == 4 and back.shape[3:] == (1,) and back.header["pixdim"][4] == 2.5, out
    np.testing.assert_array_equal(nib.load(tmp_path / "c.nii.gz").get_fdata(), d)
    assert invoke("convolve", "t1.nii", "--volume", "0", "-o", "v.nii.gz").exit_code == 0  # one volume taken: 3-D
    assert nib.load(tmp_path / "v.nii.gz").shape == (8, 8, 6)


def test_a_one_volume_4d_nifti_is_written_back_4d_tile_by_tile(invoke, tmp_path):
    nib = pytest.importorskip("nibabel")
    pytest.importorskip("dask")
    d = np.random.default_rng(0).normal(size=(8, 8, 6, 1)).astype("f4")
    nib.save(nib.Nifti1Image(d, np.diag([1, 1, 2, 1.0])), str(tmp_path / "t1.nii"))
    r = invoke("convolve", "t1.nii", "-k", "gaussian:1mm", "--tiled", "-o", "t.nii")
    assert r.exit_code == 0, r.stderr
    assert invoke("convolve", "t1.nii", "-k", "gaussian:1mm", "-o", "m.nii").exit_code == 0
    tiled, memory = nib.load(tmp_path / "t.nii"), nib.load(tmp_path / "m.nii")
    assert tiled.shape == memory.shape == (8, 8, 6, 1)
    np.testing.assert_array_equal(tiled.get_fdata(), memory.get_fdata())
