"""Jitted direct 2-D cross-correlation over flat (H, W*C) rows: dense and separable.

Every output row is a sum of taps over contiguous slices (:mod:`kernelcli._core.taps`):
a tap is its row in the window, its offset along the flat row (channels ride along as
interleaved columns, offset ``v*dil*C``) and its weight.  Two ways to feed the taps:

in place (``dense_direct``, ``separable_direct``)
    when the input already has the compute dtype and the horizontal stride is 1: the
    taps read the input rows themselves; only the few border columns go through the
    padding maps, and rows outside a constant-padded input add ``fill * weight``.
through a ring (``dense_rows``, ``separable_rows``)
    otherwise: the padded rows a window needs are built on the fly (:func:`pad.pad_into`,
    which casts, e.g. uint8 -> float32, and de-interleaves columns by phase for a
    horizontal stride, so that only the strided outputs are computed) into a ring of
    ``span`` rows.

Neither stores a padded image.  A vertical stride just skips rows.  The separable loops
do a vertical 1-D pass into a row buffer, then a horizontal one: ``kh + kw`` taps per
output instead of ``kh * kw``.  The loops are serial and release the GIL;
:func:`kernelcli._core.threads.run_rows` gives each thread a block of output rows.
Each loop screens its output rows for NaN/infinity when ``flags`` has rows (:mod:`.screen`).
Each takes a ``divisor`` after the weights: 1.0, or the whole number d of a kernel of whole numbers
over d (``box:10``: the weights are ones, d = 100; :func:`.forms.divided`), by which each output
row is divided once as soon as it is summed (:func:`_divide`).

Numba's cache keys a function on its own file only, and a cached loop holds the tap passes it
was compiled with: a change to :mod:`.taps` must come with a change to this file.  (Tap passes of
3, 5 and 7 for the separable 1-D passes: issue 17; blocked sweeps of 3x3, 5x5 and 7x7 in place.)
"""

from __future__ import annotations

import numpy as np
from .jit import njit

from .config import JIT
from .pad import pad_into
from .retype import alive, borrowed
from .screen import screen_row
from .taps import ROWS, apply_blocked, apply_taps


@njit(**JIT, inline="always")
def _advance(x, channels, rows, cols, runs, wq, fill, span, row_len, ring, loaded, top):
    """Make padded rows ``top .. top+span-1`` present in ``ring`` (row r in slot r % span); return the last loaded."""
    slot_len = _slot_len(row_len)
    for r in range(max(top, loaded + 1), top + span):
        slot = r % span
        pad_into(x, channels, rows[r], cols, runs, wq, fill, ring, slot * slot_len)
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
def dense_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, trow, toff, ws, divisor, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C) from input ``x`` (H, W*C), taps at (``trow``, ``toff``) with weights ``ws``.

    ``rows``/``cols``/``runs``/``wq``/``fill`` describe the padding (see :func:`pad.pad_row`);
    ``span`` is the number of padded rows one window covers.  ``divisor``: each output is the
    sum divided by it (see :func:`_divide`; 1.0: the sum).
    """
    row_len = runs.shape[0] * wq * channels
    if stride_h == 1 and runs.shape[0] == 1 and row_len <= _SLAB_MAX_ROW:
        _dense_slab(x, channels, rows, cols, runs, wq, fill, span, trow, toff, ws, divisor, out, flags, i0, i1)
        return
    x, rows, cols, runs = borrowed(x), borrowed(rows), borrowed(cols), borrowed(runs)
    trow, toff, ws, out, flags = borrowed(trow), borrowed(toff), borrowed(ws), borrowed(out), borrowed(flags)
    ring_memory, starts_memory = np.empty(span * _slot_len(row_len), dtype=out.dtype), np.empty_like(toff)
    ring, starts = borrowed(ring_memory), borrowed(starts_memory)
    v = out.dtype.type(fill)
    loaded = -1
    for i in range(i0, i1):
        top = i * stride_h
        loaded = _advance(x, channels, rows, cols, runs, wq, v, span, row_len, ring, loaded, top)
        _locate(starts, trow, toff, top, span, row_len)
        apply_taps(out[i], ring, 0, starts, ws)
        _divide(out[i], divisor)
        screen_row(out[i], flags, i)
    alive(ring_memory, starts_memory)


#: padded rows up to this many values take :func:`_dense_slab` (short rows: a pass's set-up is a
#: large share of a row's work, so several rows go in one pass; 256^2 7x7 220 -> 162 us, 11x11
#: 441 -> 323; at 2048 columns no gain)
_SLAB_MAX_ROW = 1024
#: values of one slab pass (128 KiB of float32: larger chunks measured faster up to here)
_SLAB_ELEMENTS = 32768


@njit(**JIT)
def _dense_slab(x, channels, rows, cols, runs, wq, fill, span, trow, toff, ws, divisor, out, flags, i0, i1):
    """:func:`dense_rows` at stride 1 for short rows: a slab of padded rows, several output rows per pass.

    The output rows of a chunk are computed as one flat run over the slab (row length that of a
    padded row, so the columns past each output row are thrown away), then copied out: the same
    sums, tap for tap and pass for pass, as through the ring.
    """
    x, rows, cols, runs = borrowed(x), borrowed(rows), borrowed(cols), borrowed(runs)
    ws, out, flags = borrowed(ws), borrowed(out), borrowed(flags)
    row_len = wq * channels
    m = out.shape[1]
    chunk = min(max(8, _SLAB_ELEMENTS // row_len), i1 - i0)  # a few border rows: a small slab
    slab_memory = np.empty((chunk + span - 1) * row_len, dtype=out.dtype)
    scratch_memory = np.empty(chunk * row_len, dtype=out.dtype)
    starts_memory = trow * row_len + toff
    slab, scratch, starts = borrowed(slab_memory), borrowed(scratch_memory), borrowed(starts_memory)
    v = out.dtype.type(fill)
    i = i0
    while i < i1:
        n = min(chunk, i1 - i)
        for r in range(n + span - 1):
            pad_into(x, channels, rows[i + r], cols, runs, wq, v, slab, r * row_len)
        apply_taps(scratch[: (n - 1) * row_len + m], slab, 0, starts, ws)
        for r in range(n):
            orow = out[i + r]
            part = scratch[r * row_len : r * row_len + m]
            for j in range(m):
                orow[j] = part[j]
            _divide(orow, divisor)
            screen_row(orow, flags, i + r)
        i += n
    alive(slab_memory, scratch_memory, starts_memory)


@njit(**JIT)
def separable_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, vrow, vws, hoff, hws, divisor, out, flags,
                   i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel: a vertical pass into a row buffer, then a horizontal one.

    The vertical taps (window rows ``vrow``) combine whole padded rows; the horizontal
    taps (row offsets ``hoff``) read the buffer.  ``kh + kw`` taps per output instead of ``kh * kw``.
    ``divisor`` as for :func:`dense_rows`.
    """
    x, rows, cols, runs = borrowed(x), borrowed(rows), borrowed(cols), borrowed(runs)
    vrow, vws, hoff, hws = borrowed(vrow), borrowed(vws), borrowed(hoff), borrowed(hws)
    out, flags = borrowed(out), borrowed(flags)
    row_len = runs.shape[0] * wq * channels
    ring_memory, tmp_memory = np.empty(span * _slot_len(row_len), dtype=out.dtype), np.empty(row_len, dtype=out.dtype)
    vstarts_memory, zero_memory = np.empty_like(vrow), np.zeros_like(vrow)
    ring, tmp, vstarts, zero = borrowed(ring_memory), borrowed(tmp_memory), borrowed(vstarts_memory), borrowed(zero_memory)
    v = out.dtype.type(fill)
    loaded = -1
    for i in range(i0, i1):
        top = i * stride_h
        loaded = _advance(x, channels, rows, cols, runs, wq, v, span, row_len, ring, loaded, top)
        _locate(vstarts, vrow, zero, top, span, row_len)
        apply_taps(tmp, ring, 0, vstarts, vws)
        apply_taps(out[i], tmp, 0, hoff, hws)
        _divide(out[i], divisor)
        screen_row(out[i], flags, i)
    alive(ring_memory, tmp_memory, vstarts_memory, zero_memory)


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
def dense_direct(x, channels, rows, cols, runs, wq, fill, span, stride_h, left, square, trow, toff, ws, divisor, out, flags,
                 i0, i1):
    """:func:`dense_rows` at stride 1 across, reading the interior of the input in place (``x`` in out's dtype).

    The arguments are :func:`dense_rows`'s plus ``left``, the padding columns on the left, and
    ``square``: f when the taps are a full f x f kernel at dilation 1 with f in
    :data:`.taps.BLOCKED`, else 0.  At stride 1 down, a run of output rows whose windows read
    consecutive input rows is one flat segment of the output, and its taps one pass over the
    input seen as one flat array (the columns near the left and right edges, whose windows wrap
    into the neighbouring rows, are redone); for a ``square`` kernel, :data:`.taps.ROWS` rows at
    a time share their loads instead (:func:`.taps.apply_blocked`: the same sums).  Those edge
    columns are computed from two narrow strips of padded columns (see
    :func:`_edge_strip`), and the rows whose windows reach the top or bottom border go through
    :func:`dense_rows`: every output is the same tap passes over the same padded values as
    there, so the two loops give the same bytes.  Output rows narrower than the input's (no
    padding at the sides, "valid", or less than the kernel's width) are not one flat segment
    with it: long ones take their passes row by row, short ones are computed a block at a time
    as if they were as long, into a buffer whose rows are copied out.
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    ow = out.shape[1] // c
    span_w = c - c + 1  # an int64, not the literal 1: one compiled version of _edge_strip (and 0 below)
    for t in range(toff.shape[0]):
        span_w = max(span_w, toff[t] // c + 1)
    jl = min(left, ow)
    jr = max(jl, min(ow, w + left - span_w + 1))
    out_len = out.shape[1]
    if not (stride_h == 1 and out_len <= row_len and jr > jl):
        dense_rows(x, c, rows, cols, runs, wq, fill, span, stride_h, trow, toff, ws, divisor, out, flags, i0, i1)
        return
    x, rows, cols, runs = borrowed(x), borrowed(rows), borrowed(cols), borrowed(runs)
    trow, toff, ws, out, flags = borrowed(trow), borrowed(toff), borrowed(ws), borrowed(out), borrowed(flags)
    flat = x.reshape(-1)
    starts_memory = np.empty_like(toff)
    starts = borrowed(starts_memory)
    block = max(2, min(i1 - i0, _FLAT_ELEMENTS // row_len))
    # Output rows narrower than the input's cannot be one flat segment with it.  Long ones are written
    # in place row by row (a blocked sweep's rows out_len apart); short ones, where a pass a row costs
    # more in set-up than it computes, a block at a time as if they were as long, into a buffer placed
    # as the output is relative to the input (.placement), and copied out (2048^2 7x7 "valid" through
    # the ring took 14.2 ms, "same" in place 9.6)
    narrow = out_len != row_len
    buffered = narrow and out_len < _NARROW_IN_PLACE_VALUES
    if buffered:
        block = max(2, min(block, _NARROW_ELEMENTS // row_len))
    rows_buf_memory = np.empty(block * row_len + 4096 // out.itemsize if buffered else 0, dtype=out.dtype)
    rows_buf = borrowed(rows_buf_memory)
    shift = (out.ctypes.data - x.ctypes.data) % 4096
    out_flat = out.reshape(-1)
    lw, rw = (jl + span_w - 1) * c, (ow - jr + span_w - 1) * c  # strip widths (values)
    strip_memory = np.empty((block + span - 1) * max(lw, rw, 1), dtype=out.dtype)
    scratch_memory = np.empty(block * max(lw, rw, 1), dtype=out.dtype)
    sstarts_memory = np.empty_like(toff)
    strip, scratch, sstarts = borrowed(strip_memory), borrowed(scratch_memory), borrowed(sstarts_memory)
    v = out.dtype.type(fill)
    m = (jr - jl) * c
    i = i0
    while i < i1:
        b = i
        last = min(i1, i + block)
        while b < last and _consecutive(rows, b, span) and rows[b] == rows[i] + (b - i):
            b += 1
        if b == i:  # a window reaching the top or bottom border: through the ring, up to the next run
            b = i + 1
            while b < i1 and not _consecutive(rows, b, span):
                b += 1
            # (stride_h is 1)
            dense_rows(x, c, rows, cols, runs, wq, fill, span, stride_h, trow, toff, ws, divisor, out, flags, i, b)
            i = b
            continue
        dst, row0, dst_len = out_flat, i - i, out_len  # output row r starts at (r - row0) * dst_len of dst
        if buffered:
            at = (x.ctypes.data + rows[i] * row_len * x.itemsize + shift - rows_buf.ctypes.data) % 4096 // out.itemsize
            dst, row0, dst_len = rows_buf[at : at + block * row_len], i, row_len
        g = i  # rows i .. g-1 in blocked sweeps, the rest in flat passes
        if square > 0:
            while g + ROWS <= b:
                src0, dst0 = rows[g] * row_len + (jl - left) * c, (g - row0) * dst_len + jl * c
                for j0 in range(0, m, _BLOCK_COLUMNS):  # each pass finds its rows' partial sums in the L1 cache
                    apply_blocked(dst, flat, src0 + j0, dst0 + j0, row_len, dst_len, c, ws, min(_BLOCK_COLUMNS, m - j0), square)
                g += ROWS
        # the rest: one flat pass over rows as long as the input's, else a pass (or a few) a row
        for r in range(g, b if narrow and not buffered else min(b, g + 1)):
            for t in range(toff.shape[0]):
                starts[t] = (rows[r] + trow[t]) * row_len + toff[t] + (jl - left) * c
            first = (r - row0) * dst_len + jl * c
            end = first + m if narrow and not buffered else (b - 1 - row0) * dst_len + jr * c
            step = end - first if toff.shape[0] <= 16 else _PASS_ELEMENTS  # several passes: over L1-sized parts
            for a in range(first, end, max(1, step)):
                apply_taps(dst[a : min(end, a + step)], flat, a - first, starts, ws)
        if buffered:
            for r in range(i, b):
                o, a = r * out_len + jl * c, (r - i) * row_len + jl * c
                row, computed = out_flat[o : o + m], dst[a : a + m]
                for j in range(m):  # (vectorised, where an assignment of slices copied element by element)
                    row[j] = computed[j]
        if jl > 0:
            _edge_strip(x, c, rows, cols, v, i, b, span, jl - jl, jl, span_w, trow, toff, ws, out, strip, scratch, sstarts)
        if ow > jr:
            _edge_strip(x, c, rows, cols, v, i, b, span, jr, ow, span_w, trow, toff, ws, out, strip, scratch, sstarts)
        _divide(out_flat[i * out_len : b * out_len], divisor)  # every value of the block's rows is written: once each
        if flags.shape[0] > 0:  # the block's rows in one sweep (only whether any flag is raised is read)
            screen_row(out_flat[i * out_len : b * out_len], flags, i)
        i = b
    alive(starts_memory, rows_buf_memory, strip_memory, scratch_memory, sstarts_memory)


#: :func:`dense_direct` writes output rows narrower than the input's in place from this many values up
#: (the rows of a blocked sweep: ``costs.BLOCKED_MIN_VALUES``); shorter ones through a buffer of
#: :data:`_NARROW_ELEMENTS` values, copied out.  "valid", float32, 1 thread, the loop alone, medians
#: (session script, 2026-12-03, this Xeon): 256^2 3x3 buffered 54-57 us, through the ring 97 ("same" in
#: place 55); 2048^2 3x3 in place 3.99 ms, buffered 5.9, the ring 7.0-7.3 ("same" 4.08); 2048^2 7x7 in
#: place 15.9 ms, the ring 22.6 ("same" 16.8)
_NARROW_IN_PLACE_VALUES = 1536
_NARROW_ELEMENTS = 49152


#: output values per row of a blocked sweep of :func:`dense_direct` (:data:`.taps.ROWS` rows of 8 KiB
#: of float32: the partial sums stay in the L1 cache from pass to pass)
_BLOCK_COLUMNS = 2048
#: output values per flat pass of :func:`dense_direct`, and per pair of edge strips (512 KiB of
#: float32: still in the L2 cache when the edges and the screen come back to them; 256^2 in one)
_FLAT_ELEMENTS = 131072
#: output values per tap pass within that when a kernel takes several passes (more than 16 taps):
#: each pass finds the partial sums in the L1 cache (2048^2, 1 thread, in place / ring: 9x9 0.92 -> 0.85,
#: 11x11 1.00 -> 0.90)
_PASS_ELEMENTS = 8192


@njit(**JIT, inline="always")
def _divide(row, divisor):
    """``row /= divisor`` in the row's dtype, unless ``divisor`` is 1.0 (then one comparison a row).

    A kernel of whole numbers over a whole number d (``box:10``: ones / 100, :func:`.forms.divided`)
    comes as its whole numbers, and each output's sum is divided once: on whole-number data
    within the dtype's exact range the sum is exact, and the quotient the one correctly rounded
    value (an exact tie stays a tie: 7350 / 100 is 73.5, where summing the taps times 0.01 gave
    73.49999), the same on every path.  A true division (d is exactly a float32: :data:`.forms.DIVISOR_LIMIT`),
    never a multiplication by a reciprocal: the loops are compiled without fast-math.
    """
    if divisor != 1.0:
        d = row.dtype.type(divisor)
        for j in range(row.shape[0]):
            row[j] = row[j] / d


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


@njit(**JIT)
def _edge_strip(x, c, rows, cols, fill, i, b, span, j0, j1, span_w, trow, toff, ws, out, strip, scratch, starts):
    """Output columns ``j0:j1`` of rows ``i:b``: the padded columns they read, ``j0 .. j1+span_w-2``
    of padded rows ``i .. b+span-2``, copied into a narrow strip, one flat tap pass over it (the
    strip's last ``span_w - 1`` columns of each row give values that are thrown away), copied out."""
    width = (j1 - j0 + span_w - 1) * c
    n = b - i
    # loops run down the rows (a few columns each): a short row loop would cost more in
    # vectorisation checks than it copies
    for p in range(j1 - j0 + span_w - 1):
        col = cols[j0 + p]
        for ch in range(c):
            d = p * c + ch
            for r in range(n + span - 1):
                src = rows[i + r]
                strip[r * width + d] = fill if src < 0 or col < 0 else x[src, col * c + ch]
    for t in range(toff.shape[0]):
        starts[t] = trow[t] * width + toff[t]
    m = (j1 - j0) * c
    apply_taps(scratch[: (n - 1) * width + m], strip, 0, starts, ws)
    for j in range(m):
        for r in range(n):
            out[i + r, j0 * c + j] = scratch[r * width + j]


@njit(**JIT)
def separable_direct(x, channels, rows, cols, fill, left, stride_h, vrow, vws, hoff, hws, divisor, out, flags, i0, i1):
    """Like :func:`separable_rows` at stride 1 across, reading the input rows in place (``x`` in out's dtype).

    The vertical pass writes the interior of one padded row buffer straight from the
    input rows; the buffer's border cells then copy the columns they mirror (a column
    map commutes with a vertical sum), or take the fill times the vertical weights.
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    wp = cols.shape[0]
    x, rows, cols, out, flags = borrowed(x), borrowed(rows), borrowed(cols), borrowed(out), borrowed(flags)
    vrow, vws, hoff, hws = borrowed(vrow), borrowed(vws), borrowed(hoff), borrowed(hws)
    flat = x.reshape(-1)
    tmp_memory, zero_memory = np.empty(wp * c, dtype=out.dtype), np.zeros_like(vrow)
    starts_memory, wsel_memory = np.empty_like(vrow), np.empty_like(vws)
    tmp, zero, starts, wsel = borrowed(tmp_memory), borrowed(zero_memory), borrowed(starts_memory), borrowed(wsel_memory)
    inner = tmp[left * c : (left + w) * c]
    v = out.dtype.type(fill)
    total = out.dtype.type(0)
    for t in range(vws.shape[0]):
        total += vws[t]
    edge = out.dtype.type(total * v)
    if v == 0:  # the signed zero of the products' sum, as the ring gives it ([1, -2] times +0.0 is +0.0, not -0.0)
        edge = vws[0] * v
        for t in range(1, vws.shape[0]):
            edge += vws[t] * v
    for i in range(i0, i1):
        n, fill_weight = _select_rows(starts, wsel, rows, vrow, zero, vws, i * stride_h, row_len)
        apply_taps(inner, flat, 0, starts[:n], wsel[:n])
        if fill_weight != 0.0 and v != 0:
            add = out.dtype.type(fill_weight * v)
            for j in range(inner.shape[0]):
                inner[j] += add
        elif v == 0 and n < vws.shape[0]:
            # the fill rows' products are zeros, left out above: a +0.0 among them makes a -0.0 sum +0.0,
            # and with no other tap they are the whole sum (apply_taps gave +0.0), as the ring sums every product
            signed = _fill_zero(rows, vrow, vws, i * stride_h, v)
            if n == 0 or not np.signbit(signed):
                for j in range(inner.shape[0]):
                    inner[j] = signed if n == 0 else inner[j] + signed
        _border_cells(tmp, inner, cols, c, edge, 0, left)
        _border_cells(tmp, inner, cols, c, edge, left + w, wp)
        apply_taps(out[i], tmp, 0, hoff, hws)
        _divide(out[i], divisor)
        screen_row(out[i], flags, i)
    alive(tmp_memory, zero_memory, starts_memory, wsel_memory)


@njit(**JIT, inline="always")
def _fill_zero(rows, trow, ws, top, v):
    """The sum of the fill rows' products ``ws[t] * v`` for a zero fill ``v``: -0.0 where each is -0.0, else +0.0."""
    total = v - v  # +0.0 of v's type, replaced by the first product
    first = True
    for t in range(trow.shape[0]):
        if rows[top + trow[t]] < 0:
            product = ws[t] * v
            total = product if first else total + product
            first = False
    return total


@njit(**JIT, inline="always")
def _border_cells(tmp, inner, cols, c, edge, p0, p1):
    """Padded pixels ``p0:p1`` of the row buffer: a copy of the column they map to, or ``edge``."""
    for p in range(p0, p1):
        col = cols[p]
        for ch in range(c):
            tmp[p * c + ch] = edge if col < 0 else inner[col * c + ch]
