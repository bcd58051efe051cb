"""Numbers a caller gives (a kernel, weights, a bias) taken exactly as given, or refused.

``np.asarray`` reads text as numbers, drops a mask, makes a list holding a float and a large
int float64 (rounding the int) and turns ragged rows into an error of its own words: each of
these is refused here in the words every kernel, weights and bias are refused in.

>>> kernel_values([[1, 0, -1]]).dtype
dtype('float64')
>>> first_inexact_whole(np.array([2**53 + 1]))
((0,), 9007199254740993)
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from .errors import InvalidKernel, ShapeError, UsageError
from .numtext import EXACT_WHOLE, below_range, inexact_whole


#: what values of a dtype kind that is not a real number are, in a refusal
_NOT_REAL_WORDS = {"c": "complex", "U": "text", "S": "text", "O": "non-numeric (None, objects)", "M": "date", "m": "time span",
                   "V": "structured (record)"}


def not_real_words(dtype: Any) -> str | None:
    """What values of ``dtype`` are when they are not real numbers (bool, integer, float), else None.

    >>> not_real_words(np.dtype("complex128")), not_real_words(np.dtype("uint8")), not_real_words([("a", "i4")])
    ('complex', None, 'structured (record)')
    """
    dtype = np.dtype(dtype)
    return None if dtype.kind in "biuf" else _NOT_REAL_WORDS.get(dtype.kind, str(dtype))


def real_array(values: Any, name: str = "kernel") -> np.ndarray:
    """``values`` as a numpy array of real numbers (bool, integer or float), as given (not cast), or refused in the
    words every kernel, weights and bias are refused in: a ShapeError for ragged rows, a UsageError for text,
    complex or None (complex parts would be dropped, text read as numbers, None as NaN).

    >>> real_array([[1, 2]]).dtype.kind
    'i'
    >>> real_array([["1", "2"]], "weights")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: weights: text values, expected real numbers
    """
    given = as_numpy(values, name)
    what = not_real_words(given.dtype)
    if what is not None:
        raise UsageError(f"{name}: {what} values, expected real numbers")
    return given


def as_numpy(values: Any, name: str, expected: str = "a rectangular matrix") -> np.ndarray:
    """``np.asarray(values)``, its failures in kernelcli's words naming ``name``: a ShapeError for ragged rows
    (``expected`` says what was wanted), a UsageError for an array type numpy cannot read, whose own advice is kept
    (a torch sparse tensor: "Use Tensor.to_dense() first"; one with its conjugate bit set; a list of tensors that
    require grad), where that type's RuntimeError or TypeError was what a caller saw.

    >>> as_numpy([[1, 2], [3]], "kernel")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: kernel: rows of different lengths, expected a rectangular matrix
    """
    try:
        return np.asarray(values)
    except ValueError:  # numpy's "inhomogeneous shape"
        raise ShapeError(f"{name}: rows of different lengths, expected {expected}") from None
    except RecursionError:  # (a RuntimeError too, but a list holding itself: not a foreign array's refusal)
        raise
    except (RuntimeError, TypeError) as exc:
        said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{name}: numpy cannot read this {type(values).__name__}: {said}") from None


#: the names ``kernel_3d`` knows (kernelcli.kernel_build.KERNELS_3D's, which a test checks equal), declared here where
#: a 3-D kernel given as text is refused: the arrays layer's table is above this one
NAMED_3D = ("box_3d", "gaussian_3d", "sobel_3d", "sobel_3d_x", "sobel_3d_y", "sobel_3d_z")


def refuse_text_kernel(values: Any, name: str = "kernel", ndim: int = 2) -> None:
    """Refuse (UsageError) a kernel given as text (a name or spec, alone or as a list's one item), pointing to where
    a kernel of ``ndim`` dimensions is built from it: ``load_kernel`` for a 2-D kernel, ``kernel_3d`` for
    ``conv3d``'s 3-D one (its names, :data:`NAMED_3D`, listed), ``load_kernel(...).array()[None, None]`` for a
    layer's 4-D weights.  "text values, expected real numbers" was all a caller was told.

    >>> refuse_text_kernel(np.str_("sobel_v"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: kernel: the text 'sobel_v', expected real numbers; a kernel named or written as text is read by load_kernel: pass load_kernel('sobel_v')
    """
    text = _kernel_text(values)
    if text is None:
        return
    spec = text if len(text) <= 60 else text[:57] + "..."
    if ndim == 3:
        key = text.strip().lower().replace("-", "_")
        names = f", NAME one of {', '.join(NAMED_3D)}"
        fix = (f"pass kernel_3d({key!r}) (from kernelcli.volumes)" if key in NAMED_3D else
               f"a named 3-D kernel is kernel_3d(NAME) from kernelcli.volumes{names}; a size in mm is three 1-D "
               "kernels (gaussian_mm, box_mm) for correlate_separable")
        raise UsageError(f"{name}: the text {spec!r}, expected a (kz, ky, kx) array of real numbers; {fix}")
    how = f"load_kernel({spec!r}).array()[None, None] (one filter over one channel)" if ndim == 4 else f"load_kernel({spec!r})"
    raise UsageError(f"{name}: the text {spec!r}, expected real numbers; a kernel named or written as text is read by "
                     f"load_kernel: pass {how}")


def _kernel_text(values: Any) -> str | None:
    """The name or spec ``values`` is (text, or a list or tuple of one text that is not a number), else None."""
    if isinstance(values, (list, tuple)) and len(values) == 1 and isinstance(values[0], str):
        try:
            float(values[0])
        except ValueError:
            return str(values[0])
        return None  # (["1.5"]: text numbers, refused as "text values")
    return str(values) if isinstance(values, str) else None


def kernel_values(kernel: Any, ndim: int | None = 2, name: str = "kernel") -> np.ndarray:
    """An ``ndim``-D float64 kernel from an array-like or a catalogue ``Kernel``, not yet checked finite
    (:func:`check_finite_kernel`); a float64 array comes back as it is (the caller's, not a copy).  ``ndim=None``
    leaves the rank to the caller (a separable pass's 1-D kernel); ``name`` is what messages call it.

    >>> kernel_values([[1, 2, 3]]).dtype
    dtype('float64')
    >>> kernel_values(["1", "2"], None, "kernel along x")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: kernel along x: text values, expected real numbers
    """
    if not isinstance(kernel, np.ndarray) and hasattr(kernel, "array") and callable(kernel.array):
        kernel = kernel.array()
    if ndim in (2, 3):
        refuse_text_kernel(kernel, name, ndim)
    refuse_masked(kernel, name)
    if not (isinstance(kernel, np.ndarray) and kernel.dtype == np.float64):
        given = real_array(kernel, name)
        if is_long_double(given):  # (read as a long-double file is: 1e-400L was 0 in silence, 1e400L named by its digits)
            given = float64_of(given, name, name)
        listed, kernel = kernel, np.asarray(given, dtype=np.float64)
        # (a float64 kernel, the usual call, is spared the look; a small one, as a list gives, looked at in Python first)
        if given.dtype.itemsize >= 8 and given.size and (given.size > 64 or max(values := given.ravel().tolist())
                                                         >= EXACT_WHOLE or min(values) <= -EXACT_WHOLE):
            refuse_rounded_whole(given, name, listed=listed)  # (a list's ints beside a float: rounded by numpy)
    k = np.asarray(kernel, dtype=np.float64)
    if ndim is not None and k.ndim != ndim:
        what = "2-D matrix" if ndim == 2 else f"{ndim}-D (kz, ky, kx) matrix"
        raise ShapeError(f"{name}: expected a {what}, got shape {k.shape}")
    if k.size == 0:
        raise ShapeError(f"{name}: the matrix is empty" if ndim else f"{name}: empty")
    return k


def _long_what(name: str) -> str:
    """Which of :data:`_LONG_NUMBERS`'s words an argument called ``name`` is counted in (``kernel along x``: kernel)."""
    return next((what for what in ("weights", "bias") if name.startswith(what)), "kernel")


def first_inexact_whole(arr: Any) -> tuple[tuple[int, ...], int] | None:
    """Where the first whole number of an int64, uint64 or long-double ``arr`` is that float64 rounds (or cannot hold:
    a long double past 1.8e308), and that number; None when float64 holds every one (every narrower type is held
    exactly).  The one scan behind :func:`refuse_rounded_whole` and the kernel, weights and bias files' checks.

    >>> first_inexact_whole(np.array([[1, 2**53 + 1]])), first_inexact_whole(np.array([2**53, 2**60]))
    (((0, 1), 9007199254740993), None)
    """
    wide_int = arr.dtype.kind in "iu" and arr.dtype.itemsize == 8
    if not (wide_int or arr.dtype.kind == "f" and arr.dtype.itemsize > 8) or not arr.size:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        held = arr.astype(np.float64)
        far = ~(np.abs(held) < EXACT_WHOLE)  # (2**53 + 1 reads as 2**53: not above it)
        if not wide_int:
            far &= np.isfinite(arr) & (np.floor(arr) == arr)  # (a fraction is rounded as any float64 is)
    for where in zip(*np.nonzero(far)):
        exact = int(arr[where])
        if not math.isfinite(held[where]) or int(held[where]) != exact:
            return tuple(map(int, where)), exact
    return None


def refuse_rounded_whole(given: np.ndarray, name: str, error: type[Exception] | None = None, listed: Any = None) -> None:
    """Refuse (``error``, InvalidKernel by default) a whole number of a 64-bit integer or long-double ``given`` that
    float64 rounds (:func:`first_inexact_whole`): the command line refuses 2**53 + 1 in a kernel, weights or a bias,
    in any form, where ``conv2d`` and ``conv_layer`` took it as 2**53 in silence.  ``listed``: the nested lists
    ``given`` was made from, whose Python ints numpy rounded already where a float stands beside them.

    >>> refuse_rounded_whole(np.array([[1, 2**53 + 1]]), "kernel")
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: kernel: the weight at (0, 1) is 9007199254740993, which float64 reads as 9007199254740992: kernel weights are float64, exact for whole numbers up to 2**53; give it as float64 to take the rounding
    >>> refuse_rounded_whole(np.array([[2.0**53, 0.5]]), "kernel", listed=[[2**53 + 1, 0.5]])
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: kernel: the weight at (0, 0) is 9007199254740993, which float64 reads as 9007199254740992: kernel weights are float64, exact for whole numbers up to 2**53; give it as float64 to take the rounding
    """
    found = first_inexact_whole(given)
    if found is None and isinstance(listed, (list, tuple)) and given.dtype.kind == "f":
        found = _first_rounded_listed(listed, (), given)
    if found is None:
        return
    where, value = found
    with np.errstate(over="ignore"):
        held = float(given[where].astype(np.float64))
    error = InvalidKernel if error is None else error
    raise error(f"{name}: {rounded_whole_said(value, where, name, int(held) if math.isfinite(held) else held)}")


def refuse_rounded_listed(listed: Any, arr: np.ndarray, name: str = "x") -> None:
    """Refuse (UsageError) an input given as nested lists whose whole number numpy rounded in making ``arr``: a list
    holding an int past int64 (2**64 - 1), or one past 2**53 beside a float, is read as float64, and ``pool2d`` gave
    2**64 for 2**64 - 1 in silence, where the same values as an integer array are kept (``pad2d``, max/min pooling) or
    refused by name (the functions that compute in float).

    >>> refuse_rounded_listed([[2**64 - 1, 0]], np.asarray([[2**64 - 1, 0]]))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: x: the value at (0, 0) is 18446744073709551615, which float64 reads as 18446744073709551616: numpy reads a list holding a float, or an int past int64, as float64, exact for whole numbers up to 2**53; give x as an integer array (numpy.array(x, dtype='uint64')) or as float64 to take the rounding
    """
    if not isinstance(listed, (list, tuple)) or arr.dtype.kind != "f" or not arr.size:
        return
    with np.errstate(invalid="ignore"):
        if (np.abs(arr) < EXACT_WHOLE).all():  # (every int past 2**53 is read as a float at least that large)
            return
    found = _first_rounded_listed(listed, (), arr)
    if found is None:
        return
    where, value = found
    with np.errstate(over="ignore"):
        held = float(np.float64(value)) if abs(value) < 2**1024 else math.inf
    fits = next((t for t in ("int64", "uint64") if np.iinfo(t).min <= value <= np.iinfo(t).max), None)
    if not (np.floor(arr) == arr).all():  # (an integer array would cut the fractions beside it)
        fits = None
    integer = f"as an integer array (numpy.array({name}, dtype={fits!r})) or " if fits and name.isidentifier() else ""
    said = inexact_whole(value, f"the value at {where}", "numpy reads a list holding a float, or an int past int64, as "
                         "float64", int(held) if math.isfinite(held) else held)
    raise UsageError(f"{name}: {said}; give {name if integer else 'it'} {integer}as float64 to take the rounding")


def rounded_whole_said(value: int, where: tuple, what: str = "kernel", rounded: Any = None) -> str:
    """The one sentence refusing a whole number ``value`` at ``where`` of a kernel, weights or a bias (``what``, or
    an argument's name starting with one) that float64 rounds, whatever its dtype (int64, a long double) and wherever
    it is (a file, an argument): they were worded three ways, with and without the way out.

    >>> rounded_whole_said(2**53 + 1, (0, 1))
    'the weight at (0, 1) is 9007199254740993, which float64 reads as 9007199254740992: kernel weights are float64, exact for whole numbers up to 2**53; give it as float64 to take the rounding'
    """
    _, one, _, held = _LONG_NUMBERS[_long_what(what)]
    said = inexact_whole(value, f"the {one} at {tuple(map(int, where))}", held, rounded)
    return f"{said}; give it as float64 to take the rounding"


def not_finite_said(values: np.ndarray, what: str = "kernel") -> str | None:
    """The first NaN or infinity of a kernel, weights or a bias (``what``) by its position, and how many there are, or
    None where every value is finite (as :func:`rounded_whole_said` names a rounded one).

    >>> not_finite_said(np.array([[1.0, 1.0, np.nan], [np.inf, 1.0, 1.0]]))
    'the weight at (0, 2) is nan, expected a finite number (2 values are NaN or infinite)'
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    count = int(bad.sum())
    return (f"the {_LONG_NUMBERS[_long_what(what)][1]} at {where} is {float(values[where])!r}, expected a finite number "
            f"({count} {'value is' if count == 1 else 'values are'} NaN or infinite)")


def _first_rounded_listed(values: Any, where: tuple[int, ...], held: np.ndarray) -> tuple[tuple[int, ...], int] | None:
    """Where the first int among nested lists ``values`` is that float64 rounds, and that int; None if none.

    ``held``: the array numpy made of ``values``.  A list of floats alone is passed over in one C-level look at its
    types, and in a list of numbers only the values ``held`` flags as past 2**53 are looked at: a Python step for
    every value took pool2d of a 2000x2000 list of 1e20s 1.9 s instead of 0.26.

    >>> _first_rounded_listed([[0.5, 1e20], [2**53 + 1, 2**60]], (), np.asarray([[0.5, 1e20], [2**53 + 1, 2**60]]))
    ((1, 0), 9007199254740993)
    """
    kinds = set(map(type, values))
    if kinds <= _FLOATS:
        return None
    # rows of any kind (a namedtuple, a list subclass: numpy reads them as it reads lists) are walked; only a row of
    # numbers alone is looked at where held flags it (exact types missed such rows: audit 217 #3)
    if not all(issubclass(kind, _NUMBERS) for kind in kinds):
        for i, value in enumerate(values):
            if isinstance(value, np.ndarray):  # (an int64 row beside a list of floats: numpy rounds it too)
                found = None if (inner := first_inexact_whole(value)) is None else (where + (i,) + inner[0], inner[1])
            elif isinstance(value, (list, tuple)) or (held.ndim > 1 and not isinstance(value, _NUMBERS)):
                found = _first_rounded_listed(value, where + (i,), held[i])
            else:
                found = _rounded_int(value, where + (i,))
            if found is not None:
                return found
        return None
    with np.errstate(invalid="ignore"):
        flagged = np.flatnonzero(~(np.abs(held) < EXACT_WHOLE))  # (every int past 2**53 is read as a float at least that large)
    for i in flagged.tolist():
        found = _rounded_int(values[i], where + (i,))
        if found is not None:
            return found
    return None


#: what a list holding no int to round is made of; what a row of numbers alone is made of (subclasses too)
_FLOATS = {float, np.float64, np.float32, np.float16}
_NUMBERS = (int, float, np.number, np.bool_)


def _rounded_int(value: Any, where: tuple[int, ...]) -> tuple[tuple[int, ...], int] | None:
    """``(where, value)`` for an int ``value`` float64 rounds, else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and abs(int(value)) > EXACT_WHOLE:
        with np.errstate(over="ignore"):
            held = float(np.float64(int(value))) if abs(int(value)) < 2**1024 else math.inf
        if not math.isfinite(held) or int(held) != int(value):
            return where, int(value)
    return None


#: a long double's numbers as their refusals and notes name them (as its int64 ones are): what -> (the whole, one at a
#: position, what is counted, why float64)
_LONG_NUMBERS = {"kernel": ("a {dtype} kernel is", "weight", "weights", "kernel weights are float64"),
                 "weights": ("{dtype} weights are", "value", "weights", "kernel weights are float64"),
                 "bias": ("a {dtype} bias is", "value", "values", "bias values are float64")}


def float64_of(arr: np.ndarray, source: Any, what: str = "kernel", error: type[Exception] | None = None) -> np.ndarray:
    """``arr``, a kernel, weights or a bias (``what``, or an argument's name starting with one) read from the file
    ``source`` or given in memory (``source``: its argument's name), as float64.

    A long-double value float64 cannot hold (past 1.8e308), reads as 0 (1e-400L, as ``1e-400`` typed is:
    :func:`~kernelcli.numtext.below_range`) or holds as another whole number is refused (``error``, InvalidKernel by
    default: exit 3); the others float64 rounds are counted in a note.  The one reading of long doubles: ``--weights`` and ``--bias-file`` read 0.1L as 0.1 and 1e-400L
    as 0 in silence, and ``conv2d`` read 1e-400L as 0 and named 1e400L by its 401 digits.

    >>> float64_of(np.array([[0.5, 2.0]], dtype=np.longdouble), "k.npy").tolist()
    [[0.5, 2.0]]
    """
    with np.errstate(over="ignore", under="ignore"):  # (1e400L and 1e-400L are refused or noted below)
        values = arr.astype(np.float64)
    if not is_long_double(arr):
        return values
    whole, one, counted, held = _LONG_NUMBERS[_long_what(what)]
    error = InvalidKernel if error is None else error

    def at(where: tuple) -> str:
        return f"the {one} at {tuple(map(int, where))}"

    for where in zip(*np.nonzero(np.isfinite(arr) & ~np.isfinite(values))):
        raise error(f"{source}: {at(where)} is {arr[where]!s}, beyond float64's range: {held}")
    for where in zip(*np.nonzero((arr != 0) & (values == 0))):  # (as 1e-400 typed is: refused, not a silent 0)
        raise error(f"{source}: {below_range(str(arr[where]), at(where))}")  # (format() of a long double: 0.0)
    rounded = np.isfinite(arr) & (values.astype(arr.dtype) != arr)
    for where in zip(*np.nonzero(rounded & (np.floor(arr) == arr))):  # (in an int64's words)
        raise error(f"{source}: {rounded_whole_said(int(arr[where]), where, what)}")
    if rounded.any():
        logging.getLogger("kernelcli").warning(
            "%s", f"{source}: {whole.format(dtype=arr.dtype)} read as float64 ({held}): {int(rounded.sum())} of its "
                  f"{arr.size} {counted} rounded to the nearest float64")
    return values


def is_long_double(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds long doubles (wider than float64), which :func:`float64_of` reads.

    >>> is_long_double(np.zeros(2, np.longdouble)) == (np.finfo(np.longdouble).nmant > 52), is_long_double(np.zeros(2))
    (True, False)
    """
    return arr.dtype.kind == "f" and arr.dtype.itemsize > 8


def check_finite_kernel(k: np.ndarray) -> bool:
    """Refuse (UsageError) a kernel holding NaN or infinity; True otherwise.

    >>> check_finite_kernel(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: kernel: the weight at (0, 1) is nan, expected a finite number (1 value is NaN or infinite)
    """
    said = not_finite_said(k)
    if said is not None:  # (by its position, as a kernel file's is: "values must be finite" said neither where nor how many)
        raise UsageError(f"kernel: {said}")
    return True


def refuse_masked(values: Any, name: str) -> None:
    """Refuse (UsageError) a numpy masked array: ``np.asarray`` drops the mask, and the cells under it were used as
    data in silence (an input, a kernel, weights or a bias alike).

    >>> refuse_masked(np.ma.masked_array([1.0, 2.0], mask=[True, False]), "kernel")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: kernel: a masked array, whose mask kernelcli would not follow; pass kernel.filled(value) to fill the masked cells, or kernel.data to use them as they are
    """
    its = f"{name}." if name.isidentifier() else "its ."
    if isinstance(values, np.ma.MaskedArray):
        raise UsageError(f"{name}: a masked array, whose mask kernelcli would not follow; pass {its}filled(value) "
                         f"to fill the masked cells, or {its}data to use them as they are")
    if type(values).__module__.split(".")[0] == "torch":  # (told without importing torch)
        _refuse_torch(values, name, its)


#: the dtypes of a torch tensor numpy holds (bfloat16, float8 and quantised ones it does not)
_HELD_TORCH_DTYPES = frozenset(f"torch.{t}" for t in (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex64", "complex128"))


def _refuse_torch(tensor: Any, name: str, its: str) -> None:
    """Refuse (UsageError) a torch tensor numpy cannot read, naming the fix: torch's own RuntimeError ("Can't call
    numpy() on Tensor that requires grad") or TypeError ("Got unsupported ScalarType BFloat16") was what a caller saw."""
    if getattr(tensor, "requires_grad", False):
        raise UsageError(f"{name}: a torch tensor that requires grad (kernelcli computes no gradients); pass "
                         f"{its}detach()")
    device = getattr(getattr(tensor, "device", None), "type", "cpu")
    if device == "meta":  # (its .cpu() raises NotImplementedError: there is nothing to copy)
        raise UsageError(f"{name}: a torch tensor on the meta device, which holds no values (a shape only); give one "
                         "that holds them, on the cpu")
    if device != "cpu":
        raise UsageError(f"{name}: a torch tensor on {device}; pass {its}cpu()")
    dtype = str(getattr(tensor, "dtype", ""))
    if dtype and dtype not in _HELD_TORCH_DTYPES:
        raise UsageError(f"{name}: a {dtype} tensor, a dtype numpy does not hold; pass {its}float() (float32) or "
                         f"{its}double() (float64)")
