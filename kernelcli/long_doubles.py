"""Long doubles given as a kernel (a numpy long-double array, or lists holding long-double scalars), told without
importing numpy and read as float64 in the one way :func:`kernelcli.given_values.float64_of` reads them: each value
held, rounded (noted) or refused.  :class:`kernelcli.catalog_format.Kernel` reads its matrix through
:func:`long_read`; its values were refused as ``np.longdouble('0.5')``, "expected a number".

>>> long_read([[0.5, 2]], "k.json")  # no long double: as it is
[[0.5, 2]]
>>> import numpy as np
>>> np.asarray(long_read([[np.longdouble("0.5"), 2]], "k.json")).tolist()
[[0.5, 2.0]]
"""

from __future__ import annotations

from typing import Any


def long_read(value: Any, source: str) -> Any:
    """``value`` as float64 where it is a long-double array, or lists holding long-double scalars as ``conv2d`` reads
    them (:func:`kernelcli.given_values.float64_of`: noted or refused as a long-double kernel file is, ``source``
    naming it), else as it is."""
    if is_long(value):
        array = value
    elif isinstance(value, (list, tuple)) and holds_long(value):
        import numpy as np

        try:
            array = np.array(value)  # (numpy widens the list's other numbers to the long double)
        except (TypeError, ValueError):  # ragged, or not numbers: the validator names the place
            return value
        if not is_long(array):
            return value
    else:
        return value
    from .given_values import float64_of  # (numpy's: not imported for the catalogue's own kernels)

    return float64_of(array, source)


def is_long(value: Any) -> bool:
    """Whether ``value`` is a numpy long double (an array or a scalar): wider than float64.

    >>> is_long([0.5]), is_long(0.5)
    (False, False)
    """
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "kind", "") == "f" and dtype.itemsize > 8


def holds_long(value: Any) -> bool:
    """Whether nested lists or tuples ``value`` hold a long double, at any depth.

    >>> holds_long([[1.0, 2.0], [3.0]])
    False
    """
    return any(holds_long(item) if isinstance(item, (list, tuple)) else is_long(item) for item in value)
