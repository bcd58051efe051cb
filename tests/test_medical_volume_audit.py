"""Audit 82: 3-D volumes through pool and convolve (NIfTI, DICOM, Zarr).

A NIfTI-2 pooled output nibabel could not read back (exit 70 on the next command) and a stored quaternion just past
unit length read as a crash; even 2-D kernels written half a voxel off the grid; scaled NIfTI voxels rounded twice;
kernelcli's own NIfTI of a tilted series refused as reading two ways; pool refusals of a volume that named no file.
"""

from __future__ import annotations

import io
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")

from kernelcli import medical  # noqa: E402
from kernelcli.medical.nifti import header_bytes  # noqa: E402
from kernelcli.medical.volume import Volume  # noqa: E402

DATA = Path(nib.__file__).parent / "tests" / "data"


def one_line_error(r, code: int = 2) -> str:
    """The stderr of a refused call: one line, "error: ...", no traceback, not the internal-error exit."""
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """The 3x3 rotation by ``angle`` radians about ``axis`` (Rodrigues)."""
    x, y, z = axis / np.linalg.norm(axis)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def near_half_turns(n: int, seed: int) -> list[np.ndarray]:
    """``n`` oblique affines rotating by 180 degrees or just short of it (10^-12 to 10^-2 rad), anisotropic voxels,
    some with a flipped axis (qfac -1)."""
    rng = np.random.default_rng(seed)
    affines = []
    for i in range(n):
        short = 0.0 if i % 2 else 10 ** rng.uniform(-12, -2)
        a = np.eye(4)
        a[:3, :3] = rotation(rng.standard_normal(3), np.pi - short) @ np.diag(rng.uniform(0.5, 3, 3) * (1, 1, rng.choice([-1, 1])))
        a[:3, 3] = rng.uniform(-100, 100, 3)
        affines.append(a)
    return affines


def stored_quaternion(path: Path, bcd, *, sform: bool) -> np.ndarray:
    """A NIfTI-1 whose qform (code 1) stores ``bcd`` as written (qfac 1, 1 mm voxels), with an sform (code 1) of the
    rotation niftilib reads from it, or none; returns that rotation (niftilib: a = 0, (b, c, d) made unit length)."""
    b, c, d = np.asarray(bcd, np.float64) / np.linalg.norm(bcd)
    turn = np.array([[b * b - c * c - d * d, 2 * b * c, 2 * b * d], [2 * b * c, c * c - b * b - d * d, 2 * c * d],
                     [2 * b * d, 2 * c * d, d * d - b * b - c * c]])
    a = np.eye(4)
    a[:3, :3], a[:3, 3] = turn, (3, -4, 5)
    img = nib.Nifti1Image(np.arange(120, dtype=np.float32).reshape(4, 5, 6), a)
    img.set_qform(a, code=1)
    img.set_sform(a, code=1 if sform else 0)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    blob = bytearray(path.read_bytes())
    blob[256:268] = struct.pack("<3f", *bcd)  # quatern_b, quatern_c, quatern_d
    path.write_bytes(bytes(blob))
    return a


class TestQuaternions:
    """Finding 1: nibabel refuses a quaternion whose b^2+c^2+d^2 is past 1 by more than 3 eps ("w2 should be positive")."""

    def test_a_pooled_nifti2_reads_back(self, tmp_path):
        # example_nifti2's rotation is a half turn: set_qform stored 1 - (b^2+c^2+d^2) = -8.9e-16, and the next call exited 70
        shutil.copy(DATA / "example_nifti2.nii.gz", tmp_path / "ex2.nii.gz")
        for src, out in (("ex2.nii.gz", "p.nii.gz"), ("p.nii.gz", "pp.nii.gz")):
            r = run_in_process("pool", src, "-f", "2", "-o", out, "-q", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            header = nib.load(tmp_path / out).header
            np.testing.assert_allclose(header.get_qform(), header.get_sform(), atol=1e-6)

    @pytest.mark.parametrize("klass", ["Nifti1Header", "Nifti2Header"])
    def test_every_written_qform_reads_back_in_nibabel(self, klass):
        # of 3000 random half turns, nibabel's own Nifti2Header set_qform stored 74 it could not read back
        like = Volume(np.zeros((2, 3, 4), np.float32), (1.0, 1.0, 1.0), np.eye(4), Path("in.nii"), "NIfTI",
                      header=getattr(nib, klass)())
        like.header.set_qform(np.eye(4), code=1)
        like.header.set_sform(np.eye(4), code=1)
        for target in near_half_turns(400, seed=3):
            blob = header_bytes(np.zeros((2, 3, 4), np.float32), like, target)
            header = getattr(nib, klass).from_fileobj(io.BytesIO(blob))
            qform = header.get_qform()  # raised "w2 should be positive"
            # near a half turn w = sqrt(1 - b^2-c^2-d^2) is as good as sqrt(3 eps) of the stored type (nibabel takes
            # w = 0 below 3 eps): a rotation within 4 sqrt(3 eps), 2.4e-3 for float32 and 1.1e-7 for float64
            tolerance = 4 * np.sqrt(3 * np.finfo(np.float32 if klass == "Nifti1Header" else np.float64).eps)
            np.testing.assert_allclose(qform[:3, :3], target[:3, :3], atol=tolerance * np.abs(target).max())
            np.testing.assert_allclose(qform[:3, 3], target[:3, 3], atol=1e-4)

    @pytest.mark.parametrize("sform", [False, True])
    def test_a_quaternion_just_past_unit_length_reads_as_niftilib_reads_it(self, tmp_path, sform):
        # exit 70 ("internal error: ValueError: w2 should be positive") with an sform, exit 2 in nibabel's words without
        sitk = pytest.importorskip("SimpleITK")
        rng = np.random.default_rng(5)
        for n, bcd in enumerate([(0.0, 0.0, 1.000001)] + [rng.standard_normal(3) for _ in range(6)]):
            bcd = np.asarray(bcd, np.float32)
            bcd = (bcd / np.linalg.norm(bcd.astype(np.float64)) * (1 + rng.uniform(2e-7, 2e-6))).astype(np.float32) if n else bcd
            assert float(np.sum(bcd.astype(np.float64) ** 2)) > 1 + 4e-7  # past nibabel's 3 float32 eps
            path = tmp_path / f"q{n}.nii"
            expected = stored_quaternion(path, bcd, sform=sform)
            vol = medical.read_volume(path)
            np.testing.assert_allclose(vol.affine, expected, atol=1e-6)
            image = sitk.ReadImage(str(path))  # niftilib's reading: LPS, so x and y negated for RAS
            direction = np.diag([-1.0, -1, 1]) @ np.array(image.GetDirection()).reshape(3, 3)
            np.testing.assert_allclose(vol.affine[:3, :3], direction * np.array(image.GetSpacing()), atol=1e-6)
            np.testing.assert_allclose(vol.affine[:3, 3], np.array(image.GetOrigin()) * (-1, -1, 1), atol=1e-5)
            assert any("quaternion" in note and "180-degree" in note for note in vol.notes), vol.notes
        r = run_in_process("convolve", "q0.nii", "-k", "box_3d", "-o", "c.nii", cwd=tmp_path)
        assert r.returncode == 0 and "internal error" not in r.stderr, r.stderr
        nib.load(tmp_path / "c.nii").header.get_qform()  # the output's quaternion is one nibabel reads
        r = run_in_process("pool", "q0.nii", "-f", "2", "-o", "p.nii", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        nib.load(tmp_path / "p.nii").header.get_qform()

    @pytest.mark.parametrize("sform", [False, True])
    def test_a_quaternion_well_past_unit_length_is_refused_in_our_words(self, tmp_path, sform):
        stored_quaternion(tmp_path / "q.nii", (0.0, 0.6, 1.0), sform=sform)
        line = one_line_error(run_in_process("convolve", "q.nii", "-k", "box_3d", "-o", "c.nii", cwd=tmp_path))
        assert "q.nii: the qform (code 1)" in line and "not a rotation" in line and "w2" not in line, line
        assert ("--affine sform" in line) == sform, line
        if sform:
            r = run_in_process("convolve", "q.nii", "-k", "box_3d", "--affine", "sform", "-o", "c.nii", cwd=tmp_path)
            assert r.returncode == 0, r.stderr


def rotated_volume(path: Path, shape=(11, 9, 7)) -> np.ndarray:
    """A float32 volume (i, j, k) = ``shape`` on a rotated grid of anisotropic voxels, in mm; returns its affine."""
    a = np.eye(4)
    a[:3, :3] = rotation(np.array([0.3, -0.5, 0.8]), 0.7) @ np.diag([0.8, 1.2, 2.5])
    a[:3, 3] = (10, -20, 30)
    img = nib.Nifti1Image(np.random.default_rng(0).standard_normal(shape).astype(np.float32), a)
    img.set_qform(a, code=1)
    img.set_sform(a, code=1)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return a


class TestEvenKernelsOnAGrid:
    """Finding 2: a 2-D kernel of an even side on a volume was written on the input's affine, half a voxel off, where the
    same taps as a 1x2x2 3-D kernel, or box:2vox, were refused for that reason."""

    @pytest.mark.parametrize("kernel", ["box:2", "roberts_pos_diag", "2x2: 1,0 0,-1", "k2.npy", "k1x2.npy", "box:4"])
    @pytest.mark.parametrize("axis", [[], ["--axis", "y"]])
    def test_an_even_side_of_a_2d_kernel_is_refused_as_a_3d_one_is(self, tmp_path, kernel, axis):
        rotated_volume(tmp_path / "rot.nii.gz")
        np.save(tmp_path / "k2.npy", np.full((2, 2), 0.25, np.float32))
        np.save(tmp_path / "k1x2.npy", np.array([[0.5, 0.5]], np.float32))
        np.save(tmp_path / "k1x2x2.npy", np.full((1, 2, 2), 0.25, np.float32))
        three_d = one_line_error(run_in_process("convolve", "rot.nii.gz", "-k", "k1x2x2.npy", "-o", "e.nii.gz", cwd=tmp_path), 3)
        line = one_line_error(run_in_process("convolve", "rot.nii.gz", "-k", kernel, *axis, "-o", "e.nii.gz", cwd=tmp_path), 3)
        family = "a volume's kernel needs an odd size on every axis, a centre voxel: an even side's result sits half a voxel off the grid"
        assert family in three_d and family in line, (three_d, line)
        assert not (tmp_path / "e.nii.gz").exists()

    def test_an_even_2d_kernel_on_a_dicom_series_is_refused(self, tmp_path):
        pytest.importorskip("pydicom")
        from test_medical import make_series

        make_series(tmp_path / "s", [0, 2.5, 5])
        line = one_line_error(run_in_process("convolve", "s", "-k", "box:2", "-o", "e.nii.gz", cwd=tmp_path), 3)
        assert "half a voxel off the grid" in line and "box:3" in line, line

    @pytest.mark.parametrize("kernel", ["box:3", "sobel_v", "1x3: 1,2,1"])
    def test_odd_2d_kernels_still_run_slice_by_slice(self, tmp_path, kernel):
        affine = rotated_volume(tmp_path / "rot.nii.gz")
        r = run_in_process("convolve", "rot.nii.gz", "-k", kernel, "-o", "o.nii.gz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        np.testing.assert_array_equal(nib.load(tmp_path / "o.nii.gz").affine, nib.load(tmp_path / "rot.nii.gz").affine)
        assert np.allclose(nib.load(tmp_path / "o.nii.gz").affine, affine, atol=1e-6)

    @pytest.mark.parametrize(("kernel", "kept"), [("box:2", False), ("k1x2x2.npy", False), ("box:3", True), ("k3.npy", True)])
    def test_a_zarr_volume_keeps_its_grid_only_for_odd_sides(self, tmp_path, kernel, kept):
        # box:2 on a volume .zarr carried its spacing_mm and affine over: the result sits half a voxel off them
        zarr = pytest.importorskip("zarr")
        pytest.importorskip("dask.array")
        grid = {"axes": ["z", "y", "x"], "spacing_mm": [2.0, 0.8, 0.7], "affine": np.diag([0.7, 0.8, 2.0, 1.0]).tolist()}
        store = zarr.open_array(str(tmp_path / "v.zarr"), mode="w", shape=(6, 16, 16), chunks=(6, 8, 8), dtype=np.float32)
        store[:] = np.random.default_rng(4).random((6, 16, 16)).astype(np.float32)
        store.attrs.update(grid)
        np.save(tmp_path / "k1x2x2.npy", np.full((1, 2, 2), 0.25, np.float32))
        np.save(tmp_path / "k3.npy", np.full((3, 3, 3), 1 / 27, np.float32))
        r = run_in_process("convolve", "v.zarr", "-k", kernel, "-o", "o.zarr", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        attrs = dict(zarr.open_array(str(tmp_path / "o.zarr"), mode="r").attrs)
        assert (attrs == grid) == kept and attrs["axes"] == ["z", "y", "x"], attrs
        assert ("spacing_mm and affine are not carried over" in r.stderr) != kept, r.stderr


def scaled_reference(path: Path) -> np.ndarray:
    """nibabel's stored integers of ``path`` scaled in float64 and rounded once to float32, as (T, Z, Y, X) or (Z, Y, X)."""
    img = nib.load(str(path))
    raw = np.asarray(img.dataobj.get_unscaled()).astype(np.float64)
    exact = (raw * float(img.dataobj.slope) + float(img.dataobj.inter)).astype(np.float32)
    return exact.transpose(tuple(range(exact.ndim))[::-1])


def dicom_series(folder: Path, volume: np.ndarray, slope: str, intercept: str) -> None:
    """``volume`` (Z, Y, X) int16 as a CT series 2.5 mm apart, its RescaleSlope and RescaleIntercept the decimal strings given."""
    pydicom = pytest.importorskip("pydicom")
    from test_medical import pydicom_file

    folder.mkdir()
    for z, plane in enumerate(volume):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.Rows, ds.Columns = plane.shape
        ds.PixelData = np.ascontiguousarray(plane, dtype="<i2").tobytes()
        ds.ImagePositionPatient, ds.InstanceNumber, ds.SOPInstanceUID = [0.0, 0.0, 2.5 * z], z + 1, f"1.2.3.{z + 1}"
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.save_as(folder / f"IM{z:03d}.dcm")


class TestScaledVoxels:
    """Finding 3: scl_slope/scl_inter were applied in float32, rounded twice (9 % of functional.nii's voxels 1 ulp off)."""

    def test_functional_nii_is_read_with_one_rounding(self, tmp_path):
        shutil.copy(DATA / "functional.nii", tmp_path / "functional.nii")
        exact = scaled_reference(tmp_path / "functional.nii")
        vol = medical.read_volume(tmp_path / "functional.nii")
        assert vol.data.dtype == np.float32 and np.array_equal(vol.data, exact)  # 1962 of 21420 voxels differed
        fdata = nib.load(str(tmp_path / "functional.nii")).get_fdata(dtype=np.float32)
        assert np.array_equal(vol.data, fdata.transpose(3, 2, 1, 0))
        r = run_in_process("convolve", "functional.nii", "-o", "copy.nii", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert np.array_equal(np.asarray(nib.load(str(tmp_path / "copy.nii")).dataobj).transpose(3, 2, 1, 0), exact)
        sitk = pytest.importorskip("SimpleITK")
        assert np.array_equal(vol.data, sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "functional.nii"), sitk.sitkFloat32)))

    @pytest.mark.parametrize("name", ["big.nii", "big.nii.gz"])
    def test_a_volume_of_several_blocks_and_one_of_a_4d_file(self, tmp_path, name):
        raw = np.random.default_rng(9).integers(-32768, 32767, (130, 120, 35, 2), dtype=np.int16)
        img = nib.Nifti1Image(raw, np.eye(4))
        img.header.set_slope_inter(0.3, -1024.7)  # stored as float32: 0.30000001192..., -1024.69995...
        nib.save(img, str(tmp_path / name))
        exact = scaled_reference(tmp_path / name)
        assert np.array_equal(medical.read_volume(tmp_path / name).data, exact)
        assert np.array_equal(medical.read_volume(tmp_path / name, volume=1).data, exact[1])

    def test_a_dicom_series_and_a_nifti_of_the_same_integers_and_scaling_agree(self, tmp_path):
        # the DICOM path scaled in float64 (one rounding), the NIfTI path in float32 (two): the same numbers read two ways
        raw = np.asarray(nib.load(str(DATA / "functional.nii")).dataobj.get_unscaled())[..., 0]  # (i, j, k) int16
        slope, intercept = "0.07540697", "3100.76171875"  # functional.nii's scaling as DICOM's decimal strings
        dicom_series(tmp_path / "s", raw.transpose(2, 1, 0), slope, intercept)
        img = nib.Nifti2Image(raw, np.diag([-1.0, -1, 2.5, 1]))  # NIfTI-2: float64 scl_slope/scl_inter hold them exactly
        img.header.set_slope_inter(float(slope), float(intercept))
        nib.save(img, str(tmp_path / "same.nii"))
        exact = (raw.astype(np.float64) * float(slope) + float(intercept)).astype(np.float32).transpose(2, 1, 0)
        from_dicom, from_nifti = medical.read_volume(tmp_path / "s"), medical.read_volume(tmp_path / "same.nii")
        assert np.array_equal(from_dicom.data, exact) and from_dicom.data.dtype == np.float32
        assert np.array_equal(from_nifti.data, exact) and from_nifti.data.dtype == np.float32


def tilted(folder: Path, degrees: float = 15.0) -> None:
    """8 CT slices 2.5 mm apart along z, each shifted along y by 2.5 tan(``degrees``) mm: a gantry tilt."""
    pydicom = pytest.importorskip("pydicom")
    from test_medical import pydicom_file

    folder.mkdir()
    rng = np.random.default_rng(2)
    for z in range(8):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.Rows, ds.Columns = 12, 10
        ds.PixelData = rng.integers(0, 3000, (12, 10)).astype("<i2").tobytes()
        ds.PixelSpacing = [0.7, 0.9]
        ds.ImageOrientationPatient = [1.0, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-50.0, -60.0 + 2.5 * z * np.tan(np.radians(degrees)), 10.0 + 2.5 * z]
        ds.InstanceNumber, ds.SOPInstanceUID = z + 1, f"1.2.3.{z + 1}"
        ds.save_as(folder / f"IM{z:03d}.dcm")


class TestTiltedGrids:
    """Finding 4: kernelcli's NIfTI of a gantry-tilted series (sheared sform, its nearest unsheared grid in the qform,
    both code 1) was refused as reading two ways, and the refusal described both readings alike."""

    @pytest.mark.parametrize("command", [["convolve"], ["pool", "-f", "2"]])
    def test_the_nifti_of_a_tilted_series_reads_one_way(self, tmp_path, command):
        tilted(tmp_path / "s_tilt")
        r = run_in_process(*command, "s_tilt", "-o", "tilt.nii.gz", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        header = nib.load(tmp_path / "tilt.nii.gz").header
        sform, qform = header.get_sform(), header.get_qform()
        assert int(header["qform_code"]) == int(header["sform_code"]) == 1 and not np.allclose(sform, qform, atol=0.01)
        sitk = pytest.importorskip("SimpleITK")
        image = sitk.ReadImage(str(tmp_path / "tilt.nii.gz"))  # ITK cannot shear: it reads the qform (and would refuse code 0)
        direction = np.diag([-1.0, -1, 1]) @ np.array(image.GetDirection()).reshape(3, 3)
        np.testing.assert_allclose(direction * image.GetSpacing(), qform[:3, :3], atol=1e-5)
        vol = medical.read_volume(tmp_path / "tilt.nii.gz")  # was: "the geometry reads two ways"
        np.testing.assert_allclose(vol.affine, sform, atol=1e-6)  # the exact grid, as nibabel reads it
        assert np.allclose(vol.affine, nib.load(tmp_path / "tilt.nii.gz").affine)
        assert any("sheared" in note and "SimpleITK" in note for note in vol.notes), vol.notes
        again = run_in_process("pool", "tilt.nii.gz", "-f", "2", "-o", "tp.nii.gz", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        pooled = nib.load(tmp_path / "tp.nii.gz").header.get_sform()
        grid = np.diag([2.0, 2, 2, 1])
        grid[:3, 3] = 0.5
        np.testing.assert_allclose(pooled, sform @ grid, atol=1e-4)

    def test_kernelclis_own_half_turns_read_one_way(self, tmp_path):
        # a float32 quaternion holds a half turn to 1e-3 rad: a qform up to 1.6 voxels off the sform, which it stands for
        for klass in ("Nifti1Header", "Nifti2Header"):
            like = Volume(np.zeros((200, 256, 256), np.int16), (1.0, 1.0, 1.0), np.eye(4), Path("in.nii"), "NIfTI",
                          header=getattr(nib, klass)())
            like.header.set_qform(np.eye(4), code=1)
            like.header.set_sform(np.eye(4), code=1)
            for target in near_half_turns(60, seed=8):
                blob = header_bytes(like.data, like, target)
                header = getattr(nib, klass).from_fileobj(io.BytesIO(blob))
                affine, unknown = medical.nifti.nifti_affine(header, Path("own.nii"))
                np.testing.assert_allclose(affine, header.get_sform())

    def test_two_readings_name_where_they_differ_most_and_the_shear(self, tmp_path):
        # both readings were "scanner: LPS axes, voxel 0 at (50, 60, 10) mm": nothing told them apart
        a = np.diag([-0.9, -0.7, 2.5, 1.0])
        a[:3, 3] = (50, 60, 10)
        sheared = a.copy()
        sheared[1, 2] = -0.67
        img = nib.Nifti1Image(np.zeros((10, 12, 8), np.float32), sheared)
        img.set_qform(a, code=1)  # the slices' own grid, not the sform's nearest unsheared one
        img.set_sform(sheared, code=1)
        nib.save(img, str(tmp_path / "two.nii"))
        line = one_line_error(run_in_process("convolve", "two.nii", "-k", "box_3d", "-o", "o.nii", cwd=tmp_path))
        header = nib.load(tmp_path / "two.nii").header
        corners = [(i, j, k) for i in (0, 9) for j in (0, 11) for k in (0, 7)]
        apart = [np.linalg.norm((header.get_sform() - header.get_qform()) @ (*c, 1)) for c in corners]
        worst = corners[int(np.argmax(apart))]
        assert f"up to {max(apart):.3g} mm apart, at voxel {worst}" in line, line
        at = [", ".join(f"{v:.4g}" for v in (a @ (*worst, 1))[:3]) for a in (header.get_sform(), header.get_qform())]
        assert f"at voxel {worst}: ({at[0]}) or ({at[1]}) mm" in line, line
        degrees = 90 - np.degrees(np.arccos(sheared[:3, 1] @ sheared[:3, 2] / np.linalg.norm(sheared[:3, 1]) / np.linalg.norm(sheared[:3, 2])))
        assert f"its z and y axes {degrees:.3g} degrees from perpendicular" in line and "--affine sform" in line, line


class TestPoolMessages:
    """Finding 5: pooling a NIfTI or DICOM volume refused without naming the file (.npy volumes and images named it)."""

    @pytest.mark.parametrize("args", [["-f", "2", "-p", "2"], ["-f", "6"]])
    def test_a_pool_refusal_names_the_volume_as_for_an_array(self, tmp_path, args):
        rotated_volume(tmp_path / "rot.nii.gz", shape=(5, 4, 9))  # (Z, Y, X) = 9x4x5: a window of 6 is too big along y
        np.save(tmp_path / "rot.npy", np.asarray(nib.load(tmp_path / "rot.nii.gz").dataobj).transpose(2, 1, 0))
        array = one_line_error(run_in_process("pool", "rot.npy", "--layout", "zyx", *args, "-o", "x.npy", cwd=tmp_path))
        if "-p" in args:  # a padding past size // 2 is an option's fault, refused before any file (audit 123 #2)
            assert array == ("error: Invalid value for '--padding' / '-p' / '--p': '2': padding 2 is more than half the pool "
                             "size 2: at most 1 (PyTorch's rule) (see 'kernelcli pool -h')"), array
        else:
            assert array.startswith("error: rot.npy: "), array
        volume = one_line_error(run_in_process("pool", "rot.nii.gz", *args, "-o", "x.nii", cwd=tmp_path))
        assert volume == array.replace("rot.npy", "rot.nii.gz"), (volume, array)

    def test_a_dicom_series_pool_refusal_names_the_folder(self, tmp_path):
        pytest.importorskip("pydicom")
        from test_medical import make_series

        make_series(tmp_path / "s", [0, 2.5, 5])
        line = one_line_error(run_in_process("pool", "s", "-f", "6", "-o", "x.nii", cwd=tmp_path))
        assert line.startswith("error: s: "), line
        # a padding past size // 2 is an option's fault, refused before the series is read (audit 123 #2)
        line = one_line_error(run_in_process("pool", "s", "-f", "2", "-p", "2", "-o", "x.nii", cwd=tmp_path))
        assert line == ("error: Invalid value for '--padding' / '-p' / '--p': '2': padding 2 is more than half the pool "
                        "size 2: at most 1 (PyTorch's rule) (see 'kernelcli pool -h')"), line

    def test_a_single_slice_says_pool_works_in_3d_and_what_to_do(self, tmp_path):
        pytest.importorskip("pydicom")
        from test_medical import pydicom_file

        shutil.copy(pydicom_file("CT_small.dcm"), tmp_path / "CT_small.dcm")
        line = one_line_error(run_in_process("pool", "CT_small.dcm", "-f", "2", "-o", "x.nii", cwd=tmp_path))
        assert line.startswith("error: CT_small.dcm: axis z: pool window span 2 (f=2) is larger than the padded input 1 "), line
        assert "1 slice" in line and "3-D" in line and "--layout chw" in line, line
        # the advice, followed: each slice pooled in 2-D, as numpy's 2x2 maximum
        assert run_in_process("convolve", "CT_small.dcm", "-o", "slices.npy", "-q", cwd=tmp_path).returncode == 0
        r = run_in_process("pool", "slices.npy", "--layout", "chw", "-f", "2", "-o", "p.npy", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        plane = medical.read_volume(tmp_path / "CT_small.dcm").data[0]
        expected = plane.reshape(64, 2, 64, 2).max(axis=(1, 3))
        assert np.array_equal(np.load(tmp_path / "p.npy")[0], expected)

    def test_a_single_slice_nii_tile_by_tile_says_so_too(self, tmp_path):
        pytest.importorskip("dask.array")
        nib.save(nib.Nifti1Image(np.zeros((21, 19, 1), np.float32), np.eye(4)), str(tmp_path / "one.nii"))
        whole = one_line_error(run_in_process("pool", "one.nii", "-f", "2", "-o", "p.nii", cwd=tmp_path))
        tiled = one_line_error(run_in_process("pool", "one.nii", "-f", "2", "--tiled", "-o", "p.nii", cwd=tmp_path))
        assert whole == tiled and "3-D" in whole and "--layout chw" in whole, (whole, tiled)


class TestRecordUnitsAndDtype:
    """The outputs audit (98): every volume record said "units": "HU", a gradient's (HU/mm) and a Sobel's too, and its
    dtype was the output file's (uint8 for a .png, int16 with --keep-dtype) where the README says the result's."""

    @pytest.mark.parametrize(("kernel", "units"), [("gradient", "HU/mm"), ("log:2mm", "HU/mm^2"), ("sobel_v", None), ("gaussian:1mm", "HU")])
    def test_units_are_the_results(self, tmp_path, kernel, units):
        import json

        from pydicom.data import get_testdata_file

        r = run_in_process("convolve", get_testdata_file("CT_small.dcm"), "-k", kernel, "-o", str(tmp_path / "o.nii.gz"), "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout).get("units") == units

    @pytest.mark.parametrize("extra", [["-o", "o.png"], ["-o", "o.nii.gz"], ["-o", "o.nii.gz", "--keep-dtype"], ["-o", "o.nii.gz", "--window", "0,400"]])
    def test_dtype_is_the_result_as_computed(self, tmp_path, extra):
        import json

        from conftest import SAMPLES

        r = run_in_process("convolve", str(SAMPLES / "phantom3d.nii.gz"), "-k", "gaussian:1mm", *extra, "--json", cwd=tmp_path)
        assert r.returncode == 0 and json.loads(r.stdout)["dtype"] == "float32", r.stdout
