"""Audit 107 F6: ``kernelcli.pad2d`` of a dask array took a fill its dtype cannot hold (300 for uint8) and failed
inside ``compute()``, the UsageError raised from a dask task through dask's frames, where the in-memory call refuses
it at the call (README: the dask functions refuse at the call what the in-memory call refuses).
Oracle: the in-memory call's exception and message for the same input and fill.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from kernelcli.errors import UsageError

da = pytest.importorskip("dask.array")


def message(call) -> str:
    with pytest.raises(UsageError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("dtype, value", [(np.uint8, 300), (np.uint8, -1), (np.uint8, 2.5), (np.int16, 40000),
                                          (np.float32, 1e39), (np.float64, float("nan")), (np.uint8, "7"),
                                          (np.int64, 2**63)])
def test_a_fill_the_dtype_cannot_hold_is_refused_at_the_call(dtype, value):
    a = np.arange(16).astype(dtype).reshape(4, 4)
    expected = message(lambda: kernelcli.pad2d(a, 1, value=value))
    assert message(lambda: kernelcli.pad2d(da.from_array(a, chunks=2), 1, value=value)) == expected


def test_the_fill_is_not_checked_where_nothing_is_filled():
    a = np.arange(16, dtype=np.uint8).reshape(4, 4)
    lazy = kernelcli.pad2d(da.from_array(a, chunks=2), 1, mode="reflect", value=300)
    assert np.array_equal(lazy.compute(), kernelcli.pad2d(a, 1, mode="reflect", value=300))


@pytest.mark.parametrize("value", [255, 255.0, np.uint8(7), -0.0, 0])
def test_a_fill_it_holds_pads_as_in_memory(value):
    a = np.arange(25, dtype=np.uint8).reshape(5, 5)
    lazy = kernelcli.pad2d(da.from_array(a, chunks=2), (1, 2, 0, 3), value=value)
    expected = kernelcli.pad2d(a, (1, 2, 0, 3), value=value)
    assert lazy.dtype == expected.dtype and np.array_equal(lazy.compute(), expected)
