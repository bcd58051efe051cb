"""The kernel file format: the :class:`Kernel` value, its limits, and the validation of a parsed file.

Every error is an :class:`~kernelcli.errors.InvalidKernel` (exit 3) whose one-line message
names the file and the field.  Split from :mod:`kernelcli.catalog` (finding and loading),
which re-exports every name here; numpy is imported only by the methods that need it.

>>> Kernel("k", ((1.0, 2.0), (3.0, 4.0))).shape
(2, 2)
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any

from .errors import InvalidKernel
from .kernel_json import _NotFinite
from .kernel_names import (  # noqa: F401 - a kernel's name, re-exported (its former home)
    LOOKUP_RULE, MAX_NAME_LENGTH, NAME_PATTERN, NAME_RULE, SPEC_NAME_PATTERN, built_name, built_name_hint,
)
from .long_doubles import long_read
from .numtext import EXACT_WHOLE, HELD_NUMBER, beyond_float, inexact_whole, unshown_character, zeroed_by_scale
from .records import record

#: largest kernel side, and largest kernel file (checked before the file is read)
from .limits import MAX_KERNEL_SIDE as MAX_SIDE  # noqa: E402 - declared once, in kernelcli.limits
MAX_FILE_BYTES = 1 << 20
ENV_PATH = "KERNELCLI_KERNEL_PATH"
#: family of a kernel read from a single-kernel file or built from a parametric spec
CUSTOM_FAMILY = "custom"
#: a kernel is separable when its second singular value is below this share of the first: 8 float64 epsilons, the
#: compute path's test (kernelcli._core.forms.rank1_factors), which the label follows (1e-9 called kernels separable
#: that the compute path rightly applies in 2-D)
SEPARABLE_RTOL = 8 * 2.0**-52
#: a matrix counts as summing to zero below this share of the sum of its absolute values
_ZERO_SUM_RTOL = 1e-12

_KERNEL_KEYS = ("name", "matrix", "scale", "description", "source")
_SINGLE_FILE_KEYS = ("$schema", *_KERNEL_KEYS)
_FAMILY_FILE_KEYS = ("$schema", "family", "description", "kernels")
#: blanks before the colon too, as ImageMagick's ``Gaussian : 0x1`` and the volume sizes (``box : 3`` was "not a kernel name")
_PARAMETRIC = re.compile(r"(gaussian|box)\s*:(.*)", re.IGNORECASE | re.DOTALL)
_FILE_SELECTOR = re.compile(r"(.+\.json):([^:/]*)", re.IGNORECASE | re.DOTALL)  # (a malformed NAME: refused as a name)


def split_selector(spec: str) -> tuple[str, str | None]:
    """The file a kernel text names and the kernel it selects there: ``FILE.json:NAME`` picks one kernel of a family
    file, unless a file is named so itself (refused where FILE.json holds NAME too: kernel_paths.load_from_path).

    >>> split_selector("fam.json:sharp"), split_selector("k.npy")
    (('fam.json', 'sharp'), ('k.npy', None))
    """
    selected = _FILE_SELECTOR.fullmatch(spec)
    if selected and not os.path.exists(spec):
        return selected.group(1), selected.group(2)
    return spec, None


def kernel_size_text(shape: tuple[int, ...]) -> str:
    """A kernel's size as ``kernels``, ``kernels show`` and a gallery's captions state it: ``3x3`` when square, else
    in rows and columns.

    ``2x3`` would read as ImageMagick's width x height, the order of an inline kernel's name
    (``inline_3x2``), so a non-square size is spelled out.

    >>> kernel_size_text((3, 3)), kernel_size_text((2, 3)), kernel_size_text((3, 1, 2)), kernel_size_text((3, 2, 2))
    ('3x3', '2 rows x 3 columns', '3 channels of 1 row x 2 columns', '3x2x2')
    """
    *channels, rows, columns = shape
    if rows == columns:
        return "x".join(str(side) for side in shape)
    plane = f"{rows} row{'s' * (rows != 1)} x {columns} column{'s' * (columns != 1)}"
    return f"{channels[0]} channel{'s' * (channels[0] != 1)} of {plane}" if channels else plane


@record(frozen=True)
class Kernel:
    """A named kernel: its raw matrix (before ``scale``) and where it came from.

    Parameters
    ----------
    name : str
        ``[a-z0-9_]+`` for kernels from files; ``gaussian:1.5`` or ``box:3`` for parametric ones.
    matrix : tuple of tuple of float
        The raw weights, row by row, before ``scale`` is applied.
    family : str
        The family (file) it belongs to; ``custom`` for single-kernel files and parametric specs.
    description, source : str
        One line saying what it does and its orientation; where the table comes from.
    scale : float, "sum" or None
        Divisor: the applied kernel is ``matrix / scale``; ``"sum"`` divides by the sum of the matrix.
    path : Path or None
        The file it was read from (None for parametric kernels).

    A Kernel is checked as it is made, as a kernel file's entry is (:class:`_Validator`): the name as
    ``[a-z0-9_]+`` (a kernel read from a file is named after the file, one built from a spec after the spec:
    ``gaussian:1.5``), the matrix rectangular, 2-D (or 3-D of any sides, as a 3-D kernel file's), real and finite,
    given as nested lists or tuples or a numpy array, and kept as tuples of floats; ``scale`` a non-zero finite
    number or ``"sum"`` of a matrix whose sum is not 0.  Each failure is an InvalidKernel naming the field.

    Examples
    --------
    >>> k = Kernel("half", [[1, 1]], scale=2)
    >>> k.matrix, k.shape, k.sum, k.array().tolist()
    (((1.0, 1.0),), (1, 2), 1.0, [[0.5, 0.5]])
    >>> Kernel("half", [[1, 1]], scale=0)
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: Kernel 'half': scale: is 0 and cannot be divided by; expected a non-zero number or "sum"
    """

    name: str
    matrix: tuple[tuple[float, ...], ...]
    family: str = CUSTOM_FAMILY
    description: str = ""
    source: str = ""
    scale: float | str | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        named = isinstance(self.name, str)
        check = _Validator(f"Kernel {self.name!r}" if named else "Kernel", max_ndim=3, planes_only=True)
        if not named or (self.path is None and not built_name(self.name)):
            check.name(self.name, "name", built_name_hint(self.name) if named else "")
        if _held_floats(self.matrix):
            matrix = self.matrix
        else:
            matrix = check.matrix(_as_lists(long_read(self.matrix, f"{check.origin}: matrix")), "matrix")
        scale = None if self.scale is None else check.scale(self.scale, "scale", matrix)
        self.__dict__.update(matrix=matrix, scale=scale)  # (frozen: the record's own dict, as its __init__ writes)

    @property
    def shape(self) -> tuple[int, ...]:
        """The matrix shape, e.g. ``(3, 3)``."""
        shape = []
        node: Any = self.matrix
        while isinstance(node, (tuple, list)):  # (a hand-made Kernel's list matrix had the shape ())
            shape.append(len(node))
            node = node[0] if node else None
        return tuple(shape)

    @property
    def divisor(self) -> float:
        """What the raw matrix is divided by (1.0 without ``scale``)."""
        if self.scale is None:
            return 1.0
        if self.scale == "sum":
            return math.fsum(_flat(self.matrix))
        return float(self.scale)

    @property
    def sum(self) -> float:
        """Sum of the applied (scaled) weights: 1 keeps flat areas as they are, 0 turns them to 0."""
        return math.fsum(_flat(self.matrix)) / self.divisor

    @property
    def slug(self) -> str:
        """The name made safe for a file name (``gaussian:1.5`` -> ``gaussian_1.5``)."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)

    def array(self, dtype: Any = "float64") -> Any:
        """Return the applied kernel, ``matrix / scale``, as a new numpy array.

        The division is done in float64, then cast to ``dtype``.

        >>> from kernelcli.catalog import load_kernel
        >>> load_kernel("gaussian_3x3").array()[1]
        array([0.125, 0.25 , 0.125])
        """
        import numpy as np

        values = np.array(self.matrix, dtype=np.float64)  # (checked as it was made: rectangular finite floats)
        if self.scale is not None:
            values = values / self.divisor
        return values.astype(dtype, copy=False)

    @property
    def separable(self) -> bool:
        """True when the kernel is an outer product of a column and a row, as the compute path finds it in float64
        (:func:`kernelcli._core.forms.rank1_factors`: whole numbers exactly rank 1; other weights within
        ``SEPARABLE_RTOL``, 8 float64 epsilons, by SVD and by the product itself): one definition, the label's and
        the separable path's.

        >>> from kernelcli.catalog import load_kernel
        >>> load_kernel("sobel_v").separable, load_kernel("laplacian_4").separable, load_kernel("2x2: 1 1 1 1.0000000001").separable
        (True, False, False)
        """
        import numpy as np

        from ._core.forms import rank1_factors

        values = self.array()
        if values.ndim != 2:
            return False
        if min(values.shape) == 1:
            return True
        return rank1_factors(values, np.dtype(np.float64)) is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: name, family, shape, sum, separable, scale, text and the raw matrix."""
        return {
            "name": self.name,
            "family": self.family,
            "shape": list(self.shape),
            "sum": self.sum,
            "separable": self.separable,
            "scale": self.scale,
            "description": self.description,
            "source": self.source,
            "path": None if self.path is None else str(self.path),
            "matrix": _to_lists(self.matrix),
        }


# --------------------------------------------------------------------------- validation


def _describe(value: Any) -> str:
    """How a JSON value is named in a message: true, null, the string "1", a list, NaN..."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, _NotFinite):
        return str(value)
    return repr(value)


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _key_hint(key: str, allowed: tuple[str, ...]) -> str:
    lowered = key.lower()
    if lowered.startswith(("normali", "normaliz")) or lowered in ("divisor", "divide", "norm"):
        return '; to divide by the sum write "scale": "sum", or "scale": N to divide by N'
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class _Validator:
    """Checks one kernel document; every failure names the file and the field path."""

    def __init__(self, origin: str, *, max_ndim: int = 2, min_ndim: int = 2, planes_only: bool = False) -> None:
        self.origin = origin
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.planes_only = planes_only  # MAX_SIDE for rows and columns only, as a .npy kernel's C x f x f

    def fail(self, field: str, detail: str) -> None:
        where = f"{self.origin}: {field}" if field else self.origin
        raise InvalidKernel(f"{where}: {detail}")

    def keys(self, obj: dict, field: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
        for key in getattr(obj, "duplicates", ()):
            self.fail(field, f'key "{key}" appears twice')
        for key in obj:
            if key not in allowed:
                shown = ", ".join(f'"{a}"' for a in allowed)
                self.fail(field, f'unknown key "{key}"{_key_hint(key, allowed)} (allowed: {shown})')
        for key in required:
            if key not in obj:
                self.fail(field, f'missing key "{key}"')

    def name(self, value: Any, field: str, hint: str = "") -> str:
        if not isinstance(value, str):
            self.fail(field, f"is {_describe(value)}, expected a string")
        if len(value) > MAX_NAME_LENGTH:
            self.fail(field, f"is {len(value)} characters long, at most {MAX_NAME_LENGTH}")
        if not NAME_PATTERN.fullmatch(value):
            folded = re.sub(r"[-\s]+", "_", value.strip().lower())
            hint = f' (e.g. "{folded}")' if NAME_PATTERN.fullmatch(folded) else hint
            self.fail(field, f"{json.dumps(value)} is not a valid name: use {NAME_RULE}{hint}")
        return value

    def text(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"is {_describe(value)}, expected a string")
        if "\n" in value or "\r" in value:
            self.fail(field, "must be one line (no line breaks)")
        unshown = unshown_character(value)  # (a terminal title set by `kernels show`, a listing's line cut)
        if unshown:
            self.fail(field, f"holds {unshown}; expected one line of text, shown as written (no control characters)")
        return value

    def kernel(self, item: Any, field: str, *, family: str, path: Path | None, allowed: tuple[str, ...]) -> Kernel:
        if not isinstance(item, dict):
            self.fail(field, f'is {_describe(item)}, expected an object with "name" and "matrix"')
        self.keys(item, field, allowed, required=("name", "matrix"))
        name = self.name(item["name"], _join(field, "name"))
        matrix = self.matrix(item["matrix"], _join(field, "matrix"))
        description = self.text(item.get("description", ""), _join(field, "description"))
        source = self.text(item.get("source", ""), _join(field, "source"))
        scale = self.scale(item["scale"], _join(field, "scale"), matrix) if "scale" in item else None
        return Kernel(name, matrix, family, description, source, scale, path)

    def scale(self, value: Any, field: str, matrix: tuple) -> float | str:
        value = _as_lists(value)  # (numpy's scalars as Python's: scale=np.int64(2) was "expected a number")
        if value == "sum" and isinstance(value, str):
            values = _flat(matrix)
            if abs(math.fsum(values)) <= _ZERO_SUM_RTOL * math.fsum(map(abs, values)):
                self.fail(field, '"sum", but the matrix sums to 0 and cannot be divided by it; drop "scale" or give a number')
            self.kept(matrix, math.fsum(values), field, '"sum"')
            return "sum"
        if isinstance(value, _NotFinite) or isinstance(value, float) and not math.isfinite(value):  # (JSON's, Python's)
            self.fail(field, f'is {value}, expected a finite non-zero number or "sum"')
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(field, f'is {_describe(value)}, expected a number (the divisor) or "sum"')
        if value == 0:
            self.fail(field, 'is 0 and cannot be divided by; expected a non-zero number or "sum"')
        if isinstance(value, int) and beyond_float(value):
            self.fail(field, f"is {beyond_float(value)}, expected a finite non-zero number or \"sum\"")
        largest = max(map(abs, _flat(matrix)))
        if not math.isfinite(largest / abs(value)):
            self.fail(field, f"is {value!r}: dividing the matrix by it overflows")
        self.kept(matrix, value, field, repr(value))
        return float(value)

    def kept(self, matrix: tuple, divisor: float, field: str, said: str) -> None:
        """Refuse a divisor that turns non-zero weights into 0, as :meth:`Kernel.array` divides (never all zeros in silence)."""
        values = _flat(matrix)
        shape = []
        while isinstance(matrix, tuple):
            shape.append(len(matrix))
            matrix = matrix[0]
        zeroed = zeroed_by_scale(values, [v / divisor for v in values], shape)
        if zeroed:
            self.fail(field, f"is {said}: dividing the matrix by it {zeroed}; use a scale that keeps them")

    def matrix(self, value: Any, field: str) -> tuple:
        """A rectangular nested list of finite numbers, ``min_ndim`` to ``max_ndim`` deep, as tuples of floats
        (tuples are taken as lists: a :class:`Kernel` made in Python is checked here too)."""
        expected = _dims_text(self.min_ndim, self.max_ndim)
        if not isinstance(value, (list, tuple)):
            self.fail(field, f"is {_describe(value)}, expected {expected}")
        if not value:
            self.fail(field, "is empty, expected at least one row")
        shape: list[int] = []
        node: Any = value
        while isinstance(node, (list, tuple)) and node:
            shape.append(len(node))
            node = node[0]
        ndim = len(shape) + (1 if isinstance(node, (list, tuple)) else 0)  # an empty list still nests one deeper
        if ndim > self.max_ndim:
            self.fail(field, f"is {ndim}-D (lists nested {ndim} deep), expected {expected}")
        if ndim < self.min_ndim:
            self.fail(field, f"is {ndim}-D (a list of numbers), expected {expected}: wrap a single row in another list, [[...]]")
        names = _axis_names(ndim)
        if isinstance(node, (list, tuple)):
            self.fail(field, f"{_position((0,) * len(shape), names)} is empty")
        for axis, length in enumerate(shape):
            if length > MAX_SIDE and (axis >= ndim - 2 or not self.planes_only):
                self.fail(field, f"has {length} {names[axis]}s, at most {MAX_SIDE} per side")

        def walk(item: Any, position: tuple[int, ...]) -> Any:
            axis = len(position)
            if axis == ndim:
                if type(item) is float and math.isfinite(item):
                    return item  # the common cases first: a message's position is made only for it
                if type(item) is int and -EXACT_WHOLE <= item <= EXACT_WHOLE:
                    return float(item)
                return self.number(item, field, _position(position, names))
            want = shape[axis]
            unit = "value" if axis == ndim - 1 else names[axis]
            if not isinstance(item, (list, tuple)):
                self.fail(field, f"{_position(position, names)} is {_describe(item)}, expected a list of {want} {unit}s")
            if len(item) != want:
                self.fail(field, f"{_position(position, names)} has {len(item)} {unit}{'' if len(item) == 1 else 's'}, expected {want}")
            return tuple(walk(child, (*position, index)) for index, child in enumerate(item))

        matrix = walk(value, ())
        if not sums_in_range(_flat(matrix)):
            self.fail(field, TOO_LARGE)
        return matrix

    def number(self, value: Any, field: str, where: str) -> float:
        if isinstance(value, _NotFinite):
            self.fail(field, f"{where} is {value}, {HELD_NUMBER if value.below else 'expected a finite number'}")
        if isinstance(value, float) and not math.isfinite(value):  # from Python, not JSON text
            self.fail(field, f"{where} is {value!r}, expected a finite number")
        if isinstance(value, bool):  # 1 and 0, as a bool .npy kernel and a list of bools are read (true was refused)
            return float(value)
        if not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str):
                try:
                    float(value)
                    hint = " (write numbers without quotes)"
                except ValueError:
                    pass
            self.fail(field, f"{where} is {_describe(value)}, expected a number{hint}")
        if isinstance(value, int) and beyond_float(value):  # (Python's int: float() raised OverflowError, exit 70)
            self.fail(field, f"{where} is {beyond_float(value)}, expected a finite number")
        if isinstance(value, int) and float(value) != value:
            self.fail(field, inexact_whole(value, where))
        return float(value)


def _axis_names(ndim: int) -> tuple[str, ...]:
    return ("slice",) * (ndim - 2) + ("row", "column")


def _dims_text(min_ndim: int, max_ndim: int) -> str:
    if min_ndim == max_ndim == 2:
        return "2-D (a list of rows, each a list of numbers)"
    return f"{min_ndim}-D to {max_ndim}-D (nested lists of numbers)"


def _position(position: tuple[int, ...], names: tuple[str, ...]) -> str:
    """``(1, 2)`` -> ``row 2, column 3`` (1-based, as a person counts)."""
    return ", ".join(f"{names[axis]} {index + 1}" for axis, index in enumerate(position))


#: why a kernel whose weights could not be summed is refused, in every spelling (a file, a list, inline, .npy)
TOO_LARGE = "values are too large: the sum of their magnitudes is beyond the float range"


def sums_in_range(values: Iterable[float]) -> bool:
    """True when the weights' absolute values sum to a finite float: every sum a kernel's use makes
    (its total, a normalisation's parts) is then finite too.

    >>> sums_in_range([1e308, 1e308]), sums_in_range([1.0, -2.0])
    (False, True)
    """
    try:
        return math.isfinite(math.fsum(map(abs, values)))
    except OverflowError:
        return False


def _held_floats(matrix: Any) -> bool:
    """True for what a checked 2-D kernel holds, told without :meth:`_Validator.matrix`'s walk of every value: a tuple
    of equal-length tuples of Python floats, at most MAX_SIDE a side, whose absolute values sum to a finite float (so
    none is NaN or infinite).  Kernels from files, specs and the catalogue are made so (a 255x255 gaussian: 20 ms to
    load, 77 ms with the walk); anything else is walked, and a failure named.

    >>> _held_floats(((1.0, 2.0),)), _held_floats([[1.0, 2.0]]), _held_floats(((1.0, float("nan")),))
    (True, False, False)
    """
    if type(matrix) is not tuple or not 0 < len(matrix) <= MAX_SIDE or type(matrix[0]) is not tuple:
        return False
    width = len(matrix[0])
    if not 0 < width <= MAX_SIDE:
        return False
    for row in matrix:
        if type(row) is not tuple or len(row) != width or set(map(type, row)) != {float}:
            return False
    return sums_in_range(chain.from_iterable(matrix))


def _as_lists(value: Any) -> Any:
    """``value`` with numpy's arrays and scalars (anything with ``tolist``) made Python lists and numbers, at any
    depth, for :meth:`_Validator.matrix` (without importing numpy).

    >>> _as_lists(((1, 2),))
    [[1, 2]]
    """
    if callable(getattr(value, "tolist", None)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value


def _flat(matrix: Any) -> tuple[float, ...]:
    """The values of a checked (rectangular) matrix of tuples, in order: one level a pass (a generator that recursed
    into every row took 19 ms for a 255x255 kernel, 1 ms this way).

    >>> _flat(((1.0, 2.0), (3.0, 4.0)))
    (1.0, 2.0, 3.0, 4.0)
    """
    while matrix and isinstance(matrix[0], tuple):
        matrix = tuple(chain.from_iterable(matrix))
    return matrix


def _to_lists(matrix: Any) -> Any:
    if isinstance(matrix, tuple):
        return [_to_lists(item) for item in matrix]
    return int(matrix) if float(matrix).is_integer() and abs(matrix) < EXACT_WHOLE else matrix
