"""Helpers for arrays of any rank, declared once: per-axis sequences, padding, dtype rules, fills.

The per-axis sequences and the padding rule are pure Python and live in :mod:`kernelcli.shapes`
(``shape`` and ``params`` use them without numpy); they are re-exported here.

The checks of given kernels, weights and biases live in :mod:`kernelcli.given_values`, re-exported here.

The 2-D API (:mod:`kernelcli.api`, :mod:`kernelcli.layers`) and the 3-D one
(:mod:`kernelcli.volumes`) validate through these functions, as scipy.ndimage's
``_ni_support`` serves every filter of any rank.

Example
-------
>>> normalize_sequence(2, 3, "stride")
(2, 2, 2)
>>> resolve_padding("same", (3, 4))
(1, 1, 1, 2)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import ShapeError, UsageError
from .given_values import (  # noqa: F401 - the kernel, weights and bias checks, re-exported (their former home)
    as_numpy, check_finite_kernel, first_inexact_whole, kernel_values, real_array, refuse_masked, refuse_rounded_listed,
    refuse_rounded_whole, refuse_text_kernel,
)
from .numtext import EXACT_WHOLE, beyond_float, inexact_whole
from .shapes import resolve_padding_nd as resolve_padding  # noqa: F401  (declared in shapes: no numpy there)
from .whole_numbers import normalize_sequence  # noqa: F401  (declared in whole_numbers: no numpy there)

# ---------------------------------------------------------------- floating-point flags


def quiet_overflow(function: Callable) -> Callable:
    """``function`` run under ``np.errstate(all="ignore")``: a result beyond its dtype's range is an
    infinity (and a sum of opposite infinities NaN) on every path, without a RuntimeWarning, as the
    jitted loops and PyTorch give it.  Without this only the numpy and FFT paths, which a small input or
    a big kernel takes, warned: whether a caller saw a warning (an error under ``-W error``)
    depended on the image's size.  The CLI checks results itself.

    >>> @quiet_overflow
    ... def doubled(x):
    ...     return x * 2
    >>> doubled(np.float32(3e38))
    np.float32(inf)
    """

    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        return np.errstate(all="ignore")(function)  # a fresh state per call: 0.3 µs where a with block takes 1

    @functools.wraps(function)
    def quiet(*args: Any, **kwargs: Any) -> Any:  # numpy 1's decorator keeps one state for every thread
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return quiet


# ---------------------------------------------------------------- dtypes


def native(arr: np.ndarray) -> np.ndarray:
    """``arr`` in the machine's byte order (a big-endian ``>f4`` becomes ``float32``; values unchanged).

    >>> native(np.arange(3, dtype=">u2")).dtype
    dtype('uint16')
    """
    if arr.dtype.isnative:
        return arr
    return arr.astype(arr.dtype.newbyteorder("="))


def compute_dtype(dtype: Any) -> np.dtype:
    """The floating dtype images are computed in: float64 for float64 (and long double) and for
    integers wider than 8 bits (so large kernels on 16-bit data stay exact), float32 otherwise.

    >>> compute_dtype(np.dtype("uint16")), compute_dtype(np.dtype(">f8"))
    (dtype('float64'), dtype('float64'))
    """
    try:
        return _COMPUTE_DTYPES[dtype]
    except (KeyError, TypeError):
        pass
    dt = np.dtype(dtype).newbyteorder("=")
    wide = dt.itemsize >= 8 if dt.kind == "f" else dt.kind in "iu" and dt.itemsize > 1  # long double: float64, the widest the core has
    found = np.dtype(np.float64) if wide else np.dtype(np.float32)
    if isinstance(dtype, np.dtype) and len(_COMPUTE_DTYPES) < 64:
        _COMPUTE_DTYPES[dtype] = found
    return found


#: :func:`compute_dtype` of the dtypes seen (asked on every call: 0.4 us each time otherwise)
_COMPUTE_DTYPES: dict = {}


def volume_dtype(dtype: Any) -> np.dtype:
    """The floating dtype volumes are computed in by default: float64 for float64 (and long
    double) input and for 32- and 64-bit integers (float32 holds whole numbers exactly only up to
    2^24: an int32 label or count volume would be rounded before any filtering, where a 2-D array
    of it is not), float32 for everything else (a 512x512x400 CT in float64 alone would be
    four copies of its int16 data); ``dtype=`` (:func:`dtype_arg`) chooses another.

    >>> volume_dtype(np.int16), volume_dtype(">f8"), volume_dtype(np.int32)
    (dtype('float32'), dtype('float64'), dtype('float64'))
    """
    dt = np.dtype(dtype)
    wide = (dt.kind == "f" and dt.itemsize >= 8) or (dt.kind in "iu" and dt.itemsize >= 4)
    return np.dtype(np.float64) if wide else np.dtype(np.float32)


#: what ``dtype=`` of every array function takes besides None: a float dtype to compute in ...
COMPUTE_DTYPES = ("float32", "float64")
#: ... or an integer dtype to round the result into (a float32 result holds every whole number of
#: their range exactly, so rounding it and clipping are well defined)
ROUNDED_DTYPES = ("uint8", "int8", "uint16", "int16")


def dtype_arg(requested: Any, default: Any, name: str = "dtype", *, arr: Any = None, arr_name: str = "x") -> tuple[np.dtype, np.dtype | None]:
    """``(compute, rounded)`` of a ``dtype=`` argument: the dtype the call computes in, and the
    integer dtype its result is rounded into (None: the result is kept).

    The one meaning of ``dtype=`` in every array function (``conv2d``, ``pool2d``,
    ``convolve_slices``, ``conv3d``, ``correlate_separable`` and the volume filters):

    * None: the function's own ``default`` (see :func:`compute_dtype`, :func:`volume_dtype`);
    * float32 or float64: computed in that precision, the input cast to it first (exactly from
      float32 to float64 and from integers up to 2**24 into float32, 2**53 into float64; larger
      integers round, as any cast to that float does), the result in it;
    * uint8, int8, uint16 or int16: computed as by default, the result ``r`` rounded half to
      even and clipped to the dtype's range, ``numpy.clip(numpy.rint(r), lo, hi).astype(dtype)``
      (as the command line's 8-bit outputs round).

    Anything else is refused, naming the value: float16 has no arithmetic in the jitted core,
    and 32-bit integers have values a float32 result cannot tell apart.  Given the input
    ``arr`` (named ``arr_name`` in messages), a float input with values beyond the compute
    dtype's range is refused too (:func:`check_fits`), and, unless a float dtype is asked for,
    a 64-bit integer input with values the compute dtype would round (:func:`check_whole`).

    >>> dtype_arg("uint8", np.float32), dtype_arg(">f8", np.float32), dtype_arg(None, np.float64)
    ((dtype('float32'), dtype('uint8')), (dtype('float64'), None), (dtype('float64'), None))
    """
    if requested is None:
        check_whole(arr, np.dtype(default), arr_name)
        return check_fits(arr, np.dtype(default), arr_name), None
    try:
        dt = np.dtype(requested).newbyteorder("=")
    except (TypeError, ValueError):
        dt = None
    if dt is not None and dt.name in COMPUTE_DTYPES:
        return check_fits(arr, dt, arr_name), None
    if dt is not None and dt.name in ROUNDED_DTYPES:
        check_whole(arr, np.dtype(default), arr_name)
        return check_fits(arr, np.dtype(default), arr_name), dt
    raise UsageError(f"{name} {requested!r}: expected None (the default: {np.dtype(default).name}), "
                     f"{' or '.join(COMPUTE_DTYPES)} to compute in, or an integer dtype to round the result into: "
                     f"{', '.join(ROUNDED_DTYPES)}")


def weights_as_held(k: np.ndarray, compute: Any) -> np.ndarray:
    """``k`` with each non-zero weight below ``compute``'s normal range as that dtype holds it (2**-150 is 0 in
    float32), the rest as given: the weights the loops apply, which the FFT's exact form would otherwise keep.

    >>> weights_as_held(np.array([2.0**-150, 0.5]), np.float32).tolist()
    [0.0, 0.5]
    """
    tiny = (k != 0) & (np.abs(k) < np.finfo(np.dtype(compute)).tiny)
    return np.where(tiny, k.astype(compute), k) if tiny.any() else k


def check_fits(arr: Any, compute: np.dtype, name: str = "x", instead: str | None = None) -> np.dtype:
    """``compute``, once a float ``arr`` has been checked to fit it: a narrower float dtype
    (float64 to float32, long double to float64) would turn its large finite values into
    infinities, and the result would be infinite or refused as "not finite" input.  Refused
    (UsageError) naming the count and the dtype to compute in instead.  Other inputs (none, a
    lazy array: checked tile by tile) pass as they are.  ``instead``: what to do, for a caller without
    a ``dtype=`` to suggest.

    >>> check_fits(np.array([1.0, 3e38]), np.dtype(np.float32))
    dtype('float32')
    >>> check_fits(np.array([1.0, 1e39, -1e39]), np.dtype(np.float32))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: x: 2 value(s) beyond float32's range (about 3.4e+38 in magnitude): compute in float64 (dtype='float64')
    """
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or arr.dtype.itemsize <= compute.itemsize or not arr.size:
        return compute
    with np.errstate(over="ignore", invalid="ignore"):
        peak = max(abs(np.nanmax(arr)), abs(np.nanmin(arr))) if not np.isnan(arr).all() else 0.0
        if not np.isfinite(peak) or np.isfinite(compute.type(peak)):
            return compute  # an infinity or NaN is the finite check's to refuse
        beyond = int(np.count_nonzero(np.isfinite(arr) & ~np.isfinite(arr.astype(compute))))
    raise beyond_range_error(name, beyond, compute, instead)


def beyond_range_error(name: str, count: int, compute: Any, instead: str | None = None) -> UsageError:
    """:func:`check_fits`'s refusal of ``count`` values of ``name`` beyond the float ``compute``'s range.

    >>> print(beyond_range_error("x", 2, np.float32))
    x: 2 value(s) beyond float32's range (about 3.4e+38 in magnitude): compute in float64 (dtype='float64')
    """
    compute = np.dtype(compute)
    if instead is None:
        instead = "compute in float64 (dtype='float64')" if compute != np.float64 else "scale the input (float64 is the widest kernelcli computes in)"
    return UsageError(f"{name}: {count} value(s) beyond {compute.name}'s range (about {float(np.finfo(compute).max):.2g} in magnitude): {instead}")


def check_whole(arr: Any, compute: np.dtype, name: str = "x", *, dtype_arg: bool = True) -> None:
    """Refuse (:class:`RoundedInput`, a UsageError) a 64-bit integer ``arr`` with values a float ``compute`` would
    round, naming the first and how many: the default float64 of an int64 input is exact up to 2**53 (2**53 + 1
    became 2**53 in silence).  An explicit ``dtype='float64'`` takes the rounding (:func:`dtype_arg`);
    ``dtype_arg=False`` for a caller that has no such argument (the message then does not offer it).

    >>> check_whole(np.array([2**62, 1]), np.dtype(np.float64))
    >>> check_whole(np.array([1, 2**53 + 1]), np.dtype(np.float64))
    Traceback (most recent call last):
    ...
    kernelcli.ndsupport.RoundedInput: x: 1 value(s) past 2**53 that float64 would round; the first, at (1,), is 9007199254740993, which float64 reads as 9007199254740992: an int64 input is computed in float64, exact for whole numbers up to 2**53; give it as float64 to take the rounding (dtype='float64' in the Python API)
    """
    found = rounded_cells(arr, compute)
    if found is not None:
        count, where = found
        raise RoundedInput(name, count, where, int(arr[where]), arr.dtype.name, np.dtype(compute).name, api=dtype_arg)


def rounded_cells(arr: Any, compute: np.dtype) -> tuple[int, tuple[int, ...]] | None:
    """How many values of a 64-bit integer ``arr`` a float ``compute`` would round, and where the first is (C
    order); None when there is none (or ``arr`` is not such an array): the scan behind :func:`check_whole`.

    >>> rounded_cells(np.array([[1, 2**53 + 1], [2**53 + 3, 2**54]]), np.dtype(np.float64))
    (2, (0, 1))
    """
    compute = np.dtype(compute)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu" or arr.dtype.itemsize < 8 or compute.kind != "f" or not arr.size:
        return None
    if int(arr.max()) <= EXACT_WHOLE and int(arr.min()) >= -EXACT_WHOLE:
        return None
    far = np.flatnonzero((arr > EXACT_WHOLE) | (arr < -EXACT_WHOLE) if arr.dtype.kind == "i" else arr > EXACT_WHOLE)
    values = arr.flat[far]
    held = values.astype(compute)
    fits = held < float(np.iinfo(arr.dtype).max)  # (the largest int64 is 2**63 as a float: past the type, not back)
    rounded = far[~fits | (np.where(fits, held, 0).astype(arr.dtype) != values)]
    if not rounded.size:
        return None
    return int(rounded.size), tuple(int(i) for i in np.unravel_index(rounded[0], arr.shape))


class RoundedInput(UsageError):
    """:func:`check_whole`'s refusal, kept in parts so that the command line can reword it for a file
    (:meth:`for_input`: the file's name for the API's ``x``, and no Python API advice); it pickles by its parts
    (a tile's refusal crosses a cluster)."""

    def __init__(self, name: str, count: int, where: tuple[int, ...], value: int, dtype: str, compute: str,
                 api: bool = True) -> None:
        self.parts = (name, count, tuple(where), value, dtype, compute, api)
        advice = f" (dtype='{compute}' in the Python API)" if api else ""
        held = f"{'an' if dtype[0] == 'i' else 'a'} {dtype} input is computed in {compute}"
        first = inexact_whole(value, f"the first, at {tuple(where)},", held, int(np.dtype(compute).type(value)))
        super().__init__(f"{name}: {count} value(s) past 2**53 that {compute} would round; {first}; give it as {compute} "
                         f"to take the rounding{advice}")

    def __reduce__(self) -> tuple:
        return type(self), self.parts

    def for_input(self, name: str) -> "RoundedInput":
        """The same refusal as the command line words it, for the input ``name``."""
        _, count, where, value, dtype, compute, _ = self.parts
        return RoundedInput(name, count, where, value, dtype, compute, api=False)


def check_flip(flip: Any) -> bool:
    """``flip`` as a bool: True or False (a numpy bool too), anything else refused (UsageError).

    A truthy string or number would flip silently: ``flip="no"`` is a true convolution otherwise.

    >>> check_flip(np.bool_(True))
    True
    >>> check_flip("no")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: flip 'no': expected True (true convolution: the kernel flipped) or False (cross-correlation)
    """
    return check_bool(flip, "flip", "True (true convolution: the kernel flipped) or False (cross-correlation)")


def check_bool(value: Any, name: str, expected: str = "True or False") -> bool:
    """``value`` as a bool: True or False (a numpy bool too), anything else refused (UsageError)
    naming ``name`` and what is ``expected``: a truthy string would switch the option on silently.

    >>> check_bool("no", "ceil_mode")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: ceil_mode 'no': expected True or False
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise UsageError(f"{name} {value!r}: expected {expected}")


#: what to do about weights a float32 computation cannot hold, for the API and the command line alike
WIDER_FOR_WEIGHTS = "compute in float64 (dtype='float64'; on the command line, give a float64 .npy input)"


def check_fill(value: Any, dtype: Any, name: str = "pad_value") -> float:
    """A constant fill as a float, refused (UsageError) when ``dtype`` cannot hold it exactly.

    Integers must fit the integer type (300 is not a uint8) and be whole; floats must be
    finite and within the float type's range, and are returned as that type holds them (1e38 as float32's
    9.99999968e37).  Every path then fills with the same value.

    >>> check_fill(255, np.uint8)
    255.0
    >>> check_fill(300, np.uint8)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: pad_value 300 does not fit uint8: expected a whole number from 0 to 255
    """
    name = getattr(value, "option", name)  # (typed on the command line: its option's name, its text as typed)
    if isinstance(value, (str, bytes, bool, np.bool_)):  # float("7") and float(True) read them as numbers
        raise UsageError(f"{name} {value!r}: expected a number")
    try:
        v = float(value)
    except OverflowError:  # a Python int past float64's range (str() of it refuses past 4,300 digits)
        raise UsageError(f"{name} is {beyond_float(value)}: expected a finite number") from None
    except (TypeError, ValueError):
        raise UsageError(f"{name} {value!r}: expected a number") from None
    if v == 0.0:  # every dtype holds it (the default fill, on every call: no dtype lookups); -0.0 keeps its sign, as numpy.pad
        return v
    dt = np.dtype(dtype)
    whole = _whole_value(value, v)  # compared as an integer: float(2**63 - 1) is 2**63, past int64
    shown = getattr(value, "typed", None) or (str(whole) if whole is not None and not isinstance(value, (float, np.floating)) else repr(v))
    if not math.isfinite(v):
        raise UsageError(f"{name} {shown}: expected a finite number")
    if dt.kind == "b":
        if v not in (0.0, 1.0):
            raise UsageError(f"{name} {shown} does not fit bool: expected 0 or 1")
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        if whole is None or not info.min <= whole <= info.max:
            raise UsageError(f"{name} {shown} does not fit {dt.name}: expected a whole number from {info.min} to {info.max}")
        if abs(whole) > EXACT_WHOLE:  # every path carries the fill as a float64: 2**53 + 1 would be filled as 2**53
            raise UsageError(f"{name} {whole}: a fill is exact up to 2**53 = {2**53} in magnitude (it is carried as a "
                             f"float64); pad {dt.name} data with a smaller value, or pad it with numpy.pad")
    elif dt.kind == "f":
        if whole is not None and float(whole) != whole:  # 2**53 + 1, given as an int, would be filled as 2**53
            raise UsageError(f"{name} {whole}: a fill is exact up to 2**53 = {2**53} in magnitude (it is carried as a "
                             f"float64, which reads it as {int(v)}); give a value float64 holds")
        # refused when it rounds to infinity, not when it is past the largest value: 3.4028235e38, as numpy
        # prints float32's largest value, is a hair above it and rounds to it (numpy.pad fills with it)
        with np.errstate(over="ignore"):
            overflows = math.isinf(dt.type(v))
        if overflows:
            raise UsageError(f"{name} {shown} does not fit {dt.name}: expected a number within +-{str(np.finfo(dt).max)}")
        return float(dt.type(v))  # as the padded copy holds it: a sum redone in a wider type fills with the same value
    return v


def _whole_value(value: Any, as_float: float) -> int | None:
    """``value`` as an exact integer when it is whole (a Python or numpy integer as it is, a float when
    integral), else None."""
    import operator

    try:
        return operator.index(value)
    except TypeError:
        return int(as_float) if as_float.is_integer() else None


# ---------------------------------------------------------------- arrays


def as_real_array(x: Any, ranks: Sequence[int], name: str, layout: str, finite: bool = True) -> np.ndarray:
    """Validate an array of finite real numbers whose rank is one of ``ranks``; native byte order,
    a long double as float64 (refused by :func:`check_fits` where it holds values beyond it).

    ``layout`` names the expected axes in the message ("2-D (H, W) or 3-D (H, W, C)").
    ``finite=False`` leaves the finiteness to the caller, who must then call
    :func:`check_finite` unless its loop screened every value (a full pass over a large
    image costs as much as a memory-bound operation on it).

    >>> as_real_array([[1, 2]], (2,), "x", "2-D (H, W)").shape
    (1, 2)
    """
    refuse_masked(x, name)
    arr = as_numpy(x, name, "a rectangular array")
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ranks:
        raise ShapeError(f"{name}: expected a {layout} array, got shape {arr.shape}")
    if arr.size == 0:
        raise ShapeError(f"{name}: the array is empty (shape {arr.shape})")
    refuse_rounded_listed(x, arr, name)  # (2**64 - 1 in a list: float64 to numpy, before any dtype rule)
    arr = native(arr)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:  # long double: the core computes in float64 at most
        arr = arr.astype(check_fits(arr, np.dtype(np.float64), name))
    if finite:
        check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str = "x") -> None:
    """Refuse (UsageError) a float array holding NaN or infinity, counting them in the message.

    >>> check_finite(np.array([1.0, np.inf]))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: x: 1 value(s) are NaN or infinite; kernelcli expects finite input
    """
    if arr.dtype.kind == "f" and not all_finite(arr):
        raise non_finite_error(name, non_finite_count(arr))


def non_finite_error(name: str, count: int) -> UsageError:
    """:func:`check_finite`'s refusal of ``count`` NaN or infinite values of ``name``.

    >>> print(non_finite_error("volume", 3))
    volume: 3 value(s) are NaN or infinite; kernelcli expects finite input
    """
    return UsageError(f"{name}: {count} value(s) are NaN or infinite; kernelcli expects finite input")


def non_finite_refusal(where: Any, count: int) -> str:
    """The one refusal of an input holding NaN or infinity (an array's, a volume's; in memory and tile by tile).

    >>> non_finite_refusal("ct.nii", 2)
    'ct.nii: 2 value(s) are NaN or infinite; expected finite numbers'
    """
    return f"{where}: {count} value(s) are NaN or infinite; expected finite numbers"


def non_finite_count(arr: np.ndarray) -> int:
    """How many values of ``arr`` are NaN or infinite, counted along the first axis (no mask as large as ``arr``).

    >>> non_finite_count(np.array([[1.0, np.nan], [np.inf, 2.0]]))
    2
    """
    return sum(int(p.size - np.count_nonzero(np.isfinite(p))) for p in np.atleast_1d(arr))


#: values screened at a time by :func:`all_finite` (its boolean temporary stays in the CPU cache)
_FINITE_BLOCK = 1 << 18


def all_finite(arr: np.ndarray) -> bool:
    """True when no value is NaN or infinite: ``np.isfinite(arr).all()``, a block of rows at a time.

    Each block's boolean temporary is a quarter of a MiB (a boolean copy of a whole CT would
    cost another 100 MB), and the screen stops at the first block that is not finite.  One
    thread, no BLAS: a threaded ``np.dot`` screen stalled whenever the machine was busy
    (512x512 float64: 7.6 ms on average at load 4, against 0.06 ms for this).

    >>> all_finite(np.array([[1.0, 2.0], [3.0, np.nan]])), all_finite(np.full((2, 2), 1e38, np.float32))
    (False, True)
    """
    if arr.ndim == 0 or arr.size <= _FINITE_BLOCK:
        return bool(np.isfinite(arr).all())
    step = max(1, _FINITE_BLOCK // (arr.size // arr.shape[0]))
    return all(bool(np.isfinite(arr[i : i + step]).all()) for i in range(0, arr.shape[0], step))


#: values reduced at a time by :func:`min_max` (a block stays in the CPU cache for the second reduction)
_MIN_MAX_BLOCK = 1 << 16


def min_max(values: Any) -> tuple[Any, Any]:
    """``(values.min(), values.max())`` as Python numbers, reading a large array from memory once:
    block by block, the maximum taken while the block is still in the CPU cache (12 MP RGB
    float32: 17-19 -> 13 ms).  A NaN anywhere makes both NaN, as numpy's own reductions do.
    Whole-number arrays give ints (:func:`exact_number`): float64 would round an int64 past 2**53.

    >>> import numpy as np
    >>> min_max(np.array([[3.0, -1.0], [7.5, 2.0]])), min_max(np.array([2**53 + 1, 2], np.int64))
    ((-1.0, 7.5), (2, 9007199254740993))
    """
    flat = values.reshape(-1) if values.flags.c_contiguous else None
    if flat is None or flat.size <= 4 * _MIN_MAX_BLOCK:
        return exact_number(values.min()), exact_number(values.max())
    lo, hi = flat[:1].min(), flat[:1].max()
    for start in range(0, flat.size, _MIN_MAX_BLOCK):
        block = flat[start : start + _MIN_MAX_BLOCK]
        lo, hi = np.minimum(lo, block.min()), np.maximum(hi, block.max())
    return exact_number(lo), exact_number(hi)


def exact_number(value: Any) -> Any:
    """A numpy scalar as the Python number that holds it exactly: int for a whole-number type, else float.

    >>> exact_number(np.uint64(2**64 - 1)), exact_number(np.float32(0.5)), exact_number(np.bool_(True))
    (18446744073709551615, 0.5, 1)
    """
    return int(value) if np.asarray(value).dtype.kind in "iub" else float(value)
