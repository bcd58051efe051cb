"""conv2d and pad2d against the lecture's worked examples, a naive reference, numpy.pad and scipy.ndimage."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernelcli.api as api
from kernelcli._core import policy
from kernelcli import conv2d, pad2d
from kernelcli.errors import ShapeError, UsageError
from kernelcli.modes import PAD_MODES

import naive

PREWITT_V = [[1, 0, -1]] * 3
SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
EX1 = [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]]
EX2 = [[105, 102, 100, 97, 96], [103, 99, 103, 101, 102], [101, 98, 104, 102, 100], [99, 101, 106, 104, 99], [104, 104, 104, 100, 98]]
EX4 = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]


@pytest.fixture(params=["numpy", "jit"])
def path(request, monkeypatch):
    """Run a test through the plain-numpy path and through the jitted core."""
    monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="numpy" if request.param == "numpy" else "jit"))
    return request.param


class TestWorkedExamples:
    def test_example1_valid_prewitt(self, path):
        out = conv2d(np.array(EX1), PREWITT_V, padding="valid")
        np.testing.assert_array_equal(out, [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]])

    def test_example2_zero_padding_sharpen(self, path):
        out = conv2d(np.array(EX2), SHARPEN, padding=1)
        expected = [[320, 206, 198, 188, 281], [210, 89, 111, 101, 213], [205, 85, 111, 101, 197],
                    [189, 98, 117, 113, 193], [317, 211, 210, 194, 291]]
        np.testing.assert_array_equal(out, expected)

    def test_example2_replicate_padding(self, path):
        out = conv2d(np.array(EX2), SHARPEN, padding=1, pad_mode="replicate")
        expected = [[110, 104, 98, 91, 89], [107, 89, 111, 101, 111], [104, 85, 111, 101, 97],
                    [90, 98, 117, 113, 94], [109, 107, 106, 94, 95]]
        np.testing.assert_array_equal(out, expected)

    def test_example3_step_edges_both_signs(self, path):
        step = np.array([[10, 10, 10, 0, 0, 0]] * 6)
        np.testing.assert_array_equal(conv2d(step, PREWITT_V, padding="valid"), [[0, 30, 30, 0]] * 4)
        np.testing.assert_array_equal(conv2d(step[:, ::-1], PREWITT_V, padding="valid"), [[0, -30, -30, 0]] * 4)

    def test_example4_kernel_learning_matrix(self, path):
        out = conv2d(np.array(EX4), PREWITT_V, padding="valid")
        np.testing.assert_array_equal(out, [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]])

    def test_example2_padded_matrix(self):
        padded = pad2d(np.array(EX2), 1)
        assert padded.shape == (7, 7)
        assert (padded[0] == 0).all() and (padded[:, 0] == 0).all()
        np.testing.assert_array_equal(padded[1:-1, 1:-1], EX2)


@st.composite
def conv_cases(draw, channels=False):
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    kh, kw = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    shape = (h, w, draw(st.integers(1, 4))) if channels else (h, w)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    k = rng.normal(size=(kh, kw))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    form = draw(st.sampled_from(["same", "valid", "int", "tuple"]))
    if form == "int":
        padding = draw(st.integers(0, 6))
    elif form == "tuple":
        padding = tuple(draw(st.integers(0, 6)) for _ in range(4))
    else:
        padding = form
    mode = draw(st.sampled_from(PAD_MODES))
    return x, k, stride, dilation, padding, mode


def widths_of(padding, k, dilation):
    from kernelcli.shapes import resolve_padding

    return resolve_padding(padding, k.shape[0], k.shape[1], dilation)


def fits(x, k, widths, dilation):
    return (x.shape[0] + widths[0] + widths[1] >= dilation[0] * (k.shape[0] - 1) + 1
            and x.shape[1] + widths[2] + widths[3] >= dilation[1] * (k.shape[1] - 1) + 1)


class TestAgainstNaive:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=conv_cases(channels=True))
    def test_random_cases_match_definition(self, path, case):
        x, k, stride, dilation, padding, mode = case
        widths = widths_of(padding, k, dilation)
        if not fits(x, k, widths, dilation):
            with pytest.raises(ShapeError, match="larger than the padded input"):
                conv2d(x, k, stride=stride, padding=padding, pad_mode=mode, dilation=dilation)
            return
        out = conv2d(x, k, stride=stride, padding=padding, pad_mode=mode, pad_value=0.5, dilation=dilation)
        ref = naive.correlate(x, k, stride=stride, widths=widths, mode=mode, value=0.5, dilation=dilation)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=conv_cases())
    def test_float32_within_rounding(self, path, case):
        x, k, stride, dilation, padding, mode = case
        widths = widths_of(padding, k, dilation)
        if not fits(x, k, widths, dilation):
            return
        out = conv2d(x.astype(np.float32), k, stride=stride, padding=padding, pad_mode=mode, dilation=dilation)
        ref = naive.correlate(x.astype(np.float32), k.astype(np.float32), stride=stride, widths=widths, mode=mode, dilation=dilation)
        assert out.dtype == np.float32
        scale = naive.correlate(np.abs(x), np.abs(k), stride=stride, widths=widths, mode=mode, dilation=dilation)
        assert (np.abs(out - ref) <= 1e-5 * scale + 1e-6).all()


class TestAgainstScipy:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        h=st.integers(1, 40), w=st.integers(1, 40), kh=st.integers(1, 9), kw=st.integers(1, 9),
        mode=st.sampled_from(PAD_MODES), seed=st.integers(0, 2**32 - 1),
    )
    def test_same_padding_equals_ndimage_correlate(self, path, h, w, kh, kw, mode, seed):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(h, w))
        k = rng.normal(size=(kh, kw))
        if mode in ("reflect",) and (h == 1 or w == 1):
            return  # ndimage 'mirror' on a length-1 axis is defined differently (numpy and PyTorch agree with us)
        # ndimage centres an even kernel at f//2; "same" puts the extra cell after, i.e. origin -1.
        origin = [-1 if kh % 2 == 0 else 0, -1 if kw % 2 == 0 else 0]
        ref = ndi.correlate(x, k, mode=naive.SCIPY_MODE[mode], cval=0.0, origin=origin)
        np.testing.assert_allclose(conv2d(x, k, padding="same", pad_mode=mode), ref, rtol=1e-10, atol=1e-10)

    def test_flip_is_true_convolution(self, path):
        rng = np.random.default_rng(1)
        x, k = rng.normal(size=(20, 17)), rng.normal(size=(5, 3))
        np.testing.assert_allclose(conv2d(x, k, flip=True), ndi.convolve(x, k, mode="constant"), atol=1e-12)


class TestProperties:
    def test_identity_kernel(self, path):
        x = np.random.default_rng(2).integers(0, 255, size=(31, 29, 3)).astype(np.uint8)
        np.testing.assert_array_equal(conv2d(x, [[0, 0, 0], [0, 1, 0], [0, 0, 0]]), x.astype(np.float32))

    @pytest.mark.parametrize("mode", ["replicate", "reflect", "symmetric", "circular"])
    def test_constant_image_gives_c_times_sum(self, path, mode):
        k = np.random.default_rng(3).normal(size=(5, 4))
        out = conv2d(np.full((9, 11), 3.0), k, pad_mode=mode)
        np.testing.assert_allclose(out, 3.0 * k.sum())

    def test_linear_in_image_and_kernel(self, path):
        rng = np.random.default_rng(4)
        a, b, k, m = rng.normal(size=(15, 15)), rng.normal(size=(15, 15)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
        np.testing.assert_allclose(conv2d(2 * a + b, k), 2 * conv2d(a, k) + conv2d(b, k), atol=1e-12)
        np.testing.assert_allclose(conv2d(a, k + m), conv2d(a, k) + conv2d(a, m), atol=1e-12)

    def test_shift_equivariant_with_circular_padding(self, path):
        rng = np.random.default_rng(5)
        x, k = rng.normal(size=(16, 12)), rng.normal(size=(3, 5))
        shifted = np.roll(x, (3, -2), axis=(0, 1))
        np.testing.assert_allclose(conv2d(shifted, k, pad_mode="circular"), np.roll(conv2d(x, k, pad_mode="circular"), (3, -2), axis=(0, 1)), atol=1e-12)

    def test_each_channel_separately(self, path):
        rng = np.random.default_rng(6)
        x, k = rng.normal(size=(12, 10, 3)), rng.normal(size=(3, 3))
        out = conv2d(x, k, stride=2, pad_mode="reflect")
        for c in range(3):
            np.testing.assert_allclose(out[:, :, c], conv2d(x[:, :, c], k, stride=2, pad_mode="reflect"), atol=1e-12)

    def test_even_kernel_same_pads_bottom_right(self, path):
        x = np.arange(16.0).reshape(4, 4)
        out = conv2d(x, [[1, 0], [0, 0]], padding="same")
        np.testing.assert_array_equal(out, x)  # the top-left tap sees the pixel itself: nothing pads top/left

    def test_uint16_large_kernel_stays_exact(self, path):
        x = np.full((40, 40), 65535, dtype=np.uint16)
        out = conv2d(x, np.ones((31, 31)), padding="valid")
        assert out.dtype == np.float64
        assert (out == 65535 * 961).all()

    def test_uint8_computes_in_float32(self, path):
        assert conv2d(np.zeros((4, 4), np.uint8), [[1]]).dtype == np.float32


class TestPad2d:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        h=st.integers(1, 12), w=st.integers(1, 12), c=st.integers(0, 3),
        widths=st.tuples(*[st.integers(0, 30)] * 4), mode=st.sampled_from(PAD_MODES),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_matches_numpy_pad_even_wider_than_input(self, path, h, w, c, widths, mode, seed):
        rng = np.random.default_rng(seed)
        x = rng.integers(-100, 100, size=(h, w, c) if c else (h, w)).astype(np.int16)
        np.testing.assert_array_equal(pad2d(x, widths, mode=mode, value=7), naive.pad(x, widths, mode, 7))

    def test_keeps_dtype(self):
        assert pad2d(np.zeros((3, 3), np.uint16), 2).dtype == np.uint16

    @pytest.mark.parametrize("mode", PAD_MODES)
    def test_float16_keeps_dtype_on_every_path(self, path, mode):
        # regression: the jitted pad has no float16 (Numba) and raised NotImplementedError
        x = np.random.default_rng(7).normal(size=(9, 7, 2)).astype(np.float16)
        out = pad2d(x, (2, 11, 0, 3), mode=mode, value=7)
        assert out.dtype == np.float16
        np.testing.assert_array_equal(out, naive.pad(x, (2, 11, 0, 3), mode, 7))

    @pytest.mark.parametrize("p,widths", [(np.int64(2), (2, 2, 2, 2)), (np.array([1, 2]), (1, 1, 2, 2)),
                                          ((np.int64(1), 2, 0, 3), (1, 2, 0, 3))])
    def test_numpy_integer_widths_as_conv2d_takes_them(self, p, widths):
        # regression: pad2d refused numpy integers that conv2d accepts
        x = np.arange(12.0).reshape(3, 4)
        np.testing.assert_array_equal(pad2d(x, p), naive.pad(x, widths))
        assert conv2d(x, [[1]], padding=p).shape == naive.pad(x, widths).shape

    @pytest.mark.parametrize("alias,mode", [("zero", "constant"), ("edge", "replicate"), ("nearest", "replicate"), ("mirror", "reflect"), ("wrap", "circular")])
    def test_aliases(self, alias, mode):
        x = np.arange(12).reshape(3, 4)
        np.testing.assert_array_equal(pad2d(x, 2, mode=alias), pad2d(x, 2, mode=mode))


class TestErrors:
    def test_nan_input_is_refused(self):
        with pytest.raises(UsageError, match="NaN or infinite"):
            conv2d(np.array([[1.0, np.nan]]), [[1]])

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_a_kernel_turned_non_finite_in_place_is_refused(self, bad):
        # the finiteness of a kernel is remembered by its bytes, so a program reusing one array is
        # still refused once it writes a NaN into it
        x, k = np.ones((5, 5)), np.ones((3, 3))
        conv2d(x, k)
        k[1, 2] = bad
        with pytest.raises(UsageError, match=r"kernel: the weight at \(1, 2\) is (nan|inf|-inf), expected a finite number \(1 value is NaN or infinite\)"):
            conv2d(x, k)
        with pytest.raises(UsageError, match=r"kernel: the weight at \(1, 2\) is "):
            conv2d(x, k)  # a refused kernel is not remembered as finite

    def test_kernel_larger_than_input_names_both_sizes(self):
        with pytest.raises(ShapeError, match=r"input 3x3 and kernel 5x5"):
            conv2d(np.zeros((3, 3)), np.ones((5, 5)), padding="valid")

    @pytest.mark.parametrize("kwargs,match", [
        ({"stride": 0}, "stride must be an integer >= 1"),
        ({"dilation": -1}, "dilation must be an integer >= 1"),
        ({"padding": -1}, "pad widths must be >= 0"),
        ({"padding": "full"}, "invalid padding"),
        ({"pad_mode": "bogus"}, "invalid pad_mode 'bogus'"),
    ])
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises(UsageError, match=match):
            conv2d(np.zeros((5, 5)), np.ones((3, 3)), **kwargs)

    def test_bad_shapes(self):
        with pytest.raises(ShapeError):
            conv2d(np.zeros(5), np.ones((3, 3)))
        with pytest.raises(ShapeError):
            conv2d(np.zeros((5, 5)), np.ones((3, 3, 3)))


class TestFiniteCheck:
    @pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_found_anywhere(self, dtype, bad):
        x = np.ones((17, 13, 2), dtype=dtype)
        x[16, 12, 1] = bad
        with pytest.raises(UsageError, match="NaN or infinite"):
            conv2d(x, [[1]])

    def test_huge_but_finite_values_pass(self):
        x = np.full((8, 8), 1e30, dtype=np.float32)  # the sum-of-squares screen overflows
        assert np.isfinite(conv2d(x, [[1]])).all()


class TestTiling:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        h=st.integers(4, 40), w=st.integers(4, 40), kh=st.integers(1, 7), kw=st.integers(1, 7),
        tiles=st.integers(2, 4), mode=st.sampled_from(PAD_MODES), seed=st.integers(0, 2**32 - 1),
    )
    def test_tiles_with_a_halo_equal_the_whole_image(self, path, h, w, kh, kw, tiles, mode, seed):
        """Cutting the padded image into row bands that overlap by kh-1 rows (the halo) and
        convolving each band 'valid' gives the whole-image result: no seams."""
        from kernelcli.shapes import resolve_padding

        rng = np.random.default_rng(seed)
        x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
        whole = conv2d(x, k, padding="same", pad_mode=mode)
        xp = pad2d(x, resolve_padding("same", kh, kw), mode=mode)
        bounds = np.linspace(0, h, tiles + 1).astype(int)
        bands = [conv2d(xp[r0 : r1 + kh - 1], k, padding="valid") for r0, r1 in zip(bounds[:-1], bounds[1:]) if r1 > r0]
        np.testing.assert_allclose(np.vstack(bands), whole, rtol=1e-12, atol=1e-12)


def _flip_calls():
    from kernelcli import banks, volumes

    image, volume = np.arange(16.0).reshape(4, 4), np.arange(27.0).reshape(3, 3, 3)
    return {
        "conv2d": lambda flip: api.conv2d(image, [[1.0, 2.0]], flip=flip),
        "filter_bank": lambda flip: banks.filter_bank(image, [np.array([[1.0, 2.0]])], flip=flip).maps,
        "conv3d": lambda flip: volumes.conv3d(volume, np.arange(3.0).reshape(1, 1, 3), flip=flip),
    }


FLIP_CALLS = _flip_calls()


class TestFlipIsABool:
    """``flip`` took any truthy value: ``flip="no"`` flipped the kernel, a true convolution no one asked for."""

    @pytest.mark.parametrize("name", FLIP_CALLS)
    @pytest.mark.parametrize("flip", ["no", None, 1, 0.0])
    def test_anything_but_a_bool_is_refused(self, name, flip):
        with pytest.raises(UsageError, match=r"^flip .*: expected True .* or False"):
            FLIP_CALLS[name](flip)

    @pytest.mark.parametrize("name", FLIP_CALLS)
    def test_a_numpy_bool_is_a_bool(self, name):
        call = FLIP_CALLS[name]
        np.testing.assert_array_equal(call(np.True_), call(True))
        np.testing.assert_array_equal(call(np.False_), call(False))
        assert not np.array_equal(call(True), call(False))

    def test_the_tiled_conv3d_too(self):
        da = pytest.importorskip("dask.array")
        from kernelcli.tiled import arrays

        with pytest.raises(UsageError, match=r"^flip 'no'"):
            arrays.conv3d(da.ones((3, 3, 3), chunks=2), np.ones((1, 1, 2)), flip="no")
