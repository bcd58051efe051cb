"""ndsupport.all_finite, the NaN screen every array function runs on float input: exact, any layout."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import ndsupport
from kernelcli.errors import UsageError

#: every float dtype the array functions accept (``as_real_array`` takes any real kind)
FLOATS = [np.float16, np.float32, np.float64, np.longdouble]
BAD = [np.nan, np.inf, -np.inf]


def _large(dtype) -> tuple[np.ndarray, int]:
    """A C-contiguous array of three whole blocks of rows and a partial one, and its rows per block."""
    cols = 1000
    step = ndsupport._FINITE_BLOCK // cols
    return np.ones((3 * step + step // 3, cols), dtype=dtype), step


def _positions(rows: int, cols: int, step: int) -> list[tuple[int, int]]:
    """One cell of each class: the first and last, either side of each block edge, inside a block,
    the last (partial) block."""
    return [(0, 0), (rows - 1, cols - 1), (step - 1, cols - 1), (step, 0), (2 * step - 1, cols // 2),
            (2 * step, 1), (step + step // 2, 7), (3 * step, 0), (rows - 1, 0)]


class TestAllFinite:
    @pytest.mark.parametrize("dtype", FLOATS)
    @pytest.mark.parametrize("bad", BAD)
    def test_one_bad_value_in_each_position_of_a_large_array(self, dtype, bad):
        x, step = _large(dtype)
        assert ndsupport.all_finite(x)
        for r, c in _positions(*x.shape, step):
            x[r, c] = bad
            assert not ndsupport.all_finite(x), (r, c)
            with pytest.raises(UsageError, match=r"x: 1 value\(s\) are NaN or infinite"):
                ndsupport.check_finite(x)
            x[r, c] = 1

    @pytest.mark.parametrize("dtype", FLOATS)
    @pytest.mark.parametrize("bad", BAD)
    def test_one_bad_value_in_small_strided_and_3d_arrays(self, dtype, bad):
        small = np.ones((7, 5), dtype=dtype)
        big, step = _large(dtype)
        cases = [
            (small, [(0, 0), (3, 2), (6, 4)]),
            (np.ones((5, 4, 3), dtype=dtype), [(0, 0, 0), (2, 1, 1), (4, 3, 2)]),  # (H, W, C)
            (big.T, [(0, 0), (999, step), (999, big.shape[0] - 1)]),  # Fortran order: blocks of columns of the base
            (big[::3, 1::7], [(0, 0), (step // 3, 5), (-1, -1)]),  # a strided view
            (np.ones((2, ndsupport._FINITE_BLOCK + 1), dtype=dtype), [(0, 0), (1, ndsupport._FINITE_BLOCK)]),  # rows > a block
        ]
        for x, positions in cases:
            assert ndsupport.all_finite(x)
            for at in positions:
                keep = x[at]
                x[at] = bad
                assert not ndsupport.all_finite(x), (x.shape, x.strides, at)
                x[at] = keep
            assert ndsupport.all_finite(x)

    @pytest.mark.parametrize("dtype", FLOATS)
    def test_the_largest_finite_values_pass(self, dtype):
        """A screen by a sum of squares overflowed on these and fell back to a second, exact pass."""
        top = np.finfo(dtype).max
        x, _ = _large(dtype)
        x[::2] = top
        x[1::2] = -top
        assert ndsupport.all_finite(x) and ndsupport.all_finite(x[:3, :3])
        ndsupport.check_finite(x)

    def test_the_screen_calls_no_blas(self, monkeypatch):
        """np.dot on float64 is OpenBLAS's threaded ddot, which stalls on a busy machine (512x512:
        7.6 ms on average at load 4, 0.02 ms quiet); the screen must stay on one thread."""
        def refuse(*args, **kwargs):
            raise AssertionError("the finite screen called BLAS")

        for name in ("dot", "vdot", "inner", "matmul", "einsum"):
            monkeypatch.setattr(np, name, refuse)
        x, _ = _large(np.float64)
        assert ndsupport.all_finite(x)
        x[-1, -1] = np.nan
        assert not ndsupport.all_finite(x)


class TestKernelValues:
    """A kernel of complex, text or None values: the imaginary part was dropped with a numpy warning,
    text read as numbers ([["1", "2"]]), None refused as "values must be finite", and a complex list
    or a ragged one raised numpy's own TypeError/ValueError."""

    @pytest.mark.parametrize("kernel,words", [
        ([[1 + 2j]], "complex values"),
        (np.array([[1 + 0j, 2]]), "complex values"),
        ([["a"]], "text values"),
        ([["1", "2"]], "text values"),
        ([[1, None]], "non-numeric"),
    ])
    def test_non_real_values_are_refused(self, kernel, words):
        from kernelcli import conv2d, conv3d

        with pytest.raises(UsageError, match=f"^kernel: {words}.*expected real numbers"):
            conv2d(np.zeros((4, 4)), kernel)
        with pytest.raises(UsageError, match=f"^kernel: {words}"):
            conv3d(np.zeros((4, 4, 4)), np.asarray(kernel)[None])

    def test_ragged_rows_are_a_shape_error(self):
        from kernelcli import conv2d
        from kernelcli.errors import ShapeError

        with pytest.raises(ShapeError, match="rows of different lengths"):
            conv2d(np.zeros((4, 4)), [[1, 2], [3]])

    def test_bool_and_integer_kernels_are_numbers(self):
        from kernelcli import conv2d

        x = np.arange(16.0).reshape(4, 4)
        np.testing.assert_array_equal(conv2d(x, [[True, False]]), conv2d(x, [[1.0, 0.0]]))
        np.testing.assert_array_equal(conv2d(x, np.array([[2, 1]], np.int8)), conv2d(x, [[2.0, 1.0]]))


class TestWeightsBeyondTheComputeRange:
    """A float64 kernel of 1e39 on a float32 image became inf in float32, and 0 * inf gave NaN on the numpy
    and jitted paths (0 through the FFT), while a pad value of 1e39 was refused: weights are checked alike."""

    def test_conv2d_and_conv3d(self):
        from kernelcli import conv2d, conv3d

        with pytest.raises(UsageError, match=r"^kernel: 1 value\(s\) beyond float32's range.*dtype='float64'"):
            conv2d(np.zeros((4, 4), np.float32), [[1e39]])
        with pytest.raises(UsageError, match=r"^kernel: 1 value\(s\) beyond float32's range"):
            conv3d(np.zeros((4, 4, 4), np.float32), np.full((1, 1, 1), 1e39))
        assert conv2d(np.zeros((4, 4), np.float32), [[1e39]], dtype="float64").max() == 0.0
        assert conv2d(np.zeros((4, 4), np.float32), [[3e38]]).max() == 0.0  # within float32: computed

    def test_conv_layer_weights_and_bias(self):
        from kernelcli import conv_layer

        x = np.zeros((4, 4, 3), np.float32)
        with pytest.raises(UsageError, match=r"^weights: 6 value\(s\) beyond float32's range.*input as float64"):
            conv_layer(x, np.full((2, 3, 1, 1), 1e39))
        with pytest.raises(UsageError, match=r"^bias: 2 value\(s\) beyond float32's range"):
            conv_layer(x, np.ones((2, 3, 1, 1)), np.full(2, 1e39))
        assert np.isfinite(conv_layer(x.astype(np.float64), np.full((2, 3, 1, 1), 1e39))).all()
