"""Audit 219 #1: the layer rounded an integer image's whole-number sums past 2**24, where conv2d sums them exactly.

``convolve x.npy --weights w.npy -p valid`` (uint8 60x60, values 200-255; one 33x33 filter of whole numbers 1-199) wrote
696 of 784 values off the correctly rounded exact sum (up to 30: 15 float32 steps), on every path, where ``-k k.npy``
of the same filter (conv2d: summed in float64, rounded once, commit 290d237) wrote the exact answer.  conv_layer now
takes conv2d's rule filter by filter (:mod:`kernelcli.layer_sums`): such a filter is summed in float64, its bias added
and its divisor divided there, and rounded once; the other filters keep their float32 sums.

The oracle: the integer window sums (int64), ``(sum + bias * d) / d`` in float64 for a filter ``m / d`` (whole numbers
over a whole number; d = 1 for whole numbers), rounded to float32: the correctly rounded exact answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from conftest import run_in_process
from kernelcli import conv_layer
from kernelcli._core.policy import Paths
from kernelcli.banks import filter_bank
from kernelcli.layers import apply_activation

PATHS = (None, "numpy", "jit", "blocked", "filterwise")


def exact_layer(x, m, bias, divisors, groups=1, pad=0, fill=0) -> np.ndarray:
    """The layer of filters ``m[k] / divisors[k]`` (``m`` whole numbers) on the integer (H, W, C) ``x``, correctly
    rounded to float32 from its exact value."""
    x = np.pad(x.astype(np.int64), ((pad, pad), (pad, pad), (0, 0)), constant_values=fill)
    filters, per_group, kh, kw = m.shape
    windows = sliding_window_view(x, (kh, kw), axis=(0, 1))  # (H', W', C, kh, kw)
    out = np.empty((*windows.shape[:2], filters))
    for k in range(filters):
        g = k // (filters // groups)
        sums = np.einsum("ijcuv,cuv->ij", windows[:, :, g * per_group : (g + 1) * per_group], m[k].astype(np.int64))
        out[..., k] = (sums + bias[k] * divisors[k]) / divisors[k]
    return out.astype(np.float32)


def big_case(seed, channels=1, groups=1, filters=1, f=33):
    """A uint8 image of values 150-255 and whole-number filters 0-199 whose window sums pass 2**24."""
    rng = np.random.default_rng(seed)
    x = rng.integers(150, 256, (f + 7, f + 5, channels)).astype(np.uint8)
    m = rng.integers(0, 200, (filters, channels // groups, f, f)).astype(np.float64)
    return x, m


class TestTheLayerSumsAnIntegerImagesLargeWholeSumsExactly:
    def test_convolve_weights_writes_the_bytes_of_convolve_k(self, tmp_path):
        rng = np.random.default_rng(1)
        np.save(tmp_path / "x.npy", rng.integers(200, 256, (60, 60)).astype(np.uint8))
        k = rng.integers(1, 200, (33, 33)).astype(float)
        np.save(tmp_path / "k.npy", k)
        np.save(tmp_path / "w.npy", k[None, None])
        for option, name, out in (("-k", "k.npy", "ok.npy"), ("--weights", "w.npy", "ow.npy")):
            done = run_in_process("convolve", "x.npy", option, name, "-p", "valid", "-o", out, "-q", cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        by_k, by_weights = np.load(tmp_path / "ok.npy"), np.load(tmp_path / "ow.npy").squeeze()
        x = np.load(tmp_path / "x.npy")[..., None]
        assert np.array_equal(by_k, exact_layer(x, k[None, None], [0.0], [1.0])[..., 0])
        assert by_weights.dtype == np.float32 and np.array_equal(by_weights, by_k), int((by_weights != by_k).sum())

    @pytest.mark.parametrize("path", PATHS)
    @pytest.mark.parametrize("channels, groups, filters", [(1, 1, 1), (3, 1, 5), (4, 2, 6)])
    def test_every_path_gives_the_exact_answer(self, path, channels, groups, filters):
        x, m = big_case(channels * 10 + filters, channels, groups, filters)
        ones = np.ones(filters)
        got = conv_layer(x, m, groups=groups, padding=2, pad_value=255, paths=Paths(force=path) if path else None)
        want = exact_layer(x, m, 0 * ones, ones, groups, pad=2, fill=255)
        assert got.dtype == np.float32 and np.array_equal(got, want), int((got != want).sum())

    @pytest.mark.parametrize("path", PATHS)
    @pytest.mark.parametrize("act", ("none", "relu", "leaky_relu"))  # (sigmoid and tanh are 0, 1 or -1 out here)
    def test_the_bias_is_added_before_the_one_rounding(self, path, act):
        # a whole bias past float32's whole numbers (2**24 + 1 is no float32) joins the exact sum; a divisor (7) is
        # divided once; the filter of 0.1s is no whole numbers and keeps its float32 sums, as before
        x, m = big_case(3, channels=3, filters=4)
        m[0] = -m[0]  # below 0 after its bias: relu's 0, leaky_relu's slope
        m[3] = 0.0
        w = m / np.array([1.0, 7.0, 1.0, 1.0])[:, None, None, None]
        w[3] = 0.1
        bias = np.array([-(2.0**24) - 1, 3.0, 2.0**24 + 1, 0.0])
        got = conv_layer(x, w, bias, activation=act, paths=Paths(force=path) if path else None)
        want = apply_activation(exact_layer(x, m[:3], bias, [1.0, 7.0, 1.0]), act)
        assert np.array_equal(got[..., :3], want), int((got[..., :3] != want).sum())
        alone = conv_layer(x, w[3:], bias[3:], activation=act, paths=Paths(force=path) if path else None)
        assert np.array_equal(got[..., 3:], alone)

    def test_a_small_sum_under_a_bias_past_2_to_the_24_is_rounded_once(self):
        x = np.full((3, 3), 1, np.uint8)
        got = conv_layer(x, np.ones((1, 1, 1, 1)), [2.0**24 + 1], paths=Paths(force="numpy"))
        assert got[0, 0, 0] == np.float32(2.0**24 + 2)  # float32's bias (2**24) plus 1 was 2**24 again

    @pytest.mark.parametrize("path", (None, "numpy", "blocked"))
    def test_filter_bank_summed_over_channels_alike(self, path):
        x, m = big_case(9, channels=3, filters=2, f=21)
        bank = filter_bank(x, [m[0], m[1]], names=["a", "b"], padding="valid", paths=Paths(force=path) if path else None)
        assert np.array_equal(bank.maps, exact_layer(x, m, [0.0, 0.0], [1.0, 1.0]))
