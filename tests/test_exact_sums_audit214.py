"""Audit 214 F3: an integer input whose whole-number sums pass 2**24 was summed in float32 on the direct paths.

``box:65vox`` on a uint8 volume was up to 8 float32 ulps off the exact mean at a quarter of its voxels on
correlate_separable and conv3d's numpy, dense and separable paths, where conv3d's FFT gave the exact mean;
a uint16 volume (computed in float32) under ``box:7vox`` alike, and a uint8 image under a 301x301 box in
conv2d.  Every path now sums such calls in float64 and rounds once: the exact mean, the FFT's bytes.

The oracle: the integer window sums (int64), divided in float64 and rounded to float32, which is the
correctly rounded quotient for a divisor below 2**24 (no quotient of whole numbers lies within float64's
rounding of a float32 half-way point).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import kernelcli as K
from kernelcli import volumes
from kernelcli._core.policy import Paths


def exact_mean(x: np.ndarray, shape: tuple[int, ...], widths: tuple[int, ...] = (), fill: int = 0) -> np.ndarray:
    """The box mean over ``shape`` windows of ``x`` padded by ``(before, after)`` ``widths`` with ``fill``."""
    padded = np.pad(x.astype(np.int64), widths, constant_values=fill) if widths else x.astype(np.int64)
    sums = sliding_window_view(padded, shape).sum(axis=tuple(range(-len(shape), 0)))
    return (sums / float(np.prod(shape))).astype(np.float32)


def same(shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(((n - 1) // 2, n - 1 - (n - 1) // 2) for n in shape)


class TestAnIntegerInputsLargeSumsAreExactOnEveryPath:
    @pytest.fixture(scope="class")
    @classmethod
    def vol16(cls):
        return np.random.default_rng(214).integers(40000, 65536, (12, 13, 14)).astype(np.uint16)

    @pytest.mark.parametrize("fill", [0, 7])
    def test_a_uint16_volume_under_box_7vox(self, vol16, fill):
        exact = exact_mean(vol16, (7, 7, 7), same((7, 7, 7)), fill)
        for path in ("numpy", "jit"):
            got = volumes.correlate_separable(vol16, [np.full(7, 1 / 7)] * 3, pad_mode="constant", pad_value=fill,
                                              paths=Paths(force=path))
            assert got.dtype == np.float32 and np.array_equal(got, exact), (path, int((got != exact).sum()))
        for path in ("numpy", "dense", "separable", "fft", None):
            got = K.conv3d(vol16, np.ones((7, 7, 7)) / 343, pad_mode="constant", pad_value=fill, paths=Paths(force=path))
            assert got.dtype == np.float32 and np.array_equal(got, exact), (path, int((got != exact).sum()))

    def test_a_uint8_volume_under_a_box_of_90000_voxels(self):
        vol = np.random.default_rng(2).integers(200, 256, (4, 160, 160)).astype(np.uint8)
        shape = (4, 150, 150)
        exact = exact_mean(vol, shape)
        for path in ("numpy", "dense", "separable", "fft"):
            got = K.conv3d(vol, np.ones(shape) / 90000, padding="valid", paths=Paths(force=path))
            assert got.dtype == np.float32 and np.array_equal(got, exact), (path, int((got != exact).sum()))
        sep = volumes.correlate_separable(vol, [np.full(n, 1 / n) for n in shape], pad_mode="constant")
        assert np.array_equal(sep, exact_mean(vol, shape, same(shape)))

    def test_a_uint8_image_under_a_301x301_box(self):
        x = np.random.default_rng(3).integers(200, 256, (310, 312)).astype(np.uint8)
        exact = exact_mean(x, (301, 301))
        for path in ("numpy", "dense", "separable", "fft", "cold", None):
            paths = "cold" if path == "cold" else Paths(force=path)
            got = K.conv2d(x, np.ones((301, 301)) / 301**2, padding="valid", paths=paths)
            assert got.dtype == np.float32 and np.array_equal(got, exact), (path, int((got != exact).sum()))
        rounded = K.conv2d(x, np.ones((301, 301)) / 301**2, padding="valid", dtype="uint8", paths=Paths(force="separable"))
        assert np.array_equal(rounded, np.rint(exact).astype(np.uint8))

    def test_sums_within_float32_keep_float32(self):
        from kernelcli._core.exact_sums import summing_dtype

        box = np.ones((65, 65, 65)) / 65**3
        assert summing_dtype(np.full(3, 61, np.uint8), np.dtype("float32"), kernel=box) == np.float32
        assert summing_dtype(np.full(3, 62, np.uint8), np.dtype("float32"), kernel=box) == np.float64
        assert summing_dtype(np.full(3, 62.0, np.float32), np.dtype("float32"), kernel=box) == np.float32
