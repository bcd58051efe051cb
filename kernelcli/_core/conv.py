"""Jitted direct 2-D cross-correlation over flat (H, W*C) rows: dense and separable.

Every output row is built from contiguous slices of padded input rows (see
:mod:`kernelcli._core.taps`); a tap is described by three numbers prepared once per
call: its input row relative to the window's top row, its offset into the flat row,
and its weight.  Channels ride along as interleaved columns (tap offset ``v*dil*C``).

Horizontal stride: the padded rows are stored de-interleaved by column phase
(``pad.pad_rows`` with ``stride > 1``), so the strided outputs read contiguous slices
too and only the strided outputs are computed.  Vertical stride just picks rows.

The loops are serial and release the GIL; ``threads.run_rows`` splits the rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import JIT
from .taps import apply_taps


@njit(**JIT)
def dense_rows(xp, rows, offs, ws, stride_h, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` (oh, ow*C) = taps (``rows``, ``offs``, ``ws``) over padded ``xp``."""
    for i in range(i0, i1):
        apply_taps(out[i], xp, i * stride_h, rows, offs, ws)


@njit(**JIT)
def separable_rows(xp, vrows, vws, hoffs, hws, stride_h, out, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel: a vertical pass into a row buffer, then a horizontal one.

    The vertical taps (``vrows``, ``vws``) combine whole padded rows; the horizontal taps
    (``hoffs``, ``hws``) read the buffer.  Fused per row: no intermediate image.
    """
    tmp = np.empty((1, xp.shape[1]), dtype=out.dtype)
    zero_offs = np.zeros(vrows.shape[0], dtype=np.int64)
    zero_rows = np.zeros(hoffs.shape[0], dtype=np.int64)
    for i in range(i0, i1):
        apply_taps(tmp[0], xp, i * stride_h, vrows, zero_offs, vws)
        apply_taps(out[i], tmp, 0, zero_rows, hoffs, hws)
