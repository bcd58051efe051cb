"""Audit 8, the medical inputs: geometry and values never read by a guess without a word.

1. a multi-frame DICOM without per-frame groups was placed at (0, 0, 0), its ImagePositionPatient ignored;
2. a position never measured (no ImagePositionPatient) was written as scanner space (codes 1);
3. a NaN ImagePositionPatient sorted anywhere (exit 0, slices misordered) or crashed (exit 70);
4. a PixelSpacing, ImagePositionPatient or ImageOrientationPatient that is not numbers crashed (exit 70);
5. a NIfTI whose sform is singular or NaN was read silently or crashed;
6. pixdim and the affine giving two voxel sizes (or a pixdim of 0 or -2 that nibabel repairs) sized mm kernels silently;
7. a RescaleSlope that is not a number, or 0, was taken as 1;
8. ``log:2vox`` was refused as sized in mm;
9. a degenerate ImageOrientationPatient was reported as "the same slice position";
10. nibabel's log line escaped ``-q``; a truncated ``.nii`` gave a two-line error; an ImagePositionPatient of
    2 values was "no ImagePositionPatient";
11. pooling kept the slice timing of the old grid;
12. ``--keep-dtype`` did not give back a scaled int32 NIfTI near 2**30;
13. a series without positions whose InstanceNumbers repeat, or are missing from some files, was stacked in a
    guessed order (ties and gaps in file-name order) under a note saying "sorted by InstanceNumber";
14. a PixelSpacing of 0\\0 was noted as "no PixelSpacing".

Every input is built in ``tmp_path`` from the files pydicom and nibabel ship; each test skips without them.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from kernelcli import medical  # noqa: E402
from kernelcli.errors import ImageReadError, UsageError  # noqa: E402
from test_medical import make_series, nibabel_file, pydicom_file  # noqa: E402
from test_medical_audit import one_line_error  # noqa: E402


def put_raw(path: Path, keyword: str, value: bytes) -> None:
    """Store ``value`` as the bytes of ``keyword`` in the file at ``path``, as a broken writer would (pydicom refuses
    to set a DS that is not a number)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.datadict import dictionary_VR, tag_for_keyword
    from pydicom.tag import Tag

    ds = pydicom.dcmread(path)
    tag = tag_for_keyword(keyword)
    value += b" " * (len(value) % 2)
    ds[tag] = RawDataElement(Tag(tag), dictionary_VR(tag), len(value), value, 0, False, True)
    ds.save_as(path)


def first_file(folder: Path) -> Path:
    return sorted(folder.iterdir())[0]


def multiframe(path: Path, frames: int = 5, *, position: bool = True) -> np.ndarray:
    """A legacy multi-frame CT (no functional groups): one ImagePositionPatient (100, -50, 20), identity
    orientation, 0.5 x 0.8 mm pixels, SpacingBetweenSlices 3; returns the stored frames."""
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    stored = np.random.default_rng(0).integers(0, 2000, size=(frames, 16, 20)).astype(np.int16)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 16, 20, frames
    ds.PixelSpacing, ds.SpacingBetweenSlices, ds.SliceThickness = [0.5, 0.8], 3.0, 3.0
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if position:
        ds.ImagePositionPatient = [100, -50, 20]
    else:
        del ds.ImagePositionPatient
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = stored.astype("<i2").tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return stored


def codes(path: Path) -> tuple[int, int]:
    h = nib.load(path).header
    return int(h["qform_code"]), int(h["sform_code"])


class TestPositions:
    """Items 1, 2, 3 and 10c."""

    def test_multiframe_without_per_frame_groups_starts_at_its_position(self, tmp_path):
        stored = multiframe(tmp_path / "mf.dcm")
        vol = medical.read_volume(tmp_path / "mf.dcm")
        np.testing.assert_array_equal(vol.data, stored.astype(np.int32) - 1024)
        # LPS (100, -50, 20) is RAS (-100, 50, 20); frames 3 mm apart along the normal (+z)
        np.testing.assert_allclose(vol.affine, [[-0.8, 0, 0, -100], [0, -0.5, 0, 50], [0, 0, 3, 20], [0, 0, 0, 1]], atol=1e-9)
        assert vol.position_unknown is None and not any("no ImagePositionPatient" in n for n in vol.notes), vol.notes
        assert any("frames stacked in frame order from ImagePositionPatient" in n for n in vol.notes), vol.notes
        medical.convolve_volume_file(tmp_path / "mf.dcm", None, out=tmp_path / "mf.nii.gz")
        assert codes(tmp_path / "mf.nii.gz") == (1, 1)

    def test_multiframe_matches_simpleitk(self, tmp_path):
        sitk = pytest.importorskip("SimpleITK")
        sitk.ProcessObject_SetGlobalWarningDisplay(False)
        multiframe(tmp_path / "mf.dcm")
        img = sitk.ReadImage(str(tmp_path / "mf.dcm"))
        lps = np.eye(4)
        lps[:3, :3] = np.array(img.GetDirection()).reshape(3, 3) @ np.diag(img.GetSpacing())
        lps[:3, 3] = img.GetOrigin()
        np.testing.assert_allclose(medical.read_volume(tmp_path / "mf.dcm").affine, np.diag([-1.0, -1, 1, 1]) @ lps, atol=1e-6)

    def test_one_file_without_position_is_written_with_codes_0(self, tmp_path):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        del ds.ImagePositionPatient
        ds.save_as(tmp_path / "one.dcm")
        vol = medical.read_volume(tmp_path / "one.dcm")
        assert vol.position_unknown == "no ImagePositionPatient" and vol.orientation_unknown is None
        assert any("one.dcm: no ImagePositionPatient: the position is unknown" in n for n in vol.notes), vol.notes
        medical.convolve_volume_file(tmp_path / "one.dcm", None, out=tmp_path / "one.nii.gz")
        assert codes(tmp_path / "one.nii.gz") == (0, 0)  # was (1, 1): "scanner" space nobody measured

    @pytest.mark.parametrize("kind", ["series", "multiframe"])
    def test_slices_without_any_position_are_written_with_codes_0(self, tmp_path, kind):
        if kind == "series":
            make_series(tmp_path / "in", [0, 1, 2, 3], drop_position=True)
        else:
            multiframe(tmp_path / "in", position=False)
        vol = medical.read_volume(tmp_path / "in")
        assert vol.position_unknown == "no ImagePositionPatient"
        assert any("the position is unknown" in n for n in vol.notes), vol.notes
        medical.pool_volume_file(tmp_path / "in", 2, out=tmp_path / "p.nii.gz")
        assert codes(tmp_path / "p.nii.gz") == (0, 0)

    @pytest.mark.parametrize("output", ["x.npy", "x.nii.gz", "x.png"])
    def test_a_nan_position_is_refused_naming_the_file_and_tag(self, tmp_path, output):
        make_series(tmp_path / "s", [0.0, 3.0, 6.0, 9.0])
        victim = first_file(tmp_path / "s")
        put_raw(victim, "ImagePositionPatient", b"0\\0\\nan")
        with pytest.raises(ImageReadError, match=f"{victim.name}: ImagePositionPatient is '0\\\\0\\\\nan', not finite"):
            medical.read_volume(tmp_path / "s")
        r = run_in_process("volume", "s", "-o", output, cwd=tmp_path)  # .npy: exit 0, slices misordered, before
        one_line_error(r, [victim.name, "ImagePositionPatient", "not finite"])

    def test_a_position_of_two_values_says_so(self, tmp_path):
        make_series(tmp_path / "s", [0.0, 3.0, 6.0])
        victim = first_file(tmp_path / "s")
        put_raw(victim, "ImagePositionPatient", b"1\\2")
        with pytest.raises(ImageReadError, match=f"{victim.name}: ImagePositionPatient has 2 values \\(1\\\\2\\); expected 3 numbers"):
            medical.read_volume(tmp_path / "s")


def renumber(folder: Path, numbers) -> dict[int, str]:
    """Give make_series' slice n the InstanceNumber numbers[n] (None deletes it); returns each slice's file name."""
    names = {}
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        n = int(str(ds.SOPInstanceUID).rsplit(".", 1)[1]) - 1
        names[n] = path.name
        if numbers[n] is None:
            del ds.InstanceNumber
        else:
            with warnings.catch_warnings():  # '2.5' is not a valid IS: pydicom warns, and writes it
                warnings.simplefilter("ignore")
                ds.InstanceNumber = numbers[n]
        ds.save_as(path)
    return names


class TestInstanceNumberOrder:
    """Item 13: without positions, the order by InstanceNumber is taken only when it is an order."""

    @pytest.mark.parametrize("numbers, words", [
        ([1, 2, 2, 3], ["{1} and {2} have the same InstanceNumber (2)", "their order is unknown"]),
        ([1, 2, None, 4], ["1 of 4 slices have no InstanceNumber ({2})", "their order is unknown"]),
    ])
    def test_repeated_or_missing_numbers_are_refused(self, tmp_path, numbers, words):
        make_series(tmp_path / "s", [0, 1, 2, 3], drop_position=True)
        names = renumber(tmp_path / "s", numbers)
        if names[1] > names[2]:  # the message names the two in file-name order
            words = [w.replace("{1} and {2}", "{2} and {1}") for w in words]
        words = [w.format(*[names[n] for n in range(4)]) for w in words]
        with pytest.raises(ImageReadError, match="ImagePositionPatient and ImageOrientationPatient are not in every file"):
            medical.read_volume(tmp_path / "s")
        r = run_in_process("volume", "s", "-k", "gaussian:1vox", "-o", "x.nii.gz", cwd=tmp_path)
        one_line_error(r, words)
        assert not (tmp_path / "x.nii.gz").exists()

    def test_positions_without_orientation_are_no_order_either(self, tmp_path):
        make_series(tmp_path / "s", [0.0, 2.5, 5.0])
        renumber(tmp_path / "s", [4, 4, 5])
        for path in (tmp_path / "s").iterdir():
            ds = pydicom.dcmread(path)
            del ds.ImageOrientationPatient
            ds.save_as(path)
        with pytest.raises(ImageReadError, match="have the same InstanceNumber"):
            medical.read_volume(tmp_path / "s")

    def test_some_positions_missing_are_refused_for_the_positions_whatever_the_numbers(self, tmp_path):
        """Repeated numbers were blamed (and a distinct InstanceNumber advised, which could not help) where
        the series is refused for a slice without a position, as it was before."""
        make_series(tmp_path / "s", [0.0, 2.5, 5.0])
        names = renumber(tmp_path / "s", [7, 7, 8])
        ds = pydicom.dcmread(tmp_path / "s" / names[0])
        del ds.ImagePositionPatient
        ds.save_as(tmp_path / "s" / names[0])
        with pytest.raises(ImageReadError, match=rf"1 of 3 slices have no ImagePositionPatient \({names[0]}\)"):
            medical.read_volume(tmp_path / "s")

    def test_numbers_are_compared_as_numbers(self, tmp_path):
        """'2.5' (not a valid IS, but in files) lies between 2 and 4; '10' after '9' (not as text)."""
        expected = make_series(tmp_path / "s", [0, 1, 2, 3], drop_position=True)
        renumber(tmp_path / "s", [10, 2, "2.5", 9])
        vol = medical.read_volume(tmp_path / "s")
        np.testing.assert_array_equal(vol.data, expected[[1, 2, 3, 0]])
        assert any("sorted by InstanceNumber" in n for n in vol.notes), vol.notes

    def test_no_numbers_at_all_take_the_file_names_with_a_note(self, tmp_path):
        expected = make_series(tmp_path / "s", [0, 1, 2], drop_position=True)
        names = renumber(tmp_path / "s", [None, None, None])
        vol = medical.read_volume(tmp_path / "s")
        np.testing.assert_array_equal(vol.data, expected[sorted(range(3), key=names.get)])
        assert any("sorted by file name" in n for n in vol.notes), vol.notes


class TestMalformedTags:
    """Items 4, 7 and 9: a value that is there but not what its tag holds is refused naming the file and the tag."""

    @pytest.mark.parametrize("keyword, value, words", [
        ("PixelSpacing", b"abc\\def", ["PixelSpacing is 'abc\\def', not numbers"]),
        ("ImagePositionPatient", b"a\\b\\c", ["ImagePositionPatient is 'a\\b\\c', not numbers"]),
        ("ImageOrientationPatient", b"1\\0\\0\\0\\x\\0", ["ImageOrientationPatient is '1\\0\\0\\0\\x\\0', not numbers"]),
        ("RescaleSlope", b"x", ["RescaleSlope is 'x', not a number"]),
        ("RescaleSlope", b"NaN", ["RescaleSlope is 'NaN', not finite"]),
        ("RescaleSlope", b"0", ["RescaleSlope is 0; expected a non-zero number"]),
        ("RescaleIntercept", b"inf", ["RescaleIntercept is 'inf', not finite"]),
        ("ImageOrientationPatient", b"0\\0\\0\\0\\0\\0", ["ImageOrientationPatient (0\\0\\0\\0\\0\\0) is degenerate"]),
        ("ImageOrientationPatient", b"1\\0\\0\\1\\0\\0", ["ImageOrientationPatient (1\\0\\0\\1\\0\\0) is degenerate"]),
    ], ids=["spacing-text", "position-text", "orientation-text", "slope-text", "slope-nan", "slope-0", "intercept-inf",
            "orientation-zero", "orientation-parallel"])
    def test_exit_2_naming_the_file_and_the_tag(self, tmp_path, keyword, value, words):
        make_series(tmp_path / "s", [0.0, 3.0, 6.0])
        for path in (tmp_path / "s").iterdir():
            put_raw(path, keyword, value)
        with pytest.raises(ImageReadError, match=f"{first_file(tmp_path / 's').name}: {keyword}"):
            medical.read_volume(tmp_path / "s")
        r = run_in_process("volume", "s", "-o", "x.nii.gz", cwd=tmp_path)
        one_line_error(r, [first_file(tmp_path / "s").name, *words])
        assert not (tmp_path / "x.nii.gz").exists()

    @pytest.mark.parametrize("value", [b"0\\0", b"-0.5\\0.5"])
    def test_a_spacing_that_is_not_positive_is_named_as_it_is(self, tmp_path, value):
        """It was "no PixelSpacing; assuming 1 mm", for a tag that is there."""
        make_series(tmp_path / "s", [0.0, 3.0])
        for path in (tmp_path / "s").iterdir():
            put_raw(path, "PixelSpacing", value)
        vol = medical.read_volume(tmp_path / "s")
        said = f"PixelSpacing {value.decode()} is not positive"
        assert vol.spacing_assumed == said and any(f"{said}; assuming 1 mm" in n for n in vol.notes), vol.notes
        r = run_in_process("volume", "s", "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
        one_line_error(r, [f"not in the file ({said}; 1 mm was assumed)"])

    def test_a_frame_spacing_that_is_not_positive_is_named_too(self, tmp_path):
        """An enhanced multi-frame file's PixelSpacing is in its frames' functional groups."""
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence

        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        raw = ds.pixel_array.astype(np.int16)
        ds.NumberOfFrames = 2
        ds.PixelData = np.stack([raw, raw + 5]).tobytes()
        del ds.PixelSpacing
        frames = []
        for n in range(2):
            group, measures, position = Dataset(), Dataset(), Dataset()
            measures.PixelSpacing = ["0", "0"]
            position.ImagePositionPatient = [0, 0, 2.0 * n]
            group.PixelMeasuresSequence, group.PlanePositionSequence = Sequence([measures]), Sequence([position])
            frames.append(group)
        ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
        ds.save_as(tmp_path / "mf.dcm")
        vol = medical.read_volume(tmp_path / "mf.dcm")
        assert vol.spacing_assumed == "PixelSpacing 0\\0 is not positive", vol.notes

    def test_a_degenerate_orientation_in_one_file_too(self, tmp_path):
        path = tmp_path / "one.dcm"
        path.write_bytes(pydicom_file("CT_small.dcm").read_bytes())
        put_raw(path, "ImageOrientationPatient", b"0\\0\\0\\0\\0\\0")
        with pytest.raises(ImageReadError, match="one.dcm: ImageOrientationPatient .* is degenerate"):
            medical.read_volume(path)


def nifti(path: Path, *, sform=np.eye(4), qform=None, zooms=None) -> Path:
    """A 10x10x10 float32 NIfTI with the given sform (code 1), qform (code 1, or code 0 when None) and pixdim."""
    data = np.random.default_rng(0).normal(size=(10, 10, 10)).astype(np.float32)
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(data.shape)
    hdr.set_data_dtype(np.float32)
    hdr.set_xyzt_units("mm")
    hdr.set_qform(qform if qform is not None else np.eye(4), code=1 if qform is not None else 0)
    hdr.set_sform(np.eye(4), code=1)
    if zooms is not None:
        hdr.set_zooms(zooms)
    img = nib.Nifti1Image(data, None, header=hdr)
    nib.save(img, path)
    raw = bytearray(path.read_bytes())  # the sform as given, bytes and all: nibabel would not write a singular one
    raw[280:328] = struct.pack("<12f", *np.asarray(sform, dtype=np.float64)[:3].reshape(-1))
    path.write_bytes(bytes(raw))
    return path


def patch_pixdim(path: Path, values) -> None:
    """pixdim[1..3] as bytes (nibabel repairs 0 and negative values as it loads, and writes no such file)."""
    raw = bytearray(path.read_bytes())
    raw[80:92] = struct.pack("<3f", *values)
    path.write_bytes(bytes(raw))


class TestNiftiGeometry:
    """Items 5 and 6."""

    @pytest.mark.parametrize("sform, problem", [(np.zeros((4, 4)), "singular"),
                                                (np.array([[np.nan, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), "not finite")],
                             ids=["singular", "nan"])
    @pytest.mark.parametrize("job", [("volume", "-k", "gaussian:1mm", "-o", "o.nii"), ("volume", "-k", "gaussian:1mm", "-o", "o.png"),
                                     ("pool", "-f", "2", "-o", "p.nii")], ids=["convolve", "png", "pool"])
    def test_an_sform_that_places_no_grid_is_refused(self, tmp_path, sform, problem, job):
        nifti(tmp_path / "bad.nii", sform=sform)
        with pytest.raises(ImageReadError, match=f"bad.nii: the sform \\(code 1\\) is {problem}"):
            medical.read_volume(tmp_path / "bad.nii")
        r = run_in_process(job[0], "bad.nii", *job[1:], cwd=tmp_path)
        one_line_error(r, ["bad.nii", f"the sform (code 1) is {problem}"])

    def test_a_valid_qform_beside_it_is_offered(self, tmp_path):
        nifti(tmp_path / "bad.nii", sform=np.zeros((4, 4)), qform=np.eye(4))
        with pytest.raises(ImageReadError, match="give affine=.qform. to read the qform"):
            medical.read_volume(tmp_path / "bad.nii")
        np.testing.assert_allclose(medical.read_volume(tmp_path / "bad.nii", affine="qform").affine, np.eye(4))

    def test_pixdim_against_the_sform_refuses_a_kernel_in_mm(self, tmp_path):
        nifti(tmp_path / "p.nii", sform=np.diag([0.5, 0.8, 3.0, 1.0]), zooms=(1, 1, 1))
        vol = medical.read_volume(tmp_path / "p.nii")
        assert vol.spacing_conflict == "pixdim 1x1x1 mm or the sform 0.5x0.8x3 mm (x, y, z)"
        with pytest.raises(UsageError, match="p.nii: gaussian:1mm is sized in mm, but the header gives the voxel size two "
                                             "ways: pixdim 1x1x1 mm or the sform 0.5x0.8x3 mm"):
            medical.filter_volume(vol, medical.resolve_volume_kernel("gaussian:1mm"), medical.VolumeOptions())
        medical.filter_volume(vol, medical.resolve_volume_kernel("gaussian:1vox"), medical.VolumeOptions())  # voxels: no size used
        r = run_in_process("volume", "p.nii", "-k", "gradient", "-o", "o.nii", cwd=tmp_path)
        one_line_error(r, ["two ways", "pixdim 1x1x1 mm", "sform 0.5x0.8x3 mm"])

    def test_pixdim_and_an_agreeing_affine_are_one_reading(self, tmp_path):
        rotated = np.eye(4)
        rotated[:3, :3] = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]) @ np.diag([0.5, 0.8, 3.0])
        nifti(tmp_path / "p.nii", sform=rotated, qform=rotated, zooms=(0.5, 0.8, 3.0))
        assert medical.read_volume(tmp_path / "p.nii").spacing_conflict is None

    @pytest.mark.parametrize("values, said", [((0.0, 1.0, 1.0), "voxel size 0 along x"), ((-2.0, 1.0, 1.0), "voxel size -2 along x")],
                             ids=["zero", "negative"])
    def test_a_pixdim_nibabel_repairs_is_not_a_voxel_size(self, tmp_path, values, said):
        nifti(tmp_path / "p.nii")
        patch_pixdim(tmp_path / "p.nii", values)
        vol = medical.read_volume(tmp_path / "p.nii")  # nibabel made the 0 a 1 and the -2 a 2 as it loaded the file
        assert said in (vol.spacing_assumed or ""), vol.spacing_assumed
        r = run_in_process("volume", "p.nii", "-k", "gaussian:1mm", "-o", "o.nii", cwd=tmp_path)
        one_line_error(r, ["p.nii", "voxel size is not in the file", said])

    def test_an_mgh_whose_affine_and_delta_disagree(self):
        vol = medical.read_volume(nibabel_file("test.mgz"))
        assert vol.spacing_conflict and vol.spacing_conflict.startswith("delta 1x1x1 mm or the affine 3.74166"), vol.spacing_conflict
        with pytest.raises(UsageError, match="test.mgz: fwhm:4mm is sized in mm, but the header gives the voxel size two ways"):
            medical.filter_volume(vol, medical.resolve_volume_kernel("fwhm:4mm"), medical.VolumeOptions())

    def test_the_nibabel_test_files_read_one_way(self):
        from nibabel.testing import data_path

        for name in ("example4d.nii.gz", "anatomical.nii", "standard.nii.gz", "example_nifti2.nii.gz"):
            path = Path(data_path) / name
            if path.is_file():
                vol = medical.read_volume(path)
                assert vol.spacing_conflict is None and vol.spacing_assumed is None, (name, vol.spacing_conflict)


class TestKernelsInVoxels:
    """Item 8."""

    def test_log_in_voxels_needs_no_voxel_size(self):
        from kernelcli.medical.filtering import check_spacing_known

        vol = medical.Volume(np.zeros((2, 2, 2)), (1.0, 1.0, 1.0), np.eye(4), Path("s"), "DICOM", spacing_assumed="no PixelSpacing")
        check_spacing_known(vol, medical.resolve_volume_kernel("log:2vox"))
        with pytest.raises(UsageError, match="log:2mm is sized in mm"):
            check_spacing_known(vol, medical.resolve_volume_kernel("log:2mm"))


class TestNibabelMessages:
    """Item 10a and 10b."""

    def test_the_size_check_of_the_tiled_path_keeps_nibabel_quiet(self, tmp_path, monkeypatch):
        import logging

        from kernelcli.tiled.nifti import wanted

        nifti(tmp_path / "p.nii")
        patch_pixdim(tmp_path / "p.nii", (0.0, 1.0, 1.0))
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "1G")  # a cap: wanted() loads the header to weigh the file
        heard: list[str] = []

        class Listen(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                heard.append(record.getMessage())

        logger = logging.getLogger("nibabel.global")
        listener = Listen()
        logger.addHandler(listener)  # beside nibabel's own handler, which writes on stderr
        try:
            assert wanted(tmp_path / "p.nii", tiled=False, chunks=None, scheduler=None) is False
        finally:
            logger.removeHandler(listener)
        assert heard == []  # "pixdim[1,2,3] should be non-zero; setting 0 dims to 1" reached stderr under -q, before

    def test_a_truncated_nii_is_one_line(self, tmp_path):
        nifti(tmp_path / "t.nii")
        (tmp_path / "t.nii").write_bytes((tmp_path / "t.nii").read_bytes()[:600])
        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(tmp_path / "t.nii")
        assert "\n" not in str(caught.value) and "t.nii: cannot read the voxel data" in str(caught.value)
        one_line_error(run_in_process("volume", "t.nii", "-o", "o.nii", cwd=tmp_path), ["t.nii"])


class TestNiftiOutputs:
    """Items 11 and 12."""

    def test_pooling_clears_the_slice_timing(self, tmp_path):
        img = nib.Nifti1Image(np.random.default_rng(0).normal(size=(8, 8, 30, 4)).astype(np.float32), np.diag([3, 3, 4, 1]))
        h = img.header
        h.set_dim_info(freq=0, phase=1, slice=2)
        h.set_xyzt_units("mm", "sec")
        h["pixdim"][4] = 2.0
        h["slice_start"], h["slice_end"], h["slice_code"], h["slice_duration"] = 0, 29, 1, 0.06
        nib.save(img, tmp_path / "f.nii.gz")
        report = medical.pool_volume_file(tmp_path / "f.nii.gz", 2, out=tmp_path / "p.nii.gz")
        out = nib.load(tmp_path / "p.nii.gz").header
        assert out["dim"][3] == 15
        assert [float(out[k]) for k in ("slice_code", "slice_start", "slice_end", "slice_duration")] == [0, 0, 0, 0]
        assert out.get_dim_info() == (0, 1, 2) and float(out["pixdim"][4]) == 2.0  # the rest of the header is kept
        assert any("slice timing" in n and "cleared" in n for n in report.notes), report.notes
        medical.convolve_volume_file(tmp_path / "f.nii.gz", "box_3d", out=tmp_path / "c.nii.gz")
        assert int(nib.load(tmp_path / "c.nii.gz").header["slice_end"]) == 29  # the same grid keeps its timing

    def test_keep_dtype_gives_back_a_scaled_int32_near_2_to_the_30(self, tmp_path):
        stored = np.random.default_rng(1).integers(2**30, 2**31 - 1, size=(8, 9, 5)).astype(np.int32)
        img = nib.Nifti1Image(stored, np.eye(4))
        img.header.set_slope_inter(0.5, 0)
        img.header.set_xyzt_units("mm")
        nib.save(img, tmp_path / "big.nii")
        vol = medical.read_volume(tmp_path / "big.nii")
        assert vol.data.dtype == np.float64 and any("float64" in n for n in vol.notes), vol.notes
        medical.convolve_volume_file(tmp_path / "big.nii", None, medical.VolumeOptions(keep_dtype=True), out=tmp_path / "o.nii")
        out = nib.load(tmp_path / "o.nii")
        assert out.get_data_dtype() == np.int32 and (float(out.dataobj.slope), float(out.dataobj.inter)) == (0.5, 0.0)
        np.testing.assert_array_equal(np.asarray(out.dataobj.get_unscaled()), stored)  # off by up to 32, before

    def test_a_small_scaled_int16_stays_float32(self, tmp_path):
        img = nib.Nifti1Image(np.arange(-500, 500, dtype=np.int16).reshape(10, 10, 10), np.eye(4))
        img.header.set_slope_inter(0.5, -1024)
        img.header.set_xyzt_units("mm")
        nib.save(img, tmp_path / "ct.nii")
        assert medical.read_volume(tmp_path / "ct.nii").data.dtype == np.float32
