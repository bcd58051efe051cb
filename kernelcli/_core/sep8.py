"""The separable loop for uint8 images at zero padding: input rows read in place, not through a ring (issue 17).

Before, a uint8 image under a rank-1 kernel (a Gaussian, a box) went through the ring of float rows
(:func:`conv.separable_rows`), which converts every padded row to float before the vertical pass
reads it; :func:`separable_cast` reads the uint8 rows themselves and gives the ring's bytes.
2048^2 uint8, Gaussian 7x7, 1 thread, process CPU time, paired: OpenCV's sigma 1.4, 5.06 -> 4.39 ms
at load 3.8 (cv2.GaussianBlur 3.04); OpenCV's 7-tap table [2 7 14 18 14 7 2]/64, 3.9-4.2 -> 3.0-3.4 ms
at load 5.9 (cv2 2.8-2.9).

An exact vertical pass in int16 (whole non-negative column weights on uint8: 16 lanes a vector)
was built and measured: 0.87 ms for the vertical pass against 1.44 in float, but the whole call
within +-5% of this loop's (the horizontal pass and the float32 output dominate), so it was left
out: one compiled loop fewer.

Numba's cache keys a function on its own file only, and the loop here holds the helpers it
inlines from :mod:`.conv`, the tap passes of :mod:`.taps` and the rounding of :mod:`.eightbit` (its
store through int32, 2026-12-04): a change to those must come with a change to this file.

Example
-------
>>> import numpy as np
>>> reads_in_place(np.dtype("uint8"), 0.0), reads_in_place(np.dtype("uint8"), 3.0), reads_in_place(np.dtype("float32"), 0.0)
(True, False, False)
"""

from __future__ import annotations

import numpy as np
from .jit import njit

from .config import JIT
from .conv import _border_cells, _divide
from .eightbit import row_target, store_rounded
from .retype import alive, borrowed
from .screen import screen_row
from .taps import apply_taps


def reads_in_place(src_dtype: np.dtype, fill: float) -> bool:
    """True when :func:`separable_cast` gives the bytes of the ring of float rows
    (:func:`conv.separable_rows`) for any rank-1 kernel: a uint8 input and a fill of +0.0 (zero
    padding, or a mode that mirrors, where the fill is never read).  uint16 would too, but keeps
    the ring: one compiled version fewer (a fresh install compiles each on first use)."""
    fill = float(fill)
    return bool(np.dtype(src_dtype) == np.uint8 and fill == 0.0 and np.copysign(1.0, fill) > 0)


@njit(**JIT)
def separable_cast(x, channels, rows, cols, fill, left, stride_h, vrow, vws, hoff, hws, divisor, out, flags, i0, i1):
    """Rows ``i0:i1`` of ``out`` for a rank-1 kernel on uint8 ``x``, horizontal stride 1, fill +0.0.

    The arguments of :func:`conv.separable_direct`.  The ring of float rows (:func:`conv.separable_rows`)
    first converts every padded row; here a window wholly inside the input reads the input rows
    in place, every tap in the ring's order (each value converted as it is read: the same
    products, the same passes, so the same sums), and only a window that reaches the top or
    bottom padding copies its rows, converted, zeros for the padding, into a small buffer.  The
    border cells of the row buffer are copies of the vertical sums of the columns they mirror,
    or the sum of the vertical weights times +0.0 (zero padding), as the ring's padded columns give.  (Skipping the padding rows'
    taps instead, as :func:`conv.separable_direct` does, changes which two products a pass
    starts with, and so the last bit of a few border outputs.)

    ``out`` may be an integer array (the API's ``dtype=``): each float row is then rounded into it
    (:func:`.eightbit.store_rounded`) while in cache, after its division by ``divisor``
    (:func:`.conv._divide`), and no float result is written to memory.
    """
    x, rows, cols, out, flags = borrowed(x), borrowed(rows), borrowed(cols), borrowed(out), borrowed(flags)
    vrow, vws, hoff, hws = borrowed(vrow), borrowed(vws), borrowed(hoff), borrowed(hws)
    c = channels
    row_len = x.shape[1]
    w = row_len // c
    wp = cols.shape[0]
    flat = x.reshape(-1)
    taps = vrow.shape[0]
    tmp_memory = np.empty(wp * c, dtype=vws.dtype)  # the compute dtype (float32)
    window_memory = np.empty(taps * row_len, dtype=vws.dtype)
    wstarts_memory = np.arange(taps) * row_len
    starts_memory = np.empty_like(vrow)
    spare_memory = np.empty(out.shape[1], dtype=vws.dtype)  # a float row, for an integer ``out``
    tmp, window, wstarts = borrowed(tmp_memory), borrowed(window_memory), borrowed(wstarts_memory)
    starts, spare = borrowed(starts_memory), borrowed(spare_memory)
    inner = tmp[left * c : (left + w) * c]
    zero = vws.dtype.type(0)
    edge = vws[0] * zero  # a padded column's vertical sum: -0.0 where every weight is negative, as the ring sums it
    for t in range(1, taps):
        edge += vws[t] * zero
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
        _border_cells(tmp, inner, cols, c, edge, 0, left)
        _border_cells(tmp, inner, cols, c, edge, left + w, wp)
        row = row_target(out, i, spare)
        apply_taps(row, tmp, 0, hoff, hws)
        _divide(row, divisor)
        screen_row(row, flags, i)
        store_rounded(row, out, i)
    alive(tmp_memory, window_memory, wstarts_memory, starts_memory, spare_memory)
