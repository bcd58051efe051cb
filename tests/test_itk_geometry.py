"""NRRD and MetaImage geometry the header does not state is assumed out loud, never taken as given.

SimpleITK reads a missing spacing as 1 mm, a missing direction as the identity and a missing origin
as zero, without saying so; kernelcli reads the header itself: a kernel sized in mm is then refused
(as for a DICOM file without PixelSpacing) and NIfTI outputs keep qform/sform codes 0.  A header that
states the geometry (even 1 mm, the identity and zero) is read exactly as SimpleITK reads it.
Every test skips cleanly without SimpleITK (and nibabel, which writes the NIfTI outputs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli import medical
from kernelcli.medical.itk import itk_affine

sitk = pytest.importorskip("SimpleITK")
nib = pytest.importorskip("nibabel")

FORMATS = ("nrrd", "nhdr", "mha", "mhd")
SPACING = (0.5, 0.7, 2.0)  # x, y, z
ORIGIN = (-10.0, 20.0, 30.0)
C, S = np.cos(0.3), np.sin(0.3)
DIRECTION = np.array([[C, -S, 0.0], [S, C, 0.0], [0.0, 0.0, 1.0]])  # columns: the LPS directions of axes x, y, z


def voxels(shape=(4, 5, 6)) -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype="<i2").reshape(shape)  # (Z, Y, X), or (T, Z, Y, X)


def vector(values) -> str:
    return "(" + ",".join(repr(float(v)) for v in values) + ")"


def write(folder: Path, fmt: str, *, spacing=None, direction=None, origin=None, data=None, extra: str = "") -> Path:
    """An NRRD (attached ``.nrrd`` or detached ``.nhdr``) or MetaImage (``.mha``, or ``.mhd`` with a ``.raw``) file
    whose header states only the geometry given: ``spacing`` (x, y, z), ``direction`` (3x3, columns the axes)
    and ``origin``; ``extra`` lines go into the header as they are."""
    data = voxels() if data is None else data
    sizes = " ".join(map(str, data.shape[::-1]))
    path = folder / f"img.{fmt}"
    if fmt in ("nrrd", "nhdr"):
        lines = ["NRRD0004", "type: short", f"dimension: {data.ndim}", f"sizes: {sizes}", "endian: little", "encoding: raw"]
        if direction is not None:
            lines += ["space: left-posterior-superior",
                      "space directions: " + " ".join(vector(direction[:, i] * spacing[i]) for i in range(3))]
        elif spacing is not None:
            lines.append("spacings: " + " ".join(repr(float(s)) for s in spacing))
        if origin is not None:
            if direction is None:
                lines.append("space: left-posterior-superior")
            lines.append(f"space origin: {vector(origin)}")
        lines += [line for line in extra.splitlines() if line]
        if fmt == "nhdr":
            (folder / "img.raw").write_bytes(data.tobytes())
            path.write_text("\n".join(lines + ["data file: img.raw"]) + "\n")
        else:
            path.write_bytes(("\n".join(lines) + "\n\n").encode() + data.tobytes())
        return path
    lines = ["ObjectType = Image", f"NDims = {data.ndim}", "BinaryData = True", "BinaryDataByteOrderMSB = False",
             "CompressedData = False"]
    if direction is not None:
        lines.append("TransformMatrix = " + " ".join(repr(float(v)) for v in direction.T.ravel()))
    if origin is not None:
        lines.append("Offset = " + " ".join(repr(float(v)) for v in origin))
    if spacing is not None:
        lines.append("ElementSpacing = " + " ".join(repr(float(v)) for v in spacing))
    lines += [line for line in extra.splitlines() if line]
    lines += [f"DimSize = {sizes}", "ElementType = MET_SHORT"]
    if fmt == "mhd":
        (folder / "img.raw").write_bytes(data.tobytes())
        path.write_text("\n".join(lines + ["ElementDataFile = img.raw"]) + "\n")
    else:
        path.write_bytes(("\n".join(lines + ["ElementDataFile = LOCAL"]) + "\n").encode() + data.tobytes())
    return path


def convolve(src: Path, kernel: str, out: Path):
    return run_in_process("convolve", str(src), "-k", kernel, "-o", str(out))


def codes(path: Path) -> tuple[int, int]:
    header = nib.load(str(path)).header
    return int(header["qform_code"]), int(header["sform_code"])


def simpleitk_affine(src: Path) -> np.ndarray:
    img = sitk.ReadImage(str(src))
    return itk_affine(img.GetDirection(), img.GetSpacing(), img.GetOrigin())


def missing_spacing_field(fmt: str) -> str:
    return "no spacings or space directions field" if fmt in ("nrrd", "nhdr") else "no ElementSpacing or ElementSize"


@pytest.mark.parametrize("fmt", FORMATS)
class TestNoSpacing:
    def test_a_kernel_in_mm_is_refused_naming_the_file_and_the_field(self, tmp_path, fmt):
        src = write(tmp_path, fmt)
        out = tmp_path / "s.nii.gz"
        r = convolve(src, "gaussian:2mm", out)
        assert r.returncode == 2, r.stderr
        assert src.name in r.stderr and missing_spacing_field(fmt) in r.stderr and "1 mm was assumed" in r.stderr
        assert not out.exists()

    def test_a_kernel_in_voxels_runs_with_notes_and_codes_0(self, tmp_path, fmt):
        src = write(tmp_path, fmt)
        out = tmp_path / "s.nii.gz"
        r = convolve(src, "gaussian:2vox", out)
        assert r.returncode == 0, r.stderr
        assert f"{src.name}: {missing_spacing_field(fmt)}; assuming 1 mm" in r.stderr
        assert "orientation unknown" in r.stderr and "the position is unknown" in r.stderr
        assert codes(out) == (0, 0)
        vol = medical.read_volume(src)
        assert vol.spacing_assumed == missing_spacing_field(fmt)
        assert vol.orientation_unknown and vol.position_unknown
        np.testing.assert_array_equal(vol.data, voxels())
        np.testing.assert_array_equal(vol.affine, simpleitk_affine(src))  # the grid ITK made up, as before


@pytest.mark.parametrize("fmt", FORMATS)
class TestNoDirectionOrOrigin:
    def test_no_direction_keeps_codes_0(self, tmp_path, fmt):
        # NRRD without a space states an origin through axis mins (cell-centred: ITK places voxel 0 half a voxel in)
        extra = "axis mins: -10.25 19.65 29" if fmt in ("nrrd", "nhdr") else ""
        src = write(tmp_path, fmt, spacing=SPACING, origin=None if extra else ORIGIN, extra=extra)
        vol = medical.read_volume(src)
        field = "space directions field" if fmt in ("nrrd", "nhdr") else "TransformMatrix, Orientation or Rotation"
        assert vol.orientation_unknown == f"no {field}"
        assert vol.spacing_assumed is None and vol.position_unknown is None
        np.testing.assert_array_equal(vol.affine, simpleitk_affine(src))
        out = tmp_path / "s.nii.gz"
        r = convolve(src, "gaussian:1mm", out)  # the spacing is stated: a kernel in mm runs
        assert r.returncode == 0, r.stderr
        assert f"{src.name}: no {field}; the NIfTI affine is a plain scaling (orientation unknown)" in r.stderr
        assert codes(out) == (0, 0)

    def test_no_origin_keeps_codes_0(self, tmp_path, fmt):
        src = write(tmp_path, fmt, spacing=SPACING, direction=DIRECTION)
        vol = medical.read_volume(src)
        field = "space origin field" if fmt in ("nrrd", "nhdr") else "Offset, Origin or Position"
        assert vol.position_unknown == f"no {field}"
        assert vol.spacing_assumed is None and vol.orientation_unknown is None
        out = tmp_path / "s.nii.gz"
        r = convolve(src, "gaussian:1mm", out)
        assert r.returncode == 0, r.stderr
        assert f"{src.name}: no {field}: the position is unknown" in r.stderr
        assert codes(out) == (0, 0)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stated", ["oblique", "identity"])
def test_a_full_header_reads_as_simpleitk_reads_it(tmp_path, fmt, stated):
    """Stated geometry -- even 1 mm, the identity and zero, what ITK would take anyway -- is the file's: codes 1."""
    if stated == "oblique":
        src = write(tmp_path, fmt, spacing=SPACING, direction=DIRECTION, origin=ORIGIN)
    else:
        src = write(tmp_path, fmt, spacing=(1.0, 1.0, 1.0), direction=np.eye(3), origin=(0.0, 0.0, 0.0))
    vol = medical.read_volume(src)
    assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == (None, None, None)
    assert not [n for n in vol.notes if "unknown" in n or "assuming" in n]
    np.testing.assert_array_equal(vol.affine, simpleitk_affine(src))
    img = sitk.ReadImage(str(src))
    assert vol.spacing == tuple(img.GetSpacing()[::-1])
    if stated == "oblique":
        assert img.GetSpacing() == pytest.approx(SPACING) and img.GetOrigin() == pytest.approx(ORIGIN)
        np.testing.assert_allclose(np.reshape(img.GetDirection(), (3, 3)), DIRECTION, atol=1e-12)
    out = tmp_path / "s.nii.gz"
    r = convolve(src, "gaussian:2mm", out)
    assert r.returncode == 0, r.stderr
    assert "unknown" not in r.stderr and "assuming" not in r.stderr
    assert codes(out) == (1, 1)
    np.testing.assert_allclose(nib.load(str(out)).affine, simpleitk_affine(src), atol=1e-5)


class TestHeaderVariants:
    def test_nrrd_partial_spacings_name_the_axis(self, tmp_path):
        src = write(tmp_path, "nrrd", extra="spacings: 0.5 nan 2")
        assert medical.read_volume(src).spacing_assumed == "no spacing for axis 1 in the spacings or space directions field"

    def test_nrrd_field_names_are_read_in_any_case(self, tmp_path):
        src = write(tmp_path, "nrrd", extra="Space: RAS\nSpace Directions: (0.5,0,0) (0,0.7,0) (0,0,2)\nSPACE ORIGIN: (1,2,3)")
        vol = medical.read_volume(src)
        assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == (None, None, None)
        np.testing.assert_array_equal(vol.affine, simpleitk_affine(src))
        assert vol.spacing == pytest.approx((2.0, 0.7, 0.5))

    def test_metaimage_element_size_and_other_names(self, tmp_path):
        src = write(tmp_path, "mha", extra="ElementSize = 0.5 0.7 2\nOrientation = 0 1 0 1 0 0 0 0 1\nPosition = 1 2 3")
        vol = medical.read_volume(src)
        assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == (None, None, None)
        np.testing.assert_array_equal(vol.affine, simpleitk_affine(src))
        src = write(tmp_path, "mhd", extra="ElementSize = 0.5 0.7 2\nRotation = 0 1 0 1 0 0 0 0 1\nOrigin = 1 2 3")
        vol = medical.read_volume(src)
        assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == (None, None, None)

    def test_metaimage_key_in_another_case_is_named_not_taken(self, tmp_path):
        # MetaIO reads keys in their own case only: SimpleITK takes 1 mm here, so the spacing is not the file's
        src = write(tmp_path, "mha", extra="elementspacing = 0.5 0.7 2")
        assert sitk.ReadImage(str(src)).GetSpacing() == (1.0, 1.0, 1.0)
        why = medical.read_volume(src).spacing_assumed
        assert why.startswith("no ElementSpacing or ElementSize") and "'elementspacing'" in why

    @pytest.mark.parametrize("fmt", ["nrrd", "mha"])
    def test_2d_images(self, tmp_path, fmt):
        plane = voxels((5, 6))
        bare = write(tmp_path, fmt, data=plane)
        vol = medical.read_volume(bare)
        assert vol.data.shape == (1, 5, 6)
        assert vol.spacing_assumed and vol.orientation_unknown and vol.position_unknown
        if fmt == "nrrd":
            extra = "space dimension: 2\nspace directions: (0.5,0) (0,0.7)\nspace origin: (1,2)"
        else:
            extra = "ElementSpacing = 0.5 0.7\nTransformMatrix = 1 0 0 1\nOffset = 1 2"
        (tmp_path / "full").mkdir()
        full = write(tmp_path / "full", fmt, data=plane, extra=extra)
        vol = medical.read_volume(full)
        # a full 2-D header states the plane; its depth it cannot state (as a 2-D NIfTI, a DICOM slice without a thickness)
        assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == ("a 2-D image: no voxel size along z", None, None)
        assert vol.assumed_axes == ("z",) and any("no voxel size along z; assuming 1 mm" in n for n in vol.notes)
        img = sitk.ReadImage(str(full))
        assert img.GetDimension() == 2 and vol.spacing == (1.0, 0.7, 0.5)
        for given in (bare, full):  # (with constant padding a made-up 1 mm depth took zeros from above and below)
            r = convolve(given, "gaussian:1mm", tmp_path / "s.nii.gz")
            assert r.returncode == 2 and given.name in r.stderr and "not in the file" in r.stderr

    @pytest.mark.parametrize("fmt", ["nrrd", "nhdr", "mha", "mhd"])
    def test_4d_images(self, tmp_path, fmt):
        series = voxels((2, 4, 5, 6))
        bare = write(tmp_path, fmt, data=series)
        vol = medical.read_volume(bare)
        assert vol.data.shape == (2, 4, 5, 6)
        assert vol.spacing_assumed == missing_spacing_field(fmt) and vol.orientation_unknown and vol.position_unknown
        r = convolve(bare, "gaussian:2mm", tmp_path / "s.nii.gz")
        assert r.returncode == 2 and bare.name in r.stderr and missing_spacing_field(fmt) in r.stderr
        if fmt in ("nrrd", "nhdr"):  # ITK's own 4-D NRRD: a 4-D space, every axis a direction
            extra = ("space dimension: 4\nspace directions: (0.5,0,0,0) (0,0.7,0,0) (0,0,2,0) (0,0,0,3)\n"
                     "space origin: (1,2,3,0)")
        else:
            extra = "ElementSpacing = 0.5 0.7 2 3\nTransformMatrix = 1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1\nOffset = 1 2 3 0"
        (tmp_path / "full").mkdir()
        full = write(tmp_path / "full", fmt, data=series, extra=extra)
        vol = medical.read_volume(full, volume=1)
        assert (vol.spacing_assumed, vol.orientation_unknown, vol.position_unknown) == (None, None, None)
        assert vol.spacing == (2.0, 0.7, 0.5)
        np.testing.assert_array_equal(vol.data, series[1])
        out = tmp_path / "full.nii.gz"
        r = convolve(full, "gaussian:2mm", out)
        assert r.returncode == 0, r.stderr
        assert codes(out) == (1, 1)
