"""Issue 13's exactness defects, each forced through every compute path.

Where the arithmetic is exact (whole-number data, a kernel of whole numbers times a power
of two, every partial sum held exactly by the compute dtype) every path must give the very
same exact result: plain numpy, the jitted direct loops (in place and through the ring of
padded rows, which a stride uses), the separable loops, the FFT, and the CLI's cold policy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelcli import conv2d, conv_layer, load_kernel, pad2d, pool2d
from kernelcli._core import costs, forms
from kernelcli._core.policy import COLD, WARM, Paths
from kernelcli.errors import UsageError
from conftest import run_cli

#: every way the API can compute a convolution
PATHS = {
    "numpy": Paths(force="numpy"),
    "jit": Paths(force="jit"),
    "dense": Paths(force="dense"),
    "separable": Paths(force="separable"),
    "fft": Paths(force="fft"),
    "cold": COLD,
    "warm": WARM,
}
WINDOW = np.array(
    [[254, 254, 238, 49, 166], [204, 61, 106, 223, 118], [86, 179, 36, 218, 81], [12, 151, 91, 54, 26], [35, 110, 135, 120, 205]],
    dtype=np.uint8,
)


@pytest.fixture(params=sorted(PATHS))
def paths(request):
    return PATHS[request.param]


class TestSeparableIsExactOnIntegers:
    @pytest.mark.parametrize("n", [100, 101])
    def test_gaussian_5x5_window_is_exactly_120_5(self, paths, n):
        x = np.zeros((n, n), np.uint8)
        x[40:45, 40:45] = WINDOW
        out = conv2d(x, load_kernel("gaussian_5x5"), paths=paths)
        assert out[42, 42] == 120.5

    def test_factors_stay_integer_and_the_scale_is_applied_once(self):
        k = load_kernel("gaussian_5x5").array()
        col, row = forms.rank1_factors(k, np.dtype("float32"))
        np.testing.assert_array_equal(col, [1, 4, 6, 4, 1])
        np.testing.assert_array_equal(row, np.array([1, 4, 6, 4, 1]) / 256)
        col, row = forms.rank1_factors(np.outer([2, 1, 3, 2, 2], [2, 1]).astype(float), np.dtype("float32"))
        np.testing.assert_array_equal(np.outer(col, row), np.outer([2, 1, 3, 2, 2], [2, 1]))
        assert set(np.concatenate([col, row])) <= set(range(-10, 11))

    def test_whole_numbers_close_to_rank_1_are_not_factored(self, paths):
        # rank 2, but within the SVD's float32 tolerance of rank 1: it went separable and was 1 off
        k = np.full((2, 5), 1500000.0)
        k[0, 0] += 1
        assert forms.rank1_factors(k, np.dtype("float32")) is None
        x = np.zeros((300, 300), np.uint8)
        x[0, 0] = x[1, 1] = 1
        assert conv2d(x, k, padding="valid", paths=paths)[0, 0] == 3000001.0

    @pytest.mark.parametrize("stride", [1, 2])
    def test_outer_2_1_3_2_2_by_2_1_gives_3173(self, paths, stride):
        x = np.array([[233, 75], [122, 147], [44, 36], [121, 3], [154, 111]], np.uint8)
        k = np.outer([2, 1, 3, 2, 2], [2, 1])
        assert conv2d(x, k, padding="valid", stride=stride, paths=paths)[0, 0] == 3173

    def test_clip_rounds_the_tie_half_to_even_like_opencv(self, tmp_path):
        from PIL import Image

        x = np.zeros((101, 101), np.uint8)
        x[40:45, 40:45] = WINDOW
        Image.fromarray(x).save(tmp_path / "x.png")
        r = run_cli("convolve", str(tmp_path / "x.png"), "--kernel", "gaussian_5x5", "--out", str(tmp_path / "y.png"), "-q")
        assert r.returncode == 0, r.stderr
        assert np.asarray(Image.open(tmp_path / "y.png"))[42, 42] == 120
        cv2 = pytest.importorskip("cv2")
        g = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256
        assert cv2.filter2D(x, -1, g, borderType=cv2.BORDER_CONSTANT)[42, 42] == 120

    @pytest.mark.parametrize("name", ["gaussian_5x5", "gaussian_7x7", "box_3x3", "sobel_v"])
    def test_a_large_image_equals_integer_arithmetic_on_every_path(self, paths, name):
        """Ties such as 120.5 must stay ties: compare with the sums done in int64."""
        from scipy.ndimage import correlate

        kernel = load_kernel(name)
        x = np.random.default_rng(6).integers(0, 256, (600, 600)).astype(np.uint8)
        out = conv2d(x, kernel, paths=paths)
        integer = np.rint(np.asarray(kernel.array()) * kernel.divisor).astype(np.int64)
        exact = correlate(x.astype(np.int64), integer, mode="constant") / kernel.divisor
        if name == "box_3x3":  # 1/9 is no power of two: every path rounds, within a few float32 ulps
            np.testing.assert_allclose(out, exact, rtol=4 * np.finfo(np.float32).eps)
            return
        np.testing.assert_array_equal(out, exact.astype(np.float32))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test_every_path_gives_the_same_exact_integers(self, data):
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        h, w = data.draw(st.integers(8, 40)), data.draw(st.integers(8, 40))
        x = rng.integers(0, 256, (h, w, data.draw(st.sampled_from([1, 3])))).astype(np.uint8)
        kh, kw = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))
        if data.draw(st.booleans()):
            k = np.outer(rng.integers(-4, 5, kh), rng.integers(-4, 5, kw)) / data.draw(st.sampled_from([1, 16, 256]))
        else:
            k = rng.integers(-8, 9, (kh, kw)) / data.draw(st.sampled_from([1, 4, 64]))
        mode = data.draw(st.sampled_from(["constant", "replicate", "reflect", "symmetric", "circular"]))
        stride = data.draw(st.sampled_from([1, 2]))
        results = {name: conv2d(x, k, pad_mode=mode, pad_value=7, stride=stride, paths=p) for name, p in PATHS.items()}
        want = results.pop("numpy")
        for name, got in results.items():
            np.testing.assert_array_equal(got, want, err_msg=name)
            assert got.tobytes() == want.tobytes(), name  # the sign of each 0 too (-0.0 == 0.0 above)


class TestBigEndian:
    @pytest.mark.parametrize("dtype", [">f4", ">u2", ">f8"])
    def test_every_jitted_function_takes_it(self, dtype):
        jit = Paths(force="jit")
        x = (np.random.default_rng(0).random((600, 600)) * 1000).astype(dtype)
        native = x.astype(x.dtype.newbyteorder("="))
        k = np.arange(9.0).reshape(3, 3)
        for fn in (lambda a: conv2d(a, k, paths=jit), lambda a: pad2d(a, 2, mode="reflect", paths=jit),
                   lambda a: pool2d(a, 2, op="max", paths=jit), lambda a: conv_layer(a, k[None, None], paths=jit)):
            got, want = fn(x), fn(native)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)

    def test_big_endian_float64_computes_in_float64(self, paths):
        x = np.random.default_rng(1).random((600, 600)).astype(">f8")
        out = conv2d(x, np.ones((3, 3)) / 3, paths=paths)
        assert out.dtype == np.float64
        assert conv_layer(x, np.ones((1, 1, 3, 3)), paths=paths).dtype == np.float64


class TestFillOutOfRange:
    @pytest.mark.parametrize("n", [10, 400, 1000])
    def test_300_in_uint8_is_one_usage_error(self, paths, n):
        with pytest.raises(UsageError, match="pad value 300 does not fit uint8"):
            pad2d(np.ones((n, n), np.uint8), 1, value=300, paths=paths)

    def test_1e10_in_int32_and_fractions_in_integers(self, paths):
        with pytest.raises(UsageError, match="does not fit int32"):
            pad2d(np.ones((1000, 1000), np.int32), 1, value=1e10, paths=paths)
        with pytest.raises(UsageError, match="whole number"):
            pad2d(np.ones((5, 5), np.uint8), 1, value=2.5, paths=paths)
        assert pad2d(np.ones((5, 5), np.uint8), 1, value=255, paths=paths)[0, 0] == 255

    def test_convolution_fills_must_fit_the_compute_dtype(self, paths):
        with pytest.raises(UsageError, match="pad value"):
            conv2d(np.ones((50, 50), np.float32), np.ones((3, 3)), pad_value=1e39, paths=paths)
        with pytest.raises(UsageError, match="pad value"):
            conv_layer(np.ones((50, 50), np.float32), np.ones((1, 1, 3, 3)), padding=1, pad_value=float("nan"), paths=paths)

    def test_cli_exits_2(self, tmp_path):
        from PIL import Image

        Image.fromarray(np.ones((20, 20), np.uint8)).save(tmp_path / "x.png")
        r = run_cli("pad", str(tmp_path / "x.png"), "--p", "1", "--value", "300", "--out", str(tmp_path / "y.png"))
        assert r.returncode == 2, r.stderr
        assert "300 does not fit" in r.stderr and "uint8" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "y.png").exists()


class TestFft:
    def bright_block(self):
        x = np.zeros((600, 600), np.float32)
        x[250:350, 250:350] = 255
        return x

    def test_bright_block_far_field_is_exactly_zero(self, paths):
        k = np.random.default_rng(2).integers(1, 9, (21, 21)).astype(float)  # dense, whole numbers
        out = conv2d(self.bright_block(), k, paths=paths)
        assert (out[:200, :200] == 0).all() and (out[450:, 450:] == 0).all()
        np.testing.assert_array_equal(out, conv2d(self.bright_block(), k, paths=PATHS["dense"]))

    def test_power_of_two_scaled_kernels_too(self):
        k = np.random.default_rng(3).integers(-9, 9, (17, 19)) / 64
        x = np.random.default_rng(4).integers(0, 256, (300, 280)).astype(np.uint8)
        fft = conv2d(x, k, pad_mode="reflect", paths=PATHS["fft"])
        np.testing.assert_array_equal(fft, conv2d(x, k, pad_mode="reflect", paths=PATHS["numpy"]))

    def test_inexact_kernels_stay_within_the_stated_bound(self):
        # eps * log2(L) * max|x| * sum|k| (module docstring of kernelcli._core.fft; L <= 384 for 21 taps)
        k = np.random.default_rng(5).random((21, 21))
        x = self.bright_block()
        out = conv2d(x, k, paths=PATHS["fft"])
        ref = conv2d(x.astype(np.float64), k, paths=PATHS["dense"])
        bound = np.finfo(np.float32).eps * np.log2(384 * 384) * 255 * np.abs(k).sum()
        assert np.abs(out - ref).max() <= bound


class TestSignedZeros:
    """The same bytes, not only equal values: the FFT's exact form rounded its noise around 0 to
    -0.0 or +0.0 at random (``rint(-0.3)`` is -0.0), where the direct loops give +0.0 (or -0.0
    under a kernel with no positive weight); a .npy or float TIFF then differed with the path,
    which the measured start-up cost and the warm worker may choose (same_bytes_on_every_path)."""

    KERNELS = {"mixed": [[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], "negative": [[-1.0, 0, -2], [-3, -1, 0]],
               "positive": [[1.0, 2, 0], [0, 1, 4]]}

    @pytest.mark.parametrize("kind", sorted(KERNELS))
    @pytest.mark.parametrize("mode", ["constant", "reflect"])
    def test_every_path_gives_the_same_bytes_2d(self, kind, mode):
        rng = np.random.default_rng(7)
        x = rng.integers(0, 4, (40, 50, 2)).astype(np.uint8)
        x[rng.random(x.shape) < 0.7] = 0
        k = np.array(self.KERNELS[kind]) / 4
        assert costs.same_bytes_on_every_path(x.dtype, k, np.dtype("float32"), mode == "constant", 0.0)
        want = conv2d(x, k, pad_mode=mode, paths=PATHS["numpy"])
        assert np.signbit(want).any() == (kind != "positive")
        for name in ("jit", "dense", "separable", "fft"):
            assert conv2d(x, k, pad_mode=mode, paths=PATHS[name]).tobytes() == want.tobytes(), name

    @pytest.mark.parametrize("kind", ["mixed", "negative"])
    def test_every_path_gives_the_same_bytes_3d(self, kind):
        from kernelcli import conv3d

        rng = np.random.default_rng(8)
        x = rng.integers(0, 3, (12, 14, 10)).astype(np.uint8)
        x[rng.random(x.shape) < 0.7] = 0
        k = rng.integers(1, 3, (5, 5, 5)).astype(float) * (-1 if kind == "negative" else rng.choice([-1, 1], (5, 5, 5)))
        want = conv3d(x, k, paths=PATHS["dense"])
        for name in ("numpy", "fft"):
            assert conv3d(x, k, paths=PATHS[name]).tobytes() == want.tobytes(), name

    def test_where_the_fft_cannot_know_the_sign_no_measurement_may_choose(self):
        """Signed values under a kernel with no positive weight: 0 by cancellation is +0.0, an
        all-zero window -0.0; and a -0.0 fill: only the direct loops know which."""
        negative = np.array([[-1.0, -2.0]])
        assert not costs.same_bytes_on_every_path(np.dtype("int16"), negative, np.dtype("float64"), True, 0.0)
        assert costs.same_bytes_on_every_path(np.dtype("uint16"), negative, np.dtype("float64"), True, 0.0)
        assert not costs.same_bytes_on_every_path(np.dtype("uint8"), np.ones((3, 3)), np.dtype("float32"), True, -0.0)
        x = np.array([[2, -1, 0, 0]], dtype=np.int16)
        for name in ("numpy", "dense"):
            out = conv2d(x, negative, padding="valid", paths=PATHS[name])
            assert out.tolist() == [[0.0, 1.0, 0.0]] and np.signbit(out).tolist() == [[False, False, True]], name


class TestInexactBound:
    def test_direct_paths_agree_within_the_windows_magnitude_not_each_outputs(self):
        """The README's bound for inexact data: a few units of rounding of ``sum|k| * max|x|``.  Where
        the products cancel (a zero-sum kernel on a nearly flat 200) an output near 0 differs between
        paths by far more than the rounding of its own magnitude, as any reordered sum does."""
        rng = np.random.default_rng(0)
        x = (200 + rng.random((64, 64)) * 1e-2).astype(np.float32)
        k = rng.normal(size=(5, 5))
        k -= k.mean()
        ref = conv2d(x.astype(np.float64), k, paths=PATHS["dense"])
        unit = np.finfo(np.float32).eps * np.abs(k).sum() * np.abs(x).max()
        outs = [conv2d(x, k, paths=PATHS[name]).astype(np.float64) for name in ("numpy", "dense", "separable", "jit")]
        for out in outs:
            assert np.abs(out - ref).max() <= 4 * unit
        assert (np.abs(outs[0] - outs[1]) > 100 * np.finfo(np.float32).eps * np.abs(ref)).any()  # not each output's own
