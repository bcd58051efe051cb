"""Audit 104 (DICOM readers, volume geometry): what a DICOM folder or series read got wrong or said badly.

Each class reproduces one finding on copies of pydicom's own ``CT_small.dcm`` (never downloaded); the
exact values are computed here by hand, in int64 or float64, and the NIfTI reader of the same voxels
is the second reference.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import documentation  # noqa: E402
from test_medical import pydicom_file  # noqa: E402

BIG = 2**24 + 1  # the first whole number float32 cannot hold


def u32_series(folder: Path, *, n: int = 6, gap: float = 2.5, drop: tuple[int, ...] = (), slope: float = 1,
               intercept: float = 0, offset: int = BIG, times: int = 10000) -> np.ndarray:
    """A PT series of ``n`` uint32 slices (CT_small's pixels x ``times`` + ``offset`` + k), slices ``drop`` left out;
    returns the stored values of every slice (``drop`` too), (n, 128, 128) int64."""
    base = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for k in range(n):
        raw = base.pixel_array.astype(np.uint32) * times + offset + k
        stored.append(raw.astype(np.int64))
        if k in drop:
            continue
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.InstanceNumber = "1.2.3.104", f"1.2.3.104.{k + 1}", k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-100.0, -120.0, 50.0 + gap * k]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
        ds.PixelData = raw.tobytes()
        ds.RescaleSlope, ds.RescaleIntercept, ds.Modality = slope, intercept, "PT"
        ds.save_as(folder / f"IM{k:03d}.dcm")
    return np.stack(stored)


class TestThirtyTwoBitDicomIsExact:
    """Finding 1: a 32-bit DICOM series was read into float32, so whole numbers past 2**24 changed in silence (a max
    pool gave 38687224, a value not in the input); the same voxels as an int32 NIfTI came out exact."""

    def test_whole_values_are_read_exactly_as_int32(self, tmp_path):
        truth = u32_series(tmp_path / "s")
        vol = medical.read_volume(tmp_path / "s")
        assert vol.data.dtype == np.int32
        np.testing.assert_array_equal(vol.data.astype(np.int64), truth)
        assert not any("float64" in n for n in vol.notes)

    def test_max_pool_picks_input_values_as_the_nifti_path_does(self, invoke, tmp_path):
        truth = u32_series(tmp_path / "s")
        nib.Nifti1Image(truth.astype(np.int32).transpose(2, 1, 0), np.diag([-0.661468, -0.661468, 2.5, 1])).to_filename(
            tmp_path / "u32.nii.gz")
        exact = truth.reshape(3, 2, 64, 2, 64, 2).max(axis=(1, 3, 5))
        for name, given in (("dicom", "s"), ("nifti", "u32.nii.gz")):
            r = invoke("pool", given, "-f", 2, "-o", f"{name}.npy", "--json", "-q")
            assert r.exit_code == 0, r.output
            record = json.loads(r.stdout)
            assert record["maximum"] == int(truth.max()) and record["dtype"] == "int32"
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy").astype(np.int64), exact)

    def test_identity_convolution_keeps_every_value(self, invoke, tmp_path):
        truth = u32_series(tmp_path / "s")
        r = invoke("convolve", "s", "-k", "identity", "-o", "id.npy", "-q")
        assert r.exit_code == 0, r.output
        out = np.load(tmp_path / "id.npy")
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, truth.astype(np.float64))

    def test_a_rescale_float32_would_round_is_float64_with_a_note(self, tmp_path):
        truth = u32_series(tmp_path / "s", n=3, slope=0.5, intercept=0, offset=2**30)
        vol = medical.read_volume(tmp_path / "s")
        assert vol.data.dtype == np.float64
        np.testing.assert_array_equal(vol.data, truth * 0.5)
        assert any("32-bit stored values with their rescale are read and filtered as float64" in n for n in vol.notes)

    def test_a_rescale_float32_holds_stays_float32(self, tmp_path):
        truth = u32_series(tmp_path / "s", n=3, slope=0.25, intercept=-10, offset=0, times=1)  # below 2**21
        vol = medical.read_volume(tmp_path / "s")
        assert vol.data.dtype == np.float32
        np.testing.assert_array_equal(vol.data, (truth * 0.25 - 10).astype(np.float32))

    def test_resampled_slices_are_exact_averages(self, tmp_path):
        truth = u32_series(tmp_path / "s", n=5, drop=(2,))
        vol = medical.read_volume(tmp_path / "s", resample_slices=True)
        assert vol.data.dtype == np.float64 and vol.data.shape == (5, 128, 128)
        expected = truth.astype(np.float64)
        expected[2] = (expected[1] + expected[3]) / 2
        np.testing.assert_array_equal(vol.data, expected)

    def test_sixteen_bit_series_stay_int16_or_float32(self, tmp_path):
        src = pydicom_file("CT_small.dcm")
        vol = medical.read_volume(src)
        assert vol.data.dtype == np.int16

    def test_the_readme_says_so(self):
        readme = documentation()
        assert "int32 for 32-bit stored integers past int16" in readme


def ct_series(folder: Path, n: int = 4, tweak=None) -> None:
    """``n`` copies of CT_small.dcm as one axial series 2.5 mm apart; ``tweak(ds, k)`` changes slice k's header."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.InstanceNumber = "1.2.3.105", f"1.2.3.105.{k + 1}", k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-100.0, -120.0, 50.0 + 2.5 * k]
        if tweak:
            tweak(ds, k)
        ds.save_as(folder / f"IM{k:03d}.dcm")


class TestMismatchMessagesGiveBothValues:
    """Finding 4: 'IM003.dcm: PixelSpacing None differs from IM000.dcm's (0.661468, 0.661468)' (a Python None and
    tuple), and 'ImageOrientationPatient differs from IM000.dcm's' without either value."""

    def refusal(self, folder: Path) -> str:
        from kernelcli.errors import ImageReadError

        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(folder)
        return str(caught.value)

    def test_a_slice_without_pixel_spacing(self, tmp_path):
        def drop(ds, k):
            if k == 3:
                del ds.PixelSpacing
        ct_series(tmp_path / "s", tweak=drop)
        said = self.refusal(tmp_path / "s")
        assert said == f"{tmp_path / 's' / 'IM003.dcm'}: no PixelSpacing, but IM000.dcm has 0.661468\\0.661468: not one volume"

    def test_a_first_slice_without_pixel_spacing(self, tmp_path):
        def drop(ds, k):
            if k == 0:
                del ds.PixelSpacing
        ct_series(tmp_path / "s", tweak=drop)
        said = self.refusal(tmp_path / "s")
        assert said == f"{tmp_path / 's' / 'IM001.dcm'}: PixelSpacing 0.661468\\0.661468, but IM000.dcm has none: not one volume"

    def test_differing_pixel_spacing_gives_both_as_dicom_writes_them(self, tmp_path):
        def other(ds, k):
            if k == 2:
                ds.PixelSpacing = [0.5, 0.8]
        ct_series(tmp_path / "s", tweak=other)
        said = self.refusal(tmp_path / "s")
        assert said.endswith("IM002.dcm: PixelSpacing 0.5\\0.8 differs from IM000.dcm's 0.661468\\0.661468: not one volume")
        assert "None" not in said and "(" not in said

    def test_differing_orientation_gives_both(self, tmp_path):
        def tilt(ds, k):
            if k == 3:
                ds.ImageOrientationPatient = [1, 0, 0, 0, 0.9999, 0.0141]
        ct_series(tmp_path / "s", tweak=tilt)
        said = self.refusal(tmp_path / "s")
        assert said.endswith("IM003.dcm: ImageOrientationPatient 1\\0\\0\\0\\0.9999\\0.0141 differs from IM000.dcm's "
                             "1\\0\\0\\0\\1\\0: not one volume")

    def test_a_slice_without_orientation(self, tmp_path):
        def drop(ds, k):
            if k == 1:
                del ds.ImageOrientationPatient
        ct_series(tmp_path / "s", tweak=drop)
        said = self.refusal(tmp_path / "s")
        assert said.endswith("IM001.dcm: no ImageOrientationPatient, but IM000.dcm has 1\\0\\0\\0\\1\\0: not one volume")

    def test_frames_of_one_file_without_pixel_spacing(self, tmp_path):
        ds = multiframe(tmp_path / "mf.dcm", frames=3)
        del ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence  # frames 1 and 2 get their own, frame 3 none
        ds.PerFrameFunctionalGroupsSequence[0].PixelMeasuresSequence = _measures(0.8, 0.6)
        ds.PerFrameFunctionalGroupsSequence[1].PixelMeasuresSequence = _measures(0.8, 0.6)
        ds.save_as(tmp_path / "mf.dcm")
        said = self.refusal(tmp_path / "mf.dcm")
        assert said == (f"{tmp_path / 'mf.dcm'}: frame 3 has no PixelSpacing, but frame 1 has 0.8\\0.6 "
                        "(PixelMeasuresSequence): not one volume")

    def test_frames_of_one_file_with_another_orientation(self, tmp_path):
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence

        ds = multiframe(tmp_path / "mf.dcm", frames=3)
        orient = Dataset()
        orient.ImageOrientationPatient = [1, 0, 0, 0, 0.9999, 0.0141]
        ds.PerFrameFunctionalGroupsSequence[1].PlaneOrientationSequence = Sequence([orient])
        ds.save_as(tmp_path / "mf.dcm")
        said = self.refusal(tmp_path / "mf.dcm")
        assert said == (f"{tmp_path / 'mf.dcm'}: frame 2's ImageOrientationPatient 1\\0\\0\\0\\0.9999\\0.0141 differs from "
                        "frame 1's 1\\0\\0\\0\\1\\0 (PlaneOrientationSequence): not one volume")


def _measures(*spacing: float):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.PixelSpacing = list(spacing)
    item.SliceThickness = 2.5
    return Sequence([item])


def multiframe(path: Path, frames: int = 3):
    """An enhanced multi-frame file of ``frames`` frames 2.5 mm apart (CT_small's pixels + 10 k), written to ``path``."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    base = ds.pixel_array.astype(np.int16)
    ds.NumberOfFrames = frames
    ds.PixelData = np.stack([base + 10 * k for k in range(frames)]).astype(np.int16).tobytes()
    shared = Dataset()
    orient = Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelMeasuresSequence = _measures(0.661468, 0.661468)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for k in range(frames):
        item, plane = Dataset(), Dataset()
        plane.ImagePositionPatient = [-100.0, -120.0, 50.0 + 2.5 * k]
        item.PlanePositionSequence = Sequence([plane])
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    for tag in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        if tag in ds:
            delattr(ds, tag)
    ds.save_as(path)
    return ds


class TestOneMultiFrameFileInAFolder:
    """Finding 3: a folder holding one multi-frame file (an RT Dose, an enhanced CT) was refused as '15 frames in one
    file of a series; expected one slice per file' (exit 2), after decoding it, though the file reads given alone."""

    @pytest.mark.parametrize("name", ["rtdose.dcm", "enhanced"])
    def test_the_folder_reads_as_its_file(self, tmp_path, name):
        folder = tmp_path / "d"
        folder.mkdir()
        if name == "enhanced":
            multiframe(folder / "mf.dcm", frames=4)
            given = folder / "mf.dcm"
        else:
            given = folder / name
            shutil.copy(pydicom_file(name), given)
        alone, in_folder = medical.read_volume(given), medical.read_volume(folder)
        assert in_folder.data.shape == alone.data.shape and in_folder.data.shape[0] > 1
        np.testing.assert_array_equal(in_folder.data, alone.data)
        np.testing.assert_array_equal(in_folder.affine, alone.affine)
        assert in_folder.spacing == alone.spacing and in_folder.units == alone.units
        assert in_folder.notes == alone.notes

    def test_the_command_line_reads_the_folder(self, invoke, tmp_path):
        (tmp_path / "rtdir").mkdir()
        shutil.copy(pydicom_file("rtdose.dcm"), tmp_path / "rtdir" / "rtdose.dcm")
        r = invoke("convolve", "rtdir", "-k", "gaussian:5mm", "-o", "rt.nii.gz", "--json", "-q")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["input_shape"] == [15, 10, 10]

    def test_skipped_files_beside_it_are_still_noted(self, tmp_path):
        multiframe(tmp_path / "mf.dcm", frames=3)
        (tmp_path / "readme.txt").write_text("not DICOM")
        vol = medical.read_volume(tmp_path)
        assert vol.data.shape == (3, 128, 128)
        assert any("skipped 1 file(s) that are not DICOM images (readme.txt)" in n for n in vol.notes)

    def test_multi_frame_files_of_a_series_are_refused_before_decoding(self, tmp_path, monkeypatch):
        from kernelcli.errors import ImageReadError
        from kernelcli.medical import series

        for k in range(2):
            ds = multiframe(tmp_path / f"mf{k}.dcm", frames=3)
            ds.SeriesInstanceUID = "1.2.3.106"
            ds.SOPInstanceUID = f"1.2.3.106.{k}"  # (two files, two instances: one instance twice is a copy, bbe0edc)
            ds.save_as(tmp_path / f"mf{k}.dcm")

        def decoded(*args, **kwargs):
            raise AssertionError("pixel data decoded")

        monkeypatch.setattr(series, "_pixels", decoded)
        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(tmp_path)
        assert str(caught.value) == (
            f"{tmp_path / 'mf0.dcm'}: 3 frames in one of the series' 2 files; expected one slice per file "
            f"(a multi-frame file is a volume of its own: give it alone, as {tmp_path / 'mf0.dcm'})")

    def test_the_readme_says_so(self):
        readme = " ".join(documentation().split())
        assert "a folder whose series is one multi-frame file is that file's volume" in readme


class TestSubFoldersAreNamed:
    """Finding 2: a folder holding one stray DICOM file and a series in a sub-folder was read as a 1-slice volume, the
    sub-folder passed over without a note; with only a DICOMDIR on top the refusal 'no DICOM images in this folder'
    did not say where the images were."""

    def test_a_series_in_a_sub_folder_is_noted(self, invoke, tmp_path):
        ct_series(tmp_path / "par" / "s_plain", n=6)
        shutil.copy(pydicom_file("CT_small.dcm"), tmp_path / "par" / "CT_small.dcm")
        r = invoke("convolve", "par", "-k", "box:3", "-o", "par.nii.gz", "--json")
        assert r.exit_code == 0, r.output
        record = json.loads(r.stdout)
        assert record["input_shape"] == [1, 128, 128]  # the folder's own file, as before
        note = (f"par: sub-folders not read (a series is read from one folder's own files): DICOM files are in "
                f"{Path('par') / 's_plain'} (6): give that folder")
        assert note in record["notes"]
        assert note in r.stderr

    def test_several_sub_folders_are_listed(self, tmp_path):
        ct_series(tmp_path / "par" / "a", n=2)
        ct_series(tmp_path / "par" / "b", n=3)
        (tmp_path / "par" / "empty").mkdir()
        shutil.copy(pydicom_file("CT_small.dcm"), tmp_path / "par" / "CT_small.dcm")
        vol = medical.read_volume(tmp_path / "par")
        par = tmp_path / "par"
        assert (f"par: sub-folders not read (a series is read from one folder's own files): DICOM files are in "
                f"{par / 'a'} (2), {par / 'b'} (3): give one of those folders") in vol.notes

    def test_no_note_without_dicom_in_sub_folders(self, tmp_path):
        ct_series(tmp_path / "s", n=3)
        (tmp_path / "s" / "other").mkdir()
        (tmp_path / "s" / "other" / "a.txt").write_text("x")
        vol = medical.read_volume(tmp_path / "s")
        assert not any("not read" in n for n in vol.notes)

    def test_a_dicomdir_on_top_names_where_the_images_are(self, invoke, tmp_path):
        ct_series(tmp_path / "par3" / "patient" / "s_plain", n=6)
        dicomdir = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "DICOMDIR"
        if not dicomdir.is_file():
            pytest.skip("pydicom does not ship dicomdirtests/DICOMDIR")
        shutil.copy(dicomdir, tmp_path / "par3" / "DICOMDIR")
        r = invoke("convolve", "par3", "-k", "box:3", "-o", "x.nii.gz")
        assert r.exit_code == 2, r.output
        where = Path("par3") / "patient" / "s_plain"
        assert (f"error: par3: no DICOM images in this folder (a series is read from one folder's own files); DICOM "
                f"files are in {where} (6): give that folder") in r.stderr

    def test_the_readme_says_so(self):
        readme = " ".join(documentation().split())
        assert "sub-folders holding DICOM files are named in a note" in readme
