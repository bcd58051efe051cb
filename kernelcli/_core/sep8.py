"""Separable loops for uint8 images that read the input rows in place (issue 17).

Before, such an image went through the ring of float rows (:func:`conv.separable_rows`), which
converts every padded row to float before the vertical pass reads it.  Both loops here give
its bytes; :func:`separable_cast` for any rank-1 kernel at zero padding (2048^2 uint8, OpenCV's
sigma-1.4 Gaussian 7x7, 1 thread, process CPU time, load 3.8: 5.06 -> 4.39 ms, cv2.GaussianBlur
3.04), :func:`separable_u8` for whole-number column weights on uint8, below.

A uint8 image under a rank-1 kernel whose column factor is whole non-negative numbers (the
binomial Gaussians and the boxes of the catalogue, OpenCV's fixed 3- to 7-tap Gaussians:
:func:`~kernelcli._core.forms.rank1_factors` keeps the scale on the row) gives whole-number
vertical sums.  :func:`separable_u8` computes them in int16 straight from the input rows
(16 lanes per 256-bit vector, and 2 bytes a value for the row buffer instead of the float
ring's 4), then the horizontal pass runs exactly as on the float path, on the same float
values.  While every vertical sum is below 2**15 (:func:`int16_columns`), the float path's
vertical sums are exact too, so both give the same bytes; no vertical sum is -0.0 on either, as no
column weight, value or fill is negative.  2048^2 uint8, Gaussian 7x7 [2 7 14 18 14 7 2]/64 (OpenCV's
7-tap table), 1 thread, process CPU time, load 4.9: vertical pass 1.44 -> 0.87 ms, the whole
call 4.86 -> 4.09 ms (cv2.GaussianBlur 3.19).

Numba's cache keys a function on its own file only, and the loop here holds the helpers it
inlines from :mod:`.conv` and the tap passes of :mod:`.taps`: a change to those must come with a
change to this file.

Example
-------
>>> import numpy as np
>>> int16_columns(np.array([1.0, 4.0, 6.0, 4.0, 1.0]), np.dtype("uint8"), 0.0) is not None
True
>>> int16_columns(np.array([1.0, -2.0, 1.0]), np.dtype("uint8"), 0.0) is None
True
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import JIT
from .conv import _border_cells, _select_rows
from .screen import screen_row
from .taps import apply_taps


def int16_columns(col: np.ndarray, src_dtype: np.dtype, fill: float) -> np.ndarray | None:
    """The column factor as int16 weights when :func:`separable_u8` gives the float path's bytes, else None.

    That needs a uint8 input, whole non-negative weights, a whole fill in 0..255 that is not
    -0.0, and every vertical sum (at most ``sum(col) * 255``) below 2**15.
    """
    if np.dtype(src_dtype) != np.uint8:
        return None
    fill = float(fill)
    if not (fill.is_integer() and 0.0 <= fill <= 255.0 and np.copysign(1.0, fill) > 0):
        return None
    if (col < 0).any() or not np.array_equal(col, np.rint(col)) or float(col.sum()) * 255.0 >= 2.0**15:
        return None
    return col.astype(np.int16)


def reads_in_place(src_dtype: np.dtype, fill: float) -> bool:
    """True when :func:`separable_cast` gives the bytes of the ring of float rows
    (:func:`conv.separable_rows`) for any rank-1 kernel: a uint8 input and a fill of +0.0 (zero
    padding, or a mode that mirrors, where the fill is never read).  uint16 would too, but keeps
    the ring: one compiled version fewer (a fresh install compiles each on first use)."""
    fill = float(fill)
    return np.dtype(src_dtype) == np.uint8 and fill == 0.0 and np.copysign(1.0, fill) > 0


@njit(**JIT)
def separable_cast(x, channels, rows, cols, fill, left, stride_h, vrow, vws, hoff, hws, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel on uint8 ``x``, horizontal stride 1, fill +0.0.

    The arguments of :func:`conv.separable_direct`.  The ring of float rows (:func:`conv.separable_rows`)
    first converts every padded row; here a window wholly inside the input reads the input rows
    in place, every tap in the ring's order (each value converted as it is read: the same
    products, the same passes, so the same sums), and only a window that reaches the top or
    bottom padding copies its rows, converted, zeros for the padding, into a small buffer.  The
    border cells of the row buffer are copies of the vertical sums of the columns they mirror,
    or +0.0 (zero padding), as the ring's padded columns give.  (Skipping the padding rows'
    taps instead, as :func:`conv.separable_direct` does, changes which two products a pass
    starts with, and so the last bit of a few border outputs.)
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    wp = cols.shape[0]
    flat = x.reshape(-1)
    tmp = np.empty(wp * c, dtype=out.dtype)
    inner = tmp[left * c : (left + w) * c]
    taps = vrow.shape[0]
    window = np.empty(taps * row_len, dtype=out.dtype)
    wstarts = np.arange(taps) * row_len
    starts = np.empty_like(vrow)
    zero = out.dtype.type(0)
    for i in range(i0, i1):
        top = i * stride_h
        inside = True
        for t in range(taps):
            r = rows[top + vrow[t]]
            inside &= r >= 0
            starts[t] = r * row_len
        if inside:
            apply_taps(inner, flat, 0, starts, vws)
        else:
            for t in range(taps):
                r = rows[top + vrow[t]]
                part = window[t * row_len : (t + 1) * row_len]
                if r < 0:
                    part[:] = zero
                else:
                    src = x[r]
                    for j in range(row_len):
                        part[j] = src[j]
            apply_taps(inner, window, 0, wstarts, vws)
        _border_cells(tmp, inner, cols, c, zero, 0, left)
        _border_cells(tmp, inner, cols, c, zero, left + w, wp)
        apply_taps(out[i], tmp, 0, hoff, hws)
        screen_row(out[i], flags, i)


@njit(**JIT)
def separable_u8(x, channels, rows, cols, fill, left, stride_h, vrow, vws, hoff, hws, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel on uint8 ``x`` (H, W*C), horizontal stride 1.

    The arguments of :func:`conv.separable_direct`, with int16 vertical weights ``vws`` (see
    :func:`int16_columns`): the vertical pass writes the interior of an int16 row buffer from
    the input rows (rows outside a constant-padded input add ``fill`` times their weights), the
    border cells copy the columns they mirror or take the fill's sum; the row is then made
    float (``out``'s dtype) once and the horizontal taps ``hoff``/``hws`` read it, as
    :func:`conv.separable_rows` reads its buffer.
    """
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    wp = cols.shape[0]
    flat = x.reshape(-1)
    tmp = np.empty(wp * c, dtype=vws.dtype)
    inner = tmp[left * c : (left + w) * c]
    row = np.empty(wp * c, dtype=out.dtype)
    zero = np.zeros_like(vrow)
    starts = np.empty_like(vrow)
    wsel = np.empty_like(vws)
    total = 0
    for t in range(vws.shape[0]):
        total += vws[t]
    edge = vws.dtype.type(total * fill)
    for i in range(i0, i1):
        n, fill_weight = _select_rows(starts, wsel, rows, vrow, zero, vws, i * stride_h, row_len)
        apply_taps(inner, flat, 0, starts[:n], wsel[:n])
        if fill_weight != 0.0 and fill != 0:
            add = vws.dtype.type(fill_weight * fill)
            for j in range(inner.shape[0]):
                inner[j] += add
        _border_cells(tmp, inner, cols, c, edge, 0, left)
        _border_cells(tmp, inner, cols, c, edge, left + w, wp)
        for j in range(row.shape[0]):
            row[j] = out.dtype.type(tmp[j])
        apply_taps(out[i], row, 0, hoff, hws)
        screen_row(out[i], flags, i)
