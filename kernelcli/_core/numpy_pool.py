"""The plain-numpy pooling of the core loops (:mod:`.pool`, :mod:`.conv3d`): the same bits on every path, PyTorch's
(a max/min picks a value; an average is PyTorch's sum in PyTorch's order, divided once by its whole cell count).

They hold the least they can beside the result: a padded copy only where a window reaches past the input (an average's
in its float dtype, one allocation), and the average's divisor one plane at a time, dividing in place, so the memory a
caller counts (:func:`kernelcli.limits.pool_peak`, :func:`kernelcli.volume_args.pool3d_takes_numpy`) is what they take.
"""

from __future__ import annotations

import numpy as np


def avg2_applies(size: int, stride: int, pad: int, h: int, w: int, oh: int, ow: int) -> bool:
    """True when an average pool takes the 2x2-every-2 sums of :func:`pool` (no padding, all inside).

    >>> avg2_applies(2, 2, 0, 5, 4, 2, 2), avg2_applies(2, 2, 1, 4, 4, 3, 3)
    (True, False)
    """
    return size == 2 and stride == 2 and pad == 0 and 2 * oh <= h and 2 * ow <= w


def _windows(op: str, dtype, taps) -> np.ndarray:
    """The max, min or sum of the views ``taps`` (each window's cells in row-major order, one view a cell).

    A sum is PyTorch's, as every jitted loop's (:mod:`.pool`): from 0, cell by cell in ``dtype`` (a padded
    cell adds 0.0 to a sum that is never -0.0: no change).  A max or min is the window's first extreme
    cell, as PyTorch's: of +0.0 and -0.0, the one that comes first.

    >>> minus_zero = np.array([-0.0], np.float32)
    >>> _windows("avg", np.dtype(np.float32), iter([minus_zero, minus_zero])), _windows("max", None, iter([minus_zero, -minus_zero]))
    (array([0.], dtype=float32), array([-0.], dtype=float32))
    """
    first = next(taps)
    out = first + dtype.type(0.0) if op == "avg" else first.copy()
    beyond = np.empty(out.shape, bool) if op != "avg" and out.dtype.kind == "f" else None
    for tap in taps:
        if beyond is not None:  # np.maximum may keep either of +0.0 and -0.0; PyTorch keeps the first
            (np.greater if op == "max" else np.less)(tap, out, out=beyond)
            np.copyto(out, tap, where=beyond)
        elif op == "max":
            np.maximum(out, tap, out=out)
        elif op == "min":
            np.minimum(out, tap, out=out)
        else:
            out += tap
    return out


def pool(x: np.ndarray, size: int, stride: int, pad: int, op: str, include_pad: bool, oh: int, ow: int, dtype) -> np.ndarray:
    """Pool ``x`` (H, W, C) into (oh, ow, C) with PyTorch's padding rules (see ``pool.pool_rows``)."""
    h, w, c = x.shape
    if op == "avg" and avg2_applies(size, stride, pad, h, w, oh, ow):  # no padded copy: four strided views
        out = np.add(x[0 : 2 * oh : 2, 0 : 2 * ow : 2], dtype.type(0.0), dtype=dtype)
        for u, v in ((0, 1), (1, 0), (1, 1)):
            out += x[u : 2 * oh : 2, v : 2 * ow : 2]
        out *= dtype.type(0.25)
        return out
    # Enough virtual cells after the input for the last window; they never count as values.
    extra_h = max(0, (oh - 1) * stride + size - pad - h)
    extra_w = max(0, (ow - 1) * stride + size - pad - w)
    xp = _padded(x, [(pad, extra_h), (pad, extra_w), (0, 0)], op, dtype)
    out = _windows(op, dtype, (xp[u : u + (oh - 1) * stride + 1 : stride, v : v + (ow - 1) * stride + 1 : stride]
                               for u in range(size) for v in range(size)))
    if op != "avg":
        return out
    r0 = np.arange(oh) * stride - pad
    c0 = np.arange(ow) * stride - pad
    if include_pad:
        rows = np.minimum(r0 + size, h + pad) - r0
        cols = np.minimum(c0 + size, w + pad) - c0
    else:
        rows = np.minimum(r0 + size, h) - np.maximum(r0, 0)
        cols = np.minimum(c0 + size, w) - np.maximum(c0, 0)
    return _divide_by_cells(out, rows, cols[:, None])


def _padded(x: np.ndarray, widths, op: str, dtype) -> np.ndarray:
    """``x`` with ``widths`` (before, after per axis) of cells no window counts (0 for a sum, the dtype's far end for a
    max or min), in ``dtype`` for an average: one allocation where ``np.pad`` of a cast held two, and none without
    widths where ``x`` is in that dtype already (every caller copies its first window).

    >>> _padded(np.array([[1, 2]], np.int16), [(0, 0), (1, 0)], "max", None)
    array([[-32768,      1,      2]], dtype=int16)
    """
    dtype = np.dtype(dtype) if op == "avg" else x.dtype
    if op == "avg":
        fill = 0
    elif x.dtype == np.bool_:  # no iinfo for bool: False never wins a max, True never a min
        fill = op == "min"
    else:
        info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
        fill = info.min if op == "max" else info.max
    if not any(before or after for before, after in widths):
        return x.astype(dtype, copy=False)
    xp = np.full([n + before + after for n, (before, after) in zip(x.shape, widths)], fill, dtype)
    xp[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, widths))] = x
    return xp


def _divide_by_cells(out: np.ndarray, first: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """``out`` divided in place by its windows' cell counts: ``first`` per index of axis 0 times ``rest`` (the other
    axes', broadcast), a run of equal ``first`` at a time: never an output-sized divisor or quotient.  The counts are
    whole numbers, exact in ``out``'s dtype, so the bytes are those of ``out / (first * rest)``.

    >>> _divide_by_cells(np.full((3, 2), 12.0), np.array([1, 2, 2]), np.array([3, 4]))
    array([[4. , 3. ],
           [2. , 1.5],
           [2. , 1.5]])
    """
    starts = [0, *(np.flatnonzero(np.diff(first)) + 1).tolist(), len(first)]
    for a, b in zip(starts, starts[1:]):
        np.divide(out[a:b], (int(first[a]) * rest).astype(out.dtype), out=out[a:b])
    return out


def pool_nd(x: np.ndarray, size, stride, pad, op: str, include_pad: bool, out_shape, dtype) -> np.ndarray:
    """Pool ``x`` of any rank with PyTorch's padding rules (see :func:`pool`): per axis ``size``, ``stride``, ``pad``."""
    extra = [max(0, (o - 1) * s + f - p - n) for o, s, f, p, n in zip(out_shape, stride, size, pad, x.shape)]
    xp = _padded(x, list(zip(pad, extra)), op, dtype)
    out = _windows(op, dtype, (xp[tuple(slice(t, t + (o - 1) * s + 1, s) for t, o, s in zip(tap, out_shape, stride))]
                               for tap in np.ndindex(*size)))
    if op != "avg":
        return out
    cells = []
    for o, s, f, p, n in zip(out_shape, stride, size, pad, x.shape):
        start = np.arange(o) * s - p
        cells.append(np.minimum(start + f, n + p) - start if include_pad else np.minimum(start + f, n) - np.maximum(start, 0))
    rest = np.ones((), np.int64)
    for c in cells[1:]:  # the other axes' counts: one plane of the output, not the whole
        rest = np.multiply.outer(rest, c)
    return _divide_by_cells(out, cells[0], rest)
