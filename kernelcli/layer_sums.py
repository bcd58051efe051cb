"""Which filters of a convolution layer sum in float64: :func:`kernelcli.api.conv2d`'s exact-sum rule, filter by filter.

An integer image under a filter of whole numbers (times a power of two, or over a whole number) has one exact answer
per window; float32 holds it only while the sums stay below 2**24 (:mod:`kernelcli._core.exact_sums`).  Past that,
conv2d sums in float64 and rounds once, and so does the layer, for each filter that passes: its whole numbers summed
exactly, its bias added and its divisor divided once, then rounded to float32.  Other filters keep the float32 sums.

Example
-------
>>> x = np.full((40, 40), 255, np.uint8)
>>> w = np.stack([np.full((1, 33, 33), 99.0), np.full((1, 33, 33), 0.1)])   # 99*33*33*255 > 2**24; 0.1: no whole number
>>> picks, whole, divisors = wide_filters(x, np.dtype("float32"), 0.0, w, np.zeros(2))
>>> picks.tolist(), whole.shape, divisors.tolist()
([0], (1, 1, 33, 33), [1.0])
"""

from __future__ import annotations

import numpy as np

from ._core import exact_sums
from ._core.forms import divided


def wide_filters(x: np.ndarray, dtype: np.dtype, fill: float, weights: np.ndarray,
                 bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(picks, whole, divisors)`` for the filters of ``weights`` (K, C/groups, kh, kw) whose sums over the integer
    ``x`` float32 (``dtype``) would round, else None: their indices, the weights they sum in float64 (the whole
    numbers of a filter over a whole number, any other its own) and each one's divisor (1 for none).

    A whole-number bias is one more term of the exact sum, counted in the bound as a tap (a bias of 2**24 on a
    small sum is past float32's whole numbers too); any other bias leaves the filter's own rule, and is added in
    float64 before the one rounding.

    >>> x = np.full((4, 4), 200, np.uint8)
    >>> wide_filters(x, np.dtype("float32"), 0.0, np.ones((1, 1, 3, 3)), np.zeros(1)) is None
    True
    >>> wide_filters(x, np.dtype("float32"), 0.0, np.ones((1, 1, 3, 3)), np.array([2.0**24]))[0].tolist()
    [0]
    """
    if x.dtype.kind not in "biu" or np.dtype(dtype).itemsize >= 8:  # (float data or a float64 layer: nothing to ask)
        return None
    totals = [_whole_sum(w, b) for w, b in zip(weights, bias)]
    picks = np.flatnonzero(exact_sums.rounds_sums(x, dtype, fill, totals))
    if picks.size == 0:
        return None
    whole = np.empty((picks.size, *weights.shape[1:]))
    divisors = np.ones(picks.size)
    for i, k in enumerate(picks):
        form = divided(weights[k], x.dtype)
        whole[i], divisors[i] = (weights[k], 1.0) if form is None else form
    return picks, whole, divisors


def _whole_sum(w: np.ndarray, b: float) -> float | None:
    """The filter's ``sum|m|`` with its bias as one more term where that keeps whole numbers, else without it."""
    if b:
        total = exact_sums.whole_sum(np.append(w.ravel(), b))
        if total is not None:
            return total
    return exact_sums.whole_sum(w)


def rounded_once(sums: np.ndarray, bias: np.ndarray, divisors: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Exact float64 ``sums`` (H', W', n) of whole numbers with each filter's bias added and its divisor divided
    once, as ``(sum + bias * d) / d`` (one division: a whole bias keeps the numerator whole), rounded to ``dtype``.

    >>> rounded_once(np.array([[[20.0, 16777217.0]]]), np.array([1.0, 0.0]), np.array([4.0, 1.0]), np.dtype("float32"))
    array([[[6.0000000e+00, 1.6777216e+07]]], dtype=float32)
    """
    return ((sums + bias * divisors) / divisors).astype(dtype)
