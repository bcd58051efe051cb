"""Jitted direct 2-D cross-correlation over flat (H, W*C) rows: dense and separable.

Every output row is a sum of taps over contiguous slices (:mod:`kernelcli._core.taps`):
a tap is its row in the window, its offset along the flat row (channels ride along as
interleaved columns, offset ``v*dil*C``) and its weight.  Two ways to feed the taps:

in place (``dense_direct``, ``separable_direct``)
    when the input already has the compute dtype and the horizontal stride is 1: the
    taps read the input rows themselves; only the few border columns go through the
    padding maps, and rows outside a constant-padded input add ``fill * weight``.
through a ring (``dense_rows``, ``separable_rows``)
    otherwise: the padded rows a window needs are built on the fly (:func:`pad.pad_row`,
    which casts, e.g. uint8 -> float32, and de-interleaves columns by phase for a
    horizontal stride, so that only the strided outputs are computed) into a ring of
    ``span`` rows.

Neither stores a padded image.  A vertical stride just skips rows.  The separable loops
do a vertical 1-D pass into a row buffer, then a horizontal one: ``kh + kw`` taps per
output instead of ``kh * kw``.  The loops are serial and release the GIL;
:func:`kernelcli._core.threads.run_rows` gives each thread a block of output rows.
Each loop screens its output rows for NaN/infinity when ``flags`` has rows (:mod:`.screen`).

Numba's cache keys a function on its own file only, and a cached loop holds the tap passes it
was compiled with: a change to :mod:`.taps` must come with a change to this file.  (Tap passes of
3, 5 and 7 for the separable 1-D passes: issue 17.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import JIT
from .pad import pad_row
from .screen import screen_row
from .taps import apply_taps


@njit(**JIT, inline="always")
def _advance(x, channels, rows, cols, runs, wq, fill, span, row_len, ring, loaded, top):
    """Make padded rows ``top .. top+span-1`` present in ``ring`` (row r in slot r % span); return the last loaded."""
    slot_len = _slot_len(row_len)
    for r in range(max(top, loaded + 1), top + span):
        slot = r % span
        pad_row(x, channels, rows[r], cols, runs, wq, fill, ring[slot * slot_len : slot * slot_len + row_len])
    return top + span - 1


@njit(**JIT, inline="always")
def _slot_len(row_len):
    """Ring slot length: a row plus one spare cache line when rows would start a multiple of
    4 KiB apart (then every tap's stream falls in the same L1 cache set: twice as slow)."""
    return row_len + 16 if row_len % 1024 == 0 else row_len


@njit(**JIT, inline="always")
def _locate(starts, trow, toff, top, span, row_len):
    """Flat offsets in the ring of taps at window rows ``trow`` and row offsets ``toff``."""
    slot_len = _slot_len(row_len)
    for t in range(trow.shape[0]):
        starts[t] = ((top + trow[t]) % span) * slot_len + toff[t]


@njit(**JIT)
def dense_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, trow, toff, ws, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C) from input ``x`` (H, W*C), taps at (``trow``, ``toff``) with weights ``ws``.

    ``rows``/``cols``/``runs``/``wq``/``fill`` describe the padding (see :func:`pad.pad_row`);
    ``span`` is the number of padded rows one window covers.
    """
    row_len = runs.shape[0] * wq * channels
    if stride_h == 1 and runs.shape[0] == 1 and row_len <= _SLAB_MAX_ROW:
        _dense_slab(x, channels, rows, cols, runs, wq, fill, span, trow, toff, ws, out, flags, i0, i1)
        return
    ring = np.empty(span * _slot_len(row_len), dtype=out.dtype)
    starts = np.empty_like(toff)
    v = out.dtype.type(fill)
    loaded = -1
    for i in range(i0, i1):
        top = i * stride_h
        loaded = _advance(x, channels, rows, cols, runs, wq, v, span, row_len, ring, loaded, top)
        _locate(starts, trow, toff, top, span, row_len)
        apply_taps(out[i], ring, 0, starts, ws)
        screen_row(out[i], flags, i)


#: padded rows up to this many values take :func:`_dense_slab` (short rows: a pass's set-up is a
#: large share of a row's work, so several rows go in one pass; 256^2 7x7 220 -> 162 us, 11x11
#: 441 -> 323; at 2048 columns no gain)
_SLAB_MAX_ROW = 1024
#: values of one slab pass (128 KiB of float32: larger chunks measured faster up to here)
_SLAB_ELEMENTS = 32768


@njit(**JIT)
def _dense_slab(x, channels, rows, cols, runs, wq, fill, span, trow, toff, ws, out, flags, i0, i1):
    """:func:`dense_rows` at stride 1 for short rows: a slab of padded rows, several output rows per pass.

    The output rows of a chunk are computed as one flat run over the slab (row length that of a
    padded row, so the columns past each output row are thrown away), then copied out: the same
    sums, tap for tap and pass for pass, as through the ring.
    """
    row_len = wq * channels
    m = out.shape[1]
    chunk = max(8, _SLAB_ELEMENTS // row_len)
    slab = np.empty((chunk + span - 1) * row_len, dtype=out.dtype)
    scratch = np.empty(chunk * row_len, dtype=out.dtype)
    starts = trow * row_len + toff
    v = out.dtype.type(fill)
    i = i0
    while i < i1:
        n = min(chunk, i1 - i)
        for r in range(n + span - 1):
            pad_row(x, channels, rows[i + r], cols, runs, wq, v, slab[r * row_len : (r + 1) * row_len])
        apply_taps(scratch[: (n - 1) * row_len + m], slab, 0, starts, ws)
        for r in range(n):
            orow = out[i + r]
            part = scratch[r * row_len : r * row_len + m]
            for j in range(m):
                orow[j] = part[j]
            screen_row(orow, flags, i + r)
        i += n


@njit(**JIT)
def separable_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, vrow, vws, hoff, hws, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel: a vertical pass into a row buffer, then a horizontal one.

    The vertical taps (window rows ``vrow``) combine whole padded rows; the horizontal
    taps (row offsets ``hoff``) read the buffer.  ``kh + kw`` taps per output instead of ``kh * kw``.
    """
    row_len = runs.shape[0] * wq * channels
    ring = np.empty(span * _slot_len(row_len), dtype=out.dtype)
    tmp = np.empty(row_len, dtype=out.dtype)
    vstarts = np.empty_like(vrow)
    zero = np.zeros_like(vrow)
    v = out.dtype.type(fill)
    loaded = -1
    for i in range(i0, i1):
        top = i * stride_h
        loaded = _advance(x, channels, rows, cols, runs, wq, v, span, row_len, ring, loaded, top)
        _locate(vstarts, vrow, zero, top, span, row_len)
        apply_taps(tmp, ring, 0, vstarts, vws)
        apply_taps(out[i], tmp, 0, hoff, hws)
        screen_row(out[i], flags, i)


@njit(**JIT, inline="always")
def _select_rows(starts, wsel, rows, trow, tstart, ws, top, row_len):
    """Taps whose padded row is a real input row: flat starts in ``x`` and weights; returns
    (count, sum of the weights of fill rows)."""
    n = 0
    fill_weight = 0.0
    for t in range(trow.shape[0]):
        r = rows[top + trow[t]]
        if r < 0:
            fill_weight += ws[t]
        else:
            starts[n] = r * row_len + tstart[t]
            wsel[n] = ws[t]
            n += 1
    return n, fill_weight


@njit(**JIT)
def dense_direct(x, channels, rows, cols, fill, left, stride_h, trow, tcol, ws, out, flags, i0, i1):
    """Like :func:`dense_rows` at stride 1 across, reading the input rows in place (``x`` already in out's dtype).

    Output columns whose windows lie inside the input read contiguous slices of ``x``;
    the few border columns (``left`` on the left, the rest on the right) go through the
    column map ``cols``.  Rows outside the input (constant mode) add ``fill`` times their weights.
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    ow = out.shape[1] // c
    span_w = 0
    for t in range(tcol.shape[0]):
        span_w = max(span_w, tcol[t] + 1)
    jl = min(left, ow)
    jr = max(jl, min(ow, w + left - span_w + 1))
    flat = x.reshape(-1)
    tstart = (tcol - left + jl) * c
    starts = np.empty_like(tstart)
    wsel = np.empty_like(ws)
    v = out.dtype.type(fill)
    span_h = 0
    for t in range(trow.shape[0]):
        span_h = max(span_h, trow[t] + 1)
    # Output rows as long as input rows at stride 1: a run of rows whose windows read consecutive
    # input rows is one flat segment of the output, and its taps one pass over it (the same sums
    # as row by row; the border columns between rows, computed from wrapped data, are redone).
    flat_rows = stride_h == 1 and out.shape[1] == row_len and jr > jl
    out_flat = out.reshape(-1)
    i = i0
    while i < i1:
        b = i
        if flat_rows:  # a few rows at a time, so that the screen and border columns find them in cache
            last = min(i1, i + max(2, _FLAT_ELEMENTS // row_len))
            while b < last and _consecutive(rows, b, span_h) and rows[b] == rows[i] + (b - i):
                b += 1
        if b - i >= 2:
            n, _ = _select_rows(starts, wsel, rows, trow, tstart, ws, i, row_len)
            apply_taps(out_flat[i * row_len + jl * c : (b - 1) * row_len + jr * c], flat, 0, starts[:n], wsel[:n])
            for r in range(i, b):
                _border_columns(x, c, rows, cols, v, r, trow, tcol, ws, out[r], 0, jl)
                _border_columns(x, c, rows, cols, v, r, trow, tcol, ws, out[r], jr, ow)
                screen_row(out[r], flags, r)
            i = b
            continue
        top = i * stride_h
        n, fill_weight = _select_rows(starts, wsel, rows, trow, tstart, ws, top, row_len)
        if jr > jl:
            seg = out[i, jl * c : jr * c]
            apply_taps(seg, flat, 0, starts[:n], wsel[:n])
            if fill_weight != 0.0 and v != 0:
                add = out.dtype.type(fill_weight * v)
                for j in range(seg.shape[0]):
                    seg[j] += add
        _border_columns(x, c, rows, cols, v, top, trow, tcol, ws, out[i], 0, jl)
        _border_columns(x, c, rows, cols, v, top, trow, tcol, ws, out[i], jr, ow)
        screen_row(out[i], flags, i)
        i += 1


#: output values per flat pass of :func:`dense_direct` (32 KiB of float32: the rows are still in cache after it)
_FLAT_ELEMENTS = 8192


@njit(**JIT, inline="always")
def _consecutive(rows, top, span):
    """True when padded rows ``top .. top+span-1`` are the input rows ``rows[top]`` onwards, in order."""
    first = rows[top]
    if first < 0:
        return False
    for d in range(1, span):
        if rows[top + d] != first + d:
            return False
    return True


@njit(**JIT, inline="always")
def _border_columns(x, c, rows, cols, fill, top, trow, tcol, ws, orow, j0, j1):
    """Output pixels ``j0:j1`` of one row, tap by tap through the row and column maps."""
    for j in range(j0, j1):
        for ch in range(c):
            acc = orow.dtype.type(0)
            for t in range(trow.shape[0]):
                r = rows[top + trow[t]]
                col = cols[j + tcol[t]]
                value = fill if r < 0 or col < 0 else x[r, col * c + ch]
                acc += ws[t] * value
            orow[j * c + ch] = acc


@njit(**JIT)
def separable_direct(x, channels, rows, cols, fill, left, stride_h, vrow, vws, hoff, hws, out, flags, i0, i1):
    """Like :func:`separable_rows` at stride 1 across, reading the input rows in place (``x`` in out's dtype).

    The vertical pass writes the interior of one padded row buffer straight from the
    input rows; the buffer's border cells then copy the columns they mirror (a column
    map commutes with a vertical sum), or take the fill times the vertical weights.
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    wp = cols.shape[0]
    flat = x.reshape(-1)
    tmp = np.empty(wp * c, dtype=out.dtype)
    inner = tmp[left * c : (left + w) * c]
    zero = np.zeros_like(vrow)
    starts = np.empty_like(vrow)
    wsel = np.empty_like(vws)
    v = out.dtype.type(fill)
    total = out.dtype.type(0)
    for t in range(vws.shape[0]):
        total += vws[t]
    edge = out.dtype.type(total * v)
    for i in range(i0, i1):
        n, fill_weight = _select_rows(starts, wsel, rows, vrow, zero, vws, i * stride_h, row_len)
        apply_taps(inner, flat, 0, starts[:n], wsel[:n])
        if fill_weight != 0.0 and v != 0:
            add = out.dtype.type(fill_weight * v)
            for j in range(inner.shape[0]):
                inner[j] += add
        _border_cells(tmp, inner, cols, c, edge, 0, left)
        _border_cells(tmp, inner, cols, c, edge, left + w, wp)
        apply_taps(out[i], tmp, 0, hoff, hws)
        screen_row(out[i], flags, i)


@njit(**JIT, inline="always")
def _border_cells(tmp, inner, cols, c, edge, p0, p1):
    """Padded pixels ``p0:p1`` of the row buffer: a copy of the column they map to, or ``edge``."""
    for p in range(p0, p1):
        col = cols[p]
        for ch in range(c):
            tmp[p * c + ch] = edge if col < 0 else inner[col * c + ch]
