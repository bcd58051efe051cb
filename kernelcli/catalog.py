"""The JSON kernel catalogue: find, load and validate kernels, giving frozen :class:`Kernel` values.

A kernel spec (what ``--kernel`` takes) is one of

- a catalogue **name** (``[A-Za-z0-9_-]+``, case and ``-``/``_`` folded: ``Sobel-V`` is ``sobel_v``),
  looked up only in the shipped catalogue folder and the folders listed in ``KERNELCLI_KERNEL_PATH``
  (``os.pathsep``-separated), never as a file in the current directory;
- a **path** to a user's JSON file: anything containing a path separator or ending in ``.json``
  (``my.json``, ``./ridge``); ``my.json:NAME`` picks one kernel from a file holding several;
- an **inline** kernel (ImageMagick's ``'3x3: 1,0,-1 2,0,-2 1,0,-1'``, a JSON list of rows) or a
  ``.npy`` file: see :mod:`kernelcli.kernel_syntax`;
- a **parametric** spec: ``gaussian:SIGMA`` (size ``2*ceil(3*sigma)+1``, sampled and normalised to
  sum 1, as ImageMagick's ``Gaussian:0xSIGMA``) or ``box:N`` (N x N, every weight ``1/N**2``).

A kernel file is either a family file ``{"family": ..., "description": ..., "kernels": [...]}`` or a
single kernel object ``{"name": ..., "matrix": ..., "scale": ..., "description": ..., "source": ...}``
(the format is in ``kernels/kernel.schema.json``).  Every error is an :class:`~kernelcli.errors.InvalidKernel`
(exit 3) whose one-line message names the file and the field, e.g.
``my.json: kernels[0].matrix: row 2 has 1 value, expected 3``.

numpy is imported only by the methods that need it (:meth:`Kernel.array`, :attr:`Kernel.separable`),
so finding and validating kernels stays cheap.

Example
-------
>>> k = load_kernel("sobel_v")
>>> k.matrix
((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0))
>>> k.shape, k.sum, k.separable
((3, 3), 0.0, True)
>>> load_kernel("gaussian:1").shape
(7, 7)
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidKernel, KernelNotFound, UsageError
from .resources import catalog_dir

#: names inside kernel files
NAME_PATTERN = re.compile(r"[a-z0-9_]+")
#: what a catalogue lookup accepts (folded to NAME_PATTERN: lower case, "-" -> "_")
SPEC_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
MAX_NAME_LENGTH = 64
#: largest kernel side, and largest kernel file (checked before the file is read)
from .limits import MAX_KERNEL_SIDE as MAX_SIDE  # noqa: E402 - declared once, in kernelcli.limits
MAX_FILE_BYTES = 1 << 20
ENV_PATH = "KERNELCLI_KERNEL_PATH"
#: family of a kernel read from a single-kernel file or built from a parametric spec
CUSTOM_FAMILY = "custom"
#: a kernel is separable when its second singular value is below this share of the first
SEPARABLE_RTOL = 1e-9
#: a matrix counts as summing to zero below this share of the sum of its absolute values
_ZERO_SUM_RTOL = 1e-12

_KERNEL_KEYS = ("name", "matrix", "scale", "description", "source")
_SINGLE_FILE_KEYS = ("$schema", *_KERNEL_KEYS)
_FAMILY_FILE_KEYS = ("$schema", "family", "description", "kernels")
_PARAMETRIC = re.compile(r"(gaussian|box):(.*)", re.IGNORECASE | re.DOTALL)
_FILE_SELECTOR = re.compile(r"(.+\.json):([A-Za-z0-9_-]+)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
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

    Examples
    --------
    >>> k = Kernel("half", ((1.0, 1.0),), scale=2.0)
    >>> k.shape, k.sum, k.array().tolist()
    ((1, 2), 1.0, [[0.5, 0.5]])
    """

    name: str
    matrix: tuple[tuple[float, ...], ...]
    family: str = CUSTOM_FAMILY
    description: str = ""
    source: str = ""
    scale: float | str | None = None
    path: Path | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The matrix shape, e.g. ``(3, 3)``."""
        shape = []
        node: Any = self.matrix
        while isinstance(node, tuple):
            shape.append(len(node))
            node = node[0]
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

        >>> load_kernel("gaussian_3x3").array()[1]
        array([0.125, 0.25 , 0.125])
        """
        import numpy as np

        values = np.array(self.matrix, dtype=np.float64)
        if self.scale is not None:
            values = values / self.divisor
        return values.astype(dtype, copy=False)

    @property
    def separable(self) -> bool:
        """True when the kernel is an outer product of a column and a row (rank 1 by SVD).

        The test is relative: the second singular value is at most ``SEPARABLE_RTOL`` times the first.

        >>> load_kernel("sobel_v").separable, load_kernel("laplacian_4").separable
        (True, False)
        """
        import numpy as np

        values = self.array()
        if values.ndim != 2:
            return False
        if min(values.shape) == 1:
            return True
        singular = np.linalg.svd(values, compute_uv=False)
        return bool(singular[1] <= SEPARABLE_RTOL * singular[0])

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


# --------------------------------------------------------------------------- finding kernels


def load_kernel(spec: str, *, max_ndim: int = 2) -> Kernel:
    """Return the kernel a ``--kernel`` spec names: a catalogue name, a JSON path, or parametric.

    Parameters
    ----------
    spec : str
        ``sobel_v`` (catalogue name), ``my.json`` / ``./dir/k.json`` / ``k.json:NAME`` (a file),
        ``gaussian:SIGMA`` or ``box:N``.
    max_ndim : int
        3 lets a file hold a (channels, f, f) kernel for the layer semantics; names in the
        catalogue are always 2-D.

    Raises
    ------
    KernelNotFound
        An unknown name (with close matches) or a missing file.
    InvalidKernel
        A file or spec that fails validation.

    Examples
    --------
    >>> load_kernel("box:2").array().tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidKernel(
            f"empty kernel spec {spec!r}: give a name (`kernelcli kernels` lists them), "
            "a path to a .json file, gaussian:SIGMA or box:N"
        )
    from .kernel_syntax import inline_kernel

    inline = inline_kernel(spec, max_ndim=max_ndim)  # ImageMagick syntax, a JSON list or a .npy file
    if inline is not None:
        return inline
    if _looks_like_path(spec):
        return _load_from_path(spec, max_ndim)
    parametric = _PARAMETRIC.fullmatch(spec)
    if parametric:
        kind, argument = parametric.group(1).lower(), parametric.group(2)
        return _gaussian_from_spec(spec, argument) if kind == "gaussian" else _box_from_spec(spec, argument)
    if SPEC_NAME_PATTERN.fullmatch(spec):
        return _load_by_name(spec)
    raise InvalidKernel(
        f"{spec!r} is not a kernel name ([A-Za-z0-9_-]+), a path to a .json or .npy file, gaussian:SIGMA, box:N, "
        "an inline kernel ('3x3: 1,0,-1 2,0,-2 1,0,-1') or a JSON list ('[[1,0,-1],[2,0,-2],[1,0,-1]]')"
    )


def list_kernels(family: str | None = None) -> list[Kernel]:
    """Return every catalogue kernel (shipped folder, then ``KERNELCLI_KERNEL_PATH``), optionally one family.

    Files are read in name order within each folder; kernels keep their order in the file.

    Raises
    ------
    UsageError
        ``family`` is not in the catalogue (the message lists close matches).
    InvalidKernel
        A catalogue file fails validation, or two files define the same name.

    Examples
    --------
    >>> [k.name for k in list_kernels("gaussian")]
    ['gaussian_3x3', 'gaussian_5x5', 'gaussian_7x7']
    """
    kernels = _load_catalogue()
    if family is None:
        return kernels
    chosen = [k for k in kernels if k.family == family]
    if not chosen:
        known = sorted({k.family for k in kernels})
        close = difflib.get_close_matches(family, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UsageError(f"unknown kernel family '{family}'; {hint}families: {', '.join(known)}")
    return chosen


def families() -> list[str]:
    """Return the catalogue's family names, sorted.

    >>> "edge" in families()
    True
    """
    return sorted({k.family for k in _load_catalogue()})


def search_dirs() -> list[Path]:
    """The folders searched for catalogue names: the shipped catalogue, then ``KERNELCLI_KERNEL_PATH``."""
    folders = [catalog_dir()]
    for entry in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if entry.strip():
            folders.append(Path(entry).expanduser())
    unique: dict[Path, Path] = {}
    for folder in folders:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


def gaussian_kernel(sigma: float) -> Kernel:
    """Return the sampled Gaussian of standard deviation ``sigma``, normalised to sum 1.

    Size ``2*ceil(3*sigma)+1`` per side; weights ``exp(-(x**2 + y**2) / (2*sigma**2))`` at integer
    offsets from the centre, divided by their sum (``scale="sum"``), as ImageMagick's ``Gaussian:0xSIGMA``.

    >>> gaussian_kernel(0.5).shape
    (5, 5)
    """
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise InvalidKernel(f"gaussian: sigma {sigma!r} must be a positive finite number")
    if sigma > 1e6:  # before ceil(): 3 * 1e308 is inf, and 1e200 would print a 200-digit size
        raise InvalidKernel(
            f"gaussian:{_short_number(sigma)}: sigma {_short_number(sigma)} gives a kernel larger than {MAX_SIDE} "
            f"per side (sigma at most {(MAX_SIDE // 2) / 3:.4g})"
        )
    from .kernel_build import gaussian_row, radius_for

    radius = radius_for(sigma)  # one truncation rule for pixels, voxels and mm
    size = 2 * radius + 1
    if size > MAX_SIDE:
        raise InvalidKernel(
            f"gaussian:{_short_number(sigma)}: sigma {_short_number(sigma)} gives a {size}x{size} kernel, "
            f"larger than {MAX_SIDE} per side (sigma at most {(MAX_SIDE // 2) / 3:.4g})"
        )
    row = gaussian_row(sigma, radius)
    matrix = tuple(tuple(a * b for b in row) for a in row)
    text = _short_number(sigma)
    return Kernel(
        name=f"gaussian:{text}",
        matrix=matrix,
        family="gaussian",
        description=(
            f"Gaussian blur, sigma {text}, {size}x{size} (radius ceil(3*sigma)), sampled and "
            "normalised to sum 1; no orientation."
        ),
        source="Sampled 2-D Gaussian, as ImageMagick's Gaussian:0xSIGMA (https://imagemagick.org/Usage/convolve/#gaussian)",
        scale="sum",
    )


def box_kernel(size: int) -> Kernel:
    """Return the ``size`` x ``size`` box (mean) kernel, every weight ``1/size**2``.

    >>> box_kernel(3).sum
    1.0
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIDE:
        raise InvalidKernel(f"box: size {size!r} must be a whole number from 1 to {MAX_SIDE}")
    return Kernel(
        name=f"box:{size}",
        matrix=tuple(tuple(1.0 for _ in range(size)) for _ in range(size)),
        family="smoothing",
        description=f"Box blur {size}x{size}, the unweighted mean (each weight 1/{size * size}); no orientation.",
        source="Box (mean) filter of side N, each weight 1/N^2; Wikipedia, 'Box blur', https://en.wikipedia.org/wiki/Box_blur",
        scale=float(size * size),
    )


# --------------------------------------------------------------------------- reading files


def read_kernel_file(path: str | os.PathLike[str], *, max_ndim: int = 2) -> list[Kernel]:
    """Read and validate one kernel file; return its kernels in file order.

    The size is checked before anything is read (at most ``MAX_FILE_BYTES``).

    Raises
    ------
    KernelNotFound
        The file does not exist.
    InvalidKernel
        Anything else: not a regular file, too large, not UTF-8, not JSON, or a field fails validation.
    """
    path = Path(path)
    label = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise KernelNotFound(f"{label}: no such file") from None
    except OSError as exc:
        raise InvalidKernel(f"{label}: cannot read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise InvalidKernel(f"{label}: is a folder, expected a JSON kernel file")
    if not path.is_file():
        raise InvalidKernel(f"{label}: is not a regular file, expected a JSON kernel file")
    if size > MAX_FILE_BYTES:
        raise InvalidKernel(f"{label}: file is {size} bytes, more than the {MAX_FILE_BYTES} (1 MiB) allowed for a kernel file")
    from .io.outputs import note_input

    note_input(path)  # a kernel file is an input: never overwritten by this call's outputs
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidKernel(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:  # the file grew after stat
        raise InvalidKernel(f"{label}: file is more than the {MAX_FILE_BYTES} bytes (1 MiB) allowed for a kernel file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidKernel(f"{label}: not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse_kernels(_parse_json(text, label), origin=label, path=path, max_ndim=max_ndim)


def parse_kernels(
    document: Any,
    *,
    origin: str = "<data>",
    path: Path | None = None,
    max_ndim: int = 2,
) -> list[Kernel]:
    """Validate a parsed kernel document (family file or single kernel) and return its kernels.

    Parameters
    ----------
    document : object
        What ``json.loads`` gave for a kernel file.
    origin : str
        The file name (or a label) every error message starts with.
    path : Path, optional
        Stored in each :class:`Kernel`.
    max_ndim : int
        Deepest matrix nesting accepted: 2 for image kernels, 3 for (channels, f, f) layer kernels.

    Examples
    --------
    >>> parse_kernels({"name": "avg", "matrix": [[1, 1]], "scale": "sum"})[0].array().tolist()
    [[0.5, 0.5]]
    >>> parse_kernels({"name": "bad", "matrix": [[1, 2, 3], [4]]}, origin="my.json")
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: my.json: matrix: row 2 has 1 value, expected 3
    """
    check = _Validator(origin, max_ndim=max_ndim)
    if not isinstance(document, dict):
        check.fail("", f'is {_describe(document)}, expected a JSON object: a family file with "kernels" or one kernel with "name" and "matrix"')
    if "kernels" in document or "family" in document:
        check.keys(document, "", _FAMILY_FILE_KEYS, required=("family", "kernels"))
        family = check.name(document["family"], "family")
        if "description" in document:
            check.text(document["description"], "description")
        items = document["kernels"]
        if not isinstance(items, list):
            check.fail("kernels", f"is {_describe(items)}, expected a list of kernel objects")
        if not items:
            check.fail("kernels", "is empty, expected at least one kernel")
        kernels: list[Kernel] = []
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            field = f"kernels[{index}]"
            kernel = check.kernel(item, field, family=family, path=path, allowed=_KERNEL_KEYS)
            if kernel.name in first_index:
                check.fail(f"{field}.name", f"'{kernel.name}' is already used by kernels[{first_index[kernel.name]}]")
            first_index[kernel.name] = index
            kernels.append(kernel)
        return kernels
    if "name" in document or "matrix" in document:
        return [check.kernel(document, "", family=CUSTOM_FAMILY, path=path, allowed=_SINGLE_FILE_KEYS)]
    keys = ", ".join(f'"{key}"' for key in document) or "none"
    check.fail("", f'expected "family" and "kernels" (a family file) or "name" and "matrix" (one kernel); found keys: {keys}')
    raise AssertionError("unreachable")  # check.fail always raises


# --------------------------------------------------------------------------- validation


class _NotFinite:
    """A JSON number that is not a finite float (NaN, Infinity, 1e400), kept as its text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 24 else self.text[:20] + "..."
        if self.text in ("NaN", "Infinity", "-Infinity"):
            return shown
        return f"{shown} (beyond the float range)"


class _Object(dict):
    """A JSON object that remembers keys given twice (json itself keeps only the last)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
        obj.duplicates = tuple(dict.fromkeys(repeated))
    return obj


def _parse_float(text: str) -> float | _NotFinite:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def _parse_int(text: str) -> int | _NotFinite:
    if len(text) > 330:  # far beyond float range; also stays under int()'s digit limit
        return _NotFinite(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        return _NotFinite(text)
    return value


def _parse_json(text: str, label: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_NotFinite,
        )
    except json.JSONDecodeError as exc:
        raise InvalidKernel(f"{label}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidKernel(f"{label}: not valid JSON for a kernel: lists or objects nested too deeply") from None


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
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class _Validator:
    """Checks one kernel document; every failure names the file and the field path."""

    def __init__(self, origin: str, *, max_ndim: int = 2, min_ndim: int = 2) -> None:
        self.origin = origin
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim

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

    def name(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"is {_describe(value)}, expected a string")
        if len(value) > MAX_NAME_LENGTH:
            self.fail(field, f"is {len(value)} characters long, at most {MAX_NAME_LENGTH}")
        if not NAME_PATTERN.fullmatch(value):
            folded = re.sub(r"[-\s]+", "_", value.strip().lower())
            hint = f' (e.g. "{folded}")' if NAME_PATTERN.fullmatch(folded) else ""
            self.fail(field, f"{json.dumps(value)} is not a valid name: use lower-case letters, digits and _ ([a-z0-9_]+){hint}")
        return value

    def text(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"is {_describe(value)}, expected a string")
        if "\n" in value or "\r" in value:
            self.fail(field, "must be one line (no line breaks)")
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
        if value == "sum" and isinstance(value, str):
            total = math.fsum(_flat(matrix))
            if abs(total) <= _ZERO_SUM_RTOL * math.fsum(abs(v) for v in _flat(matrix)):
                self.fail(field, '"sum", but the matrix sums to 0 and cannot be divided by it; drop "scale" or give a number')
            return "sum"
        if isinstance(value, _NotFinite):
            self.fail(field, f'is {value}, expected a finite non-zero number or "sum"')
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(field, f'is {_describe(value)}, expected a number (the divisor) or "sum"')
        if value == 0:
            self.fail(field, 'is 0 and cannot be divided by; expected a non-zero number or "sum"')
        largest = max(abs(v) for v in _flat(matrix))
        if not math.isfinite(largest / abs(value)):
            self.fail(field, f"is {value!r}: dividing the matrix by it overflows")
        return float(value)

    def matrix(self, value: Any, field: str) -> tuple:
        """A rectangular nested list of finite numbers, ``min_ndim`` to ``max_ndim`` deep, as tuples of floats."""
        expected = _dims_text(self.min_ndim, self.max_ndim)
        if not isinstance(value, list):
            self.fail(field, f"is {_describe(value)}, expected {expected}")
        if not value:
            self.fail(field, "is empty, expected at least one row")
        shape: list[int] = []
        node: Any = value
        while isinstance(node, list) and node:
            shape.append(len(node))
            node = node[0]
        ndim = len(shape) + (1 if isinstance(node, list) else 0)  # an empty list still nests one deeper
        if ndim > self.max_ndim:
            self.fail(field, f"is {ndim}-D (lists nested {ndim} deep), expected {expected}")
        if ndim < self.min_ndim:
            self.fail(field, f"is {ndim}-D (a list of numbers), expected {expected}: wrap a single row in another list, [[...]]")
        names = _axis_names(ndim)
        if isinstance(node, list):
            self.fail(field, f"{_position((0,) * len(shape), names)} is empty")
        for axis, length in enumerate(shape):
            if length > MAX_SIDE:
                self.fail(field, f"has {length} {names[axis]}s, at most {MAX_SIDE} per side")

        def walk(item: Any, position: tuple[int, ...]) -> Any:
            axis = len(position)
            if axis == ndim:
                return self.number(item, field, _position(position, names))
            want = shape[axis]
            unit = "value" if axis == ndim - 1 else names[axis]
            if not isinstance(item, list):
                self.fail(field, f"{_position(position, names)} is {_describe(item)}, expected a list of {want} {unit}s")
            if len(item) != want:
                self.fail(field, f"{_position(position, names)} has {len(item)} {unit}{'' if len(item) == 1 else 's'}, expected {want}")
            return tuple(walk(child, (*position, index)) for index, child in enumerate(item))

        matrix = walk(value, ())
        try:
            total = math.fsum(abs(v) for v in _flat(matrix))
        except OverflowError:
            total = math.inf
        if not math.isfinite(total):
            self.fail(field, "values are too large: their sum is beyond the float range")
        return matrix

    def number(self, value: Any, field: str, where: str) -> float:
        if isinstance(value, _NotFinite):
            self.fail(field, f"{where} is {value}, expected a finite number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str):
                try:
                    float(value)
                    hint = " (write numbers without quotes)"
                except ValueError:
                    pass
            self.fail(field, f"{where} is {_describe(value)}, expected a number{hint}")
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


def _flat(matrix: Any) -> Iterator[float]:
    for item in matrix:
        if isinstance(item, tuple):
            yield from _flat(item)
        else:
            yield item


def _to_lists(matrix: Any) -> Any:
    if isinstance(matrix, tuple):
        return [_to_lists(item) for item in matrix]
    return int(matrix) if float(matrix).is_integer() and abs(matrix) < 2**53 else matrix


def _short_number(value: float) -> str:
    """``2.0`` -> ``2``, ``1.5`` -> ``1.5``; the shortest text that reads back as the same float."""
    text = f"{value:g}"
    return text if float(text) == value else repr(float(value))


# --------------------------------------------------------------------------- the catalogue


def _catalogue_files(folder: Path) -> list[Path]:
    """The kernel files of one folder: ``*.json`` at the top level, not ``*.schema.json``, not hidden."""
    if not folder.is_dir():
        return []
    return sorted(
        file
        for file in folder.glob("*.json")
        if file.is_file() and not file.name.startswith(".") and not file.name.endswith(".schema.json")
    )


#: files of KERNELCLI_KERNEL_PATH already reported as "not a kernel file" (once per process)
_NOTED: set[Path] = set()


def _not_a_kernel_file(file: Path) -> str | None:
    """Why a JSON file found on KERNELCLI_KERNEL_PATH is not a kernel file at all, or None if it tries to be one.

    A JSON object with none of "kernels", "family" and "matrix" (a network spec, a
    settings file) is someone else's file; a broken kernel file is still an error.
    """
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or any(key in document for key in ("kernels", "family", "matrix")):
        return None
    keys = ", ".join(f'"{key}"' for key in list(document)[:4]) or "no keys"
    return f"{file}: not a kernel file ({keys}; no \"kernels\" or \"matrix\"), skipped"


def _load_catalogue() -> list[Kernel]:
    import logging

    kernels: list[Kernel] = []
    seen: dict[str, Kernel] = {}
    shipped = catalog_dir().resolve()
    for folder in search_dirs():
        for file in _catalogue_files(folder):
            try:
                found = read_kernel_file(file)
            except InvalidKernel:
                why = None if folder.resolve() == shipped else _not_a_kernel_file(file)
                if why is None:
                    raise
                if file not in _NOTED:
                    _NOTED.add(file)
                    logging.getLogger("kernelcli").warning("note: %s", why)
                continue
            for kernel in found:
                earlier = seen.get(kernel.name)
                if earlier is not None:
                    raise InvalidKernel(
                        f"duplicate kernel name '{kernel.name}': defined in {earlier.path} and in {file}; "
                        "names must be unique across the catalogue and KERNELCLI_KERNEL_PATH, rename one"
                    )
                seen[kernel.name] = kernel
                kernels.append(kernel)
    return kernels


def _fold_name(name: str) -> str:
    return name.lower().replace("-", "_")


def _suggestions(wanted: str, names: list[str]) -> list[str]:
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    prefixed = [n for n in names if n.startswith(wanted)]
    return list(dict.fromkeys(close + prefixed))[:5]


def _load_by_name(spec: str) -> Kernel:
    wanted = _fold_name(spec)
    kernels = _load_catalogue()
    for kernel in kernels:
        if kernel.name == wanted:
            return kernel
    close = _suggestions(wanted, [k.name for k in kernels])
    parts = [f"unknown kernel '{spec}'" + (f" (did you mean {', '.join(close)}?)" if close else "")]
    for candidate in (spec + ".json", spec):
        if Path(candidate).is_file():
            parts.append(f"a file '{candidate}' is here, but names are looked up only in the catalogue: give it as ./{candidate}")
            break
    if os.environ.get(ENV_PATH, "").strip():
        shown = [f"{folder}{'' if folder.is_dir() else ' (missing)'}" for folder in search_dirs()]
        parts.append(f"searched {', '.join(shown)}")
    parts.append("`kernelcli kernels` lists the catalogue")
    raise KernelNotFound("; ".join(parts))


def _looks_like_path(spec: str) -> bool:
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in spec for sep in separators) or spec.lower().endswith(".json") or bool(_FILE_SELECTOR.fullmatch(spec))


def _load_from_path(spec: str, max_ndim: int = 2) -> Kernel:
    file_text, selector = spec, None
    selected = _FILE_SELECTOR.fullmatch(spec)
    if selected and not Path(spec).exists():
        file_text, selector = selected.group(1), selected.group(2)
    path = Path(file_text).expanduser()
    kernels = read_kernel_file(path, max_ndim=max_ndim)
    names = ", ".join(k.name for k in kernels)
    if selector is not None:
        wanted = _fold_name(selector)
        for kernel in kernels:
            if kernel.name == wanted:
                return kernel
        raise KernelNotFound(f"{file_text}: no kernel named '{selector}'; it holds: {names}")
    if len(kernels) == 1:
        return kernels[0]
    raise InvalidKernel(f"{file_text}: holds {len(kernels)} kernels ({names}); pick one with {file_text}:NAME")


def _gaussian_from_spec(spec: str, argument: str) -> Kernel:
    try:
        sigma = float(argument)
    except ValueError:
        raise InvalidKernel(f"{spec}: sigma {argument!r} is not a number; write e.g. gaussian:1.5") from None
    if not math.isfinite(sigma) or sigma <= 0:
        raise InvalidKernel(f"{spec}: sigma must be a positive finite number, e.g. gaussian:1.5")
    return gaussian_kernel(sigma)


def _box_from_spec(spec: str, argument: str) -> Kernel:
    if not (argument.isascii() and argument.isdigit()) or not 1 <= int(argument) <= MAX_SIDE:
        raise InvalidKernel(f"{spec}: N must be a whole number from 1 to {MAX_SIDE}, e.g. box:3")
    return box_kernel(int(argument))
