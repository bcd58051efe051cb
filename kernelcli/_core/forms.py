"""Kernel analysis: integer forms, rank-1 and separable factors, and when a path is exact.

What the dispatcher (:mod:`.engine`) and the cost rules (:mod:`.costs`) read from a kernel
and, for exactness, from the data: ``k == m * q`` with ``m`` whole numbers
(:func:`integer_form`), or ``k == m / d`` with ``d`` a whole number (:func:`divisor_form`: a
box of 1/100s, a kernel file's ``"scale": 7``; every path then sums ``m`` and divides once:
:func:`exact_terms`, :func:`divided`), the 1-D factors of a rank-1 kernel (:func:`rank1_factors`,
:func:`separable_factors`), and whether the direct loops or the FFT give an exact result
(:func:`exact_form`, :func:`fft_form`).  Pure numpy, no jitted code.

Example
-------
>>> import numpy as np
>>> rank1_factors(np.outer([1, 2, 1], [1, 0, -1]), np.dtype("float32"))
(array([1., 2., 1.]), array([ 1.,  0., -1.]))
"""

from __future__ import annotations

import math

import numpy as np

from .config import CONSTANT
from .memo import Memo, array_key, frozen


def integer_form(k: np.ndarray, power_of_two: bool = False) -> tuple[np.ndarray, float] | None:
    """``(m, q)`` with ``k == m * q`` exactly, ``m`` integer-valued (below 2**31) and ``q > 0``; else None.

    ``q`` is the smallest magnitude in ``k`` when every value is a whole multiple of it (a
    box of 1/9s: m = ones, q = 1/9), else the smallest power of two that divides every value
    (a binomial kernel over 256: m = the integers, q = 1/256); only the latter with ``power_of_two``.
    Without ``power_of_two``, a kernel that is neither but whole numbers divided by a whole
    number (:func:`divisor_form`: ``[1, 2, 3] / 7``, where ``3 * (1/7)`` is not ``3/7``) gives
    ``(m, 1/d)``: then ``m / d``, not ``m * q``, is ``k``.

    >>> integer_form(np.array([[1.0, 2.0], [2.0, 4.0]]) / 16)
    (array([[1., 2.],
           [2., 4.]]), 0.0625)
    """
    nonzero = k[k != 0]
    if nonzero.size == 0:
        return None
    candidates = [] if power_of_two else [float(np.abs(nonzero).min())]
    mant, exp = np.frexp(np.abs(nonzero))
    bits = (mant * 2.0**53).astype(np.int64)
    low = np.log2((bits & -bits).astype(np.float64)).astype(np.int64)  # lowest set bit of each mantissa
    candidates.append(float(np.ldexp(1.0, int((exp - 53 + low).min()))))
    for q in candidates:
        m = np.rint(k / q)
        if np.abs(m).max() < 2**31 and np.array_equal(m * q, k):
            return m, q
    if not power_of_two:
        form = divisor_form(k)
        if form is not None:
            return form[0], 1.0 / form[1]
    return None


#: :func:`divisor_form`'s bound on the divisor and on every whole number of the kernel: each is
#: exactly a float32, so the loops' float32 division is the one correctly rounded quotient
DIVISOR_LIMIT = 2**24
#: a kernel with more distinct magnitudes is not looked at for a divisor (a few Python steps each)
_DIVISOR_VALUES = 4096


def _denominator(v: float) -> int | None:
    """The least ``q`` among the continued-fraction convergents ``p/q`` of ``v > 0`` whose quotient,
    rounded to float64, is ``v`` (``0.01``: 100; ``fl(3/7)``: 7), below :data:`DIVISOR_LIMIT`; else None.

    A fraction ``p/q`` that rounds to ``v`` lies within ``v * 2**-53`` of it: for ``v < 16`` and ``q``
    below the limit that is within ``1 / (2 q**2)``, so ``p/q`` is a convergent (Legendre's theorem)
    and the ``q`` found is the least denominator of any fraction that rounds to ``v``.
    """
    from fractions import Fraction

    x = Fraction(v)
    p0, q0, p1, q1 = 0, 1, 1, 0
    while True:
        a = x.numerator // x.denominator
        p0, q0, p1, q1 = p1, q1, a * p1 + p0, a * q1 + q0
        if q1 >= DIVISOR_LIMIT:
            return None
        if p1 / q1 == v:  # (int / int is correctly rounded)
            return q1
        x -= a
        if x == 0:
            return None
        x = 1 / x


def _divisor_form(k: np.ndarray) -> tuple[np.ndarray, int] | None:
    nonzero = k[k != 0]
    if nonzero.size == 0 or not np.isfinite(nonzero).all():
        return None
    values = np.unique(np.abs(nonzero))
    if values.size > _DIVISOR_VALUES:
        return None
    d = 1
    for v in values.tolist():
        whole = v * d
        if whole == round(whole) and round(whole) / d == v:  # already a multiple of 1/d
            continue
        q = _denominator(v)
        if q is None:
            return None
        d = d * q // math.gcd(d, q)
        if d >= DIVISOR_LIMIT:
            return None
    if d & (d - 1) == 0:  # 1 or a power of two: whole numbers times a power of two (integer_form)
        return None
    m = np.rint(k * d)
    if np.abs(m).max() >= DIVISOR_LIMIT or not np.array_equal(m / d, k):
        return None
    frozen(m)
    return m, d


_DIVISORS = Memo()


def divisor_form(k: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(m, d)`` with ``k == m / d`` value by value (each the float64 quotient, correctly rounded: how
    a kernel file's ``"scale": d`` and ``box:N``, ``ones / N**2``, are built), ``m`` whole numbers and
    ``d`` a whole number that is no power of two, both below :data:`DIVISOR_LIMIT`; else None.

    ``d`` is the least common multiple of each value's least denominator (:func:`_denominator`).
    Remembered per kernel; ``m`` is read-only.

    >>> m, d = divisor_form(np.array([[1.0, 2.0, 3.0]]) / 7)
    >>> m.tolist(), d
    ([[1.0, 2.0, 3.0]], 7)
    >>> divisor_form(np.full((10, 10), 0.01))[1], divisor_form(np.ones((4, 4)) / 16), divisor_form(np.array([[0.1, 0.2, 3 * 0.1]]))
    (100, None, None)

    (``3 * 0.1`` is 0.30000000000000004, not 3/10: that kernel is whole numbers times 0.1, not over 10.)
    Decimals of up to seven places are whole numbers over a power of ten (0.1234567: d = 10**7).
    """
    k = np.asarray(k, dtype=np.float64)
    return _DIVISORS.get(array_key(k), _divisor_form, k)


def _exact_terms(k: np.ndarray) -> tuple[np.ndarray, float, int | None] | None:
    form = integer_form(k)
    if form is not None and np.frexp(form[1])[0] == 0.5:
        return form[0], form[1], None
    two = integer_form(k, power_of_two=True)
    if two is not None:
        return two[0], two[1], None
    div = divisor_form(k)
    if div is not None:
        return div[0], 1.0 / div[1], div[1]
    return None if form is None else (form[0], form[1], None)


_TERMS = Memo()


def exact_terms(k: np.ndarray) -> tuple[np.ndarray, float, int | None] | None:
    """``(m, q, d)``: the whole numbers ``m`` a kernel is made of and how its scale is applied, else None.

    ``d`` None: ``k == m * q`` exactly (:func:`integer_form`), ``q`` a power of two where one
    serves (the exact case of the direct loops: every product is exact); ``d`` a whole number:
    ``k == m / d`` (:func:`divisor_form`, ``q = 1/d``): every path sums the whole numbers ``m``
    and divides by ``d`` once, so that on whole-number data within the compute dtype's exact range
    each output is the one correctly rounded quotient of its exact sum (a multiplication by the
    inexact ``1/d`` is not: 7350 * 0.01 is not 73.5 in float32).  Remembered per kernel.

    >>> exact_terms(np.ones((2, 2)) / 9)[1:], exact_terms(np.array([[1.0, 3.0]]) / 16)[1:]
    ((0.1111111111111111, 9), (0.0625, None))
    """
    k = np.asarray(k, dtype=np.float64)
    return _TERMS.get(array_key(k), _exact_terms, k)


def divided(k: np.ndarray, x_dtype: np.dtype | None = None) -> tuple[np.ndarray, float] | None:
    """``(m, d)`` when the direct loops sum the whole numbers ``m`` and divide each output by ``d``
    (:func:`exact_terms` with a divisor), else None: they take ``k``'s own weights.

    For a float input (``x_dtype``) both come scaled by the power of two ``2**-e`` at or below
    ``1 / sum|m|``: the sums then stay within the input's magnitude, as the plain weights' do
    (``box_3x3``'s whole numbers summed nine values of 5e307 to infinity in float64, where the
    true average is 5e307), and the quotient is the very same (a power of two scales exactly, and
    ``s / (d * 2**-e)`` is the correctly rounded ``(s * 2**e) / d``).  Integer inputs need no
    scaling: their sums are far below any float's range.

    >>> m, d = divided(np.ones((3, 3)) / 9, np.dtype("float64"))
    >>> float(m[0, 0]), d
    (0.0625, 0.5625)
    """
    terms = exact_terms(k)
    if terms is None or terms[2] is None:
        return None
    m, d = terms[0], float(terms[2])
    if x_dtype is not None and np.dtype(x_dtype).kind == "f":
        e = int(np.ceil(np.log2(float(np.abs(m).sum()))))
        if e > 0:
            return np.ldexp(m, -e), float(np.ldexp(d, -e))
    return m, d


def divided_factors(factors, x_dtype: np.dtype | None = None) -> tuple[list[np.ndarray], float] | None:
    """``(whole, d)`` when separable ``factors`` are whole numbers over whole numbers (``box:5vox``'s 1/5s), each
    of the others whole numbers times a power of two (its products exact): the passes apply ``whole`` and each
    output is divided by ``d`` once, as :func:`divided` serves the dense kernel they make (1/3 applied pass by pass
    in float32 was a float32 ulp off the exact mean at one voxel in eight, where conv3d is exact); else None.

    ``d`` below :data:`DIVISOR_LIMIT`, as :func:`divisor_form`'s; for a float input (``x_dtype``) both scaled by
    the power of two that keeps the sums within the input's magnitude, as :func:`divided` scales them.

    >>> whole, d = divided_factors([np.full(3, 1 / 3), np.array([1.0, 0.0, -1.0]), np.full(5, 0.2)])
    >>> [w.tolist() for w in whole], d
    ([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [1.0, 1.0, 1.0, 1.0, 1.0]], 15.0)
    """
    whole, d = [], 1
    for f in factors:
        terms = exact_terms(f)
        if terms is None or (terms[2] is None and np.frexp(terms[1])[0] != 0.5):
            return None
        whole.append(np.asarray(f, dtype=np.float64) if terms[2] is None else np.array(terms[0], dtype=np.float64))
        d *= 1 if terms[2] is None else terms[2]
    if d == 1 or d >= DIVISOR_LIMIT:
        return None
    divisor = float(d)
    if x_dtype is not None and np.dtype(x_dtype).kind == "f":
        e = int(np.ceil(np.log2(float(np.prod([np.abs(w).sum() for w in whole])))))
        if e > 0:
            whole[-1], divisor = np.ldexp(whole[-1], -e), float(np.ldexp(divisor, -e))
    return whole, divisor


def balanced(factors) -> tuple[np.ndarray, ...]:
    """Separable factors with powers of two moved from each pass but the last onto the last, so that
    every earlier factor has ``sum|f| <= 1``.

    A float input's first passes then stay within its magnitude (whole-number factors summed five
    values of 5e307 to infinity where the kernel's average is finite); a power of two scales exactly,
    so every partial sum keeps its bits.  (Integer inputs, far from any float's range, keep their
    whole-number factors for the loops that read them as they are.)

    >>> balanced((np.array([1.0, 2.0, 1.0]), np.array([1.0, 0.0, -1.0])))
    (array([0.25, 0.5 , 0.25]), array([ 4.,  0., -4.]))
    """
    factors = list(factors)
    shift = 0
    for i, f in enumerate(factors[:-1]):
        total = float(np.abs(f).sum())
        e = int(np.ceil(np.log2(total))) if total > 0 else 0
        if e > 0:
            factors[i], shift = np.ldexp(f, -e), shift + e
    if shift:
        factors[-1] = np.ldexp(factors[-1], shift)
    return tuple(factors)


def largest_magnitude(dtype: np.dtype) -> int:
    """The largest ``|value|`` an integer (or bool) ``dtype`` holds: what bounds an exact sum of its values.

    >>> largest_magnitude(np.dtype("uint8")), largest_magnitude(np.dtype("int8")), largest_magnitude(np.dtype("bool"))
    (255, 128, 1)
    """
    dtype = np.dtype(dtype)
    return 1 if dtype.kind == "b" else max(abs(int(np.iinfo(dtype).min)), int(np.iinfo(dtype).max))


def _integer_rank1(m: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer ``(col, row)`` with ``outer(col, row) == m`` for an integer-valued rank-1 ``m``, else None.

    The pivot's row and column, each divided by the gcd of its entries, and the integer
    that is left (Gauss's lemma: the product of two primitive vectors is primitive) on the row.
    """
    mi = m.astype(np.int64)
    pi, pj = np.unravel_index(np.argmax(np.abs(mi)), mi.shape)
    row, col = mi[pi, :], mi[:, pj]
    if not np.array_equal(np.outer(col, row), mi * mi[pi, pj]):
        return None
    col = col // np.gcd.reduce(np.abs(col))
    row = row // np.gcd.reduce(np.abs(row))
    left = mi[pi, pj] // (col[pi] * row[pj])
    row = row * left
    if not np.array_equal(np.outer(col, row), mi):
        return None
    return col.astype(np.float64), row.astype(np.float64)


_RANK1 = Memo()


def rank1_factors(k: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` with ``outer(col, row) == k`` (within the rounding of ``dtype``), or None.

    A kernel that is a whole-number matrix times a scale (Sobel, Prewitt, box, the
    binomial Gaussians over 16 or 256) factors into integer columns and integer rows with
    the scale applied once, on the row: every partial sum of integer data is then a whole
    number (times a power of two), so the separable path is exact wherever the direct
    one is.  Other kernels factor through the singular values: the kernel's largest row,
    and that row's column divided by the pivot.

    >>> rank1_factors(np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), np.dtype("float32"))
    (array([1., 2., 1.]), array([ 1.,  0., -1.]))
    >>> rank1_factors(np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256, np.dtype("float32"))[1]
    array([0.00390625, 0.015625  , 0.0234375 , 0.015625  , 0.00390625])

    Remembered per kernel (an SVD each call would cost a small image more than its
    convolution); the factors returned are read-only.
    """

    def build():
        pair = _rank1_factors(k, dtype)
        if pair is not None:
            frozen(*pair)
        return pair

    return _RANK1.get((array_key(k), np.dtype(dtype).str), build)


def _rank1_factors(k: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
    if min(k.shape) < 2:
        return None
    terms = exact_terms(k)
    if terms is not None:
        m, q, d = terms
        factors = _integer_rank1(m)
        # whole numbers not exactly rank 1: factors within the rounding would break the bytes the exact
        # paths give (a 2x5 kernel of 1500000 with one 1500001 went separable and was 1 off)
        if factors is None:
            return None
        # with a divisor the loops take the whole numbers and divide (engine._build_direct); these
        # factors, the row over d, serve the cost rules and the volume passes
        return factors[0], (factors[1] * q if d is None else factors[1] / d)
    s = np.linalg.svd(k, compute_uv=False)
    tol = 8 * np.finfo(dtype).eps
    if s[0] == 0 or s[1] > tol * s[0]:
        return None
    pi, pj = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    row = k[pi, :].copy()
    col = k[:, pj] / k[pi, pj]
    if np.abs(np.outer(col, row) - k).max() > tol * np.abs(k).max():
        return None
    return col, row


class KernelFacts:
    """What the path rule (:func:`.costs.choose_path`) reads from a 2-D kernel in a compute ``dtype``: its
    non-zero ``taps``, and whether it has rank-1 factors (:meth:`rank1`, found on the first ask: an SVD
    that a kernel no rule asks about never pays).  For a caller that remembers them per kernel.

    >>> facts = KernelFacts(np.outer([1.0, 2, 1], [1.0, 0, -1]), np.dtype("float32"))
    >>> facts.taps, facts.rank1()
    (6, True)
    """

    __slots__ = ("_rank1", "dtype", "k", "taps")

    def __init__(self, k: np.ndarray, dtype: np.dtype):
        self.k, self.dtype, self.taps, self._rank1 = k, dtype, int(np.count_nonzero(k)), None

    def rank1(self) -> bool:
        if self._rank1 is None:
            self._rank1 = rank1_factors(self.k, self.dtype) is not None
        return self._rank1


def separable_factors(k: np.ndarray, dtype: np.dtype) -> list[np.ndarray] | None:
    """One 1-D factor per axis with ``outer(*factors) == k`` (2-D or 3-D), or None when ``k`` is not rank 1.

    Integer kernels times a scale keep integer factors, the scale on the last one
    (:func:`rank1_factors`, applied axis by axis).

    >>> [f.tolist() for f in separable_factors(np.ones((2, 3, 2)) / 4, np.dtype("float32"))]
    [[1.0, 1.0], [1.0, 1.0, 1.0], [0.25, 0.25]]
    """
    if k.ndim == 2:
        pair = rank1_factors(k, dtype)
        return None if pair is None else list(pair)
    if k.ndim != 3 or min(k.shape) < 2:
        return None
    first = rank1_factors(k.reshape(k.shape[0], -1), dtype)
    if first is None:
        return None
    rest = rank1_factors(first[1].reshape(k.shape[1:]), dtype)
    if rest is None:
        return None
    factors = [first[0], rest[0], rest[1]]
    tol = 8 * np.finfo(dtype).eps * max(float(np.abs(k).max()), 1e-300)
    if np.abs(np.einsum("a,b,c->abc", *factors) - k).max() > tol:
        return None
    return factors


def data_stats(x3: np.ndarray) -> tuple[bool, float]:
    """``(whole_numbers, max_abs)`` of an array: what :func:`exact_form` reads from the data."""
    return x3.dtype.kind != "f" or bool(np.array_equal(np.rint(x3), x3)), float(np.abs(x3).max(initial=0))


def exact_form(x3: np.ndarray | None, k: np.ndarray, dtype: np.dtype, fill: float = 0.0,
               stats=None) -> tuple[np.ndarray, float, float, bool] | None:
    """``(m, q, bound, direct_exact)`` for whole-number input and ``k = m * q`` or ``m / d`` (integer
    ``m``, :func:`exact_terms`), else None.

    ``bound = max|x| * sum|m|`` bounds every partial sum (the constant ``fill`` counted with
    x); ``direct_exact``: the direct loops compute this correlation exactly (``q`` a power of
    two, or the divisor ``d`` applied once to the exact sum, and ``bound`` a whole number the
    compute dtype holds).  ``stats()``: the data's
    :func:`data_stats` when ``x3`` is not at hand (a tiled image's, from all its tiles).
    """
    terms = exact_terms(k)
    if terms is None:
        return None
    m, q, d = terms
    whole, top = stats() if stats is not None else data_stats(x3)
    bound = float(np.abs(m).sum()) * max(top, abs(float(fill)))
    if not whole:
        return None
    direct_exact = (d is not None or np.frexp(q)[0] == 0.5) and bound < 2.0 ** (np.finfo(dtype).nmant + 1)
    return m, q, bound, bool(direct_exact)


#: Below this bound on the partial sums a float64 FFT's error (about 2**-52 * log2(n) * bound)
#: stays far below 1/2, so rounding its result to whole numbers gives the exact sums.
FFT_EXACT_BOUND = 2.0**40


def fft_form(x3: np.ndarray | None, k: np.ndarray, dtype: np.dtype, mode_code: int, fill: float, pinned: str | None = None,
             stats=None):
    """How the FFT path treats this call.

    ``("exact", (m, q, d))``: whole-number input and a kernel of whole numbers times ``q``, or
    divided by ``d`` (:func:`exact_terms`; ``d`` None for the former): the FFT transforms ``m``
    in float64, rounds to the exact whole-number sums and applies ``q`` once, or divides by
    ``d`` (the direct loops' exact result where they are exact; one rounding otherwise).
    ``("avoid", bound)``: the direct loops are exact and the sums too large for that, ``bound`` on them (the
    dispatcher then takes a direct path; a pinned FFT is refused: :func:`refuse_inexact_pin`).  ``("plain", None)``: neither is exact; the FFT's
    error is relative to the block (see :mod:`kernelcli._core.fft`).  ``pinned``
    (``Paths.fft_form``): ``"exact"`` or ``"plain"`` decided by the caller from a larger
    image, of which ``x3`` is a tile (:mod:`kernelcli.tiled.pin`); ``stats``: see :func:`exact_form`.
    """
    if pinned == "plain":
        return "plain", None
    if pinned == "exact":
        terms = exact_terms(k)
        if terms is None:
            raise ValueError("the FFT's exact form was pinned for a kernel that has none")
        return "exact", terms
    if mode_code == CONSTANT and not float(fill).is_integer():
        return "plain", None
    form = exact_form(x3, k, dtype, fill, stats)
    if form is None:
        return "plain", None
    m, q, bound, direct_exact = form
    if bound < FFT_EXACT_BOUND:
        return "exact", exact_terms(k)
    return ("avoid", bound) if direct_exact else ("plain", None)


def refuse_inexact_pin(form: tuple, force: str | None) -> None:
    """Refuse (UsageError) ``paths=Paths(force="fft")`` where :func:`fft_form` says ``"avoid"``: whole-number sums
    from 2**40, which the direct loops give exactly and the FFT cannot (-38423574392622.016 for -38423574392622).
    A pinned path gives the answer every path gives, or none.

    >>> refuse_inexact_pin(("avoid", 2.0**45), "fft")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: paths=Paths(force='fft'): the FFT cannot give the exact result here: the whole-number sums reach 3.52e+13, and its float64 transforms round them to the exact sums only below 2**40 (the direct loops: up to 2**53); leave force unset (the default policy takes a direct loop here) or pin force='dense'
    """
    if form[0] == "avoid" and force == "fft":
        from ..errors import UsageError

        raise UsageError(f"paths=Paths(force='fft'): the FFT cannot give the exact result here: the whole-number sums "
                         f"reach {float(form[1]):.3g}, and its float64 transforms round them to the exact sums only below "
                         "2**40 (the direct loops: up to 2**53); leave force unset (the default policy takes a direct "
                         "loop here) or pin force='dense'")
