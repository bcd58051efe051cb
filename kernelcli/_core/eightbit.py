"""Float results to 8-bit pixels in one pass: round half to even, clip to 0..255, count.

Also the loops' rounding of a result row into an integer ``dtype=`` (:func:`store_rounded`,
the jitted twin of :func:`kernelcli._core.numpy_impl.round_clip`): the same rule, fused into the
row loops so that no float result is written to memory.

The jitted twin of :func:`kernelcli.io.integer_range.to_integer_range` for 8 bits (``clip`` and
``abs``), used by :func:`kernelcli.io.pictures.picture_8bit` on bands the jitted core
computed: numpy makes about seven passes over a band (round, two comparisons and their
counts, the non-zero count, the clipping cast), and writes into every fourth byte of the
RGBX memory a JPEG is encoded from only slowly.  Here each value is read once, and an RGBX
pixel is written as one 32-bit word.  The same values and counts, value by value.

Each value is rounded half to even (``rint``), counted below 0 or above 255 and clipped, in one pass
that vectorises: the counts add 0s and 1s into float32 counters (exact in any order up to 2**24, so
``fastmath`` may reorder their sums; a row is taken 2**24 values at a time), and the clipped level
goes to its byte through an int32.  The integer counters of before were widened to int64 by Numba's
typing, which left the loop 4 values wide: 0.47 -> 0.21 ns a value (uint8 rows), 0.86 -> 0.31 (RGBX),
one thread, 2026-12-04 (rows of 2046 values, in the L2 cache).

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
from .jit import njit
from numba.extending import overload

from .config import JIT

_ZERO = np.float32(0)
_ONE = np.float32(1)
_TOP = np.float32(255)
#: values of a row counted into one float32 counter (exact up to 2**24)
_CHUNK = 1 << 24
#: the jitted options of the two loops below: the counters' sums may be reordered (whole numbers, exact)
_COUNTING = {**JIT, "fastmath": {"reassoc"}}


@njit(**_COUNTING, inline="always")
def _level(v, absolute):
    """(the 8-bit level of ``v`` -- of ``|v|`` when ``absolute`` -- as an int32, and 1.0 or 0.0 for: it rounds
    below 0, above 255, ``v`` is non-zero); the loops add the three up (carried in a tuple, the sums did not
    vectorise)."""
    if absolute:
        v = abs(v)
    r = np.rint(v)
    below = _ONE if r < _ZERO else _ZERO
    above = _ONE if r > _TOP else _ZERO
    nonzero = _ONE if v != 0 else _ZERO
    return np.int32(min(max(r, _ZERO), _TOP)), below, above, nonzero


# compiled on first use, as every loop here: the callers pass C-contiguous float32 rows and
# C-contiguous outputs, so one version each (an explicit signature would be cached under its
# text, which the worker's loader of cached versions would add again beside it: ambiguous)
@njit(**_COUNTING)
def rows_to_uint8(block, out, absolute):
    """``out = clip(rint(block), 0, 255)`` (of ``|block|`` when ``absolute``), rows of values
    (pixels times channels); returns (values below 0, above 255, non-zero values of ``block``)."""
    low = 0
    high = 0
    nonzero = 0
    for i in range(block.shape[0]):
        row, into = block[i], out[i]
        for j0 in range(0, row.shape[0], _CHUNK):
            # slices indexed from 0: an index from j0, of unknown sign to Numba, got a wrap-around test each
            part, dst = row[j0 : j0 + _CHUNK], into[j0 : j0 + _CHUNK]
            lo, hi, nz = _ZERO, _ZERO, _ZERO
            for j in range(part.shape[0]):
                level, a, b, c = _level(part[j], absolute)
                dst[j] = level
                lo += a
                hi += b
                nz += c
            low += int(lo)
            high += int(hi)
            nonzero += int(nz)
    return low, high, nonzero


@njit(**_COUNTING)
def rows_to_rgbx(block, out, absolute):
    """:func:`rows_to_uint8` of RGB rows (3 values a pixel) into RGBX pixels, one little-endian
    32-bit word each (X is 0 for finite values), as Pillow holds an RGB image."""
    low = 0
    high = 0
    nonzero = 0
    for i in range(block.shape[0]):
        row, into = block[i], out[i]
        for j0 in range(0, into.shape[0], _CHUNK // 3):
            part, dst = row[3 * j0 : 3 * (j0 + _CHUNK // 3)], into[j0 : j0 + _CHUNK // 3]
            lo, hi, nz = _ZERO, _ZERO, _ZERO
            for j in range(dst.shape[0]):
                pixel = np.uint32(0)
                for k in range(3):
                    level, a, b, c = _level(part[3 * j + k], absolute)
                    pixel |= np.uint32(level) << np.uint32(8 * k)
                    lo += a
                    hi += b
                    nz += c
                dst[j] = pixel
            low += int(lo)
            high += int(hi)
            nonzero += int(nz)
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
            # loop vectorises (a float stored straight into uint8 took 0.142 ns a value, through int32 0.112)
            into[j] = np.int32(min(max(np.rint(row[j]), lo), hi))

    return store
