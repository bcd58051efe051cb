"""The separable loop for uint8 images (kernelcli._core.sep8): the float ring's bytes (issue 17).

``separable_cast`` reads the input rows in place for any rank-1 kernel at zero padding.  Each case
runs it and the float loop it replaces (``reads_in_place`` patched to refuse, so the plan falls
back to the ring of float rows) and compares the bytes, then plain numpy and the dense loop (where
the kernel is exact: the same bytes again).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelcli import conv2d
from kernelcli._core import conv, engine, sep8
from kernelcli._core.policy import Paths

JIT = Paths(force="jit")
BINOMIAL7 = np.array([1, 6, 15, 20, 15, 6, 1]) / 64
CV2_7 = np.array([2, 7, 14, 18, 14, 7, 2]) / 64  # cv2.getGaussianKernel(7, 0): OpenCV's fixed 7-tap table


@pytest.fixture
def float_path(monkeypatch):
    """Run ``fn`` with the in-place uint8 loop refused (the ring of float rows' result)."""

    def run(fn):
        engine._PLANS.clear()
        with monkeypatch.context() as m:
            m.setattr(sep8, "reads_in_place", lambda *args: False)
            out = fn()
        engine._PLANS.clear()
        return out

    return run


def _plan_fn(x, k, **kw):
    engine._PLANS.clear()
    dtype = np.dtype("float32")
    plan = engine.direct_plan((*x.shape[:2], 1), x.dtype, k, dtype, kw.get("widths", (3, 3, 3, 3)), 0, kw.get("fill", 0.0),
                              (1, 1), (1, 1), x.shape[0], x.shape[1], "separable")
    return plan.fn


def test_the_plan_reads_uint8_in_place_only_where_it_gives_the_ring_bytes():
    x = np.zeros((20, 20), np.uint8)
    g = np.outer(CV2_7, CV2_7)
    sampled = np.outer(*[np.exp(-0.5 * (np.arange(7) - 3) ** 2 / 1.4**2)] * 2)
    assert _plan_fn(x, g) is sep8.separable_cast
    assert _plan_fn(x, sampled) is sep8.separable_cast  # any rank-1 kernel, zero padding
    assert _plan_fn(x, np.outer([1.0, -2, 0, 2, 1, 3, 1], CV2_7)) is sep8.separable_cast  # any signs
    assert _plan_fn(x.astype(np.uint16), g) is conv.separable_rows  # uint16 keeps the ring
    assert _plan_fn(x, sampled, fill=3.0) is conv.separable_rows  # a non-zero fill: the ring
    assert _plan_fn(x, sampled, fill=-0.0) is conv.separable_rows
    assert _plan_fn(x.astype(np.int16), sampled) is conv.separable_direct  # cast to float first, then in place


@pytest.mark.parametrize("shape", [(41, 37), (23, 30, 3), (7, 5), (64, 2048)])
@pytest.mark.parametrize(
    "kw",
    [{}, {"pad_mode": "reflect"}, {"pad_mode": "replicate"}, {"pad_mode": "circular"}, {"pad_value": 9},
     {"pad_value": 255}, {"stride": (2, 1)}, {"dilation": (2, 3)}, {"padding": "valid"}, {"padding": (5, 0, 1, 4)}],
)
def test_same_bytes_as_the_float_path_numpy_and_dense(float_path, shape, kw):
    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape) * 256).astype(np.uint8)
    for k in (np.outer(CV2_7, CV2_7), np.outer(BINOMIAL7, BINOMIAL7), np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256):
        if kw.get("padding") == "valid" and min(shape[:2]) < 7 * max(kw.get("dilation", (1, 1))):
            continue
        new = conv2d(x, k, paths=JIT, **kw)
        old = float_path(lambda: conv2d(x, k, paths=JIT, **kw))
        assert new.dtype == old.dtype == np.float32
        assert new.tobytes() == old.tobytes()
        assert conv2d(x, k, paths=Paths(force="numpy"), **kw).tobytes() == new.tobytes()
        assert conv2d(x, k, paths=Paths(force="dense"), **kw).tobytes() == new.tobytes()


def test_a_box_keeps_the_float_rounding(float_path):
    """An inexact factor (1/25 on the row): the in-place loop rounds as the ring does."""
    x = (np.random.default_rng(3).random((50, 61, 2)) * 256).astype(np.uint8)
    k = np.ones((5, 5)) / 25
    new = conv2d(x, k, paths=JIT)
    assert new.tobytes() == float_path(lambda: conv2d(x, k, paths=JIT)).tobytes()
    ref = conv2d(x.astype(np.float64), k, paths=Paths(force="numpy"))
    np.testing.assert_allclose(new, ref, rtol=1e-6)


@pytest.mark.parametrize(
    "kw", [{}, {"pad_mode": "reflect"}, {"pad_mode": "circular"}, {"stride": (3, 1)}, {"dilation": (3, 2)},
           {"padding": (6, 1, 0, 5)}, {"padding": "valid"}],
)
def test_float_kernels_read_in_place_give_the_ring_bytes(float_path, kw):
    dtype = "uint8"
    rng = np.random.default_rng(5)
    x = (rng.random((45, 52, 2)) * np.iinfo(dtype).max).astype(dtype)
    g = np.exp(-0.5 * (np.arange(7) - 3) ** 2 / 1.4**2)
    for k in (np.outer(g, g) / g.sum() ** 2, np.outer(g, rng.normal(size=5)), np.outer(rng.normal(size=4), g)):
        new = conv2d(x, k, paths=JIT, **kw)
        assert new.tobytes() == float_path(lambda: conv2d(x, k, paths=JIT, **kw)).tobytes()
        np.testing.assert_allclose(new, conv2d(x.astype(np.float64), k, paths=Paths(force="numpy"), **kw),
                                   rtol=1e-5, atol=1e-6 * np.abs(k).sum() * np.iinfo(dtype).max)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    h=st.integers(1, 30), w=st.integers(1, 30), c=st.integers(1, 3),
    col=st.lists(st.integers(-40, 40), min_size=2, max_size=7), row=st.lists(st.integers(-9, 9), min_size=2, max_size=7),
    scale=st.sampled_from([1.0, 1 / 64, 1 / 7, 0.1]), mode=st.sampled_from(["constant", "reflect", "replicate"]),
    fill=st.integers(0, 255), seed=st.integers(0, 2**32 - 1),
)
def test_random_kernels_same_bytes_as_the_float_path(float_path, h, w, c, col, row, scale, mode, fill, seed):
    if not any(col) or not any(row) or np.count_nonzero(np.outer(col, row)) < 10:
        return  # the separable path needs a rank-1 kernel of 10 taps or more
    x = (np.random.default_rng(seed).random((h, w, c)) * 256).astype(np.uint8)
    k = np.outer(col, row) * scale
    kw = {"pad_mode": mode, "pad_value": fill if mode == "constant" else 0.0}
    new = conv2d(x, k, paths=JIT, **kw)
    old = float_path(lambda: conv2d(x, k, paths=JIT, **kw))
    assert new.tobytes() == old.tobytes()
    np.testing.assert_allclose(new, conv2d(x.astype(np.float64), k, paths=Paths(force="numpy"), **kw),
                               rtol=1e-5, atol=1e-4 * np.abs(k).sum() * 255)
