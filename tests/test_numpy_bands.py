"""The plain-numpy convolution a band of rows at a time (issue 17's photo memory): the same
bytes as over the whole padded copy, without the padded copy and the product image."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli._core import numpy_impl
from kernelcli.modes import PAD_CODES


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_equals_the_whole_padded_copy(data):
    """Bands (one, a few, one per row), each tap's products at once or tap by tap: the bytes of the
    tap-by-tap loop over the whole padded copy."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    h, w, c = data.draw(st.integers(1, 23)), data.draw(st.integers(1, 23)), data.draw(st.sampled_from([1, 3]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x = rng.integers(0, 256, (h, w, c)).astype(data.draw(st.sampled_from([np.uint8, np.float32])))
    if x.dtype == np.float32:
        x = x * np.float32(0.37)
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    zeros = data.draw(st.sampled_from([0.0, 0.2, 1.0]))  # no zero tap, some, all
    k = (rng.normal(size=(kh, kw)) * (rng.random((kh, kw)) >= zeros)).astype(data.draw(st.sampled_from([dtype, np.float64])))
    (sh, sw), (dh, dw) = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3))), data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    widths = tuple(data.draw(st.integers(0, 6)) for _ in range(4))
    mode = PAD_CODES[data.draw(st.sampled_from(sorted(PAD_CODES)))]
    hp, wp = h + widths[0] + widths[1], w + widths[2] + widths[3]
    if hp < dh * (kh - 1) + 1 or wp < dw * (kw - 1) + 1:
        return
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    old = numpy_impl.BAND_BYTES, numpy_impl.AT_ONCE_PRODUCTS
    try:
        numpy_impl.AT_ONCE_PRODUCTS = 0  # the reference: tap by tap
        whole = numpy_impl.correlate(numpy_impl.pad3d(x, *widths, mode, 7.0, dtype), k, sh, sw, dh, dw, oh, ow)
        numpy_impl.BAND_BYTES = data.draw(st.sampled_from([1, 200, 4 << 20]))  # a band per row, a few, one
        numpy_impl.AT_ONCE_PRODUCTS = data.draw(st.sampled_from([0, 1 << 30]))
        bands = numpy_impl.correlate_bands(x, k, widths, mode, 7.0, dtype, (sh, sw), (dh, dw), oh, ow)
    finally:
        numpy_impl.BAND_BYTES, numpy_impl.AT_ONCE_PRODUCTS = old
    assert bands.dtype == whole.dtype and bands.shape == whole.shape
    np.testing.assert_array_equal(bands, whole)
    assert bands.tobytes() == whole.tobytes()  # "the same bytes": the sign of each 0 too


@pytest.mark.parametrize("at_once", [0, 1 << 30])
def test_a_step_as_large_as_an_int64_is_no_step(at_once, monkeypatch):
    """Regression: with every tap's products at once, a stride (or a one-tap axis's dilation) of 2**63 overflowed
    the strided view ("Maximum allowed dimension exceeded", exit 70 in the option fuzz test); it only ever
    steps over an axis of one output (or one tap), as the tap loop's slices do."""
    monkeypatch.setattr(numpy_impl, "AT_ONCE_PRODUCTS", at_once)
    xp = np.arange(35.0).reshape(5, 7, 1)
    k = np.array([[1.0, 2.0, -1.0]])
    out = numpy_impl.correlate(xp, k, 2**63, 2**63, 2**63, 1, 1, 1)
    assert out.tolist() == [[[xp[0, 0, 0] + 2 * xp[0, 1, 0] - xp[0, 2, 0]]]]
    k2 = np.array([[1.0], [3.0]])
    np.testing.assert_array_equal(numpy_impl.correlate(xp, k2, 2**62, 1, 4, 2**62, 1, 7)[0, :, 0], xp[0, :, 0] + 3 * xp[4, :, 0])


def test_needs_the_output_and_a_few_bands_only():
    x = np.random.default_rng(0).integers(0, 256, (1500, 1000, 3), dtype=np.uint8)
    k = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    tracemalloc.start()
    try:
        out = numpy_impl.correlate_bands(x, k, (1, 1, 1, 1), PAD_CODES["reflect"], 0.0, np.float32, (1, 1), (1, 1), 1500, 1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < out.nbytes + 4 * numpy_impl.BAND_BYTES, peak  # the whole-copy path: 3x the output


def _multiplied(xp, k, oh, ow):
    """The sum as ``correlate`` made it before weights of 1 and -1 skipped their products: w * x for every tap."""
    out = None
    for u in range(k.shape[0]):
        for v in range(k.shape[1]):
            if k[u, v] != 0:
                term = xp[u : u + oh, v : v + ow] * k[u, v]
                out = term if out is None else out + term
    return np.zeros((oh, ow, xp.shape[2]), xp.dtype) if out is None else out


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_weights_of_one_and_minus_one_give_the_bytes_of_their_products(data):
    """``out += x`` and ``out -= x`` for weights 1 and -1 (a first tap: a copy, a negation), -0.0 and
    overflow to infinity included."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    big = np.finfo(dtype).max / 2
    x = rng.choice(np.array([0.0, -0.0, 1.0, -3.5, 0.1, big, -big], dtype), (h + kh - 1, w + kw - 1, 1))
    k = rng.choice(np.array([1, -1, 0, 2, -0.5, 0.3], dtype), (kh, kw))
    old = numpy_impl.AT_ONCE_PRODUCTS
    try:
        numpy_impl.AT_ONCE_PRODUCTS = data.draw(st.sampled_from([0, 1 << 30]))  # tap by tap (where 1 and -1 add), at once
        with np.errstate(over="ignore", invalid="ignore"):
            got = numpy_impl.correlate(x, k, 1, 1, 1, 1, h, w)
            want = _multiplied(x, k, h, w)
    finally:
        numpy_impl.AT_ONCE_PRODUCTS = old
    assert got.tobytes() == want.tobytes()


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_whole_number_sums_in_int16_give_the_float_loops_bytes(data):
    """An 8-bit (or bool) image under a kernel of whole numbers sums in int16 where every partial sum fits
    (:func:`numpy_impl.exact_integer_dtype`): the bytes of the float loop, the sign of each 0 included
    (a negative first weight or a fill of -0.0 keeps the float loop), near the bound and past it."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    h, w, c = data.draw(st.integers(1, 19)), data.draw(st.integers(1, 19)), data.draw(st.sampled_from([1, 3]))
    kind = data.draw(st.sampled_from([np.uint8, np.int8, np.bool_]))
    x = rng.integers(0, 2, (h, w, c)).astype(bool) if kind is np.bool_ else rng.integers(
        np.iinfo(kind).min, int(np.iinfo(kind).max) + 1, (h, w, c)).astype(kind)
    x.flat[rng.integers(0, x.size, x.size // 3)] = 0  # zeros, where -0.0 could arise
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    top = data.draw(st.sampled_from([1, 2, 40, 128, 129]))  # 128 x 255 fits int16, 129 x 255 does not
    k = (rng.integers(-top, top + 1, (kh, kw)) * (rng.random((kh, kw)) < 0.7)).astype(dtype)
    (sh, sw), (dh, dw) = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3))), data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    widths = tuple(data.draw(st.integers(0, 4)) for _ in range(4))
    mode = PAD_CODES[data.draw(st.sampled_from(sorted(PAD_CODES)))]
    fill = data.draw(st.sampled_from([0.0, -0.0, 7.0, 255.0, 300.0, -3.0, 0.5]))
    hp, wp = h + widths[0] + widths[1], w + widths[2] + widths[3]
    if hp < dh * (kh - 1) + 1 or wp < dw * (kw - 1) + 1:
        return
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    band_bytes = data.draw(st.sampled_from([1, 200, 4 << 20]))
    old = numpy_impl.BAND_BYTES, numpy_impl.exact_integer_dtype
    try:
        numpy_impl.BAND_BYTES = band_bytes
        summed = numpy_impl.correlate_bands(x, k, widths, mode, fill, dtype, (sh, sw), (dh, dw), oh, ow)
        numpy_impl.exact_integer_dtype = lambda *args: None  # the float loop
        floats = numpy_impl.correlate_bands(x, k, widths, mode, fill, dtype, (sh, sw), (dh, dw), oh, ow)
    finally:
        numpy_impl.BAND_BYTES, numpy_impl.exact_integer_dtype = old
    assert summed.dtype == floats.dtype == dtype and summed.shape == floats.shape
    assert summed.tobytes() == floats.tobytes()


def test_int16_is_taken_only_within_its_bound():
    """sobel on uint8 sums in int16; past 32767 (129 x 255), a negative first weight, a fraction,
    a fill of -0.0 or a 16-bit image keep the float loop."""
    sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    take = numpy_impl.exact_integer_dtype
    constant = PAD_CODES["constant"]
    assert take(np.dtype(np.uint8), sobel, constant, 0.0) == np.int16
    assert take(np.dtype(np.int8), sobel, constant, -5.0) == np.int16
    assert take(np.dtype(np.uint8), np.array([[128.0]]), constant, 0.0) == np.int16  # 32640
    assert take(np.dtype(np.uint8), np.array([[64.0, -65.0]]), constant, 0.0) is None  # 129 x 255 = 32895
    assert take(np.dtype(np.uint8), np.array([[1.0]]), constant, 129.0 * 255) is None  # the fill counts too
    assert take(np.dtype(np.uint8), np.array([[1.0]]), PAD_CODES["reflect"], 1e9) == np.int16  # no fill there
    assert take(np.dtype(np.uint8), -sobel, constant, 0.0) is None
    assert take(np.dtype(np.uint8), np.array([[0.0, -1.0, 2.0]]), constant, 0.0) is None
    assert take(np.dtype(np.uint8), sobel / 2, constant, 0.0) is None
    assert take(np.dtype(np.uint8), sobel, constant, -0.0) is None
    assert take(np.dtype(np.uint8), sobel, constant, 0.5) is None
    assert take(np.dtype(np.uint16), sobel, constant, 0.0) is None
    assert take(np.dtype(np.float32), sobel, constant, 0.0) is None
    assert take(np.dtype(np.uint8), np.zeros((3, 3)), constant, 0.0) is None
    # at the bound: the largest sums int16 is trusted with come out whole
    x = np.full((4, 5, 1), 255, np.uint8)
    got = numpy_impl.correlate_bands(x, np.array([[64.0, 64.0]], np.float32), (0, 0, 0, 1), constant, 0.0, np.float32, (1, 1), (1, 1), 4, 5)
    assert got[:, :4].tolist() == [[[32640.0]] * 4] * 4 and got[:, 4].tolist() == [[16320.0]] * 4


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_the_products_are_summed_in_tap_order(data):
    """One reduction for every tap's products adds them in the tap loop's order, value by value:
    magnitudes far apart (where the order shows), sums of -0.0, one value or many, every dtype
    the loop sums in."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    taps, n = data.draw(st.integers(1, 40)), data.draw(st.sampled_from([1, 2, 3, 7, 8, 9, 64, 300]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64, numpy_impl.EXACT_DTYPE]))
    if dtype == numpy_impl.EXACT_DTYPE:
        products = rng.integers(-800, 800, (taps, n)).astype(dtype)
    else:
        products = (rng.normal(size=(taps, n)) * 10.0 ** rng.integers(-9, 10, (taps, n))).astype(dtype)
        products[rng.random(products.shape) < 0.3] = -0.0
    want = products[0].copy()
    for p in products[1:]:
        want += p
    got = numpy_impl._sum_in_order(products, np.empty(n, dtype))
    assert got.tobytes() == want.tobytes()


def test_one_value_is_summed_in_tap_order_too():
    """numpy reduces a single value with eight partial sums (here 19, not the tap loop's 12)."""
    products = np.array([1e8, 1, 1, 1, 1, 1, 1, 1, -1e8, 1, 1, 1, 1, 1, 1, 1, 5], np.float32).reshape(-1, 1)
    assert numpy_impl._sum_in_order(products, np.empty(1, np.float32)).tolist() == [12.0]
