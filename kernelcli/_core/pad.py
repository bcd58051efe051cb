"""Jitted padding of (H, W, C) arrays with every pad mode.

``source_index`` maps an index of the padded axis to the input index it copies (or -1
for the constant fill).  For widths larger than the input the mirror and wrap repeat,
exactly as numpy.pad does.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .config import CIRCULAR, CONSTANT, JIT, JIT_PARALLEL, REFLECT, REPLICATE


@njit(**JIT)
def source_index(i, n, mode):
    """Input index that padded position ``i`` (relative to the input's first cell) copies; -1 = fill."""
    if 0 <= i < n:
        return i
    if mode == CONSTANT:
        return -1
    if mode == REPLICATE:
        return 0 if i < 0 else n - 1
    if mode == REFLECT:
        if n == 1:
            return 0
        period = 2 * (n - 1)
        m = i % period
        return m if m < n else period - m
    if mode == CIRCULAR:
        return i % n
    period = 2 * n  # SYMMETRIC
    m = i % period
    return m if m < n else period - 1 - m


@njit(**JIT)
def _axis_map(n, before, after, mode):
    out = np.empty(n + before + after, dtype=np.int64)
    for i in range(out.shape[0]):
        out[i] = source_index(i - before, n, mode)
    return out


@njit(**JIT_PARALLEL)
def pad3d(x, top, bottom, left, right, mode, value, out):
    """Write ``x`` (H, W, C) padded into ``out`` (H+top+bottom, W+left+right, C), casting to out's dtype."""
    h, w, c = x.shape
    rows = _axis_map(h, top, bottom, mode)
    cols = _axis_map(w, left, right, mode)
    fill = out.dtype.type(value)
    for i in prange(out.shape[0]):
        r = rows[i]
        if r < 0:
            out[i, :, :] = fill
            continue
        src = x[r]
        dst = out[i]
        for j in range(left):
            s = cols[j]
            for ch in range(c):
                dst[j, ch] = fill if s < 0 else src[s, ch]
        for j in range(w):
            for ch in range(c):
                dst[left + j, ch] = src[j, ch]
        for j in range(left + w, out.shape[1]):
            s = cols[j]
            for ch in range(c):
                dst[j, ch] = fill if s < 0 else src[s, ch]
    return out
