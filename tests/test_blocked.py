"""Blocked sweeps of the in-place dense loop (taps.apply_blocked): the flat passes' bytes, several rows at once."""

from __future__ import annotations

import naive
import numpy as np
import pytest

from kernelcli._core import conv, costs, engine, taps
from kernelcli.modes import PAD_CODES


def _plan(shape, k, dtype, mode, blocked, dilation=(1, 1), value=0.25):
    kh, kw = k.shape
    ph, pw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
    widths = (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)
    with pytest.MonkeyPatch.context() as mp:
        if not blocked:
            mp.setattr(taps, "BLOCKED", ())
        else:  # these rows are shorter than the loop sweeps by default
            mp.setattr(costs, "BLOCKED_MIN_VALUES", 0)
        return engine._build_direct(shape, np.dtype(dtype), k, np.dtype(dtype), widths, PAD_CODES[mode], value, (1, 1),
                                    dilation, shape[0], shape[1], "dense")


def _square(plan):
    return plan.args[9]  # dense_direct's ``square``


class TestBlockedSweeps:
    @pytest.mark.parametrize("f", taps.BLOCKED)
    @pytest.mark.parametrize("shape", [(25, 40, 1), (22, 31, 3)])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize("mode", ["constant", "reflect"])
    def test_the_same_bytes_as_the_flat_passes(self, f, shape, dtype, mode):
        # rows in threes, a remainder of rows in a flat pass, edge strips and border rows around them
        rng = np.random.default_rng(f * shape[2])
        x = rng.normal(size=shape).astype(dtype)
        k = rng.normal(size=(f, f))
        blocked, flat = _plan(shape, k, dtype, mode, True), _plan(shape, k, dtype, mode, False)
        assert blocked.fn.__name__ == "dense_direct" and (_square(blocked), _square(flat)) == (f, 0)
        out = blocked.run(x)
        assert out.tobytes() == flat.run(x).tobytes()
        ref = naive.correlate(x.astype(np.float64), k, widths=(f // 2,) * 4, mode=mode, value=0.25)
        np.testing.assert_allclose(out.reshape(ref.shape), ref, rtol=1e-4, atol=1e-4)

    def test_rows_longer_than_a_sweep_go_in_parts(self):
        rng = np.random.default_rng(7)
        shape = (14, conv._BLOCK_COLUMNS // 3 + 40, 3)  # each row more than one part of _BLOCK_COLUMNS values
        x, k = rng.normal(size=shape).astype(np.float32), rng.normal(size=(5, 5))
        blocked, flat = _plan(shape, k, "float32", "constant", True), _plan(shape, k, "float32", "constant", False)
        assert _square(blocked) == 5
        assert blocked.run(x).tobytes() == flat.run(x).tobytes()

    @pytest.mark.parametrize("k,dilation", [
        (np.ones((3, 5)), (1, 1)),  # not square
        (np.where(np.eye(5) > 0, 0.0, 1.0), (1, 1)),  # zero taps
        (np.ones((3, 3)) + np.eye(3), (2, 2)),  # dilated
        (np.arange(81.0).reshape(9, 9) + 1, (1, 1)),  # a size without a blocked sweep
    ])
    def test_only_full_square_kernels_of_a_blocked_size_at_dilation_1(self, k, dilation):
        plan = _plan((40, 40, 1), k, "float32", "constant", True, dilation)
        assert plan.fn.__name__ == "dense_direct" and _square(plan) == 0


@pytest.mark.parametrize("src,dtype", [("float32", "float32"), ("float64", "float64"), ("int16", "float64")])
def test_only_rows_of_enough_values_take_the_blocked_sweeps(src, dtype):
    """Measured (costs.BLOCKED_MIN_VALUES): a 256^2 3x3 and 7x7 were 1.19x and 1.43x slower blocked; the
    row length counts values (columns times channels).  float64 (and the integer images computed in it)
    takes them too: 13-19% quicker at 2048^2 and 4096^2 (costs.BLOCKED_MIN_VALUES)."""
    k = np.ones((3, 3)) + np.eye(3)
    wide = costs.BLOCKED_MIN_VALUES
    rgb = -(-wide // 3)  # the fewest RGB columns that make a long enough row
    for shape, square in [((40, 256, 1), 0), ((40, wide - 1, 1), 0), ((40, wide, 1), 3), ((40, rgb - 1, 3), 0), ((40, rgb, 3), 3)]:
        plan = engine._build_direct(shape, np.dtype(src), k, np.dtype(dtype), (1, 1, 1, 1), PAD_CODES["constant"],
                                    0.0, (1, 1), (1, 1), shape[0], shape[1], "dense")
        assert plan.fn.__name__ == "dense_direct" and _square(plan) == square, shape
