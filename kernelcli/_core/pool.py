"""Jitted pooling (max, min, avg) over flat (H, W*C) rows, with PyTorch's padding rules.

Two loops: :func:`pool_s2` for the common 2x2 and 3x3 windows at stride 2 without
padding (a vertical pass over whole contiguous rows into a row buffer, then a
horizontal pass; the op and size are tested once per row, not per cell), and the
general :func:`pool_rows` for any size, stride, padding and ``ceil_mode``.  The 2x2
average has two of its own: :func:`avg2_rows` (the input read in its own dtype) and
:func:`avg2_rows_int` (a uint8 image averaged into uint8, rounded).

In the general loop padded cells never win a max/min; ``avg`` divides by the window's
cells inside the padded input (``count_include_pad``) or by the real cells only.
Both loops are serial and release the GIL; ``threads.run_rows`` splits the rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import AVG, JIT, MAX, MIN


@njit(**JIT)
def pool_s2(x, channels, size, op, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C): ``size`` x ``size`` windows (2 or 3) every 2 cells, all inside ``x``."""
    c = channels
    ow = out.shape[1] // c
    n = (2 * (ow - 1) + size) * c
    tmp = np.empty(n, dtype=out.dtype)
    scale = out.dtype.type(size * size)
    for i in range(i0, i1):
        r0 = x[2 * i, :n]
        r1 = x[2 * i + 1, :n]
        r2 = x[2 * i + 2, :n] if size == 3 else r0
        if op == AVG:
            if size == 3:
                for j in range(n):
                    tmp[j] = r0[j] + r1[j] + r2[j]
            else:
                for j in range(n):
                    tmp[j] = r0[j] + r1[j]
        elif op == MAX:
            for j in range(n):
                a, b, d = r0[j], r1[j], r2[j]
                m = a if a > b else b
                tmp[j] = m if m > d else d
        else:
            for j in range(n):
                a, b, d = r0[j], r1[j], r2[j]
                m = a if a < b else b
                tmp[j] = m if m < d else d
        o = out[i]
        if c == 1:
            _horizontal1(tmp, o, size, op, scale)
        else:
            for q in range(ow):
                for ch in range(c):
                    a = tmp[2 * q * c + ch]
                    b = tmp[(2 * q + 1) * c + ch]
                    d = tmp[(2 * q + 2) * c + ch] if size == 3 else a
                    o[q * c + ch] = _combine(a, b, d, size, op, scale)


@njit(**JIT)
def avg2_rows(x, channels, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C): 2x2 averages every 2 cells, all inside ``x``,
    read in ``x``'s own dtype (uint8 and uint16 need no float copy of the image).

    The same sums in the same order as :func:`pool_s2` (the two rows first, then the two
    columns), times 1/4 (exactly what dividing by 4 gives), in ``out``'s dtype.  One
    channel: straight from the two rows; several: the two rows summed into a row buffer
    first (contiguous, vectorised), then pairs of pixels.

    ``flags[i]`` (when ``flags`` has rows) is set True if output row ``i`` holds a NaN or an
    infinity: the screen of the input's finiteness, done while the row is in cache (every
    input cell the windows read reaches an output; a finite input gives non-finite averages
    only by overflow, which the caller tells apart).
    """
    c = channels
    ow = out.shape[1] // c
    quarter = out.dtype.type(0.25)
    tmp = np.empty(2 * ow * c if c > 1 else 0, dtype=out.dtype)
    for i in range(i0, i1):
        r0 = x[2 * i]
        r1 = x[2 * i + 1]
        o = out[i]
        bad = False  # the screen, in the same sweep (free: the loop waits for memory)
        if c == 1:
            for q in range(ow):
                left = out.dtype.type(r0[2 * q]) + out.dtype.type(r1[2 * q])
                right = out.dtype.type(r0[2 * q + 1]) + out.dtype.type(r1[2 * q + 1])
                v = (left + right) * quarter
                o[q] = v
                bad |= (v - v) != 0
        else:
            for j in range(tmp.shape[0]):
                tmp[j] = out.dtype.type(r0[j]) + out.dtype.type(r1[j])
            if c == 3:
                for q in range(ow):
                    o[3 * q] = (tmp[6 * q] + tmp[6 * q + 3]) * quarter
                    o[3 * q + 1] = (tmp[6 * q + 1] + tmp[6 * q + 4]) * quarter
                    o[3 * q + 2] = (tmp[6 * q + 2] + tmp[6 * q + 5]) * quarter
            else:
                for q in range(ow):
                    base = 2 * q * c
                    for ch in range(c):
                        o[q * c + ch] = (tmp[base + ch] + tmp[base + c + ch]) * quarter
            for j in range(o.shape[0]):
                bad |= (o[j] - o[j]) != 0
        if flags.shape[0] > 0:
            flags[i] = bad


@njit(**JIT)
def avg2_rows_int(x, channels, out, i0, i1):
    """:func:`avg2_rows` of an unsigned integer ``x`` rounded into ``out`` of ``x``'s own dtype (the
    API's ``dtype=``): ``rint(s / 4)`` of each window's sum ``s``, half to even, in integers.

    The float loop's average ``s * 0.25`` is exact (``s`` < 2**18), so rounding it half to even
    is ``(s + 1 + ((s >> 2) & 1)) >> 2``: ``s = 4q + r`` goes up for ``r`` 3, or 2 with ``q``
    odd.  No float result, no screen (integers are finite), 1 or 2 bytes a value written.
    """
    c = channels
    ow = out.shape[1] // c
    tmp = np.empty(2 * ow * c if c > 1 else 0, dtype=np.int32)
    for i in range(i0, i1):
        r0 = x[2 * i]
        r1 = x[2 * i + 1]
        o = out[i]
        if c == 1:
            for q in range(ow):
                s = (np.int32(r0[2 * q]) + np.int32(r1[2 * q])) + (np.int32(r0[2 * q + 1]) + np.int32(r1[2 * q + 1]))
                o[q] = (s + 1 + ((s >> 2) & 1)) >> 2
        else:
            for j in range(tmp.shape[0]):
                tmp[j] = np.int32(r0[j]) + np.int32(r1[j])
            for q in range(ow):
                base = 2 * q * c
                for ch in range(c):
                    s = tmp[base + ch] + tmp[base + c + ch]
                    o[q * c + ch] = (s + 1 + ((s >> 2) & 1)) >> 2


@njit(**JIT, inline="always")
def _horizontal1(tmp, o, size, op, scale):
    ow = o.shape[0]
    if op == AVG:
        if size == 3:
            for q in range(ow):
                o[q] = (tmp[2 * q] + tmp[2 * q + 1] + tmp[2 * q + 2]) / scale
        else:
            for q in range(ow):
                o[q] = (tmp[2 * q] + tmp[2 * q + 1]) / scale
    elif op == MAX:
        if size == 3:
            for q in range(ow):
                a, b, d = tmp[2 * q], tmp[2 * q + 1], tmp[2 * q + 2]
                m = a if a > b else b
                o[q] = m if m > d else d
        else:
            for q in range(ow):
                a, b = tmp[2 * q], tmp[2 * q + 1]
                o[q] = a if a > b else b
    else:
        if size == 3:
            for q in range(ow):
                a, b, d = tmp[2 * q], tmp[2 * q + 1], tmp[2 * q + 2]
                m = a if a < b else b
                o[q] = m if m < d else d
        else:
            for q in range(ow):
                a, b = tmp[2 * q], tmp[2 * q + 1]
                o[q] = a if a < b else b


@njit(**JIT, inline="always")
def _combine(a, b, d, size, op, scale):
    if op == AVG:
        return (a + b + d) / scale if size == 3 else (a + b) / scale
    if op == MAX:
        m = a if a > b else b
        return m if m > d else d
    m = a if a < b else b
    return m if m < d else d


@njit(**JIT)
def pool_rows(x, channels, size, stride, pad, op, include_pad, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C) from ``x`` (H, W*C); windows of ``size`` every ``stride``, ``pad`` virtual cells."""
    h = x.shape[0]
    w = x.shape[1] // channels
    ow = out.shape[1] // channels
    for i in range(i0, i1):
        r0 = i * stride - pad
        r1 = min(r0 + size, h + pad)
        ra = max(r0, 0)
        rb = min(r1, h)
        for j in range(ow):
            c0 = j * stride - pad
            c1 = min(c0 + size, w + pad)
            ca = max(c0, 0)
            cb = min(c1, w)
            divisor = (r1 - r0) * (c1 - c0) if include_pad else (rb - ra) * (cb - ca)
            for ch in range(channels):
                if op == AVG:
                    acc = 0.0
                    for r in range(ra, rb):
                        for c in range(ca, cb):
                            acc += x[r, c * channels + ch]
                    out[i, j * channels + ch] = acc / divisor
                else:
                    best = x[ra, ca * channels + ch]
                    for r in range(ra, rb):
                        for c in range(ca, cb):
                            v = x[r, c * channels + ch]
                            if (op == MAX and v > best) or (op == MIN and v < best):
                                best = v
                    out[i, j * channels + ch] = best
