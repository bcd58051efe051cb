"""pool3d takes its options as pool2d does: keyword-only after the size (audit 122 #5).

``pool3d(v, 2, 1)`` was stride 1 while ``pool2d(x, 2, 1)`` is a TypeError; conv2d and conv3d are both keyword-only
after the kernel.  The tiled twins (kernelcli.tiled.arrays) follow their in-memory functions.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from kernelcli import pool2d, pool3d


def _keyword_only(fn):
    return [name for name, p in inspect.signature(fn).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _positional(fn):
    return [name for name, p in inspect.signature(fn).parameters.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]


def test_pool3d_s_options_are_keyword_only_as_pool2d_s():
    assert _positional(pool2d) == ["x", "size"] and _positional(pool3d) == ["vol", "size"]
    shared = ["stride", "op", "padding", "ceil_mode", "count_include_pad", "paths", "dtype"]
    assert set(shared) <= set(_keyword_only(pool2d)) and set(shared) <= set(_keyword_only(pool3d))
    with pytest.raises(TypeError):
        pool3d(np.zeros((4, 4, 4)), 2, 1)
    with pytest.raises(TypeError):
        pool2d(np.zeros((4, 4)), 2, 1)


def test_the_tiled_twins_take_them_alike():
    pytest.importorskip("dask.array")
    from kernelcli.tiled import arrays

    assert _positional(arrays.pool2d) == ["x", "size"] and _positional(arrays.pool3d) == ["vol", "size"]


def test_by_keyword_it_is_the_same_pooling():
    v = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)
    got = pool3d(v, 2, stride=1, op="max", padding=1, ceil_mode=True, count_include_pad=True)
    assert got.shape == (5, 6, 7) and got[-1, -1, -1] == v.max()
