"""Audit 235: a DICOM series folder is never read a slice short in silence (a slice cut off in its header, one pydicom
stops reading, an empty IM*.dcm); a README inside a series folder in a batch; an empty Pixel Data; a renamed DICOMDIR."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pydicom = pytest.importorskip("pydicom")

from kernelcli.medical.lost_slices import COPY_AGAIN  # noqa: E402 - (the one wording of a slice lost)


def _series(folder: Path, n: int = 5) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_medical_audit104 import ct_series

    ct_series(folder, n=n)
    return folder


def _cut(path: Path, at: int) -> None:
    path.write_bytes(path.read_bytes()[:at])


def _refusal(folder: Path) -> str:
    from kernelcli import medical
    from kernelcli.errors import ImageReadError

    with pytest.raises(ImageReadError) as caught:
        medical.read_volume(folder)
    return str(caught.value)


ROWS = b"\x28\x00\x10\x00"  # (0028,0010) Rows, as explicit VR little endian writes its tag
POSITION = b"\x20\x00\x32\x00"  # (0020,0032) ImagePositionPatient
PIXEL_DATA = b"\xe0\x7f\x10\x00"


class TestASliceCutOffIsNeverDropped:
    """235 #1/#2: 'volume s9' (IM4.dcm cut where Rows starts) gave 4 slices, exit 0, noting 'no slice of the series read';
    cut inside an element or 9 bytes into Pixel Data's element header, it was 'not DICOM images'; an empty IM4.dcm too."""

    @pytest.mark.parametrize("slice_", [0, 2, 4], ids=["first", "middle", "last"])
    def test_a_slice_cut_where_rows_starts(self, tmp_path, invoke, slice_):
        path = _series(tmp_path / "ser") / f"IM{slice_:03d}.dcm"
        _cut(path, path.read_bytes().index(ROWS))
        r = invoke("volume", "ser", "-k", "box:3vox", "-o", "s.nii.gz")
        assert r.exit_code == 2, r.stderr
        assert r.stderr == (f"error: {Path('ser') / path.name}: a CT Image Storage file of this series without an image "
                            f"(its header ends before Rows and Pixel Data: a slice cut off): {COPY_AGAIN}\n")
        assert not (tmp_path / "s.nii.gz").exists()

    def test_a_slice_cut_inside_a_value(self, tmp_path):
        path = _series(tmp_path / "ser") / "IM002.dcm"
        at = path.read_bytes().index(POSITION) + 12
        _cut(path, at)
        said = _refusal(tmp_path / "ser")
        assert said.startswith(f"{path}: cannot read DICOM: cut off at byte {at}, inside ImagePositionPatient (its value "
                               "needs ")
        assert said.endswith(f"a DICOM file of this series; {COPY_AGAIN}")

    def test_a_slice_pydicom_stops_reading(self, tmp_path, invoke):
        path = _series(tmp_path / "ser") / "IM004.dcm"
        _cut(path, path.read_bytes().rindex(PIXEL_DATA) + 9)  # inside Pixel Data's own element header
        r = invoke("convolve", "ser", "-k", "box:3vox", "-o", "s.nii.gz", "--json")
        assert r.exit_code == 2, r.stderr
        assert f"{Path('ser') / 'IM004.dcm'}: cannot read DICOM: " in r.stderr
        assert f"a DICOM file of this series; {COPY_AGAIN}\n" in r.stderr
        assert not (tmp_path / "s.nii.gz").exists()

    @pytest.mark.parametrize("size", [0, 77])
    def test_an_empty_or_preamble_only_file_named_as_dicom(self, tmp_path, size):
        path = _series(tmp_path / "ser") / "IM004.dcm"
        _cut(path, size)
        said = _refusal(tmp_path / "ser")
        assert said.startswith(f"{path}: " + ("empty (0 bytes)" if not size else "77 bytes, cut off before a DICOM file's"))
        assert said.endswith(f"but named as a DICOM file beside the series' slices: it may be a slice lost; {COPY_AGAIN}")

    def test_a_file_not_named_as_dicom_is_set_aside_with_a_note(self, tmp_path):
        from kernelcli import medical

        folder = _series(tmp_path / "ser")
        (folder / "notes.txt").write_bytes(b"")
        vol = medical.read_volume(folder)
        assert vol.data.shape[0] == 5
        assert "ser: skipped 1 file(s) that are not DICOM images (notes.txt)" in vol.notes

    def test_a_cut_file_of_another_series_is_set_aside_with_a_note(self, tmp_path):
        from kernelcli import medical

        folder = _series(tmp_path / "ser")
        ds = pydicom.dcmread(folder / "IM000.dcm")
        ds.SeriesInstanceUID, ds.SOPInstanceUID = "1.2.3.999", "1.2.3.999.1"
        ds.save_as(folder / "other.dcm")
        _cut(folder / "other.dcm", (folder / "other.dcm").read_bytes().index(ROWS) + 3)
        vol = medical.read_volume(folder)
        assert vol.data.shape[0] == 5
        assert any("skipped 1 DICOM file(s) without an image" in note and "(other.dcm)" in note for note in vol.notes)

    def test_no_cut_point_gives_a_short_volume(self, tmp_path):
        """The audit's sweep, thinned: the last slice cut at every 29th byte is refused naming it, or (cut in the
        padding after its pixels, which pydicom warns of) read whole: never 4 slices.  Inside the 32 KiB of pixel
        values every cut is the same case (fewer pixel bytes than the header states): there, every 29th byte only
        within 1 KiB of either end and every 928th between (each cut reads the whole 5-slice series: 1348 cuts
        took 27 s of CPU, the largest test of the suite)."""
        from kernelcli import medical
        from kernelcli.errors import ImageReadError

        folder = _series(tmp_path / "ser")
        whole = (folder / "IM004.dcm").read_bytes()
        pixels_start = whole.rindex(PIXEL_DATA) + 12
        pixels_end = pixels_start + 128 * 128 * 2
        for at in range(0, len(whole), 29):
            if pixels_start + 1024 < at < pixels_end - 1024 and at % (29 * 32):
                continue
            (folder / "IM004.dcm").write_bytes(whole[:at])
            if at >= pixels_end:
                assert medical.read_volume(folder).data.shape[0] == 5
                continue
            with pytest.raises(ImageReadError, match="IM004.dcm"):
                medical.read_volume(folder)


class TestADicomdirByItsContent:
    """235 #5: a DICOMDIR renamed DIRFILE was noted as 'a DICOM file without an image (headers without pixel data)':
    its SOP class is only in its file meta (MediaStorageSOPClassUID), and only the name DICOMDIR was looked at."""

    def test_a_renamed_dicomdir_is_noted_as_not_a_dicom_image(self, tmp_path):
        import shutil

        from pydicom.data import get_testdata_file

        from kernelcli import medical

        folder = _series(tmp_path / "ser")
        shutil.copy(get_testdata_file("DICOMDIR"), folder / "DIRFILE")
        vol = medical.read_volume(folder)
        assert vol.data.shape[0] == 5
        assert "ser: skipped 1 file(s) that are not DICOM images (DIRFILE)" in vol.notes
        assert not any("without an image" in note for note in vol.notes)


class TestAnEmptyPixelData:
    """235 #4: a slice whose Pixel Data is present but empty (an anonymiser's blanking) was refused with 'cannot decode
    the pixel data: object of type 'NoneType' has no len()', a Python error's words."""

    def test_the_refusal_says_what_it_is(self, tmp_path, invoke):
        folder = _series(tmp_path / "ser")
        ds = pydicom.dcmread(folder / "IM002.dcm")
        ds.PixelData = b""
        ds.save_as(folder / "IM002.dcm")
        said = ("{}: its PixelData is empty (0 bytes), but its header states a 128x128 image of 32,768 bytes: blanked, "
                "or cut off; there is no image to read (copy the file again whole)")
        for given in ("ser", str(Path("ser") / "IM002.dcm")):  # the series, and the file alone
            r = invoke("volume", given, "-o", "s.nii.gz")
            assert r.exit_code == 2, r.stderr
            assert r.stderr == "error: " + said.format(Path("ser") / "IM002.dcm") + "\n"
            assert not (tmp_path / "s.nii.gz").exists()


class TestAReadmeInsideASeriesFolder:
    """235 #3: 'convolve study2 -r -k box:3 --out-dir o6' (study2/ct: 5 slices and README.TXT) read the README as a
    matrix ("line 1: 'Exported' is not a number", exit 1) and left o6/ct behind; the folder given plainly was refused
    naming study2/ct (exit 2). 93af766 set a README beside the series folders aside, not one beside the slices."""

    @pytest.mark.parametrize("args", [("study", "-r"), ("study/**",), ("study/*/*",), ("study",)],
                             ids=["recursive", "globstar", "pattern", "plain"])
    def test_refused_naming_the_series_as_the_folder_is(self, tmp_path, invoke, args):
        (_series(tmp_path / "study" / "ct") / "README.TXT").write_text("Exported by PACS\n")
        r = invoke("convolve", *args, "-k", "box:3", "--out-dir", "o")
        assert r.exit_code == 2, r.stderr
        assert "'Exported' is not a number" not in r.stderr
        assert "give that folder, alone, without --out-dir" in r.stderr or (
            "study/ct, 5 DICOM files: a DICOM series is one volume, given alone without --out-dir" in r.stderr)
        assert not (tmp_path / "o").exists()
