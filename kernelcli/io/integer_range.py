"""Results into the integer range of an image: uint8 or uint16, rounded and clipped, never wrapped.

:func:`to_integer_range` is the one conversion every integer image output goes through
(:func:`kernelcli.io.image_writing.write_image`, the banded 8-bit pictures of
:mod:`kernelcli.io.pictures`, the tiled outputs of :mod:`kernelcli.tiled.files`), so the
same result gives the same pixels and the same counts of clipped values whichever way it
is written.  Its jitted twin for 8 bits is :mod:`kernelcli._core.eightbit`.

Policies
--------
* ``clip`` rounds (half to even) and clips, ``abs`` takes the absolute value first,
  ``minmax`` stretches min..max to the full range (in float64 whatever the result's type,
  any finite range: :func:`stretch_terms`); ``none`` is not one (its writers refuse it for an
  integer image first: :class:`kernelcli.io.not_held.FloatOutputNeeded`).
* Never wraps around: a value below 0 or above the top is clipped, and counted.
* A block of leading-axis rows at a time, into the integer output: no float copy of the
  whole image; a large image's blocks are shared among threads (the same bytes and counts).

Example
-------
>>> to_integer_range(np.array([[0.0, 0.5, 1.0]]), 8, "minmax")[0]
array([[  0, 128, 255]], dtype=uint8)
>>> to_integer_range(np.array([-70000.0, 70000.0]), 16, "abs")
(array([65535, 65535], dtype=uint16), 0, 2)
"""

from __future__ import annotations

import math

import numpy as np


#: values converted per block by :func:`to_integer_range` (a block stays in the CPU cache)
_BLOCK = 1 << 16
#: what converting one value costs, in the unit of :func:`kernelcli._core.threads.run_rows`'s
#: ``work`` (multiply-adds): about 8 passes of numpy over it, scaled by 2 with that unit's
#: threshold (1 -> 2 M a thread), so that a second thread starts from about 2**18 values (4 M / 16),
#: as it did at 28 with 3.5 M
_WORK_PER_VALUE = 16
#: kernelcli._core.threads.MIN_ROWS_PER_THREAD (blocks here), not imported for a small image
_MIN_BLOCKS_PER_THREAD = 16


def stretch_terms(lo: float, hi: float, top: int) -> tuple[float, float, float]:
    """``(scale, shift, factor)`` of the minmax stretch of ``lo < hi`` onto 0..``top``:
    ``rint((v * scale - shift) * factor)``, in float64, for any finite range.

    ``scale`` is 1 unless the plain ``(v - lo) * (top / (hi - lo))`` cannot be computed: a
    range beyond float64 (-1e308 .. 1e308: ``hi - lo`` is inf) is stretched in halves, and a
    range too small for ``top / (hi - lo)`` (under about 1.4e-306 for 8 bits) is first scaled
    up by 2**1000.  Both scalings are by a power of two and exact (but for halving a
    subnormal value, beside a range past 1e308).  :func:`to_integer_range` rounds a
    stretched value that falls within rounding of a half exactly (:func:`_settle_ties`).

    >>> stretch_terms(-2.0, 2.0, 255), stretch_terms(-1e308, 1e308, 255)[0], stretch_terms(0.0, 1e-310, 255)[0]
    ((1.0, -2.0, 63.75), 0.5, 1.0715086071862673e+301)
    """
    span = hi - lo
    if not math.isfinite(span):
        scale = 0.5
    elif not math.isfinite(top / span):
        # span >= 2**-1074 becomes >= 2**-74, and no value overflows: |lo|, |hi| <= 2**52 * span < 2**-964
        scale = 2.0**1000
    else:
        scale = 1.0
    return scale, lo * scale, top / (hi * scale - lo * scale)


#: how near a half a stretched value's float64 computation may fall on the wrong side of it: at most
#: 4 roundings of values up to 65535 (3e-11); a value this near a half is rounded exactly (:func:`_settle_ties`)
_TIE = 1e-9


def _settle_ties(rounded: np.ndarray, near: np.ndarray, values: np.ndarray, lo: float, hi: float, top: int) -> None:
    """Round the stretched values flagged ``near`` a half exactly (half to even), in fractions.

    ``(v - lo) * (top / (hi - lo))`` rounds 3 times: 25 in 0..50 came to 127.49999999999999, not
    127.5 (128).  Few values fall this near a half, and fewer distinct ones (an integer image's
    ties repeat): each distinct value is computed once.
    """
    from fractions import Fraction

    where = np.flatnonzero(near)
    picked = np.asarray(values).flat[where]
    picked = (picked if picked.dtype.kind in "iu" else picked.astype(np.float64)).tolist()  # (an int64 as it is)
    base, span = Fraction(lo), Fraction(hi) - Fraction(lo)
    exact = {x: round((Fraction(x) - base) * top / span) for x in set(picked)}
    rounded.flat[where] = [exact[x] for x in picked]


def to_integer_range(values: np.ndarray, bit_depth: int, rescale: str, *, nonzero: bool = False, out: np.ndarray | None = None,
                     count: bool = True) -> tuple:
    """Map float results to uint8/uint16: returns (array, values clipped low, values clipped high).

    ``nonzero``: also count the non-zero values (before rounding) in the same pass, as a
    fourth item (None for ``minmax``, which clips nothing): what the note on clipped
    responses needs, without another pass over the float result.  ``out``: an integer
    array of ``values``' shape (any strides: the colour bytes of an RGBX picture, say) to
    write into, returned as the array.  ``count=False``: the caller has the counts
    (:func:`kernelcli.io.pictures.whole_counts`); every count comes back 0, and no pass takes them.

    ``clip`` rounds and clips, ``abs`` takes the absolute value first, ``minmax`` stretches
    min..max to the full range (:func:`stretch_terms`; the same pixels as gallery's tiles).
    Never wraps around.  Computed a block of leading-axis rows at a time into the integer
    output: no float copy of the whole image (float32 holds every 8-bit level exactly;
    16-bit levels, wider integers and every minmax stretch are computed in float64, a block
    at a time; 8- and 16-bit integers as they are: whole numbers, nothing to round).

    >>> to_integer_range(np.array([-5.0, 100.4, 300.0]), 8, "clip")[0]
    array([  0, 100, 255], dtype=uint8)
    """
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if rescale == "none":
        raise ValueError("rescale 'none' keeps the float values: an integer range takes clip, abs or minmax")
    v = np.asarray(values)
    # 8/16-bit integers have nothing to round: compared and clipped as they are (|x| in int32)
    whole = v.dtype.kind in "iu" and v.dtype.itemsize <= 2 and rescale != "minmax"
    if whole:
        work = np.dtype(np.int32) if rescale == "abs" and v.dtype.kind == "i" else v.dtype
    else:
        # minmax in float64: a float32 range's hi - lo or top / (hi - lo) can overflow float32 (3e38 - -3e38, 255 / 2e-37)
        narrow = v.dtype.kind == "f" and v.dtype.itemsize < 8 and (bit_depth == 16 or rescale == "minmax")
        work = v.dtype if v.dtype.kind == "f" and not narrow else np.dtype(np.float64)
    if out is None:
        out = np.empty(v.shape, dtype=dtype)
    elif out.shape != v.shape or out.dtype != dtype:
        raise ValueError(f"out: expected a {np.dtype(dtype)} array of shape {v.shape}, got {out.dtype} {out.shape}")
    done = (lambda *r: (*r, None if rescale == "minmax" else responses)) if nonzero else (lambda *r: r)
    responses = 0
    if v.size == 0:
        return done(out, 0, 0)
    if v.ndim == 0:
        v, target = v.reshape(1), out.reshape(1)
    else:
        target = out
    # 64-bit integers past 2**53 are not float64 numbers: each is stretched from its exact offset above the minimum
    offsets = v.dtype.kind in "iu" and v.dtype.itemsize == 8 and rescale == "minmax"
    if rescale == "minmax":
        lo, hi = (int(v.min()), int(v.max())) if offsets else (float(v.min()), float(v.max()))
        if hi == lo:
            out.fill(0)
            return done(out, 0, 0)
        scale, shift, factor = (1.0, 0.0, top / float(hi - lo)) if offsets else stretch_terms(lo, hi, top)
    row = v[0].size
    rows = max(1, _BLOCK // row)
    n_blocks = -(-v.shape[0] // rows)
    counts: list[tuple[int, int, int]] = []

    def convert(b0: int, b1: int) -> None:  # blocks b0..b1-1, with buffers of its own (a thread's share)
        low = high = responses = 0
        buffer = np.empty(min(rows, v.shape[0]) * row, dtype=work)
        flags = np.empty(buffer.size, dtype=bool)
        rounded = np.empty(buffer.size if rescale == "minmax" else 0)
        above = np.empty(buffer.size if offsets else 0, dtype=np.uint64)
        for start in range(b0 * rows, min(b1 * rows, v.shape[0]), rows):
            block, into = v[start : start + rows], target[start : start + rows]
            r, f = buffer[: block.size].reshape(block.shape), flags[: block.size].reshape(block.shape)
            if offsets:  # v - lo, exact in uint64 (modulo 2**64: 0 <= v - lo < 2**64), then within a rounding in float64
                r[...] = np.subtract(block.view(np.uint64), np.uint64(lo % 2**64), out=above[: block.size].reshape(block.shape))
                block = r
            elif block.dtype != work:  # converted first (exactly: integers and float32 to float64)
                r[...] = block
                block = r
            if rescale == "minmax":
                if scale != 1.0:
                    np.multiply(block, scale, out=r)
                    block = r
                np.subtract(block, shift, out=r)
                np.multiply(r, factor, out=r)
                g = rounded[: block.size].reshape(block.shape)
                np.rint(r, out=g)
                np.abs(np.subtract(r, g, out=r), out=r)
                if np.greater_equal(r, 0.5 - _TIE, out=f).any():
                    _settle_ties(g, f, v[start : start + rows], lo, hi, top)
                np.copyto(into, g, casting="unsafe")
                continue
            if nonzero and count:  # through a comparison: counting a float array's non-zeros directly is 4x slower
                responses += int(np.count_nonzero(np.not_equal(block, 0, out=f)))
            if rescale == "abs":
                np.abs(block, out=r)
                if not whole:
                    np.rint(r, out=r)
            elif whole:
                r = block
            else:
                np.rint(block, out=r)
            if count:
                low += int(np.count_nonzero(np.less(r, 0, out=f)))
                high += int(np.count_nonzero(np.greater(r, top, out=f)))
            np.clip(r, 0, top, out=into, casting="unsafe")  # whole numbers in range: the cast is exact
        counts.append((low, high, responses))  # list.append is atomic

    # numpy's loops release the GIL: the blocks of a large image are shared among threads
    # (each value is converted alone and the counts are sums: the same bytes and counts)
    if n_blocks < 2 * _MIN_BLOCKS_PER_THREAD:  # one thread whatever the machine: no thread module to import
        convert(0, n_blocks)
    else:
        from .._core.threads import run_rows

        run_rows(convert, n_blocks, work=v.size * _WORK_PER_VALUE)
    low, high, responses = (sum(c[i] for c in counts) for i in range(3))
    return done(out, low, high)
