"""The command line's "expected one of ..." list offers ``.zarr`` only where the call could write it (review 169 #4):
``-o t.zzz`` of a PNG input, or of a filter bank, listed .zarr, and ``-o t.zarr`` was then refused ("the tiled path
reads Zarr stores, TIFF and .npy", "the tiled path takes one --kernel")."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process

#: what each call takes, whatever its input of that type holds (review 170 #2: a PNG may be 16-bit or colour, a float
#: .npy colour too, which a float TIFF, a .csv and a picture refuse)
PNG, BANK, NPY = ".npy, .png, .tif, .tiff", ".npy, .tif, .tiff", ".npy"


@pytest.fixture()
def files(tmp_path):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    np.save(tmp_path / "f.npy", np.random.default_rng(0).random((16, 16)))
    return tmp_path


def _listed(r, out):
    assert r.returncode == 2, r.stderr
    head = f"error: {out}: unsupported output type '.zzz': expected "
    assert r.stderr.startswith(head), r.stderr
    return r.stderr.removeprefix(head).removeprefix("one of ").strip()


@pytest.mark.parametrize("args", [["convolve", "phantom.png", "-k", "box:3"], ["pool", "phantom.png", "-f", "2"],
                                  ["pad", "phantom.png", "-p", "1"], ["convolve", "phantom.png", "-k", "box:3", "-k", "sobel_v"],
                                  ["convolve", "f.npy", "-k", "box:3", "-k", "sobel_v"],
                                  ["convolve", "f.npy", "-k", "sobel_v", "--montage", "m.png"]],
                         ids=["png", "pool-png", "pad-png", "bank-png", "bank-npy", "montage"])
def test_no_zarr_where_the_call_cannot_write_it(files, args):
    expected = {"phantom.png": PNG}.get(args[1], NPY) if args.count("-k") + args.count("-f") + args.count("-p") == 1 else BANK
    assert _listed(run_in_process(*args, "-o", "t.zzz", cwd=files), "t.zzz") == expected


@pytest.mark.parametrize("args", [["convolve", "f.npy", "-k", "box:3"], ["pool", "f.npy", "-f", "2"], ["pad", "f.npy", "-p", "1"]],
                         ids=["convolve", "pool", "pad"])
def test_zarr_where_the_call_writes_it(files, args):
    pytest.importorskip("dask")  # (a .zarr output is written tile by tile: the [distributed] extra)
    pytest.importorskip("zarr")
    assert _listed(run_in_process(*args, "-o", "t.zzz", cwd=files), "t.zzz") == NPY + ", .zarr"
    r = run_in_process(*args, "-o", "t.zarr", "-q", cwd=files)
    assert r.returncode == 0 and (files / "t.zarr").is_dir(), r.stderr
