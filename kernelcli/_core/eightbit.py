"""Float results to 8-bit pixels in one pass: round half to even, clip to 0..255, count.

Also the loops' rounding of a result row into an integer ``dtype=`` (:func:`store_rounded`,
the jitted twin of :func:`kernelcli._core.numpy_impl.round_clip`): the same rule, fused into the
row loops so that no float result is written to memory.

The jitted twin of :func:`kernelcli.io.images.to_integer_range` for 8 bits (``clip`` and
``abs``), used by :func:`kernelcli.io.pictures.picture_8bit` on bands the jitted core
computed: numpy makes about seven passes over a band (round, two comparisons and their
counts, the non-zero count, the clipping cast), and writes into every fourth byte of the
RGBX memory a JPEG is encoded from only slowly.  Here each value is read once, and an RGBX
pixel is written as one 32-bit word.  The same values and counts, value by value.

Rounding half to even without a call: below 2**22 in magnitude, adding and subtracting
1.5 * 2**23 in float32 rounds to a whole number as ``rint`` does (the sum stays in
[2**23, 2**24), where float32's step is 1); at or beyond 2**22 the value only decides a
count and the clipped 0 or 255, which the value itself decides alike.

Example
-------
>>> import numpy as np
>>> out = np.zeros((1, 4), np.uint8)
>>> rows_to_uint8(np.array([[-3.0, 2.5, 300.0, 0.0]], np.float32), out, False)
(1, 1, 3)
>>> out.tolist()
[[0, 2, 255, 0]]
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

from .config import JIT

_MAGIC = np.float32(1.5 * 2**23)
_EXACT = np.float32(2**22)
_ZERO = np.float32(0)
_TOP = np.float32(255)


@njit(**JIT, inline="always")
def _level(v, absolute):
    """(the 8-bit level of ``v``, 1 if it rounds below 0, 1 if above 255)."""
    if absolute:
        v = abs(v)
    r = (v + _MAGIC) - _MAGIC if abs(v) < _EXACT else v
    return min(max(r, _ZERO), _TOP), r < _ZERO, r > _TOP


# compiled on first use, as every loop here: the callers pass C-contiguous float32 rows and
# C-contiguous outputs, so one version each (an explicit signature would be cached under its
# text, which the worker's loader of cached versions would add again beside it: ambiguous)
@njit(**JIT)
def rows_to_uint8(block, out, absolute):
    """``out = clip(rint(block), 0, 255)`` (of ``|block|`` when ``absolute``), rows of values
    (pixels times channels); returns (values below 0, above 255, non-zero values of ``block``)."""
    low = 0
    high = 0
    nonzero = 0
    for i in range(block.shape[0]):
        row, into = block[i], out[i]
        for j in range(row.shape[0]):
            v = row[j]
            nonzero += v != 0
            level, below, above = _level(v, absolute)
            low += below
            high += above
            into[j] = np.uint8(level)
    return low, high, nonzero


@njit(**JIT)
def rows_to_rgbx(block, out, absolute):
    """:func:`rows_to_uint8` of RGB rows (3 values a pixel) into RGBX pixels, one little-endian
    32-bit word each (X is 0), as Pillow holds an RGB image."""
    low = 0
    high = 0
    nonzero = 0
    for i in range(block.shape[0]):
        row, into = block[i], out[i]
        for j in range(into.shape[0]):
            pixel = np.uint32(0)
            for k in range(3):
                v = row[3 * j + k]
                nonzero += v != 0
                level, below, above = _level(v, absolute)
                low += below
                high += above
                pixel |= np.uint32(level) << np.uint32(8 * k)
            into[j] = pixel
    return low, high, nonzero


def row_target(out, i, spare):
    """The row a loop computes output row ``i`` into: ``out[i]`` itself when ``out`` holds the
    float result, else the float row ``spare`` (then :func:`store_rounded` rounds it into ``out[i]``).
    Jitted code only (chosen from the types as it compiles)."""
    return out[i] if out.dtype == spare.dtype else spare


def store_rounded(row, out, i):
    """``out[i] = clip(rint(row), lo, hi)`` in ``out``'s integer dtype (nothing when ``out`` is
    ``row``'s float dtype: :func:`row_target` was ``out[i]``).  Jitted code only."""
    if out.dtype != row.dtype:
        info = np.iinfo(out.dtype)
        out[i] = np.clip(np.rint(row), info.min, info.max)


@overload(row_target, inline="always")
def _row_target(out, i, spare):
    if out.dtype == spare.dtype:
        return lambda out, i, spare: out[i]
    return lambda out, i, spare: spare


@overload(store_rounded, inline="always")
def _store_rounded(row, out, i):
    if out.dtype == row.dtype:
        return lambda row, out, i: None
    info, real = np.iinfo(str(out.dtype)), np.dtype(str(row.dtype)).type
    lo, hi = real(info.min), real(info.max)  # exact in float32 for 8 and 16 bits: compared in the row's dtype

    def store(row, out, i):
        into = out[i]
        for j in range(into.shape[0]):
            # a whole number within the 8- or 16-bit range, so exactly an int32: converted to it first, the
            # loop vectorises (a float stored straight into uint8 took 0.142 ns a value, through int32 0.097)
            into[j] = np.int32(min(max(np.rint(row[j]), lo), hi))

    return store
