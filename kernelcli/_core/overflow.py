"""One value for an output that overflowed on the way, whichever path computed it (the paths audit).

Past float32's range the paths part: numpy multiplies then adds, the jitted loops fuse each
multiply-add (a product beyond the range does not overflow inside one), the FFT sums in float64.
``[[2**127, -2**127]]`` over the uint8 pixels 2 and 4 gave NaN on numpy (inf - inf) and -inf on
the others; a Laplacian over 1e38 gave -inf on numpy and its true 0 on the loops.  Here every
output that is not finite, from an input that is (a NaN or infinity in the input is refused before),
is summed again in a wider type (float64 for float32, long double for float64 where it is wider)
and rounded into the result's: its true value, or an infinity where that is beyond the range, as
PyTorch gives it.  An output finite on one path and not on another then agrees wherever the
sums are exact (whole numbers times a power of two), and within rounding elsewhere.

>>> x = np.array([[2.0, 4.0]], np.float32)
>>> out = np.array([np.nan], np.float32)
>>> settle(out, lambda wide: (x.astype(wide) @ np.array([2.0**127, -2.0**127], wide)).reshape(1))
>>> out
array([-inf], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def wider(dtype) -> np.dtype | None:
    """The type an overflowed sum of ``dtype`` is taken again in, or None (none wider here).

    >>> wider(np.float32)
    dtype('float64')
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return np.dtype(np.float64)
    if dtype == np.float64 and np.finfo(np.longdouble).max > np.finfo(np.float64).max:
        return np.dtype(np.longdouble)
    return None


def possible(x_dtype, k: np.ndarray, dtype) -> bool:
    """Whether a sum of ``k``'s products over data of ``x_dtype`` can leave ``dtype``'s range: for
    integer data, its largest magnitude times the kernel's sum of magnitudes against half the
    range (no pass over the data); for float data True (its values are not known here).

    >>> possible(np.uint8, np.ones((3, 3)), np.float32), possible(np.uint8, np.array([[2.0**127]]), np.float32)
    (False, True)
    """
    x_dtype = np.dtype(x_dtype)
    if x_dtype.kind not in "iub":
        return True
    info = np.iinfo(x_dtype) if x_dtype.kind != "b" else None
    largest = 1.0 if info is None else float(max(-int(info.min), int(info.max)))
    with np.errstate(over="ignore"):
        bound = largest * float(np.abs(np.asarray(k, dtype=np.float64)).sum())
    return not bound < float(np.finfo(np.dtype(dtype)).max) / 2


def settle(out: np.ndarray, recompute: Callable[[np.dtype], np.ndarray]) -> None:
    """Give each output of ``out`` (a float array) that is not finite the value of the same sum taken
    again in :func:`wider` precision, in place.  ``recompute(wide)``: the whole result computed in
    ``wide`` (only called where an output is not finite)."""
    if out.dtype.kind != "f":
        return
    bad = ~np.isfinite(out)
    if not bad.any():
        return
    wide = wider(out.dtype)
    if wide is None:
        return
    again = recompute(wide)
    with np.errstate(over="ignore", invalid="ignore"):  # beyond the range: an infinity, without a warning
        out[bad] = again[bad].astype(out.dtype)
