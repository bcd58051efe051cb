"""The sign of an exact 0 in the FFT's exact form, as the direct loops give it.

The direct loops sum a window's products in order, zero weights left out; in round-to-nearest a sum
is -0.0 only where every term is -0.0, so an exact 0 is -0.0 where each tap holds a 0 of the other
sign than its weight (+0.0 under a negative weight, -0.0 under a positive one), and +0.0 elsewhere:
where products cancel, or mix zeros of both signs.  The FFT's rounded sums carry no such sign.
From the kernel alone (:func:`kernel_zero`) it is right for values >= +0.0 (no -0.0 among them);
elsewhere (:func:`unknown`) :func:`restore` counts, for each output, the taps whose product is not
-0.0: two more exact correlations of 0/1 indicators (the rare case: a -0.0 in the input or fill, or
values below 0 under a kernel with no positive weight).

>>> x = np.array([[[1.0], [-1.0], [0.0]]])  # (1, 3, 1): a row of three pixels
>>> k = np.array([[-1.0, -1.0]])
>>> unknown(x, k, 0.0, True)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def kernel_zero(k: np.ndarray) -> float:
    """The zero the direct loops give where the exact sum is 0 and no value is below +0.0: -0.0 under a
    kernel with a negative weight and no positive one (each product of a zero is -0.0, and so is their
    sum), else +0.0 (an all-zero kernel: the loops leave zero weights out, an empty sum is +0.0).

    >>> kernel_zero(np.array([[-1.0, 0.0, -2.0]])), kernel_zero(np.array([[1.0, -1.0]])), kernel_zero(np.zeros((2, 2)))
    (-0.0, 0.0, 0.0)
    """
    return -0.0 if (k < 0).any() and not (k > 0).any() else 0.0


def unknown(x: np.ndarray, k: np.ndarray, fill: float, constant: bool) -> bool:
    """True where :func:`kernel_zero` may be wrong for some output: a -0.0 among the values (or the constant
    ``fill``), or, under a kernel with no positive weight, a value (or fill) below 0."""
    negative_zero = x.dtype.kind == "f" and has_negative_zero(x)
    if constant:
        negative_zero |= fill == 0 and math.copysign(1.0, fill) < 0
    if (k > 0).any():
        return negative_zero
    below = x.dtype.kind in "if" and x.size > 0 and float(x.min()) < 0
    return negative_zero or below or (constant and fill < 0)


def has_negative_zero(x: np.ndarray) -> bool:
    """True when the float array ``x`` holds a -0.0 (one pass over its bits).

    >>> has_negative_zero(np.array([0.0, 1.0])), has_negative_zero(np.array([1.0, -0.0], np.float32))
    (False, True)
    """
    bits = x.view(np.dtype(f"u{x.dtype.itemsize}"))
    return bool(np.any(bits == bits.dtype.type(1 << (8 * x.dtype.itemsize - 1))))


def restore(out: np.ndarray, x: np.ndarray, k: np.ndarray, fill: float, constant: bool,
            correlate: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> None:
    """Give each exact 0 of ``out`` (the correlation of ``x`` with ``k``) the direct loops' sign, in place.

    ``correlate(indicator, kernel, fill)``: the exact correlation of a 0/1 float64 array of ``x``'s shape
    with a 0/1 kernel, on the call's grid and padding (``fill`` for a constant one), as counts.
    """
    zeros = out == 0
    if not zeros.any() or not k.any():  # (no weight: every sum empty, +0.0 as kernel_zero gives it)
        return
    counts = np.zeros(out.shape, dtype=np.float64)  # taps whose product is not -0.0
    for weights, zero_sign in ((k < 0, 1.0), (k > 0, -1.0)):  # -0.0 under a negative weight takes +0.0 there
        if not weights.any():
            continue
        matching = (x == 0) & (np.signbit(x) == (zero_sign < 0))  # the zero whose product is -0.0
        fill_matches = constant and fill == 0 and math.copysign(1.0, fill) == zero_sign
        counts += correlate((~matching).astype(np.float64), weights.astype(np.float64), 0.0 if fill_matches else 1.0)
    out[zeros] = np.where(counts[zeros] == 0, -0.0, 0.0)
