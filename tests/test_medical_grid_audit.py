"""The volume audit of 2026-12-05 (round 3): DICOM grids read as something they are not, silently.

A gantry tilt's sheared grid under kernels in mm, an ImageOrientationPatient of non-unit or skewed vectors,
a negative SpacingBetweenSlices, an enhanced file whose frames differ in PixelSpacing, and slice gaps that each
pass the tolerance but add up: each gave a result on a wrong geometry with exit 0.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical
from kernelcli.errors import ImageReadError

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("nibabel")
from test_medical import make_series  # noqa: E402
from test_medical_dicom import pydicom_data_file  # noqa: E402
from test_medical_geometry import multiframe  # noqa: E402


def set_tags(folder: Path, **tags) -> None:
    """Give every file of ``folder`` the same ``tags`` (keyword=value)."""
    for f in folder.iterdir():
        ds = pydicom.dcmread(f)
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        ds.save_as(f)


def tilted_series(folder: Path) -> None:
    """Slices 2.5 mm apart along z, each 1 mm further along y: a tilt of 21.8 degrees."""
    make_series(folder, [2.5 * n for n in range(6)])
    for f in folder.iterdir():
        ds = pydicom.dcmread(f)
        z = float(ds.ImagePositionPatient[2])
        ds.ImagePositionPatient = [float(ds.ImagePositionPatient[0]), float(ds.ImagePositionPatient[1]) + z / 2.5, z]
        ds.save_as(f)


class TestShearedGrid:
    @pytest.mark.parametrize("kernel", ["gaussian:2mm", "box:3mm", "gradient", "log:1.5mm"])
    def test_a_kernel_in_mm_on_a_tilted_series_is_refused(self, invoke, tmp_path, kernel):
        # gradient gave 10.67 units/mm on a ramp of 10, a 2 mm Gaussian a covariance with -1.38 off the diagonal
        tilted_series(tmp_path / "s")
        r = invoke("volume", str(tmp_path / "s"), "-k", kernel, "-o", str(tmp_path / "x.nii.gz"))
        assert r.exit_code == 2 and "voxel grid is sheared: its z and y axes are 21.8 degrees from perpendicular" in r.stderr, r.stderr
        assert not (tmp_path / "x.nii.gz").exists()

    @pytest.mark.parametrize("args", [["-k", "gaussian:1.5vox"], ["-k", "sobel_3d"], ["-k", "gaussian:2mm", "--axis", "z"]])
    def test_kernels_along_the_grid_or_within_the_slices_run(self, invoke, tmp_path, args):
        tilted_series(tmp_path / "s")
        r = invoke("volume", str(tmp_path / "s"), *args, "-o", str(tmp_path / "x.nii.gz"))
        assert r.exit_code == 0, r.stderr

    def test_a_perpendicular_oblique_grid_takes_kernels_in_mm(self, invoke, tmp_path):
        make_series(tmp_path / "s", [2.5 * n for n in range(6)])
        c, s = np.cos(0.3), np.sin(0.3)
        set_tags(tmp_path / "s", ImageOrientationPatient=[c, s, 0, -s, c, 0])
        r = invoke("volume", str(tmp_path / "s"), "-k", "gaussian:2mm", "-o", str(tmp_path / "x.nii.gz"))
        assert r.exit_code == 0, r.stderr


class TestOrientationVectors:
    @pytest.mark.parametrize(("iop", "said"), [
        ([2, 0, 0, 0, 1, 0], "lengths 2 and 1, 90 degrees apart"),  # filtered on 0.6 mm, written as 1.2 mm
        ([1, 0, 0, 0.2, 0.98, 0], "lengths 1 and 1, 78.47 degrees apart"),  # written as a sheared affine
    ])
    def test_non_unit_or_skewed_directions_are_refused(self, tmp_path, iop, said):
        make_series(tmp_path / "s", [0, 2.5, 5])
        set_tags(tmp_path / "s", ImageOrientationPatient=iop)
        with pytest.raises(ImageReadError, match=rf"ImageOrientationPatient \(.*\) is not two perpendicular unit vectors \({said}\)"):
            medical.read_volume(tmp_path / "s")

    def test_rounded_direction_cosines_are_read(self, tmp_path):
        make_series(tmp_path / "s", [0, 2.5, 5])
        set_tags(tmp_path / "s", ImageOrientationPatient=[0.99999, 0.00447, 0, -0.00447, 0.99999, 0])  # 5 digits
        assert medical.read_volume(tmp_path / "s").data.shape[0] == 3


def test_a_negative_spacing_between_slices_is_refused_where_it_places_the_frames(tmp_path):
    # frames without positions were stacked at SliceThickness (5 mm) where SimpleITK reads 3 mm against the normal
    multiframe(tmp_path / "mf.dcm", frames=4)
    ds = pydicom.dcmread(tmp_path / "mf.dcm")
    ds.SpacingBetweenSlices, ds.SliceThickness = -3.0, 5.0
    ds.save_as(tmp_path / "mf.dcm")
    with pytest.raises(ImageReadError, match=r"SpacingBetweenSlices is -3, and it alone places the slices here .*"
                                             r"\(-3 may mean 3 mm against the normal"):
        medical.read_volume(tmp_path / "mf.dcm")
    ds.SpacingBetweenSlices = 0.0  # (the review: a 0 was refused too, 'may mean 0 mm against the normal'; none: SliceThickness)
    ds.save_as(tmp_path / "mf.dcm")
    assert medical.read_volume(tmp_path / "mf.dcm").spacing[0] == pytest.approx(5.0)


def test_frames_of_one_file_with_other_pixel_spacings_are_refused(tmp_path):
    # a series of files with this mismatch was refused; one enhanced file was read on frame 1's spacing
    e = pydicom.dcmread(pydicom_data_file("eCT_Supplemental.dcm"))
    frame, shared = e.PerFrameFunctionalGroupsSequence[0], e.SharedFunctionalGroupsSequence[0]
    measures = shared.PixelMeasuresSequence
    measures[0].PixelSpacing, measures[0].SliceThickness = [0.8, 0.6], 2
    frames = []
    for i in range(4):
        f = copy.deepcopy(frame)
        f.PlanePositionSequence[0].ImagePositionPatient = [99.5, -301.5, -159.0 + 2 * i]
        f.PixelMeasuresSequence = copy.deepcopy(measures)
        if i >= 2:
            f.PixelMeasuresSequence[0].PixelSpacing = [1.6, 1.2]
        frames.append(f)
    del shared.PixelMeasuresSequence
    e.PerFrameFunctionalGroupsSequence, e.NumberOfFrames, e.Rows, e.Columns = frames, 4, 16, 20
    e.BitsAllocated, e.BitsStored, e.HighBit, e.PixelRepresentation = 16, 16, 15, 1
    e.PixelData = np.zeros((4, 16, 20), np.int16).tobytes()
    e.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    e.save_as(tmp_path / "mf.dcm", enforce_file_format=False)
    with pytest.raises(ImageReadError, match=r"frame 3's PixelSpacing 1\.6\\1\.2 differs from frame 1's 0\.8\\0\.6 \(PixelMeasuresSequence\)"):
        medical.read_volume(tmp_path / "mf.dcm")


def test_gaps_that_add_up_are_refused_then_resampled(tmp_path):
    # 20 gaps of 2.4775 mm, then 20 of 2.5225: each within 1% of the median, slice 20 0.45 mm off the even grid
    positions = np.cumsum([0] + [2.4775] * 20 + [2.5225] * 20)
    make_series(tmp_path / "s", positions.tolist())
    with pytest.raises(ImageReadError, match=r"the slices drift from an even grid: .* is 0\.45 mm from where an even spacing "
                                             r"of 2\.5 mm .*resample_slices=True interpolates linearly along the normal onto 41"):
        medical.read_volume(tmp_path / "s")
    vol = medical.read_volume(tmp_path / "s", resample_slices=True)
    assert vol.data.shape[0] == 41 and vol.spacing[0] == pytest.approx(2.5)


def test_keep_dtype_says_why_a_dicom_stays_float(invoke, tmp_path):
    # the note said 'not integers in the file, or not after its rescale slope' of whole numbers past int16's range
    make_series(tmp_path / "s", [0, 2.5, 5], intercept=32000)  # values up to 34000: float32
    r = invoke("volume", str(tmp_path / "s"), "-k", "gaussian:1vox", "--keep-dtype", "-o", str(tmp_path / "x.nii.gz"), "--json")
    assert r.exit_code == 0, r.stderr
    assert any("after its rescale not whole numbers within int16's range" in n for n in __import__("json").loads(r.stdout)["notes"])


def test_a_volume_kernel_given_one_image_names_the_image(invoke, tmp_path):
    # a batch's record named the file; one image alone was told 'gaussian:2mm: a size in mm is for a volume input'
    from conftest import SAMPLES

    r = invoke("volume", str(SAMPLES / "phantom.png"), "-k", "gaussian:2mm", "-o", str(tmp_path / "x.png"))
    assert r.exit_code == 3 and f"{SAMPLES / 'phantom.png'}: gaussian:2mm: a size in mm is for a volume input" in r.stderr, r.stderr


def test_a_folder_or_pattern_of_dicom_series_alone_says_what_it_passed_over(invoke, tmp_path):
    # 'no supported input files in this folder' / 'none a supported input file', where a folder with an image beside
    # the series named it: 'not read: scans/ct, 3 DICOM files: a DICOM series is one volume ...'
    # (a folder: its series folders named, as a study folder's are since audit 203 #1)
    make_series(tmp_path / "scans" / "ct", [0, 2.5, 5])
    for args, said in ((["scans", "--recursive"], "DICOM files are in scans/ct (3): give that folder, alone, without --out-dir"),
                       (["scans/**/*.dcm"], "; not read: scans/ct, 3 DICOM files: a DICOM series is one volume")):
        r = invoke("pool", *args, "-f", "2", "-d", "out")  # (invoke runs in tmp_path)
        assert r.exit_code == 2 and said in r.stderr, r.stderr


def test_direction_cosines_to_three_decimals_take_kernels_in_mm(invoke, tmp_path):
    # the review: an oblique ImageOrientationPatient written to 3 decimals passed its own check (cosine 0.001) and the
    # shear check (0.01 degrees) refused it: 'y and x axes 0.0323 degrees from perpendicular ... or --axis y'
    row, col = np.array([0.866, 0.5, 0.0]), np.array([-0.354, 0.612, 0.707])
    normal = np.cross(row, col) / np.linalg.norm(np.cross(row, col))
    make_series(tmp_path / "s", [2.5 * n for n in range(6)])
    for f in sorted((tmp_path / "s").iterdir()):
        ds = pydicom.dcmread(f)
        n = float(ds.ImagePositionPatient[2]) / 2.5
        ds.ImageOrientationPatient = [*row, *col]
        ds.ImagePositionPatient = np.round(np.array([-100.0, -50.0, 20.0]) + 2.5 * n * normal, 3).tolist()
        ds.save_as(f)
    for kernel in ("gaussian:2mm", "gradient"):
        r = invoke("volume", str(tmp_path / "s"), "-k", kernel, "-o", str(tmp_path / "x.nii.gz"), "--force")
        assert r.exit_code == 0, r.stderr
