"""Inside jitted code: an array typed read-only (compiled once), or borrowed (counted by no one).

Numba compiles a function once per combination of its argument types, and a read-only array is
another type than a writable one (the same memory layout, the same machine code).  The tap passes
(:mod:`.taps`) read three arrays that some callers hand over writable (a ring they fill, scratch
weights) and others read-only (the input, remembered taps): eleven compiled versions of each pass
where a version per dtype pair does.  :func:`read_only` retypes the array, nothing else: no copy,
no check, the same pointer.

The convolution row loops (:mod:`.conv`, :mod:`.sep8`, the per-filter layer) work on :func:`borrowed`
arrays: their arguments, and what they allocate (kept allocated with :func:`alive`), so that the
views they take a row need no atomic reference counts (``tests/test_retype.py`` checks that every
borrowed allocation is kept alive).  The pools, the 3-D passes and :func:`.layer.blocked_rows` keep
owned arrays: borrowed, they took 3-10% longer (LLVM laid out their loops differently), with too few
views for their work to gain (the 2x2 averages run on the native helpers, whose arrays have no owner
already); alternating processes against the code before, 2026-12-04.  These functions are compiled
into each loop that calls them, and Numba caches a loop under its own file: a change here takes
effect in a loop's cache once that loop's module changes too (``native_rows.LOOP_SOURCES`` hashes
this module with the loops', so ``tests/test_layering.py`` asks for the native entries to be rebuilt).

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> @njit
... def total(a):
...     return read_only(a).sum()
>>> float(total(np.ones(3)))
3.0
>>> @njit
... def row_sums(x):
...     memory = np.empty(x.shape[0])
...     sums, rows = borrowed(memory), borrowed(x)
...     for i in range(rows.shape[0]):
...         sums[i] = rows[i].sum()  # a view a row, counted by no one
...     alive(memory)
...     return memory
>>> row_sums(np.ones((2, 3))).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

from numba.core import types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, overload


@intrinsic
def read_only(typingctx, a):
    """``a`` as a read-only array of the same dtype, dimensions and layout (a borrowed reference)."""
    if not isinstance(a, types.Array):
        return None
    typed = a.copy(readonly=True)

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])

    return typed(a), codegen


@intrinsic
def borrowed(typingctx, a):
    """``a`` without its owner: the same data, shape and strides, and a null memory-info pointer.

    Numba counts the references to an array's memory with a locked (atomic) add at every view it
    takes of it and every jitted call it is passed to, and a locked subtract when that ends; a
    row loop that takes a few views a row spends much of its time there (2048^2 float32 3x3
    "valid" at stride 2, one thread: a fifth of 1.2 ms, 1.22 -> 1.01 ms borrowed; 2026-12-04).
    A borrowed array's views count nothing (Numba skips a null pointer).  The caller keeps the
    owner alive while the borrowed array is used: an argument lives for the whole call; an array
    the loop allocates must be named in :func:`alive` after its last use.  A borrowed array must
    not be returned or stored.
    """
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, signature, args):
        owned = context.make_array(signature.args[0])(context, builder, value=args[0])
        view = context.make_array(signature.return_type)(context, builder)
        context.populate_array(view, data=owned.data, shape=owned.shape, strides=owned.strides,
                               itemsize=owned.itemsize, meminfo=None, parent=None)
        return view._getvalue()

    return a(a), codegen


def alive(*owners) -> None:
    """Nothing, in Python and in jitted code: a use of ``owners`` that keeps them allocated up to
    here (Numba frees an array after its last use) while arrays :func:`borrowed` from them are used."""


@overload(alive)
def _alive(*owners):
    return lambda *owners: None
