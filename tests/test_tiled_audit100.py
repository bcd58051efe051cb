"""Audit 100 (the tiled path, round 4): what a tile gives equals what the whole image gives.

F1: a separable pass that overflows in one place (rows of +1e38 beside -1e38) made the tiles that
read those cells sum every window densely while the other tiles kept the separable sums, where
the whole image had taken the dense loop everywhere: millions of cells differed in their last bits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import kernelcli  # noqa: E402
from kernelcli._core.policy import Paths  # noqa: E402
from kernelcli.tiled import arrays  # noqa: E402


def _striped(shape, rows: int = 4) -> np.ndarray:
    """Random normal values; the first ``rows`` along axis 0 alternate +1e38/-1e38 along the last axis
    (a 4-tap separable pass overflows there, every window of a 4-wide box still sums to a finite value)."""
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    stripe = np.where(np.arange(shape[-1]) % 2 == 0, 1e38, -1e38).astype(np.float32)
    x[:rows] = stripe
    return x


def _same_bytes(got: np.ndarray, ref: np.ndarray) -> None:
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert np.isfinite(ref).all()
    assert got.tobytes() == ref.tobytes(), f"{np.count_nonzero(got != ref)} cells differ"


class TestSeparableOverflowTileByTile:
    @pytest.mark.parametrize("paths", ["warm", None])
    def test_conv2d_tiles_equal_the_whole_image(self, paths):
        x, k = _striped((128, 128)), np.ones((4, 4))
        ref = kernelcli.conv2d(x, k, pad_mode="circular", paths=paths)
        got = arrays.conv2d(da.from_array(x, chunks=32), k, pad_mode="circular", paths=paths, chunks=32).compute()
        _same_bytes(got, ref)

    @pytest.mark.parametrize("paths", ["warm", None])
    def test_conv3d_tiles_equal_the_whole_volume(self, paths):
        x, k = _striped((24, 20, 20)), np.ones((4, 4, 4))
        ref = kernelcli.conv3d(x, k, pad_mode="circular", paths=paths)
        got = arrays.conv3d(da.from_array(x, chunks=(8, 20, 20)), k, pad_mode="circular", paths=paths, chunks=8).compute()
        _same_bytes(got, ref)

    def test_each_window_keeps_its_own_sum(self):
        # where the separable pass overflowed, the dense loop's sum of that window; elsewhere the separable sum
        # (a rule of each window alone, so a tile gives what the whole image gives)
        x, k = _striped((128, 128)), np.ones((4, 4))
        got = kernelcli.conv2d(x, k, pad_mode="circular", paths=Paths(force="separable"))
        dense = kernelcli.conv2d(x, k, pad_mode="circular", paths=Paths(force="dense"))
        clean = x.copy()
        clean[:4] = 0
        apart = kernelcli.conv2d(clean, k, pad_mode="circular", paths=Paths(force="separable"))
        assert np.isfinite(got).all()
        assert got[8:120].tobytes() == apart[8:120].tobytes()  # (windows that do not read the striped rows)
        np.testing.assert_allclose(got, dense, rtol=0, atol=1e32)  # (+-1e38 sums round away the noise)


class TestVolumeKernelRecord:
    """F5: a 3-D kernel on a (Z, Y, X) array: the in-memory record said ``convolve k3`` where the tiled record and
    the in-memory default file name say what the options changed (``k3_circular``)."""

    @pytest.mark.parametrize("options, words", [(("-m", "circular"), "k3_circular"), (("-p", "valid"), "k3_valid"),
                                                (("--flip", "-m", "reflect"), "k3_reflect_flip")])
    def test_in_memory_and_tiled_records_name_the_same_operation(self, tmp_path, options, words):
        from conftest import run_in_process

        np.save(tmp_path / "v.npy", np.random.default_rng(0).standard_normal((6, 7, 8)).astype(np.float32))
        np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
        common = ("convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", *options, "--json", "--force")
        env = {"KERNELCLI_WORKER": "off"}
        records = []
        for extra in ((), ("--tiled",)):
            done = run_in_process(*common, *extra, cwd=tmp_path, env=env)
            assert done.returncode == 0, done.stderr
            records.append(json.loads(done.stdout))
        memory, tiled = records
        assert memory["operation"] == tiled["operation"] == f"convolve {words}"
        assert memory["kernel"] == tiled["kernel"]
        assert (tmp_path / f"v_{words}.npy").exists()


class TestNpyReadBlockByBlock:
    """F2, F3: a ``.npy`` was wrapped whole (a memory map, dask's 128 MiB blocks): tiles were cut from those blocks
    (peak memory grew with the image), and with --scheduler the map was pickled into the graph by value."""

    def test_blocks_of_a_default_tile(self, tmp_path):
        from kernelcli.tiled import stores
        from kernelcli.tiled.reading import NPY_BLOCK_BYTES

        np.save(tmp_path / "a.npy", np.zeros((3000, 2500), np.uint8))
        x = stores.open_array(tmp_path / "a.npy")[0]
        assert (x.chunks[0][0], x.chunks[1][0]) == (1024, 1024)
        np.save(tmp_path / "v.npy", np.zeros((96, 200, 300), np.float64))
        v = stores.open_array(tmp_path / "v.npy")[0]
        assert 8 * np.prod([c[0] for c in v.chunks]) <= NPY_BLOCK_BYTES

    def test_the_graph_holds_the_path_not_the_pixels(self, tmp_path):
        import pickle

        from kernelcli.tiled import stores

        data = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)  # 1 MiB
        np.save(tmp_path / "a.npy", data)
        x = stores.open_array(tmp_path / "a.npy")[0]
        assert len(pickle.dumps(dict(x.__dask_graph__()))) < 20_000
        assert x.compute().tobytes() == data.tobytes()

    def test_a_file_gone_before_a_tile_is_read_is_named(self, tmp_path):
        from kernelcli.errors import ImageReadError
        from kernelcli.tiled import stores

        np.save(tmp_path / "a.npy", np.zeros((8, 8), np.float32))
        x = stores.open_array(tmp_path / "a.npy")[0]
        (tmp_path / "a.npy").unlink()
        with pytest.raises(ImageReadError, match="a.npy: not found where a tile is computed"):
            x.compute()
