"""Jitted padding of flat (H, W*C) rows with every pad mode, optionally de-interleaved.

The caller maps every padded row and column to the input index it copies (or -1 for
the constant fill) with :func:`kernelcli._core.numpy_impl.source_indices`, which is
exactly numpy.pad's rule (widths larger than the input repeat the mirror or wrap).
The jitted loop copies the input's columns as one run per row and gathers only the
border cells.

For a horizontal stride ``s > 1`` the padded row is stored by column phase: ``s``
blocks of ``wq`` pixels hold padded columns ``p, p+s, p+2s, ...`` for ``p = 0..s-1``, so
a strided convolution reads contiguous slices and computes only the strided outputs.

:func:`pad_into` builds one padded row in a flat buffer; the convolution loops call it into a small ring
of rows (no padded image is ever stored), and :func:`pad_rows` writes a whole padded
image for ``pad2d`` and the FFT path.
"""

from __future__ import annotations

from .jit import njit

from .config import JIT


@njit(**JIT)
def pad_row(x, channels, r, cols, runs, wq, fill, drow):
    """Write padded row ``drow`` (s*wq*C) from input row ``r`` of ``x`` (H, W*C), or ``fill`` when ``r < 0``.

    ``cols[d]``: input column for stored pixel ``d`` (-1: fill).  ``runs[p] = (q0, q1, c0)``:
    stored pixels ``p*wq + q0 .. p*wq + q1 - 1`` copy input columns ``c0, c0 + s, ...``
    (s = ``runs.shape[0]``); the other pixels go through ``cols``.  See :func:`pad_into`.
    """
    pad_into(x, channels, r, cols, runs, wq, fill, drow, wq - wq)  # an int64 0: the loops' version


@njit(**JIT)
def pad_into(x, channels, r, cols, runs, wq, fill, dst, d0):
    """:func:`pad_row` into ``dst[d0 : d0 + s*wq*C]`` of a flat buffer (a ring, a slab).

    The bulk copy runs over slices (whose indices Numba knows to be non-negative, so LLVM
    vectorises it) and no view is made per border cell: an index ``d0 + j`` of unknown sign
    would get a wrap-around select per element, and each view costs two atomic reference
    counts (padding 258 rows of 258 floats: 35 us -> 11 us).
    """
    c = channels
    stride = runs.shape[0]
    if r < 0:
        d = dst[d0 : d0 + stride * wq * c]
        for j in range(d.shape[0]):
            d[j] = fill
        return
    if stride == 1:
        q0, q1, c0 = runs[0, 0], runs[0, 1], runs[0, 2]
        for q in range(q0):
            _gather(dst, x, r, d0 + q * c, cols[q], c, fill)
        for q in range(q1, wq):
            _gather(dst, x, r, d0 + q * c, cols[q], c, fill)
        n = (q1 - q0) * c
        d = dst[d0 + q0 * c : d0 + q0 * c + n]
        s = x[r, c0 * c : c0 * c + n]
        for j in range(n):
            d[j] = s[j]
        return
    for p in range(stride):
        q0, q1 = runs[p, 0], runs[p, 1]
        base = p * wq
        for q in range(0, q0):
            _gather(dst, x, r, d0 + (base + q) * c, cols[base + q], c, fill)
        for q in range(q1, wq):
            _gather(dst, x, r, d0 + (base + q) * c, cols[base + q], c, fill)
    if stride == 2 and c == 1:
        _deinterleave2(dst[d0 : d0 + 2 * wq], x[r], runs, wq)
    else:
        for p in range(stride):
            q0, q1, c0 = runs[p, 0], runs[p, 1], runs[p, 2]
            for q in range(q0, q1):
                sc = (c0 + (q - q0) * stride) * c
                dc = d0 + (p * wq + q) * c
                for ch in range(c):
                    dst[dc + ch] = x[r, sc + ch]


@njit(**JIT, inline="always")
def _deinterleave2(drow, srow, runs, wq):
    """Stride 2, one channel: input columns 2a and 2a+1 go to the two phases in one sweep
    (a loop LLVM vectorises with shuffles; two strided sweeps are several times slower)."""
    pe = 0 if runs[0, 2] == 0 else 1  # the phase that receives input column 0
    po = 1 - pe
    de = drow[pe * wq + runs[pe, 0] :]
    do = drow[po * wq + runs[po, 0] :]
    n = srow.shape[0]
    half = n // 2
    for a in range(half):
        de[a] = srow[2 * a]
        do[a] = srow[2 * a + 1]
    if n % 2 == 1:
        de[half] = srow[n - 1]


@njit(**JIT, inline="always")
def _gather(dst, x, r, dc, col, c, fill):
    if col < 0:
        for ch in range(c):
            dst[dc + ch] = fill
    else:
        for ch in range(c):
            dst[dc + ch] = x[r, col * c + ch]


@njit(**JIT)
def pad_rows(x, channels, rows, cols, runs, wq, fill, out, i0, i1):
    """Rows ``i0:i1`` of the padded image ``out`` (Hp, s*wq*C), casting to out's dtype; see :func:`pad_row`."""
    v = out.dtype.type(fill)
    flat = out.reshape(-1)
    row_len = out.shape[1]
    for i in range(i0, i1):
        pad_into(x, channels, rows[i], cols, runs, wq, v, flat, i * row_len)
