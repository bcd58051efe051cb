"""The finiteness screen the jitted loops run on each output row while it is still in cache.

The API refuses NaN and infinity in its input.  A separate pass over a large float image
to check that costs as much as a memory-bound operation on it (a 3x3, a 2x2 average), so
the loops that can prove it check their outputs instead: a non-finite input value that a
non-zero tap (or an average) reads makes its output non-finite, and a finite input gives
a non-finite output only by overflow.  The caller checks apart the cells no window reads,
and reads the whole input again only when a flag is raised (to refuse it with the count,
or to let an overflow through).

Numba caches a jitted function per file: a loop that inlines :func:`screen_row` keeps the
version it was compiled with until its own file changes.

Example
-------
>>> import numpy as np
>>> flags = np.zeros(2, dtype=np.bool_)
>>> screen_row(np.array([1.0, np.inf]), flags, 1)
>>> flags.tolist()
[False, True]
"""

from __future__ import annotations

from .jit import njit

from .config import JIT


@njit(**JIT, inline="always")
def screen_row(row, flags, i):
    """Set ``flags[i]`` when ``row`` holds a NaN or an infinity; nothing when ``flags`` is empty (not screening)."""
    if flags.shape[0] > 0:
        bad = False
        for j in range(row.shape[0]):
            bad |= (row[j] - row[j]) != 0  # 0 for every finite value, NaN otherwise
        flags[i] = bad
