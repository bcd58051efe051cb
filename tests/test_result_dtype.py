"""``dtype=`` of conv2d and pool2d: the float result rounded half to even and clipped, on every path;
float32 and float64 computed in; one vocabulary in every array function.

The reference is the same call without ``dtype`` on the same forced path, rounded by numpy in
float64 here (``np.clip(np.rint(r), lo, hi)``): ties (x.5 exactly, from kernels of halves and
quarters and from 2x2 averages) and values out of the dtype's range on both sides.  Where a loop
rounds as it writes (a uint8 image under a rank-1 kernel, the 2x2 average of a uint8
image), a test also makes sure no float result was rounded afterwards.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelcli import api, conv2d, pool2d
from kernelcli._core import numpy_impl
from kernelcli._core.policy import Paths
from kernelcli.errors import UsageError

CONV_PATHS = [Paths(force=f) for f in ("numpy", "dense", "separable", "fft", "jit")]
POOL_PATHS = [Paths(force=f) for f in ("numpy", "jit", "general")]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(result: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.rint(result.astype(np.float64)), info.min, info.max).astype(dtype)


def assert_rounded(got: np.ndarray, floats: np.ndarray, dtype) -> None:
    assert got.dtype == np.dtype(dtype) and got.shape == floats.shape
    np.testing.assert_array_equal(got, reference(floats, dtype))


@st.composite
def images(draw, kinds=("uint8", "float32")):
    h, w = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    shape = (h, w, 3) if draw(st.booleans()) else (h, w)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.sampled_from(kinds)) == "uint8":
        return (rng.random(shape) * 256).astype(np.uint8)
    return (rng.integers(-700, 700, shape) / 2).astype(np.float32)  # halves: ties under [[1]]


@st.composite
def kernels(draw):
    """Rank-1 (the separable paths) or dense, whole numbers over a power of two: sums with ties."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shift = draw(st.integers(0, 3))
    if draw(st.booleans()):
        col = np.array(draw(st.lists(st.integers(-3, 4), min_size=kh, max_size=kh)), float)
        row = np.array(draw(st.lists(st.integers(-3, 4), min_size=kw, max_size=kw)), float)
        col[0] = col[0] or 1  # rank 1, not 0
        row[-1] = row[-1] or 1
        return np.outer(col, row) / 2**shift
    return np.array(draw(st.lists(st.integers(-4, 4), min_size=kh * kw, max_size=kh * kw)), float).reshape(kh, kw) / 2**shift


@SETTINGS
@given(x=images(), k=kernels(), mode=st.sampled_from(["constant", "constant", "reflect", "replicate"]),
       fill=st.sampled_from([0.0, 0.0, 7.0]), stride=st.sampled_from([1, 1, 2]),
       dtype=st.sampled_from(["uint8", "uint8", "int8", "int16"]))
def test_conv2d_rounds_the_float_result_of_every_path(x, k, mode, fill, stride, dtype):
    """Dense in place and through the ring (a stride, a uint8 cast), separable in place, through the
    ring (a fill of 7) and on uint8 rows (sep8), FFT, numpy."""
    if min(x.shape[:2]) < 2 and mode == "reflect":
        mode = "replicate"
    kw = {"pad_mode": mode, "pad_value": fill if mode == "constant" else 0.0, "stride": stride}
    for paths in CONV_PATHS:
        floats = conv2d(x, k, paths=paths, **kw)
        assert_rounded(conv2d(x, k, dtype=dtype, paths=paths, **kw), floats, dtype)


@pytest.mark.parametrize("mode", ["constant", "reflect"])
@pytest.mark.parametrize("shape", [(37, 41), (20, 33, 3)])
def test_the_uint8_separable_loop_rounds_as_it_writes(monkeypatch, mode, shape):
    rng = np.random.default_rng(7)
    x = (rng.random(shape) * 256).astype(np.uint8)
    x[:4] = 255  # bright rows: results over 255 under a kernel summing past 1
    k = np.outer([1, 4, 6, 4, 1], [1, 2, 1]) / 32  # sums of x/32 multiples of 1/32: ties
    paths = Paths(force="separable")
    floats = conv2d(x, k, pad_mode=mode, paths=paths)
    assert (floats > 255).any() and (np.abs(floats % 1) == 0.5).any()
    monkeypatch.setattr(numpy_impl, "round_clip", lambda *a: pytest.fail("rounded after the loop"))
    assert_rounded(conv2d(x, k, pad_mode=mode, dtype=np.uint8, paths=paths), floats, np.uint8)


@SETTINGS
@given(x=images(("uint8", "uint8", "float32")), window=st.sampled_from([(2, 2, 0), (2, 2, 0), (3, 2, 0), (2, 1, 1), (3, 3, 1)]),
       dtype=st.sampled_from(["uint8", "uint8", "int8"]))
def test_pool2d_avg_rounds_the_float_result_of_every_path(x, window, dtype):
    size, stride, padding = window
    if min(x.shape[:2]) + 2 * padding < size:
        return
    for paths in POOL_PATHS:
        floats = pool2d(x, size, stride=stride, op="avg", padding=padding, paths=paths)
        assert_rounded(pool2d(x, size, stride=stride, op="avg", padding=padding, dtype=dtype, paths=paths), floats, dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(64, 70), (33, 65, 3), (18, 20, 2)])
def test_the_2x2_average_into_its_own_dtype(monkeypatch, dtype, shape):
    """uint8 rounds in the loop, in integers; uint16 after the float64 loop (one compiled version fewer)."""
    rng = np.random.default_rng(3)
    x = (rng.random(shape) * (np.iinfo(dtype).max + 1)).astype(dtype)
    x[:2, :6] = np.iinfo(dtype).max
    x[2:4, :4] = np.array([[0, 1, 1, 0], [1, 0, 0, 1]]).reshape(2, 4, *[1] * (x.ndim - 2))  # sums 2: ties, q even (down)
    floats = pool2d(x, 2, op="avg", paths=Paths(force="jit"))
    assert (floats % 1 == 0.5).any()
    if dtype == np.uint8:
        monkeypatch.setattr(numpy_impl, "round_clip", lambda *a: pytest.fail("rounded after the loop"))
    got = pool2d(x, 2, op="avg", dtype=dtype, paths=Paths(force="jit"))
    assert_rounded(got, floats, dtype)


def test_max_pool_of_floats_and_clipping_of_integers():
    x = np.array([[-3.5, 2.5, 300.0, 0.5], [1.5, -0.5, 255.5, 254.5]], np.float32)
    assert pool2d(x, 1, op="max", dtype="uint8").tolist() == [[0, 2, 255, 0], [2, 0, 255, 254]]
    wide = np.array([[-40000, 70000]], np.int32)
    assert pool2d(wide, 1, op="min", dtype="int16").tolist() == [[-32768, 32767]]


def test_ties_go_to_even_not_up_as_opencv():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(11)
    x = (rng.random((256, 258)) * 256).astype(np.uint8)
    theirs = cv2.resize(x, (129, 128), interpolation=cv2.INTER_AREA)
    s = x[0::2, 0::2].astype(int) + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]
    down = (s % 4 == 2) & ((s // 4) % 2 == 0)  # x.5 with an even x: rint goes down, OpenCV up
    assert down.any()
    for paths in POOL_PATHS:
        np.testing.assert_array_equal(pool2d(x, 2, op="avg", dtype="uint8", paths=paths), theirs.astype(int) - down)


def test_dtype_of_the_result_itself_is_none():
    x = np.arange(36, dtype=np.uint8).reshape(6, 6)
    assert conv2d(x, [[1, 2]], dtype=np.float32).tobytes() == conv2d(x, [[1, 2]]).tobytes()
    assert pool2d(x, 2, op="max", dtype=np.uint8).dtype == np.uint8
    assert pool2d(x.astype(np.float64), 2, op="avg", dtype=">f8").dtype == np.float64


@pytest.mark.parametrize("bad", ["float16", "int32", np.uint64, bool, "complex64", "pixels"])
def test_other_dtypes_are_refused_by_name(bad):
    x = np.zeros((4, 4), np.uint8)
    for call in (lambda: conv2d(x, [[1]], dtype=bad), lambda: pool2d(x, 2, op="avg", dtype=bad)):
        with pytest.raises(UsageError, match=rf"dtype {re.escape(repr(bad))}: expected None \(the default: float32\), float32 "
                                             r"or float64 to compute in, or an integer dtype to round the result into: "
                                             r"uint8, int8, uint16, int16"):
            call()


def test_a_dask_input_is_rounded_tile_by_tile():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(5)
    x = (rng.random((40, 36)) * 256).astype(np.uint8)
    k = np.outer([1, 2, 1], [1, 2, 1]) / 8
    lazy = conv2d(da.from_array(x, chunks=16), k, dtype="uint8")
    assert lazy.dtype == np.uint8
    np.testing.assert_array_equal(lazy.compute(), conv2d(x, k, dtype="uint8"))
    pooled = pool2d(da.from_array(x, chunks=16), 2, op="avg", dtype="uint8")
    np.testing.assert_array_equal(pooled.compute(), pool2d(x, 2, op="avg", dtype="uint8"))
    with pytest.raises(UsageError, match="dtype 'float16'"):
        api.conv2d(da.from_array(x, chunks=16), k, dtype="float16")


# ---------------------------------------------------------------- one dtype= in every array function

#: the words ``dtype=`` takes besides None, in every array function
COMPUTE = ["float32", "float64"]
ROUNDED = ["uint8", "int8", "uint16", "int16"]
REFUSED = ["float16", "int32", np.uint64, bool, "complex64", "pixels", np.longdouble]
REFUSAL = (r"dtype .*: expected None \(the default: \w+\), float32 or float64 to compute in, or an integer dtype to "
           r"round the result into: uint8, int8, uint16, int16")


def test_a_float_dtype_computes_in_that_precision_on_every_path():
    """conv2d refused dtype="float64" (only integer dtypes were taken); a uint8 image in float64
    now gives float64 sums, the same bytes as the image cast first, and float32 computes in float32."""
    ndi = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(21)
    x = (rng.random((23, 19, 3)) * 256).astype(np.uint8)
    k = rng.normal(size=(3, 5))
    want = np.stack([ndi.correlate(x[..., c].astype(np.float64), k, mode="constant") for c in range(3)], axis=2)
    for paths in CONV_PATHS:
        got = conv2d(x, k, dtype="float64", paths=paths)
        assert got.dtype == np.float64
        assert got.tobytes() == conv2d(x.astype(np.float64), k, paths=paths).tobytes()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-10)  # float32 sums are off by ~1e-5 here
        x64 = x / 3.0
        assert conv2d(x64, k, dtype=np.float32, paths=paths).tobytes() == conv2d(x64.astype(np.float32), k, paths=paths).tobytes()
    for paths in POOL_PATHS:
        avg = pool2d(x, 2, op="avg", dtype="float64", paths=paths)
        assert avg.dtype == np.float64 and avg.tobytes() == pool2d(x.astype(np.float64), 2, op="avg", paths=paths).tobytes()
        top = pool2d(x, 3, op="max", stride=1, dtype="float32", paths=paths)
        assert top.dtype == np.float32 and np.array_equal(top, pool2d(x, 3, op="max", stride=1, paths=paths))


def _calls():
    from kernelcli import volume_filters, volumes

    return {
        "conv2d": lambda v, dt: conv2d(v[0], [[0.5, 0.25, -1.0], [1.0, 0.5, 0.25]], dtype=dt),
        "pool2d": lambda v, dt: pool2d(v[0], 2, op="avg", dtype=dt),
        "convolve_slices": lambda v, dt: volumes.convolve_slices(v, [[0.5, 0.25], [1.0, -1.0]], dtype=dt),
        "conv3d": lambda v, dt: volumes.conv3d(v, np.arange(6.0).reshape(2, 1, 3) / 4, dtype=dt),
        "correlate_separable": lambda v, dt: volumes.correlate_separable(v, ([0.5, 0.5], None, [1, 2, 1]), dtype=dt),
        "smooth_renormalised": lambda v, dt: volume_filters.smooth_renormalised(v, ([1, 1, 1], None, [1, 2, 1]), dtype=dt),
        "gradient_magnitude": lambda v, dt: volume_filters.gradient_magnitude(v, (1.0, 1.0, 2.0), dtype=dt),
        "sobel_magnitude": lambda v, dt: volume_filters.sobel_magnitude(v, (1.0, 1.0, 2.0), dtype=dt),
        "laplacian_of_gaussian": lambda v, dt: volume_filters.laplacian_of_gaussian(v, 1.0, (1.0, 1.0, 1.0), dtype=dt),
    }


@pytest.mark.parametrize("name", list(_calls()))
def test_every_array_function_takes_one_dtype_vocabulary(name):
    """One meaning everywhere (volumes.conv3d took only floats, conv2d only integers, convolve_slices
    both): floats compute in it, the same bytes as the input cast first; integers round the default result."""
    call = _calls()[name]
    rng = np.random.default_rng(22)
    v = (rng.integers(-300, 600, (3, 7, 8)) / 2).astype(np.int16)  # whole numbers: ties under halves and quarters
    default = call(v, None)
    for dt in COMPUTE:
        got = call(v, dt)
        assert got.dtype == np.dtype(dt), (name, dt)
        assert got.tobytes() == call(v.astype(dt), None).tobytes(), (name, dt)
    for dt in ROUNDED:
        assert_rounded(call(v, dt), default, dt)
    for bad in REFUSED:
        with pytest.raises(UsageError, match=REFUSAL):
            call(v, bad)


def test_separable_volumes_round_into_an_out_buffer():
    from kernelcli import volumes

    v = np.arange(60, dtype=np.int16).reshape(3, 4, 5) * 7
    kernels = ([0.5, 0.5], None, [1, 2, 1])
    buf = np.empty(v.shape, np.uint8)
    assert volumes.correlate_separable(v, kernels, dtype="uint8", out=buf) is buf
    assert_rounded(buf, volumes.correlate_separable(v, kernels), np.uint8)
    with pytest.raises(UsageError, match="out: expected a C-contiguous, writeable uint8 array"):
        volumes.correlate_separable(v, kernels, dtype="uint8", out=np.empty(v.shape, np.float32))


BEYOND_FLOAT32 = r"value\(s\) beyond float32's range \(about 3\.4e\+38 in magnitude\): compute in float64 \(dtype='float64'\)"


@pytest.mark.parametrize("name", list(_calls()))
def test_values_beyond_float32_are_refused_not_turned_infinite(name):
    """dtype="float32" on float64 values past float32's range: conv3d and correlate_separable
    returned infinities silently, conv2d, pool2d and convolve_slices called the finite input
    "NaN or infinite"; now one message names the range and the dtype to use, and no warning."""
    call = _calls()[name]
    v = np.ones((3, 7, 8))
    v[0, 2, 3] = -1e39
    with np.errstate(all="raise"), pytest.raises(UsageError, match=BEYOND_FLOAT32):
        call(v, "float32")
    assert call(v, "float64").dtype == np.float64
    v[0, 2, 3] = -1e15  # (the magnitudes square it)
    assert call(v, "float32").dtype == np.float32


@pytest.mark.parametrize("name", ["conv2d", "pool2d"])
def test_a_dask_input_beyond_float32_gets_the_range_message(name):
    """dtype="float32" on a dask float64 array past float32's range: the cast made infinities and a
    tile called the finite input "NaN or infinite"; now the whole array is checked when the call is made,
    before any tile, with the message a numpy input gets (the whole array's count: audit 105 F3)."""
    da = pytest.importorskip("dask.array")
    call = _calls()[name]
    v = np.ones((1, 12, 10))
    v[0, 9, 7] = v[0, 1, 1] = -1e39
    with np.errstate(all="raise"), pytest.raises(UsageError, match="^x: 2 " + BEYOND_FLOAT32):
        call(da.from_array(v, chunks=(1, 4, 5)), "float32")
    v[0, 1, 1] = 1
    v[0, 9, 7] = -1e30
    got = call(da.from_array(v, chunks=(1, 4, 5)), "float32").compute(scheduler="sync")
    assert got.tobytes() == call(v, "float32").tobytes()


def test_the_range_is_float32s_own_rounding():
    from kernelcli import ndsupport

    top = np.nextafter(np.float64(np.finfo(np.float32).max), np.inf)  # rounds down to float32's largest
    assert np.float32(top) == np.finfo(np.float32).max
    assert ndsupport.check_fits(np.array([0.0, top, -top, np.nan]), np.dtype(np.float32)) == np.float32  # (NaN: the finite check's)
    half_way = np.float64(np.finfo(np.float32).max) + 2.0**103  # half an ulp above: rounds to infinity
    with pytest.raises(UsageError, match=r"x: 1 value\(s\) beyond"):
        ndsupport.check_fits(np.array([1.0, half_way]), np.dtype(np.float32))


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(np.float64).max, reason="long double is float64 here")
@pytest.mark.parametrize("name", list(_calls()))
def test_a_long_double_input_computes_in_float64(name):
    """A long double input was computed in float32 by default (1e39 became infinite silently, and
    every value lost 40 bits), and a max pool of one failed in Numba's typing with a traceback.
    It is now taken as float64 (the widest the core has), as a float64 input is, on every path;
    beyond float64's range it is refused by name."""
    call = _calls()[name]
    rng = np.random.default_rng(23)
    v = rng.normal(size=(3, 7, 8)) * 1e30
    v[0, 0, 0] = 1e39
    got = call(v.astype(np.longdouble), None)
    assert got.dtype == call(v, None).dtype and got.tobytes() == call(v, None).tobytes()
    far = v.astype(np.longdouble)
    far[0, 6, 7] = np.longdouble("1e400")
    with pytest.raises(UsageError, match=r"value\(s\) beyond float64's range"):
        call(far, None)


def test_a_long_double_max_pool_on_every_path():
    x = np.random.default_rng(24).normal(size=(9, 8)).astype(np.longdouble)
    for paths in POOL_PATHS:
        got = pool2d(x, 2, op="max", paths=paths)
        assert got.dtype == np.float64 and got.tobytes() == pool2d(x.astype(np.float64), 2, op="max", paths=paths).tobytes()
