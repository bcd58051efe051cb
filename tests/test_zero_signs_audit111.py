"""The sign of an exact 0, one rule per family of functions (audit 111 #2; README, Python API).

conv2d and convolve_slices give the IEEE sum of exactly the window's products (-0.0 where each is -0.0:
kernelcli/_core/zero_signs.py); conv3d and correlate_separable start each sum at +0.0; conv_layer adds its
bias (+0.0 by default).  correlate_separable of an identity (every axis None or [1]) copied the input and kept
its -0.0, where conv3d under the same identity kernel gives +0.0 on every path.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import conv2d, conv3d, conv_layer
from kernelcli._core.policy import Paths
from kernelcli.volumes import convolve_slices, correlate_separable

PATHS = [None, "numpy", "jit", "dense", "separable", "fft"]


def _volume(dtype=np.float64):
    x = np.full((2, 3, 4), -0.0, dtype)
    x[0, 0, 0] = 5
    return x


@pytest.mark.parametrize("force", PATHS)
@pytest.mark.parametrize("kernels", [[[1.0], [1.0], [1.0]], [None, None, None], [None, [1], None]])
def test_correlate_separable_of_an_identity_is_conv3d_of_it(force, kernels):
    paths = Paths(force=force) if force else None
    x = _volume()
    got = correlate_separable(x, kernels, paths=paths)
    want = conv3d(x, np.ones((1, 1, 1)), paths=paths)
    assert got.tobytes() == want.tobytes() and not np.signbit(got).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correlate_separable_of_an_identity_in_place_and_into_out(dtype):
    x = _volume(dtype)
    into = np.empty_like(x)
    assert correlate_separable(x, [None, None, None], out=into) is into and not np.signbit(into).any()
    assert correlate_separable(x, [None, None, None], out=x) is x and not np.signbit(x).any()
    assert x[0, 0, 0] == 5


def test_each_family_keeps_its_documented_rule():
    x = _volume()
    # the 2-D family: -0.0 where every product is -0.0
    assert np.signbit(conv2d(x[1], [[1.0]])).all()
    assert np.signbit(convolve_slices(x[1:], [[1.0]])).all()
    # the 3-D family and the layer: +0.0
    assert not np.signbit(conv3d(x, [[[1.0]]])).any()
    assert not np.signbit(correlate_separable(x, [[2.0], None, None])).any()
    assert not np.signbit(conv_layer(x[1][:, :, None], np.ones((1, 1, 1, 1)))).any()
