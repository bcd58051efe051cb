"""Kernel analysis: integer forms, rank-1 and separable factors, and when a path is exact.

What the dispatcher (:mod:`.engine`) and the cost rules (:mod:`.costs`) read from a kernel
and, for exactness, from the data: ``k == m * q`` with ``m`` whole numbers
(:func:`integer_form`), the 1-D factors of a rank-1 kernel (:func:`rank1_factors`,
:func:`separable_factors`), and whether the direct loops or the FFT give an exact result
(:func:`exact_form`, :func:`fft_form`).  Pure numpy, no jitted code.

Example
-------
>>> import numpy as np
>>> rank1_factors(np.outer([1, 2, 1], [1, 0, -1]), np.dtype("float32"))
(array([1., 2., 1.]), array([ 1.,  0., -1.]))
"""

from __future__ import annotations

import numpy as np

from .config import CONSTANT
from .memo import Memo, array_key, frozen


def integer_form(k: np.ndarray, power_of_two: bool = False) -> tuple[np.ndarray, float] | None:
    """``(m, q)`` with ``k == m * q`` exactly, ``m`` integer-valued (below 2**31) and ``q > 0``; else None.

    ``q`` is the smallest magnitude in ``k`` when every value is a whole multiple of it (a
    box of 1/9s: m = ones, q = 1/9), else the smallest power of two that divides every value
    (a binomial kernel over 256: m = the integers, q = 1/256); only the latter with ``power_of_two``.

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
    return None


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
    form = integer_form(k)
    if form is not None:
        m, q = form
        factors = _integer_rank1(m)
        # whole numbers not exactly rank 1: factors within the rounding would break the bytes the exact
        # paths give (a 2x5 kernel of 1500000 with one 1500001 went separable and was 1 off)
        return None if factors is None else (factors[0], factors[1] * q)
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
    """``(m, q, bound, direct_exact)`` for whole-number input and ``k = m * q`` (integer ``m``), else None.

    ``bound = max|x| * sum|m|`` bounds every partial sum (the constant ``fill`` counted with
    x); ``direct_exact``: the direct loops compute this correlation exactly (``q`` a power of
    two and ``bound`` a whole number the compute dtype holds).  ``stats()``: the data's
    :func:`data_stats` when ``x3`` is not at hand (a tiled image's, from all its tiles).
    """
    form = integer_form(k)
    if form is None:
        return None
    m, q = form
    whole, top = stats() if stats is not None else data_stats(x3)
    bound = float(np.abs(m).sum()) * max(top, abs(float(fill)))
    if not whole:
        return None
    direct_exact = np.frexp(q)[0] == 0.5 and bound < 2.0 ** (np.finfo(dtype).nmant + 1)
    return m, q, bound, bool(direct_exact)


#: Below this bound on the partial sums a float64 FFT's error (about 2**-52 * log2(n) * bound)
#: stays far below 1/2, so rounding its result to whole numbers gives the exact sums.
FFT_EXACT_BOUND = 2.0**40


def fft_form(x3: np.ndarray | None, k: np.ndarray, dtype: np.dtype, mode_code: int, fill: float, pinned: str | None = None,
             stats=None):
    """How the FFT path treats this call.

    ``("exact", (m, q))``: whole-number input and a kernel of whole numbers times ``q``: the
    FFT transforms ``m`` in float64, rounds to the exact whole-number sums and applies ``q``
    once (the direct loops' exact result where they are exact; one rounding otherwise).
    ``("avoid", None)``: the direct loops are exact and the sums too large for that (the
    dispatcher then takes a direct path).  ``("plain", None)``: neither is exact; the FFT's
    error is relative to the block (see :mod:`kernelcli._core.fft`).  ``pinned``
    (``Paths.fft_form``): ``"exact"`` or ``"plain"`` decided by the caller from a larger
    image, of which ``x3`` is a tile (:mod:`kernelcli.tiled.pin`); ``stats``: see :func:`exact_form`.
    """
    if pinned == "plain":
        return "plain", None
    if pinned == "exact":
        form = integer_form(k)
        if form is None:
            raise ValueError("the FFT's exact form was pinned for a kernel that has none")
        return "exact", form
    if mode_code == CONSTANT and not float(fill).is_integer():
        return "plain", None
    form = exact_form(x3, k, dtype, fill, stats)
    if form is None:
        return "plain", None
    m, q, bound, direct_exact = form
    if bound < FFT_EXACT_BOUND:
        return "exact", (m, q)
    return ("avoid", None) if direct_exact else ("plain", None)
