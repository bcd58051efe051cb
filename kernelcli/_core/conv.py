"""Jitted direct 2-D cross-correlation over flat (H, W*C) rows: dense and separable.

Each thread walks a block of output rows.  The padded input rows a window needs are
built on the fly (:func:`pad.pad_row`, which also casts to the compute dtype) into a
small ring of ``span`` rows (padded row r in slot r % span): no padded image is
stored, and the taps (:mod:`kernelcli._core.taps`) read contiguous slices of the ring.

A tap is described by its row in the window, its offset along the flat row and its
weight; its flat position in the ring is worked out once per output row.  Channels ride along as interleaved
columns (column offset ``v*dil*C``); for a horizontal stride the padded rows are stored
by column phase, so only the strided outputs are computed.  A vertical stride just
skips rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import JIT
from .pad import pad_row
from .taps import apply_taps


@njit(**JIT)
def _advance(x, channels, rows, cols, runs, wq, fill, span, row_len, ring, loaded, top):
    """Make padded rows ``top .. top+span-1`` present in ``ring`` (row r in slot r % span); return the last loaded."""
    for r in range(max(top, loaded + 1), top + span):
        slot = r % span
        pad_row(x, channels, rows[r], cols, runs, wq, fill, ring[slot * row_len : (slot + 1) * row_len])
    return top + span - 1


@njit(**JIT)
def _locate(starts, trow, toff, top, span, row_len):
    """Flat offsets in the ring of taps at window rows ``trow`` and row offsets ``toff``."""
    for t in range(trow.shape[0]):
        starts[t] = ((top + trow[t]) % span) * row_len + toff[t]


@njit(**JIT)
def dense_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, trow, toff, ws, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C) from input ``x`` (H, W*C), taps at (``trow``, ``toff``) with weights ``ws``.

    ``rows``/``cols``/``runs``/``wq``/``fill`` describe the padding (see :func:`pad.pad_row`);
    ``span`` is the number of padded rows one window covers.
    """
    row_len = runs.shape[0] * wq * channels
    ring = np.empty(span * row_len, dtype=out.dtype)
    starts = np.empty_like(toff)
    v = out.dtype.type(fill)
    loaded = -1
    for i in range(i0, i1):
        top = i * stride_h
        loaded = _advance(x, channels, rows, cols, runs, wq, v, span, row_len, ring, loaded, top)
        _locate(starts, trow, toff, top, span, row_len)
        apply_taps(out[i], ring, 0, starts, ws)


@njit(**JIT)
def separable_rows(x, channels, rows, cols, runs, wq, fill, span, stride_h, vrow, vws, hoff, hws, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel: a vertical pass into a row buffer, then a horizontal one.

    The vertical taps (window rows ``vrow``) combine whole padded rows; the horizontal
    taps (row offsets ``hoff``) read the buffer.  ``kh + kw`` taps per output instead of ``kh * kw``.
    """
    row_len = runs.shape[0] * wq * channels
    ring = np.empty(span * row_len, dtype=out.dtype)
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
