"""Inside jitted code: an array typed read-only, so that what takes it is compiled once.

Numba compiles a function once per combination of its argument types, and a read-only array is
another type than a writable one (the same memory layout, the same machine code).  The tap passes
(:mod:`.taps`) read three arrays that some callers hand over writable (a ring they fill, scratch
weights) and others read-only (the input, remembered taps): eleven compiled versions of each pass
where a version per dtype pair does.  :func:`read_only` retypes the array, nothing else: no copy,
no check, the same pointer.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> @njit
... def total(a):
...     return read_only(a).sum()
>>> float(total(np.ones(3)))
3.0
"""

from __future__ import annotations

from numba.core import types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic


@intrinsic
def read_only(typingctx, a):
    """``a`` as a read-only array of the same dtype, dimensions and layout (a borrowed reference)."""
    if not isinstance(a, types.Array):
        return None
    typed = a.copy(readonly=True)

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])

    return typed(a), codegen
