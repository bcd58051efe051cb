"""What a 2-D convolution resolves from its arguments alone, once: for ``api.conv2d`` and its tiled twin.

The kernel (float64, checked finite, flipped when asked), the strides and dilations, the padding
widths trimmed to what the windows read, the output size, the pad mode and fill, the compute
dtype and the work depend on the image's shape and dtype, never on its values.  A program that
convolves many patches asks the same question every call (on a 256x256 float32 image a 3x3
takes about 20 us, and resolving it took 5), so the answer is remembered
(:class:`~kernelcli._core.memo.Memo`), keyed by the image's shape and dtype, the kernel's shape
and exact bytes (a kernel is a mutable array: one changed in place is another key) and every
other argument with its type (``True`` is not ``1`` here, and a refused value is refused again:
an error is not remembered).  The remembered kernel is a read-only copy, never the caller's
array.  The compute path is not remembered: it reads tunable constants and is decided every
call (:mod:`kernelcli._core.dispatch`).

Example
-------
>>> import numpy as np
>>> call = resolve((6, 6), np.dtype("uint8"), np.ones((3, 3)), 2, "same", "constant", 0.0, 1, False)
>>> call.out, call.widths, call.dtype, call.work
((3, 3), (1, 0, 1, 0), dtype('float32'), 81)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport, shapes
from ._core.memo import Memo, frozen
from .errors import ShapeError
from .modes import PAD_CODES, canonical_pad_mode, check_fill_reading

#: kernels up to this many values are remembered with the call (a larger one costs more to hash
#: than to check, and its convolution dwarfs both)
MEMO_KERNEL_VALUES = 1024


class ConvCall:
    """A resolved 2-D convolution call (shared by every call with the same key: read it, never change it).

    ``k``: the float64 kernel as applied (flipped for ``flip``), read-only; ``stride``,
    ``dilation``: (vertical, horizontal); ``widths``: (top, bottom, left, right) trimmed to what
    the last window reads; ``out``: (oh, ow); ``mode``, ``code``: the pad mode's name and code;
    ``fill``: the constant fill (0.0 for other modes); ``dtype``: the compute dtype;
    ``outputs``: output values (oh * ow * C); ``work``: outputs times taps.  Hashed by identity: the
    engine remembers its plans for this call under the call itself (``key`` of
    :func:`kernelcli._core.engine.direct_plan`), which holds for no other arguments; only a
    ``remembered`` call (the one :func:`resolve` gives for these arguments every time) may serve
    as such a key: a call resolved anew would be a new key, and a new plan, every time.
    """

    __slots__ = ("code", "dilation", "dtype", "fill", "k", "mode", "out", "outputs", "overflow", "remembered", "stride", "widths",
                 "work")

    def __init__(self, k, stride, dilation, widths, out, mode, fill, dtype, channels):
        self.k, self.stride, self.dilation, self.widths, self.out = k, stride, dilation, widths, out
        self.mode, self.code, self.fill, self.dtype = mode, PAD_CODES[mode], fill, dtype
        self.outputs = out[0] * out[1] * channels
        self.work = self.outputs * k.shape[0] * k.shape[1]
        self.remembered = False
        self.overflow = True  # whether a sum may leave the dtype's range on the way (_resolve: from the data's type)


def resolve(shape: Sequence[int], dtype: np.dtype, kernel: Any, stride: Any, padding: Any, pad_mode: Any,
            pad_value: Any, dilation: Any, flip: Any) -> ConvCall:
    """The :class:`ConvCall` of ``api.conv2d``'s arguments on an image of ``shape`` (H, W[, C]) and ``dtype``
    (native byte order); remembered when every argument has a plain type (ints, strings, floats,
    tuples of ints, a bool ``flip``) and the kernel at most :data:`MEMO_KERNEL_VALUES` values.

    >>> call = resolve((5, 7, 3), np.dtype("float32"), [[1.0, -1.0]], 1, "valid", "reflect", 0.0, 1, True)
    >>> call.k.tolist(), call.out, call.outputs
    ([[-1.0, 1.0]], (5, 6), 90)
    """
    k = ndsupport.kernel_values(kernel)
    if k.size > MEMO_KERNEL_VALUES or type(pad_mode) is not str or type(flip) is not bool:
        key = None
    elif type(stride) is int and type(dilation) is int and type(padding) in _PADDINGS and type(pad_value) in _FILLS:
        # the usual call, keyed without a helper per argument (a third of the lookup's time)
        key = (shape, dtype, k.shape, k.tobytes(), stride, dilation, type(padding), padding, pad_value,
               _sign(pad_value), pad_mode, flip)
    else:
        args = (_plain(stride), _plain(padding), _plain(dilation), _number(pad_value))
        key = None if None in args else (shape, dtype, k.shape, k.tobytes(), args, pad_mode, flip)
    if key is None:
        return _resolve(tuple(shape), dtype, k, stride, padding, pad_mode, pad_value, dilation, flip)
    return _CALLS.get(key, _remembered, tuple(shape), dtype, k, stride, padding, pad_mode, pad_value, dilation, flip)


_CALLS = Memo()
#: the argument types of the usual call, keyed by value: a padding (with its type in the key: 1 and 1.0
#: are equal keys, and a float padding is refused) and a fill (1 and 1.0 fill alike; 0.0 and -0.0 are equal
#: keys but do not: a window of -0.0 fill sums to -0.0, as numpy.pad then a sum gives, so the sign goes in
#: the key too); bool is in neither (True == 1)
_PADDINGS = (int, str)
_FILLS = (int, float)


def _number(value: Any) -> Any:
    """A key of an int or a float with its type and sign (-0.0 fills with -0.0: not 0.0's key); else None."""
    if type(value) in (int, float):
        return type(value), value, _sign(value)
    return None


def _sign(fill: int | float) -> float:
    """The sign a fill's key carries: a float's own (-0.0 is not 0.0's key); an int has no -0 (and one past float64's
    range, 10**400, is refused by the check the call makes, not by this key: ``math.copysign`` raised OverflowError).

    >>> _sign(-0.0), _sign(0.0), _sign(10**400)
    (-1.0, 1.0, 1.0)
    """
    return math.copysign(1.0, fill) if type(fill) is float else 1.0


def _plain(value: Any) -> Any:
    """A hashable key of an int, a str or a tuple of ints, with their types (True is not 1 here); else None."""
    if type(value) in (int, str):
        return type(value), value
    if type(value) is tuple and all(type(v) is int for v in value):
        return value
    return None


def _remembered(*args) -> ConvCall:
    """:func:`_resolve`'s call, marked as the one :data:`_CALLS` keeps for these arguments."""
    call = _resolve(*args)
    call.remembered = True
    return call


def _resolve(shape, dtype, k, stride, padding, pad_mode, pad_value, dilation, flip) -> ConvCall:
    ndsupport.check_finite_kernel(k)
    k = np.array(k[::-1, ::-1] if ndsupport.check_flip(flip) else k)  # a copy: the caller may change theirs
    frozen(k)
    (sh, sw), (dh, dw), widths, (oh, ow) = conv_geometry(shape, k.shape, stride, padding, dilation)
    kh, kw = k.shape
    check_fill_reading(pad_mode, pad_value, "conv2d")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    compute = ndsupport.compute_dtype(dtype)
    ndsupport.check_fits(k, compute, "kernel", ndsupport.WIDER_FOR_WEIGHTS)  # beyond it the weights become inf: 0 * inf NaN
    held = ndsupport.weights_as_held(k, compute)  # (2**-150: 0 on the loops, kept by the FFT's exact form)
    if held is not k:
        k = held
        frozen(k)
    fill = ndsupport.check_fill(pad_value, compute, "pad_value") if mode == "constant" else 0.0
    h, w = shape[:2]
    trimmed = trim_widths(widths, h, w, oh, ow, kh, kw, sh, sw, dh, dw)
    check_padding_fits(shape, trimmed, (dh, dw))
    call = ConvCall(k, (sh, sw), (dh, dw), trimmed, (oh, ow), mode, fill, compute, shape[2] if len(shape) == 3 else 1)
    from ._core.overflow import possible

    call.overflow = possible(dtype, k, compute)  # (once per remembered call: 3.8 us a call of 8x8 uint8 when asked each time)
    return call


def check_padding_fits(shape: Sequence[int], widths: Sequence[int], dilation: tuple[int, int] | None, itemsize: int = 8) -> None:
    """Refuse (ResourceLimit) padding an (H, W[, C]) image by ``widths`` where the padded cells beyond it, in float64
    (a padded copy, or a path's maps of padded rows), need more than the machine's memory: ``padding=10**5`` on 8x9
    was numpy's "Unable to allocate 298 GiB", ``dilation=10**9`` a 15 GiB map that got the process killed.
    ``dilation`` None: ``pad2d``'s padded copy, the whole of it, ``itemsize`` bytes a cell (it keeps the dtype).

    >>> check_padding_fits((8, 9), (1, 1, 1, 1), (1, 1))
    """
    h, w = shape[:2]
    top, bottom, left, right = widths
    channels = shape[2] if len(shape) == 3 else 1
    cells = (h + top + bottom) * (w + left + right) - (0 if dilation is None else h * w)
    need = cells * channels * itemsize
    if need > 2**30:  # (the usual call never asks)
        from .limits import check_machine

        geometry = "" if dilation is None else f" (dilation {dilation[0]}x{dilation[1]})"
        check_machine(need, f"padding the {h}x{w} image by {top},{bottom},{left},{right}{geometry}")


def conv_geometry(shape: Sequence[int], kernel_shape: Sequence[int], stride: Any, padding: Any, dilation: Any):
    """Strides, dilations, padding widths (top, bottom, left, right) and output size of a 2-D convolution.

    >>> conv_geometry((6, 6), (3, 3), 2, "same", 1)
    ((2, 2), (1, 1), (1, 1, 1, 1), (3, 3))
    """
    sh, sw = ndsupport.normalize_sequence(stride, 2, "stride")
    dh, dw = ndsupport.normalize_sequence(dilation, 2, "dilation")
    kh, kw = kernel_shape
    widths = shapes.resolve_padding(padding_arg(padding), kh, kw, (dh, dw))
    h, w = shape[:2]
    try:
        oh = shapes.conv_output_size(h, kh, stride=sh, pad_before=widths[0], pad_after=widths[1], dilation=dh)
        ow = shapes.conv_output_size(w, kw, stride=sw, pad_before=widths[2], pad_after=widths[3], dilation=dw)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w} and kernel {kh}x{kw}: {exc}") from None
    return (sh, sw), (dh, dw), tuple(widths), (oh, ow)


def padding_arg(padding: Any) -> Any:
    """A padding argument with numpy integers (a scalar, an array, a tuple of them) made Python ints;
    anything else is left for :func:`shapes.resolve_padding` to accept or refuse by name.

    >>> padding_arg((np.int64(1), 2))
    (1, 2)
    """
    if isinstance(padding, np.ndarray) and padding.ndim == 0:  # np.array(1): iterating it was a TypeError
        padding = padding[()]
    if isinstance(padding, np.bool_):
        return bool(padding)
    if isinstance(padding, np.integer):
        return int(padding)
    if isinstance(padding, (str, int)) or not isinstance(padding, (tuple, list, np.ndarray)):
        return padding  # (a float or None: refused by name there, not with a TypeError here)
    return tuple(int(v) if isinstance(v, np.integer) else v for v in padding)


def pad_widths(p: Any) -> tuple[int, int, int, int]:
    """pad2d's ``p`` as (top, bottom, left, right), in memory and tile by tile alike: widths, never conv2d's
    'same' or 'valid' (for a 1x1 "kernel" both meant no padding: a dask array given 'same' was not padded).

    >>> pad_widths((1, 2)), pad_widths(np.int64(3))
    ((1, 1, 2, 2), (3, 3, 3, 3))
    """
    from .errors import UsageError

    if isinstance(p, str) and p.strip().lower() in ("same", "valid"):
        raise UsageError(f"invalid p {p!r}: 'same' and 'valid' are conv2d's paddings; pad2d takes widths: {shapes.PAD_WIDTHS}")
    return shapes.resolve_padding(padding_arg(p), 1, 1, forms=shapes.PAD_WIDTHS, name="p")


def trim_widths(widths, h, w, oh, ow, kh, kw, sh, sw, dh, dw):
    """Cut the bottom/right padding down to what the last window actually reads.

    A negative result means the last input rows/columns are never read; those stay
    (the core simply does not reach them).

    >>> trim_widths((1, 1, 1, 1), 6, 6, 3, 3, 3, 3, 2, 2, 1, 1)
    (1, 0, 1, 0)
    """
    top, bottom, left, right = widths
    need_h = (oh - 1) * sh + dh * (kh - 1) + 1
    need_w = (ow - 1) * sw + dw * (kw - 1) + 1
    return top, max(0, min(bottom, need_h - top - h)), left, max(0, min(right, need_w - left - w))
