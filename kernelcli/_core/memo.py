"""Bounded memo tables for the pure preparations of a call: what depends only on its geometry.

A call on a small image spends more time deciding than computing: padding maps, tap
offsets, the rank-1 factors of the kernel (an SVD) and the output size are the same
every time a program convolves many patches of one shape with one kernel.  These are
pure functions of their arguments (shapes, dtypes, the kernel's exact values), so they
are kept here, never the path decision itself: that reads tunable constants (tests and
benchmarks change them) and costs next to nothing once its inputs are remembered.  A
table holds at most ``size`` entries and starts afresh when full.

Example
-------
>>> import numpy as np
>>> table = Memo(2)
>>> table.get(("a", 1), lambda: [1])
[1]
>>> table.get(("a", 1), lambda: [2])  # remembered: the builder does not run
[1]
>>> array_key(np.eye(2))[:2]
((2, 2), '<f8')
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


class Memo:
    """A dict of at most ``size`` results, keyed by hashable descriptions of the arguments."""

    def __init__(self, size: int = 256):
        self.size = size
        self.table: dict = {}

    def get(self, key: Any, build: Callable[..., Any], *args: Any) -> Any:
        """The value for ``key``, built by ``build(*args)`` the first time (an exception is not remembered)."""
        try:
            return self.table[key]
        except KeyError:
            pass
        value = build(*args)
        if len(self.table) >= self.size:
            self.table.clear()
        self.table[key] = value
        return value

    def clear(self) -> None:
        self.table.clear()


def array_key(a: np.ndarray) -> tuple:
    """A hashable key of an array's exact contents: shape, dtype and bytes (a kernel: small)."""
    return a.shape, a.dtype.str, a.tobytes()


def frozen(*arrays: np.ndarray) -> None:
    """Make remembered arrays read-only: a caller that wrote into one would corrupt every later call."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` as every jitted loop takes its input: read-only (a view, when ``a`` is writable).

    Numba compiles a loop once per writability of each argument: a decoded image is read-only,
    an array from numpy is not, and the two would be two compilations of every loop and dtype
    (seconds each, in every fresh install) of the same machine code.

    >>> read_only(np.zeros(3)).flags.writeable
    False
    """
    if a.flags.writeable:
        a = a.view()
        a.setflags(write=False)  # (a third quicker than through a.flags)
    return a
