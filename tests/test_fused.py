"""Fused multiply-adds in the convolution layer: the plain-numpy emulation, the jitted ``muladd``,
and every path of ``conv_layer`` against an exact rational reference.

The cases that tell a fused multiply-add from its imitations are built from 2**32 + 1 = 641 *
6700417 and 2**32 - 1 = 65535 * 65537: a product of two float32 values just off a power of two, so
that ``acc + w*x`` lies within 2**-56 of a float32 midpoint.  Rounded once it goes to the right
side; computed in float64 and then rounded to float32 it lands on the midpoint and ties to even
(double rounding); multiplied then added in float32 the product loses its tail first.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli._core import policy
from kernelcli._core.fused import muladd_into
from kernelcli.layers import conv_layer

F32 = np.float32


def rn32(exact: Fraction) -> np.float32:
    """``exact`` rounded once to the nearest float32, ties to even (finite, in range)."""
    guess = F32(float(exact))  # within one unit of the answer (rounded twice)
    candidates = [np.nextafter(guess, F32(-np.inf)), guess, np.nextafter(guess, F32(np.inf))]
    best = min(abs(Fraction(float(c)) - exact) for c in candidates)
    nearest = [c for c in candidates if abs(Fraction(float(c)) - exact) == best]
    return min(nearest, key=lambda c: int(np.array(c).view(np.uint32)) & 1)  # a tie: the even one


def fma_exact(acc, w, x) -> np.float32:
    """The fused multiply-add by its definition: the exact ``acc + w*x``, rounded once to float32."""
    return rn32(Fraction(float(acc)) + Fraction(float(w)) * Fraction(float(x)))


def emulated(acc, w, x) -> np.float32:
    out = np.array([acc], dtype=F32)
    muladd_into(out, np.array([x], dtype=F32), F32(w))
    return out[0]


_JITTED = []


def jitted(acc, w, x) -> np.float32:
    """``muladd`` of the jitted loops, in a function compiled once per session."""
    if not _JITTED:
        from numba import njit

        from kernelcli._core.simd import muladd

        _JITTED.append(njit(lambda a, b, c: muladd(a, b, c)))
    return _JITTED[0](F32(acc), F32(w), F32(x))


#: (acc, w, x): the exact ``acc + w*x`` within 2**-56 of a float32 midpoint, above or below it
NEAR_MIDPOINTS = [
    (F32(1.0), F32(6700417 * 2.0**-46), F32(641 * 2.0**-10)),  # 1 + 2**-24 + 2**-56: up to 1 + 2**-23
    (F32(-1.0), F32(-6700417 * 2.0**-46), F32(641 * 2.0**-10)),  # the same, negative
    (F32(1 + 2.0**-23), F32(65537 * 2.0**-40), F32(65535 * 2.0**-16)),  # 1 + 2**-23 + 2**-24 - 2**-56: down
    (F32(2.0**-126), F32(6700417 * 2.0**-100), F32(641 * 2.0**-82)),  # far from 1: the smallest normal
    (F32(3.0), F32(6700417 * 2.0**-45), F32(641 * 2.0**-10)),  # a midpoint of the binade [2, 4)
    (F32(2.0), F32(-6700417 * 2.0**-46), F32(641 * 2.0**-10)),  # 2 - 2**-24, just below a power of two
    (F32((2**22 + 2) * 2.0**-149), F32(-6700417 * 2.0**-100), F32(641 * 2.0**-82)),  # a subnormal midpoint
    (F32(2.0**-126), F32(-6700417 * 2.0**-46), F32(641 * 2.0**-136)),  # 2**-126 - 2**-150 - 2**-182
]


class TestTheEmulation:
    @pytest.mark.parametrize("case", NEAR_MIDPOINTS)
    def test_near_a_midpoint_it_rounds_once(self, case):
        acc, w, x = case
        want = fma_exact(acc, w, x)
        twice = F32(np.float64(acc) + np.float64(w) * np.float64(x))  # float64, then float32
        separate = F32(acc + F32(w * x))  # a multiply, then an add
        assert twice != want or separate != want  # each case tells the fused result from an imitation
        assert emulated(acc, w, x) == want
        assert jitted(acc, w, x) == want

    def test_the_cases_catch_double_rounding(self):
        twice = [F32(np.float64(a) + np.float64(w) * np.float64(x)) for a, w, x in NEAR_MIDPOINTS]
        assert sum(t != fma_exact(*c) for t, c in zip(twice, NEAR_MIDPOINTS)) >= 6

    @settings(max_examples=300, deadline=None)
    @given(st.floats(-(2.0**60), 2.0**60, width=32), st.floats(-(2.0**30), 2.0**30, width=32),
           st.floats(-(2.0**30), 2.0**30, width=32))
    def test_equals_the_definition_and_the_jitted_loop(self, acc, w, x):
        want = fma_exact(acc, w, x)
        got = emulated(acc, w, x)
        assert got == want and np.signbit(got) == np.signbit(jitted(acc, w, x))
        assert jitted(acc, w, x) == want

    @settings(max_examples=100, deadline=None)
    @given(st.integers(-(2**24), 2**24), st.integers(-(2**24), 2**24), st.integers(1, 2**12))
    def test_subnormal_and_tiny_sums(self, m, k, j):
        acc = F32(m * 2.0**-149)  # a subnormal (or smallest normal) sum, a product of its order or below
        w, x = F32(k * 2.0**-40), F32(j * 2.0**-100)
        assert emulated(acc, w, x) == fma_exact(acc, w, x) == jitted(acc, w, x)

    def test_a_zero_dimensional_sum(self):
        acc, w, x = NEAR_MIDPOINTS[0]
        out = np.array(acc)
        muladd_into(out, x, w)
        assert out.ndim == 0 and out == fma_exact(acc, w, x)

    def test_arrays_views_and_broadcasting(self):
        rng = np.random.default_rng(0)
        acc = rng.normal(size=(5, 7, 3)).astype(F32)
        x = rng.normal(size=(5, 7, 1)).astype(F32)
        w = rng.normal(size=3).astype(F32)
        view = acc[:, :, 1:]
        before = acc.copy()
        muladd_into(view, x, w[1:])
        for idx in np.ndindex(5, 7, 2):
            i, j, k = idx
            assert acc[i, j, k + 1] == fma_exact(before[i, j, k + 1], w[k + 1], x[i, j, 0])
        assert (acc[:, :, 0] == before[:, :, 0]).all()


class TestTheLayer:
    """A 1x1 layer over two channels: the first tap gives 1, the second adds a product just over
    half a unit; only a fused multiply-add rounds the second sum up."""

    X = np.array([[[1.0, 641 * 2.0**-10]]], dtype=F32)
    W = np.array([[[[1.0]], [[6700417 * 2.0**-46]]]], dtype=F32)

    @pytest.mark.parametrize("force", ["numpy", "blocked", "filterwise"])
    def test_float32_rounds_each_tap_once_on_every_path(self, force):
        got = conv_layer(self.X, self.W, paths=policy.Paths(force=force))
        assert got.dtype == F32
        assert got[0, 0, 0] == fma_exact(F32(1.0), self.W[0, 1, 0, 0], self.X[0, 0, 1]) == F32(1 + 2.0**-23)

    @pytest.mark.parametrize("force", ["numpy", "blocked", "filterwise"])
    def test_float64_multiplies_then_adds_on_every_path(self, force):
        got = conv_layer(self.X.astype(np.float64), self.W.astype(np.float64), paths=policy.Paths(force=force))
        assert got.dtype == np.float64
        assert got[0, 0, 0] == 1.0 + np.float64(self.W[0, 1, 0, 0]) * np.float64(self.X[0, 0, 1])

    @settings(max_examples=25, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.sampled_from([1, 3, 4]), st.sampled_from([1, 5, 16, 17]))
    def test_every_path_equals_the_fused_chain(self, seed, channels, filters):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(9, 11, channels)).astype(F32)
        w = rng.normal(size=(filters, channels, 3, 2)).astype(F32)
        b = rng.normal(size=filters).astype(F32)
        want = np.zeros((7, 10, filters), dtype=F32)
        for c in range(channels):  # the layer's order: channel, row, column; bias last
            for u in range(3):
                for v in range(2):
                    muladd_into(want, x[u : u + 7, v : v + 10, c][:, :, None], w[:, c, u, v])
        want += b
        for i, j, k in [(0, 0, 0), (6, 9, filters - 1), (3, 4, filters // 2)]:  # the chain against the definition
            exact = F32(0)
            for c in range(channels):
                for u in range(3):
                    for v in range(2):
                        exact = fma_exact(exact, w[k, c, u, v], x[i + u, j + v, c])
            assert want[i, j, k] == F32(exact + b[k])
        for force in ("numpy", "blocked", "filterwise"):
            got = conv_layer(x, w, b, paths=policy.Paths(force=force))
            assert got.tobytes() == want.tobytes(), force


class TestSignedZeros:
    def test_a_minus_zero_bias_gives_every_path_the_same_bytes(self):
        """A fused multiply-add rounds a tiny negative product to -0.0; a zero weight's tap, which some
        paths add and the per-filter loop skips, turns it to +0.0: the bias, -0.0 made +0.0, evens them."""
        x = np.array([[[2.0**-75, 1.0]]], dtype=F32)
        w = np.array([[[[-(2.0**-76)]], [[0.0]]]], dtype=F32)
        got = [conv_layer(x, w, np.array([-0.0]), paths=policy.Paths(force=f)) for f in ("numpy", "blocked", "filterwise")]
        assert {g.tobytes() for g in got} == {np.zeros((1, 1, 1), dtype=F32).tobytes()}


class TestNumpyLoopOrders:
    @pytest.mark.parametrize("shape", [(4, 5), (130, 131)])  # small maps: a group's filters at once; large: one at a time
    def test_both_orders_give_the_jitted_bytes(self, shape):
        from kernelcli.layers import filter_major

        rng = np.random.default_rng(5)
        x = rng.normal(size=(*shape, 4)).astype(F32)
        w = rng.normal(size=(16, 2, 3, 3)).astype(F32)
        assert filter_major(8, shape[0] - 2, shape[1] - 2) == (shape[0] > 100)
        want = conv_layer(x, w, stride=1, groups=2, paths=policy.Paths(force="blocked"))
        assert conv_layer(x, w, groups=2, paths=policy.Paths(force="numpy")).tobytes() == want.tobytes()


class TestExactSums:
    """Where no tap can round, the numpy layer multiplies then adds (the same bytes, sooner)."""

    @settings(max_examples=40, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.sampled_from(["uint8", "int8", "bool"]), st.integers(-8, 4))
    def test_when_it_says_exact_both_ways_give_the_same_bytes(self, seed, dtype, shift):
        rng = np.random.default_rng(seed)
        x = (rng.integers(0, 2, (12, 13, 2)).astype(bool) if dtype == "bool"
             else rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, (12, 13, 2)).astype(dtype))
        w = (rng.integers(-40, 41, (3, 2, 3, 3)) * 2.0**shift).astype(F32)
        from kernelcli._core.fused import exact_sums

        assert exact_sums(x.dtype, w, 0.0)
        fused = np.zeros((10, 11, 3), dtype=F32)
        plain = np.zeros((10, 11, 3), dtype=F32)
        for c in range(2):
            for u in range(3):
                for v in range(3):
                    tap = x[u : u + 10, v : v + 11, c].astype(F32)[:, :, None]
                    muladd_into(fused, tap, w[:, c, u, v])
                    plain += tap * w[:, c, u, v]
        assert fused.tobytes() == plain.tobytes()
        assert conv_layer(x, w, paths=policy.Paths(force="numpy")).tobytes() == plain.tobytes()

    def test_what_it_refuses(self):
        from kernelcli._core.fused import exact_sums

        ones = np.ones((2, 3, 3, 3), dtype=F32)
        assert exact_sums(np.dtype("uint8"), ones, None) and exact_sums(np.dtype("uint8"), ones, 255.0)
        assert not exact_sums(np.dtype("uint8"), ones, 0.5)  # a fraction in the padding
        assert not exact_sums(np.dtype("float32"), ones, 0.0)  # a float image may hold anything
        assert not exact_sums(np.dtype("uint8"), ones / 9, 0.0)  # 1/9 in float32 is 14913081 * 2**-27: sums of 33 bits
        odd = 7311  # odd, so its unit is 1: the smallest such weight whose 3x3 sums of 8-bit values reach 2**24
        assert odd * 9 * 255 >= 2**24 > (odd - 2) * 9 * 255
        assert not exact_sums(np.dtype("uint8"), np.full((1, 1, 3, 3), odd, dtype=F32), 0.0)  # sums reach 2**24
        assert exact_sums(np.dtype("uint8"), np.full((1, 1, 3, 3), odd - 2, dtype=F32), 0.0)
        assert exact_sums(np.dtype("uint8"), np.full((1, 1, 3, 3), 4 * (odd - 2), dtype=F32), 0.0)  # counted in 4s
        assert not exact_sums(np.dtype("int8"), np.full((1, 1, 3, 3), 2 * odd + 1, dtype=F32) / 2, 0.0)  # 14623 halves
        assert not exact_sums(np.dtype("uint8"), ones, 2.0**24)  # the fill alone is too large
        assert exact_sums(np.dtype("float32"), np.zeros((2, 3, 3, 3), dtype=F32), 0.0)  # no weight: every sum 0

    def test_the_cold_policy_weighs_the_emulation(self):
        from kernelcli import layer_jit
        from kernelcli._core import costs

        start = costs.jit_start_seconds(policy.COLD)
        work = int(start / layer_jit.NUMPY_SECONDS_PER_FUSED_TAP * 1.5)  # numpy wins only without the emulation
        assert work * layer_jit.NUMPY_SECONDS_PER_TAP < start
        assert layer_jit.use_numpy(policy.COLD, work, rounds_each_tap=lambda: False)
        assert not layer_jit.use_numpy(policy.COLD, work, rounds_each_tap=lambda: True)
        asked = []
        assert not layer_jit.use_numpy(policy.WARM, work, rounds_each_tap=lambda: asked.append(1) or True)
        assert asked == []  # a warm call beyond tiny work never pays for the question

    def test_tiny_work_in_many_numpy_passes_goes_to_the_jitted_core(self):
        from kernelcli import layer_jit
        from kernelcli.layers import numpy_passes

        passes = numpy_passes(128, 128, 1, 9, 3, 3)  # a 3x3 output of 128 -> 128 filters 3x3: 1,152 passes
        assert passes == 1152 and numpy_passes(4, 3, 1, 9, 100, 100) == 4 * 3 * 9  # few filters: one at a time
        work = 20_000  # tiny work...
        assert not layer_jit.use_numpy(policy.WARM, work, passes)  # ... in many numpy passes: jitted
        assert layer_jit.use_numpy(policy.WARM, work, 8)  # ... in few: numpy
        assert not layer_jit.use_numpy(policy.WARM, work, 8, rounds_each_tap=lambda: True)  # emulated: dearer
        assert layer_jit.use_numpy(policy.Paths(force="numpy"), 10**9, passes)  # forced: as asked
