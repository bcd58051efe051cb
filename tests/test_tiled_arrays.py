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


FFT = policy.Paths(force="fft")


class TestFFTTiles:
    """Regression (issue 15): where the whole image takes the FFT the tiles took the direct loop,
    equal only within float rounding.  The FFT is now a block FFT on a fixed grid, and the tiles
    own whole blocks: every path, the FFT included, gives the in-memory bytes."""

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("kshape, dilation", [((15, 15), 1), ((16, 13), 1), ((8, 7), 2)])
    def test_every_mode_odd_even_dilated(self, mode, kshape, dilation):
        rng = np.random.default_rng(len(mode) * 7 + kshape[0])
        x = (rng.random((600, 530)) * 255).astype(np.float32)
        k = rng.standard_normal(kshape)
        ref = api.conv2d(x, k, pad_mode=mode, pad_value=0.5, dilation=dilation, paths=FFT)
        got = arrays.conv2d(lazy(x, 200), k, pad_mode=mode, pad_value=0.5, dilation=dilation, paths=FFT, chunks=256)
        same(got.compute(), ref)

    @pytest.mark.parametrize("chunks", [100, (256, 512), 700])
    @pytest.mark.parametrize("padding", ["same", "valid", (20, 3, 0, 31)])
    def test_tile_sides_and_padding(self, chunks, padding):
        rng = np.random.default_rng(11)
        x = (rng.random((640, 600, 3)) * 255).astype(np.uint8)
        k = rng.standard_normal((17, 15))
        ref = api.conv2d(x, k, padding=padding, pad_mode="reflect", paths=FFT)
        got = arrays.conv2d(lazy(x, (300, 300, 3)), k, padding=padding, pad_mode="reflect", paths=FFT, chunks=chunks)
        same(got.compute(), ref)

    @pytest.mark.parametrize("paths", [None, "cold"], ids=["warm", "cold"])
    def test_the_default_choice_takes_the_fft_and_keeps_it(self, paths):
        """Unforced: a 25x25 dense kernel sends the whole image to the FFT (scipy's warm, numpy's cold)."""
        from kernelcli.tiled import pin

        rng = np.random.default_rng(3)
        x = (rng.random((700, 650)) * 255).astype(np.float32)
        k = rng.standard_normal((25, 25))
        force = pin.conv_paths((700, 650, 1), k, (1, 1), (1, 1), np.dtype("float32"), 700, 650, paths)
        assert force.force == "fft" and force.process == ("cold" if paths else "warm")
        same(arrays.conv2d(lazy(x, 256), k, pad_mode="symmetric", paths=paths).compute(),
             api.conv2d(x, k, pad_mode="symmetric", paths=paths))

    @pytest.mark.parametrize("dtype", ["uint8", "float64"])
    def test_exact_form_is_decided_from_the_whole_image(self, dtype):
        """An integer kernel: the FFT rounds to exact sums on whole-number data.  A float image
        whole-numbered in one tile only must not get that rounding in that tile alone."""
        rng = np.random.default_rng(4)
        x = rng.integers(0, 256, (600, 560)).astype(dtype)
        if dtype == "float64":
            x[530:, :] += 0.25  # the first tiles (512 rows) hold whole numbers, the image does not
        k = rng.integers(-3, 4, (15, 15)).astype(float)
        ref = api.conv2d(x, k, pad_mode="replicate", paths=FFT)
        same(arrays.conv2d(lazy(x, 256), k, pad_mode="replicate", paths=FFT, chunks=256).compute(), ref)

    @settings(max_examples=12, deadline=None)
    @given(h=st.integers(200, 700), w=st.integers(200, 700), kh=st.integers(9, 20), kw=st.integers(9, 20),
           mode=st.sampled_from(MODES), tile=st.integers(1, 600))
    def test_random_geometry(self, h, w, kh, kw, mode, tile):
        rng = np.random.default_rng(h * w)
        x = rng.standard_normal((h, w)).astype(np.float32)
        k = rng.standard_normal((kh, kw))
        same(arrays.conv2d(lazy(x, 128), k, pad_mode=mode, paths=FFT, chunks=tile).compute(),
             api.conv2d(x, k, pad_mode=mode, paths=FFT))


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

    @pytest.mark.parametrize("paths", ["cold", None])
    @pytest.mark.parametrize("shape, chunk", [((1025, 1030), 1024), ((125, 148, 3), 64)])
    def test_avg_2x2_tiles_that_fit_the_2x2_loop_of_an_image_that_does_not(self, paths, shape, chunk):
        # the whole (odd sides, ceil_mode) sums each window in the general order, an even tile took the 2x2
        # loop's order on the numpy path: 78624 cells 1 ulp apart on 1025x1030 under paths="cold"
        x = np.random.default_rng(0).random(shape).astype(np.float32)
        ref = api.pool2d(x, 2, op="avg", ceil_mode=True, paths=paths)
        same(arrays.pool2d(lazy(x, chunk), 2, op="avg", ceil_mode=True, chunks=chunk, paths=paths).compute(), ref)

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

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("kshape", [(3, 11, 9), (2, 12, 7)])
    def test_conv3d_on_the_fft_path(self, mode, kshape):
        """Regression (issue 15): the whole volume's FFT was one transform of everything, and the
        tiles took the dense loop (equal within rounding); now blocks on a fixed grid, byte for byte."""
        rng = np.random.default_rng(kshape[1])
        x = (rng.random((20, 300, 270)) * 1000).astype(np.int16)
        k = rng.standard_normal(kshape)
        ref = volumes.conv3d(x, k, pad_mode=mode, pad_value=1.5, paths=FFT)
        same(arrays.conv3d(lazy(x, (7, 100, 100)), k, pad_mode=mode, pad_value=1.5, chunks=100, paths=FFT).compute(), ref)

    def test_conv3d_exact_form_from_the_whole_volume(self):
        rng = np.random.default_rng(9)
        x = rng.integers(-500, 500, (16, 280, 40)).astype(np.float64)
        x[:, 270:] += 0.5  # the first tile (256 rows and its halo) is whole-numbered, the volume is not
        k = rng.integers(-2, 3, (3, 13, 3)).astype(float)
        ref = volumes.conv3d(x, k, pad_mode="reflect", paths=FFT)
        same(arrays.conv3d(lazy(x, (16, 128, 40)), k, pad_mode="reflect", chunks=128, paths=FFT).compute(), ref)

    @pytest.mark.parametrize("op", ["max", "avg"])
    def test_pool3d(self, op):
        x = (np.random.default_rng(4).random((14, 17, 15)) * 1000).astype(np.int16)
        ref = volumes.pool3d(x, (2, 3, 2), stride=(2, 2, 1), op=op, padding=(1, 1, 0), ceil_mode=True)
        same(arrays.pool3d(lazy(x, 5), (2, 3, 2), stride=(2, 2, 1), op=op, padding=(1, 1, 0), ceil_mode=True, chunks=6).compute(), ref)


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
