"""Keeping an FFT block's transforms inside the float range: exact power-of-two factors, per block and channel.

A block's forward transform, its product with the kernel's and the inverse can reach ``L**2 * M * S``
(``L`` values, peak ``M``, kernel sum ``S``); :func:`in_range` gives the factors that keep that under a
quarter of the dtype's largest value, :func:`block_factors` one pair per block and channel, from that
block's own window (so no block's bytes depend on values it does not read).

>>> in_range(255.0, np.ones((3, 3)), (64, 64), np.float32)
(1.0, 1.0)
"""

from __future__ import annotations

import numpy as np


def in_range(peak: float, k: np.ndarray, lengths: tuple[int, ...], dtype) -> tuple[float, float]:
    """``(down, up)``: powers of two (exact factors) that keep a block's transforms within ``dtype``'s range.

    A block of ``L`` values at most ``M = peak`` in magnitude transforms to at most ``L * M``, times the
    kernel's at most ``S = sum|k|``, and an inverse may sum ``L`` of those before it divides by ``L``:
    ``L**2 * M * S``.  Beyond a quarter of ``dtype``'s largest value, the block's window is scaled down
    before the forward transform and its result back up after the inverse (a float32 image of 1e34 under a
    21x21 blur gave infinities, the direct paths 5.7e33).  Below it (every image short of about 1e27 in
    float32): (1.0, 1.0), the transforms untouched.  Scaling by a power of two is exact but for values it
    makes subnormal, far below the FFT's own error bound for that block.  ``peak`` is the block's own (one
    channel's window, see :func:`block_factors`), so a block's bytes never depend on values it does not
    read: not on another channel, another block of its task, or where a tile begins.

    >>> in_range(1e34, np.ones((21, 21)) / 441, (128, 128), np.float32)
    (3.0517578125e-05, 32768.0)
    >>> in_range(255.0, np.ones((21, 21)), (128, 128), np.float32)
    (1.0, 1.0)
    """
    import math

    total = float(np.abs(k).sum())
    if peak == 0.0 or total == 0.0:
        return 1.0, 1.0
    log_bound = math.log2(peak) + math.log2(total) + 2 * math.log2(math.prod(lengths))
    excess = math.ceil(log_bound - math.log2(float(np.finfo(dtype).max) / 4))
    return (1.0, 1.0) if excess <= 0 else (math.ldexp(1.0, -excess), math.ldexp(1.0, excess))


def dtype_peak(dtype: np.dtype, value: float) -> float | None:
    """The largest magnitude an 8/16-bit integer input or its fill can hold (no pass over the image: a
    bound every block shares); None for other dtypes, whose blocks are measured.

    >>> dtype_peak(np.dtype(np.uint8), -300.0), dtype_peak(np.dtype(np.int16), 0.0), dtype_peak(np.dtype(np.float32), 0.0)
    (300.0, 32768.0, None)
    """
    if dtype.kind in "iu" and dtype.itemsize <= 2:
        return max(float(max(abs(np.iinfo(dtype).min), np.iinfo(dtype).max)), abs(float(value)))
    return None


def peak_of(x: np.ndarray, value: float) -> float:
    """``max |x|`` and ``|value|``: the largest magnitude a window of ``x`` padded with ``value`` holds.

    >>> peak_of(np.array([[1.0, -3.0]]), 2), peak_of(np.zeros(0), -5)
    (3.0, 5.0)
    """
    return max(float(max(abs(x.max()), abs(x.min()))) if x.size else 0.0, abs(float(value)))


def block_factors(band: np.ndarray, n: int, bw: int, lw: int, k: np.ndarray, dtype, fixed_peak: float | None):
    """``(down, up)``, each (n, C), the :func:`in_range` factors of each of the ``n`` blocks of a task's
    ``band`` (windows ``lw`` columns wide, ``bw`` apart) for each channel; None where none needs any.

    Each block's from its own window's peak in each channel (``fixed_peak`` instead for an 8/16-bit
    input: see :func:`dtype_peak`), so that the bytes of a block do not depend on which others share its
    task, nor on the other channels.  The band's largest value is tested first: when it needs no scaling,
    neither does any block's (the common case: one pass over the band, in cache).

    >>> band = np.ones((8, 10, 2), np.float32); band[0, 0, 0] = 1e36
    >>> block_factors(band, 2, 4, 6, np.ones((3, 3)), np.float32, None)[0].tolist()  # block 0, channel 0 alone
    [[0.00390625, 1.0], [1.0, 1.0]]
    """
    lengths = (band.shape[0], lw)
    if fixed_peak is not None:
        down, up = in_range(fixed_peak, k, lengths, dtype)
        if down == 1.0:
            return None
        return np.full((n, band.shape[2]), down), np.full((n, band.shape[2]), up)
    if in_range(peak_of(band, 0.0), k, lengths, dtype) == (1.0, 1.0):  # (a whole reduction: twice as fast as by column)
        return None
    columns = np.maximum(band.max(axis=0), -band.min(axis=0))  # (columns, C): each column's peak, per channel
    factors = np.array([[in_range(float(columns[t * bw : t * bw + lw, ch].max()), k, lengths, dtype)
                         for ch in range(band.shape[2])] for t in range(n)])  # (n, C, 2)
    return factors[..., 0], factors[..., 1]
