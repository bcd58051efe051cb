"""Audit 186: an activation hid a layer's float32 overflow (finding 1).

``convolve ovf3.npy --layout hwc --weights w555.npy --activation relu`` (every pixel -1e38, 1e38, 1; weights 5, 5, 5)
wrote 0 everywhere, exit 0, where the true map is 5 (``--activation none`` was refused, sigmoid wrote 0, tanh -1); and
``--weights`` of [5, -5] over 1e38 with sigmoid wrote 1 where ``-k 2x1:5,-5`` (conv2d, which sums an overflowed
output again in float64) wrote 0.5.  The layer's sums are now settled as conv2d's are, before the activation.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli import conv_layer
from kernelcli._core.policy import Paths
from kernelcli.banks import filter_bank
from kernelcli.layers import apply_activation

ACTIVATIONS = ("none", "relu", "leaky_relu", "sigmoid", "tanh")
PATHS = (None, "numpy", "blocked", "filterwise")


def overflowing(order=(0, 1, 2), third=1.0) -> np.ndarray:
    """A 6x6 float32 image whose channels are -1e38, 1e38 and ``third``, in ``order``: 5 times their sum overflows
    on the way, the sum itself does not."""
    x = np.zeros((6, 6, 3), np.float32)
    x[..., 0], x[..., 1], x[..., 2] = -1e38, 1e38, third
    return np.ascontiguousarray(x[..., list(order)])


def truth(x: np.ndarray, weight: float, act: str) -> np.ndarray:
    """The 1x1 layer of ``weight`` on every channel, summed in float64, rounded, then activated."""
    return apply_activation((x.astype(np.float64) * weight).sum(axis=2).astype(np.float32), act)


class TestTheLayerSettlesItsSumsBeforeTheActivation:
    @pytest.mark.parametrize("path", PATHS)
    @pytest.mark.parametrize("act", ACTIVATIONS)
    @pytest.mark.parametrize("x", [overflowing(), overflowing((1, 0, 2), third=0.0)], ids=["five", "zero"])
    def test_every_path_and_activation_gives_the_true_map(self, path, act, x):
        paths = Paths(force=path) if path else None
        for filters in (1, 16):  # (16: the register-blocked loop, where the policy picks it)
            got = conv_layer(x, np.full((filters, 3, 1, 1), 5.0), activation=act, paths=paths)
            want = np.repeat(truth(x, 5.0, act)[..., None], filters, axis=2)
            np.testing.assert_array_equal(got, want, err_msg=f"{path} {act} {filters}")

    @pytest.mark.parametrize("path", PATHS)
    def test_a_reused_buffer_gets_the_same_settled_map(self, path):
        x, w = overflowing(), np.full((16, 3, 1, 1), 5.0)
        buf = np.full((6, 6, 16), np.nan, np.float32)
        assert conv_layer(x, w, activation="relu", paths=Paths(force=path) if path else None, out=buf) is buf
        assert (buf == 5).all()

    def test_an_integer_input_whose_weights_overflow(self):
        x = np.array([[[2], [4]]], np.uint8)  # 2 * 2**127 - 4 * 2**127 = -2**128: -inf, relu 0, sigmoid 0
        w = np.array([[[[2.0**127, -2.0**127]]]])
        for path in PATHS[1:]:
            paths = Paths(force=path)
            assert conv_layer(x, w, paths=paths).tolist() == [[[-np.inf]]], path
            assert conv_layer(x, w, activation="relu", paths=paths).tolist() == [[[0.0]]], path
            assert conv_layer(x, w, activation="leaky_relu", paths=paths).tolist() == [[[-np.inf]]], path

    def test_a_bank_summed_over_channels_and_a_3d_kernel(self):
        x = overflowing()
        for act in ACTIVATIONS:
            want = truth(x, 5.0, act)
            summed = filter_bank(x, [np.full((1, 1), 5.0)], combine="sum", activation=act).maps[..., 0]
            deep = filter_bank(x, [np.full((3, 1, 1), 5.0)], activation=act).maps[..., 0]
            np.testing.assert_array_equal(summed, want, err_msg=act)
            np.testing.assert_array_equal(deep, want, err_msg=act)



def wide_truth(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, act: str, *, padding: int = 0,
               fill: float = 0.0) -> np.ndarray:
    """The layer summed in float64 (the float32 input, fill, weights and bias read exactly), rounded, then activated."""
    pad = ((padding, padding), (padding, padding), (0, 0))
    wide = np.pad(x.astype(np.float64), pad, constant_values=float(np.float32(fill)))
    k, _, kh, kw = weights.shape
    windows = np.lib.stride_tricks.sliding_window_view(wide, (kh, kw), axis=(0, 1))  # (H', W', C, kh, kw)
    sums = np.einsum("ijcab,kcab->ijk", windows, weights.astype(np.float32).astype(np.float64))
    sums += bias.astype(np.float32).astype(np.float64)
    with np.errstate(over="ignore"):
        return apply_activation(sums.astype(np.float32), act)


class TestTheOverflowBoundCountsTheFillAndTheBias:
    """ec5556b's bound (layers._sums_may_overflow) takes the largest of the data and the constant fill times a filter's
    sum of |w|, plus |bias|: dropping the fill or the bias from it passed every test (audit 187 #3)."""

    @pytest.mark.parametrize("path", PATHS)
    def test_a_sum_whose_only_large_values_are_the_fill(self, path):
        # ones, padded with 1e38: the top row's windows read 5 x 1e38 - 5 x 1e38 + 1 = 1 (a running float32 sum is
        # inf there); the left column's 5e38 - 5 + 1 is past the range (inf, relu's inf); the rest 5 - 5 + 1
        x = np.ones((6, 6, 3), np.float32)
        w = np.zeros((16, 3, 3, 3))
        w[:, 0, 0, 0], w[:, 0, 0, 1], w[:, 1, 1, 1] = 5.0, -5.0, 1.0
        got = conv_layer(x, w, padding=1, pad_value=1e38, activation="relu", paths=Paths(force=path) if path else None)
        want = wide_truth(x, w, np.zeros(16), "relu", padding=1, fill=1e38)
        assert (want[0, 1:, 0] == 1).all() and np.isinf(want[1:, 0, 0]).all()
        np.testing.assert_array_equal(got, want)

    @pytest.mark.parametrize("path", PATHS)
    def test_a_sum_whose_only_large_value_is_the_bias(self, path):
        # 2**103 - 2**77 summed in float32 is 2**103; with a bias of float32's largest that is halfway to the next
        # power of two, which rounds to inf, where the true sum rounds to the largest float32
        x = np.zeros((4, 4, 2), np.float32)
        x[..., 0], x[..., 1] = 2.0**103, -(2.0**77)
        w = np.ones((16, 2, 1, 1))
        bias = np.full(16, np.finfo(np.float32).max, np.float64)
        got = conv_layer(x, w, bias, activation="relu", paths=Paths(force=path) if path else None)
        want = wide_truth(x, w, bias, "relu")
        assert (want == np.finfo(np.float32).max).all()
        np.testing.assert_array_equal(got, want)


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "ovf3.npy", overflowing())
    np.save(tmp_path / "w555.npy", np.full((1, 3, 1, 1), 5.0, np.float32))
    np.save(tmp_path / "k555.npy", np.full((3, 1, 1), 5.0, np.float32))
    np.save(tmp_path / "b38.npy", np.full((10, 10), 1e38, np.float32))
    np.save(tmp_path / "w52.npy", np.array([[[[5.0, -5.0]]]], np.float32))
    return tmp_path


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


class TestTheCommandLine:
    @pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
    def test_weights_combine_sum_and_a_3d_kernel_write_the_true_map(self, files, act):
        want = truth(overflowing(), 5.0, act)
        for i, how in enumerate((["--weights", "w555.npy"], ["-k", "1x1:5", "--combine", "sum"], ["-k", "k555.npy"])):
            r = kc(files, "convolve", "ovf3.npy", "--layout", "hwc", *how, "--activation", act, "-o", f"o{i}.npy")
            assert r.returncode == 0, r.stderr
            np.testing.assert_array_equal(np.load(files / f"o{i}.npy"), want, err_msg=" ".join(how))

    @pytest.mark.parametrize("act", ["sigmoid", "tanh"])
    def test_weights_and_kernel_saying_the_same_filter_write_the_same_map(self, files, act):
        # the last column's true sum, 5e38, is beyond float32: an infinity, sigmoid's and tanh's 1 on both
        r1 = kc(files, "convolve", "b38.npy", "--weights", "w52.npy", "--activation", act, "-o", "w.npy")
        r2 = kc(files, "convolve", "b38.npy", "-k", "2x1:5,-5", "--activation", act, "-o", "k.npy")
        assert r1.returncode == r2.returncode == 0, r1.stderr + r2.stderr
        got, want = np.load(files / "w.npy"), np.load(files / "k.npy")
        np.testing.assert_array_equal(got, want)
        assert (got[:, :-1] == (0.5 if act == "sigmoid" else 0.0)).all()

    def test_a_sum_beyond_the_range_is_refused_without_an_activation_on_both(self, files):
        for how in (["--weights", "w52.npy"], ["-k", "2x1:5,-5"]):
            r = kc(files, "convolve", "b38.npy", *how, "-o", "o.npy")
            assert r.returncode == 2, r.stderr
            assert "the result overflows float32" in r.stderr
            assert not (files / "o.npy").exists()
