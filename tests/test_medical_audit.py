"""The CLI audit of the medical-volume input path: each defect as its user hit it.

1. a DICOM series with every ImagePositionPatient but no ImageOrientationPatient was refused
   with "0 of 4 slices have no ImagePositionPatient ()";
2. an undecodable compressed DICOM printed a two-line error;
3. pydicom's warnings reached stderr with a site-packages path;
4. a NaN in a NIfTI was refused as "volume: 153 value(s)..." (and in a float TIFF as "x: ..."),
   without the file's name;
5. a NIfTI whose qform and sform disagree was read silently with the sform, and one with both
   codes 0 was previewed as if its made-up orientation were known.

Built on the files pydicom and nibabel ship (never downloaded); each test skips without them.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, documentation, run_in_process

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from kernelcli import medical  # noqa: E402
from kernelcli.errors import ImageReadError, UsageError  # noqa: E402
from test_medical import make_series, nibabel_file, pydicom_file  # noqa: E402


def one_line_error(r, words=()) -> str:
    """The stderr of a refused call: exactly one line, "error: ...", no traceback, no library path."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr and "site-packages" not in r.stderr.replace(str(Path(pydicom.__file__).parent.parent), "")
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def no_library_output(stderr: str) -> None:
    """Only our own lines on stderr (notes, the summary): no Python warning, no library source line."""
    assert "Warning" not in stderr and "warn_and_log" not in stderr, stderr
    assert not re.search(r"\.py:\d+", stderr), stderr
    for line in stderr.splitlines():
        assert line.startswith("note: ") or " -> " in line, line


def without_orientation(folder: Path) -> None:
    """Delete ImageOrientationPatient from every file of a series (ImagePositionPatient kept)."""
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        del ds.ImageOrientationPatient
        ds.save_as(path)


def two_readings(path: Path, *, qcode: int = 1, scode: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A NIfTI whose qform is the identity and whose sform flips x (4x5x6 voxels, mm); returns (qform, sform)."""
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    qform, sform = np.eye(4), np.diag([-1.0, 1, 1, 1])
    img = nib.Nifti1Image(data, sform)
    img.set_qform(qform, code=qcode)
    img.set_sform(sform, code=scode)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return qform, sform


def no_codes(path: Path, shape=(4, 5, 6)) -> None:
    """A NIfTI with qform_code and sform_code 0: its orientation is unknown."""
    img = nib.Nifti1Image(np.arange(np.prod(shape), dtype=np.float32).reshape(shape), None)
    img.header.set_zooms((1.0, 1.5, 2.0))
    img.header.set_xyzt_units("mm")
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    nib.save(img, str(path))
    h = nib.load(path).header
    assert (int(h["qform_code"]), int(h["sform_code"])) == (0, 0)


class TestSeriesWithoutOrientation:
    """Item 1: every slice placed, none oriented: the documented fallback, as for one file without IOP."""

    def test_read_by_instance_number_with_a_note_naming_the_orientation(self, tmp_path):
        expected = make_series(tmp_path / "s", [0.0, 2.5, 5.0, 7.5])
        without_orientation(tmp_path / "s")
        vol = medical.read_volume(tmp_path / "s")
        # make_series numbers the instances against the position: the fallback order is the reverse
        np.testing.assert_array_equal(vol.data, np.asarray(expected)[::-1])
        assert any("no ImageOrientationPatient, so the slice normal is unknown" in n and "sorted by InstanceNumber" in n
                   for n in vol.notes), vol.notes
        assert not any("no ImagePositionPatient;" in n for n in vol.notes), vol.notes
        assert vol.orientation_unknown == "no ImageOrientationPatient"
        assert np.count_nonzero(vol.affine[:3, :3] - np.diag(np.diag(vol.affine[:3, :3]))) == 0  # a plain scaling

    def test_one_file_without_orientation_is_treated_alike(self, tmp_path):
        make_series(tmp_path / "s", [0.0])
        without_orientation(tmp_path / "s")
        one = medical.read_volume(next((tmp_path / "s").iterdir()))
        assert one.orientation_unknown == "no ImageOrientationPatient"
        assert any("no ImageOrientationPatient; the NIfTI affine is a plain scaling (orientation unknown)" in n for n in one.notes)

    def test_command_line_no_longer_blames_the_positions(self, tmp_path):
        make_series(tmp_path / "ser_noiop", [0.0, 2.5, 5.0, 7.5])
        without_orientation(tmp_path / "ser_noiop")
        r = run_in_process("volume", "ser_noiop", "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "ImagePositionPatient ()" not in r.stderr and "0 of 4" not in r.stderr
        assert "no ImageOrientationPatient" in r.stderr
        no_library_output(r.stderr)
        # the output states no orientation: codes 0 ("unknown"), not 1 ("scanner")
        h = nib.load(tmp_path / "x.nii.gz").header
        assert (int(h["qform_code"]), int(h["sform_code"])) == (0, 0)


UNDECODABLE = ["JPEG-lossy.dcm", "JPGExtended.dcm", "JPEG2000-embedded-sequence-delimiter.dcm"]


class TestUndecodableDicom:
    """Item 2: the reasons of every plugin folded into one line."""

    @pytest.mark.parametrize("name", UNDECODABLE)
    def test_one_line_exit_2(self, tmp_path, name):
        path = pydicom_file(name)
        try:
            pydicom.dcmread(path).pixel_array
        except Exception:
            pass
        else:
            pytest.skip(f"an installed decoder reads {name}")
        r = run_in_process("volume", str(path), "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
        line = one_line_error(r, [name, "cannot decode the pixel data (JPEG"])
        assert "Unable to decode as exceptions were raised" not in line
        assert not (tmp_path / "x.nii.gz").exists()

    def test_the_message_names_the_encoding_the_reason_and_what_to_install(self):
        path = pydicom_file("JPEG-lossy.dcm")
        try:
            pydicom.dcmread(path).pixel_array
        except Exception:
            pass
        else:
            pytest.skip("an installed decoder reads JPEG-lossy.dcm")
        with pytest.raises(ImageReadError) as info:
            medical.read_volume(path)
        text = str(info.value)
        assert "\n" not in text
        assert "cannot decode the pixel data (JPEG Extended, 12-bit): " in text
        assert "install " in text or "pip install" in text or "decompress" in text

    def test_one_line_folds_a_plugin_listing(self):
        from kernelcli.medical.pydicom_notes import pydicom_line

        assert pydicom_line("Unable:\n  pillow: no 12-bit\n  gdcm: missing\n") == "Unable: pillow: no 12-bit; gdcm: missing"


class TestPydicomWarnings:
    """Item 3: what pydicom warns becomes our one-line note (or is dropped), never a warning with its source path."""

    def test_padded_pixel_data_is_a_note(self, tmp_path):
        r = run_in_process("volume", str(pydicom_file("MR_small_padded.dcm")), "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        no_library_output(r.stderr)
        assert re.search(r"note: MR_small_padded\.dcm: .*128 bytes of excess padding.*\(pydicom\)", r.stderr), r.stderr

    def test_the_api_gets_the_note_and_no_warning(self):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning escaping the reader fails here
            vol = medical.read_volume(pydicom_file("MR_small_padded.dcm"))
        assert any(n.startswith("MR_small_padded.dcm: ") and n.endswith("(pydicom)") for n in vol.notes), vol.notes

    @pytest.mark.parametrize(("name", "words"), [
        ("SC_rgb_jpeg.dcm", ["SC_rgb_jpeg.dcm", "colour DICOM"]),
        ("badVR.dcm", ["badVR.dcm", "NumberOfFrames is '1A'", "expected a whole number"]),
    ])
    def test_refused_files_print_only_their_error(self, tmp_path, name, words):
        r = run_in_process("volume", str(pydicom_file(name)), "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
        one_line_error(r, words)

    def test_a_series_says_it_once(self, tmp_path):
        source = pydicom_file("MR_small_padded.dcm")
        folder = tmp_path / "mr"
        folder.mkdir()
        for n in range(3):
            ds = pydicom.dcmread(source)
            ds.ImagePositionPatient = [0.0, 0.0, float(n)]
            ds.SOPInstanceUID = f"1.2.3.{n + 1}"
            ds.InstanceNumber = n + 1
            ds.save_as(folder / f"IM{n}.dcm")
        vol = medical.read_volume(folder)
        said = [n for n in vol.notes if "excess padding" in n]
        assert said == [said[0]] and said[0].startswith("IM0.dcm and 2 other file(s): "), vol.notes


class TestNonFiniteInputsNameTheFile:
    """Item 4: a NaN or infinity is refused naming the input, as .npy and .csv inputs are."""

    def test_nibabel_nan_file(self, tmp_path):
        path = nibabel_file("resampled_anat_moved.nii")
        r = run_in_process("volume", str(path), "-k", "gaussian:2mm", "-o", "x.png", cwd=tmp_path)
        one_line_error(r, [f"{path}: 153 value(s) are NaN or infinite; expected finite numbers"])
        assert "error: volume:" not in r.stderr

    def test_a_nifti_made_here(self, tmp_path):
        data = np.zeros((3, 4, 5), np.float32)
        data[1, 2, 3] = np.inf
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / "inf.nii.gz"))
        with pytest.raises(ImageReadError, match=r"inf\.nii\.gz: 1 value\(s\) are NaN or infinite"):
            medical.read_volume(tmp_path / "inf.nii.gz")

    def test_float_tiff_does_not_leak_the_argument_name(self, tmp_path):
        from PIL import Image

        data = np.ones((8, 8), np.float32)
        data[2, 3] = -np.inf
        Image.fromarray(data, mode="F").save(tmp_path / "minf.tif")
        r = run_in_process("convolve", "minf.tif", "-k", "box_3x3", "-o", "y.tif", cwd=tmp_path)
        line = one_line_error(r, ["minf.tif: ", "1 NaN or infinite value(s)"])
        assert " x: " not in line


class TestTwoReadingsOfTheGeometry:
    """Item 5a: qform and sform that disagree are two readings: refused, --affine picks one."""

    def test_refused_naming_both_readings_and_the_flag(self, tmp_path):
        two_readings(tmp_path / "two.nii.gz")
        with pytest.raises(UsageError, match=r"two\.nii\.gz: the geometry reads two ways: the sform \(code 1, scanner: LAS axes.*"
                                              r" or the qform \(code 1, scanner: RAS axes.*give affine='sform' or affine='qform'"):
            medical.read_volume(tmp_path / "two.nii.gz")

    def test_a_file_in_metres_is_described_in_mm(self, tmp_path):
        """Its distance and origins were the file's numbers under the word mm: 2 mm apart read '0.002 mm apart'."""
        img = nib.Nifti1Image(np.zeros((4, 5, 6), np.float32), None)
        qform = np.diag([0.001, 0.001, 0.001, 1.0])
        sform = qform.copy()
        sform[0, 3] = 0.002
        img.set_qform(qform, code=1)
        img.set_sform(sform, code=1)
        img.header.set_xyzt_units("meter")
        nib.save(img, str(tmp_path / "m.nii"))
        with pytest.raises(UsageError) as info:
            medical.read_volume(tmp_path / "m.nii")
        assert "voxel 0 at (2, 0, 0) mm) or the qform (code 1, scanner: RAS axes, voxel 0 at (0, 0, 0) mm)" in str(info.value)
        assert "up to 2 mm apart, at voxel (0, 0, 0): (2, 0, 0) or (0, 0, 0) mm" in str(info.value)

    def test_command_line_exit_2_then_the_flag_picks(self, tmp_path):
        qform, sform = two_readings(tmp_path / "two.nii.gz")
        for command in ("volume", "convolve"):
            r = run_in_process(command, "two.nii.gz", "-k", "gaussian:1mm", "-o", "x.nii.gz", cwd=tmp_path)
            one_line_error(r, ["two.nii.gz", "reads two ways", "--affine sform", "--affine qform"])
            assert not (tmp_path / "x.nii.gz").exists()
        for choice, want in (("qform", qform), ("sform", sform), ("QForm", qform)):
            r = run_in_process("volume", "two.nii.gz", "-k", "gaussian:1mm", "--affine", choice, "-o", "x.png", "--force", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            np.testing.assert_array_equal(medical.read_volume(tmp_path / "two.nii.gz", affine=choice.lower()).affine, want)

    def test_the_tiled_path_answers_as_the_one_in_memory(self, tmp_path):
        pytest.importorskip("dask")
        two_readings(tmp_path / "two.nii")
        whole = run_in_process("convolve", "two.nii", "-k", "gaussian:1mm", "-o", "w.nii", cwd=tmp_path)
        tiled = run_in_process("convolve", "two.nii", "-k", "gaussian:1mm", "--tiled", "-o", "t.nii", cwd=tmp_path)
        assert one_line_error(tiled, ["reads two ways"]) == one_line_error(whole)
        picked = run_in_process("convolve", "two.nii", "-k", "gaussian:1mm", "--tiled", "--affine", "qform", "-o", "t.nii", cwd=tmp_path)
        assert picked.returncode == 0, picked.stderr
        assert run_in_process("convolve", "two.nii", "-k", "nope", "--tiled", "-o", "t.nii", "--force", cwd=tmp_path).returncode == 3

    def test_the_chosen_reading_makes_the_pooled_grid(self, tmp_path):
        qform, _ = two_readings(tmp_path / "two.nii.gz")
        medical.pool_volume_file(tmp_path / "two.nii.gz", 2, out=tmp_path / "p.nii.gz", options=medical.VolumeOptions(affine="qform"))
        h = nib.load(tmp_path / "p.nii.gz").header
        grid = np.array([[2, 0, 0, 0.5], [0, 2, 0, 0.5], [0, 0, 2, 0.5], [0, 0, 0, 1.0]])
        np.testing.assert_allclose(h.get_qform(), qform @ grid, atol=1e-6)
        np.testing.assert_allclose(h.get_sform(), qform @ grid, atol=1e-6)

    def test_on_the_input_grid_the_header_is_kept_as_it_was(self, tmp_path):
        two_readings(tmp_path / "two.nii.gz")
        medical.convolve_volume_file(tmp_path / "two.nii.gz", "box_3d", medical.VolumeOptions(affine="sform"), out=tmp_path / "c.nii.gz")
        a, b = nib.load(tmp_path / "two.nii.gz").header, nib.load(tmp_path / "c.nii.gz").header
        for key in ("qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d", "srow_x", "srow_y", "srow_z"):
            assert np.array_equal(a[key], b[key]), key

    def test_pool_takes_the_flag_in_memory_and_tiled(self, tmp_path):
        # pool refused the file pointing to --affine, an option pool did not have; tiled, it took nibabel's sform
        qform, _ = two_readings(tmp_path / "two.nii")
        for tiled in ((), ("--tiled",)):
            r = run_in_process("pool", "two.nii", "-f", "2", *tiled, "-o", "p.nii", "--force", cwd=tmp_path)
            one_line_error(r, ["two.nii", "reads two ways", "--affine qform"])
        if importlib.util.find_spec("dask") is None:
            pytest.skip("dask is not installed: the tiled path is not there")
        grids = []
        for tiled, out in (((), "m.nii"), (("--tiled",), "t.nii")):
            r = run_in_process("pool", "two.nii", "-f", "2", "--affine", "qform", *tiled, "-o", out, cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            grids.append(nib.load(tmp_path / out).header.get_qform())
        grid = np.array([[2, 0, 0, 0.5], [0, 2, 0, 0.5], [0, 0, 2, 0.5], [0, 0, 0, 1.0]])
        np.testing.assert_allclose(grids[0], qform @ grid, atol=1e-6)
        np.testing.assert_allclose(grids[1], grids[0], atol=1e-6)
        r = run_in_process("pool", str(SAMPLES / "phantom.png"), "-f", "2", "--affine", "qform", "-o", "x.png", cwd=tmp_path)
        one_line_error(r, ["--affine", "only for volume inputs"])

    def test_one_reading_set_is_used_and_the_other_refused(self, tmp_path):
        _, sform = two_readings(tmp_path / "s.nii.gz", qcode=0, scode=2)
        np.testing.assert_array_equal(medical.read_volume(tmp_path / "s.nii.gz").affine, sform)
        with pytest.raises(UsageError, match=r"affine='qform': the file has no qform \(qform_code 0\)"):
            medical.read_volume(tmp_path / "s.nii.gz", affine="qform")

    def test_agreeing_readings_need_no_flag(self):
        vol = medical.read_volume(nibabel_file("example_nifti2.nii.gz"))  # they differ by 0.004 mm: float rounding
        np.testing.assert_allclose(vol.affine, nib.load(nibabel_file("example_nifti2.nii.gz")).header.get_sform())

    def test_the_flag_is_refused_where_there_is_no_qform_or_sform(self, tmp_path):
        make_series(tmp_path / "s", [0.0, 2.5])
        r = run_in_process("volume", "s", "--affine", "sform", "-o", "x.nii.gz", cwd=tmp_path)
        one_line_error(r, ["--affine sform", "DICOM"])
        with pytest.raises(UsageError, match="invalid affine 'both'"):
            medical.VolumeOptions(affine="both")

    def test_one_vocabulary_documented(self):
        from kernelcli.cli.options import CONCEPTS, VOCABULARIES
        from kernelcli.modes import AFFINE_READINGS

        assert CONCEPTS["affine"].names == ("--affine",)
        assert VOCABULARIES["affine"][0] == AFFINE_READINGS
        for command in ("volume", "convolve", "pool"):
            r = run_in_process(command, "--help")
            assert r.returncode == 0 and "--affine" in r.stdout and "sform|qform" in r.stdout, r.stdout
        section = documentation().split("## Medical images", 1)[1].split("\n## ", 1)[0]
        assert "--affine sform" in section and "--affine qform" in section

    def test_the_readme_example_prints_what_it_shows(self, tmp_path):
        section = documentation().split("## Medical images", 1)[1].split("\n## ", 1)[0]
        shown = next(line for line in section.splitlines() if line.startswith("error: two.nii.gz"))
        two_readings(tmp_path / "two.nii.gz")
        r = run_in_process("volume", "two.nii.gz", "--kernel", "gaussian:1mm", "--out", "x.nii.gz", cwd=tmp_path)
        assert one_line_error(r) == shown


class TestUnknownOrientation:
    """Item 5b: a NIfTI with both codes 0 has a made-up orientation: said so, never called RAS+ or radiological."""

    def test_note_and_preview_say_unknown(self, tmp_path):
        no_codes(tmp_path / "n.nii.gz")
        vol = medical.read_volume(tmp_path / "n.nii.gz")
        assert vol.orientation_unknown == "qform_code and sform_code are 0"
        assert any("the orientation is unknown" in n for n in vol.notes), vol.notes
        r = run_in_process("volume", "n.nii.gz", "-k", "gaussian:1mm", "-o", "n.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        png_note = next(line for line in r.stderr.splitlines() if line.startswith("note: PNG:"))
        assert "canonical RAS+" not in png_note and "radiological" not in png_note and "axial" not in png_note
        assert "orientation unknown: qform_code and sform_code are 0" in png_note and "voxel axis k" in png_note

    def test_the_preview_image_is_unchanged(self):
        from kernelcli.medical.preview import canonical_plane

        data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
        affine = np.diag([-1.0, 1.0, 1.0, 1.0])
        known, _ = canonical_plane(data, affine, "z")
        unknown, text = canonical_plane(data, affine, "z", "qform_code and sform_code are 0")
        np.testing.assert_array_equal(known, unknown)
        # nibabel's affine for codes 0 flips x only: i runs to the right, j upward (row 0 is the last j)
        np.testing.assert_array_equal(unknown, data[1][::-1, :])
        assert text.endswith("i runs to the right, j upward)")

    @pytest.mark.parametrize("job", ["convolve", "pool"])
    def test_outputs_keep_codes_0(self, tmp_path, job):
        no_codes(tmp_path / "n.nii.gz")
        if job == "pool":
            medical.pool_volume_file(tmp_path / "n.nii.gz", 2, out=tmp_path / "o.nii.gz")
        else:
            medical.convolve_volume_file(tmp_path / "n.nii.gz", "box_3d", out=tmp_path / "o.nii.gz")
        h = nib.load(tmp_path / "o.nii.gz").header
        assert (int(h["qform_code"]), int(h["sform_code"])) == (0, 0)  # pool stated code 1, "scanner", before
        expected = (1.0, 1.5, 2.0) if job == "convolve" else (2.0, 3.0, 4.0)
        assert h.get_zooms()[:3] == pytest.approx(expected)  # the grid, from pixdim, is still right


class TestSpacingNotInTheFile:
    """A DICOM without PixelSpacing (or a NIfTI whose voxel size is 0) was read as 1 mm with a note, and a kernel
    in mm was then sized by that guess: gaussian:2mm on 0.3 mm pixels would blur 6.7 times too little."""

    def without_spacing(self, folder: Path) -> None:
        make_series(folder, [0.0, 2.5, 5.0])
        for path in folder.iterdir():
            ds = pydicom.dcmread(path)
            del ds.PixelSpacing
            ds.save_as(path)

    def test_a_kernel_in_mm_is_refused_one_in_voxels_is_not(self, tmp_path):
        self.without_spacing(tmp_path / "s")
        for spec in ("gaussian:2mm", "box:3mm", "fwhm:4mm", "gradient", "log:2mm"):
            r = run_in_process("volume", "s", "-k", spec, "-o", "x.nii.gz", cwd=tmp_path)
            one_line_error(r, [spec, "is sized in mm", "no PixelSpacing", "gaussian:1.5vox"])
            assert not (tmp_path / "x.nii.gz").exists()
        for spec in ("gaussian:1.5vox", "log:2vox", "box_3d", "sobel_v"):  # (log:2vox is per voxel^2: the size is not used)
            r = run_in_process("volume", "s", "-k", spec, "-o", "x.nii.gz", "--force", cwd=tmp_path)
            assert r.returncode == 0 and "no PixelSpacing; assuming 1 mm" in r.stderr, r.stderr

    def test_a_nifti_voxel_size_the_reader_cannot_use_too(self):
        # (nibabel itself sets a pixdim of 0 to 1 as it loads a file, with a warning kept as a note)
        from kernelcli.medical.nifti import nifti_spacing

        h = nib.Nifti1Header()
        h.set_data_shape((4, 5, 6))
        h.set_xyzt_units("mm")
        h["pixdim"][1:4] = (0.8, np.nan, 2.0)
        assumed: list[str] = []
        assert nifti_spacing(h, Path("a.nii"), [], assumed=assumed) == [0.8, 1.0, 2.0]
        assert assumed == ["voxel size nan along y in the header"]
        vol = medical.Volume(np.zeros((2, 2, 2)), (1.0, 1.0, 1.0), np.eye(4), Path("a.nii"), "NIfTI-1", spacing_assumed=assumed[0])
        with pytest.raises(UsageError, match="a.nii: gaussian:1mm is sized in mm, but the voxel size is not in the file "
                                             r"\(voxel size nan along y in the header; 1 mm was assumed\)"):
            medical.filter_volume(vol, medical.resolve_volume_kernel("gaussian:1mm"), medical.VolumeOptions())


class TestKeepDtypeAndMaskSaySo:
    """The SimpleITK audit's F8: --keep-dtype was dropped without a word (a DICOM whose rescale slope
    makes its values fractional, a --window, a .png), and --mask replaced an explicit --pad-mode."""

    @pytest.fixture
    def ct(self, tmp_path):
        x = np.random.default_rng(3).normal(40, 30, (12, 10, 6)).astype(np.int16)
        img = nib.Nifti1Image(x, np.diag([0.7, 0.8, 2.5, 1.0]))
        img.header.set_xyzt_units("mm")
        nib.save(img, str(tmp_path / "ct.nii.gz"))
        nib.save(nib.Nifti1Image(np.ones(x.shape, np.uint8), img.affine), str(tmp_path / "m.nii.gz"))
        return tmp_path

    @pytest.mark.parametrize("args, said", [
        (["--window", "brain", "-o", "w.nii.gz"], "--keep-dtype does nothing with --window"),
        (["-o", "p.png"], "--keep-dtype is for .nii and .npy outputs"),
    ])
    def test_an_unused_keep_dtype_is_noted(self, invoke, ct, args, said):
        r = invoke("convolve", "ct.nii.gz", "-k", "gaussian:1mm", "--keep-dtype", *args)
        assert r.exit_code == 0 and said in r.stderr, r.stderr

    def test_a_fractional_rescale_slope_is_noted(self, invoke, tmp_path):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.RescaleSlope = 0.5
        ds.save_as(str(tmp_path / "frac.dcm"))
        r = invoke("convolve", "frac.dcm", "-k", "gaussian:1mm", "--keep-dtype", "-o", "f.nii.gz")
        assert r.exit_code == 0 and "--keep-dtype: the input's values are float32" in r.stderr, r.stderr
        assert nib.load(str(tmp_path / "f.nii.gz")).get_data_dtype() == np.float32

    def test_mask_refuses_another_pad_mode(self, invoke, ct):
        r = invoke("convolve", "ct.nii.gz", "-k", "gaussian:1mm", "--mask", "m.nii.gz", "--pad-mode", "reflect", "-o", "o.nii.gz")
        assert r.exit_code == 2 and "--pad-mode reflect cannot go with it" in r.stderr and not (ct / "o.nii.gz").exists()
        for mode in ([], ["--pad-mode", "renormalise"]):
            assert invoke("convolve", "ct.nii.gz", "-k", "gaussian:1mm", "--mask", "m.nii.gz", *mode, "-o", "o.nii.gz",
                          "--force").exit_code == 0


def test_a_window_counts_the_values_it_saturates(invoke, tmp_path):
    """The record of a --window output said clipped_low 0 and clipped_high 0 beside a range of -1111..3000
    written into 0..255 (the audit's F11): values past the window are counted as the writer counts clipping."""
    x = np.array([-1000, 0, 1, 40, 79, 80, 200, 3000] * 3, np.float32).reshape(2, 3, 4)
    nib.save(nib.Nifti1Image(x, np.eye(4)), str(tmp_path / "v.nii.gz"))
    r = invoke("convolve", "v.nii.gz", "--window", "40,80", "-o", "w.nii.gz", "--json")
    assert r.exit_code == 0, r.stderr
    import json

    record = json.loads(r.stdout)
    below, above = int(np.count_nonzero(x < 0)), int(np.count_nonzero(x > 79))  # the window's 0 and 255 edges
    assert (record["clipped_low"], record["clipped_high"]) == (below, above) == (3, 9)
    # a .png preview counts those of the slice it shows (the middle one of 4 along z: x[:, :, 2])
    r = invoke("convolve", "v.nii.gz", "--window", "40,80", "-o", "w.png", "--json")
    record = json.loads(r.stdout)
    shown = x[:, :, 2]
    assert (record["clipped_low"], record["clipped_high"]) == (int(np.count_nonzero(shown < 0)), int(np.count_nonzero(shown > 79)))


class TestKernelFiles3d:
    """A 3-D kernel file on a volume (medical audit F5): 'volume ct.nii.gz -k k.npy' with a 3x5x5 array was
    'expected a non-empty 2-D (f x f) array' (exit 3), where the help names 3-D kernels and 'convolve v.npy --layout
    zyx -k k.npy' takes it."""

    def _volume(self):
        nib = pytest.importorskip("nibabel")
        image = nib.load(SAMPLES / "phantom3d.nii.gz")
        return np.asarray(image.dataobj).transpose(2, 1, 0).astype(np.float64)  # (Z, Y, X)

    @pytest.mark.parametrize("mode, scipy_mode, flip", [("replicate", "nearest", False), ("constant", "constant", True),
                                                        ("reflect", "mirror", False)])
    def test_it_is_a_3d_correlation_of_z_y_x_taps(self, tmp_path, mode, scipy_mode, flip):
        from scipy import ndimage

        k = np.random.default_rng(1).normal(size=(3, 5, 7))
        np.save(tmp_path / "k.npy", k)
        r = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", "k.npy", "--pad-mode", mode,
                           *(["--flip", "--pad-value", "-7"] if flip else []), "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "a 3x5x7 kernel of (z, y, x) voxels, applied in 3-D" in r.stderr
        taps = k[::-1, ::-1, ::-1] if flip else k
        expected = ndimage.correlate(self._volume(), taps, mode=scipy_mode, cval=-7.0 if flip else 0.0)
        np.testing.assert_allclose(np.load(tmp_path / "o.npy"), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())

    def test_an_even_side_is_refused_and_an_axis_noted(self, tmp_path):
        np.save(tmp_path / "even.npy", np.ones((3, 4, 5)))
        np.save(tmp_path / "odd.npy", np.ones((3, 3, 3)))
        even = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", "even.npy", "-o", "o.nii.gz", cwd=tmp_path)
        assert even.returncode == 3 and len(even.stderr.splitlines()) == 1  # a kernel's fault, as box:4vox
        assert "a 3x4x5 kernel (z, y, x)" in even.stderr and "odd size on every axis" in even.stderr
        # --axis with a kernel along every axis only picks a .png's view: noted for a .nii.gz, as pool notes it (audit 110 F3)
        axis = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", "odd.npy", "--axis", "z", "-o", "o.nii.gz", cwd=tmp_path)
        assert axis.returncode == 0 and "--axis z picks the view of a .png preview; odd filters along every axis" in axis.stderr


@pytest.mark.parametrize("name", ["sobel_3d", "Gaussian-3D", "box_3d", "sobel_3d_z"])
def test_kernels_show_prints_a_named_3d_kernel(tmp_path, name):
    # medical audit F5: 'kernels show sobel_3d' was exit 3, 'a named 3-D kernel is for a volume input'
    import json

    from kernelcli.kernel_build import KERNELS_3D

    text = run_in_process("kernels", "show", name, cwd=tmp_path)
    assert text.returncode == 0 and "(z, y, x)" in text.stdout and "z -1:" in text.stdout, text.stderr
    document = json.loads(run_in_process("kernels", "show", name, "--json", cwd=tmp_path).stdout)
    kernel = KERNELS_3D[name.lower().replace("-", "_")]
    np.testing.assert_array_equal(np.array(document["values"]), kernel.array())
    np.testing.assert_array_equal(np.einsum("a,b,c->abc", *map(np.array, document["factors"])), kernel.array())
