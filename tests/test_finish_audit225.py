"""Audits 224/225 (finish): a volume's URL output, DICOM headers without pixel data, a series folder's note on its
sub-folders, and a misspelt pooling step."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def volumes(tmp_path):
    """p3.nii.gz (the sample phantom), p3.nii (uncompressed: the tiled path reads it) and a folder named 's3:/b', where
    a URL output folded into a local path ('s3:/b/r.nii.gz') would have been written."""
    nib = pytest.importorskip("nibabel")
    shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path / "p3.nii.gz")
    nib.save(nib.Nifti1Image(np.arange(9 * 11 * 13, dtype=np.float32).reshape(9, 11, 13), np.eye(4)), str(tmp_path / "p3.nii"))
    (tmp_path / "s3:" / "b").mkdir(parents=True)
    return tmp_path


class TestAVolumesUrlOutput:
    """225 #1: 'convolve phantom3d.nii.gz -k box:3vox -o s3://b/r.nii.gz' wrote ./s3:/b/r.nii.gz (exit 0) where that
    folder was; 'pool p3.nii -f 2 -o memory://b/p.zarr' said 'p3.nii: the tiled path reads Zarr stores, TIFF and .npy;
    this file is none of them', 'convolve p3.nii --tiled -o memory://b/v.zarr' 'the folder memory:/b does not exist'."""

    @pytest.mark.parametrize("args", [
        ["convolve", "p3.nii.gz", "-k", "box:3vox", "-o", "s3://b/r.nii.gz"],
        ["convolve", "p3.nii.gz", "-q", "-o", "s3://b/r.nii.gz"],  # a copy
        ["volume", "p3.nii.gz", "-k", "box:3vox", "-o", "s3://b/r.png"],
        ["convolve", "p3.nii.gz", "-k", "box:3vox", "-o", "s3://b/r.npy"],
        ["pool", "p3.nii.gz", "-f", "2", "-o", "s3://b/r.nii.gz"],
        ["pool", "p3.nii", "-f", "2", "-o", "s3://b/r.zarr"],
        ["convolve", "p3.nii", "-k", "box:3vox", "-o", "memory://b/r.zarr"],
        ["convolve", "p3.nii", "-k", "box:3vox", "--tiled", "-o", "memory://b/r.zarr"],
        ["pool", "p3.nii", "-f", "2", "--tiled", "-o", "s3://b/r.nii"],
    ], ids=["convolve", "copy", "volume-png", "npy", "pool", "pool-zarr", "zarr", "tiled", "pool-tiled"])
    def test_refused_in_one_wording_nothing_written(self, volumes, invoke, args):
        url = args[-1]
        r = invoke(*args)
        assert r.exit_code == 2, r.stderr
        assert r.stderr == f"error: {url}: is a URL, and a volume is written to a local path: give a local path\n"
        assert list((volumes / "s3:" / "b").iterdir()) == []

    def test_a_file_url_is_told_its_local_path(self, volumes, invoke):
        r = invoke("pool", "p3.nii", "-f", "2", "-o", "file://q.nii")
        assert r.exit_code == 2
        assert r.stderr == (f"error: file://q.nii: is a URL, and a volume is written to a local path: give it as the local "
                            f"path {volumes}/q.nii\n")

    def test_before_the_input_is_read(self, volumes, invoke):
        (volumes / "broken.nii.gz").write_bytes(b"not a nifti")
        r = invoke("convolve", "broken.nii.gz", "-k", "box:3vox", "-o", "s3://b/r.nii.gz")
        assert r.exit_code == 2 and "is a URL, and a volume is written to a local path" in r.stderr, r.stderr

    @pytest.mark.parametrize("write, out", [("write_nifti", "s3://b/x.nii.gz"), ("write_output", "s3://b/x.npy")])
    def test_the_api_writers_refuse_a_url(self, volumes, monkeypatch, write, out):
        import kernelcli.io as kio
        from kernelcli.errors import UsageError

        monkeypatch.chdir(volumes)
        data = np.zeros((2, 3, 4), np.float32)
        with pytest.raises(UsageError, match=f"^{out}: is a URL, and {write} writes a local file: give a local path$"):
            getattr(kio, write)(out, data) if write == "write_nifti" else kio.write_output(out, data[0])
        assert list((volumes / "s3:" / "b").iterdir()) == []


def _ct_series(folder: Path, n: int = 4) -> Path:
    pytest.importorskip("pydicom")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_medical_audit104 import ct_series

    ct_series(folder, n=n)
    return folder


def _pixels_dropped(source: Path, folder: Path, tag: str = "PixelData") -> Path:
    """``source``'s DICOM files saved into ``folder`` with their headers whole (Rows, Columns) but no pixel data."""
    import pydicom

    folder.mkdir(parents=True)
    for f in sorted(source.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        delattr(ds, tag)
        ds.save_as(folder / f.name)
    return folder


class TestHeadersWithRowsButNoPixels:
    """225 #2: 'volume study3' (study3/hdr: six CT headers kept whole, PixelData deleted) said 'DICOM files are in
    study3/hdr (6): give that folder', which then failed: 'study3/hdr/IM000.dcm: cannot decode the pixel data'."""

    def test_a_study_does_not_send_to_them(self, tmp_path, invoke):
        _pixels_dropped(_ct_series(tmp_path / "study" / "ct", n=3), tmp_path / "study3" / "hdr")
        r = invoke("volume", "study3", "-k", "box:3vox", "-o", "s3.nii.gz")
        assert r.exit_code == 2 and "give that folder" not in r.stderr, r.stderr
        assert r.stderr.endswith(f"no series to read: {Path('study3/hdr')} (3): DICOM files without an image (headers "
                                 "without pixel data)\n"), r.stderr

    def test_the_folder_itself_names_every_file(self, tmp_path, invoke):
        _pixels_dropped(_ct_series(tmp_path / "ct", n=3), tmp_path / "hdr")
        r = invoke("volume", "hdr", "-k", "box:3vox", "-o", "h.nii.gz")
        assert r.exit_code == 2
        assert r.stderr == ("error: hdr: no DICOM images in this folder (3 DICOM file(s) without an image (headers without "
                            "pixel data): IM000.dcm, IM001.dcm, IM002.dcm)\n")

    def test_a_series_with_its_pixels_is_read_as_before(self, tmp_path, invoke):
        _ct_series(tmp_path / "study" / "ct", n=3)
        r = invoke("volume", "study", "-k", "box:3vox", "-o", "s.nii.gz")
        assert r.exit_code == 2 and f"DICOM files are in {Path('study/ct')} (3): give that folder" in r.stderr
        assert invoke("volume", "study/ct", "-k", "box:3vox", "-o", "s.nii.gz", "-q").exit_code == 0


def _imageless(folder: Path) -> None:
    """One DICOM file of a CT image's SOP class holding no image (no Rows, no pixels)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds.save_as(folder / "h1.dcm", enforce_file_format=True)


class TestASeriesNoteOnItsSubFolders:
    """224 #2: with st/a, st/b, st/c (headers alone) before st/d (a series), 'volume st' (one file of its own) noted
    'st: not read: st/a, ...; st/b, ...; st/c, ...; and 1 more: ...' without 'give that folder', where the refusal of st
    without its own file said 'DICOM files are in st/d (1): give that folder; not st/a (1): ...'."""

    def test_the_note_says_what_the_refusal_says(self, tmp_path, invoke):
        _ct_series(tmp_path / "st" / "d", n=2)
        for sub in "abc":
            _imageless(tmp_path / "st" / sub)
        said = (f"DICOM files are in {Path('st/d')} (2): give that folder; not {Path('st/a')} (1): DICOM files without an "
                f"image (headers without pixel data); {Path('st/b')} (1): ")
        refused = invoke("volume", "st", "-k", "box:3vox", "-o", "st.nii.gz")
        assert refused.exit_code == 2 and said in refused.stderr, refused.stderr
        shutil.copy(next((tmp_path / "st" / "d").glob("*.dcm")), tmp_path / "st" / "top.dcm")
        r = invoke("volume", "st", "-k", "box:3vox", "-o", "st.nii.gz")
        assert r.exit_code == 0, r.stderr
        assert f"note: st: sub-folders not read (a series is read from one folder's own files): {said}" in r.stderr


FORM = "a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a stride)"


class TestAPoolingStepMisspelt:
    """225 #3: 'convolve -k maxpool2' was told the pooling form, 'kernels show maxpool2' and load_kernel('maxpool2')
    'unknown kernel', and 'meanpool2' was 'unknown kernel' everywhere (the bare form's op list had no 'mean')."""

    @pytest.mark.parametrize("word, example", [("maxpool2", "maxpool:2"), ("maxpool", "maxpool:2"), ("meanpool2", "meanpool:2"),
                                               ("avgpool2", "avgpool:2")])
    def test_every_reader_tells_the_form(self, tmp_path, invoke, word, example):
        import kernelcli
        from kernelcli.errors import InvalidKernel

        np.save(tmp_path / "a.npy", np.arange(100.0).reshape(10, 10))
        said = f"'{word}': {FORM}, e.g. {example}"
        r = invoke("convolve", "a.npy", "-k", word, "-o", "z.npy")
        assert (r.exit_code, r.stderr) == (3, f"error: invalid --kernel {said}\n")
        r = invoke("convolve", "a.npy", "-k", "box:3", "--then", word, "-o", "z.npy")
        assert (r.exit_code, r.stderr) == (3, f"error: invalid --then {said}\n")
        r = invoke("kernels", "show", word)
        assert r.exit_code == 3 and r.stderr.startswith(f"error: {said}, and one is no kernel: it has no matrix to show"), r.stderr
        with pytest.raises(InvalidKernel, match=f"^{said.replace('(', '[(]').replace(')', '[)]')}, and one is no kernel"):
            kernelcli.load_kernel(word)

    def test_a_misspelt_name_of_no_pooling_word_is_still_unknown(self, invoke):
        r = invoke("kernels", "show", "sobel_vv")
        assert r.exit_code == 3 and "unknown kernel 'sobel_vv'" in r.stderr
