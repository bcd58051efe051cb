"""A fused multiply-add in plain numpy: ``acc + w * x`` rounded once, as the jitted loops compute it.

numpy has no fused multiply-add, and computing ``acc + w * x`` in float64 then rounding to
float32 is not one: the float64 sum is itself rounded, and when it lands exactly halfway
between two float32 values the second rounding can go the wrong way (double rounding).  Here
the product is exact in float64 (24 + 24 bits), the sum's rounding error is found exactly
(Knuth's TwoSum), and the sum is rounded to odd instead: a float64 sum that was rounded and
has an even last bit moves one unit towards the exact value.  Rounding a value rounded to
odd with 53 bits to 24 bits gives the correctly rounded result (Boldo and Melquiond,
"Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd",
IEEE Trans. Computers 57(4), 2008): exactly what ``llvm.fma.f32`` gives.  Only the few sums
that can round wrongly take that longer way.

Example
-------
A product just over half a unit of 1.0 (641 * 6700417 = 2**32 + 1): rounded once, the sum goes up;
in float64 it lands on the halfway point and rounds to even, down to 1.0.

>>> import numpy as np
>>> acc = np.ones(1, dtype=np.float32)
>>> x, w = np.float32(641 * 2.0**-10), np.float32(6700417 * 2.0**-46)
>>> float(np.float32(np.float64(acc[0]) + np.float64(x) * np.float64(w)))
1.0
>>> muladd_into(acc, np.array([x]), w)
>>> float(acc[0]) == 1 + 2.0**-23
True
"""

from __future__ import annotations

import numpy as np

from .forms import integer_form, largest_magnitude

#: the low 29 bits of a float64 (the bits a float32 does not keep) when it lies halfway between two floats32
_LOW_BITS, _HALFWAY = np.int64(2**29 - 1), np.int64(2**28)
#: a float64's bits without the sign, and those of the smallest normal float32 (below it, but not at 0, a
#: float32's last bit is worth more and halfway lies elsewhere)
_MAGNITUDE, _SMALLEST_NORMAL = np.int64(2**63 - 1), np.float64(2.0**-126).view(np.int64)
#: products at least this large (or 0) keep every sum below the smallest normal float32 exact (its
#: lowest bit, 2**-147 or more, is a multiple of the float32 subnormals' 2**-149)
_SAFE_PRODUCT = 2.0**-100


def muladd_into(acc: np.ndarray, x: np.ndarray, w, tiny: bool | None = None) -> None:
    """Set float32 ``acc`` to ``acc + w * x``, each value rounded once (a fused multiply-add).

    ``x`` and ``w`` (float32 values, in any float dtype) broadcast to ``acc``'s shape; ``acc`` may be
    a view; finite inputs.  Rounding the float64 sum to float32 can only go wrong where that sum
    lies exactly halfway between two float32 values (a nearer float32 boundary would be a nearer
    float64), or, when some product is under 2**-100 (``tiny``; None: found here, see
    :func:`tiny_products`), in float32's subnormal range: only those sums are redone, rounded to
    odd.  The work goes in slices of :data:`_CHUNK` values along the first axis, so that its
    float64 temporaries stay in the CPU caches.
    """
    x64, w64 = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    if tiny is None:
        tiny = tiny_products(x64, w64)
    rows = acc if acc.ndim else acc.reshape(1)  # a 0-d sum as one row (a view: written through)
    x64, w64 = np.broadcast_to(x64, acc.shape).reshape(rows.shape), np.broadcast_to(w64, acc.shape).reshape(rows.shape)
    step = max(1, _CHUNK // max(1, rows[:1].size))
    for i in range(0, rows.shape[0], step):
        _muladd_part(rows[i : i + step], x64[i : i + step], w64[i : i + step], tiny)


def tiny_products(x: np.ndarray, w: np.ndarray) -> bool:
    """Whether some non-zero product of a value of ``x`` and one of ``w`` may fall under 2**-100
    (then a sum may need float32's subnormal range, and :func:`muladd_into` checks for it)."""
    return _smallest_magnitude(np.asarray(x)) * _smallest_magnitude(np.asarray(w)) < _SAFE_PRODUCT


#: values of one slice of :func:`muladd_into`: float64 temporaries of 64 KiB stay in the CPU caches and
#: under glibc's mmap threshold (128 KiB), so no slice maps fresh pages (128x128x16 float32, per value: whole
#: 17.6 ns, 1,300 page faults a call; slices of 32 K values 17.6 ns, 1,278; 8 K 5.2 ns, none; 2 K 9.5 ns;
#: a multiply then an add 1.5 ns)
_CHUNK = 8192


def _muladd_part(acc, x64, w64, tiny: bool) -> None:
    p = x64 * w64  # exact: 48 bits
    s = acc.astype(np.float64)
    s += p
    bits = s.view(np.int64)
    redo = (bits & _LOW_BITS) == _HALFWAY
    if tiny:
        magnitude = bits & _MAGNITUDE
        magnitude -= 1  # 0 (the sum 0.0) wraps to the largest: only non-zero magnitudes below the smallest normal
        redo |= magnitude.view(np.uint64) < np.uint64(_SMALLEST_NORMAL - 1)
    if redo.any():
        at = np.nonzero(redo)
        s[at] = _sum_rounded_to_odd(acc[at].astype(np.float64), p[at])
    acc[...] = s


def _smallest_magnitude(v: np.ndarray) -> float:
    """The smallest non-zero ``|v|`` (infinity when all are 0)."""
    return float(np.min(np.abs(v), initial=np.inf, where=v != 0))


def _sum_rounded_to_odd(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``a + p`` rounded to odd in float64: rounded to nearest, then, when that was inexact and its last
    bit is even, one unit towards the exact sum."""
    s = a + p
    back = s - a
    err = (a - (s - back)) + (p - back)  # TwoSum: s + err == a + p exactly
    bits = s.view(np.int64)
    inexact = (err != 0) & ((bits & 1) == 0)
    bits[inexact] += np.where((err[inexact] > 0) == (s[inexact] > 0), 1, -1)  # magnitude up or down
    return s


def exact_sums(x_dtype, weights: np.ndarray, fill: float | None) -> bool:
    """True when a float32 layer over an input of ``x_dtype`` rounds nothing: every product and
    partial sum of every filter is a whole multiple of one power of two below 2**24 of it.

    Then a fused multiply-add and a multiply then an add give the same bytes (an 8-bit image
    under whole-number or binomial kernels: the command line's usual case).  ``weights``
    (K, C, kh, kw); ``fill``: the constant padding value, or None for a padding that copies input
    values.  Decided from the dtype, the fill and the weights: no pass over the image.

    >>> sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[None, None]
    >>> exact_sums(np.dtype("uint8"), sobel, 0.0), exact_sums(np.dtype("float32"), sobel, 0.0)
    (True, False)
    >>> exact_sums(np.dtype("uint8"), np.full((1, 1, 3, 3), 0.1), 0.0)
    False
    """
    x_dtype = np.dtype(x_dtype)
    if not np.any(weights):
        return True  # every sum is 0
    if x_dtype.kind not in "biu" or (fill is not None and not float(fill).is_integer()):
        return False
    form = integer_form(np.asarray(weights, dtype=np.float64), power_of_two=True)
    if form is None:
        return False
    m, q = form
    if not 2.0**-100 <= q <= 2.0**60:  # whole multiples of q: no product or sum near float32's limits
        return False
    top = largest_magnitude(x_dtype)
    top = max(float(top), abs(float(fill)) if fill is not None else 0.0)
    per_filter = np.abs(m).reshape(m.shape[0], -1).sum(axis=1).max()
    return float(per_filter) * top < 2.0**24
