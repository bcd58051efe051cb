"""Audit 147 #1: a Python int past float64's range as a fill (pad_value=10**400) crashed conv2d, convolve_slices and
filter_bank with OverflowError (the remembered call's key took its sign as a float), and every function with
ValueError past 4,300 digits (the refusal printed the int)."""

import numpy as np
import pytest

from kernelcli import conv2d, conv3d, conv_layer, pad2d
from kernelcli.banks import filter_bank
from kernelcli.errors import UsageError
from kernelcli.volumes import convolve_slices, correlate_separable

X, V = np.ones((2, 3)), np.ones((2, 2, 3))
CALLS = {
    "conv2d": lambda v: conv2d(X, [[1]], padding=1, pad_value=v),
    "convolve_slices": lambda v: convolve_slices(V, [[1]], padding=1, pad_value=v),
    "filter_bank": lambda v: filter_bank(X, [[[1]], [[2]]], pad_value=v),
    "pad2d": lambda v: pad2d(X, 1, pad_value=v),
    "conv3d": lambda v: conv3d(V, np.ones((1, 1, 1)), padding=1, pad_value=v),
    "conv_layer": lambda v: conv_layer(X, np.ones((1, 1, 1, 1)), padding=1, pad_value=v),
    "correlate_separable": lambda v: correlate_separable(V, [[1, 1], None, None], pad_value=v),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("value, digits", [(10**400, 401), (-(10**5000), 5001)], ids=["1e400", "-1e5000"])
def test_a_fill_past_float64_is_refused_by_every_function_in_one_sentence(name, value, digits):
    with pytest.raises(UsageError) as caught:
        CALLS[name](value)
    assert str(caught.value) == f"pad_value is an integer of {digits} digits (beyond the float range): expected a finite number"


def test_a_fill_in_float64_range_still_keys_and_fills_as_before():
    assert conv2d(X, [[1]], padding=1, pad_value=2**60)[0, 0] == 2.0**60
    assert np.signbit(conv2d(X, [[1]], padding=1, pad_value=-0.0)[0, 0])
    assert not np.signbit(conv2d(X, [[1]], padding=1, pad_value=0)[0, 0])
