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
        # box_3x3's 1/9 is no power of two: every path divides the exact sum by 9 once (forms.divided)
        exact = correlate(x.astype(np.int64), integer, mode="constant") / kernel.divisor
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


def _exact_quotients(x: np.ndarray, m: np.ndarray, d: int, mode: str = "constant", fill: int = 0, stride: int = 1):
    """The exact integer sums of ``x`` (H, W[, C]) under the whole numbers ``m`` ("same" padding), and
    ``(float64 quotients, uint8 result, ties)``: each sum over ``d`` correctly rounded (in float32:
    the float64 quotient rounded again, 53 >= 2 * 24 + 2 bits, so the same), and rounded half to
    even into 0..255 in integers (no float at all)."""
    kh, kw = m.shape
    widths = [((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)]
    x3 = x.reshape(x.shape[0], x.shape[1], -1).astype(np.int64)
    numpy_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    pad = {"mode": mode, "constant_values": fill} if mode == "constant" else {"mode": numpy_mode}
    xp = np.pad(x3, widths + [(0, 0)], **pad)
    h, w = x3.shape[:2]
    s = np.zeros((h, w, x3.shape[2]), np.int64)
    for u in range(kh):
        for v in range(kw):
            s += int(m[u, v]) * xp[u : u + h, v : v + w]
    s = s[::stride, ::stride]
    s = s if x.ndim == 3 else s[:, :, 0]
    q, r = np.divmod(s, d)
    up = (2 * r > d) | ((2 * r == d) & (q % 2 == 1))
    return s, s / d, np.clip(q + up, 0, 255).astype(np.uint8), 2 * r == d


class TestWholeNumbersOverAWholeNumber:
    """box:N for even N whose N**2 is no power of two (box:10 is ones / 100), and any kernel file's
    whole numbers with ``"scale": d``: the float taps 0.01 summed 73.49999237 where the exact value
    is 73.5, so 8-bit output rounded ties the wrong way and the paths disagreed (numpy 321 ties
    wrong of 837 on a 300x280 image, dense 155, separable 112, the FFT none).  Every path now sums
    the whole numbers and divides each output once: the correctly rounded quotient, ties kept."""

    @pytest.mark.parametrize("n", [5, 10, 14])  # 5: the blocked in-place sweep (float32), no ties (25 is odd)
    @pytest.mark.parametrize("source", ["uint8", "float32", "uint16"])
    def test_box_ties_round_half_to_even_on_every_path(self, paths, n, source):
        rng = np.random.default_rng(n)
        x = rng.integers(0, 256, (90, 1100 if source == "uint8" else 120)).astype(source)  # long rows: not the slab
        s, want, want8, ties = _exact_quotients(x, np.ones((n, n)), n * n)
        assert ties.sum() > 50 or n % 2
        k = load_kernel(f"box:{n}")
        out = conv2d(x, k, paths=paths)
        assert out.dtype == (np.float64 if source == "uint16" else np.float32)
        assert out.tobytes() == want.astype(out.dtype).tobytes()
        got8 = conv2d(x, k, dtype="uint8", paths=paths)
        np.testing.assert_array_equal(got8, want8)

    @pytest.mark.parametrize("stride", [1, 2])
    def test_box_10_short_rows_rgb_and_strides(self, paths, stride):
        x = np.random.default_rng(1).integers(0, 256, (40, 50, 3)).astype(np.uint8)
        s, want, want8, ties = _exact_quotients(x, np.ones((10, 10)), 100, stride=stride)
        k = load_kernel("box:10")
        assert conv2d(x, k, stride=stride, paths=paths).tobytes() == want.astype(np.float32).tobytes()
        np.testing.assert_array_equal(conv2d(x, k, stride=stride, dtype="uint8", paths=paths), want8)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test_integer_kernels_with_a_scale_give_the_same_correctly_rounded_bytes(self, data):
        from kernelcli.catalog import parse_kernels

        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        h, w = data.draw(st.integers(8, 40)), data.draw(st.integers(8, 40))
        x = rng.integers(0, 256, (h, w, data.draw(st.sampled_from([1, 3])))).astype(np.uint8)
        kh, kw = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))
        if data.draw(st.booleans()):
            m = np.outer(rng.integers(-3, 4, kh), rng.integers(-3, 4, kw))  # rank 1: the separable loops
        else:
            m = rng.integers(-9, 10, (kh, kw))
        m[0, 0] = data.draw(st.integers(1, 9))  # never all zero
        d = data.draw(st.sampled_from([3, 7, 10, 12, 100, 273, 1000, 4095]))
        k = parse_kernels({"name": "k", "matrix": m.tolist(), "scale": d})[0]  # as a kernel file gives it
        mode = data.draw(st.sampled_from(["constant", "replicate", "reflect", "symmetric", "circular"]))
        stride = data.draw(st.sampled_from([1, 2]))
        if stride == 1:
            _, want, want8, _ = _exact_quotients(x, m, d, mode, 7)
        results = {name: conv2d(x, k, pad_mode=mode, pad_value=7, stride=stride, paths=p) for name, p in PATHS.items()}
        rounded = {name: conv2d(x, k, pad_mode=mode, pad_value=7, stride=stride, dtype="uint8", paths=p)
                   for name, p in PATHS.items()}
        first = results.pop("numpy")
        if stride == 1:
            assert first.tobytes() == want.astype(np.float32).tobytes() and np.array_equal(rounded["numpy"], want8)
        for name, got in results.items():
            assert got.tobytes() == first.tobytes(), name  # the sign of each 0 too
            assert rounded[name].tobytes() == rounded["numpy"].tobytes(), name

    @pytest.mark.parametrize("source, big", [("float64", 5e307), ("float32", 3e37)])
    def test_large_float_values_do_not_overflow_the_whole_number_sums(self, paths, source, big):
        # box_3x3 summed nine values of 5e307 to inf in float64 (the true average is 5e307): the CLI refused
        # the input ("overflows float64 ... use a float64 input"), the API gave inf; the whole numbers are
        # now scaled by a power of two for float inputs, which leaves every quotient as it was
        from scipy.ndimage import correlate

        from kernelcli.ndsupport import kernel_values

        x = np.full((12, 40), big, dtype=source)
        x[3:7, 5:30] = big / 3
        # (odd sizes: scipy's window is centred as ours; gaussian_5x5's separable pass summed its whole-number column,
        # 16 x 5e307, to infinity too)
        for name in ("box_3x3", "box:5", "gaussian_5x5"):
            k = load_kernel(name)
            out = conv2d(x, k, padding="same", pad_mode="replicate", paths=paths)
            assert np.isfinite(out).all(), name
            want = correlate(x.astype(np.float64), kernel_values(k), mode="nearest")
            np.testing.assert_allclose(out, want, rtol=1e-6 if source == "float32" else 1e-12)
        small = np.random.default_rng(3).integers(0, 256, (30, 1100)).astype(source)  # whole numbers: ties kept, as before
        _, want, _, ties = _exact_quotients(small, np.ones((10, 10)), 100)
        assert ties.sum() > 50
        assert conv2d(small, load_kernel("box:10"), paths=paths).tobytes() == want.astype(source).tobytes()

    def test_the_divisor_is_found(self):
        from kernelcli.catalog import parse_kernels

        assert forms.divisor_form(load_kernel("box:10").array())[1] == 100
        assert forms.divisor_form(load_kernel("box:3").array())[1] == 9
        assert forms.divisor_form(load_kernel("box:4").array()) is None  # 1/16: whole numbers times a power of two
        k = parse_kernels({"name": "k", "matrix": [[2, 3, 5], [7, 11, 13]], "scale": 273})[0].array()
        m, d = forms.divisor_form(k)
        assert d == 273 and m.tolist() == [[2, 3, 5], [7, 11, 13]]
        assert forms.divisor_form(np.full((3, 3), np.pi)) is None
        assert forms.divisor_form(np.array([[0.1, 0.2, 0.1 * 3]])) is None  # 3 * 0.1 is not 3/10: times 0.1, not over 10
        assert costs.same_bytes_on_every_path(np.dtype("uint8"), load_kernel("box:3").array(), np.dtype("float32"), True, 0.0)
        assert forms.fft_form(np.zeros((4, 4, 1), np.uint8), k, np.dtype("float32"), 0, 0.0)[1][2] == 273

    def test_bands_and_tiles_give_the_whole_images_bytes(self):
        from kernelcli.bands import conv2d_bands

        x = np.random.default_rng(3).integers(0, 256, (700, 150)).astype(np.uint8)  # FFT bands: whole blocks
        want = _exact_quotients(x, np.ones((10, 10)), 100)[1].astype(np.float32)
        for p in (COLD, WARM, Paths(force="fft"), Paths(force="dense")):
            bands = conv2d_bands(x, load_kernel("box:10"), paths=p, band_bytes=20000)
            assert len(bands) > 1
            out = np.empty_like(want)
            for top, block in bands:
                out[top : top + block.shape[0]] = block
            assert out.tobytes() == want.tobytes()

    @pytest.mark.parametrize("kind", ["box", "random"])
    def test_volumes_too(self, paths, kind):
        from scipy.ndimage import correlate

        from kernelcli import conv3d

        rng = np.random.default_rng(9)
        x = rng.integers(0, 256, (14, 16, 18)).astype(np.uint8)
        m, d = (np.ones((3, 3, 3)), 27) if kind == "box" else (rng.integers(-3, 6, (5, 5, 5)), 7)
        s = correlate(x.astype(np.int64), m.astype(np.int64), mode="constant")  # odd sides: "same" is centred
        out = conv3d(x, m / d, paths=paths)
        assert out.tobytes() == (s / d).astype(np.float32).tobytes()

    def test_cli_box_10_into_an_8_bit_png_rounds_exact_ties_half_to_even(self, tmp_path):
        from PIL import Image

        x = np.random.default_rng(4).integers(0, 256, (300, 280)).astype(np.uint8)
        Image.fromarray(x).save(tmp_path / "x.png")
        _, _, want8, ties = _exact_quotients(x, np.ones((10, 10)), 100)
        assert ties.sum() > 500
        for n in ("10", "14"):
            r = run_cli("convolve", str(tmp_path / "x.png"), "--kernel", f"box:{n}", "--out", str(tmp_path / f"y{n}.png"), "-q")
            assert r.returncode == 0, r.stderr
            got = np.asarray(Image.open(tmp_path / f"y{n}.png"))
            want = want8 if n == "10" else _exact_quotients(x, np.ones((14, 14)), 196)[2]
            np.testing.assert_array_equal(got, want)


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
        with pytest.raises(UsageError, match="^value 300 does not fit uint8"):
            pad2d(np.ones((n, n), np.uint8), 1, value=300, paths=paths)

    def test_1e10_in_int32_and_fractions_in_integers(self, paths):
        with pytest.raises(UsageError, match="does not fit int32"):
            pad2d(np.ones((1000, 1000), np.int32), 1, value=1e10, paths=paths)
        with pytest.raises(UsageError, match="whole number"):
            pad2d(np.ones((5, 5), np.uint8), 1, value=2.5, paths=paths)
        assert pad2d(np.ones((5, 5), np.uint8), 1, value=255, paths=paths)[0, 0] == 255

    def test_convolution_fills_must_fit_the_compute_dtype(self, paths):
        with pytest.raises(UsageError, match="pad_value"):
            conv2d(np.ones((50, 50), np.float32), np.ones((3, 3)), pad_value=1e39, paths=paths)
        with pytest.raises(UsageError, match="pad_value"):
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

    def test_the_fft_gives_the_direct_loops_sign_of_zero_for_any_values(self):
        """Signed values under a kernel with no positive weight: 0 by cancellation is +0.0, an all-zero
        window -0.0; the FFT's exact form wrote -0.0 for both (the kernels audit: a 400x400 int16 under an
        all-negative 21x21 kernel, every 0 of the CLI's .npy -0.0 where a 40x40 one's were +0.0)."""
        negative = np.array([[-1.0, -2.0]])
        assert costs.same_bytes_on_every_path(np.dtype("int16"), negative, np.dtype("float64"), True, 0.0)
        assert not costs.same_bytes_on_every_path(np.dtype("uint8"), np.ones((3, 3)), np.dtype("float32"), True, -0.0)
        x = np.array([[2, -1, 0, 0]], dtype=np.int16)
        for name in ("numpy", "dense", "fft"):
            out = conv2d(x, negative, padding="valid", paths=PATHS[name])
            assert out.tolist() == [[0.0, 1.0, 0.0]] and np.signbit(out).tolist() == [[False, False, True]], name
        rng = np.random.default_rng(0)
        big = rng.integers(-1, 2, (120, 130)).astype(np.int16)
        big[40:60, 40:60] = 0
        whole = np.where(rng.random((60, 70)) < 0.5, -0.0, 0.0).astype(np.float32)  # whole numbers, -0.0 among them
        whole[rng.random(whole.shape) < 0.1] = 3
        for x, k in ((big, -rng.integers(1, 3, (9, 9)).astype(float)), (whole, np.ones((3, 3))), (whole, -np.ones((2, 2)))):
            for mode, fill in (("constant", 0.0), ("constant", -0.0), ("reflect", 0.0), ("circular", 0.0)):
                want = conv2d(x, k, pad_mode=mode, pad_value=fill, paths=PATHS["dense"])
                assert np.signbit(want[want == 0]).any()
                for name in ("numpy", "fft"):
                    got = conv2d(x, k, pad_mode=mode, pad_value=fill, paths=PATHS[name])
                    assert got.tobytes() == want.tobytes(), (name, mode, fill)
        from kernelcli import conv3d

        vol = rng.integers(-1, 2, (12, 14, 10)).astype(np.int16)
        k3 = -rng.integers(1, 3, (5, 5, 5)).astype(float)
        assert conv3d(vol, k3, paths=PATHS["fft"]).tobytes() == conv3d(vol, k3, paths=PATHS["dense"]).tobytes()

    def test_a_volumes_exact_zero_is_positive_on_every_path(self):
        """The paths audit: the volume loops start each sum at +0.0, the 3-D FFT gave the 2-D loops' -0.0 under a
        kernel with no positive weight: a 48^3 mask under -ones(9^3) had 106,496 zeros -0.0 'cold', +0.0 'warm'."""
        from kernelcli import conv3d

        x = np.zeros((40, 40, 40), np.uint8)
        x[12:20, 12:20, 12:20] = 1
        want = conv3d(x, -np.ones((9, 9, 9)), paths="warm")
        assert (want == 0).any() and not np.signbit(want[want == 0]).any()
        for name in ("cold", "numpy", "dense", "fft"):
            assert conv3d(x, -np.ones((9, 9, 9)), paths=PATHS.get(name, name)).tobytes() == want.tobytes(), name
        for data, k in ((np.zeros((1, 1, 1), np.uint8), [[[-1.0]]]), (np.full((1, 1, 1), -0.0, np.float32), [[[1.0]]])):
            for name in ("numpy", "jit", "dense", "separable", "fft"):
                out = conv3d(data, k, padding="valid", paths=PATHS[name])
                assert out.tolist() == [[[0.0]]] and not np.signbit(out).any(), name

    def test_an_all_zero_kernel_gives_positive_zeros_on_every_path(self):
        # the loops leave zero weights out (an empty sum, +0.0); the FFT gave -0.0 (no positive weight: kernel_zero)
        rng = np.random.default_rng(3)
        for x in (np.array([[-1.0]]), rng.integers(-5, 5, (24, 23)).astype(np.int64), -rng.random((9, 9), np.float32)):
            for k in ([[0.0]], np.zeros((4, 1)), np.zeros((3, 3))):
                for name in ("numpy", "jit", "dense", "fft"):
                    out = conv2d(x, k, paths=PATHS[name])
                    assert not out.any() and not np.signbit(out).any(), (name, x.dtype, np.shape(k))

    def test_the_separable_passes_give_a_padded_columns_sign_of_zero(self):
        """The kernels audit: a uint8 image under a negated box, separable, wrote +0.0 in the border
        columns (sep8's padded cells), where every other path writes -0.0; so did a uint16 one at the top
        and bottom rows under a mixed-sign column factor (the fill rows' zero products left out)."""
        x = np.zeros((30, 31), np.uint8)
        x[10:20, 10:20] = 7
        for k in (-np.ones((3, 3)), -np.ones((21, 21)), np.outer([1.0, -1, -2], [1.0, 1, 2])):
            assert costs.same_bytes_on_every_path(x.dtype, k, np.dtype("float32"), True, 0.0) == (k.size < 100)  # (21x21: the FFT's)
            for data in (x, x.astype(np.uint16)):
                want = conv2d(data, k, paths=PATHS["dense"])
                for name in ("numpy", "separable", "fft", "cold", "warm"):
                    assert conv2d(data, k, paths=PATHS[name]).tobytes() == want.tobytes(), (name, data.dtype, k.shape)

    def test_a_separable_row_whose_taps_all_fall_in_the_fill_sums_their_zeros(self):
        """The hypothesis search below: an even kernel's last row, whose one tap reads the zero fill below the
        image, was +0.0 (apply_taps' sum of no inside tap), where the product -1 * +0.0 is -0.0 (int16, separable)."""
        k = np.outer([0.0, -1.0], [0.0, 1.0])
        x = np.zeros((6, 10), np.int16)
        x[1, 2], x[3, 5] = 2, -1
        assert costs.same_bytes_on_every_path(x.dtype, k, np.dtype("float32"), True, 0.0)
        want = conv2d(x, k, paths=PATHS["dense"])
        assert np.signbit(want[-1]).all()
        assert conv2d(x, k, paths=PATHS["separable"]).tobytes() == want.tobytes()

    def test_where_the_separable_sign_differs_no_measurement_may_choose(self):
        """Signed values under a rank-1 kernel whose column factor has no positive weight and whose row
        factor a negative one (-sobel_v): a column's cancelled +0.0 times -1 is -0.0 where the window's own
        products sum to +0.0."""
        k = -np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
        assert not costs.same_bytes_on_every_path(np.dtype("int16"), k, np.dtype("float32"), True, 0.0)
        assert costs.same_bytes_on_every_path(np.dtype("int16"), -k, np.dtype("float32"), True, 0.0)
        assert costs.same_bytes_on_every_path(np.dtype("uint8"), k, np.dtype("float32"), True, 0.0)
        x = np.zeros((5, 5), np.int16)
        x[1:4, 1] = [1, -2, 1]  # a column that cancels
        dense, separable = (conv2d(x, k, paths=PATHS[name]) for name in ("dense", "separable"))
        assert np.array_equal(dense, separable) and dense.tobytes() != separable.tobytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_where_same_bytes_is_claimed_every_path_gives_them(self, data):
        dtype = data.draw(st.sampled_from([np.uint8, np.int16, np.uint16]))
        shape = (data.draw(st.integers(3, 12)), data.draw(st.integers(3, 12)))
        low = -2 if dtype == np.int16 else 0
        x = np.array(data.draw(st.lists(st.integers(low, 2), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1])),
                     dtype=dtype).reshape(shape)
        col = np.array(data.draw(st.lists(st.integers(-2, 2), min_size=2, max_size=4)), float)
        row = np.array(data.draw(st.lists(st.integers(-2, 2), min_size=2, max_size=4)), float)
        if not col.any() or not row.any():
            return
        k = np.outer(col, row)
        mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "symmetric", "circular"]))
        if not costs.same_bytes_on_every_path(x.dtype, k, np.dtype("float32"), mode == "constant", 0.0):
            return
        want = conv2d(x, k, pad_mode=mode, paths=PATHS["dense"]).tobytes()
        for name in ("numpy", "separable", "fft"):
            assert conv2d(x, k, pad_mode=mode, paths=PATHS[name]).tobytes() == want, name


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


class TestOverflowOnTheWay:
    """The paths audit: past float32's range the paths parted -- numpy multiplies then adds (inf - inf is NaN),
    the jitted loops fuse each multiply-add, the FFT sums in float64.  An output that is not finite from a finite
    input is summed again in float64 (kernelcli._core.overflow): its true value rounded, an infinity beyond the range."""

    CASES = [
        (np.array([[2, 4]], np.uint8), [[2.0**127, -2.0**127]], [[-np.inf]]),  # numpy NaN, the others -inf
        (np.array([[2, 1]], np.uint8), [[2.0**127, -2.0**127]], [[2.0**127]]),  # numpy inf: 2**127 fits
        (np.full((5, 5), 1e38, np.float32), [[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.zeros((3, 3))),  # numpy -inf, loops 0
        (np.full((3, 3), 3e38, np.float32), [[1, 1], [-1, -1]], np.zeros((2, 2))),  # numpy and the loops inf, FFT 0
    ]

    @pytest.mark.parametrize("case", range(len(CASES)))
    def test_every_direct_path_gives_the_true_value(self, case):
        x, k, want = self.CASES[case]
        for name in ("numpy", "jit", "dense", "separable", "cold", "warm"):
            out = conv2d(x, k, padding="valid", paths=PATHS[name])
            assert out.dtype == np.float32 and out.tolist() == np.asarray(want, np.float32).tolist(), name
        if case != 2:  # (1e38 is not a whole number float32 sums exactly: the FFT is within its bound there, -9e30)
            assert conv2d(x, k, padding="valid", paths=PATHS["fft"]).tolist() == np.asarray(want, np.float32).tolist()

    def test_a_volume_too(self):
        from kernelcli import conv3d

        x, k = np.array([[[2, 4]]], np.uint8), [[[2.0**127, -2.0**127]]]  # NaN on four paths, -inf on the FFT
        for name in ("numpy", "jit", "dense", "separable", "fft"):
            assert conv3d(x, k, padding="valid", paths=PATHS[name]).tolist() == [[[-np.inf]]], name

    def test_no_pass_over_the_data_where_no_sum_can_overflow(self):
        from kernelcli._core import overflow

        assert not overflow.possible(np.uint8, np.ones((31, 31)), np.float32)
        assert not overflow.possible(np.int64, np.ones((31, 31)), np.float64)
        assert overflow.possible(np.int64, np.ones((3, 3)), np.float32) is False  # 9 * 2**63 < 2**127
        assert overflow.possible(np.float32, np.ones((3, 3)), np.float32)


def test_a_weight_below_the_dtypes_range_is_what_the_loops_apply_on_the_fft_too():
    # the paths audit: 2**-150 is 0 in float32 on the loops (and torch), the FFT's exact form kept it: 2.8e-45
    from kernelcli import conv3d

    x = np.array([[3, 5]], np.uint8)
    for k, want in (([[2.0**-150]], [0.0, 0.0]), ([[3 * 2.0**-150]], [3 * 2.0**-148, 5 * 2.0**-148])):
        for name in ("numpy", "jit", "dense", "fft"):
            assert conv2d(x, k, padding="valid", paths=PATHS[name]).ravel().tolist() == want, (name, k)
            assert conv3d(x[None], [k], padding="valid", paths=PATHS[name]).ravel().tolist() == want, (name, k)
