"""A tiled input's array refused in the ``.npy`` reader's words (audit 146 #5).

A complex or empty Zarr store (or ``.npy`` read tile by tile) was refused "c.zarr: x: expected real numbers, got dtype
complex64" and "zero.zarr: x: the array is empty (shape (0, 20))": ``x`` is the Python API's argument, which the user
never typed.  The file is the field: "c.zarr: expected a numeric array, got dtype complex64", as ``.npy`` says in memory.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

zarr = pytest.importorskip("zarr")
pytest.importorskip("dask")


@pytest.fixture
def files(tmp_path):
    zarr.open(str(tmp_path / "c.zarr"), mode="w", shape=(20, 20), chunks=(8, 8), dtype="c8")[:] = 1
    zarr.open(str(tmp_path / "zero.zarr"), mode="w", shape=(0, 20), chunks=(8, 8), dtype="f4")
    np.save(tmp_path / "c.npy", np.ones((4, 4), "c16"))
    np.save(tmp_path / "e.npy", np.ones((0, 4), "f4"))
    return tmp_path


CALLS = [["pool", "-f", "2"], ["pad", "-p", "1"], ["convolve", "-k", "box:3"]]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c[0])
@pytest.mark.parametrize("name, said", [
    ("c.zarr", "c.zarr: expected a numeric array, got dtype complex64"),
    ("zero.zarr", "zero.zarr: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (0, 20)"),
    ("c.npy", "c.npy: expected a numeric array, got dtype complex128"),
    ("e.npy", "e.npy: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (0, 4)"),
])
def test_refused_naming_the_file_without_the_api_argument(files, call, name, said):
    r = run_in_process(call[0], name, *call[1:], "--tiled", "-o", "o.npy", cwd=files)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"error: {said}", r.stderr
    assert not (files / "o.npy").exists()


def test_the_npy_in_memory_says_the_same_of_the_dtype(files):
    r = run_in_process("convolve", "c.npy", "-k", "box:3", "-o", "o.npy", cwd=files)
    assert r.returncode == 2 and r.stderr.strip() == "error: c.npy: expected a numeric array, got dtype complex128", r.stderr


def test_the_api_keeps_naming_its_argument():
    da = pytest.importorskip("dask.array")
    from kernelcli.errors import UsageError
    from kernelcli.tiled.arrays import pool2d

    with pytest.raises(UsageError, match="^x: expected real numbers, got dtype complex64$"):
        pool2d(da.ones((4, 4), dtype="c8"), 2)
