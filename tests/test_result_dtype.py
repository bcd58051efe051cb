"""``dtype=`` of conv2d and pool2d: the float result rounded half to even and clipped, on every path.

The reference is the same call without ``dtype`` on the same forced path, rounded by numpy in
float64 here (``np.clip(np.rint(r), lo, hi)``): ties (x.5 exactly, from kernels of halves and
quarters and from 2x2 averages) and values out of the dtype's range on both sides.  Where a loop
rounds as it writes (a uint8 image under a rank-1 kernel, the 2x2 average of a uint8
image), a test also makes sure no float result was rounded afterwards.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("bad", ["float16", np.float64, "int32", np.uint64, bool, "complex64", "pixels"])
def test_other_dtypes_are_refused_by_name(bad):
    x = np.zeros((4, 4), np.uint8)
    for call in (lambda: conv2d(x, [[1]], dtype=bad), lambda: pool2d(x, 2, op="avg", dtype=bad)):
        with pytest.raises(UsageError, match=r"dtype .*expected None \(the result's own float32\) or an integer dtype "
                                             r"to round the result into: uint8, int8, uint16, int16"):
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
