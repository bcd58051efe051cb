"""DICOM and NIfTI reading/writing, Hounsfield units, windowing and the ``volume`` command.

Built on the example data pydicom and nibabel ship inside their packages (never downloaded);
every test that needs one of them skips cleanly without it.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

import importlib.util

from conftest import SAMPLES, run_in_process
from kernelcli import medical, volumes
from kernelcli.errors import ImageReadError, InputError, InvalidKernel, MissingExtra, OutputRefused, UsageError

PHANTOM = SAMPLES / "phantom3d.nii.gz"


def pydicom_file(name: str) -> Path:
    """A test file shipped inside pydicom (looked up locally only: get_testdata_file may download)."""
    pydicom = pytest.importorskip("pydicom")
    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    if not path.is_file():
        pytest.skip(f"pydicom does not ship {name}")
    return path


def nibabel_file(name: str) -> Path:
    pytest.importorskip("nibabel")
    from nibabel.testing import data_path

    path = Path(data_path) / name
    if not path.is_file():
        pytest.skip(f"nibabel does not ship {name}")
    return path


def make_series(folder: Path, positions, *, shuffle_seed=7, slope=None, intercept=None, drop_position=False, series_uid=None):
    """Write copies of CT_small.dcm as one series: slice n at z = positions[n], its pixels raised by 10*n.

    File names are shuffled and InstanceNumber runs opposite to the position, so only a correct
    sort by position along the normal gives the expected order.  Returns the expected HU volume.
    """
    import pydicom

    source = pydicom_file("CT_small.dcm")
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"IM{n:04d}" for n in range(len(positions))]
    random.Random(shuffle_seed).shuffle(names)
    expected = []
    for n, z in enumerate(positions):
        ds = pydicom.dcmread(source)
        raw = ds.pixel_array.astype(np.int16) + np.int16(10 * n)
        ds.PixelData = raw.tobytes()
        if drop_position:
            del ds.ImagePositionPatient
        else:
            ds.ImagePositionPatient = [-158.135803, -179.035797, float(z)]
        ds.InstanceNumber = len(positions) - n
        ds.SOPInstanceUID = f"1.2.3.4.{n + 1}"
        if series_uid is not None:
            ds.SeriesInstanceUID = series_uid
        if slope is not None:
            ds.RescaleSlope = slope
        if intercept is not None:
            ds.RescaleIntercept = intercept
        ds.save_as(folder / f"{names[n]}.dcm")
        expected.append(raw.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    return np.stack(expected)


needs_pydicom = pytest.mark.skipif(importlib.util.find_spec("pydicom") is None, reason="pydicom is not installed (kernelcli[medical])")
needs_nibabel = pytest.mark.skipif(importlib.util.find_spec("nibabel") is None, reason="nibabel is not installed (kernelcli[medical])")


def tilt_series(folder: Path) -> None:
    """Shift each slice of a :func:`make_series` series 1/4 of its z along y (LPS): a gantry tilt of atan(0.5/2) =
    14.04 degrees for slices 2 mm apart."""
    import pydicom

    for f in folder.iterdir():
        ds = pydicom.dcmread(f)
        z = float(ds.ImagePositionPatient[2])
        ds.ImagePositionPatient = [float(ds.ImagePositionPatient[0]), float(ds.ImagePositionPatient[1]) + z / 4, z]
        ds.save_as(f)


@needs_pydicom
class TestReadDicom:
    def test_single_file_in_hounsfield_units(self):
        import pydicom

        path = pydicom_file("CT_small.dcm")
        ds = pydicom.dcmread(path)
        vol = medical.read_volume(path)
        assert vol.data.shape == (1, 128, 128) and vol.data.dtype == np.int16
        np.testing.assert_array_equal(vol.data[0], ds.pixel_array.astype(np.int32) * 1 - 1024)
        assert vol.data.min() < 0  # HU, not stored values
        assert vol.units == "HU" and vol.modality == "CT" and vol.format == "DICOM"
        assert vol.spacing == pytest.approx((5.0, 0.661468, 0.661468))
        # voxel (0, 0, 0) is ImagePositionPatient, LPS -> RAS flips x and y
        np.testing.assert_allclose(vol.affine @ [0, 0, 0, 1], [158.135803, 179.035797, -75.699997, 1])

    def test_series_folder_sorted_by_position(self, tmp_path):
        positions = [10.0, 12.5, 15.0, 17.5, 20.0]
        expected = make_series(tmp_path / "series", positions)
        (tmp_path / "series" / "README.txt").write_text("not a DICOM file\n")
        vol = medical.read_volume(tmp_path / "series")
        np.testing.assert_array_equal(vol.data, expected)
        assert vol.data.dtype == np.int16
        assert vol.spacing == pytest.approx((2.5, 0.661468, 0.661468))
        assert any("skipped 1 file" in n and "README.txt" in n for n in vol.notes)
        for k, z in enumerate(positions):  # slice k lies at its ImagePositionPatient
            np.testing.assert_allclose(vol.affine @ [0, 0, k, 1], [158.135803, 179.035797, z, 1], atol=1e-6)

    def test_descending_positions_still_sort_along_the_normal(self, tmp_path):
        expected = make_series(tmp_path / "s", [30.0, 25.0, 20.0])
        vol = medical.read_volume(tmp_path / "s")
        np.testing.assert_array_equal(vol.data, expected[::-1])
        assert vol.spacing[0] == pytest.approx(5.0)

    def test_instance_number_when_positions_are_missing(self, tmp_path):
        expected = make_series(tmp_path / "s", [0, 1, 2, 3], drop_position=True)
        vol = medical.read_volume(tmp_path / "s")
        np.testing.assert_array_equal(vol.data, expected[::-1])  # InstanceNumber runs backwards
        assert any("sorted by InstanceNumber" in n for n in vol.notes)

    def test_rescale_exact_int16_or_float32(self, tmp_path):
        expected = make_series(tmp_path / "a", [0.0, 5.0], slope=2, intercept=-1000)
        vol = medical.read_volume(tmp_path / "a")
        assert vol.data.dtype == np.int16
        np.testing.assert_array_equal(vol.data, expected)
        expected = make_series(tmp_path / "b", [0.0, 5.0], slope=0.5, intercept=-1024.25)
        vol = medical.read_volume(tmp_path / "b")
        assert vol.data.dtype == np.float32
        np.testing.assert_allclose(vol.data, expected, rtol=0, atol=1e-3)

    def test_values_beyond_int16_switch_to_float32(self, tmp_path):
        expected = make_series(tmp_path / "s", [0.0, 5.0], slope=40, intercept=0)  # 2191 * 40 > 32767
        vol = medical.read_volume(tmp_path / "s")
        assert vol.data.dtype == np.float32
        np.testing.assert_array_equal(vol.data, expected)

    def test_float_pixel_data_is_not_truncated(self, tmp_path):
        # FloatPixelData with no rescale used to take the int16 path and lose its fractions
        import pydicom

        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        values = ds.pixel_array.astype(np.float32) * np.float32(0.25) - np.float32(3.1)
        del ds.PixelData, ds.RescaleSlope, ds.RescaleIntercept
        ds.FloatPixelData = values.astype("<f4").tobytes()
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
        ds.save_as(tmp_path / "float.dcm")
        vol = medical.read_volume(tmp_path / "float.dcm")
        assert vol.data.dtype == np.float32
        np.testing.assert_array_equal(vol.data[0], values)

    def test_two_series_in_one_folder(self, tmp_path):
        make_series(tmp_path / "s", [0.0, 5.0], series_uid="1.2.3.100")
        make_series(tmp_path / "other", [0.0, 5.0], series_uid="1.2.3.200")
        for f in (tmp_path / "other").iterdir():
            f.rename(tmp_path / "s" / f"x{f.name}")
        with pytest.raises(UsageError, match="holds 2 DICOM series"):
            medical.read_volume(tmp_path / "s")

    def test_two_slices_at_one_position(self, tmp_path):
        make_series(tmp_path / "s", [0.0, 5.0, 5.0])
        with pytest.raises(ImageReadError, match="same slice position"):
            medical.read_volume(tmp_path / "s")

    def test_slices_of_different_sizes(self, tmp_path):
        import pydicom

        make_series(tmp_path / "s", [0.0, 5.0])
        other = pydicom.dcmread(pydicom_file("MR_small.dcm"))
        other.SeriesInstanceUID = pydicom.dcmread(next((tmp_path / "s").iterdir())).SeriesInstanceUID
        other.save_as(tmp_path / "s" / "zz.dcm")
        with pytest.raises(ImageReadError, match="not one volume"):
            medical.read_volume(tmp_path / "s")

    def test_folder_without_dicom(self, tmp_path):
        (tmp_path / "a.txt").write_text("x")
        with pytest.raises(InputError, match="no DICOM images"):
            medical.read_volume(tmp_path)

    def test_compressed_without_decoder_names_what_to_install(self):
        from pydicom.pixels import get_decoder
        from pydicom.uid import JPEGLSLossless

        if get_decoder(JPEGLSLossless).is_available:
            pytest.skip("a JPEG-LS decoder is installed here")
        with pytest.raises(MissingExtra, match=r"JPEG-LS.*install one of: .*pylibjpeg"):
            medical.read_volume(pydicom_file("MR_small_jpeg_ls_lossless.dcm"))

    def test_compressed_with_a_decoder_reads_like_the_uncompressed_file(self):
        plain = medical.read_volume(pydicom_file("MR_small.dcm"))
        rle = medical.read_volume(pydicom_file("MR_small_RLE.dcm"))
        np.testing.assert_array_equal(rle.data, plain.data)

    def test_not_dicom(self, tmp_path):
        bad = tmp_path / "x.dcm"
        bad.write_bytes(b"hello")
        pytest.importorskip("pydicom")
        with pytest.raises(ImageReadError, match="x.dcm: not a DICOM file") as info:
            medical.read_volume(bad)
        # pydicom's advice ("Use force=True to force reading") is no kernelcli option, and kernelcli tried it already
        assert "force=True" not in str(info.value) and "no DICM header" in str(info.value)


@needs_nibabel
class TestReadNifti:
    def test_big_endian_3d(self):
        import nibabel as nib

        path = nibabel_file("anatomical.nii")
        vol = medical.read_volume(path)
        raw = np.asanyarray(nib.load(path).dataobj)
        assert vol.data.shape == raw.shape[::-1] and vol.data.dtype == np.int16 and vol.data.dtype.isnative
        np.testing.assert_array_equal(vol.data, raw.transpose(2, 1, 0))
        assert vol.spacing == (2.0, 2.0, 2.0)
        np.testing.assert_array_equal(vol.affine, nib.load(path).affine)

    def test_4d_is_read_whole_or_one_volume_with_volume(self):
        import nibabel as nib

        path = nibabel_file("example4d.nii.gz")
        whole = np.asanyarray(nib.load(path).dataobj)
        vol = medical.read_volume(path)
        np.testing.assert_array_equal(vol.data, whole.transpose(3, 2, 1, 0))
        assert vol.frames == 2 and vol.data.dtype == np.int16
        assert vol.spacing == pytest.approx((2.2, 2.0, 2.0), rel=1e-6)
        assert vol.notes == ["example4d.nii.gz: 4-D, 2 volumes: all are read, as (T, Z, Y, X) (volume=N takes one)"]
        one = medical.read_volume(path, volume=1)
        np.testing.assert_array_equal(one.data, whole[..., 1].transpose(2, 1, 0))
        with pytest.raises(UsageError, match="volume=2: the file holds 2 volume"):
            medical.read_volume(path, volume=2)

    def test_nifti2(self):
        vol = medical.read_volume(nibabel_file("example_nifti2.nii.gz"))
        assert vol.format == "NIfTI-2" and vol.data.shape == (2, 12, 20, 32)

    def test_garbage_and_truncated(self, tmp_path):
        pytest.importorskip("nibabel")
        bad = tmp_path / "x.nii"
        bad.write_bytes(b"\0" * 10)
        with pytest.raises(ImageReadError, match="x.nii: not a readable NIfTI"):
            medical.read_volume(bad)
        cut = tmp_path / "cut.nii.gz"
        cut.write_bytes(PHANTOM.read_bytes()[:2000])
        with pytest.raises(ImageReadError, match="cut.nii.gz"):
            medical.read_volume(cut)


@needs_nibabel
class TestWriteNifti:
    def test_hu_round_trip_int16_in_float32_out(self, tmp_path):
        import nibabel as nib

        vol = medical.read_volume(PHANTOM)
        assert vol.data.dtype == np.int16 and vol.data.min() == -1000
        report = medical.convolve_volume_file(PHANTOM, "gaussian:0.5mm", out=tmp_path / "s.nii.gz")
        out = nib.load(tmp_path / "s.nii.gz")
        data = np.asanyarray(out.dataobj).transpose(2, 1, 0)
        assert out.get_data_dtype() == np.float32
        expected = volumes.correlate_separable(vol.data, volumes.gaussian_mm(0.5, vol.spacing), pad_mode="replicate")
        np.testing.assert_array_equal(data, expected)
        assert data.min() < -999 and data.max() > 255  # no clipping at 0 or 255
        src = nib.load(PHANTOM)
        np.testing.assert_array_equal(out.affine, src.affine)
        np.testing.assert_array_equal(out.get_qform(), src.get_qform())
        np.testing.assert_array_equal(out.get_sform(), src.get_sform())
        assert out.header.get_zooms() == src.header.get_zooms()
        assert report.dtype == "float32" and report.spacing == [1.0, 0.8, 0.8]

    def test_keep_dtype_int16_round_trip_is_exact(self, tmp_path):
        import nibabel as nib

        medical.convolve_volume_file(PHANTOM, None, medical.VolumeOptions(keep_dtype=True), out=tmp_path / "c.nii")
        out = nib.load(tmp_path / "c.nii")
        assert out.get_data_dtype() == np.int16
        np.testing.assert_array_equal(np.asanyarray(out.dataobj), np.asanyarray(nib.load(PHANTOM).dataobj))

    def test_keep_dtype_clips_with_a_note(self, tmp_path):
        gain = tmp_path / "gain.json"
        gain.write_text('{"name": "gain", "matrix": [[50]]}')  # -1000*50 and 800*50 leave int16
        report = medical.convolve_volume_file(PHANTOM, str(gain), medical.VolumeOptions(keep_dtype=True), out=tmp_path / "e.nii.gz")
        vol = medical.read_volume(PHANTOM).data.astype(np.int64)
        assert report.clipped_low == np.count_nonzero(vol * 50 < -32768) > 0
        assert report.clipped_high == np.count_nonzero(vol * 50 > 32767) > 0
        assert any("clipped" in n for n in report.notes)

    def test_big_endian_header_keeps_values(self, tmp_path):
        import nibabel as nib

        path = nibabel_file("anatomical.nii")
        medical.convolve_volume_file(path, None, medical.VolumeOptions(keep_dtype=True), out=tmp_path / "a.nii.gz")
        np.testing.assert_array_equal(np.asanyarray(nib.load(tmp_path / "a.nii.gz").dataobj), np.asanyarray(nib.load(path).dataobj))

    def test_dicom_series_to_nifti_lines_up(self, tmp_path):
        import nibabel as nib

        expected = make_series(tmp_path / "s", [10.0, 12.5, 15.0])
        medical.convolve_volume_file(tmp_path / "s", None, out=tmp_path / "ct.nii.gz")
        img = nib.load(tmp_path / "ct.nii.gz")
        np.testing.assert_array_equal(np.asanyarray(img.dataobj).transpose(2, 1, 0), expected)
        np.testing.assert_allclose(img.affine, medical.read_volume(tmp_path / "s").affine)
        assert img.header["sform_code"] == 1 and img.header.get_zooms() == pytest.approx((0.661468, 0.661468, 2.5))

    def test_atomic_write_leaves_nothing_on_failure(self, tmp_path, monkeypatch):
        import nibabel as nib

        class Full:
            def write(self, data):
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(medical.nifti, "gzip_writer", lambda f, level=1: (Full(), "test"))
        with pytest.raises(Exception, match="No space left"):
            medical.write_nifti(tmp_path / "x.nii.gz", np.zeros((2, 2, 2), np.float32))
        assert list(tmp_path.iterdir()) == []

    def test_output_checks(self, tmp_path):
        (tmp_path / "o.nii.gz").write_bytes(b"x")
        with pytest.raises(OutputRefused, match="already exists"):
            medical.convolve_volume_file(PHANTOM, None, out=tmp_path / "o.nii.gz")
        with pytest.raises(OutputRefused, match="overwrite the input"):
            medical.convolve_volume_file(PHANTOM, None, out=PHANTOM, force=True)
        with pytest.raises(UsageError, match="unsupported output type '.mha'"):
            medical.convolve_volume_file(PHANTOM, None, out=tmp_path / "o.mha")

    def test_pooling_keeps_the_result_overlaid(self, tmp_path):
        import nibabel as nib

        medical.pool_volume_file(PHANTOM, 2, op="avg", out=tmp_path / "p.nii.gz")
        src, out = nib.load(PHANTOM), nib.load(tmp_path / "p.nii.gz")
        # pooled voxel (0, 0, 0) sits at the centre of the input's first 2x2x2 window
        np.testing.assert_allclose(out.affine @ [0, 0, 0, 1], src.affine @ [0.5, 0.5, 0.5, 1])
        assert out.header.get_zooms() == pytest.approx(tuple(2 * z for z in src.header.get_zooms()))
        np.testing.assert_allclose(
            np.asanyarray(out.dataobj).transpose(2, 1, 0), volumes.pool3d(medical.read_volume(PHANTOM).data, 2, op="avg")
        )


class TestWindowing:
    def test_dicom_linear_function(self):
        c, w = 40.0, 80.0
        x = np.array([-1000, -0.5, 0.0, 39.5, 40, 79.0, 79.5, 3000])
        lo, hi = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
        ref = np.where(x <= lo, 0, np.where(x > hi, 255, np.rint(((x - (c - 0.5)) / (w - 1) + 0.5) * 255)))
        np.testing.assert_array_equal(medical.apply_window(x, c, w), ref)
        assert medical.apply_window(np.array([[0.0, 1.0]]), 0.5, 1).tolist() == [[0, 255]]

    def test_presets_and_parsing(self):
        assert medical.parse_window("brain") == (40.0, 80.0)
        assert medical.parse_window("LUNG") == (-600.0, 1500.0)
        assert medical.parse_window("bone") == (400.0, 1800.0)
        assert medical.parse_window("soft_tissue") == (50.0, 350.0)
        assert medical.parse_window(" -600 , 1500 ") == (-600.0, 1500.0)
        with pytest.raises(UsageError, match="preset: brain"):
            medical.parse_window("liver")
        with pytest.raises(UsageError, match=">= 1"):
            medical.parse_window("40,0")

    @needs_nibabel
    def test_png_is_the_windowed_middle_slice(self, tmp_path):
        from PIL import Image

        report = medical.convolve_volume_file(PHANTOM, None, medical.VolumeOptions(window=(40, 80)), out=tmp_path / "m.png")
        png = np.asarray(Image.open(tmp_path / "m.png"))
        vol = medical.read_volume(PHANTOM).data
        # the phantom's affine is diag(0.8, 0.8, 1): already RAS+, so axial = vol[32] with A at the top, R on the left
        np.testing.assert_array_equal(png, medical.apply_window(vol[32][::-1, ::-1], 40, 80))
        assert any("axial slice 32 of 64 (closest canonical RAS+ orientation, radiological" in n for n in report.notes)
        report = medical.convolve_volume_file(PHANTOM, None, medical.VolumeOptions(axis="x"), out=tmp_path / "x.png")
        assert np.asarray(Image.open(tmp_path / "x.png")).shape == (64, 64)
        assert any("stretched to 0..255" in n for n in report.notes)


    @needs_nibabel
    @pytest.mark.parametrize("scale", [1e-17, 3e-16, 1.0, 1e300])
    def test_png_without_window_stretches_any_range(self, tmp_path, scale):
        """A slice whose range was below ~1e-16 of its values came out thresholded or a third saturated (the audit:
        a DICOM window of width range + 1 lost the range to rounding), under a note saying it was stretched."""
        import nibabel as nib
        from PIL import Image

        ramp = np.broadcast_to(np.arange(32.0) / 31.0 * scale, (8, 32, 32))  # (Z, Y, X): x = 0..scale
        nib.save(nib.Nifti1Image(np.ascontiguousarray(ramp.transpose(2, 1, 0)), np.eye(4)), tmp_path / "r.nii.gz")
        report = medical.convolve_volume_file(tmp_path / "r.nii.gz", None, medical.VolumeOptions(window=None),
                                              out=tmp_path / "r.png")
        row = np.asarray(Image.open(tmp_path / "r.png"))[5]
        # the axial plane shows x running right to left (radiological): 255 at the first column, 0 at the last
        np.testing.assert_array_equal(row[::-1], np.rint(np.arange(32) * (255 / 31)).astype(np.uint8))
        assert any("stretched to 0..255" in n for n in report.notes)
        assert report.clipped_high in (None, 0) and report.clipped_low in (None, 0)


class TestKernelSpecs:
    def test_kinds(self):
        assert medical.resolve_volume_kernel("gaussian:1.5mm").kind == "gaussian_mm"
        assert medical.resolve_volume_kernel("BOX:5MM").kind == "box_mm"
        assert medical.resolve_volume_kernel("gaussian:2vox").kind == "gaussian_vox"
        assert medical.resolve_volume_kernel("sobel_3d").kind == "3d"
        assert medical.resolve_volume_kernel("gaussian:1.5").kind == "2d"  # the catalogue's, slice by slice
        assert medical.resolve_volume_kernel("laplacian_4").kind == "2d"

    def test_errors_are_kernel_errors(self):
        for spec in ("gaussian:0mm", "gaussian:2cm", "box:2.5vox", "no_such_kernel"):
            with pytest.raises(InvalidKernel):
                medical.resolve_volume_kernel(spec)

    @needs_nibabel
    def test_axis_leaves_one_axis_alone(self, tmp_path):
        vol = medical.read_volume(PHANTOM)
        result, _ = medical.filter_volume(vol, medical.resolve_volume_kernel("gaussian:2mm"), medical.VolumeOptions(axis="z"))
        kz, ky, kx = volumes.gaussian_mm(2.0, vol.spacing)
        np.testing.assert_array_equal(result, volumes.correlate_separable(vol.data, (None, ky, kx), pad_mode="replicate"))
        with pytest.raises(UsageError, match="box_3d filters along every axis, so there is no axis to apply it across"):
            medical.filter_volume(vol, medical.resolve_volume_kernel("box_3d"), medical.VolumeOptions(axis="y"))

    @needs_nibabel
    def test_2d_kernel_per_slice(self):
        from kernelcli.api import conv2d
        from kernelcli.catalog import load_kernel

        vol = medical.read_volume(PHANTOM)
        result, notes = medical.filter_volume(vol, medical.resolve_volume_kernel("sobel_v"), medical.VolumeOptions(axis="y"))
        np.testing.assert_allclose(result[:, 20, :], conv2d(vol.data[:, 20, :], load_kernel("sobel_v"), pad_mode="replicate"), rtol=1e-6)
        assert "applied to each slice across y" in notes[0]


class TestInputsAndExtras:
    def test_is_volume_input(self, tmp_path):
        assert medical.is_volume_input("a.nii.gz") and medical.is_volume_input("b.NII") and medical.is_volume_input("c.dcm")
        assert not medical.is_volume_input(SAMPLES / "phantom.png")
        plain = tmp_path / "IM0001"
        plain.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
        assert medical.is_volume_input(plain)
        folder = tmp_path / "series"
        folder.mkdir()
        (folder / "notes.txt").write_text("x")
        assert not medical.is_volume_input(folder)
        plain.rename(folder / "IM0001")
        assert medical.is_volume_input(folder)
        assert medical.volume_stem("dir/ct.nii.gz") == "ct" and medical.volume_stem(folder) == "series"

    @pytest.mark.parametrize("module, path", [("nibabel", PHANTOM), ("pydicom", "x.dcm")])
    def test_missing_extra(self, module, path, tmp_path, monkeypatch):
        if str(path) == "x.dcm":
            path = tmp_path / "x.dcm"
            path.write_bytes(b"\0" * 132)
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(MissingExtra, match=r"pip install 'kernelcli\[medical\]'") as info:
            medical.read_volume(path)
        assert info.value.exit_code == 2

    def test_missing_extra_through_the_cli(self, runner, monkeypatch, tmp_path):
        from kernelcli.cli import app

        monkeypatch.setitem(sys.modules, "nibabel", None)
        result = runner.invoke(app, ["volume", str(PHANTOM), "--out", str(tmp_path / "o.nii.gz")])
        assert result.exit_code == 2
        assert "kernelcli[medical]" in result.output


class TestSamplePhantom:
    @needs_nibabel
    def test_sample_file_is_the_generated_phantom(self):
        import nibabel as nib

        assert PHANTOM.stat().st_size < 300_000
        vol = medical.read_volume(PHANTOM)
        np.testing.assert_array_equal(vol.data, medical.shepp_logan_3d((64, 64, 64)))
        assert vol.spacing == (1.0, 0.8, 0.8)
        assert set(np.unique(vol.data)) == {-1000, 10, 25, 40, 60, 75, 800}
        assert nib.load(PHANTOM).get_data_dtype() == np.int16

    def test_writing_is_deterministic(self, tmp_path):
        pytest.importorskip("nibabel")
        import gzip

        medical.write_phantom3d(tmp_path / "a.nii.gz")
        medical.write_phantom3d(tmp_path / "b.nii.gz")
        assert (tmp_path / "a.nii.gz").read_bytes() == (tmp_path / "b.nii.gz").read_bytes()
        # the deflate stream depends on the library (isal or zlib); the NIfTI inside does not
        assert gzip.decompress((tmp_path / "a.nii.gz").read_bytes()) == gzip.decompress(PHANTOM.read_bytes())


class TestVolumeCommand:
    @needs_nibabel
    @needs_pydicom
    def test_smooth_series_folder_to_nifti(self, tmp_path):
        import nibabel as nib

        make_series(tmp_path / "ct", [0.0, 2.5, 5.0, 7.5])
        result = run_in_process("volume", str(tmp_path / "ct"), "--kernel", "gaussian:1.5mm", "--out", str(tmp_path / "smooth.nii.gz"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(tmp_path / "smooth.nii.gz")
        assert "a 5x15x15 kernel" in result.stderr  # radius ceil(3*1.5/2.5)=2, ceil(3*1.5/0.661468)=7
        img = nib.load(tmp_path / "smooth.nii.gz")
        np.testing.assert_allclose(img.affine, medical.read_volume(tmp_path / "ct").affine)
        assert img.shape == (128, 128, 4)

    @needs_nibabel
    def test_json_and_exit_codes(self, tmp_path):
        result = run_in_process("volume", str(PHANTOM), "-k", "box:5mm", "-o", str(tmp_path / "b.npy"), "--json")
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["kernel"] == "box:5mm" and doc["spacing"] == [1.0, 0.8, 0.8] and doc["output_shape"] == [64, 64, 64]
        assert np.load(tmp_path / "b.npy").dtype == np.float32
        assert run_in_process("volume", str(PHANTOM), "-k", "box:5mm", "-o", str(tmp_path / "b.npy")).returncode == 4
        assert run_in_process("volume", str(PHANTOM), "-k", "nope_kernel", "-o", str(tmp_path / "c.npy")).returncode == 3
        bad = run_in_process("volume", str(PHANTOM), "--window", "wide", "-o", str(tmp_path / "c.png"))
        assert bad.returncode == 2 and "preset" in bad.stderr
        assert run_in_process("volume", str(tmp_path / "missing.nii.gz"), "-o", str(tmp_path / "d.png")).returncode == 2

    def test_help_lists_the_presets(self):
        result = run_in_process("volume", "--help")
        assert result.returncode == 0 and "soft-tissue (50,350)" in result.stdout


class TestConvolveDelegation:
    @needs_nibabel
    def test_one_kernel_same_padding(self, tmp_path):
        report = medical.convolve_volume_for_cli(PHANTOM, ["box_3d"], out=tmp_path / "b.nii.gz")
        assert report.kernel == "box_3d" and Path(report.output).is_file()
        expected = volumes.correlate_separable(medical.read_volume(PHANTOM).data, volumes.kernel_3d("box_3d").factors, pad_mode="replicate")
        np.testing.assert_allclose(medical.read_volume(tmp_path / "b.nii.gz").data, expected)

    def test_options_that_do_not_apply_are_named(self, tmp_path):
        with pytest.raises(UsageError, match="--stride, --padding not supported"):
            medical.convolve_volume_for_cli(PHANTOM, ["box_3d"], stride=2, padding="valid", out=tmp_path / "x.nii.gz")
        with pytest.raises(UsageError, match="--montage not supported"):
            medical.convolve_volume_for_cli(PHANTOM, ["box_3d"], unsupported={"--montage": True, "--bias": False})
        with pytest.raises(UsageError, match="at most one --kernel"):
            medical.convolve_volume_for_cli(PHANTOM, ["box_3d", "sobel_3d"])

    def test_the_extra_is_declared(self):
        import tomllib

        from conftest import REPO

        extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        assert {d.split(">")[0].split("=")[0] for d in extras["medical"]} == {"pydicom", "nibabel", "isal"}
