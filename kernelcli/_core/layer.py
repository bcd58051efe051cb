"""Jitted convolution layer: a filter bank over a channels-last image, with bias and activation.

Two passes over rows; the loops are serial and release the GIL, and
:func:`kernelcli._core.threads.run_rows` gives each thread a block of rows ``i0:i1``:

1. :func:`planarize` pads, casts and de-interleaves the input once into
   ``xq[c, r, phase, idx]`` = padded pixel (r, idx*s + phase) of channel c (s: the
   horizontal stride).  Every filter tap then reads one contiguous run
   ``xq[c, r, (v*d) % s, (v*d)//s :]`` whatever the stride and dilation, which is what
   lets LLVM vectorise the inner loop (a run-time stride inside the loop costs 7-13x;
   see the performance anchors).
2. :func:`layer_rows` accumulates, for each output row and filter, the filter's taps into
   a (K, W_out) row buffer, four taps per pass over the row (one load and store of the
   buffer per four taps instead of per tap), then adds the bias, applies the activation
   and writes the row into the (H_out, W_out, K) output.

Each tap is added with :func:`.simd.muladd`: a fused multiply-add (one rounding) in float32,
as oneDNN's kernels compute, a multiply then an add in float64 (:data:`.config.FUSED_DTYPES`).
In float32 that halves the arithmetic instructions of the blocked loop (512x512x3 -> 16 filters
3x3, one thread: 0.56-0.86 of the time, 2026-12-03; a loop of nothing else does 5.4 G fused
multiply-adds a second against 3.3 G multiplies each followed by an add, one core of the Xeon of
2026-12-04); the plain-numpy path rounds each tap once too (:mod:`.fused`).

The taps come as a table (see ``kernelcli.layer_jit._tap_table``): per filter, its non-zero
weights in the order channel, row, column, each with where its run starts.  Every output
value is summed in that order, tap by tap, which is also the plain-numpy path's order.

:func:`blocked_rows` replaces both passes when filters come in blocks (see
``kernelcli.layer_jit._block_table``): for a chunk of output rows it pads the input rows their
windows read, each once, channels-last, into a small slab (no padded or planarised copy of the
image), and computes a block of filters one vector wide for a block of output columns at a
time, the sums held in registers (:mod:`.layer_blocks`), in the same order and with the same
roundings as pass 2, so both give the same numbers.  It writes the channels-last output
directly (pass 2 transposes its (K, W') rows into it).  The blocks are inlined into it, and
Numba's cache knows only this file: a change to :mod:`.layer_blocks`, to :mod:`.simd`'s
intrinsics or to :data:`.config.FUSED_DTYPES` takes effect in a cache built before it once this
file changes too.
"""

from __future__ import annotations

import math

import numpy as np
from .jit import njit

from .config import JIT, LEAKY_RELU, NONE, RELU, SIGMOID, TANH
from .layer_blocks import sweep
from .pad import pad_into
from .retype import alive, borrowed
from .screen import screen_row
from .simd import muladd, stream_fence

#: columns of the tap table: input channel, row offset u*dilation, column phase, run start
CHANNEL, ROW, PHASE, START = range(4)


@njit(**JIT)
def planarize(x, rows, cols, value, xq, i0, i1):
    """Fill rows ``i0:i1`` of ``xq`` (C, Hq, s, Wq) from ``x`` (H, W, C), padded, cast and de-interleaved.

    ``rows[r]`` and ``cols[q]`` are the input row and column that padded row r and
    padded column q copy (-1: the fill ``value``); ``xq[c, r, p, idx]`` holds padded
    column ``idx*s + p``.
    """
    x, rows, cols, planes = borrowed(x), borrowed(rows), borrowed(cols), borrowed(xq)
    channels = x.shape[2]
    stride_w = xq.shape[2]
    wq = xq.shape[3]
    fill = xq.dtype.type(value)
    for r in range(i0, i1):
        sr = rows[r]
        for ch in range(channels):
            for ph in range(stride_w):
                dst = planes[ch, r, ph]
                if sr < 0:
                    dst[:] = fill
                    continue
                src = x[sr]
                for idx in range(wq):
                    sc = cols[idx * stride_w + ph]
                    dst[idx] = fill if sc < 0 else src[sc, ch]
    return xq


@njit(**JIT)
def _run(xq, tap, r0, ow):
    """The contiguous input run that ``tap`` multiplies for output row starting at padded row ``r0``."""
    start = tap[START]
    return xq[tap[CHANNEL], r0 + tap[ROW], tap[PHASE], start : start + ow]


@njit(**JIT)
def layer_rows(xq, taps, weights, counts, bias, stride_h, act, slope, out, i0, i1):
    """Fill rows ``i0:i1`` of ``out`` (oh, ow, K) with ``act(sum of taps + bias)``.

    ``xq`` comes from :func:`planarize`; filter k has ``counts[k]`` taps: rows
    ``taps[k, :counts[k]]`` (channel, row offset, phase, start) with ``weights[k, t]``.
    All float arrays share one dtype; ``slope`` is leaky_relu's below zero.
    """
    xq, taps, weights = borrowed(xq), borrowed(taps), borrowed(weights)
    counts, bias, rows_out = borrowed(counts), borrowed(bias), borrowed(out)  # (out itself is returned)
    ow, nk = out.shape[1], out.shape[2]
    buf_memory = np.empty((nk, ow), dtype=out.dtype)
    buf = borrowed(buf_memory)
    for i in range(i0, i1):
        r0 = i * stride_h
        for k in range(nk):
            row = buf[k]
            row[:] = 0
            wk = weights[k]
            tk = taps[k]
            n = counts[k]
            t = 0
            # Four taps per pass; the adds stay in tap order (acc + w0*a, then + w1*b, ...).
            while t + 4 <= n:
                a = _run(xq, tk[t], r0, ow)
                b = _run(xq, tk[t + 1], r0, ow)
                c = _run(xq, tk[t + 2], r0, ow)
                d = _run(xq, tk[t + 3], r0, ow)
                w0, w1, w2, w3 = wk[t], wk[t + 1], wk[t + 2], wk[t + 3]
                for j in range(ow):
                    acc = row[j]
                    acc = muladd(acc, w0, a[j])
                    acc = muladd(acc, w1, b[j])
                    acc = muladd(acc, w2, c[j])
                    acc = muladd(acc, w3, d[j])
                    row[j] = acc
                t += 4
            if n - t == 3:
                a = _run(xq, tk[t], r0, ow)
                b = _run(xq, tk[t + 1], r0, ow)
                c = _run(xq, tk[t + 2], r0, ow)
                w0, w1, w2 = wk[t], wk[t + 1], wk[t + 2]
                for j in range(ow):
                    acc = row[j]
                    acc = muladd(acc, w0, a[j])
                    acc = muladd(acc, w1, b[j])
                    acc = muladd(acc, w2, c[j])
                    row[j] = acc
            elif n - t == 2:
                a = _run(xq, tk[t], r0, ow)
                b = _run(xq, tk[t + 1], r0, ow)
                w0, w1 = wk[t], wk[t + 1]
                for j in range(ow):
                    acc = row[j]
                    acc = muladd(acc, w0, a[j])
                    acc = muladd(acc, w1, b[j])
                    row[j] = acc
            elif n - t == 1:
                a = _run(xq, tk[t], r0, ow)
                w0 = wk[t]
                for j in range(ow):
                    row[j] = muladd(row[j], w0, a[j])
            _finish(row, bias[k], act, slope)
        orow = rows_out[i]
        for j in range(ow):
            for k in range(nk):
                orow[j, k] = buf[k, j]
    alive(buf_memory)
    return out


@njit(**JIT)
def blocked_rows(x, channels, rows, cols, runs, wq, fill, needed, chunk, span, offs, wb, n_taps, first, used, bias,
                 stride_h, stride_w, act, slope, stream, out, flags, i0, i1):
    """Fill rows ``i0:i1`` of ``out`` (oh, ow, K) with ``act(sum of taps + bias)``, one block of filters at a time.

    ``x`` (H, W*C), ``rows``, ``cols``, ``runs``, ``wq``, ``fill``: the input and how it is padded
    (see :func:`.pad.pad_row`).  The output rows go ``chunk`` at a time: the padded rows their
    windows read (``needed[p]``: some window reads padded row p) are built once, channels-last, into
    a slab of consecutive padded rows (a window spans ``span`` of them), and output row i's windows
    start at its first padded row ``i*stride_h`` there.  Block b is filters ``first[b] : first[b] + used[b]``: its
    ``n_taps[b]`` taps read the slab at ``offs[b, t] + j*stride_w*C`` from there for output column j,
    with weights ``wb[b, t*lanes : (t+1)*lanes]``; ``bias[b]`` is one vector.  ``stream``: write whole
    vectors past the caches (``out`` and every block aligned to a register; see :func:`.simd.vstream`),
    which are fenced before returning.  ``flags`` (one per padded row, or empty: not screening):
    ``flags[p]`` is raised when padded row p holds a NaN or an infinity (:mod:`.screen`), checked
    while the row is in cache.

    Unlike the convolution row loops it does not work on :func:`.retype.borrowed` arrays: their reference
    counts cost it 3% of its time, but borrowed, LLVM allocated the registers of the register-blocked
    loop differently (one more reload from the stack a tap) and it ran 4-6% slower (16 filters, one
    thread, five alternating rounds, 2026-12-04).
    """
    ow, nk = out.shape[1], out.shape[2]
    of = out.reshape(out.size)
    row_len = wq * channels
    slab = np.empty(((chunk - 1) * stride_h + span) * row_len, dtype=out.dtype)
    v = out.dtype.type(fill)
    step_in = stride_w * channels
    for c0 in range(i0, i1, chunk):
        c1 = min(c0 + chunk, i1)
        p0 = c0 * stride_h
        for p in range(p0, (c1 - 1) * stride_h + span):
            if needed[p]:
                d0 = (p - p0) * row_len
                pad_into(x, channels, rows[p], cols, runs, wq, v, slab, d0)
                screen_row(slab[d0 : d0 + row_len], flags, p)
        for i in range(c0, c1):
            base = (i - c0) * stride_h * row_len
            o = i * ow * nk
            for b in range(offs.shape[0]):
                sweep(slab, offs[b], wb[b], n_taps[b], base, step_in, bias[b], of, o + first[b], nk, used[b], stream, ow)
            if act != NONE:
                _activate(of[o : o + ow * nk], act, slope)
    if stream:
        stream_fence()
    return out


@njit(**JIT)
def _finish(row, b, act, slope):
    """Add the bias and apply the activation to one row, in the row's dtype."""
    for j in range(row.shape[0]):
        row[j] += b
    _activate(row, act, slope)


@njit(**JIT)
def _activate(row, act, slope):
    """Apply the activation to one row in place, in the row's dtype (NONE: nothing)."""
    one = row.dtype.type(1)
    if act == RELU:
        for j in range(row.shape[0]):
            v = row[j]
            row[j] = v if v > 0 else v - v
    elif act == LEAKY_RELU:
        s = row.dtype.type(slope)  # in the row's dtype: float32 stays float32
        for j in range(row.shape[0]):
            v = row[j]
            row[j] = v if v >= 0 else v * s
    elif act == SIGMOID:
        for j in range(row.shape[0]):
            v = row[j]
            # the two forms keep exp from overflowing for large |v|
            if v >= 0:
                row[j] = one / (one + math.exp(-v))
            else:
                e = math.exp(v)
                row[j] = e / (one + e)
    elif act == TANH:
        for j in range(row.shape[0]):
            row[j] = math.tanh(row[j])

