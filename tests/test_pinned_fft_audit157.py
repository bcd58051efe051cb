"""A pinned FFT on whole-number data whose sums lie between 2**40 and 2**53 (audit 157 #2): ``paths=Paths(force="fft")``
gave -38423574392622.016 where the exact sum, which every other path gives, is -38423574392622.  The FFT rounds to
the exact sums only below 2**40 (``forms.FFT_EXACT_BOUND``); past it, where the direct loops are exact, the pin is
refused, naming why and what runs instead, in memory and tiled, 2-D and 3-D."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli._core.policy import Paths
from kernelcli.errors import UsageError

RNG = np.random.default_rng(0)
BIG = RNG.integers(-2**44, 2**44, (16, 16))  # under ones((5, 5)) every partial sum is below 2**49
BIG3 = RNG.integers(-2**44, 2**44, (8, 8, 8))


def _exact2(x, f):
    return np.array([[sum(int(v) for v in x[i:i + f, j:j + f].ravel()) for j in range(x.shape[1] - f + 1)]
                     for i in range(x.shape[0] - f + 1)], dtype=object)


def _refused(text: str) -> None:
    assert "\n" not in text and "force='fft'" in text and "2**40" in text, text
    assert "force='dense'" in text and "default" in text, text


def test_a_pinned_2d_fft_past_its_exact_range_is_refused():
    with pytest.raises(UsageError) as got:
        K.conv2d(BIG, np.ones((5, 5)), padding="valid", paths=Paths(force="fft"))
    _refused(str(got.value))


def test_the_default_and_dense_paths_give_the_exact_sums_there():
    exact = _exact2(BIG, 5)
    for paths in (None, "cold", Paths(force="dense"), Paths(force="numpy")):
        out = K.conv2d(BIG, np.ones((5, 5)), padding="valid", paths=paths)
        assert [[int(v) for v in row] for row in out.tolist()] == exact.tolist() and (out == np.rint(out)).all(), paths


def test_a_pinned_3d_fft_past_its_exact_range_is_refused():
    with pytest.raises(UsageError) as got:
        K.conv3d(BIG3, np.ones((3, 3, 3)), padding="valid", paths=Paths(force="fft"))
    _refused(str(got.value))
    out = K.conv3d(BIG3, np.ones((3, 3, 3)), padding="valid")
    assert out[0, 0, 0] == int(BIG3[:3, :3, :3].sum())


def test_a_pinned_fft_within_its_exact_range_still_runs():
    x = RNG.integers(-2**30, 2**30, (16, 16))  # sums below 25 * 2**30 < 2**40: the FFT rounds them exactly
    out = K.conv2d(x, np.ones((5, 5)), padding="valid", paths=Paths(force="fft"))
    assert out.tolist() == K.conv2d(x, np.ones((5, 5)), padding="valid", paths=Paths(force="dense")).tolist()


def test_a_tiled_pinned_fft_is_refused_too():
    da = pytest.importorskip("dask.array")
    with pytest.raises(UsageError) as got:
        K.conv2d(da.from_array(BIG, chunks=8), np.ones((5, 5)), padding="valid", paths=Paths(force="fft"))
    _refused(str(got.value))
    with pytest.raises(UsageError) as got:
        K.conv3d(da.from_array(BIG3, chunks=4), np.ones((3, 3, 3)), padding="valid", paths=Paths(force="fft"))
    _refused(str(got.value))
