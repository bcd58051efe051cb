"""A layer's parts as the command line gives them: kernels named by spec, ``--bias`` text, ``--weights`` and
``--bias-file`` arrays, each read exactly (a whole number float64 would round is refused, not rounded) or refused in
one line naming the file or the value.

Example
-------
>>> parse_bias("0.5, -1", 2)
[0.5, -1.0]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import numtext
from .errors import UsageError


#: largest --weights/--bias-file accepted (a first layer's weights are kilobytes)
MAX_WEIGHTS_BYTES = 64 * 1024 * 1024


def load_layer_kernel(spec: str) -> Any:
    """Load a ``--kernel`` spec, allowing a 3-D (C x f x f) kernel file for the layer semantics."""
    from .catalog import load_kernel

    return load_kernel(spec, max_ndim=3)


def parse_bias(text: str, count: int | None = None, noun: str = "kernel") -> list[float]:
    """Parse ``--bias``: one number, or numbers separated by commas (one per kernel); with ``count``, the
    kernels (or filters: ``noun``) the call has, refused (exit 2) before any input when it cannot match.
    The command line refuses a text that is no bias as it reads the option (:func:`bias_problem`).

    >>> parse_bias("0.5"), parse_bias("1, -2,0", 3)
    ([0.5], [1.0, -2.0, 0.0])
    >>> parse_bias("1,2", 1)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --bias has 2 values for 1 kernel; give one value, or one per kernel
    """
    problem = bias_problem(text)
    if problem is not None:
        raise UsageError(f"invalid --bias {problem}")
    values = [numtext.decimal(part) for part in str(text).split(",")]
    if count is not None and len(values) not in (1, count):
        raise bias_count_error("--bias", len(values), count, noun)
    return values  # type: ignore[return-value]


def bias_problem(text: str) -> str | None:
    """Why ``--bias TEXT`` is no bias, the text as typed first, else None: each value is refused as a typed weight
    is (not finite, non-zero but read as 0, a whole number float64 would round), one value in ``--pad-value``'s words.

    >>> bias_problem("0.5,-1") is None, bias_problem("1e400"), bias_problem("1,nan")
    (True, "'1e400': expected a finite number", "'1,nan': value 2 is nan, expected a finite number")
    """
    import math

    parts = str(text).split(",")
    for at, part in enumerate(parts, start=1):
        typed = part.strip()
        value = numtext.decimal(part)
        # one value is named as typed, one of several by its place (as a kernel's weight by its cell)
        shown = numtext.clipped(typed)  # (a value is quoted short, as the whole text is)
        where, said = ("", numtext.quoted(typed)) if len(parts) == 1 else (f"value {at}", shown)
        whole = numtext.quoted(text)
        before = "" if len(parts) == 1 else f"{whole}: "
        if value is None:
            return f"{whole}: expected a number, or numbers separated by commas (one per kernel)"
        if (rounded := numtext.rounded_whole(part)) is not None:  # as a -k weight of 2**53 + 1: refused, not rounded
            return before + numtext.inexact_whole(said, where, held="bias values are float64", rounded=rounded)
        if not math.isfinite(value):
            return f"{whole}: " + (f"{where} is {shown}, " if where else "") + "expected a finite number"
        if value == 0 and numtext.underflows(typed):  # (1e-400 added 0 in silence: review 53 #6)
            return before + numtext.below_range(said, where)
    return None


def bias_count_error(source: str, given: int, count: int, noun: str, one: bool = True) -> UsageError:
    """The one refusal of a bias whose count cannot match the kernels or filters (``one``: one value is taken too).

    >>> str(bias_count_error("--bias-file b.npy", 3, 2, "filter", one=False))
    '--bias-file b.npy has 3 values for 2 filters; give one per filter'
    """
    return UsageError(f"{source} has {numtext.counted(given, 'value')} for {numtext.counted(count, noun)}; give "
                      f"{'one value, or ' if one else ''}one per {noun}")


def _read_npy_file(path: str | Path, what: str) -> Any:
    """np.load for a weights or bias file; every problem is an InvalidKernel naming the file."""
    import numpy as np

    from .errors import InvalidKernel, KernelNotFound

    from .tiled.urls import refuse_url

    refuse_url(path, f"the {what} are read from a local .npy file")  # (its folded spelling was "no such file")
    p = Path(path)
    if p.suffix.lower() != ".npy":
        raise InvalidKernel(f"{p}: {what} must be a .npy file (numpy.save), got {p.suffix or 'no extension'!r}")
    if not p.exists():
        raise KernelNotFound(f"{p}: no such file")
    if not p.is_file():
        raise InvalidKernel(f"{p}: not a regular file")
    size = p.stat().st_size
    from .io.reads import note_input

    note_input(p)  # weights and bias are inputs: never overwritten by this call's outputs
    if size > MAX_WEIGHTS_BYTES:
        raise InvalidKernel(f"{p}: {size} bytes, more than the {MAX_WEIGHTS_BYTES // 2**20} MiB allowed for {what}")
    from .io.arrays import load_npy

    arr = load_npy(p, InvalidKernel)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise InvalidKernel(f"{p}: {what} must hold real numbers, got dtype {getattr(arr, 'dtype', type(arr))}")
    if arr.size == 0:
        raise InvalidKernel(f"{p}: {what} is empty (shape {arr.shape})")
    from .given_values import float64_of, not_finite_said, rounded_whole_said
    from .ndsupport import first_inexact_whole

    values = float64_of(arr, p, what)  # a long double as a kernel file's: refused past float64, else noted
    if arr.dtype.kind in "iu" and (rounded := first_inexact_whole(arr)) is not None:  # as a -k kernel's int64 weight
        raise InvalidKernel(f"{p}: {rounded_whole_said(rounded[1], rounded[0], what)}")
    if (not_finite := not_finite_said(values, what)) is not None:
        raise InvalidKernel(f"{p}: {not_finite}")
    return values


def read_weights(path: str | Path) -> Any:
    """Read a filter bank (K, C, f, f) saved with numpy.save: PyTorch's conv weight layout.

    For instance ``numpy.save("w.npy", model.conv1.weight.detach().numpy())``.  Checked
    before any image is read; problems are InvalidKernel (exit 3).
    """
    from .catalog_format import MAX_SIDE
    from .errors import InvalidKernel

    w = _read_npy_file(path, "weights")
    if w.ndim != 4:
        hint = "; one filter (C, f, f) is w[None]" if w.ndim == 3 else ""
        raise InvalidKernel(f"{path}: weights must be 4-D (K filters, C channels, f, f) as PyTorch stores them, got shape {w.shape}{hint}")
    if max(w.shape[2:]) > MAX_SIDE:
        raise InvalidKernel(f"{path}: filters of {numtext.counted(w.shape[2], 'row')} x {numtext.counted(w.shape[3], 'column')} "
                            f"exceed {MAX_SIDE} per side")
    return w


def read_bias_file(path: str | Path, filters: int) -> Any:
    """Read a bias vector (K,) saved with numpy.save; its length must equal the filter count."""
    from .errors import InvalidKernel

    b = _read_npy_file(path, "bias")
    if b.ndim == 1 and b.size != filters:  # a count that cannot match: a usage error, as for --bias
        raise bias_count_error(f"--bias-file {path}", b.size, filters, "filter", one=False)
    if b.shape != (filters,):
        raise InvalidKernel(f"{path}: bias must have shape ({filters},), one value per filter of the weights; got {b.shape}")
    return b
