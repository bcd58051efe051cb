"""filter_bank's refusals in a Python caller's words (audit 157 #3, #4a): kernels of two sizes under
``padding="valid"`` advised ``--padding same``, a zero fill with ``pad_value=9`` was refused in the name of
``conv2d()`` or ``conv_layer()`` (functions the caller did not call), "2 names for 1 kernels", and a generator of
kernels was Python's TypeError.  The command line keeps its option's words."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.banks import filter_bank
from kernelcli.errors import ShapeError, UsageError

X = np.arange(25.0).reshape(5, 5)


def test_kernels_of_two_sizes_are_refused_in_the_apis_words():
    with pytest.raises(ShapeError) as got:
        filter_bank(X, [np.ones((3, 3)), np.ones((1, 1))], padding="valid")
    assert str(got.value).endswith("k0 3x3, k1 5x5; use padding='same'"), str(got.value)
    assert "--" not in str(got.value)


def test_the_command_line_keeps_its_option(invoke, tmp_path):
    np.save(tmp_path / "x.npy", X)
    r = invoke("convolve", "x.npy", "-k", "3x3: 1 1 1 1 1 1 1 1 1", "-k", "1x1: 1", "-p", "valid", "-o", "m.npy")
    assert r.exit_code == 2 and r.stderr.rstrip().endswith("inline_1x1 5x5; use --padding same"), (r.exit_code, r.stderr)


@pytest.mark.parametrize("kernel", [np.ones((3, 3)), np.ones((1, 3, 3))], ids=["2-D", "3-D"])
def test_a_zero_fill_with_a_value_is_refused_in_filter_banks_name(kernel):
    with pytest.raises(UsageError) as got:
        filter_bank(X, [kernel], pad_mode="zeros", pad_value=9)
    assert str(got.value).startswith("filter_bank(): pad_mode='zeros' with pad_value=9 reads two ways"), str(got.value)


def test_names_and_kernels_are_counted_in_words():
    with pytest.raises(UsageError) as got:
        filter_bank(X, [[[1]]], names=["a", "b"])
    assert str(got.value) == "filter bank: 2 names for 1 kernel", str(got.value)


def test_a_generator_of_kernels_is_taken_and_a_non_sequence_refused():
    r = filter_bank(X, (k for k in [np.ones((1, 1)), 2 * np.ones((1, 1))]))
    assert r.maps.shape == (5, 5, 2) and r.labels == ["k0", "k1"]
    with pytest.raises(UsageError) as got:
        filter_bank(X, 3)
    assert str(got.value) == "kernels: expected a sequence of kernels (2-D or 3-D arrays), got int", str(got.value)
