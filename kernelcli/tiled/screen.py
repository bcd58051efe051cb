"""The input refusals of a dask array, decided on the whole array once, before any tile is computed.

A tile's own checks see the tile with its halo: they count its values, place them in the tile,
and miss a value no window reads (a stride's last rows), where the in-memory function, given
the whole array, refuses it.  :func:`check_input` reads every block once and refuses with the
in-memory message: the whole array's count and the first place in it.

Example
-------
>>> import numpy as np, dask.array as da
>>> x = np.ones((5, 5), np.float32); x[4, 4] = np.nan
>>> check_input(da.from_array(x, chunks=2))
Traceback (most recent call last):
...
kernelcli.errors.UsageError: x: 1 value(s) are NaN or infinite; kernelcli expects finite input
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import ndsupport


class _Found(NamedTuple):
    """What one block holds: NaN or infinite values, whether one is an infinity, values beyond the
    cast's range, and the 64-bit integers the float compute rounds (count, place in the block)."""

    non_finite: int
    infinite: bool
    beyond: int
    rounded: tuple[int, tuple[int, ...]] | None


def _scan(block: np.ndarray, rounding: np.dtype | None, cast: np.dtype | None, finite: bool) -> _Found:
    non_finite, infinite, beyond = 0, False, 0
    if block.dtype.kind == "f":
        if finite and not ndsupport.all_finite(block):
            non_finite, infinite = ndsupport.non_finite_count(block), bool(np.isinf(block).any())
        if cast is not None and block.dtype.itemsize > cast.itemsize:
            with np.errstate(over="ignore", invalid="ignore"):
                beyond = int(np.count_nonzero(np.isfinite(block) & ~np.isfinite(block.astype(cast))))
            if beyond and not finite:  # (an infinity defers this refusal to the finite check, as in memory)
                infinite = bool(np.isinf(block).any())
    rounded = ndsupport.rounded_cells(block, rounding) if rounding is not None else None
    return _Found(non_finite, infinite, beyond, rounded)


def check_input(x: Any, name: str = "x", *, rounding: Any = None, cast: Any = None, finite: bool = True,
                finite_first: bool = False) -> None:
    """Refuse a dask array ``x`` as the in-memory function refuses the same values, counted and
    located in the whole array: one pass over its blocks, and none when nothing needs one.

    ``rounding``: the float dtype a 64-bit integer ``x`` is computed in (values it would round:
    :func:`kernelcli.ndsupport.check_whole`); None where the call takes the rounding (an explicit
    ``dtype='float64'``).  ``cast``: the float dtype ``x`` is cast to (values beyond its range:
    :func:`kernelcli.ndsupport.check_fits`, left to the finite check where an infinity is present).
    ``finite``: NaN and infinity (:func:`kernelcli.ndsupport.check_finite`); False where the caller
    screens them itself (the command line, naming the file as it reads it).  ``finite_first``: NaN
    before a value beyond range, as the 3-D functions check them in memory (the 2-D ones the other way).

    >>> import dask.array as da
    >>> x = np.zeros((6, 6), np.int64); x[4, 5] = x[5, 0] = 2**53 + 1
    >>> check_input(da.from_array(x, chunks=3), rounding=np.float64)
    Traceback (most recent call last):
    ...
    kernelcli.ndsupport.RoundedInput: x: 2 value(s) past 2**53 that float64 would round; the first, at (4, 5), is 9007199254740993, which float64 reads as 9007199254740992: an int64 input is computed in float64, exact for whole numbers up to 2**53; give it as float64 to take the rounding (dtype='float64' in the Python API)
    """
    dt = np.dtype(x.dtype)
    rounding = None if rounding is None else np.dtype(rounding)
    cast = None if cast is None else np.dtype(cast)
    wide_int = dt.kind in "iu" and dt.itemsize >= 8 and rounding is not None and rounding.kind == "f"
    narrowed = dt.kind == "f" and cast is not None and dt.itemsize > cast.itemsize
    if not (wide_int or narrowed or (finite and dt.kind == "f")) or any(n == 0 for n in x.shape):
        return
    import dask

    blocks = x.to_delayed().ravel()
    found = dask.compute(*[dask.delayed(_scan)(b, rounding if wide_int else None, cast, finite) for b in blocks])
    starts = [np.cumsum((0,) + c[:-1]) for c in x.chunks]
    hits = [(got.rounded[0], tuple(int(starts[i][j]) + w for i, (j, w) in enumerate(zip(index, got.rounded[1]))))
            for index, got in zip(np.ndindex(*x.numblocks), found) if got.rounded is not None]
    if hits:
        first = min(where for _, where in hits)
        raise ndsupport.RoundedInput(name, sum(count for count, _ in hits), first, int(x[first].compute()), dt.name,
                                     rounding.name)
    non_finite, beyond = sum(got.non_finite for got in found), sum(got.beyond for got in found)
    if any(got.infinite for got in found):  # the cast's infinities join the count where the cast comes first (2-D)
        non_finite, beyond = non_finite + (beyond if finite and not finite_first else 0), 0
    refusals = [ndsupport.non_finite_error(name, non_finite) if non_finite else None,
                ndsupport.beyond_range_error(name, beyond, cast) if beyond else None]
    for refusal in refusals if finite_first else refusals[::-1]:
        if refusal is not None:
            raise refusal
