"""Audit 214 #2: a relative file URL, ``file://x.zarr``, was taken as ``/x.zarr``.

``convolve a.npy -k box:3 -o file://x.zarr`` wrote ``/x.zarr`` at the filesystem root, where fsspec (and so zarr and
dask) read ``file://x.zarr`` as ``./x.zarr``; ``file://a.npy`` as an input was "/a.npy: no such file"; and the URL
refusals named ``file:///od1`` for ``file://od1`` and advised the local path ``/od1``.  The command line's ``Path``
folds ``file://x`` and ``file:///x`` alike, so the URL is now kept as typed (``tiled.urls.URLPath``) and read as fsspec
reads it, everywhere.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process


@pytest.fixture
def arrays(tmp_path):
    for name in "ab":
        np.save(tmp_path / f"{name}.npy", np.ones((8, 8), "f4"))
    return tmp_path


def _unique(suffix: str) -> str:
    return f"kernelcli_audit214_{uuid.uuid4().hex[:8]}{suffix}"


class TestARelativeFileURLIsReadAsFsspecReadsIt:
    def test_an_output_is_written_in_the_current_folder_and_nowhere_else(self, arrays):
        pytest.importorskip("zarr")
        name = _unique(".zarr")
        try:
            r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", f"file://{name}", cwd=arrays)
            assert r.returncode == 0, r.stderr
            assert not os.path.lexists(f"/{name}")
            assert (arrays / name).is_dir()
            assert f"-> {arrays}/{name} " in r.stderr
        finally:
            if os.path.lexists(f"/{name}"):
                import shutil

                shutil.rmtree(f"/{name}", ignore_errors=True)

    def test_an_input_is_read_from_the_current_folder(self, arrays):
        pytest.importorskip("zarr")
        r = run_in_process("convolve", "file://a.npy", "-k", "box:3", "-o", "fa.npy", cwd=arrays)
        assert r.returncode == 0, r.stderr
        assert np.load(arrays / "fa.npy").shape == (8, 8)

    def test_an_absolute_file_url_stays_absolute(self, arrays):
        pytest.importorskip("zarr")
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", f"file://{arrays}/abs.zarr", cwd=arrays)
        assert r.returncode == 0, r.stderr
        assert (arrays / "abs.zarr").is_dir()


class TestARefusedFileURLIsNamedAsTyped:
    def test_out_dir(self, arrays):
        r = run_in_process("convolve", "a.npy", "b.npy", "-k", "box:3", "--out-dir", "file://od1", cwd=arrays)
        assert (r.returncode, r.stderr) == (2, "error: --out-dir file://od1: is a URL, and a batch writes local files: "
                                               f"give it as the local path {arrays}/od1\n")

    def test_report(self, arrays):
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", "x.npy", "--report", "file://r.json", cwd=arrays)
        assert (r.returncode, r.stderr) == (2, "error: --report file://r.json: is a URL, and the report is a file: "
                                               f"give it as the local path {arrays}/r.json\n")
        assert not (arrays / "x.npy").exists()


class TestLocalPathAgreesWithFsspec:
    @pytest.mark.parametrize("url", ["file://x.zarr", "file:/x.zarr", "file:///x.zarr", "local://x.zarr", "local:///x.zarr",
                                     "file://./a/x.zarr", "file://sub/x.zarr/", "file://~/x.zarr", "file://."])
    def test_every_spelling(self, tmp_path, monkeypatch, url):
        fsspec = pytest.importorskip("fsspec")
        from kernelcli.tiled.urls import as_url, local_path

        monkeypatch.chdir(tmp_path)
        assert local_path(url) == fsspec.core.url_to_fs(url)[1]
        assert as_url(url) == f"file://{fsspec.core.url_to_fs(url)[1]}"

    def test_the_command_line_keeps_what_pathlib_folds(self, tmp_path, monkeypatch):
        from kernelcli.cli._lean import lean_path
        from kernelcli.tiled.urls import as_url, refuse_url
        from kernelcli.errors import UsageError

        monkeypatch.chdir(tmp_path)
        assert as_url(lean_path("file://x.zarr")) == f"file://{tmp_path}/x.zarr"
        assert as_url(lean_path("file:///x.zarr")) == "file:///x.zarr"
        assert as_url(str(lean_path("file://x.zarr"))) == f"file://{tmp_path}/x.zarr"  # (its text alone says so too)
        with pytest.raises(UsageError, match=f"^file://r.json: is a URL, and the report is a file: give it as the local "
                                             f"path {tmp_path}/r.json$"):
            refuse_url(lean_path("file://r.json"), "the report is a file")
        assert Path(lean_path("a.png")) == Path("a.png")
