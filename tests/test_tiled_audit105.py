"""Audit 105 (F2-F4): a dask input is refused as the in-memory call refuses the whole array.

F2: ``dtype="float64"`` on a dask int64 array past 2**53 was refused (conv2d, pool2d, pool3d), where in
memory it takes the rounding.  F3: NaN/inf and int64 past 2**53 were checked tile by tile: a NaN no
window reads passed, counts were a tile's, places were in the tile (pool3d, on the command line too).
F4: the tiled 3-D shape refusal and a volume kernel given an array lost their prefix and file name.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

da = pytest.importorskip("dask.array")

from kernelcli import api, volumes  # noqa: E402
from kernelcli.errors import KernelcliError  # noqa: E402
from kernelcli.tiled import arrays  # noqa: E402

BIG = 2**53 + 1


def _refusal(call) -> str:
    try:
        out = call()
        if hasattr(out, "compute"):
            out.compute()
    except KernelcliError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no refusal"


def _same_refusal(in_memory, tiled) -> None:
    expected = _refusal(in_memory)
    assert expected != "no refusal"
    assert _refusal(tiled) == expected


def run(tmp_path, *args: str):
    return run_in_process(*args, cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})


class TestFloat64TakesTheRounding:
    """F2: dtype='float64' takes the rounding of an int64 past 2**53 on a dask array, as in memory."""

    X = np.full((6, 6), BIG, np.int64)

    @pytest.mark.parametrize("call", [
        lambda a: api.conv2d(a, [[1.0, 2.0]], dtype="float64"),
        lambda a: api.pool2d(a, 2, op="avg", dtype="float64"),
        lambda a: volumes.pool3d(a.reshape(1, 6, 6), (1, 2, 2), op="avg", dtype="float64"),
        lambda a: volumes.conv3d(a.reshape(1, 6, 6), np.ones((1, 1, 2)), dtype="float64"),
    ], ids=["conv2d", "pool2d", "pool3d", "conv3d"])
    def test_the_dask_result_is_the_in_memory_one(self, call):
        ref = call(self.X)
        got = call(da.from_array(self.X, chunks=3)).compute()
        assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes()

    @pytest.mark.parametrize("call", [
        lambda a: api.conv2d(a, [[1.0]], dtype="uint8"),
        lambda a: volumes.conv3d(a.reshape(1, 6, 6), np.ones((1, 1, 1)), dtype="uint8"),
    ], ids=["conv2d", "conv3d"])
    def test_an_integer_dtype_is_refused_as_in_memory(self, call):
        # (the 3-D tiles were given the float64 that takes the rounding: no refusal)
        _same_refusal(lambda: call(self.X), lambda: call(da.from_array(self.X, chunks=3)))


class TestTheWholeInputIsChecked:
    """F3: NaN/inf, int64 past 2**53 and values beyond float32 counted and placed in the whole array."""

    def test_a_nan_no_window_reads_3d(self):
        v = np.ones((9, 8, 8), np.float32)
        v[8, 3, 3] = np.nan
        _same_refusal(lambda: volumes.pool3d(v, 2), lambda: arrays.pool3d(da.from_array(v, chunks=4), 2, chunks=4))

    @pytest.mark.parametrize("mem, tiled", [
        (lambda a: api.pool2d(a, 2), lambda a: arrays.pool2d(a, 2, chunks=4)),
        (lambda a: api.conv2d(a, np.ones((2, 2)), stride=2, padding="valid"),
         lambda a: arrays.conv2d(a, np.ones((2, 2)), stride=2, padding="valid", chunks=4)),
    ], ids=["pool2d", "conv2d"])
    def test_a_nan_no_window_reads_2d(self, mem, tiled):
        x = np.ones((9, 8), np.float32)
        x[8, 3] = np.nan
        _same_refusal(lambda: mem(x), lambda: tiled(da.from_array(x, chunks=4)))

    @pytest.mark.parametrize("mem, tiled", [
        (lambda a: volumes.pool3d(a, 2), lambda a: arrays.pool3d(a, 2, chunks=(8, 8, 10))),
        (lambda a: volumes.conv3d(a, np.ones((3, 3, 3))), lambda a: arrays.conv3d(a, np.ones((3, 3, 3)), chunks=(8, 8, 10))),
        (lambda a: volumes.correlate_separable(a, ([1, 1, 1],) * 3),
         lambda a: arrays.correlate_separable(a, ([1, 1, 1],) * 3, chunks=(8, 8, 10))),
    ], ids=["pool3d", "conv3d", "separable"])
    def test_non_finite_values_in_several_tiles_are_counted_together(self, mem, tiled):
        v = np.ones((8, 8, 40), np.float32)
        v[1, 2, 35] = v[0, 0, 25] = np.nan
        v[3, 3, 36] = np.inf
        _same_refusal(lambda: mem(v), lambda: tiled(da.from_array(v, chunks=(8, 8, 10))))

    def test_pool3d_int64_count_and_place_are_the_whole_volumes(self):
        x = np.zeros((4, 4, 40), np.int64)
        x[2, 3, 30:36] = BIG
        x[1, 1, 25] = 2**53 + 3
        tiled = lambda: arrays.pool3d(da.from_array(x, chunks=(4, 4, 10)), 2, op="avg", chunks=(4, 4, 10))  # noqa: E731
        assert "volume: 7 value(s) past 2**53" in _refusal(tiled) and "at (1, 1, 25)" in _refusal(tiled)
        _same_refusal(lambda: volumes.pool3d(x, 2, op="avg"), tiled)

    @pytest.mark.parametrize("call, v", [
        (lambda a: api.conv2d(a, [[1]], dtype="float32"), (64, 40)),
        (lambda a: api.pool2d(a, 2, op="avg", dtype="float32"), (64, 40)),
        (lambda a: volumes.conv3d(a, np.ones((1, 1, 1)), dtype="float32"), (8, 8, 40)),
        (lambda a: volumes.pool3d(a, 2, dtype="float32"), (8, 8, 40)),
    ], ids=["conv2d", "pool2d", "conv3d", "pool3d"])
    @pytest.mark.parametrize("other", [None, np.nan, np.inf])
    def test_values_beyond_float32_beside_nan_or_inf(self, call, v, other):
        # the 2-D functions cast before the finite check (the cast's infinities counted), the 3-D ones after
        x = np.ones(v)
        x.flat[[35, 1000, 2000]] = [1e39, -1e39, 1e39]
        if other is not None:
            x.flat[5] = other
        chunks = (4,) * x.ndim
        _same_refusal(lambda: call(x), lambda: call(da.from_array(x, chunks=chunks)))

    def test_the_command_line_names_the_file_and_counts_the_whole_volume(self, tmp_path):
        x = np.zeros((4, 4, 40), np.int64)
        x[2, 3, 30:36] = BIG
        x[1, 1, 25] = 2**53 + 3
        np.save(tmp_path / "v64.npy", x)
        base = ["pool", "v64.npy", "--op", "avg", "-f", "2", "--layout", "zyx", "-o", "p.npy"]
        mem, til = run(tmp_path, *base), run(tmp_path, *base, "--tiled", "--chunks", "10")
        assert mem.returncode == til.returncode == 2, til.stderr
        assert til.stderr == mem.stderr, til.stderr
        assert til.stderr.startswith("error: v64.npy: 7 value(s) past 2**53") and "at (1, 1, 25)" in til.stderr
        assert not (tmp_path / "p.npy").exists()

    def test_the_command_line_still_names_a_nan_file(self, tmp_path):
        x = np.ones((9, 8), np.float32)
        x[8, 3] = np.nan
        np.save(tmp_path / "n.npy", x)
        r = run(tmp_path, "pool", "n.npy", "-f", "2", "--tiled", "--chunks", "4", "-o", "p.npy")
        assert r.returncode == 2 and r.stderr.startswith("error: n.npy: "), r.stderr
        assert not (tmp_path / "p.npy").exists()


class TestTiledRefusalsKeepTheirNames:
    """F4: the 3-D shape refusal names the volume, kernel and axis; a volume's kernel names the file."""

    def test_conv3d_empty_output(self):
        v = np.zeros((4, 6, 7), np.float32)
        _same_refusal(lambda: volumes.conv3d(v, np.ones((5, 2, 3)), padding=0),
                      lambda: volumes.conv3d(da.from_array(v, chunks=3), np.ones((5, 2, 3)), padding=0))

    @pytest.mark.parametrize("spec, layout", [("gaussian:1vox", ["--layout", "zyx"]), ("gaussian:1mm", [])])
    def test_a_volume_kernel_given_an_array(self, tmp_path, spec, layout):
        np.save(tmp_path / "v.npy", np.zeros((4, 4, 40), np.float32))
        base = ["convolve", "v.npy", "-k", spec, *layout, "-o", "c.npy"]
        mem, til = run(tmp_path, *base), run(tmp_path, *base, "--tiled", "--chunks", "10")
        assert mem.returncode == til.returncode == 3
        assert til.stderr == mem.stderr and til.stderr.startswith(f"error: v.npy: {spec}: "), til.stderr
