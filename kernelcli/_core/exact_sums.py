"""Where an integer input's whole-number sums pass what float32 holds exactly: the direct paths sum in float64.

A kernel of whole numbers times a power of two, or over a whole number (``box:65vox``'s 1/274625s:
:func:`.forms.exact_terms`), gives whole-number data one exact answer: the exact sum, scaled or
divided once, correctly rounded.  The FFT's exact form gives it up to 2**40 (sums in float64,
rounded to whole numbers); the direct loops, numpy and the separable passes give it only while every
partial sum is a whole number their compute dtype holds: below 2**24 in float32, which a uint8
volume under ``box:65vox`` (255 * 65**3) passes.  There they took float32's roundings, up to 8 ulps
off, and the paths disagreed.  :func:`summing_dtype` names float64 for such a call: the sums are
then exact, and the one division in float64 rounded to float32 is the correctly rounded quotient
(the divisor is below 2**24, so no quotient of whole numbers lies within float64's rounding of a
float32 half-way point), the FFT's bytes.  Below the bound float32 is kept: it gives the same bytes.

Example
-------
>>> import numpy as np
>>> full = np.full((2, 2, 2), 255, np.uint8)
>>> summing_dtype(full, np.dtype("float32"), kernel=np.ones((65, 65, 65)) / 65**3)
dtype('float64')
>>> summing_dtype(full, np.dtype("float32"), kernel=np.ones((5, 5, 5)) / 125), summing_dtype(full // 8, np.dtype("float32"), kernel=np.ones((65, 65, 65)) / 65**3)
(dtype('float32'), dtype('float32'))
"""

from __future__ import annotations

import numpy as np

from .forms import exact_terms, largest_magnitude
from .memo import Memo, array_key

#: whole_sum per kernel, and the largest magnitude per input dtype: asked on every call, a few microseconds each
_WHOLE_SUMS = Memo()
_LARGEST: dict = {}


def whole_sum(k) -> float | None:
    """``sum|m|`` of the whole numbers ``m`` a kernel is (times a power of two, or over a whole number), else None.

    >>> whole_sum(np.ones((3, 3)) / 9), whole_sum(np.array([[1.0, -2.0]]) / 4), whole_sum(np.full((2, 2), np.pi))
    (9.0, 3.0, None)
    """
    k = np.asarray(k, dtype=np.float64)
    return _WHOLE_SUMS.get(array_key(k), _whole_sum, k)


def _whole_sum(k: np.ndarray) -> float | None:
    terms = exact_terms(k)
    if terms is None or (terms[2] is None and np.frexp(terms[1])[0] != 0.5):
        return None
    return float(np.abs(terms[0]).sum())


def factors_whole_sum(factors) -> float | None:
    """:func:`whole_sum` of the kernel separable ``factors`` make (the product of theirs), else None.

    >>> factors_whole_sum([np.full(5, 0.2), np.array([1.0, 0.0, -1.0])])
    10.0
    """
    total = 1.0
    for f in factors:
        s = whole_sum(np.asarray(f, dtype=np.float64))
        if s is None:
            return None
        total *= s
    return total


def summing_dtype(x: np.ndarray, dtype: np.dtype, fill: float = 0.0, *, kernel=None, factors=None) -> np.dtype:
    """float64 where an integer (or bool) ``x`` under ``kernel`` (or the separable ``factors``), whole numbers times a
    power of two or over a whole number, has sums that ``dtype`` (float32) does not hold exactly, counting a
    constant ``fill``; else ``dtype``.  The input dtype's range decides first; only past it are the data's extremes read.
    """
    dtype = np.dtype(dtype)
    if not _may_round(x, dtype, fill):
        return dtype
    total = whole_sum(kernel) if factors is None else factors_whole_sum(factors)
    if total is None:
        return dtype
    return np.dtype(np.float64) if rounds_sums(x, dtype, fill, [total])[0] else dtype


def rounds_sums(x: np.ndarray, dtype: np.dtype, fill: float, totals) -> np.ndarray:
    """For each kernel's :func:`whole_sum` in ``totals`` (None or NaN: not whole numbers), whether ``dtype`` would
    round the sums of an integer ``x`` under it (counting a constant ``fill``): :func:`summing_dtype`'s rule for many
    kernels at once (a layer's filters), the data's extremes read at most once.

    >>> rounds_sums(np.full((2, 2), 255, np.uint8), np.dtype("float32"), 0.0, [9.0, 65.0**3, None]).tolist()
    [False, True, False]
    """
    dtype = np.dtype(dtype)
    totals = np.array([np.nan if t is None else float(t) for t in totals], dtype=np.float64)
    rounds = np.zeros(totals.shape, dtype=np.bool_)
    if not _may_round(x, dtype, fill):
        return rounds
    whole = ~np.isnan(totals)
    limit = 2.0 ** (np.finfo(dtype).nmant + 1)
    largest = _LARGEST.get(x.dtype)
    if largest is None:
        largest = _LARGEST[x.dtype] = largest_magnitude(x.dtype)
    if not (totals[whole] * max(largest, abs(float(fill))) >= limit).any():
        return rounds
    top = max(abs(int(x.min())), abs(int(x.max()))) if x.size else 0
    rounds[whole] = totals[whole] * max(top, abs(float(fill))) >= limit
    return rounds


def _may_round(x: np.ndarray, dtype: np.dtype, fill: float) -> bool:
    """Whether the rule can apply at all: integer data, a float narrower than float64, a whole-number fill."""
    return x.dtype.kind in "biu" and dtype.itemsize < 8 and float(fill).is_integer()
