"""A long-double ``.npy`` tile by tile is taken as float64, as in memory (audit 152 #3, #4).

``pool`` (max, min) and ``pad`` of a long-double ``.npy`` with ``--tiled``/``--chunks`` wrote float128 where the
in-memory run writes float64 (other bytes from one call), and into ``.zarr`` they failed with exit 70 (zarr has
no float128).  The dask arrays behind them declared float128 while their tiles computed float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

zarr = pytest.importorskip("zarr")
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="no long double wider than float64 here")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "ld.npy", (rng.standard_normal((20, 17)) * 100).astype(np.longdouble))
    np.save(tmp_path / "ld3.npy", (rng.standard_normal((3, 20, 17)) * 100).astype(np.longdouble))
    big = np.ones((20, 17), np.longdouble)
    big[3, 4] = np.longdouble("1e400")
    np.save(tmp_path / "big.npy", big)
    return tmp_path


CALLS = [
    ("ld.npy", ["pool", "-f", "2"]),
    ("ld.npy", ["pool", "-f", "2", "--op", "min"]),
    ("ld.npy", ["pad", "-p", "2", "-m", "reflect"]),
    ("ld3.npy", ["pool", "-f", "2", "--layout", "zyx"]),
    ("ld3.npy", ["pool", "-f", "2", "--layout", "zyx", "--op", "min"]),
    ("ld.npy", ["convolve", "-k", "box:3"]),
]


def _run(files, name, call, out, *extra):
    r = run_in_process(call[0], name, *call[1:], "-o", out, "-q", *extra, cwd=files)
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize("name, call", CALLS, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_tiled_npy_and_zarr_equal_the_in_memory_bytes(files, name, call):
    _run(files, name, call, "m.npy")
    _run(files, name, call, "t.npy", "--chunks", "4")
    _run(files, name, call, "t.zarr", "--chunks", "4")
    ref = np.load(files / "m.npy")
    assert ref.dtype == np.float64
    for got in (np.load(files / "t.npy"), zarr.open(str(files / "t.zarr"), mode="r")[:]):
        assert got.dtype == ref.dtype and got.shape == ref.shape
        assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("call", [["pool", "-f", "2"], ["pad", "-p", "1"]], ids=lambda c: c[0])
def test_beyond_float64_refused_as_in_memory(files, call):
    said = []
    for extra in ([], ["--tiled"]):
        r = run_in_process(call[0], "big.npy", *call[1:], "-o", "o.npy", *extra, cwd=files)
        assert r.returncode == 2, r.stderr
        said.append(r.stderr.strip())
        assert not (files / "o.npy").exists()
    assert said[0] == said[1]
    assert "beyond float64's range" in said[0] and "big.npy" in said[0]


@pytest.mark.parametrize("build", [
    lambda x: __import__("kernelcli").pool2d(x, 2),
    lambda x: __import__("kernelcli").pool2d(x, 2, op="min"),
    lambda x: __import__("kernelcli").pad2d(x, 2, pad_mode="reflect"),
    lambda x: __import__("kernelcli").pool3d(x.reshape(4, 5, 17), 2),
], ids=["max", "min", "pad", "pool3d"])
def test_the_api_declares_the_dtype_it_computes(build):
    x = (np.random.default_rng(1).standard_normal((20, 17)) * 100).astype(np.longdouble)
    lazy = build(da.from_array(x, chunks=5))
    ref = build(x)
    got = lazy.compute()
    assert lazy.dtype == got.dtype == ref.dtype == np.float64
    assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("name", ["conv2d", "pool2d", "pool3d"])
def test_a_float32_dtype_rounds_through_float64_as_in_memory(name):
    # 1 + 2**-24 + 2**-60: straight to float32 it rounds up; through float64 (as in memory) it ties down to 1
    import kernelcli

    x = np.full((4, 4), np.longdouble(1) + np.longdouble(2) ** -24 + np.longdouble(2) ** -60)
    call = {"conv2d": lambda v: kernelcli.conv2d(v, [[1.0]], dtype="float32"),
            "pool2d": lambda v: kernelcli.pool2d(v, 2, dtype="float32"),
            "pool3d": lambda v: kernelcli.pool3d(v.reshape(1, 4, 4), 1, dtype="float32")}[name]
    ref = call(x)
    got = call(da.from_array(x, chunks=2)).compute()
    assert (ref == 1).all()
    assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes()
