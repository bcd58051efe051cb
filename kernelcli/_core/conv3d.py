"""3-D loops over (Z, Y, X) volumes: dense correlation, a 1-D pass along one axis, pooling.

The jitted loops are serial, release the GIL and take a block ``i0:i1`` of slices;
:func:`kernelcli._core.threads.run_rows` runs one block per thread (over z, or over y for
a pass along z).  Padding follows the 2-D core exactly: every padded index is mapped to
the input index it copies by :func:`kernelcli._core.numpy_impl.source_indices` (numpy.pad's
rule, -1 for the constant fill), and the loops gather through those maps.

* :func:`correlate3d`: a dense 3-D kernel over a padded copy; the innermost loop runs over
  a contiguous row (what lets LLVM vectorise it).
* :func:`correlate_axis`: a 1-D kernel along one axis, "same" output, done line block by
  line block through a small scratch buffer, so ``out`` may be ``x`` itself (in place) and
  ``x`` may be an integer volume read straight into the float result.  Three passes make a
  separable 3-D kernel (Gaussian, box, Sobel) at a fraction of the dense cost and memory.
* :func:`pool3d`: max, min or average pooling with PyTorch's padding rules.
"""

from __future__ import annotations

import numpy as np
from .jit import njit

from . import threads
from .config import AVG, JIT, MAX, MIN
from .memo import read_only
from .numpy_impl import source_indices


def _noop(dispatcher, *dtypes) -> None:
    """Default ``announce``: the API passes one that says "compiling..." before a first compile."""


# ---------------------------------------------------------------- jitted blocks


@njit(**JIT)
def _pad_block(x, zs, ys, xs, value, out, i0, i1):
    """Padded slices ``i0:i1`` of ``out`` from ``x`` through the index maps (cast to out's dtype)."""
    fill = out.dtype.type(value)
    for i in range(i0, i1):
        sz = zs[i]
        for j in range(out.shape[1]):
            sy = ys[j]
            dst = out[i, j]
            if sz < 0 or sy < 0:
                dst[:] = fill
                continue
            src = x[sz, sy]
            for c in range(out.shape[2]):
                s = xs[c]
                dst[c] = fill if s < 0 else src[s]


@njit(**JIT)
def _dense_block(xp, k, out, i0, i1):
    """Output slices ``i0:i1``: ``out[z, i, j] = sum k[a, b, c] * xp[z+a, i+b, j+c]``; zero taps skipped."""
    oy, ox = out.shape[1], out.shape[2]
    kz, ky, kx = k.shape
    for z in range(i0, i1):
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


@njit(**JIT)
def _rows_pass(buf, k, out):
    """out[i] = sum_t k[t] * buf[i + t] for every row i (a contiguous inner loop over columns)."""
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


@njit(**JIT)
def _gather_rows(plane, rows, fill, buf):
    """buf[t] = plane[rows[t]] (cast to buf's dtype), or the fill where rows[t] is -1."""
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
def _pass_x(x, k, xs, value, out, i0, i1):
    """A pass along x over slices ``i0:i1``: each row is padded into a scratch row, then filtered."""
    n = k.shape[0]
    nx = x.shape[2]
    fill = out.dtype.type(value)
    buf = np.empty(xs.shape[0], dtype=out.dtype)
    for z in range(i0, i1):
        for i in range(x.shape[1]):
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


@njit(**JIT)
def _pass_y(x, k, ys, value, out, i0, i1):
    """A pass along y over slices ``i0:i1``: each (Y, X) slice is padded into scratch, then filtered."""
    fill = out.dtype.type(value)
    buf = np.empty((ys.shape[0], x.shape[2]), dtype=out.dtype)
    for z in range(i0, i1):
        _gather_rows(x[z], ys, fill, buf)
        _rows_pass(buf, k, out[z])


@njit(**JIT)
def _pass_z(x, k, zs, value, out, i0, i1):
    """A pass along z over rows ``i0:i1`` of y: each (Z, X) plane is padded into scratch, then filtered."""
    fill = out.dtype.type(value)
    buf = np.empty((zs.shape[0], x.shape[2]), dtype=out.dtype)
    for i in range(i0, i1):
        _gather_rows(x[:, i, :], zs, fill, buf)
        _rows_pass(buf, k, out[:, i, :])


@njit(**JIT)
def _pool_block(x, fz, fy, fx, sz, sy, sx, pz, py, px, op, include_pad, out, i0, i1):
    """Output slices ``i0:i1`` of pooling; padded cells never win a max/min."""
    nz, ny, nx = x.shape
    oy, ox = out.shape[1], out.shape[2]
    for a in range(i0, i1):
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
                if op == AVG:  # PyTorch's sum (see .pool): from 0, in the result's dtype, row by row
                    acc = out.dtype.type(0.0)
                    for z in range(za, zb):
                        for y in range(ya, yb):
                            for i in range(xa, xb):
                                acc += x[z, y, i]
                    if include_pad:
                        divisor = (z1 - z0) * (y1 - y0) * (x1 - x0)
                    else:
                        divisor = (zb - za) * (yb - ya) * (xb - xa)
                    out[a, b, c] = acc / out.dtype.type(divisor)
                else:
                    best = x[za, ya, xa]
                    for z in range(za, zb):
                        for y in range(ya, yb):
                            for i in range(xa, xb):
                                v = x[z, y, i]
                                if (op == MAX and v > best) or (op == MIN and v < best):
                                    best = v
                    out[a, b, c] = best


# ---------------------------------------------------------------- drivers


def pad_volume(x: np.ndarray, widths: tuple[int, ...], mode: int, value: float, dtype: np.dtype, announce=_noop) -> np.ndarray:
    """``x`` (Z, Y, X) padded by ``widths`` = (z0, z1, y0, y1, x0, x1) with pad-mode code ``mode``, in ``dtype``.

    ``announce(dispatcher, *dtypes)`` is called before each jitted loop runs (as in :mod:`.engine`).
    """
    z0, z1, y0, y1, x0, x1 = widths
    nz, ny, nx = x.shape
    zs = source_indices(nz, z0, z1, mode)
    ys = source_indices(ny, y0, y1, mode)
    xs = source_indices(nx, x0, x1, mode)
    out = np.empty((zs.size, ys.size, xs.size), dtype=dtype)
    announce(_pad_block, x.dtype, out.dtype)
    threads.run_rows(_pad_block, out.shape[0], np.ascontiguousarray(x), zs, ys, xs, float(value), out)
    return out


def correlate3d(
    x: np.ndarray, k: np.ndarray, widths: tuple[int, ...], mode: int, value: float, dtype: np.dtype,
    out_shape: tuple[int, int, int], announce=_noop,
) -> np.ndarray:
    """Dense stride-1 correlation of ``x`` with ``k`` (kz, ky, kx) after padding by ``widths``."""
    xp = pad_volume(x, widths, mode, value, dtype, announce)
    out = np.empty(out_shape, dtype=dtype)
    announce(_dense_block, dtype, dtype)
    threads.run_rows(_dense_block, out_shape[0], xp, np.ascontiguousarray(k, dtype=dtype), out)
    return out


def correlate_axis(x: np.ndarray, k: np.ndarray, axis: int, mode: int, value: float, out: np.ndarray, announce=_noop) -> np.ndarray:
    """Correlate every line of ``x`` along ``axis`` (0=z, 1=y, 2=x) with the 1-D ``k``; "same" output in ``out``.

    The centre tap is ``(len(k) - 1) // 2`` (an even kernel reaches one cell further after
    than before, as 2-D "same").  ``out`` has x's shape and may be ``x`` itself.
    """
    n = k.shape[0]
    before = (n - 1) // 2
    indices = source_indices(x.shape[axis], before, n - 1 - before, mode)
    kc = read_only(np.ascontiguousarray(k, dtype=out.dtype))  # as remembered factors come: one compiled version
    loop = (_pass_z, _pass_y, _pass_x)[axis]
    announce(loop, x.dtype, out.dtype)
    threads.run_rows(loop, x.shape[1] if axis == 0 else x.shape[0], x, kc, indices, float(value), out)
    return out


def pool3d(
    x: np.ndarray, f: tuple[int, int, int], s: tuple[int, int, int], p: tuple[int, int, int], op: int,
    include_pad: bool, out: np.ndarray, announce=_noop,
) -> np.ndarray:
    """Pool ``x`` into ``out``: windows ``f`` every ``s``, ``p`` virtual cells per side (z, y, x)."""
    announce(_pool_block, x.dtype, out.dtype)
    threads.run_rows(_pool_block, out.shape[0], np.ascontiguousarray(x), *f, *s, *p, op, bool(include_pad), out)
    return out
