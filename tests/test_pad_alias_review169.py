"""A refusal of ``pad2d``'s fill names the keyword as the caller typed it (review 169 #5): ``value=300``, the
documented alias of ``pad_value=``, was refused as "pad_value 300 does not fit uint8", in memory and on dask."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import UsageError


def _arrays():
    x = np.zeros((4, 4), np.uint8)
    yield x
    da = pytest.importorskip("dask.array")
    yield da.from_array(x, chunks=2)


@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
@pytest.mark.parametrize(("value", "said"), [(300, "value 300 does not fit uint8: expected a whole number from 0 to 255"),
                                             (float("nan"), "value nan: expected a finite number"),
                                             ("a", "value 'a': expected a number")])
def test_the_alias_is_named_as_typed(lazy, value, said):
    x = list(_arrays())[int(lazy)]
    with pytest.raises(UsageError) as got:
        K.pad2d(x, 1, mode="constant", value=value)
    assert str(got.value) == said
    with pytest.raises(UsageError) as got:
        K.pad2d(x, 1, pad_mode="constant", pad_value=value)
    assert str(got.value) == "pad_" + said


def test_a_zero_fill_read_two_ways_names_the_aliases():
    with pytest.raises(UsageError) as got:
        K.pad2d(np.zeros((4, 4), np.uint8), 1, mode="zeros", value=9)
    assert str(got.value) == ("pad2d(): mode='zeros' with value=9 reads two ways: a fill of 0 (zeros) or of 9; pick one: "
                              "mode='constant', value=9, or mode='zeros' alone")
