"""pool2d against worked example 5, a naive reference, PyTorch (when installed) and the pooling properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernelcli.api as api
from kernelcli._core import policy
from kernelcli import conv2d, pool2d
from kernelcli.errors import ShapeError, UsageError

import naive

EX5 = [[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]]
FAST = [HealthCheck.function_scoped_fixture]


@pytest.fixture(params=["numpy", "jit"])
def path(request, monkeypatch):
    monkeypatch.setattr(policy, "DEFAULT", policy.Paths(force="numpy" if request.param == "numpy" else "jit"))
    return request.param


@st.composite
def pool_cases(draw):
    size = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 5))
    padding = draw(st.integers(0, size // 2))
    h = draw(st.integers(max(1, size - 2 * padding), 30))
    w = draw(st.integers(max(1, size - 2 * padding), 30))
    c = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).normal(size=(h, w, c))
    return x, size, stride, padding, draw(st.booleans()), draw(st.sampled_from(["max", "min", "avg"])), draw(st.booleans())


def test_worked_example_5_max_pool(path):
    # an 8-bit image, as the lecture's is: the max keeps its dtype (an int64 matrix was one more
    # compiled version of the stride-2 loop, 2.5 s of a fresh install, for the same code)
    out = pool2d(np.array(EX5, dtype=np.uint8), 2)
    np.testing.assert_array_equal(out, [[8, 6], [9, 9]])
    assert out.dtype == np.uint8


@settings(max_examples=200, deadline=None, suppress_health_check=FAST)
@given(case=pool_cases())
def test_matches_naive_reference(path, case):
    x, size, stride, padding, ceil_mode, op, include = case
    out = pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=include)
    ref = naive.pool(x, size, stride, op, padding, ceil_mode, include)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=FAST)
@given(case=pool_cases())
def test_matches_torch(path, case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, size, stride, padding, ceil_mode, op, include = case
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    if op == "max":
        ref = F.max_pool2d(t, size, stride, padding, ceil_mode=ceil_mode)
    elif op == "min":
        ref = -F.max_pool2d(-t, size, stride, padding, ceil_mode=ceil_mode)
    else:
        ref = F.avg_pool2d(t, size, stride, padding, ceil_mode=ceil_mode, count_include_pad=include)
    out = pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=include)
    np.testing.assert_array_equal(out, ref[0].numpy().transpose(1, 2, 0))  # float64 averages: torch's bits


@settings(max_examples=150, deadline=None, suppress_health_check=FAST)
@given(case=pool_cases(), scale=st.sampled_from([1.0, 1e6, 1e37]))
def test_float32_averages_are_torchs_bits_on_every_path(case, scale):
    """A float32 average gives torch's bits whatever path the image's size picks: the sums from 0,
    row by row, in float32 (a float64 sum, as the general loop kept, differed in the last bit on
    most windows of a 3x3 average, and stayed finite where float32 overflows: 1e37 x 25 cells)."""
    torch = pytest.importorskip("torch")
    x, size, stride, padding, ceil_mode, _, include = case
    x = (x * scale).astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    with np.errstate(over="ignore"):
        ref = torch.nn.functional.avg_pool2d(t, size, stride, padding, ceil_mode=ceil_mode, count_include_pad=include)
        ref = ref[0].numpy().transpose(1, 2, 0)
        for force in ("numpy", "jit", "general"):
            out = pool2d(x, size, stride=stride, op="avg", padding=padding, ceil_mode=ceil_mode, count_include_pad=include,
                         paths=policy.Paths(force=force))
            assert out.dtype == np.float32
            np.testing.assert_array_equal(out, ref, err_msg=force)


@st.composite
def signed_zero_cases(draw):
    """Images of +0.0, -0.0 and a few other values, so that most windows' extreme is a zero of either
    sign; sizes and strides that take the 2x2/3x3-every-2 loops half the time."""
    if draw(st.booleans()):
        size, stride, padding = draw(st.sampled_from([2, 3])), 2, 0
    else:
        size, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        padding = draw(st.integers(0, size // 2))
    h = draw(st.integers(max(size, 1), 24))
    w = draw(st.integers(max(size, 1), 24))
    c = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.choice(np.array([0.0, -0.0, -0.0, -1.0, 1.0]), size=(h, w, c)).astype(dtype)
    return x, size, stride, padding, draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=FAST)
@given(case=signed_zero_cases())
def test_a_float_max_or_min_is_torchs_first_extreme_on_every_path(case):
    """Of +0.0 and -0.0 in a window, the max and min keep the one that comes first row by row, as
    PyTorch's loop does, on every path: numpy's np.maximum kept either, and the 2x2/3x3-every-2 loop
    (columns first, the later cell on a tie) another, so a 700x700 image's max pool 2x2 differed
    from torch's in the sign of 54,226 zeros under paths='cold' and 39,271 under the default."""
    torch = pytest.importorskip("torch")
    x, size, stride, padding, ceil_mode = case
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    for op in ("max", "min"):
        pooled = torch.nn.functional.max_pool2d(t if op == "max" else -t, size, stride, padding, ceil_mode=ceil_mode)
        ref = (pooled if op == "max" else -pooled)[0].numpy().transpose(1, 2, 0)
        for force in ("numpy", "jit", "general"):
            out = pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, paths=policy.Paths(force=force))
            assert out.tobytes() == np.ascontiguousarray(ref).tobytes(), (op, force)


def test_a_float_max_keeps_the_first_zero_on_an_image_of_any_size():
    """The default policy's paths (numpy for a small image, the jitted loops for a large one) give one sign."""
    rng = np.random.default_rng(5)
    x = rng.choice(np.array([0.0, -0.0, -1.0], np.float32), size=(700, 700))
    for size in (2, 3):
        got = [pool2d(x, size, stride=2, paths=p) for p in (None, policy.Paths(force="numpy"), policy.Paths(force="jit"))]
        assert np.signbit(got[0]).any() and not np.signbit(got[0]).all()
        assert all(g.tobytes() == got[0].tobytes() for g in got[1:]), size
        assert got[0][:7, :7].tobytes() == pool2d(x[:16, :16], size, stride=2)[:7, :7].tobytes()


@pytest.mark.parametrize("shape", [(64, 64), (1024, 1024), (300, 300, 2)])
@pytest.mark.parametrize("size, stride, padding", [(3, 2, 0), (3, 2, 1), (3, 1, 0), (2, 2, 0)])
def test_a_float32_average_does_not_depend_on_the_image_size(shape, size, stride, padding):
    """The default policy sends a small image to numpy and a large one to the jitted loops (the
    specialised 2x2 and 3x3-every-2 ones where they apply): the same window, the same bits."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 1000).astype(np.float32)
    x[:4, :4] = 3e38  # a window of these overflows float32: inf on every path
    with np.errstate(over="ignore"):  # numpy's path warns of the overflow as numpy does
        got = [pool2d(x, size, stride=stride, op="avg", padding=padding, paths=p)
               for p in (None, policy.Paths(force="numpy"), policy.Paths(force="jit"), policy.Paths(force="general"))]
        corner = pool2d(x[:32, :32], size, stride=stride, op="avg", padding=padding)
    assert all(g.tobytes() == got[0].tobytes() for g in got[1:])
    assert corner[:8, :8].tobytes() == got[0][:8, :8].tobytes()
    assert np.isinf(got[0][0, 0]).all()


def test_one_by_one_is_identity(path):
    x = np.random.default_rng(0).integers(0, 65535, size=(13, 7, 2)).astype(np.uint16)
    for op in ("max", "min"):
        np.testing.assert_array_equal(pool2d(x, 1, op=op), x)
    np.testing.assert_array_equal(pool2d(x, 1, op="avg"), x.astype(np.float64))


@settings(max_examples=60, deadline=None, suppress_health_check=FAST)
@given(case=pool_cases())
def test_min_le_avg_le_max(path, case):
    x, size, stride, padding, ceil_mode, _, _ = case
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=False)
    lo, mid, hi = (pool2d(x, size, op=op, **kw) for op in ("min", "avg", "max"))
    assert (lo <= mid + 1e-12).all() and (mid <= hi + 1e-12).all()


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (3, 1), (4, 3)])
def test_avg_pool_equals_uniform_kernel_conv(path, size, stride):
    x = np.random.default_rng(1).normal(size=(17, 19))
    conv = conv2d(x, np.full((size, size), 1.0 / size**2), stride=stride, padding="valid")
    np.testing.assert_allclose(pool2d(x, size, stride=stride, op="avg"), conv, atol=1e-12)


def test_errors():
    with pytest.raises(UsageError, match="at most 1"):
        pool2d(np.zeros((4, 4)), 2, padding=2)
    with pytest.raises(ShapeError, match="input 2x2, pool 3x3"):
        pool2d(np.zeros((2, 2)), 3)
    with pytest.raises(UsageError, match="invalid op"):
        pool2d(np.zeros((4, 4)), 2, op="median")


def test_bool_max_min_match_any_all(path):
    # regression: the plain-numpy path asked np.iinfo for a bool fill value and crashed
    x = np.random.default_rng(2).random((12, 10, 2)) > 0.7
    want_max = naive.pool(x, 3, 2, "max", 1, True, True) > 0
    want_min = naive.pool(x, 3, 2, "min", 1, True, True) > 0
    np.testing.assert_array_equal(pool2d(x, 3, stride=2, op="max", padding=1, ceil_mode=True), want_max)
    np.testing.assert_array_equal(pool2d(x, 3, stride=2, op="min", padding=1, ceil_mode=True), want_min)


@pytest.mark.parametrize("size,stride,padding", [(2, 2, 0), (3, 1, 1)])
def test_float16_max_min_keep_dtype(path, size, stride, padding):
    # regression: Numba has no float16, so the jitted loops failed with NotImplementedError
    x = np.random.default_rng(3).normal(size=(20, 18, 2)).astype(np.float16)
    for op in ("max", "min"):
        out = pool2d(x, size, stride=stride, op=op, padding=padding)
        assert out.dtype == np.float16
        np.testing.assert_array_equal(out, naive.pool(x, size, stride, op, padding).astype(np.float16))


@pytest.mark.parametrize("kwargs", [{"size": 2.5}, {"size": True}, {"size": 2, "stride": 1.5}, {"size": 3, "padding": 0.5}])
def test_non_integer_sizes_are_refused_not_truncated(kwargs):
    size = kwargs.pop("size")
    with pytest.raises(UsageError, match="must be an integer"):
        pool2d(np.zeros((6, 6)), size, **kwargs)
    assert pool2d(np.zeros((6, 6)), np.int64(2), stride=np.int64(2)).shape == (3, 3)


@pytest.mark.parametrize("name", ["ceil_mode", "count_include_pad"])
@pytest.mark.parametrize("value", ["no", 1, None])
def test_the_switches_take_a_bool_only(name, value):
    # a truthy string switched them on silently: ceil_mode="no" gave a 3x3 result of a 6x6 image, not 2x2
    from kernelcli import pool3d

    with pytest.raises(UsageError, match=rf"^{name} .*: expected True or False"):
        pool2d(np.zeros((6, 6)), 4, op="avg", padding=1, **{name: value})
    with pytest.raises(UsageError, match=rf"^{name} .*: expected True or False"):
        pool3d(np.zeros((5, 5, 5)), 2, op="avg", **{name: value})
    assert pool2d(np.zeros((6, 6)), 4, op="avg", padding=1, **{name: np.True_}).shape == pool2d(
        np.zeros((6, 6)), 4, op="avg", padding=1, **{name: True}).shape


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64", "int16"])
@pytest.mark.parametrize("shape", [(33, 47), (20, 31, 3), (2, 2, 4)])
def test_avg_2x2_loop_equals_the_general_loop_and_numpy(dtype, shape):
    """2x2/s2 averages read uint8/uint16 as they are (no float copy): the same numbers as the
    general loop (whole numbers: bit for bit) and the numpy path."""
    rng = np.random.default_rng(9)
    x = (rng.random(shape) * 250).astype(dtype) if dtype[0] in "ui" else rng.normal(size=shape).astype(dtype)
    fast = pool2d(x, 2, op="avg", paths=policy.Paths(force="jit"))
    general = pool2d(x, 2, op="avg", paths=policy.Paths(force="general"))
    plain = pool2d(x, 2, op="avg", paths=policy.Paths(force="numpy"))
    assert fast.dtype == general.dtype == plain.dtype == api.compute_dtype(np.dtype(dtype))
    assert fast.tobytes() == general.tobytes() == plain.tobytes()  # floats too: the same sums in the same order
    ref = x[: shape[0] // 2 * 2, : shape[1] // 2 * 2].astype(np.float64)
    ref = ref.reshape(shape[0] // 2, 2, shape[1] // 2, 2, *shape[2:]).mean(axis=(1, 3))
    tol = 1e-6 if fast.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(fast, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8"])
@pytest.mark.parametrize("shape", [(33, 47), (20, 31, 3), (64, 64), (9, 8, 4)])
def test_avg_2x2_numpy_and_jitted_give_the_same_bits(dtype, shape):
    """The numpy path sums in the jitted loop's order (torch's: row by row): the same bits, floats too."""
    rng = np.random.default_rng(10)
    x = (rng.normal(size=shape) * 100).astype(dtype)
    fast = pool2d(x, 2, op="avg", paths=policy.Paths(force="jit"))
    plain = pool2d(x, 2, op="avg", paths=policy.Paths(force="numpy"))
    assert fast.dtype == plain.dtype and fast.tobytes() == plain.tobytes()


@settings(max_examples=40, deadline=None)
@given(case=pool_cases(), dtype=st.sampled_from(["uint8", "uint16", "int64", "uint64"]))
def test_an_integer_max_or_min_gives_the_same_bytes_on_every_path(case, dtype):
    """An integer max/min picks a value on any path, exactly (64-bit values past 2**53 too): what lets the default
    policy send a small one to the jitted loops once they are loaded (``api.pool2d``), as any float pool (above)."""
    x, size, stride, padding, ceil_mode, op, _ = case
    x = (np.abs(x) * 100).astype(dtype)
    if x.dtype.itemsize == 8:  # past 2**53: a float64 on the way would round them (the colour loop's division did)
        x = x * 997 + np.asarray(2**62 + 1, dtype)
    op = "max" if op == "avg" else op
    got = [pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, paths=policy.Paths(force=force))
           for force in ("numpy", "jit", "general")]
    assert got[0].dtype == x.dtype
    assert got[0].tobytes() == got[1].tobytes() == got[2].tobytes()


class TestAvg2FiniteScreen:
    """The 2x2 average loop screens its outputs for NaN/infinity instead of a separate pass over the
    input (that pass cost as much as the pooling, issue 17); a non-finite input is still refused."""

    @pytest.mark.parametrize("where", [(0, 0), (5, 6), (32, 10), (10, 46), (32, 46)])  # (32, *) and (*, 46): never read
    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_input_is_refused_on_every_path(self, path, where, bad):
        x = np.random.default_rng(11).random((33, 47, 2)).astype(np.float32)
        x[where[0], where[1], 1] = bad
        with pytest.raises(UsageError, match="1 value"):
            pool2d(x, 2, op="avg")

    def test_overflow_of_finite_values_is_not_an_error(self, path):
        x = np.full((4, 4), 3e38, np.float32)
        with np.errstate(over="ignore"):
            out = pool2d(x, 2, op="avg")
        assert np.isinf(out).all()

    def test_the_full_check_runs_only_when_the_screen_cannot_vouch(self):
        from kernelcli._core import engine
        from kernelcli._core.config import AVG

        calls = []
        args = (2, 2, 0, AVG, True, 4, 5, np.dtype("float32"))
        x = np.ones((9, 10, 1), np.float32)  # row 8 is read by no window
        engine.pool(x, *args, finite_check=lambda: calls.append("clean"))
        x[3, 3, 0] = np.nan
        engine.pool(x, *args, finite_check=lambda: calls.append("nan inside"))
        x[3, 3, 0] = 1.0
        x[8, 2, 0] = np.inf
        engine.pool(x, *args, finite_check=lambda: calls.append("inf in the unread row"))
        assert calls == ["nan inside", "inf in the unread row"]
        engine.pool(x, 3, 2, 0, AVG, True, 4, 4, np.dtype("float32"), finite_check=lambda: calls.append("3x3"))
        assert calls[-1] == "3x3"  # other loops: checked first, always


@pytest.mark.parametrize("op", ["max", "min"])
def test_a_float16_max_or_min_takes_numpy_once_the_loops_are_loaded(op):
    """Once any pool had loaded the jitted loops, the default policy sent every small pool to them, float16 too,
    which Numba lacks: NotImplementedError (the API audit)."""
    x16 = np.arange(16, dtype=np.float16).reshape(4, 4)
    pool2d(np.zeros((600, 600), np.float32), 2, paths=policy.Paths(force="jit"))  # the loops are loaded
    pool2d(np.zeros((600, 600), np.float32), 2)
    out = pool2d(x16, 2, op=op)
    assert out.dtype == np.float16 and out.tolist() == ([[5, 7], [13, 15]] if op == "max" else [[0, 2], [8, 10]])
