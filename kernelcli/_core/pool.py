"""Jitted pooling (max, min, avg) over flat (H, W*C) rows, with PyTorch's padding rules.

Padded cells never win a max/min; ``avg`` divides by the window's cells inside the padded
input (``count_include_pad``) or by the real cells only.
"""

from __future__ import annotations

from numba import njit, prange

from .config import JIT_PARALLEL

MAX, MIN, AVG = 0, 1, 2


@njit(**JIT_PARALLEL)
def pool_rows(x, channels, size, stride, pad, op, include_pad, out):
    """Pool ``x`` (H, W*C) into ``out`` (oh, ow*C); windows of ``size`` every ``stride``, ``pad`` virtual cells."""
    h = x.shape[0]
    w = x.shape[1] // channels
    oh, owc = out.shape
    ow = owc // channels
    for i in prange(oh):
        r0 = i * stride - pad
        r1 = min(r0 + size, h + pad)
        ra = max(r0, 0)
        rb = min(r1, h)
        for j in range(ow):
            c0 = j * stride - pad
            c1 = min(c0 + size, w + pad)
            ca = max(c0, 0)
            cb = min(c1, w)
            if op == AVG:
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
    return out
