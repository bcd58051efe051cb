"""Text matrices: ``.csv``/``.txt`` in (comma, semicolon or whitespace separated, ``#``
comments), ``.csv`` out, and the short number format the terminal tables use.

A matrix is parsed cell by cell with a clear error naming the line and the cell; NaN,
infinities, NUL bytes, non-UTF-8 text and ragged rows are refused.  The size is checked
against :data:`MAX_MATRIX_BYTES` and the memory limit before the file is read.

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
from pathlib import Path

import numpy as np

from ..errors import ImageReadError, UsageError
from .common import Loaded
from .outputs import atomic_write

MAX_MATRIX_BYTES = 64 * 1024 * 1024
#: bytes of memory parsing one byte of a text matrix may take at its peak (cell strings, floats, lists)
MATRIX_PARSE_FACTOR = 40


def read_matrix(p: Path, size: int, max_bytes: int | None = None) -> Loaded:
    """Read the text matrix ``p`` (``size`` bytes) as float64; raises ImageReadError naming the line."""
    from ..limits import check_peak, size_text

    if size > MAX_MATRIX_BYTES:
        raise ImageReadError(f"{p}: text matrix larger than {MAX_MATRIX_BYTES // 2**20} MiB; use .npy for big arrays")
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
        cells = stripped.replace(",", " ").replace(";", " ").split()
        values = []
        for cell in cells:
            value = _to_float(cell)
            if value is None:
                shown = cell if len(cell) <= 20 else cell[:17] + "..."
                raise ImageReadError(f"{p}: line {lineno}: {shown!r} is not a number")
            values.append(value)
        if not values:  # a line of separators alone would make a row of no values: a (1, 0) matrix
            raise ImageReadError(f"{p}: line {lineno}: no numbers, only separators")
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


def _to_float(text: str) -> float | None:
    """``float(text)`` for plain decimal numbers; None otherwise (no ``1_000``, no 5000-digit ints)."""
    if len(text) > 400 or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def write_matrix_csv(o: Path, arr: np.ndarray, *, force: bool = False) -> None:
    """Write the 2-D ``arr`` to ``o`` as CSV text, atomically (UsageError for another rank)."""
    if arr.ndim != 2:
        raise UsageError(f"{o}: a .csv holds a 2-D matrix; this result has shape {arr.shape} (use .npy or an image format)")
    text = format_matrix_csv(arr)
    atomic_write(o, lambda f: f.write(text.encode()), force=force)


def format_matrix_csv(arr: np.ndarray) -> str:
    """Numbers as CSV text: integers without decimals, others with up to 10 significant digits.

    >>> format_matrix_csv(np.array([[1.0, 2.5]]))
    '1,2.5\\n'
    """
    return "".join(",".join(format_number(v) for v in row) + "\n" for row in arr)


def format_number(v: float) -> str:
    """One number as short text: ``6`` for 6.0, ``0.0625``, ``-1.234567891``.

    >>> format_number(-9.0), format_number(1 / 3)
    ('-9', '0.3333333333')
    """
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.10g}"


def format_matrix_table(matrix) -> str:
    """A matrix as right-aligned text columns, one row per line.

    >>> print(format_matrix_table([[6, -9], [-3, 0]]), end="")
     6 -9
    -3  0
    """
    cells = [[format_number(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "".join(" ".join(c.rjust(width) for c in row) + "\n" for row in cells)
