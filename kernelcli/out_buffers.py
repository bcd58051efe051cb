"""The ``out=`` buffers of the array functions (:func:`kernelcli.layers.conv_layer`,
:func:`kernelcli.volumes.correlate_separable`): whether one is the input itself, or overlaps it.

Both questions are asked of the arrays the function computes from, never of the values it was
given: a torch tensor, a memoryview or any ``__array__`` object made from ``out`` is converted to a
view of the very same memory, which ``isinstance(value, np.ndarray)`` or ``out is x`` would not see.

>>> buf = np.zeros((4, 4))
>>> same_elements(buf, np.asarray(memoryview(buf))), same_elements(buf, buf[1:])
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import UsageError


def same_elements(out: np.ndarray, arr: np.ndarray) -> bool:
    """Whether ``out`` and ``arr`` are the same elements in the same layout (one buffer seen twice: the
    same first byte, shape, strides and item size), so that writing one element of ``out`` changes the
    same element of ``arr`` and no other.

    >>> vols = np.zeros((2, 3, 3, 3))
    >>> same_elements(vols[1], vols[1]), same_elements(vols[1], vols[0]), same_elements(vols[1], vols[1].T)
    (True, False, False)
    """
    return out is arr or (out.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
                          and out.shape == arr.shape and out.strides == arr.strides and out.dtype.itemsize == arr.dtype.itemsize)


def refuse_overlap(out: np.ndarray, sources: Iterable[tuple[str, Any]]) -> None:
    """Refuse an ``out`` sharing memory with any of ``sources`` (``(name, array)``, the arrays as converted for
    the computation; a value that is not a numpy array is skipped: it was copied).

    >>> buf = np.zeros((3, 3))
    >>> refuse_overlap(buf, [("input", np.asarray(memoryview(buf)))])
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: out: overlaps the input; pass a separate buffer
    """
    for name, value in sources:
        if isinstance(value, np.ndarray) and np.shares_memory(out, value):
            raise UsageError(f"out: overlaps the {name}; pass a separate buffer")
