"""Audit 226: a series slice without pixel data, --json records on a stdout that is an input, a matrix's record on a
full disk, advice that is then refused, and a folder given one .zarr output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kernelcli.medical.lost_slices import COPY_AGAIN

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _ct_series(folder: Path, n: int = 5) -> Path:
    pytest.importorskip("pydicom")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_medical_audit104 import ct_series

    ct_series(folder, n=n)
    return folder


def _without_pixels(path: Path, cut: bool = False) -> None:
    """``path``'s header kept whole, its pixel data deleted, or (``cut``) the file cut off where the pixel data starts."""
    import pydicom

    if cut:
        data = path.read_bytes()
        path.write_bytes(data[:data.rindex(b"\xe0\x7f\x10\x00")])
        return
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)


class TestASliceWithoutPixelData:
    """226 #3: 'volume ser2' (5 slices, the last one's PixelData deleted) read 4 slices, exit 0, noting IM4.dcm as 'not
    a DICOM image'; a middle one was refused as an uneven gap that never named it."""

    @pytest.mark.parametrize("slice_, cut", [(4, False), (2, False), (4, True)], ids=["last", "middle", "cut-off"])
    def test_the_series_is_refused_naming_the_file(self, tmp_path, invoke, slice_, cut):
        _without_pixels(_ct_series(tmp_path / "ser") / f"IM{slice_:03d}.dcm", cut)
        r = invoke("volume", "ser", "-k", "box:3vox", "-o", "s.nii.gz")
        assert r.exit_code == 2, r.stderr
        assert r.stderr == (f"error: {Path('ser') / f'IM{slice_:03d}.dcm'}: a slice of this series without pixel data (its "
                            "header states a 128x128 image, but no Pixel Data follows: deleted, or a copy cut off where its "
                            f"pixels start): {COPY_AGAIN}\n")
        assert not (tmp_path / "s.nii.gz").exists()

    def test_the_api_refuses_it_too(self, tmp_path):
        from kernelcli import medical
        from kernelcli.errors import ImageReadError

        _without_pixels(_ct_series(tmp_path / "ser") / "IM004.dcm")
        with pytest.raises(ImageReadError, match="IM004.dcm: a slice of this series without pixel data"):
            medical.read_volume(tmp_path / "ser")

    def test_a_dicom_file_stating_no_image_is_set_aside_with_a_note(self, tmp_path):
        import pydicom
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, generate_uid

        from kernelcli import medical

        folder = _ct_series(tmp_path / "ser")
        sr = Dataset()  # a structured report of the series: no Rows, no image
        sr.file_meta = FileMetaDataset()
        sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        sr.SOPClassUID = sr.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
        sr.SOPInstanceUID = sr.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        sr.SeriesInstanceUID, sr.Modality = pydicom.dcmread(folder / "IM000.dcm").SeriesInstanceUID, "SR"
        sr.save_as(folder / "sr.dcm", enforce_file_format=True)
        (folder / "readme.txt").write_text("scan notes")
        vol = medical.read_volume(folder)
        assert vol.data.shape[0] == 5
        assert "ser: skipped 1 file(s) that are not DICOM images (readme.txt)" in vol.notes
        assert ("ser: skipped 1 DICOM file(s) without an image (headers without pixel data), no slice of the series read "
                "(sr.dcm)") in vol.notes

    def test_a_header_of_another_series_is_set_aside_with_a_note(self, tmp_path):
        import pydicom

        from kernelcli import medical

        folder = _ct_series(tmp_path / "ser")
        ds = pydicom.dcmread(folder / "IM000.dcm")
        ds.SeriesInstanceUID, ds.SOPInstanceUID = "1.2.3.999", "1.2.3.999.1"
        del ds.PixelData
        ds.save_as(folder / "other.dcm")
        vol = medical.read_volume(folder)
        assert vol.data.shape[0] == 5
        assert any("skipped 1 DICOM file(s) without an image" in note and "(other.dcm)" in note for note in vol.notes)


def _appended_to(path: Path, *args: str, cwd: Path, stdin: Path | None = None, **env: str):
    """``python -m kernelcli ARGS >> path`` (``< stdin``) in a process of its own."""
    import subprocess

    from conftest import process_env

    with open(path, "ab") as out, open(stdin or path, "rb") as given:
        return subprocess.run([sys.executable, "-m", "kernelcli", *args], stdin=given if stdin else None, stdout=out,
                              stderr=subprocess.PIPE, text=True, cwd=cwd, env={**process_env(), **env}, timeout=120)


#: a stop before any command took the call, said as _start_stops and _fast say it
_STOPPED = "import sys; from kernelcli.cli._before import interrupted; sys.exit(interrupted(sys.argv[1:], KeyboardInterrupt()))"


class TestNoRecordIntoAnInputBeforeParsing:
    """226 #1: 'convolve m.csv -k box:3 --stride 0 --json >> m.csv' (a bad option value), KERNELCLI_WORKER=bogus and a
    stop before the command took the call printed the --json failure record into m.csv, which no longer read."""

    @pytest.fixture
    def files(self, tmp_path):
        import numpy as np

        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        np.save(tmp_path / "k.npy", np.ones((3, 3)))
        return tmp_path

    @pytest.mark.parametrize("stdout, args, env", [
        ("m.csv", ["convolve", "m.csv", "-k", "box:3", "--stride", "0"], {}),
        ("m.csv", ["convolve", "--stride=0", "-k", "box:3", "m.csv"], {}),
        ("k.npy", ["convolve", "m.csv", "-k", "k.npy", "--stride", "0"], {}),
        ("m.csv", ["pool", "m.csv", "-f", "0"], {}),
        ("m.csv", ["convolve", "m.csv", "-k", "box:3"], {"KERNELCLI_WORKER": "bogus"}),
    ], ids=["bad-value", "value-first", "kernel-file", "pool", "bad-setting"])
    def test_the_input_unchanged(self, files, stdout, args, env):
        before = (files / stdout).read_bytes()
        r = _appended_to(files / stdout, *args, "--json", cwd=files, **env)
        assert r.returncode == 2, r.stderr
        assert (files / stdout).read_bytes() == before
        assert r.stderr.endswith(f" (--json: no record printed: stdout is {stdout}, which this call reads)\n"), r.stderr
        assert r.stderr.count("\n") == 1

    def test_stdins_file(self, files):
        before = (files / "m.csv").read_bytes()
        r = _appended_to(files / "m.csv", "convolve", "-", "-k", "box:3", "--stride", "0", "--json", cwd=files,
                         stdin=files / "m.csv")
        assert r.returncode == 2 and (files / "m.csv").read_bytes() == before, r.stderr
        assert "(--json: no record printed: stdout is stdin, which this call reads)" in r.stderr

    def test_a_stop_before_the_command(self, files):
        import subprocess

        from conftest import process_env

        before = (files / "m.csv").read_bytes()
        with open(files / "m.csv", "ab") as out:
            r = subprocess.run([sys.executable, "-c", _STOPPED, "convolve", "m.csv", "-k", "box:3", "--json"], stdout=out,
                               stderr=subprocess.PIPE, text=True, cwd=files, env=process_env(), timeout=120)
        assert r.returncode == 130 and (files / "m.csv").read_bytes() == before, r.stderr
        assert r.stderr.endswith("(--json: no record printed: stdout is m.csv, which this call reads)\n"), r.stderr

    def test_another_stdout_file_still_gets_the_record(self, files):
        import json

        (files / "r.json").write_bytes(b"")
        r = _appended_to(files / "r.json", "convolve", "m.csv", "-k", "box:3", "--stride", "0", "--json", cwd=files)
        assert r.returncode == 2 and "no record printed" not in r.stderr
        assert json.loads((files / "r.json").read_text())["code"] == 2


class TestAMatrixRecordSaysItsReportUnwritten:
    """226 #2: 'pool m.csv -f 2 --report full/r.json --json' (a report that cannot be written) printed a record whose
    "notes" were [], where a file output's record carries "--report full/r.json: not written: ..."."""

    @pytest.fixture
    def folder(self, tmp_path):
        import numpy as np

        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        return tmp_path

    @pytest.mark.parametrize("args", [["pool", "m.csv", "-f", "2"], ["convolve", "m.csv", "-k", "box:3"],
                                      ["convolve", "m.csv", "-k", "box:3", "-o", "x.npy"]], ids=["pool", "convolve", "file"])
    def test_the_record_has_the_note(self, folder, args):
        import json

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from test_records_audit223 import limited

        r = limited(*args, "--report", "r.json", "--json", cwd=folder, fsize=450)
        assert r.returncode == 1, r.stderr
        record = json.loads(r.stdout)
        assert record["status"] == "ok" and record["error"] is None
        assert record["notes"] == ["--report r.json: not written: write failed: File too large; the destination is untouched"]
        assert not (folder / "r.json").exists()

    def test_a_stdout_that_does_not_take_the_record_leaves_the_report_failed(self, folder):
        import json
        import subprocess

        from conftest import process_env

        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full")
        with open("/dev/full", "w") as full:
            r = subprocess.run([sys.executable, "-m", "kernelcli", "pool", "m.csv", "-f", "2", "--report", "r.json", "--json"],
                               stdout=full, stderr=subprocess.PIPE, text=True, cwd=folder, env=process_env(), timeout=120)
        assert r.returncode == 1, r.stderr
        item = json.loads((folder / "r.json").read_text())["items"][0]
        assert item["status"] == "failed" and item["error"] == "stdout: cannot write: No space left on device"
        assert item["output_shape"] is None


class TestAVolumesPoolingStep:
    """226 #4: 'volume p3.nii.gz -k maxpool2' was told 'e.g. maxpool:2 ... convolve takes it as --kernel', and
    '-k maxpool:2' was then refused: 'a pooling step works on images and arrays'."""

    @pytest.mark.parametrize("command", ["volume", "convolve"])
    @pytest.mark.parametrize("spec", ["maxpool2", "max_pool", "maxpool:x", "pool : 2", "maxpool:2"])
    def test_the_volumes_own_words_at_once(self, tmp_path, invoke, command, spec):
        pytest.importorskip("nibabel")
        import shutil

        shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path / "p3.nii.gz")
        r = invoke(command, "p3.nii.gz", "-k", spec, "-o", "x.nii.gz")
        assert r.exit_code == 2, r.stderr
        assert r.stderr == (f"error: {spec}: a pooling step works on images and arrays; a volume is pooled in 3-D by "
                            "`kernelcli pool VOLUME --size F` (as max_pool3d)\n")
        assert not (tmp_path / "x.nii.gz").exists()


class TestAdviceThatWorks:
    """226 #5: '-o file:q.png' was told 'write file://q.png for the URL', which is refused (a URL output is a .zarr or
    .npy written tile by tile; a volume's output is local); a volume batch with a URL --out-dir was told '-o URL.zarr',
    refused for every volume."""

    @pytest.mark.parametrize("args, name", [
        (["convolve", "in.png", "-k", "box:3", "-o", "file:q.png"], "q.png"),
        (["pool", "p3.nii.gz", "-f", "2", "-o", "file:pp.nii.gz"], "pp.nii.gz"),
        (["convolve", "in.png", "-k", "box:3", "-o", "local:q2.png"], "q2.png"),
    ], ids=["png", "volume", "local"])
    def test_the_advice_is_followed_without_a_second_refusal(self, tmp_path, invoke, args, name):
        pytest.importorskip("nibabel")
        import shutil

        shutil.copy(SAMPLES / "phantom.png", tmp_path / "in.png")
        shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path / "p3.nii.gz")
        typed = args[-1]
        r = invoke(*args)
        assert r.exit_code == 2
        assert (f"{typed}: reads two ways: as a URL, ./{name} (fsspec and dask read it so), or as the name of a file or "
                f"folder {typed} (zarr and the file system read it so): write ./{name} for the path the URL names, or "
                f"./{typed} for the name") in r.stderr, r.stderr
        for advised in (f"./{name}", f"./{typed}"):
            assert invoke(*args[:-1], advised).exit_code == 0, advised

    @pytest.mark.parametrize("inputs, hint", [(["p3.nii.gz"], False), (["in.png"], False), (["a.npy"], True)],
                             ids=["volumes", "images", "arrays"])
    def test_a_batch_is_told_a_url_output_only_where_one_is_taken(self, tmp_path, invoke, inputs, hint):
        pytest.importorskip("nibabel")
        import shutil

        import numpy as np

        (tmp_path / "b").mkdir()
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "b" / "in.png")
        shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path / "b" / "p3.nii.gz")
        np.save(tmp_path / "b" / "a.npy", np.ones((9, 9), np.float32))
        for name in {"p3.nii.gz", "in.png", "a.npy"} - set(inputs):
            (tmp_path / "b" / name).unlink()
        kernel = "box:3vox" if inputs == ["p3.nii.gz"] else "box:3"
        r = invoke("convolve", "b", "-k", kernel, "--out-dir", "s3://b/o")
        assert r.exit_code == 2
        assert r.stderr.startswith("error: --out-dir s3://b/o: is a URL, and a batch writes local files: give --out-dir a "
                                   "local folder"), r.stderr
        assert ("(one input goes to a URL with -o URL.zarr)" in r.stderr) == hint


class TestAFolderGivenOneZarrOutput:
    """226 #6: 'convolve imgs -k box:3 -o w6.zarr' (a plain folder of PNGs; 'pad vb -p 2 -o w5.zarr' of volumes alike)
    said 'imgs: not a Zarr store: No group found in store StorePath(LocalStore, ...)', zarr's own words."""

    ONE_OUTPUT = "error: --out names one output file; for several inputs, a folder or a pattern use --out-dir DIR\n"

    @pytest.fixture
    def folders(self, tmp_path):
        import shutil

        (tmp_path / "imgs").mkdir()
        (tmp_path / "vb").mkdir()
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "imgs" / "a.png")
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "imgs" / "b.png")
        shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path / "vb" / "p3.nii.gz")
        return tmp_path

    @pytest.mark.parametrize("args", [
        ["convolve", "imgs", "-k", "box:3", "-o", "w6.zarr"],
        ["convolve", "imgs/*.png", "-k", "box:3", "-o", "w6.zarr"],
        ["pool", "imgs", "-f", "2", "-o", "w7.zarr"],
        ["pad", "imgs", "-p", "2", "-o", "w8.zarr"],
        ["pad", "vb", "-p", "2", "-o", "w5.zarr"],
    ], ids=["convolve", "pattern", "pool", "pad", "pad-volumes"])
    def test_refused_as_another_output_is(self, folders, invoke, args):
        pytest.importorskip("zarr")
        r = invoke(*args)
        assert (r.exit_code, r.stderr) == (2, self.ONE_OUTPUT)
        assert not (folders / args[-1]).exists()

    def test_tiled_is_refused_for_several_inputs(self, folders, invoke):
        pytest.importorskip("zarr")
        r = invoke("convolve", "imgs", "-k", "box:3", "--tiled", "-o", "w9.zarr")
        assert (r.exit_code, r.stderr) == (2, "error: --tiled works on one input; several inputs take --scheduler or --workers\n")

    def test_a_store_named_otherwise_is_still_one_input(self, folders, invoke):
        zarr = pytest.importorskip("zarr")
        import numpy as np

        zarr.save_array(str(folders / "plainst"), np.ones((9, 9), np.float32))
        r = invoke("convolve", "plainst", "-k", "box:3", "-o", "ps.zarr")
        assert r.exit_code == 0, r.stderr
        assert (folders / "ps.zarr").is_dir()
