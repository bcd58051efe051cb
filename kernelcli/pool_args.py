"""What a 2-D pooling resolves from its arguments alone, once: for ``api.pool2d``.

The op's name, the window, stride and padding checked, the output size, the result's dtype
before and after ``dtype=`` rounding and the work depend on the image's shape and dtype, never
on its values; a program pooling many patches asks the same question every call, so the
answer is remembered (:class:`~kernelcli._core.memo.Memo`), as :mod:`kernelcli.conv_args`
remembers a convolution's: keyed by the image's shape and dtype and every argument with its
type (``True`` is not ``1`` here, and a refused value is refused again: an error is not
remembered).  Arguments of other types (numpy integers, a dtype given as a list...) are
resolved anew each call, with the same checks.  The compute path is not remembered.

Example
-------
>>> import numpy as np
>>> call = resolve((6, 7, 1), np.dtype("uint8"), 2, None, "mean", 0, False, True, "uint8")
>>> call.op, call.out, call.result, call.rounded, call.work, call.avg2
('avg', (3, 3), dtype('float32'), dtype('uint8'), 36, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport, shapes
from . import whole_numbers
from ._core.memo import Memo
from ._core.numpy_pool import avg2_applies
from .errors import ShapeError, UsageError
from .modes import canonical_pool_op


class PoolCall:
    """A resolved 2-D pooling call (shared by every call with the same key: read it, never change it).

    ``op``: max, min or avg; ``size``, ``stride``, ``padding``: ints; ``out``: (oh, ow);
    ``result``: the dtype before rounding (the input's for max/min, the compute dtype for avg);
    ``rounded``: the ``dtype=`` to round into, or None; ``cast``: the float ``dtype=`` to compute in,
    the image cast to it first (then also ``result``), or None; ``work``: values read (oh * ow * C * size²);
    ``avg2``: a 2x2 average every 2 cells, all inside the image (its own loop, which screens the input's
    finiteness as it goes; numpy's path then screens the averages, :func:`kernelcli.api._screen_avg2`).
    Every path gives a pool the same bytes: each takes a window's cells in PyTorch's order
    (:mod:`kernelcli._core.pool`).
    """

    __slots__ = ("avg2", "cast", "op", "out", "padding", "result", "rounded", "size", "stride", "work")

    def __init__(self, op, size, stride, padding, out, result, rounded, work, avg2, cast=None):
        self.op, self.size, self.stride, self.padding, self.out = op, size, stride, padding, out
        self.result, self.rounded, self.work, self.avg2 = result, rounded, work, avg2
        self.cast = cast


def resolve(shape: Sequence[int], dtype: np.dtype, size: Any, stride: Any, op: Any, padding: Any, ceil_mode: Any,
            count_include_pad: Any, requested: Any) -> PoolCall:
    """The :class:`PoolCall` of ``api.pool2d``'s arguments on an image of ``shape`` (H, W, C) and ``dtype``
    (native byte order); remembered when every argument has a plain type (ints, a str op, bools, a
    ``dtype=`` of None, a str, a numpy dtype or a scalar type).

    >>> resolve((4, 4, 3), np.dtype("float64"), 3, 1, "max", 1, False, True, None).out
    (4, 4)
    """
    if (type(size) is int and type(stride) in _STRIDES and type(op) is str and type(padding) is int
            and type(ceil_mode) is bool and type(count_include_pad) is bool and type(requested) in _REQUESTED):
        key = (tuple(shape), dtype, size, stride, op, padding, ceil_mode, count_include_pad, type(requested), requested)
        return _CALLS.get(key, _resolve, shape, dtype, size, stride, op, padding, ceil_mode, count_include_pad, requested)
    return _resolve(shape, dtype, size, stride, op, padding, ceil_mode, count_include_pad, requested)


_CALLS = Memo()
#: the argument types a call is remembered for, keyed by value (bool is no int here: True == 1)
_STRIDES = (int, type(None))
_REQUESTED = (type(None), str, np.dtype, type)


def _resolve(shape, dtype, size, stride, op, padding, ceil_mode, count_include_pad, requested) -> PoolCall:
    op = canonical_pool_op(op, "op")
    ceil_mode, count_include_pad = ndsupport.check_bool(ceil_mode, "ceil_mode"), ndsupport.check_bool(count_include_pad, "count_include_pad")
    size = whole_numbers.check_positive("size", int(size) if isinstance(size, np.integer) else size)
    stride = size if stride is None else whole_numbers.check_positive("stride", int(stride) if isinstance(stride, np.integer) else stride)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise UsageError(f"padding must be an integer >= 0, got {padding!r}")
    padding = int(padding)
    shapes.check_pool_padding(padding, size)
    h, w, c = shape
    try:
        oh = shapes.pool_output_size(h, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        ow = shapes.pool_output_size(w, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w}, pool {size}x{size}: {exc}") from None
    result = ndsupport.compute_dtype(dtype) if op == "avg" else np.dtype(dtype)
    compute, rounded = ndsupport.dtype_arg(requested, result)
    cast = None if compute == result else compute  # a float dtype= to compute in: the image cast to it first
    if cast is not None:
        dtype = result = cast
    avg2 = op == "avg" and avg2_applies(size, stride, padding, h, w, oh, ow)
    return PoolCall(op, size, stride, padding, (oh, ow), result, rounded, oh * ow * c * size * size, avg2, cast)
