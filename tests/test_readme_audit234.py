"""Audit 234 (the README read as a new user): what a document says is what is done.

#1: a named 3-D kernel's ``kernels show --json`` document says ``"axes": ["z", "y", "x"]``; read back on an RGB image
or a ``--layout chw`` array its z taps were taken for the colour channels and summed into one grey map, exit 0, where
the name is refused (exit 3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.errors import EXIT_KERNEL
from kernelcli.medical.lost_slices import COPY_AGAIN

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def one_line_refusal(result, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[:400])
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr[:400]
    for word in words:
        assert word in result.stderr, (word, result.stderr[:400])
    return result.stderr


class TestAKernelFileThatSaysZyxIsThreeD:
    @pytest.fixture
    def folder(self, tmp_path):
        shown = run_in_process("kernels", "show", "box_3d", "--json")
        assert shown.returncode == 0, shown.stderr
        (tmp_path / "box_3d.json").write_text(shown.stdout, encoding="utf-8")
        np.save(tmp_path / "arr3.npy", np.random.default_rng(1).normal(size=(3, 20, 20)))
        np.save(tmp_path / "k333.npy", np.full((3, 3, 3), 1 / 27))
        return tmp_path

    @pytest.mark.parametrize("args", [[str(SAMPLES / "rgb.png")], ["arr3.npy", "--layout", "chw"],
                                      ["arr3.npy", "--layout", "hwc"], ["arr3.npy", "--layout", "chw", "--tiled"]],
                             ids=["rgb", "chw", "hwc", "chw-tiled"])
    def test_refused_on_an_image_or_a_channels_array_as_the_name_is(self, folder, args):
        if "--tiled" in args:  # (without dask the tiled path is refused first, exit 2, for the name and the file alike)
            pytest.importorskip("dask")
        named = run_in_process("convolve", *args, "-k", "box_3d", "-o", "n.npy", cwd=folder)
        filed = run_in_process("convolve", *args, "-k", "box_3d.json", "-o", "f.npy", cwd=folder)
        one_line_refusal(named, EXIT_KERNEL, "is for a volume input (NIfTI, DICOM or a DICOM series folder)")
        one_line_refusal(filed, EXIT_KERNEL, 'box_3d.json: a 3-D kernel file whose "axes" say z, y, x is for a volume input '
                                             "(NIfTI, DICOM or a DICOM series folder) or a --layout zyx array")
        assert not (folder / "f.npy").exists()

    def test_taken_by_a_zyx_array_and_a_volume(self, folder):
        from scipy import ndimage

        done = run_in_process("convolve", "arr3.npy", "--layout", "zyx", "-k", "box_3d.json", "-o", "z.npy", cwd=folder)
        assert done.returncode == 0, done.stderr
        x = np.load(folder / "arr3.npy")
        expected = ndimage.correlate(x, np.full((3, 3, 3), 1 / 27), mode="constant")
        assert np.allclose(np.load(folder / "z.npy"), expected, atol=1e-5)
        volume = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", "box_3d.json", "-o", "v.nii.gz", cwd=folder)
        assert volume.returncode == 0, volume.stderr

    def test_a_plain_three_d_matrix_stays_a_layer_filter(self, folder):
        done = run_in_process("convolve", "arr3.npy", "--layout", "chw", "-k", "k333.npy", "-o", "c.npy", cwd=folder)
        assert done.returncode == 0, done.stderr
        assert np.load(folder / "c.npy").shape == (20, 20)

    def test_a_batch_fails_the_image_and_runs_the_volume(self, folder):
        import json
        import shutil

        (folder / "b").mkdir()
        shutil.copy(SAMPLES / "rgb.png", folder / "b")
        shutil.copy(SAMPLES / "phantom3d.nii.gz", folder / "b")
        done = run_in_process("convolve", "b", "-k", "box_3d.json", "--out-dir", "o", "--json", cwd=folder)
        items = {Path(item["input"]).name: item for item in json.loads(done.stdout)["items"]}
        assert items["phantom3d.nii.gz"]["status"] == "ok"
        assert items["rgb.png"]["code"] == EXIT_KERNEL and '"axes" say z, y, x' in items["rgb.png"]["error"]

    def test_the_python_api_refuses_it_as_a_layer_filter(self, folder):
        from kernelcli.banks import filter_bank
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import InvalidKernel

        kernel = load_kernel(str(folder / "box_3d.json"), max_ndim=3)
        with pytest.raises(InvalidKernel, match=r'"axes" say z, y, x is for a volume: a \(Z, Y, X\) array takes it in conv3d'):
            filter_bank(np.zeros((8, 8, 3)), [kernel])
        plain = load_kernel(str(folder / "k333.npy"), max_ndim=3)
        assert filter_bank(np.zeros((8, 8, 3)), [plain]).maps.shape == (8, 8, 1)


class TestAMatrixWithAMontageKeepsItsDataOutput:
    """#2: a text matrix's data output is there beside --montage (printed on stdout); --format csv wrote no file and
    the notes said 'the data output ... is not written: only --montage m.png is written' while the matrix was printed."""

    @pytest.fixture
    def folder(self, tmp_path):
        (tmp_path / "example1.csv").write_bytes((SAMPLES / "example1.csv").read_bytes())
        return tmp_path

    def test_format_writes_the_file_as_without_montage(self, folder):
        done = run_in_process("convolve", "example1.csv", "-k", "sobel_v", "--montage", "m.png", "--format", "csv",
                              "--suffix", "mine", cwd=folder)
        assert done.returncode == 0, done.stderr
        alone = run_in_process("convolve", "example1.csv", "-k", "sobel_v", "--format", "csv", "--suffix", "alone", cwd=folder)
        assert alone.returncode == 0, alone.stderr
        assert (folder / "m.png").exists()
        assert (folder / "example1_mine.csv").read_bytes() == (folder / "example1_alone.csv").read_bytes()
        assert "not written" not in done.stderr and "-> example1_mine.csv" in done.stderr

    def test_suffix_alone_gets_the_note_it_gets_without_montage(self, folder):
        done = run_in_process("convolve", "example1.csv", "-k", "sobel_v", "--suffix", "mine", "--montage", "m.png", cwd=folder)
        assert done.returncode == 0, done.stderr
        assert "not written" not in done.stderr
        assert "--suffix 'mine' names the outputs --out does not: a matrix without --out or --format is printed on stdout" in done.stderr
        assert done.stdout.split() == "-9 9 -5 -11 14 -15 7 -12 -9 27 -19 -2 -7 -5 26 -23 -8 6 -2 17 -16 -3 4 0 12".split()
        assert sorted(p.name for p in folder.iterdir()) == ["example1.csv", "m.png"]

    def test_an_image_montage_alone_still_says_its_data_output_is_not_written(self, folder):
        (folder / "p.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
        done = run_in_process("convolve", "p.png", "-k", "sobel_v", "--montage", "m.png", "--format", "npy", cwd=folder)
        assert done.returncode == 0, done.stderr
        assert "--format npy is the data output's type, which is not written: only --montage m.png is written" in done.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["example1.csv", "m.png", "p.png"]


class TestABatchWhoseFolderOrPatternFindsNothingIsRecordedAsABatch:
    """#3: a batch refused because a folder or pattern found no input wrote no --report and printed one bare record
    (``"input": null``), where a missing named file gets the batch document and the report."""

    @pytest.fixture
    def folder(self, tmp_path):
        (tmp_path / "b").mkdir()
        (tmp_path / "empty").mkdir()
        (tmp_path / "b" / "phantom.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
        return tmp_path

    @pytest.mark.parametrize("arg, error", [("b/*.jpg", "b/*.jpg: no files match this pattern"),
                                            ("empty", "empty: no supported input files in this folder")],
                             ids=["pattern", "folder"])
    def test_the_batch_document_and_the_report(self, folder, arg, error):
        import json

        done = run_in_process("convolve", "b/phantom.png", arg, "-k", "sobel_v", "--out-dir", "eo", "--report", "r.json",
                              "--json", cwd=folder)
        one_line_refusal(done, 2, error)
        for document in (json.loads(done.stdout), json.loads((folder / "r.json").read_text())):
            items = [(item["input"], item["status"], item["code"]) for item in document["items"]]
            assert items == [("b/phantom.png", "not run", 2), (arg, "failed", 2)]
            assert document["items"][1]["error"].startswith(error)
            assert document["totals"]["failed"] == 1 and document["totals"]["not_run"] == 1
        assert not (folder / "eo").exists()

    def test_a_missing_named_file_is_recorded_alike(self, folder):
        import json

        done = run_in_process("convolve", "b/phantom.png", "nosuch.png", "-k", "sobel_v", "--out-dir", "eo", "--json", cwd=folder)
        items = [(item["input"], item["status"], item["code"]) for item in json.loads(done.stdout)["items"]]
        assert items == [("b/phantom.png", "not run", 2), ("nosuch.png", "failed", 2)]


class TestAHeaderOnlyCopyOfASliceTheSeriesHas:
    """#4: IM003.dcm whole beside IM003_hdr.dcm, the same instance without its PixelData (an aborted re-copy), was refused
    as 'the volume would be a slice short; copy the file again whole': untrue (the slice is there), and the advice led
    to the duplicate-instance refusal."""

    @pytest.fixture
    def series(self, tmp_path):
        pydicom = pytest.importorskip("pydicom")
        from test_medical_audit104 import ct_series

        folder = tmp_path / "ct"
        ct_series(folder, n=6)
        ds = pydicom.dcmread(folder / "IM003.dcm")
        del ds.PixelData
        ds.save_as(folder / "IM003_hdr.dcm")
        return folder

    def test_refused_naming_both_files(self, series):
        done = run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent)
        said = one_line_refusal(done, 2, "ct/IM003_hdr.dcm: a copy of IM003.dcm without its pixel data",
                                "the series has that slice whole in IM003.dcm; remove IM003_hdr.dcm")
        assert "slice short" not in said and not (series.parent / "ct.nii.gz").exists()
        (series / "IM003_hdr.dcm").unlink()  # the advice followed: the series reads
        assert run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent).returncode == 0

    def test_a_slice_no_image_carries_is_still_a_slice_short(self, series):
        (series / "IM003.dcm").unlink()
        done = run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent)
        one_line_refusal(done, 2, "ct/IM003_hdr.dcm: a slice of this series without pixel data", COPY_AGAIN)
