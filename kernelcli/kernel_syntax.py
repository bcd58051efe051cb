"""Kernels written where they are used: ImageMagick's inline syntax, JSON lists, ``.npy`` files;
and ``--kernel-scale``, ImageMagick's ``-define convolve:scale``.

``--kernel`` takes, besides catalogue names and JSON kernel files (:mod:`kernelcli.catalog`):

* ImageMagick's user-defined kernel, ``"WxH[+X+Y][@><]:num, num, ..."`` as its ``AcquireKernelInfo``
  documents it (https://imagemagick.org/api/morphology.php), ``'WxH: v,v,v ...'`` (values row by row, separated by
  commas and/or spaces, an empty cell ``1,,2`` refused; ``W:`` or ``Wx:`` alone is square; without a geometry the number of values
  must be a square, ``'1,2,1,2,4,2,1,2,1'``).  ``nan`` or ``-`` marks a cell outside the
  neighbourhood, which for a convolution is a weight of 0.  The origin ``+X+Y`` is accepted
  only where kernelcli puts it, at ``((W-1)//2, (H-1)//2)`` (ImageMagick's default); rotated
  lists (``@ > <``) and several kernels (``;``) are refused with what to write instead;
* a JSON list of rows, ``'[[1,0,-1],[2,0,-2],[1,0,-1]]'`` (or C x f x f for a layer);
* a ``.npy`` file holding a 2-D (or C x f x f) array of real numbers.

``--kernel-scale`` follows ImageMagick's ``convolve:scale`` (checked against
``convert -define showkernel=1``): a number ``N`` (or ``N%``) **multiplies** the kernel; ``!``
first divides it by the absolute value of its sum (a zero-sum kernel: by the sum of its
positive weights, so they add up to 1 and the negative ones to -1); ``^`` divides the
positive and the negative weights separately so they add up to 1 and -1; ``N!`` and ``N^``
normalise, then multiply.  ``sum`` is the kernel files' ``"scale": "sum"``: divide by the
sum, refused when it is 0.  (A kernel file's numeric ``scale`` divides; this one multiplies,
as ImageMagick's does.)

Example
-------
>>> k = inline_kernel("3x3: 1,0,-1 2,0,-2 1,0,-1")
>>> k.name, k.matrix[1]
('inline_3x3', (2.0, 0.0, -2.0))
>>> scale_kernel(inline_kernel("[[1, 2, 1]]"), parse_kernel_scale("sum")).matrix
((0.25, 0.5, 0.25),)
>>> scale_kernel(k, parse_kernel_scale("!")).matrix[0]
(0.25, 0.0, -0.25)
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from . import numtext
from .errors import InvalidKernel, KernelNotFound, UsageError
from .records import record, replace

#: ``WxH+X+Y@:`` then values (``3X3:`` too, and ``3x:`` square as ``3:``, as ImageMagick reads them: it was "not a kernel
#: name"); the geometry is digits, so names and ``gaussian:2`` never match
_GEOMETRY = re.compile(r"\s*(?P<w>[0-9]+)(?:[xX](?P<h>[0-9]+)?)?(?P<origin>[-+][0-9]+[-+][0-9]+)?(?P<flags>[@<>]*)\s*:(?P<values>.*)", re.DOTALL)
#: ImageMagick's old style: only numbers (a square count of them)
_BARE_VALUES = re.compile(r"[\s,]*[-+0-9.eEnaN]+(?:[\s,]+[-+0-9.eEnaN]+)+[\s,]*")  # (commas first or last: refused by _values)
_SCALE = re.compile(rf"(?P<number>{numtext.DECIMAL})?(?P<marks>[%!^]*)")
#: where an inline kernel's and a JSON list's matrix came from (``Kernel.source``), in no option's words: ``kernels show``
#: takes its spec as an argument and a Python caller of ``load_kernel`` has no options (it said ``--kernel`` to both)
GIVEN_INLINE = "given inline (ImageMagick's syntax)"
GIVEN_AS_LIST = "given as a JSON list"
#: largest .npy kernel file read (a C x 255 x 255 float64 layer kernel is about 0.5 MiB per channel)
MAX_NPY_BYTES = 64 * 1024 * 1024


def inline_kernel(spec: str, *, max_ndim: int = 2) -> Any:
    """The kernel ``spec`` writes inline (ImageMagick syntax, JSON list) or names as ``.npy``; else None.

    None means "not one of these forms": the caller goes on with names and JSON files.

    >>> inline_kernel("sobel_v") is None, inline_kernel("2: 1 2 3 4").shape
    (True, (2, 2))
    """
    text = spec.strip()
    if text.startswith("[") and not os.path.exists(text):  # a file named "[...]" stays a file (a name too long is none)
        return _json_list(spec, max_ndim)
    if text.lower().endswith(".npy"):
        return read_npy_kernel(text, max_ndim=max_ndim)
    if ";" in text and (_GEOMETRY.match(text) or _BARE_VALUES.match(text.split(";")[0]) or one_value(text.split(";")[0])):
        raise KernelTextRefused(
            spec, "a list of kernels (';'); load_kernel reads one kernel: load each one and apply each (a filter bank "
            "as conv_layer's weights, or one after the other)",
            on_command_line=_kernel_list_advice,
        )
    geometry = _GEOMETRY.fullmatch(text)
    if geometry:
        return _imagemagick(spec, geometry)
    if _BARE_VALUES.fullmatch(text) or one_value(text):
        values = _values(spec, text)
        side = math.isqrt(len(values))
        if side * side != len(values):
            raise KernelTextRefused(
                spec, f"{len(values)} values without a size: ImageMagick's short form needs a square number "
                "of them; write the size first, e.g. '3x2: 1,2,3 4,5,6'"
            )
        return _make(f"inline_{side}x{side}", values, side, side, spec)
    return None


def one_value(text: str) -> bool:
    """Whether ``text`` is one number, which ImageMagick reads as a 1x1 kernel (``nan``, ``inf`` and ``e`` stay names).

    >>> one_value("2.5"), one_value(" -1e3 "), one_value("nan"), one_value("sobel_v")
    (True, True, False, False)
    """
    return numtext.decimal(text) is not None and any(c.isdigit() for c in text)


def _said(spec: str) -> str:
    """``spec`` as a refusal names it, inline or a JSON list alike: whole, but for a long one (a 4300-digit size was
    one line of 4,360 characters).

    >>> _said("1x1: 1e400")
    "'1x1: 1e400'"
    """
    return numtext.quoted(spec.strip(), 120)


def _kernel_list_advice(option: str) -> str:
    """A ';' list of kernels refused, in the words of the option it was given with: ``--kernel`` repeats for a filter
    bank and ``--then`` chains; a ``--then`` step is one kernel; ``kernels show`` (no option) shows one.

    >>> _kernel_list_advice("--then")
    "a list of kernels (';'); kernelcli takes one kernel per --then step: give each as its own --then"
    """
    said = "a list of kernels (';'); kernelcli takes one kernel"
    if option == "--then":
        return f"{said} per --then step: give each as its own --then"
    if not option or option == "kernel":
        return f"{said} at a time: show each one"
    return f"{said} per {option}: repeat {option} for a filter bank, or use --then for one after the other"


class KernelTextRefused(InvalidKernel):
    """An inline kernel, a JSON list or a file of another format (``k.csv``) refused: ``spec`` as typed, then ``why``.  :func:`kernelcli.catalog.load_kernel`
    (the Python API) names the spec alone, as it names ``gaussian:0``; the command line puts its option first
    (:meth:`worded`: ``--kernel '1x1: 1e400': ...``, by :func:`kernelcli.cli._common.error_line` where no other option
    or argument worded it first: ``--then``, or ``''`` for the spec alone, as ``kernels show SPEC`` says it).

    ``on_command_line`` is ``why`` in the command line's words where the advice differs (a list of kernels: repeat
    ``--kernel`` there, load each one from Python); an ``{option}`` in it is the option the spec was given with
    (``--then``; for an argument, ``kernels show SPEC``, the word "kernel", or nothing before a spec).  ``named`` is
    how the spec is named (default quoted; a file's path as it is).

    >>> str(KernelTextRefused("1x1: x", "expected a number").worded("--kernel"))
    "--kernel '1x1: x': expected a number"
    >>> str(KernelTextRefused("k", "one", on_command_line="give each as its own {option}").worded("--then"))
    "--then 'k': give each as its own --then"
    """

    def __init__(self, spec: str, why: str, *, option: str | None = None, on_command_line: Any = None,
                 named: str | None = None) -> None:
        said = _said(spec) if named is None else named
        super().__init__(f"{option} {said}: {why}" if option else f"{said}: {why}")
        self.spec, self.why, self.option, self.on_command_line, self.named = spec, why, option, on_command_line, named

    def worded(self, option: str) -> KernelTextRefused:
        """The same refusal, ``option`` first, in the command line's words (``on_command_line`` may be a function of
        the option, where the advice differs by option, not by its name alone)."""
        said = self.on_command_line(option) if callable(self.on_command_line) else self.on_command_line
        why = (said or self.why).replace("{option} ", f"{option} " if option else "")
        return KernelTextRefused(self.spec, why.replace("{option}", option or "kernel"), option=option, named=self.named)


def pooling_step_refused(spec: str) -> KernelTextRefused | None:
    """The refusal of ``spec`` as a kernel where it is a pooling step (``maxpool:2``, which convolve's ``--kernel`` and
    ``--then`` take) or one misspelt (``maxpool:2x2``), in :mod:`kernelcli.modes`' one grammar of them; else None.
    Both were "not a kernel name".

    >>> str(pooling_step_refused("avgpool : 3 : 2"))
    "'avgpool : 3 : 2': a pooling step, not a kernel: it has no matrix; pool2d pools (op='max', 'min' or 'avg', size, stride)"
    >>> str(pooling_step_refused("maxpool:2x2").worded(""))
    "'maxpool:2x2': a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a stride), and one is no kernel: it has no matrix to show; convolve takes it as --kernel or --then, and `kernelcli pool` pools"
    """
    from .modes import is_pool_step, misspelt_pool_step

    if is_pool_step(spec):
        said = "a pooling step, not a kernel: it has no matrix"
    elif form := misspelt_pool_step(spec):
        said = f"{form}, and one is no kernel: it has no matrix"
    else:
        return None
    return KernelTextRefused(spec, f"{said}; pool2d pools (op='max', 'min' or 'avg', size, stride)",
                             on_command_line=f"{said} to show; convolve takes it as --kernel or --then, and "
                                             "`kernelcli pool` pools")


class VolumeKernelRefused(KernelTextRefused):
    """A volume's kernel (``sobel_3d``, ``gaussian:2mm``) refused by :func:`kernelcli.catalog.load_kernel`, which
    builds 2-D kernels: ``why`` says where the Python API builds it for an array; :meth:`worded` is the command
    line's ``on_command_line`` (the input must be a volume file), the spec named alone whatever the option, as before.

    >>> str(VolumeKernelRefused("k3", "a (Z, Y, X) array takes kernel_3d('k3')", on_command_line="for a volume file").worded("--then"))
    "'k3': for a volume file"
    """

    def worded(self, option: str) -> InvalidKernel:
        return InvalidKernel(f"{self.named if self.named is not None else _said(self.spec)}: {self.on_command_line}")


def _side(digits: str) -> int | None:
    """A size or origin typed as digits, or None past 4 digits (every kernel side is at most 255; ``int()`` stops at
    4300 digits, which was exit 70)."""
    return int(digits) if len(digits.lstrip("+-").lstrip("0")) <= 4 else None


def _imagemagick(spec: str, m: re.Match) -> Any:
    from .catalog_format import MAX_SIDE

    w, h = _side(m.group("w")), _side(m.group("h") or m.group("w"))
    if w is None or h is None or max(w, h) > MAX_SIDE:
        size = numtext.clipped(f"{m.group('w')}x{m.group('h') or m.group('w')}")
        shape = f": {_rows_columns(h, w)}" if w is not None and h is not None else ""
        raise KernelTextRefused(spec, f"{size} is larger than {MAX_SIDE} per side (width x height, ImageMagick's order{shape})")
    if m.group("flags"):
        flags = f"the flags {m.group('flags')!r} ask ImageMagick for a list of rotated kernels; "
        raise KernelTextRefused(
            spec, flags + "load_kernel reads one kernel: load each rotation as its own 'WxH: ...' spec",
            on_command_line=flags + "kernelcli takes one kernel: give each rotation as its own {option}",
        )
    if w < 1 or h < 1:
        raise KernelTextRefused(spec, f"the size {w}x{h} must be at least 1x1")
    origin = m.group("origin")
    if origin:
        x, y = (_side(v) for v in re.findall(r"[-+][0-9]+", origin))
        cx, cy = (w - 1) // 2, (h - 1) // 2
        if (x, y) != (cx, cy):
            raise KernelTextRefused(
                spec, f"origin {numtext.clipped(origin)} is not supported: kernelcli places the kernel's centre "
                f"+{cx}+{cy} (column (W-1)//2, row (H-1)//2, ImageMagick's default) on each pixel; "
                "drop the origin, or pad the matrix with zeros so that the cell you want is its centre"
            )
    values = _values(spec, m.group("values"), w)
    if len(values) != w * h:
        raise KernelTextRefused(spec, f"{w}x{h} needs {w * h} values (row by row), got {len(values)}")
    return _make(f"inline_{w}x{h}", values, w, h, spec)


def _values(spec: str, text: str, width: int | None = None) -> list[float]:
    """The weights of ``text``, row by row: separated by commas and/or blanks; an empty cell between commas (``1,,2``,
    a comma first or last) is refused: ImageMagick reads it as 0 (and then has a value too many), taking the next
    number for it shifts the rest, as the CSV reader says.  A weight refused is named by its row and column (``width``
    values a row; its cell number without a size), as a JSON list and a kernel file name it."""
    values: list[float] = []
    fields = text.split(",")
    for index, field in enumerate(fields):
        items = field.split()
        if not items and len(fields) > 1:
            where = "before the first comma" if index == 0 else "after the last comma" if index == len(fields) - 1 \
                else "between two commas"
            raise KernelTextRefused(spec, f"cell {len(values) + 1} is empty ({where}): ImageMagick reads an empty "
                                "cell as 0; write 0, or nan or - for a cell outside the neighbourhood")
        for item in items:
            cell = len(values)
            where = f"cell {cell + 1}" if width is None else f"row {cell // width + 1}, column {cell % width + 1}"
            values.append(_value(spec, item, where))
    if not values:
        raise KernelTextRefused(spec, "no values after the size")
    return values


def _value(spec: str, item: str, where: str) -> float:
    """The weight ``item`` typed at ``where``, or its refusal in the words of a JSON list's (``catalog_format``)."""
    if item.lower() == "nan" or item == "-":
        return 0.0  # outside the neighbourhood: contributes nothing to a convolution
    value = numtext.decimal(item)
    if value is None:
        raise KernelTextRefused(spec, f"{where} is {numtext.quoted(item)}, expected a number (values are separated "
                            "by commas or spaces)")
    if (rounded := numtext.rounded_whole(item)) is not None:
        raise KernelTextRefused(spec, f"{numtext.inexact_whole(numtext.clipped(item), where, rounded=rounded)}")
    shown = numtext.clipped(item)
    if math.isinf(value) and item.lstrip("+-").lower() not in ("inf", "infinity"):
        shown += " (beyond the float range)"  # 1e400: digits float64 cannot hold ('inf' is shown as typed)
    if not math.isfinite(value):
        raise KernelTextRefused(spec, f"{where} is {shown}, expected a finite number")
    if value == 0 and numtext.underflows(item):  # (1e-400 was a weight of 0 in silence)
        raise KernelTextRefused(spec, f"{numtext.below_range(shown, where)}")
    return value


def _rows_columns(rows: int, columns: int) -> str:
    """A kernel's size in words, rows first as numpy's shape and ``kernels show`` give it: the inline
    syntax's ``WxH`` (ImageMagick's width x height) read alone named a transposed kernel.

    >>> _rows_columns(1, 256)
    '1 row x 256 columns'
    """
    return f"{numtext.counted(rows, 'row')} x {numtext.counted(columns, 'column')}"


def _make(name: str, values: list[float], w: int, h: int, spec: str) -> Any:
    from .catalog_format import MAX_SIDE, TOO_LARGE, Kernel, sums_in_range

    if max(w, h) > MAX_SIDE:
        raise KernelTextRefused(spec, f"{w}x{h} is larger than {MAX_SIDE} per side (width x height, ImageMagick's "
                            f"order: {_rows_columns(h, w)})")
    if not sums_in_range(values):
        raise KernelTextRefused(spec, f"{TOO_LARGE}")
    matrix = tuple(tuple(values[r * w:(r + 1) * w]) for r in range(h))
    rows = _rows_of(h, w)
    how = "ImageMagick syntax" + (f", width x height: {rows}" if rows else "")
    return Kernel(name=name, matrix=matrix, description=f"inline kernel {w}x{h} ({how})", source=GIVEN_INLINE)


def _rows_of(rows: int, columns: int) -> str:
    """``2 rows of 3`` for a non-square kernel, whose name gives its size the other way round
    (ImageMagick's width x height); "" for a square one."""
    if rows == columns:
        return ""
    return f"{rows} row{'s' * (rows != 1)} of {columns}"


def _json_list(spec: str, max_ndim: int) -> Any:
    from .catalog_files import parse_kernels
    from .kernel_json import _NotFinite, _parse_float, _parse_int

    label = _said(spec)
    try:  # NaN, Infinity and 1e400 kept as their text, as in a kernel file: named where they stand
        document = json.loads(spec, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_NotFinite)
    except json.JSONDecodeError as exc:
        raise KernelTextRefused(spec, f"not a JSON list of rows: {exc.msg} at column {exc.colno}") from None
    except RecursionError:  # (a file's words; a list ~1000 deep was exit 70)
        raise KernelTextRefused(spec, "not valid JSON for a kernel: lists or objects nested too deeply") from None
    try:
        kernel = parse_kernels({"name": "list", "matrix": document}, origin=label, max_ndim=max_ndim)[0]
    except InvalidKernel as exc:  # (catalog_format's words, after the label it was given)
        if type(exc) is not InvalidKernel or not str(exc).startswith(f"{label}: "):
            raise
        raise KernelTextRefused(spec, str(exc)[len(label) + 2:]) from None
    return replace(kernel, name="list_" + "x".join(map(str, kernel.shape[::-1] if len(kernel.shape) == 2 else kernel.shape)),
                   description=_list_description(kernel.shape), source=GIVEN_AS_LIST)


def _list_description(shape: tuple[int, ...]) -> str:
    rows = _rows_of(*shape) if len(shape) == 2 else ""
    return "kernel given as a JSON list" + (f" ({rows}; the name gives width x height)" if rows else "")


def read_npy_kernel(path: str | Path, *, max_ndim: int = 2) -> Any:
    """A kernel saved with ``numpy.save``: 2-D, or C x f x f with ``max_ndim=3``; named after the file."""
    import numpy as np

    from .catalog_format import MAX_SIDE, TOO_LARGE, Kernel, sums_in_range
    from .ndsupport import first_inexact_whole

    from .tiled.urls import refuse_url

    refuse_url(path, "a kernel file is read from a local path")  # (its folded spelling was "no such file")
    p = Path(path).expanduser()
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise KernelNotFound(f"{p}: no such file") from None
    except OSError as exc:
        raise InvalidKernel(f"{p}: cannot read: {exc.strerror or exc}") from None
    if not p.is_file():
        raise InvalidKernel(f"{p}: not a regular file, expected a .npy kernel")
    if size > MAX_NPY_BYTES:
        raise InvalidKernel(f"{p}: {size} bytes, more than the {MAX_NPY_BYTES // 2**20} MiB allowed for a kernel")
    from .io.reads import note_input

    note_input(p)  # a kernel file is an input: never overwritten by this call's outputs
    from .io.arrays import load_npy

    arr = load_npy(p, InvalidKernel)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise InvalidKernel(f"{p}: a kernel holds real numbers, got {getattr(arr, 'dtype', type(arr).__name__)}")
    dims = "2-D (f x f)" if max_ndim == 2 else "2-D (f x f) or 3-D (C x f x f)"
    if not 2 <= arr.ndim <= max_ndim or arr.size == 0:
        raise InvalidKernel(f"{p}: expected a non-empty {dims} array, got shape {arr.shape}")
    if max(arr.shape[-2:]) > MAX_SIDE:
        raise InvalidKernel(f"{p}: {_rows_columns(arr.shape[-2], arr.shape[-1])} is larger than {MAX_SIDE} per side")
    from .given_values import float64_of, not_finite_said, rounded_whole_said

    values = float64_of(arr, p)
    if (not_finite := not_finite_said(values)) is not None:
        raise InvalidKernel(f"{p}: {not_finite}")
    if arr.dtype.kind in "iu" and (found := first_inexact_whole(arr)) is not None:  # int64 past 2**53: float64 rounds it
        raise InvalidKernel(f"{p}: {rounded_whole_said(found[1], found[0])}")
    if not sums_in_range(values.ravel().tolist()):
        raise InvalidKernel(f"{p}: {TOO_LARGE}")
    return Kernel(name=p.stem or "kernel", matrix=_tuples(values.tolist()), description=f"kernel from {p.name}", source=str(p), path=p)


def _tuples(nested: Any) -> Any:
    return tuple(_tuples(v) for v in nested) if isinstance(nested, list) else float(nested)


# ---------------------------------------------------------------------------------- --kernel-scale


@record(frozen=True)
class KernelScale:
    """A parsed ``--kernel-scale``: normalise (``sum``, ``!``, ``^`` or None), then multiply by ``factor``."""

    text: str
    factor: float = 1.0
    normalize: str | None = None


def parse_kernel_scale(text: str) -> KernelScale:
    """Parse ``--kernel-scale``: ``sum``, ``N``, ``N%``, ``!``, ``^``, ``N!``, ``N^`` (ImageMagick's forms); a text that
    is none is refused in :func:`scale_problem`'s words (the command line refuses it so as it reads the option).

    >>> parse_kernel_scale("50%!")
    KernelScale(text='50%!', factor=0.5, normalize='!')
    """
    problem = scale_problem(text)
    if problem is not None:
        raise UsageError(f"invalid --kernel-scale {problem}")
    raw = str(text).strip()
    if raw.lower() == "sum":
        return KernelScale(raw, 1.0, "sum")
    m = _SCALE.fullmatch(raw)
    assert m is not None
    marks, number = m.group("marks"), m.group("number")
    factor = (float(number) if number is not None else 1.0) / (100.0 if "%" in marks else 1.0)
    return KernelScale(raw, factor, marks.replace("%", "") or None)


def scale_problem(text: str) -> str | None:
    """Why ``--kernel-scale TEXT`` is no scale, the text as typed first, else None.

    >>> scale_problem("50%!") is None, scale_problem("1e400"), scale_problem("0")
    (True, "'1e400': 1e400 (beyond the float range): the factor must be a finite non-zero number", "'0': the factor must be a finite non-zero number")
    """
    raw = str(text).strip()
    said = numtext.quoted(text)
    if raw.lower() == "sum":
        return None
    if "," in raw:
        return f"{said}: ImageMagick's origin addition (',N') is not supported; add the identity kernel yourself"
    m = _SCALE.fullmatch(raw)
    marks = m.group("marks") if m else ""
    flags = marks.replace("%", "")
    if not m or not raw or marks.count("%") > 1 or len(flags) > 1 or (m.group("number") is None and not flags):
        return (f"{said}: expected sum (divide by the sum), N or N% (multiply), "
                "! (normalise; zero-sum kernels: positives to 1), ^ (positives to 1 and negatives to -1), or N! / N^")
    number = m.group("number")
    if number is None:
        return None
    factor = float(number) / (100.0 if "%" in marks else 1.0)
    shown = numtext.clipped(number.strip() + ("%" if "%" in marks else ""))  # (after the text quoted short: short too)
    if factor == 0 and (numtext.underflows(number) or float(number) != 0):  # (1e-322%: /100)
        return f"{said}: {numtext.below_range(shown, zero=False)}"
    if math.isinf(factor):  # (digits only: 1e400, which float64 cannot hold)
        return f"{said}: {shown} (beyond the float range): the factor must be a finite non-zero number"
    if factor == 0:
        return f"{said}: the factor must be a finite non-zero number"
    return None


def _flat(matrix: Any) -> list[float]:
    return [v for row in matrix for v in _flat(row)] if isinstance(matrix, tuple) else [matrix]


def _map(matrix: Any, f: Any) -> Any:
    return tuple(_map(row, f) for row in matrix) if isinstance(matrix, tuple) else f(matrix)


def scale_kernel(kernel: Any, scale: KernelScale | None) -> Any:
    """``kernel`` (its applied weights) normalised and multiplied as ``scale`` says; unchanged for None."""
    if scale is None:
        return kernel
    import numpy as np

    applied = _tuples(kernel.array(np.float64).tolist())
    values = _flat(applied)
    positive = math.fsum(v for v in values if v > 0)
    negative = math.fsum(v for v in values if v < 0)
    total = math.fsum(values)
    tiny = 1e-12 * max(math.fsum(abs(v) for v in values), 1e-300)
    pos_div = neg_div = 1.0
    if scale.normalize == "sum":
        if abs(total) <= tiny:
            raise InvalidKernel(
                f"{kernel.name}: --kernel-scale sum divides by the sum, and this kernel sums to 0; "
                "'!' or '^' normalise zero-sum kernels as ImageMagick does"
            )
        pos_div = neg_div = total
    elif scale.normalize == "!":
        # a zero-sum kernel by its positive part; an all-zero one as it is, as ImageMagick's ScaleKernelInfo
        # (and '^' here) leave it: dividing by its 0 was exit 70
        pos_div = neg_div = abs(total) if abs(total) > tiny else (positive if positive > 0 else 1.0)
    elif scale.normalize == "^":
        pos_div = positive if abs(positive) > tiny else 1.0
        neg_div = -negative if abs(negative) > tiny else 1.0
    matrix = _map(applied, lambda v: v * scale.factor / (pos_div if v >= 0 else neg_div))
    if not all(math.isfinite(v) for v in _flat(matrix)):  # refused here, before any image is read (exit 3)
        raise InvalidKernel(f"{kernel.name}: --kernel-scale {scale.text} makes weights beyond float64's range "
                            f"(largest |value| {max(abs(v) for v in values):g}); use a smaller scale")
    zeroed = numtext.zeroed_by_scale(values, _flat(matrix), kernel.shape)
    if zeroed:  # (an all-zero kernel, or a kernel that lost some taps, answered in silence)
        raise InvalidKernel(f"{kernel.name}: --kernel-scale {scale.text} {zeroed}; use a scale that keeps them")
    return replace(kernel, matrix=matrix, scale=None, description=f"{kernel.description} (--kernel-scale {scale.text})".strip())
