"""Audit 208 #1: a URL where kernelcli writes or reads local files alone.

``--out-dir s3://b/od`` wrote the batch to the local folder ``./s3:/b/od`` (the command line's ``Path`` folds ``//``),
exit 0, where ``-o s3://b/o.npy`` is refused; ``--report`` and ``--montage`` URLs alike (``./memory:/b/r.json``); URL
inputs in a batch were each "memory:/b/a.zarr: no such file".  Now each is refused, exit 2, naming the URL as typed,
and nothing is written on the local disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process


@pytest.fixture
def arrays(tmp_path):
    for name in "ab":
        np.save(tmp_path / f"{name}.npy", np.ones((20, 20), "f4"))
    return tmp_path


def _nothing_local(folder: Path) -> None:
    made = [p.name for p in folder.iterdir() if ":" in p.name]
    assert made == [], made


class TestAURLOutDirIsRefused:
    @pytest.mark.parametrize("command, options", [("convolve", ["-k", "box:3"]), ("pool", ["-f", "2"]), ("pad", ["-p", "2"])])
    @pytest.mark.parametrize("url", ["s3://b/od", "memory://b/od"])
    def test_every_batch_command(self, arrays, command, options, url):
        r = run_in_process(command, "a.npy", "b.npy", *options, "--out-dir", url, "--workers", "1", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith(f"error: --out-dir {url}: is a URL, and a batch writes local files"), r.stderr
        _nothing_local(arrays)

    def test_one_input_with_out_dir_too(self, arrays):
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "--out-dir", "s3://b/od", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert "--out-dir s3://b/od: is a URL" in r.stderr
        _nothing_local(arrays)

    def test_on_a_scheduler(self, arrays):
        pytest.importorskip("dask")
        pytest.importorskip("distributed")
        r = run_in_process("convolve", "a.npy", "b.npy", "-k", "box:3", "--out-dir", "s3://b/od", "--scheduler", "local",
                           "--workers", "1", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert "--out-dir s3://b/od: is a URL" in r.stderr
        _nothing_local(arrays)

    def test_a_file_url_is_told_its_local_path(self, arrays):
        r = run_in_process("convolve", "a.npy", "b.npy", "-k", "box:3", "--out-dir", f"file://{arrays}/od", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert f"give it as the local path {arrays}/od" in r.stderr
        _nothing_local(arrays)


class TestURLInputsInABatchAreRefused:
    @pytest.mark.parametrize("inputs", [["memory://b/a.zarr", "memory://b/b.zarr"], ["s3://b/a.zarr", "a.npy"]])
    def test_named_with_both_slashes(self, arrays, inputs):
        r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "ob", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith(f"error: {inputs[0]}: is a URL, and a batch reads local files"), r.stderr
        assert "no such file" not in r.stderr

    def test_before_the_out_dir_advice(self, arrays):
        r = run_in_process("convolve", "s3://b/a.zarr", "a.npy", "-k", "box:3", cwd=arrays)
        assert r.returncode == 2, r.stderr
        assert "s3://b/a.zarr: is a URL" in r.stderr


class TestAURLFileOutputIsRefused:
    def test_report(self, arrays):
        for extra in (["-o", "o.npy"], ["b.npy", "--out-dir", "od"]):
            r = run_in_process("convolve", "a.npy", *extra, "-k", "box:3", "--report", "memory://b/r.json", cwd=arrays)
            assert r.returncode == 2, r.stderr
            assert r.stderr.startswith("error: --report memory://b/r.json: is a URL"), r.stderr
            _nothing_local(arrays)

    def test_montage(self, tmp_path):
        r = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-k", "sobel_h", "-o", "x.npy",
                           "--montage", "memory://b/m.png", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error: --montage memory://b/m.png: is a URL"), r.stderr
        _nothing_local(tmp_path)


class TestTheBatchLayerRefusesThemToo:
    def test_plan_and_discover(self, arrays, monkeypatch):
        from kernelcli.batch_plan import discover
        from kernelcli.batch_targets import plan
        from kernelcli.errors import UsageError

        monkeypatch.chdir(arrays)
        with pytest.raises(UsageError, match=r"^--out-dir s3://b/od: is a URL"):
            plan(discover(["a.npy"]), out_dir="s3://b/od", suffix="x")
        with pytest.raises(UsageError, match=r"^memory://b/a.zarr: is a URL"):
            discover([Path("memory://b/a.zarr")])


class TestAGallerySheetURLIsRefused:
    """gallery's -o was left out: 'gallery phantom.png -o memory://g/g.png' wrote ./memory:/g/g.png, exit 0, where a
    local folder ./memory:/g existed (else "the folder memory:/g does not exist", the URL folded)."""

    @pytest.mark.parametrize("url", ["memory://g/g.png", "s3://g/g.png"])
    def test_refused_even_where_its_folded_spelling_is_a_local_folder(self, tmp_path, url):
        (tmp_path / "phantom.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
        folded = tmp_path / url.replace("//", "/").rsplit("/", 1)[0]
        folded.mkdir(parents=True)
        r = run_in_process("gallery", "phantom.png", "-o", url, cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, f"error: {url}: is a URL, and a gallery's sheet is a file: give a local path\n")
        assert list(folded.iterdir()) == []

    def test_in_the_api(self, tmp_path):
        from kernelcli.errors import UsageError
        from kernelcli.jobs_gallery import gallery_file

        with pytest.raises(UsageError, match="is a URL, and a gallery's sheet is a file"):
            gallery_file(SAMPLES / "phantom.png", out="memory://g/g.png")
