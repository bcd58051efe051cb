"""Where an output array starts relative to the input it is computed from (4 KiB aliasing).

A direct loop in place (:func:`.conv.dense_direct`) reads each tap's stream from the input and
writes the output a few cache lines at a time.  The core checks a load against the stores still
in flight by the address bits below 4 KiB only: when a load's address lies a little below a
recent store's, modulo 4 KiB, it waits for that store as if it read it.  Whether that happens
depends only on where the output starts relative to the input, modulo 4 KiB, which the
allocator decides (numpy's heap, an mmap, the history of the process): measured on this
machine's AMD EPYC (Zen 5), 1 thread, 2048 columns, the loop alone, the output at 64-byte steps
from the input: 5x5 and 7x7 1.15-1.37x slower with the output 0-700 bytes above its loads than
1 KiB or more away; a 2000-column image (rows 192 bytes short of 8 KiB) the same with its
window of rows spread over the circle.  Scripts that allocated differently disagreed by that
much (issue 17).  So the output is placed, not left to the allocator: :func:`shift_for`
chooses, once per plan, the offset (a multiple of 64 bytes) that keeps every tap's loads out of
that window, and :func:`empty_placed` puts a new output there (4 KiB more allocated, the
returned array a C-contiguous view).

Example
-------
Taps reading 8 bytes either side of the output position (a 5-column window on one row):

>>> import numpy as np
>>> shift = shift_for(np.array([-8, -4, 0, 4, 8]))
>>> 1024 <= shift <= 4096 - 64 - 8
True
>>> x = np.zeros((4, 1024), np.float32)
>>> out = empty_placed(x, (4, 1024), np.dtype("float32"), shift)
>>> (out.ctypes.data - x.ctypes.data) % 4096 == shift, out.flags.c_contiguous
(True, True)
"""

from __future__ import annotations

import numpy as np

#: addresses compare modulo this many bytes
PAGE = 4096
#: a load that far below a store (modulo PAGE), or up to one vector above it, may wait for it
#: (measured: slow from 0 to about 700 bytes; the rest is margin)
WINDOW = (-64, 1024)
#: outputs smaller than this are left to the allocator: finding two addresses costs a few
#: microseconds, and 256^2 float32 (256 KiB) 5x5 and 7x7 measured no slower at any of four
#: placements (rows of 1 KiB spread a window's rows over the 4 KiB: few loads wait at once)
MIN_BYTES = 2**20


def shift_for(loads: np.ndarray) -> int:
    """The offset in bytes (a multiple of 64, modulo :data:`PAGE`) at which to start the output
    relative to the input, given each tap's load position in bytes relative to the output
    position it adds to (``loads[t]``: output element ``a`` reads input byte ``itemsize * a +
    loads[t]``).  The fewest loads in :data:`WINDOW` below a store; among those, the widest margin.
    """
    shifts = np.arange(0, PAGE, 64)
    # how far the store is above each load, modulo PAGE, for each candidate shift
    ahead = (shifts[:, None] - np.asarray(loads, dtype=np.int64)[None, :]) % PAGE
    lo, hi = WINDOW
    inside = ((ahead >= lo % PAGE) | (ahead < hi)) if lo < 0 else ((ahead >= lo) & (ahead < hi))
    margin = np.where(inside, PAGE, np.minimum((ahead - hi) % PAGE, (lo - ahead) % PAGE)).min(axis=1)
    best = np.lexsort((-margin, inside.sum(axis=1)))[0]
    return int(shifts[best])


def empty_placed(src: np.ndarray, shape: tuple, dtype: np.dtype, shift: int) -> np.ndarray:
    """A new C-contiguous array of ``shape`` and ``dtype`` starting ``shift`` bytes after ``src``'s
    start, modulo :data:`PAGE` (``shift`` from :func:`shift_for`; both addresses item-aligned)."""
    return empty_at(shape, dtype, src.ctypes.data + shift, PAGE)


def empty_at(shape: tuple, dtype: np.dtype, address: int, modulus: int) -> np.ndarray:
    """A new C-contiguous array of ``shape`` and ``dtype`` whose data starts at ``address`` modulo
    ``modulus`` bytes (a multiple of the item size): a view into ``modulus`` bytes more.

    >>> empty_at((3, 5), np.dtype("float32"), 0, 64).ctypes.data % 64
    0
    """
    size = int(np.prod(shape))
    itemsize = np.dtype(dtype).itemsize
    buf = np.empty(size + modulus // itemsize, dtype=dtype)
    start = ((address - buf.ctypes.data) % modulus) // itemsize
    return buf[start : start + size].reshape(shape)
