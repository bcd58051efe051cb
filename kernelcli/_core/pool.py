"""Jitted pooling (max, min, avg) over flat (H, W*C) rows, with PyTorch's padding rules.

Two loops: :func:`pool_s2` for the common 2x2 and 3x3 windows at stride 2 without
padding (passes over whole rows into row buffers; the op and size are tested once per
row, not per cell), and the general :func:`pool_rows` for any size, stride, padding and
``ceil_mode``.  The 2x2 average has two of its own: :func:`avg2_rows` (the input read in
its own dtype) and :func:`avg2_rows_int` (a uint8 image averaged into uint8, rounded).

Every loop takes a window's cells in PyTorch's order, row by row.  An average is PyTorch's
sum: from 0, in the result's dtype, then divided by the cell count in that dtype (a float64
sum would round differently, and stay finite where float32 overflows).  A max or min is the
first extreme cell: of +0.0 and -0.0 the first stays.  So every loop, numpy's path
(:func:`.numpy_pool.pool`) and PyTorch give the same bits, whichever path an image's size picks.

In the general loop padded cells never win a max/min; ``avg`` divides by the window's
cells inside the padded input (``count_include_pad``) or by the real cells only.
Both loops are serial and release the GIL; ``threads.run_rows`` splits the rows.
"""

from __future__ import annotations

import numpy as np
from .jit import njit

from .config import AVG, JIT, MAX, MIN


@njit(**JIT)
def pool_s2(x, channels, size, op, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C): ``size`` x ``size`` windows (2 or 3) every 2 cells, all inside ``x``.

    Every window's cells are taken in PyTorch's order, row by row (:func:`_average_s2`,
    :func:`_extreme_s2`), so that this loop, the general one and numpy's give the same bits.
    """
    if op == AVG:
        _average_s2(x, channels, size, out, i0, i1)
    else:
        _extreme_s2(x, channels, size, op == MAX, out, i0, i1)


@njit(**JIT, inline="always")
def _beyond(best, v, is_max):
    """``v`` if it is strictly beyond ``best``, else ``best``: of equal cells (+0.0 and -0.0) the first stays,
    as in PyTorch's loop."""
    if is_max:
        return v if v > best else best
    return v if v < best else best


@njit(**JIT, inline="always")
def _extreme_s2(x, c, size, is_max, out, i0, i1):
    """:func:`pool_s2`'s max and min: the first extreme cell of each window, its cells row by row.

    Several channels: as :func:`_average_s2`, taken at every cell of the row buffer over contiguous
    views, which vectorise, then the windows' values picked out (twice as fast for RGB as a pass
    down the columns, then across); one channel: :func:`_extreme_s2_grey`.
    """
    if c == 1:
        _extreme_s2_grey(x, size, is_max, out, i0, i1)
        return
    ow = out.shape[1] // c
    n = (2 * ow - 1) * c
    tmp = np.empty(n, dtype=out.dtype)
    for i in range(i0, i1):
        r0 = x[2 * i]
        r1 = x[2 * i + 1]
        a0, b0, a1, b1 = r0[:n], r0[c : c + n], r1[:n], r1[c : c + n]
        if size == 3:
            r2 = x[2 * i + 2]
            d0, d1, a2, b2, d2 = r0[2 * c : 2 * c + n], r1[2 * c : 2 * c + n], r2[:n], r2[c : c + n], r2[2 * c : 2 * c + n]
            for j in range(n):
                m = _beyond(_beyond(_beyond(a0[j], b0[j], is_max), d0[j], is_max), a1[j], is_max)
                m = _beyond(_beyond(_beyond(m, b1[j], is_max), d1[j], is_max), a2[j], is_max)
                tmp[j] = _beyond(_beyond(m, b2[j], is_max), d2[j], is_max)
        else:
            for j in range(n):
                tmp[j] = _beyond(_beyond(_beyond(a0[j], b0[j], is_max), a1[j], is_max), b1[j], is_max)
        _pick_values(tmp, out[i], c)


@njit(**JIT, inline="always")
def _average_s2(x, c, size, out, i0, i1):
    """:func:`pool_s2`'s averages: each window's sum from 0, its cells row by row (PyTorch's order,
    so that every path gives the same bits), divided by its area, in ``out``'s dtype.

    The sums are taken at every cell of the row buffer, not only at the windows' first cells
    (every other pixel): twice the additions, but over contiguous rows, which vectorise;
    then the windows' sums are picked out.
    """
    ow = out.shape[1] // c
    n = (2 * ow - 1) * c  # the first cells of the windows lie in [0, n)
    zero = out.dtype.type(0.0)
    area = out.dtype.type(size * size)
    inverse = out.dtype.type(0.25 if size == 2 else 0.0)  # 1/4 is exact, 1/9 is not
    tmp = np.empty(n, dtype=out.dtype)
    for i in range(i0, i1):
        r0 = x[2 * i]
        r1 = x[2 * i + 1]
        o = out[i]
        # each cell's right-hand neighbours as views: indices from range(n) alone, which LLVM vectorises
        a0, b0, a1, b1 = r0[:n], r0[c : c + n], r1[:n], r1[c : c + n]
        if size == 3:
            r2 = x[2 * i + 2]
            d0, d1, a2, b2, d2 = r0[2 * c : 2 * c + n], r1[2 * c : 2 * c + n], r2[:n], r2[c : c + n], r2[2 * c : 2 * c + n]
            for j in range(n):
                tmp[j] = (((((((((zero + a0[j]) + b0[j]) + d0[j]) + a1[j]) + b1[j]) + d1[j]) + a2[j]) + b2[j]) + d2[j])
        else:
            for j in range(n):
                tmp[j] = (((zero + a0[j]) + b0[j]) + a1[j]) + b1[j]
        _pick_windows(tmp, o, c, area, inverse)


@njit(**JIT, inline="always")
def _extreme_s2_grey(x, size, is_max, out, i0, i1):
    """:func:`_extreme_s2` for one channel: each input row's first extreme of every window's columns,
    then of the rows, in order (the first extreme row by row, as in PyTorch's loop).  A 3x3 window's
    last row is the next one's first; keeping its extremes instead of taking them again measured slower."""
    ow = out.shape[1]
    top = np.empty(ow, dtype=out.dtype)
    middle = np.empty(ow, dtype=out.dtype)
    bottom = np.empty(ow, dtype=out.dtype)
    for i in range(i0, i1):
        o = out[i]
        if size == 2:
            _across(x[2 * i], top, 2, is_max)
            _across(x[2 * i + 1], bottom, 2, is_max)
            for q in range(ow):
                o[q] = _beyond(top[q], bottom[q], is_max)
        else:
            _across(x[2 * i], top, 3, is_max)
            _across(x[2 * i + 1], middle, 3, is_max)
            _across(x[2 * i + 2], bottom, 3, is_max)
            for q in range(ow):
                o[q] = _beyond(_beyond(top[q], middle[q], is_max), bottom[q], is_max)


@njit(**JIT, inline="always")
def _across(row, into, size, is_max):
    """``into[q]``: the first extreme of ``row[2q : 2q + size]``."""
    if size == 2:
        for q in range(into.shape[0]):
            into[q] = _beyond(row[2 * q], row[2 * q + 1], is_max)
    else:
        for q in range(into.shape[0]):
            into[q] = _beyond(_beyond(row[2 * q], row[2 * q + 1], is_max), row[2 * q + 2], is_max)


@njit(**JIT, inline="always")
def _pick_values(values, o, c):
    """``o``'s window ``q``, channel ``ch`` from ``values[2 * q * c + ch]``, as they are (:func:`_pick_windows`
    divides, which would turn int64 into float64); three channels unrolled, as there."""
    ow = o.shape[0] // c
    if c == 3:
        for q in range(ow):
            for ch in range(3):
                o[3 * q + ch] = values[6 * q + ch]
    else:
        for q in range(ow):
            for ch in range(c):
                o[q * c + ch] = values[2 * q * c + ch]


@njit(**JIT, inline="always")
def _pick_windows(sums, o, c, area, inverse):
    """``o``'s window ``q``, channel ``ch`` from ``sums[2 * q * c + ch]`` (windows every 2 pixels), divided by
    ``area``: times ``inverse`` where that is exact (``inverse`` a power of two, else 0)."""
    ow = o.shape[0] // c
    if c == 1:
        if inverse != 0:
            for q in range(ow):
                o[q] = sums[2 * q] * inverse
        else:
            for q in range(ow):
                o[q] = sums[2 * q] / area
    elif c == 3:
        for q in range(ow):
            for ch in range(3):
                o[3 * q + ch] = sums[6 * q + ch] * inverse if inverse != 0 else sums[6 * q + ch] / area
    else:
        for q in range(ow):
            for ch in range(c):
                o[q * c + ch] = sums[2 * q * c + ch] * inverse if inverse != 0 else sums[2 * q * c + ch] / area


@njit(**JIT)
def avg2_rows(x, channels, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C): 2x2 averages every 2 cells, all inside ``x``,
    read in ``x``'s own dtype (uint8 and uint16 need no float copy of the image).

    PyTorch's sums in its order (from 0, the window's cells row by row: ``((a + b) + c) + d``
    plus 0, which only turns a sum of four -0.0 into 0.0), times 1/4 (exactly what dividing by 4
    gives), in ``out``'s dtype: the bits of every other path (:func:`pool_rows`, numpy's).

    ``flags[i]`` (when ``flags`` has rows) is set True if output row ``i`` holds a NaN or an
    infinity: the screen of the input's finiteness, done while the row is in cache (every
    input cell the windows read reaches an output; a finite input gives non-finite averages
    only by overflow, which the caller tells apart).
    """
    c = channels
    ow = out.shape[1] // c
    quarter = out.dtype.type(0.25)
    four = out.dtype.type(4.0)
    zero = out.dtype.type(0.0)
    t = out.dtype.type
    tmp = np.empty((2 * ow - 1) * c if c > 1 else 0, dtype=out.dtype)
    for i in range(i0, i1):
        r0 = x[2 * i]
        r1 = x[2 * i + 1]
        o = out[i]
        bad = False  # the screen, in the same sweep (free: the loop waits for memory)
        if c == 1:
            for q in range(ow):
                v = ((t(r0[2 * q]) + t(r0[2 * q + 1])) + t(r1[2 * q])) + t(r1[2 * q + 1])
                v = (v + zero) * quarter
                o[q] = v
                bad |= (v - v) != 0
        else:  # the sums at every cell of the row (contiguous: they vectorise), then the windows' picked out
            n = tmp.shape[0]
            a0, b0, a1, b1 = r0[:n], r0[c : c + n], r1[:n], r1[c : c + n]  # views: see _average_s2
            for j in range(n):
                tmp[j] = (((t(a0[j]) + t(b0[j])) + t(a1[j])) + t(b1[j])) + zero
            _pick_windows(tmp, o, c, four, quarter)
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
                if op == AVG:  # PyTorch's sum: from 0, in the result's dtype, the real cells row by row
                    acc = out.dtype.type(0.0)
                    for r in range(ra, rb):
                        for c in range(ca, cb):
                            acc += x[r, c * channels + ch]
                    out[i, j * channels + ch] = acc / out.dtype.type(divisor)
                else:
                    best = x[ra, ca * channels + ch]
                    for r in range(ra, rb):
                        for c in range(ca, cb):
                            v = x[r, c * channels + ch]
                            if (op == MAX and v > best) or (op == MIN and v < best):
                                best = v
                    out[i, j * channels + ch] = best
