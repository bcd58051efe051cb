"""Jitted 3-D loops over (Z, Y, X) volumes: dense correlation, a 1-D pass along one axis, pooling.

Pad modes and their codes are those of :mod:`kernelcli._core.pad` (``_axis_map`` and so
``source_index`` decide which input cell a padded cell copies), so a 3-D result pads exactly
as a 2-D one does.

* ``pad_volume`` + ``correlate3d``: a dense 3-D kernel over a padded copy; output slices are
  split across threads and the innermost loop runs over a contiguous row (what lets LLVM
  vectorise it).
* ``correlate_axis``: a 1-D kernel along one axis with "same" padding, done line block by
  line block through a small scratch buffer, so ``out`` may be ``x`` itself (in place) and
  ``x`` may be an integer volume read straight into the float result.  Three such passes
  are a separable 3-D kernel (a Gaussian) at a fraction of the dense cost and memory.
* ``pool3d``: max, min or average pooling with PyTorch's padding rules, as ``pool.pool_rows``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .config import JIT, JIT_PARALLEL
from .pad import _axis_map

MAX, MIN, AVG = 0, 1, 2


@njit(**JIT_PARALLEL)
def pad_volume(x, z0, z1, y0, y1, x0, x1, mode, value, out):
    """Write ``x`` (Z, Y, X) padded by (z0, z1, y0, y1, x0, x1) into ``out``, casting to out's dtype."""
    nz, ny, nx = x.shape
    zs = _axis_map(nz, z0, z1, mode)
    ys = _axis_map(ny, y0, y1, mode)
    xs = _axis_map(nx, x0, x1, mode)
    fill = out.dtype.type(value)
    for i in prange(out.shape[0]):
        sz = zs[i]
        for j in range(out.shape[1]):
            sy = ys[j]
            dst = out[i, j]
            if sz < 0 or sy < 0:
                dst[:] = fill
                continue
            src = x[sz, sy]
            for c in range(x0):
                s = xs[c]
                dst[c] = fill if s < 0 else src[s]
            for c in range(nx):
                dst[x0 + c] = src[c]
            for c in range(x0 + nx, out.shape[2]):
                s = xs[c]
                dst[c] = fill if s < 0 else src[s]
    return out


@njit(**JIT_PARALLEL)
def correlate3d(xp, k, out):
    """Cross-correlate the padded volume ``xp`` with ``k`` (kz, ky, kx) into ``out`` (stride 1).

    Zero taps are skipped (adding 0*x is exact for finite x).
    """
    oz, oy, ox = out.shape
    kz, ky, kx = k.shape
    for z in prange(oz):
        for i in range(oy):
            orow = out[z, i]
            for j in range(ox):
                orow[j] = 0
            for a in range(kz):
                for b in range(ky):
                    src = xp[z + a, i + b]
                    for c in range(kx):
                        w = k[a, b, c]
                        if w == 0:
                            continue
                        for j in range(ox):
                            orow[j] += w * src[c + j]
    return out


@njit(**JIT_PARALLEL)
def correlate_axis(x, k, axis, mode, value, out):
    """Correlate every line of ``x`` (Z, Y, X) along ``axis`` with the 1-D ``k``; "same" output in ``out``.

    The centre tap is ``(len(k) - 1) // 2`` (an even kernel reaches one cell further after
    than before, as 2-D "same" does).  ``out`` has x's shape and may be ``x`` itself: each
    block of lines is copied, padded, into a scratch buffer before its results are written.
    """
    nz, ny, nx = x.shape
    n = k.shape[0]
    before = (n - 1) // 2
    after = n - 1 - before
    fill = out.dtype.type(value)
    if axis == 2:
        xs = _axis_map(nx, before, after, mode)
        for z in prange(nz):
            buf = np.empty(nx + n - 1, dtype=out.dtype)
            for i in range(ny):
                src = x[z, i]
                for t in range(buf.shape[0]):
                    s = xs[t]
                    buf[t] = fill if s < 0 else src[s]
                orow = out[z, i]
                for j in range(nx):
                    orow[j] = 0
                for t in range(n):
                    w = k[t]
                    if w == 0:
                        continue
                    for j in range(nx):
                        orow[j] += w * buf[t + j]
    elif axis == 1:
        ys = _axis_map(ny, before, after, mode)
        for z in prange(nz):
            buf = np.empty((ny + n - 1, nx), dtype=out.dtype)
            _gather_rows(x[z], ys, fill, buf)
            _pass_rows(buf, k, out[z])
    else:
        zs = _axis_map(nz, before, after, mode)
        for i in prange(ny):
            buf = np.empty((nz + n - 1, nx), dtype=out.dtype)
            _gather_rows(x[:, i, :], zs, fill, buf)
            _pass_rows(buf, k, out[:, i, :])
    return out


@njit(**JIT)
def _gather_rows(plane, rows, fill, buf):
    """buf[t] = plane[rows[t]] (cast), or the fill where rows[t] is -1."""
    for t in range(buf.shape[0]):
        r = rows[t]
        dst = buf[t]
        if r < 0:
            dst[:] = fill
            continue
        src = plane[r]
        for j in range(buf.shape[1]):
            dst[j] = src[j]


@njit(**JIT)
def _pass_rows(buf, k, out):
    """out[i] = sum_t k[t] * buf[i + t], row by row (contiguous inner loop over the columns)."""
    for i in range(out.shape[0]):
        orow = out[i]
        for j in range(orow.shape[0]):
            orow[j] = 0
        for t in range(k.shape[0]):
            w = k[t]
            if w == 0:
                continue
            src = buf[i + t]
            for j in range(orow.shape[0]):
                orow[j] += w * src[j]


@njit(**JIT_PARALLEL)
def pool3d(x, fz, fy, fx, sz, sy, sx, pz, py, px, op, include_pad, out):
    """Pool ``x`` (Z, Y, X) into ``out``: windows (fz, fy, fx) every (sz, sy, sx), (pz, py, px) virtual cells.

    Padded cells never win a max/min; ``avg`` divides by the window's cells inside the
    padded input (``include_pad``) or by the real cells only, as PyTorch's pooling.
    """
    nz, ny, nx = x.shape
    oz, oy, ox = out.shape
    for a in prange(oz):
        z0 = a * sz - pz
        z1 = min(z0 + fz, nz + pz)
        za = max(z0, 0)
        zb = min(z1, nz)
        for b in range(oy):
            y0 = b * sy - py
            y1 = min(y0 + fy, ny + py)
            ya = max(y0, 0)
            yb = min(y1, ny)
            for c in range(ox):
                x0 = c * sx - px
                x1 = min(x0 + fx, nx + px)
                xa = max(x0, 0)
                xb = min(x1, nx)
                if op == AVG:
                    acc = 0.0
                    for z in range(za, zb):
                        for y in range(ya, yb):
                            for i in range(xa, xb):
                                acc += x[z, y, i]
                    if include_pad:
                        divisor = (z1 - z0) * (y1 - y0) * (x1 - x0)
                    else:
                        divisor = (zb - za) * (yb - ya) * (xb - xa)
                    out[a, b, c] = acc / divisor
                else:
                    best = x[za, ya, xa]
                    for z in range(za, zb):
                        for y in range(ya, yb):
                            for i in range(xa, xb):
                                v = x[z, y, i]
                                if (op == MAX and v > best) or (op == MIN and v < best):
                                    best = v
                    out[a, b, c] = best
    return out
