"""Jitted direct 2-D cross-correlation over flat (H, W*C) rows.

Each output row accumulates, tap by tap, ``k[u, v] * row[v*d*C : v*d*C + W_out*C]``: the
inner loop runs over a contiguous slice (what lets LLVM vectorise it), channels ride
along as interleaved columns, and rows are split across threads.
"""

from __future__ import annotations

from numba import njit, prange

from .config import JIT_PARALLEL


@njit(**JIT_PARALLEL)
def correlate_rows(xp, k, channels, stride_h, stride_w, dil_h, dil_w, out):
    """Cross-correlate padded flat rows ``xp`` (Hp, Wp*C) with ``k`` (kh, kw) into ``out`` (oh, ow*C).

    ``xp``, ``k`` and ``out`` share the compute dtype; zero taps are skipped (adding
    0*x is exact for finite x).
    """
    oh, owc = out.shape
    ow = owc // channels
    kh, kw = k.shape
    for i in prange(oh):
        orow = out[i]
        for j in range(owc):
            orow[j] = 0
        for u in range(kh):
            src = xp[i * stride_h + u * dil_h]
            for v in range(kw):
                w = k[u, v]
                if w == 0:
                    continue
                off = v * dil_w * channels
                if stride_w == 1:
                    for j in range(owc):
                        orow[j] += w * src[off + j]
                else:
                    step = stride_w * channels
                    for j in range(ow):
                        base = off + j * step
                        for ch in range(channels):
                            orow[j * channels + ch] += w * src[base + ch]
    return out
