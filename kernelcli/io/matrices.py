"""Text matrices: ``.csv``/``.txt`` in (comma, semicolon or whitespace separated, ``#``
comments), ``.csv`` out, and the number format of both files and terminal tables: the shortest text that reads back to the same value.

A matrix is parsed cell by cell with a clear error naming the line and the cell; NaN,
infinities, NUL bytes, non-UTF-8 text, ragged rows, empty cells (``1,,3``) and a line that
reads two ways (``1,5;2,5``: decimal commas, or ',' and ';' both separating) are refused.
The size is checked against :data:`MAX_MATRIX_BYTES` and the memory limit before the file
is read.  Numbers are written back as the shortest text that reads to the same value.

Example
-------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "k.csv"
>>> _ = p.write_text("1, 2  # a comment\\n3; 4\\n")
>>> read_matrix(p, p.stat().st_size).data
array([[1., 2.],
       [3., 4.]])
>>> format_matrix_csv(read_matrix(p, p.stat().st_size).data)
'1,2\\n3,4\\n'
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from .. import numtext
from ..errors import ImageReadError, UsageError
from .common import Loaded
from .outputs import atomic_write
from .naming import keep_as
from .not_held import KeepAdvised

MAX_MATRIX_BYTES = 64 * 1024 * 1024


def too_large_message(source: str) -> str:
    """The refusal of a text matrix past :data:`MAX_MATRIX_BYTES` (a file's, a stream's).

    >>> too_large_message("m.csv")
    'm.csv: text matrix larger than 64 MiB; use .npy for big arrays'
    """
    return f"{source}: text matrix larger than {MAX_MATRIX_BYTES // 2**20} MiB; use .npy for big arrays"


#: bytes of memory parsing one byte of a text matrix may take at its peak (cell strings, floats, lists)
MATRIX_PARSE_FACTOR = 40


def read_matrix(p: Path, size: int, max_bytes: int | None = None) -> Loaded:
    """Read the text matrix ``p`` (``size`` bytes) as float64; raises ImageReadError naming the line."""
    from ..limits import check_peak, size_text

    if size > MAX_MATRIX_BYTES:
        raise ImageReadError(too_large_message(str(p)))
    check_peak(size * MATRIX_PARSE_FACTOR, f"{p}: reading a {size_text(size)} text matrix", max_bytes=max_bytes)
    raw = p.read_bytes()
    if b"\x00" in raw:
        raise ImageReadError(f"{p}: not a text matrix (it holds NUL bytes; binary content?)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImageReadError(f"{p}: not a text matrix (byte {exc.start} is not UTF-8)") from None
    rows: list[list[float]] = []
    width = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        cells = _cells(stripped, p, lineno)
        values = []
        for cell in cells:
            value = _to_float(cell)
            if value is None:
                raise ImageReadError(f"{p}: line {lineno}: {_shown(cell)!r} is not a number")
            if len(cell) >= 16 and (rounded := numtext.rounded_whole(cell)) is not None:
                raise ImageReadError(f"{p}: line {lineno}: {numtext.inexact_whole(_shown(cell), held='a text matrix is float64', rounded=rounded)}"
                                     "; an int64 .npy keeps it through pad and pool --op max|min "
                                     "(convolve and averages compute in float64, and refuse it)")
            values.append(value)
        if not all(math.isfinite(v) for v in values):
            raise ImageReadError(f"{p}: line {lineno}: NaN or infinite value; expected finite numbers")
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ImageReadError(f"{p}: line {lineno} has {len(values)} values, expected {width} like the first row")
        rows.append(values)
    if not rows:
        raise ImageReadError(f"{p}: empty matrix: expected rows of numbers separated by commas or spaces")
    return Loaded(path=p, data=np.array(rows, dtype=np.float64), kind="matrix", format="CSV")


#: a number as a spreadsheet with a decimal comma writes it (``1,5``, ``-0,25``, ``3``)
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+(,\d+)?|,\d+)([eE][+-]?\d+)?")
#: any whitespace (a cheap test before splitting a line on it)
_SPACE = re.compile(r"\s")


def _cells(line: str, p: Path, lineno: int) -> list[str]:
    """The cells of one matrix line (comment removed, not blank): separated by ``;``, or by ``,``,
    whitespace around them ignored, or by whitespace alone; whitespace inside a ``,`` or ``;``
    field separates cells too (``1, 2 3``).

    Refused, naming the line: an empty cell (``1,,3``: taking the next number for it would shift
    the columns), a line of separators alone, and a line that reads two ways (:func:`_two_readings`).

    >>> _cells("1, 2 3", Path("m.csv"), 1)
    ['1', '2', '3']
    >>> _cells("1;;3", Path("m.csv"), 2)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: m.csv: line 2, cell 2: empty; expected a number between the ';' separators
    """
    two = _two_readings(line)
    if two is not None:
        raise ImageReadError(f"{p}: line {lineno}: {_shown(line)!r} reads two ways: {two}; "
                             "write '.' as the decimal mark and one kind of separator")
    sep = ";" if ";" in line else "," if "," in line else None
    if sep is None:
        return line.split()
    spaced = _SPACE.search(line) is not None
    fields = [field.strip() for field in line.split(sep)] if spaced else line.split(sep)
    if not any(fields):  # a row of no values would make a (1, 0) matrix
        raise ImageReadError(f"{p}: line {lineno}: no numbers, only separators")
    if "" in fields:
        raise ImageReadError(f"{p}: line {lineno}, cell {fields.index('') + 1}: empty; "
                             f"expected a number between the {sep!r} separators")
    return " ".join(fields).split() if spaced else fields


def _two_readings(line: str) -> str | None:
    """The two readings of a line that can be read two ways, in words, or None.

    ``;`` with ``,``: a European spreadsheet's decimal commas between ``;`` separators, or
    both separating cells (or, where the fields are no decimal-comma numbers, ``;`` ending a
    row as in MATLAB).  Decimal-comma numbers separated by whitespace (``1,5 2,5``): that, or
    ``,`` separating cells.

    >>> _two_readings("1,5;2,5")
    "decimal commas between ';' separators (1.5, 2.5) or ',' and ';' both separating cells (1, 5, 2, 5)"
    >>> _two_readings("1;2,5")
    "decimal commas between ';' separators (1, 2.5) or ',' and ';' both separating cells (1, 2, 5)"
    >>> _two_readings("1, 2 3") is None
    True
    """
    if "," not in line:
        return None
    if ";" in line:
        fields = [field.strip() for field in line.split(";")]
        both = _both(line)
        if all(_DECIMAL_COMMA.fullmatch(f) for f in fields if f):
            european = ", ".join(_preview([f.replace(",", ".") for f in fields if f]))
            return f"decimal commas between ';' separators ({european}) or ',' and ';' both separating cells ({both})"
        return f"';' ending a row as in MATLAB's [1,2;3,4] or ',' and ';' both separating cells ({both})"
    if not _SPACE.search(line):
        return None
    tokens = line.split()
    if len(tokens) > 1 and all(_DECIMAL_COMMA.fullmatch(t) for t in tokens):  # (the line holds a ',')
        european = ", ".join(_preview([t.replace(",", ".") for t in tokens]))
        return f"decimal commas between spaces ({european}) or ',' and spaces both separating cells ({_both(line)})"
    return None


def _both(line: str) -> str:
    """The first cells of ``line`` read with ',', ';' and whitespace all separating them."""
    return ", ".join(_preview(line.replace(";", " ").replace(",", " ").split()))


def _preview(cells: list[str], n: int = 4) -> list[str]:
    """The first ``n`` cells, and ``...`` when there are more."""
    return cells[:n] + (["..."] if len(cells) > n else [])


def _shown(text: str) -> str:
    """A line short enough for a one-line message."""
    return text if len(text) <= 40 else text[:37] + "..."


def _to_float(text: str) -> float | None:
    """``float(text)`` for plain decimal numbers; None otherwise (no ``1_000``, no 5000-digit ints)."""
    return None if len(text) > 400 else numtext.decimal(text)


def starts_like_a_matrix(p: Path, peek: int = 65536) -> bool:
    """Whether the text file ``p`` starts as a matrix does: its first line of content (comments and blank lines
    skipped) is numbers alone.  A disc's ``README.TXT`` does not; a file that cannot be read does (its read says why).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "m.csv").write_text("# k\\n1, 2\\n"); _ = (d / "r.txt").write_text("Exported\\n")
    >>> starts_like_a_matrix(d / "m.csv"), starts_like_a_matrix(d / "r.txt")
    (True, False)
    """
    try:
        with open(p, "rb") as f:
            text = f.read(peek).decode("utf-8-sig", errors="replace")
    except OSError:
        return True
    for line in text.splitlines():
        if stripped := line.split("#", 1)[0].strip():
            return all(_to_float(cell) is not None for cell in re.split(r"[,;\s]+", stripped) if cell)
    return False


def write_matrix_csv(o: Path, arr: np.ndarray, *, force: bool = False, kept_in: tuple[str, ...] = ("npy",)) -> None:
    """Write the 2-D ``arr`` to ``o`` as CSV text, atomically; another rank is refused (KeepAdvised), offering the
    types ``kept_in`` (names without the dot: what the same call writes this result to) in the words that pick them.

    >>> write_matrix_csv(Path("o.csv"), np.zeros((2, 2, 3)))
    Traceback (most recent call last):
    ...
    kernelcli.io.not_held.KeepAdvised: o.csv: a .csv holds a 2-D matrix; this result has shape (2, 2, 3): write .npy to keep it
    """
    if arr.ndim != 2:
        keep = keep_as(o, *kept_in)  # (stdout's stand-in is told the --format to give)
        raise KeepAdvised(f"{o}: a .csv holds a 2-D matrix; this result has shape {arr.shape}: {keep} to keep it", kept_in, keep)
    text = format_matrix_csv(arr)
    atomic_write(o, lambda f: f.write(text.encode()), force=force)


def format_matrix_csv(arr: np.ndarray) -> str:
    """Numbers as CSV text: whole numbers without decimals, others as the shortest text that
    reads back to the same value in the array's type (:func:`format_number`).

    >>> format_matrix_csv(np.array([[1.0, 2.5]]))
    '1,2.5\\n'
    """
    return "".join(",".join(format_number(v) for v in row) + "\n" for row in arr)


def format_number(v: float) -> str:
    """One number as short text that reads back to the same value in its own type: ``6`` for 6.0,
    ``0.0625``, ``0.3333333333333333`` (a float64), ``0.33333334`` (a float32), ``1e+300``.

    Whole numbers below 1e16 are written as integers (the lecture's matrices read ``6 -9 -8``);
    integers of an integer type always are, every digit kept.  -0.0 is written ``0``: equal, not
    the same bits (a ``.npy`` output keeps the sign).

    >>> format_number(-9.0), format_number(1 / 3), format_number(np.float32(1 / 3)), format_number(2.0**53 + 2)
    ('-9', '0.3333333333333333', '0.33333334', '9007199254740994')
    """
    if isinstance(v, (int, np.integer, np.bool_)):
        return str(int(v))
    x = v if isinstance(v, np.floating) else np.float64(v)
    if x == 0:
        return "0"
    size = float(abs(x))  # (1e16 is inf in float16: compared there, numpy warned of an overflow on every value)
    if float(x).is_integer() and size < 1e16:
        return str(int(x))
    if 1e-4 <= size < 1e16:  # where Python's repr writes positional digits too
        return np.format_float_positional(x, unique=True, trim="-")
    return np.format_float_scientific(x, unique=True, trim="-")


def format_matrix_table(matrix) -> str:
    """A matrix as right-aligned text columns, one row per line.

    >>> print(format_matrix_table([[6, -9], [-3, 0]]), end="")
     6 -9
    -3  0
    """
    cells = [[format_number(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "".join(" ".join(c.rjust(width) for c in row) + "\n" for row in cells)
