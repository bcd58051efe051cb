"""Jitted convolution layer: a filter bank (K, C/groups, kh, kw) over a channels-last image.

Two passes, both split across threads by rows:

1. ``planarize`` pads, casts and de-interleaves the input once into
   ``xq[c, r, phase, idx]`` = padded pixel (r, idx*stride_w + phase) of channel c.  Every
   tap then reads one contiguous run ``xq[c, r, (v*d) % s, (v*d)//s :]`` for any
   stride and dilation, which is what lets LLVM vectorise the inner loop (a run-time
   stride inside the loop costs 7-13x; see the performance anchors).
2. ``layer_rows`` accumulates, per output row, each filter's map tap by tap into a
   (K, W_out) row buffer, then adds the bias, applies the activation and writes the row
   into the (H_out, W_out, K) output.

Activation codes follow :data:`ACTIVATION_CODES`; zero taps are skipped (0*x is exact
for finite x, so the sum is unchanged).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .config import JIT, JIT_PARALLEL

NONE, RELU, LEAKY_RELU, SIGMOID, TANH = range(5)

#: slope of leaky_relu for negative inputs (PyTorch's default negative_slope)
LEAKY_SLOPE = 0.01


@njit(**JIT_PARALLEL)
def planarize(x, rows, cols, value, xq):
    """Fill ``xq`` (C, Hq, s, Wq) from ``x`` (H, W, C), padded, cast and de-interleaved.

    ``rows[r]`` and ``cols[q]`` are the input row and column that padded row r and
    padded column q copy (-1: the fill ``value``); ``xq[c, r, p, idx]`` holds padded
    column ``idx*s + p``.
    """
    c = x.shape[2]
    hq = xq.shape[1]
    stride_w = xq.shape[2]
    wq = xq.shape[3]
    fill = xq.dtype.type(value)
    for r in prange(hq):
        sr = rows[r]
        for ph in range(stride_w):
            for idx in range(wq):
                sc = cols[idx * stride_w + ph]
                if sr < 0 or sc < 0:
                    for ch in range(c):
                        xq[ch, r, ph, idx] = fill
                else:
                    for ch in range(c):
                        xq[ch, r, ph, idx] = x[sr, sc, ch]
    return xq


@njit(**JIT)
def activate(v, code, one, slope):
    """One value through the activation ``code``.

    ``one`` and ``slope`` come in ``v``'s dtype, so float32 stays float32 throughout
    (a Python float literal would promote every result to float64).
    """
    if code == RELU:
        return v if v > 0 else v - v
    if code == LEAKY_RELU:
        return v if v >= 0 else v * slope
    if code == SIGMOID:
        # the two forms keep exp from overflowing for large |v|
        if v >= 0:
            return one / (one + math.exp(-v))
        e = math.exp(v)
        return e / (one + e)
    if code == TANH:
        return math.tanh(v)
    return v


@njit(**JIT_PARALLEL)
def layer_rows(xq, weights, bias, groups, stride_h, dil_h, dil_w, act, out):
    """Convolve planar ``xq`` (C, Hq, s, Wq) from :func:`planarize` with ``weights`` (K, C/groups, kh, kw).

    Writes ``act(sum + bias[k])`` into ``out`` (oh, ow, K); all arrays share one dtype.
    Filter k reads the input channels of its group, ``g*C/groups ...``, where
    ``g = k // (K/groups)``: PyTorch's grouping.
    """
    oh, ow, nk = out.shape
    cg = weights.shape[1]
    kh = weights.shape[2]
    kw = weights.shape[3]
    kg = nk // groups
    stride_w = xq.shape[2]
    one = out.dtype.type(1)
    slope = out.dtype.type(LEAKY_SLOPE)
    for i in prange(oh):
        buf = np.zeros((nk, ow), dtype=out.dtype)
        for k in range(nk):
            g = k // kg
            row = buf[k]
            for c in range(cg):
                plane = xq[g * cg + c]
                for u in range(kh):
                    r = i * stride_h + u * dil_h
                    for v in range(kw):
                        wt = weights[k, c, u, v]
                        if wt == 0:
                            continue
                        off = v * dil_w
                        base = off // stride_w
                        # a slice first: indexing src[base + j] would keep a negative-index
                        # check inside the loop and stop LLVM from vectorising it
                        src = plane[r, off % stride_w, base : base + ow]
                        for j in range(ow):
                            row[j] += wt * src[j]
        orow = out[i]
        for j in range(ow):
            for k in range(nk):
                orow[j, k] = activate(buf[k, j] + bias[k], act, one, slope)
    return out
