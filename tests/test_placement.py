"""Where the in-place dense loop's output starts relative to its input (kernelcli._core.placement)."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import conv2d
from kernelcli._core import engine, placement
from kernelcli._core.config import CONSTANT


def _ahead(shift, loads):
    """How far above each load its store lies, modulo a page."""
    return (shift - np.asarray(loads)) % placement.PAGE


def _inside(ahead):
    lo, hi = placement.WINDOW
    return int(((ahead >= lo % placement.PAGE) | (ahead < hi)).sum())


class TestShiftFor:
    @pytest.mark.parametrize("seed", range(6))
    def test_no_other_shift_keeps_fewer_loads_in_the_window(self, seed):
        rng = np.random.default_rng(seed)
        loads = rng.integers(-40000, 40000, size=rng.integers(1, 60)) * 4
        shift = placement.shift_for(loads)
        assert shift % 64 == 0 and 0 <= shift < placement.PAGE
        best = min(_inside(_ahead(s, loads)) for s in range(0, placement.PAGE, 64))
        assert _inside(_ahead(shift, loads)) == best

    @pytest.mark.parametrize("f", [3, 5, 11])
    def test_rows_a_page_apart_leave_every_load_out_of_the_window(self, f):
        # 2048 float32 columns: every row of a window falls at the same place modulo 4 KiB
        loads = np.array([(u - f // 2) * 8192 + (v - f // 2) * 4 for u in range(f) for v in range(f)])
        assert _inside(_ahead(placement.shift_for(loads), loads)) == 0


class TestEmptyPlaced:
    @pytest.mark.parametrize("offset", [0, 16, 1040, 4080])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_starts_at_the_shift_from_the_source(self, offset, dtype):
        dtype = np.dtype(dtype)
        buf = np.zeros(3000 * dtype.itemsize + 2 * placement.PAGE, np.uint8)
        start = (-buf.ctypes.data) % placement.PAGE + offset
        src = buf[start : start + 3000 * dtype.itemsize].view(dtype)
        for shift in (0, 64, 2496, 4032):
            out = placement.empty_placed(src, (30, 100), dtype, shift)
            assert out.shape == (30, 100) and out.dtype == dtype and out.flags.c_contiguous and out.flags.writeable
            assert (out.ctypes.data - src.ctypes.data) % placement.PAGE == shift


class TestDenseOutput:
    def test_a_large_in_place_output_starts_at_the_plans_shift_from_its_input(self):
        # the allocator's choice had the 2048^2 loops 1.25-1.33x slower (output 80 bytes above the input)
        rng = np.random.default_rng(5)
        k = rng.normal(size=(5, 5))
        f32 = np.dtype("float32")
        plan = engine.direct_plan((512, 1024, 1), f32, k, f32, (2, 2, 2, 2), CONSTANT, 0.0, (1, 1), (1, 1), 512, 1024, "dense")
        assert plan.fn.__name__ == "dense_direct" and plan.shift is not None
        for offset in (16, 80, 2064):
            buf = np.empty(512 * 1024 + 2 * placement.PAGE, np.float32)
            start = ((-buf.ctypes.data) % placement.PAGE + offset) // 4
            x = buf[start : start + 512 * 1024].reshape(512, 1024)
            x[:] = rng.random((512, 1024), dtype=np.float32)
            out = conv2d(x, k, paths="warm")
            assert (out.ctypes.data - x.ctypes.data) % placement.PAGE == plan.shift
            assert out.flags.c_contiguous
            assert out.tobytes() == conv2d(x.copy(), k, paths="warm").tobytes()

    def test_a_small_output_is_left_to_the_allocator(self):
        f32 = np.dtype("float32")
        k = np.random.default_rng(1).normal(size=(5, 5))
        plan = engine.direct_plan((256, 256, 1), f32, k, f32, (2, 2, 2, 2), CONSTANT, 0.0, (1, 1), (1, 1), 256, 256, "dense")
        assert plan.fn.__name__ == "dense_direct" and plan.shift is None
