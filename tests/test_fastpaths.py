"""Every fast path of the core, forced on random inputs, against the naive reference (or scipy).

The API picks a path by itself; here each one is forced (the ``paths`` policy's ``force``,
pinned through ``policy.DEFAULT``) so that each is checked on its own: the dense direct loop,
the separable (rank-1) loop, the tiled FFT, strided and dilated windows, the specialised
2x2/3x3 stride-2 pooling and the general pooling loop; then the dispatch rules and the
"compiling..." note.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import kernelcli.api as api
from kernelcli import conv2d, pool2d
from kernelcli._core import conv, costs, engine, fft, forms, policy, threads
from kernelcli.modes import PAD_CODES, PAD_MODES
from kernelcli.shapes import resolve_padding

import naive

FAST = [HealthCheck.function_scoped_fixture]
SOBEL_V = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.fixture
def force(monkeypatch):
    """Force the jitted core and return a setter for the convolution path."""
    monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="jit"))

    def set_path(name):
        monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force=name or "jit"))

    return set_path


@st.composite
def cases(draw, rank1=False, stride1=False, max_k=9):
    h, w, c = draw(st.integers(1, 36)), draw(st.integers(1, 36)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(h, w, c) if draw(st.booleans()) else (h, w))
    k = np.outer(rng.normal(size=kh), rng.normal(size=kw)) if rank1 else rng.normal(size=(kh, kw))
    stride = (1, 1) if stride1 else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["same", "valid", 0, 2, (1, 0, 3, 2)]))
    return x, k, stride, dilation, padding, draw(st.sampled_from(PAD_MODES))


def fits(x, k, padding, dilation):
    t, b, l, r = resolve_padding(padding, k.shape[0], k.shape[1], dilation)
    return (x.shape[0] + t + b >= dilation[0] * (k.shape[0] - 1) + 1
            and x.shape[1] + l + r >= dilation[1] * (k.shape[1] - 1) + 1)


def check_against_naive(x, k, stride, dilation, padding, mode, rtol=1e-10, atol=1e-10):
    if not fits(x, k, padding, dilation):
        return
    widths = resolve_padding(padding, k.shape[0], k.shape[1], dilation)
    out = conv2d(x, k, stride=stride, dilation=dilation, padding=padding, pad_mode=mode, pad_value=0.25)
    ref = naive.correlate(x, k, stride=stride, widths=widths, mode=mode, value=0.25, dilation=dilation)
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)


class TestDensePath:
    @settings(max_examples=120, deadline=None, suppress_health_check=FAST)
    @given(case=cases())
    def test_matches_naive_all_modes_strides_dilations_channels(self, force, case):
        force("dense")
        check_against_naive(*case)

    @pytest.mark.parametrize("k", [1, 3, 5, 7, 17])
    def test_every_tap_count_covers_all_pass_sizes(self, force, k):
        # 1, 9, 25, 49 and 289 taps use every unrolled pass size (16, 8, 4, 2, 1)
        force("dense")
        rng = np.random.default_rng(k)
        check_against_naive(rng.normal(size=(40, 45)), rng.normal(size=(k, k)), (1, 1), (1, 1), "same", "reflect")

    def test_zero_kernel_gives_zeros(self, force):
        force("dense")
        assert not conv2d(np.ones((30, 30)), np.zeros((3, 3))).any()

    @pytest.mark.parametrize("path", ["dense", "separable"])
    @pytest.mark.parametrize("f", [3, 5, 7, 11])
    def test_a_value_does_not_depend_on_where_it_falls_in_the_row(self, force, path, f):
        # The tap passes use fused multiply-adds; the vectorised body and the scalar remainder of a
        # row must compute them alike, or a tile (another row width) would round differently.
        force(path)
        rng = np.random.default_rng(f)
        for dtype in (np.float32, np.float64):
            x = rng.normal(size=(f + 6, 75)).astype(dtype)
            k = np.outer(rng.normal(size=f), rng.normal(size=f)) + (0 if path == "separable" else rng.normal(size=(f, f)))
            wide = conv2d(x, k, padding="valid")
            for w in (f, f + 1, f + 7, f + 16, 40):
                np.testing.assert_array_equal(conv2d(x[:, :w], k, padding="valid"), wide[:, : w - f + 1])
                np.testing.assert_array_equal(conv2d(x[:, 75 - w :], k, padding="valid"), wide[:, 75 - w :])

    @pytest.mark.parametrize("f", [3, 5])
    @pytest.mark.parametrize("channels", [1, 3])
    @pytest.mark.parametrize("mode", ["constant", "reflect"])
    def test_rows_in_one_flat_pass_equal_rows_one_by_one(self, force, f, channels, mode):
        # 'same' at stride 1: runs of interior rows are one pass over the flat output; one column
        # less of padding on the right makes the output narrower than the input: row by row
        force("dense")
        rng = np.random.default_rng(f * channels)
        x = rng.normal(size=(70, 53, channels)).astype(np.float32)
        k = rng.normal(size=(f, f))
        p = f // 2
        flat = conv2d(x, k, padding=(p, p, p, p), pad_mode=mode, pad_value=0.5)
        rowwise = conv2d(x, k, padding=(p, p, p, p - 1), pad_mode=mode, pad_value=0.5)
        np.testing.assert_array_equal(flat[:, :-1], rowwise)
        check_against_naive(x.astype(np.float64), k, (1, 1), (1, 1), "same", mode, rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize("f", [7, 9])
    @pytest.mark.parametrize("mode", ["constant", "reflect"])
    @pytest.mark.parametrize("dtype", [np.float32, np.uint8])
    def test_short_rows_in_a_slab_equal_long_rows_through_the_ring(self, force, f, mode, dtype):
        # rows of up to 1024 padded values run several to a pass (conv._dense_slab); longer rows
        # one at a time through the ring of padded rows: the same sums, byte for byte
        from kernelcli._core import conv

        force("dense")
        rng = np.random.default_rng(f)
        x = (rng.random((41, conv._SLAB_MAX_ROW + 60, 1)) * 200).astype(dtype)
        k = rng.normal(size=(f, f))
        short = conv2d(x[:, :60], k, padding="same", pad_mode=mode, pad_value=3)
        long = conv2d(x, k, padding="same", pad_mode=mode, pad_value=3)
        keep = 60 - f // 2  # the short image's right border columns read other values
        np.testing.assert_array_equal(short[:, :keep], long[:, :keep])
        check_against_naive(x[:, :60].astype(np.float64), k, (1, 1), (1, 1), "same", mode, rtol=1e-4, atol=1e-3)

    @pytest.mark.parametrize("f,dilation,inplace", [(11, 1, True), (13, 1, False), (3, 5, True), (3, 6, False)])
    def test_wide_windows_read_padded_rows(self, force, f, dilation, inplace):
        # in place, a window's edge columns come from strips that grow with the window: wide ones take the ring
        rng = np.random.default_rng(f)
        x, k = rng.normal(size=(30, 33)), rng.normal(size=(f, f))
        widths = resolve_padding("same", f, f, (dilation, dilation))
        f64 = np.dtype("float64")
        plan = engine.direct_plan((30, 33, 1), f64, k, f64, widths, 0, 0.0, (1, 1), (dilation, dilation), 30, 33, "dense")
        assert plan.fn.__name__ == ("dense_direct" if inplace else "dense_rows")
        force("dense")
        check_against_naive(x, k, (1, 1), (dilation, dilation), "same", "constant")

    @settings(max_examples=120, deadline=None)
    @given(case=cases(max_k=7), top=st.integers(0, 6), left=st.integers(0, 6), dtype=st.sampled_from(["float32", "float64"]))
    def test_in_place_and_through_the_ring_give_the_same_bytes(self, case, top, left, dtype):
        # conv.dense_direct reads the interior in place and takes its edge columns from strips,
        # and the rows whose windows reach the top or bottom through the ring: every output is
        # the ring's tap passes over the same padded values (float data: rounding included)
        x, k, (sh, _), (dh, dw), _, mode = case
        x3 = x.reshape(x.shape[0], x.shape[1], -1).astype(dtype)
        h, w, c = x3.shape
        ph, pw = dh * (k.shape[0] - 1), dw * (k.shape[1] - 1)
        widths = (min(top, ph), ph - min(top, ph), min(left, pw), pw - min(left, pw))
        oh, ow = (h - 1) // sh + 1, w
        _in_place_equals_the_ring(x3, k, widths, mode, sh, (dh, dw), oh, ow)

    @settings(max_examples=80, deadline=None)
    @given(case=cases(max_k=7), side=st.integers(0, 6), left=st.integers(0, 6), wide=st.booleans(),
           dtype=st.sampled_from(["float32", "float64"]))
    def test_narrower_outputs_in_place_equal_the_ring(self, case, side, left, wide, dtype):
        # less padding at the sides than the window's width ("valid": none): output rows shorter than the
        # input's, computed in place row by row (long rows, blocked sweeps included) or through a buffer
        x, k, (sh, _), (dh, dw), _, mode = case
        x3 = x.reshape(x.shape[0], x.shape[1], -1).astype(dtype)
        ph, pw = dh * (k.shape[0] - 1), dw * (k.shape[1] - 1)
        if wide:  # output rows of at least _NARROW_IN_PLACE_VALUES values: in place
            values = conv._NARROW_IN_PLACE_VALUES + pw * x3.shape[2]
            x3 = np.tile(x3, (1, -(-values // (x3.shape[1] * x3.shape[2])), 1))
        h, w, c = x3.shape
        padw = min(side, pw - 1) if pw else 0  # fewer padded columns than the window is wide
        assume(pw > 0 and w + padw - pw >= 1)
        widths = (ph // 2, ph - ph // 2, min(left, padw), padw - min(left, padw))
        oh, ow = (h - 1) // sh + 1, w + padw - pw
        assert (ow * c >= conv._NARROW_IN_PLACE_VALUES) == wide
        _in_place_equals_the_ring(x3, k, widths, mode, sh, (dh, dw), oh, ow)

    @pytest.mark.parametrize("shape,f", [((150, 117, 1), 5), ((90, 70, 3), 7), ((130, 131, 1), 3)])
    def test_in_place_passes_over_parts_of_a_large_block_equal_the_ring(self, shape, f):
        # more than 16 taps: the flat pass goes over parts of _PASS_ELEMENTS values
        from kernelcli._core import conv

        rng = np.random.default_rng(f)
        x3 = rng.normal(size=shape).astype(np.float32)
        k = rng.normal(size=(f, f))
        assert shape[0] * shape[1] * shape[2] > 2 * conv._PASS_ELEMENTS
        results = []
        for span in (100, 0):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(engine, "INPLACE_MAX_SPAN", span)
                plan = engine._build_direct(shape, x3.dtype, k, x3.dtype, (f // 2,) * 4, PAD_CODES["reflect"], 0.0,
                                            (1, 1), (1, 1), shape[0], shape[1], "dense")
            results.append(plan.run(x3))
        assert results[0].tobytes() == results[1].tobytes()

    def test_uint8_and_uint16_inputs_read_directly(self, force):
        force("dense")
        rng = np.random.default_rng(7)
        for dtype in (np.uint8, np.uint16, np.int16, np.float16):
            x = rng.integers(0, 200, size=(33, 31, 2)).astype(dtype)
            out = conv2d(x, SOBEL_V, pad_mode="symmetric")
            assert out.dtype == api.compute_dtype(x.dtype)
            ref = naive.correlate(x, SOBEL_V, widths=(1, 1, 1, 1), mode="symmetric")
            np.testing.assert_array_equal(out, ref)  # integers: exact


class TestSeparablePath:
    @settings(max_examples=120, deadline=None, suppress_health_check=FAST)
    @given(case=cases(rank1=True))
    def test_rank1_matches_naive(self, force, case):
        force("separable")
        check_against_naive(*case)

    @pytest.mark.parametrize("name", ["sobel_v", "sobel_h", "prewitt_v", "gaussian:1", "gaussian:5", "box:4"])
    def test_catalogue_kernels_are_separable_and_match_dense_in_float32(self, force, name):
        from kernelcli.catalog import load_kernel

        k = load_kernel(name).array()
        assert forms.rank1_factors(k, np.dtype("float32")) is not None
        x = np.random.default_rng(3).random((70, 90)).astype(np.float32) * 255
        force("separable")
        sep = conv2d(x, k, pad_mode="replicate")
        force("dense")
        dense = conv2d(x, k, pad_mode="replicate")
        scale = conv2d(np.abs(x), np.abs(k), pad_mode="replicate")
        # the classic bound for summing n float32 products: n * eps * sum of |terms|
        assert np.all(np.abs(sep - dense) <= k.size * np.finfo(np.float32).eps * scale)

    def test_integer_kernel_factors_are_exact(self):
        col, row = forms.rank1_factors(SOBEL_V, np.dtype("float32"))
        np.testing.assert_array_equal(np.outer(col, row), SOBEL_V)

    def test_integer_image_with_sobel_stays_exact(self, force):
        force("separable")
        x = np.random.default_rng(4).integers(0, 256, size=(64, 80)).astype(np.uint8)
        ref = naive.correlate(x, SOBEL_V, widths=(1, 1, 1, 1))
        np.testing.assert_array_equal(conv2d(x, SOBEL_V), ref)

    @pytest.mark.parametrize("k", [np.eye(3), np.array([[1.0, 2], [3, 4]]), np.array([[1.0, 0], [0, 1e-3]])])
    def test_rank2_kernels_are_not_separable(self, k):
        assert forms.rank1_factors(k, np.dtype("float64")) is None

    def test_automatic_choice(self):
        f32 = np.dtype("float32")
        assert costs.choose_path(SOBEL_V, (1, 1), (1, 1), f32) == "dense"  # 3x3: one 2-D pass is faster
        assert costs.choose_path(np.ones((7, 7)), (1, 1), (1, 1), f32) == "separable"
        assert costs.choose_path(np.random.default_rng(0).normal(size=(7, 7)), (1, 1), (1, 1), f32) == "dense"
        assert costs.choose_path(np.random.default_rng(0).normal(size=(31, 31)), (1, 1), (1, 1), f32) == "fft"
        # the direct loop up to 19x19 (361 taps): it beats the FFT there on 256^2 and 2048^2 images
        assert costs.choose_path(np.random.default_rng(0).normal(size=(15, 15)), (1, 1), (1, 1), f32) == "dense"
        assert costs.choose_path(np.random.default_rng(0).normal(size=(19, 19)), (1, 1), (1, 1), f32) == "dense"
        assert costs.choose_path(np.random.default_rng(0).normal(size=(21, 21)), (1, 1), (1, 1), f32) == "fft"
        assert costs.choose_path(np.random.default_rng(0).normal(size=(31, 31)), (2, 1), (1, 1), f32) == "dense"


class TestFFTPath:
    @settings(max_examples=80, deadline=None, suppress_health_check=FAST)
    @given(case=cases(stride1=True, max_k=12))
    def test_matches_naive_float64(self, force, case):
        force("fft")
        x, k = case[0], case[1]
        scale = np.abs(x).max() * np.abs(k).sum() + 1
        check_against_naive(*case, rtol=0, atol=1e-11 * scale)

    @pytest.mark.parametrize("mode", PAD_MODES)
    def test_float32_error_is_relative_to_the_image_magnitude(self, force, mode):
        force("fft")
        rng = np.random.default_rng(5)
        x, k = rng.random((300, 260, 2)).astype(np.float32), rng.normal(size=(23, 21))
        out = conv2d(x, k, pad_mode=mode)
        ref = naive_like_scipy(x, k, mode)
        assert np.abs(out - ref).max() <= 1e-5 * np.abs(x).max() * np.abs(k).sum()

    def test_kernel_wider_than_any_tile(self, force):
        force("fft")
        rng = np.random.default_rng(6)
        x, k = rng.normal(size=(420, 30)), rng.normal(size=(5, 3))
        check_against_naive(x, k, (1, 1), (100, 1), "same", "circular", rtol=0, atol=1e-9)

    @pytest.mark.parametrize("span,n", [(3, 10), (31, 2048), (61, 500), (400, 900), (15, 256), (85, 8192)])
    def test_block_grid_depends_on_the_kernel_alone(self, span, n):
        block, length, shift, count = fft.grid(n, span)
        assert shift == 0 and count * block >= n and (count - 1) * block < n
        assert length >= block + span - 1 and block >= min(n, 3 * span)
        if n >= fft.block_side(span):  # any call at least one block long: the same grid, tiles included
            assert (block, length) == fft.grid(n + 1000, span, origin=block * 3)[:2]

    @pytest.mark.parametrize("mode", PAD_MODES)
    def test_padding_wider_than_the_input(self, force, mode):
        force("fft")
        rng = np.random.default_rng(13)
        check_against_naive(rng.normal(size=(7, 5, 2)), rng.normal(size=(4, 6)), (1, 1), (1, 1), (9, 3, 11, 8), mode, rtol=0, atol=1e-9)


def naive_like_scipy(x, k, mode):
    """scipy.ndimage.correlate per channel, float64, 'same' for odd kernels."""
    import scipy.ndimage as ndi

    return np.stack([ndi.correlate(x[:, :, c].astype(np.float64), k, mode=naive.SCIPY_MODE[mode]) for c in range(x.shape[2])], axis=2)


class TestStridedOutputsOnly:
    @pytest.mark.parametrize("stride", [(2, 2), (3, 2), (1, 3), (4, 4)])
    @pytest.mark.parametrize("path", ["dense", "separable"])
    def test_strided_equals_subsampled_stride1(self, force, stride, path):
        force(path)
        rng = np.random.default_rng(8)
        x = rng.normal(size=(41, 37, 3))
        k = np.outer(rng.normal(size=5), rng.normal(size=3))
        full = conv2d(x, k, padding="valid", pad_mode="reflect")
        strided = conv2d(x, k, padding="valid", stride=stride, pad_mode="reflect")
        np.testing.assert_allclose(strided, full[:: stride[0], :: stride[1]], rtol=1e-12, atol=1e-12)

    def test_phase_storage_layout(self):
        # stride 2: the padded row 0 1 2 3 4 (with one zero each side) is stored as even | odd columns
        x = np.arange(1.0, 6.0).reshape(1, 5, 1)
        rows, cols, runs, wq = engine.pad_plan(x.shape, (0, 0, 1, 1), 0, 2)
        from kernelcli._core.pad import pad_into

        row = np.full(2 * wq, -9.0)
        # read-only, as a plan hands them: the loops' own compiled version, not one more for this test
        pad_into(engine.read_only(x.reshape(1, 5)), 1, 0, engine.read_only(cols), engine.read_only(runs), wq, 0.0, row, 0)
        np.testing.assert_array_equal(row[:wq], [0, 2, 4, 0][:wq])
        np.testing.assert_array_equal(row[wq : 2 * wq][:3], [1, 3, 5])


@st.composite
def pool_cases(draw, special=False):
    size = draw(st.sampled_from([2, 3])) if special else draw(st.integers(1, 5))
    stride = 2 if special else draw(st.integers(1, 5))
    padding = 0 if special else draw(st.integers(0, size // 2))
    h = draw(st.integers(max(1, size - 2 * padding), 40))
    w = draw(st.integers(max(1, size - 2 * padding), 40))
    c = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(["float64", "float32", "uint8", "int16", "uint16"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.normal(size=(h, w, c)) * 100).astype(dtype) if dtype.startswith("float") else rng.integers(0, 250, size=(h, w, c)).astype(dtype)
    ceil_mode = False if special else draw(st.booleans())
    return x, size, stride, padding, ceil_mode, draw(st.sampled_from(["max", "min", "avg"])), draw(st.booleans())


class TestPooling:
    @settings(max_examples=150, deadline=None, suppress_health_check=FAST)
    @given(case=pool_cases(special=True))
    def test_specialised_2x2_3x3_stride2(self, monkeypatch, case):
        monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="jit"))
        self._check(case)

    @settings(max_examples=150, deadline=None, suppress_health_check=FAST)
    @given(case=pool_cases())
    def test_general_loop(self, monkeypatch, case):
        monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="general"))
        self._check(case)

    @staticmethod
    def _check(case):
        x, size, stride, padding, ceil_mode, op, include = case
        out = pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=include)
        ref = naive.pool(x, size, stride, op, padding, ceil_mode, include)
        if op == "avg":
            assert out.dtype == api.compute_dtype(x.dtype)
            tol = 1e-6 if out.dtype == np.float32 else 1e-12
            # relative to the inputs' magnitude: a mean near 0 of values near +-200 cancels (float32: 2.6e-6 off)
            np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * max(np.abs(ref).max(), np.abs(x).max()))
        else:
            assert out.dtype == x.dtype
            np.testing.assert_array_equal(out, ref.astype(x.dtype))

    def test_specialised_loop_is_chosen_and_equals_general(self, monkeypatch):
        x = np.random.default_rng(9).random((64, 66, 3)).astype(np.float32)
        for size in (2, 3):
            fast = pool2d(x, size, stride=2, op="max", paths=policy.Paths(force="jit"))
            np.testing.assert_array_equal(fast, pool2d(x, size, stride=2, op="max", paths=policy.Paths(force="general")))


class TestDispatch:
    cold = policy.COLD

    def test_cold_policy_prefers_numpy_for_small_work(self):
        assert costs.cold_choice(self.cold, 512 * 512, SOBEL_V, (1, 1), np.dtype("float32")) == "numpy"

    def test_cold_policy_uses_fft_for_a_big_kernel(self):
        g = np.random.default_rng(0).random((31, 31))
        assert costs.cold_choice(self.cold, 2048 * 2048, g, (1, 1), np.dtype("float32")) == "fft"

    def test_warm_policy_always_uses_the_jitted_core(self):
        assert costs.cold_choice(policy.WARM, 2048 * 2048, SOBEL_V, (1, 1), np.dtype("float32")) is None

    def test_the_choice_does_not_depend_on_history(self, force):
        # a batch must write the bytes separate calls write: the same call, the same path, always
        before = costs.cold_choice(self.cold, 2048 * 2048, SOBEL_V, (1, 1), np.dtype("float32"))
        force("dense")
        conv2d(np.ones((40, 40), np.float32), SOBEL_V)  # the jitted core is loaded and has run
        pool2d(np.ones((40, 40), np.float32), 2)
        after = costs.cold_choice(self.cold, 2048 * 2048, SOBEL_V, (1, 1), np.dtype("float32"))
        assert before == after == "numpy"

    def test_cold_fft_path_matches_scipy(self, monkeypatch):
        monkeypatch.setattr(costs, "FFT_COLD_MIN_TAPS", 1)
        monkeypatch.setattr(costs, "NUMPY_SECONDS_PER_TAP", 1.0)  # make numpy hopeless
        rng = np.random.default_rng(10)
        x, k = rng.normal(size=(200, 150, 1)), rng.normal(size=(11, 11))
        out = conv2d(x, k, pad_mode="symmetric", paths="cold")
        np.testing.assert_allclose(out, naive_like_scipy(x, k, "symmetric"), atol=1e-9)

    def test_a_cli_sized_image_does_not_load_numba(self):
        code = (
            "import sys, numpy as np; import kernelcli.api as api;"
            "x = np.random.default_rng(0).integers(0, 256, (512, 512)).astype(np.uint8);"
            "api.conv2d(x, [[1, 0, -1], [2, 0, -2], [1, 0, -1]], paths='cold'); api.pool2d(x, 2, paths='cold');"
            "print('numba' in sys.modules)"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_")}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert done.stdout.strip() == "False"


class TestThreads:
    def test_rows_are_split_and_all_done(self):
        seen = np.zeros(100, dtype=int)

        def work(out, i0, i1):
            out[i0:i1] += 1

        threads.run_rows(work, 100, seen, threads=3)
        assert (seen == 1).all()

    def test_errors_propagate(self):
        def boom(i0, i1):
            raise ValueError(f"rows {i0}:{i1}")

        with pytest.raises(ValueError, match="rows"):
            threads.run_rows(boom, 64, threads=2)

    def test_the_caller_does_not_wait_for_a_helper_that_never_started(self):
        # a busy host may wake a helper only after the caller did every block: the call must
        # not wait for it to run (that added a scheduler delay to sub-millisecond jobs)
        import threading

        gate = threading.Event()
        threads._helpers(1).start(gate.wait)  # every helper thread is busy
        try:
            seen = np.zeros(64, dtype=int)
            returned = threading.Event()

            def work(out, i0, i1):
                out[i0:i1] += 1

            caller = threading.Thread(target=lambda: (threads.run_rows(work, 64, seen, threads=2), returned.set()))
            caller.start()
            assert returned.wait(20), "run_rows waited for a helper thread that had not started"
            assert (seen == 1).all()
        finally:
            gate.set()

    def test_a_helper_that_starts_late_does_not_keep_the_arrays(self):
        # its work item outlives the call: holding the output there made the next call's output
        # fresh memory, zeroed by the kernel (page faults on every call of a loop)
        import gc
        import threading
        import weakref

        gate = threading.Event()
        threads._helpers(1).start(gate.wait)  # every helper thread is busy
        try:
            out = np.zeros(64)
            gone = weakref.ref(out)
            threads.run_rows(lambda a, i0, i1: a[i0:i1].fill(1), 64, out, threads=2)
            assert out.sum() == 64
            del out
            gc.collect()
            assert gone() is None, "a helper's pending work item still holds the array"
        finally:
            gate.set()

    def test_an_error_in_a_helper_block_reaches_the_caller(self):
        import threading

        caller = threading.get_ident()

        def work(i0, i1):
            if threading.get_ident() != caller or i0 > 0:
                raise ValueError(f"rows {i0}:{i1}")

        with pytest.raises(ValueError, match="rows"):
            threads.run_rows(work, 64, threads=2)

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
    def test_a_forked_child_can_still_split_rows(self):
        threads.run_rows(lambda i0, i1: None, 64, threads=2)  # the parent's pool exists now
        code = (
            "import multiprocessing as mp, numpy as np\n"
            "from kernelcli._core import threads\n"
            "def job(_):\n"
            "    out = np.zeros(64)\n"
            "    def work(o, i0, i1):\n"
            "        o[i0:i1] = 1\n"
            "    threads.run_rows(work, 64, out, threads=2)\n"
            "    return out.sum()\n"
            "if __name__ == '__main__':\n"
            "    threads.run_rows(lambda i0, i1: None, 64, threads=2)\n"
            "    with mp.get_context('fork').Pool(1) as pool:\n"
            "        print(pool.map(job, [0])[0])\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
        assert done.stdout.strip() == "64.0"

    def test_one_and_two_threads_agree(self, force):
        force("dense")
        x = np.random.default_rng(11).random((200, 100)).astype(np.float32)
        k = np.random.default_rng(12).random((5, 5))
        both = conv2d(x, k)
        import numba

        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            one = conv2d(x, k)
        finally:
            numba.set_num_threads(previous)
        np.testing.assert_array_equal(one, both)


@pytest.mark.slow
def test_first_compile_is_announced_once(tmp_path):
    """With an empty Numba cache the first run says "compiling" once, however many loops it
    compiles (here the padding loop for two dtypes: the smallest loop, so the test stays quick);
    the second run, with the cache filled, is silent."""
    code = (
        "import numpy as np; import kernelcli.api as api; from kernelcli._core.policy import Paths;"
        "jit = Paths(force='jit'); x = np.ones((40, 40), np.float32);"
        "api.pad2d(x, 1, paths=jit); api.pad2d(x, 2, paths=jit); api.pad2d(x.astype(np.uint8), 1, paths=jit)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stderr.count("compiling the numeric core") == 1
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "compiling" not in second.stderr


def _in_place_equals_the_ring(x3, k, widths, mode, sh, dilation, oh, ow) -> None:
    """conv.dense_direct and conv.dense_rows (both forced) give the same bytes, near the naive definition."""
    results = []
    for fn in ("dense_direct", "dense_rows"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "INPLACE_MAX_SPAN", 100 if fn == "dense_direct" else 0)
            plan = engine._build_direct(x3.shape, x3.dtype, k, x3.dtype, widths, PAD_CODES[mode], 0.25, (sh, 1),
                                        dilation, oh, ow, "dense")
        assert plan.fn.__name__ == fn
        results.append(plan.run(x3))
    assert results[0].tobytes() == results[1].tobytes()
    ref = naive.correlate(x3.astype(np.float64), k, stride=(sh, 1), widths=widths, mode=mode, value=0.25, dilation=dilation)
    np.testing.assert_allclose(results[0].reshape(ref.shape), ref, rtol=1e-4, atol=1e-4)
