"""Jitted padding of flat (H, W*C) rows with every pad mode, optionally de-interleaved.

The caller maps every padded row and column to the input index it copies (or -1 for
the constant fill) with :func:`kernelcli._core.numpy_impl.source_indices`, which is
exactly numpy.pad's rule (widths larger than the input repeat the mirror or wrap).
The jitted loop copies the input's columns as one contiguous run per row and only
gathers the few border cells.

For a horizontal stride ``s > 1`` the padded row is stored by column phase: the ``s``
blocks hold padded columns ``p, p+s, p+2s, ...`` for ``p = 0..s-1`` (each ``wq`` pixels
long), so a strided convolution reads contiguous slices.  The de-interleaving happens
during this copy, which is needed anyway (the compute dtype differs from the input's).
"""

from __future__ import annotations

from numba import njit

from .config import JIT


@njit(**JIT)
def pad_rows(x, channels, rows, cols, runs, wq, fill, out, i0, i1):
    """Write rows ``i0:i1`` of the padded ``out`` (Hp, s*wq*C) from ``x`` (H, W*C), casting to out's dtype.

    ``rows[i]``/``cols[d]``: input row/column for padded row ``i``/stored pixel ``d`` (-1: fill).
    ``runs[p] = (q0, q1, c0)``: stored pixels ``p*wq + q0 .. p*wq + q1 - 1`` of phase ``p`` copy input
    columns ``c0, c0 + s, ...`` (s = ``runs.shape[0]``); every other pixel is gathered through ``cols``.
    """
    c = channels
    stride = runs.shape[0]
    v = out.dtype.type(fill)
    for i in range(i0, i1):
        drow = out[i]
        r = rows[i]
        if r < 0:
            drow[:] = v
            continue
        srow = x[r]
        for p in range(stride):
            q0, q1, c0 = runs[p, 0], runs[p, 1], runs[p, 2]
            base = p * wq
            for q in range(0, q0):
                _gather(drow, srow, (base + q) * c, cols[base + q], c, v)
            if stride == 1:
                d = drow[(base + q0) * c : (base + q1) * c]
                s = srow[c0 * c : (c0 + q1 - q0) * c]
                for j in range(d.shape[0]):
                    d[j] = s[j]
            elif c == 1:
                d = drow[base + q0 : base + q1]
                s = srow[c0:]
                for j in range(q1 - q0):
                    d[j] = s[j * stride]
            else:
                for q in range(q0, q1):
                    sc = (c0 + (q - q0) * stride) * c
                    dc = (base + q) * c
                    for ch in range(c):
                        drow[dc + ch] = srow[sc + ch]
            for q in range(q1, wq):
                _gather(drow, srow, (base + q) * c, cols[base + q], c, v)


@njit(**JIT)
def _gather(drow, srow, dc, col, c, v):
    if col < 0:
        for ch in range(c):
            drow[dc + ch] = v
    else:
        for ch in range(c):
            drow[dc + ch] = srow[col * c + ch]
