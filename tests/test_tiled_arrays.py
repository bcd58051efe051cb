"""Dask arrays through the API: tile by tile with halos equals the whole array byte for byte.

Every pad mode, odd and even kernels, stride, dilation, pooling, padding, 3-D volumes; each on
the plain-numpy path and on the jitted core (``jit``: the API's small-work switch off), with
tiles much smaller than the image so that every tile kind (first, inner, last, single) occurs.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from hypothesis import given, settings, strategies as st  # noqa: E402

from kernelcli import api, volumes  # noqa: E402
from kernelcli._core import policy  # noqa: E402
from kernelcli.tiled import arrays  # noqa: E402
from kernelcli.tiled.plan import Axis  # noqa: E402

MODES = ["constant", "replicate", "reflect", "symmetric", "circular"]


@pytest.fixture(params=["numpy", "jit"])
def path(request, monkeypatch):
    """The in-memory path the whole image takes (and so every tile)."""
    if request.param == "jit":
        monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="jit"))
    return request.param


def same(got, ref) -> None:
    assert got.shape == ref.shape and got.dtype == ref.dtype
    assert np.array_equal(got, ref), f"max difference {np.abs(got.astype(float) - ref.astype(float)).max()}"


def lazy(x, chunks=7):
    return da.from_array(x, chunks=chunks)


class TestConv2d:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("kshape", [(3, 3), (4, 2)])
    @pytest.mark.parametrize("dtype", ["uint8", "float32"])
    def test_every_mode_odd_and_even(self, path, mode, kshape, dtype):
        rng = np.random.default_rng(len(mode) + kshape[0])
        x = (rng.random((37, 29)) * 255).astype(dtype)
        k = rng.standard_normal(kshape)
        ref = api.conv2d(x, k, pad_mode=mode, pad_value=0.5)
        got = api.conv2d(lazy(x), k, pad_mode=mode, pad_value=0.5)
        assert isinstance(got, da.Array)
        same(got.compute(), ref)

    @pytest.mark.parametrize("mode", ["constant", "reflect", "circular"])
    @pytest.mark.parametrize("stride, dilation, padding", [(2, 1, "same"), (2, 2, "valid"), (3, 1, (2, 1, 0, 3)), (1, 2, "same")])
    def test_stride_dilation_padding(self, path, mode, stride, dilation, padding):
        rng = np.random.default_rng(stride * 10 + dilation)
        x = (rng.random((41, 30, 3)) * 255).astype(np.uint8)
        k = rng.standard_normal((3, 4))
        ref = api.conv2d(x, k, stride=stride, dilation=dilation, padding=padding, pad_mode=mode)
        got = arrays.conv2d(lazy(x, (9, 9, 3)), k, stride=stride, dilation=dilation, padding=padding, pad_mode=mode, chunks=8)
        same(got.compute(), ref)

    def test_separable_kernel_keeps_its_path(self, path):
        x = (np.random.default_rng(3).random((60, 50)) * 255).astype(np.float32)
        k = np.outer([1, 4, 6, 4, 1], [1, 2, 3, 2, 1]) / 144.0
        same(arrays.conv2d(lazy(x), k, pad_mode="symmetric", chunks=11).compute(), api.conv2d(x, k, pad_mode="symmetric"))

    def test_output_chunks_line_up_with_the_stride(self):
        x = np.zeros((40, 40), np.uint8)
        y = arrays.conv2d(lazy(x, 10), np.ones((3, 3)), stride=2, chunks=10)
        assert y.chunks == ((5, 5, 5, 5), (5, 5, 5, 5))

    @settings(max_examples=25, deadline=None)
    @given(h=st.integers(1, 30), w=st.integers(1, 30), kh=st.integers(1, 5), kw=st.integers(1, 5),
           stride=st.integers(1, 3), dilation=st.integers(1, 2), mode=st.sampled_from(MODES), tile=st.integers(1, 12))
    def test_random_geometry(self, h, w, kh, kw, stride, dilation, mode, tile):
        x = np.arange(h * w, dtype=np.uint16).reshape(h, w) * 7 % 251
        k = np.arange(kh * kw, dtype=float).reshape(kh, kw) - 2.5
        try:
            ref = api.conv2d(x, k, stride=stride, dilation=dilation, pad_mode=mode)
        except Exception:
            return  # a geometry the API refuses (kernel larger than the padded input)
        same(arrays.conv2d(lazy(x, 5), k, stride=stride, dilation=dilation, pad_mode=mode, chunks=tile).compute(), ref)


class TestPadPool:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("p", [(1, 2, 3, 0), (0, 0, 40, 2)])
    def test_pad(self, mode, p):
        x = (np.random.default_rng(5).random((30, 20)) * 255).astype(np.uint8)
        same(arrays.pad2d(lazy(x, 9), p, mode=mode, value=7, chunks=4).compute(), api.pad2d(x, p, mode=mode, value=7))

    @pytest.mark.parametrize("op", ["max", "min", "avg"])
    @pytest.mark.parametrize("size, stride, padding, ceil", [(2, 2, 0, False), (2, 2, 0, True), (3, 2, 1, True), (5, 2, 2, False)])
    def test_pool(self, path, op, size, stride, padding, ceil):
        x = (np.random.default_rng(size).random((37, 29, 3)) * 255).astype(np.float32)
        ref = api.pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil)
        got = api.pool2d(lazy(x, (9, 9, 3)), size, stride=stride, op=op, padding=padding, ceil_mode=ceil)
        same(got.compute(), ref)

    def test_avg_pool_excluding_padding(self, path):
        x = (np.random.default_rng(8).random((33, 31)) * 255).astype(np.float32)
        ref = api.pool2d(x, 3, stride=2, op="avg", padding=1, count_include_pad=False)
        same(arrays.pool2d(lazy(x), 3, stride=2, op="avg", padding=1, count_include_pad=False, chunks=6).compute(), ref)


class TestVolumes:
    @pytest.mark.parametrize("mode", MODES)
    def test_conv3d(self, mode):
        rng = np.random.default_rng(2)
        x = (rng.random((14, 17, 15)) * 1000).astype(np.int16)
        k = rng.standard_normal((2, 4, 3))
        ref = volumes.conv3d(x, k, pad_mode=mode, pad_value=1.5)
        same(volumes.conv3d(lazy(x, 5), k, pad_mode=mode, pad_value=1.5).compute(), ref)

    @pytest.mark.parametrize("op", ["max", "avg"])
    def test_pool3d(self, op):
        x = (np.random.default_rng(4).random((14, 17, 15)) * 1000).astype(np.int16)
        ref = volumes.pool3d(x, (2, 3, 2), (2, 2, 1), op, (1, 1, 0), True)
        same(arrays.pool3d(lazy(x, 5), (2, 3, 2), (2, 2, 1), op, (1, 1, 0), True, chunks=6).compute(), ref)


class TestPlan:
    def test_every_output_is_owned_once(self):
        for n, s, span, before in [(37, 2, 3, 1), (10, 3, 4, 0), (29, 1, 5, 2)]:
            n_out = (n + 2 * before - span) // s + 1
            ax = Axis(n, s, span, before, before, n_out)
            chunks = ax.chunks(6)
            assert sum(chunks) == n and all(c % s == 0 for c in chunks[:-1])
            assert sum(ax.out_chunks(chunks)) == n_out

    def test_circular_last_tile_takes_the_head_before_it(self):
        ax = Axis(20, 1, 5, 2, 2, 20, circular=True)
        cut = ax.cut(15, 20, False)
        assert cut.segments == ((20, 22), (13, 20)) and (cut.pad_before, cut.pad_after, cut.first) == (0, 2, 2)
