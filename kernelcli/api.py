"""The public Python API: arrays in, arrays out.

Validates arguments, resolves padding, picks the compute dtype and dispatches to the
numeric core (plain numpy for tiny inputs, jitted loops otherwise).  No files, no terminal.

Conventions
-----------
* "Convolution" is cross-correlation (no kernel flip), as in the lecture and in PyTorch;
  ``flip=True`` gives true convolution.
* ``x`` is (H, W) or (H, W, C) channels-last; a 2-D kernel is applied to every channel.
* Compute dtype: float64 for float64 and for integer inputs wider than 8 bits (so large
  kernels on 16-bit data stay exact), float32 otherwise (uint8, int8, bool, float16, float32).
* NaN or Inf in the input is an error (a NaN would silently spread over a window).
* A ``dask.array.Array`` input gives a lazy dask array, computed tile by tile with halos
  (:mod:`kernelcli.tiled.arrays`; needs the ``[distributed]`` extra), equal byte for byte.

Example
-------
>>> import numpy as np
>>> x = np.array([[10, 10, 10, 0, 0, 0]] * 6)
>>> conv2d(x, [[1, 0, -1]] * 3, padding="valid")[0]
array([ 0., 30., 30.,  0.])
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport, shapes
from ._core import numpy_impl
from ._core import policy as _policy
from ._core.memo import Memo
from ._core.policy import Paths, as_paths
from .errors import ShapeError, UsageError
from .modes import PAD_CODES, POOL_CODES, canonical_pad_mode, canonical_pool_op
from .ndsupport import all_finite as _all_finite  # noqa: F401  (kept for old imports)
from .ndsupport import compute_dtype  # noqa: F401  (public here since the first release)
from .tiled import is_dask_array

#: At or below this many multiply-adds (H*W*C*taps) the plain-numpy path is used under any
#: policy (see :mod:`kernelcli._core.policy`, which owns the value).
SMALL_WORK = _policy.SMALL_WORK

_FIRST_JIT_NOTE_SHOWN = False


def as_image_array(x: Any, name: str = "x", finite: bool = True) -> np.ndarray:
    """Validate an image-like array: (H, W) or (H, W, C), real numbers, finite; native byte order.

    ``finite=False``: the caller checks finiteness (see :func:`ndsupport.as_real_array`).

    >>> as_image_array([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    return ndsupport.as_real_array(x, (2, 3), name, "2-D (H, W) or 3-D (H, W, C)", finite)


def as_kernel_array(kernel: Any, ndim: int = 2) -> np.ndarray:
    """Return an ``ndim``-D float64 kernel from an array-like or a catalogue ``Kernel``.

    >>> as_kernel_array([[1, 2, 3]]).shape
    (1, 3)
    """
    if hasattr(kernel, "array") and callable(kernel.array):
        kernel = kernel.array()
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != ndim:
        what = "2-D matrix" if ndim == 2 else f"{ndim}-D (kz, ky, kx) matrix"
        raise ShapeError(f"kernel: expected a {what}, got shape {k.shape}")
    if k.size == 0:
        raise ShapeError("kernel: the matrix is empty")
    if k.size <= 1024:  # a kernel a program applies call after call: its finiteness is remembered
        _FINITE_KERNELS.get(k.tobytes(), lambda: _check_finite_kernel(k))
    else:
        _check_finite_kernel(k)
    return k


def _check_finite_kernel(k: np.ndarray) -> bool:
    if not np.isfinite(k).all():
        raise UsageError("kernel: values must be finite (no NaN or infinity)")
    return True


#: byte strings of float64 kernels found finite (a Memo does not remember a failed check)
_FINITE_KERNELS = Memo()


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """Turn an int or a pair into (vertical, horizontal), each an integer >= 1."""
    return ndsupport.normalize_sequence(value, 2, name)  # type: ignore[return-value]


def _numba_lacks(dtype: np.dtype) -> bool:
    """True for float16: Numba has no float16 arithmetic, so results that keep a float16
    dtype (``pad2d``, max/min pooling) always take the plain-numpy path."""
    return np.dtype(dtype) == np.float16


def _padding_arg(padding: Any) -> Any:
    """A padding argument with numpy integers (a scalar, an array, a tuple of them) made Python ints;
    anything else is left for :func:`shapes.resolve_padding` to accept or refuse by name."""
    if isinstance(padding, np.bool_):
        return bool(padding)
    if isinstance(padding, np.integer):
        return int(padding)
    if isinstance(padding, (str, int)):
        return padding
    return tuple(int(v) if isinstance(v, np.integer) else v for v in padding)


def _announce_first_compile(dispatcher, *dtypes) -> None:
    """Say on stderr, once per process, that the jitted core is being compiled.

    Called before the first call of a jitted ``dispatcher`` with arrays of ``dtypes``;
    silent when Numba's cache already holds that version.
    """
    global _FIRST_JIT_NOTE_SHOWN
    if _FIRST_JIT_NOTE_SHOWN:
        return
    key = (dispatcher, *dtypes)
    if key in _CHECKED:
        return
    _CHECKED.add(key)
    from . import jitcache

    if not jitcache.is_cached(dispatcher, *map(str, dtypes)):
        import sys

        _FIRST_JIT_NOTE_SHOWN = True
        print("kernelcli: compiling the numeric core (first run only; cached afterwards)...", file=sys.stderr)


_CHECKED: set = set()


def _pad3(x3: np.ndarray, widths: tuple[int, int, int, int], mode: str, value: float, dtype: np.dtype, paths: Paths, work: int) -> np.ndarray:
    """Pad (H, W, C) ``x3`` into ``dtype``: plain numpy for small ``work`` (or as ``paths`` says), else the jitted loop."""
    top, bottom, left, right = widths
    code = PAD_CODES[mode]
    small = _numba_lacks(dtype) or paths.numpy_for(work)
    if small is None:
        from ._core import costs

        cells = (x3.shape[0] + top + bottom) * (x3.shape[1] + left + right) * x3.shape[2]
        # a copy of the values (converted as numpy converts them): the same bytes on both paths
        same = x3.dtype == dtype or (x3.dtype.kind in "biu" and np.dtype(dtype).kind == "f")
        small = costs.use_numpy(paths, cells, same_bytes=same)
    if small:
        return numpy_impl.pad3d(x3, top, bottom, left, right, code, value, dtype)
    from ._core.engine import pad_flat

    return pad_flat(x3, widths, code, value, dtype, _announce_first_compile)


def pad2d(x: Any, p: int | Sequence[int], *, mode: str = "constant", value: float = 0.0, paths: Any = None) -> np.ndarray:
    """Pad an (H, W) or (H, W, C) array on its two spatial axes.

    Parameters
    ----------
    x : array_like
        The image or matrix.
    p : int or (top, bottom, left, right) or (ph, pw)
        Pad widths.  Widths larger than the input are valid for every mode: reflection
        and wrapping repeat, exactly as numpy.pad does.
    mode : str
        constant, replicate, reflect, symmetric or circular (or an alias: zero, edge,
        nearest, mirror, wrap, ...); see :mod:`kernelcli.modes` for the table of names.
    value : float
        The fill for ``constant``; it must fit the input's dtype (300 in a uint8 image is
        refused with a UsageError, on every path).
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`); the default suits a long-lived program.

    The result keeps the input's dtype.

    >>> pad2d([[1, 2, 3]], (0, 0, 2, 2), mode="reflect")
    array([[3, 2, 1, 2, 3, 2, 1]])
    """
    if is_dask_array(x):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pad2d(x, p, mode=mode, value=value)
    arr = as_image_array(x)
    widths = shapes.resolve_padding(_padding_arg(p), 1, 1)
    mode = canonical_pad_mode(mode)
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)
    value = ndsupport.check_fill(value, arr.dtype, "pad value") if mode == "constant" else 0.0
    work = x3.size + (widths[0] + widths[1]) * x3.shape[1] * x3.shape[2] * 4
    out = _pad3(x3, widths, mode, value, arr.dtype, as_paths(paths), work)
    return out if arr.ndim == 3 else out[:, :, 0]


def conv2d(
    x: Any,
    kernel: Any,
    *,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = "same",
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    paths: Any = None,
) -> np.ndarray:
    """Cross-correlate an image with a 2-D kernel (the deep-learning "convolution").

    Parameters
    ----------
    x : array_like
        (H, W) or (H, W, C) channels-last; the kernel is applied to each channel.
    kernel : array_like or Kernel
        A 2-D matrix (any size, odd or even), or a catalogue ``Kernel``.
    stride, dilation : int or (sv, sh)
        Step between windows, and spacing between kernel taps.
    padding : "same", "valid", int, (ph, pw) or (top, bottom, left, right)
        "same" pads ``dilation*(f-1)`` in total per axis: f//2 on each side for an odd f
        (the lecture's p = f // 2), the extra row/column at the bottom/right for an even f
        (as PyTorch and TensorFlow).  The output size is
        ``(in + pad_total - dilation*(f-1) - 1) // stride + 1``.
    pad_mode, pad_value : str, float
        How the border is filled; see :func:`pad2d`.
    flip : bool
        True convolution (the kernel rotated 180 degrees) instead of cross-correlation.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`): which compute path runs.  Every
        path gives the same exact result where the arithmetic is exact (whole-number data,
        a kernel of whole numbers times a power of two); elsewhere they agree within float
        rounding (the FFT within ``eps * log2(L) * max|x| * sum|k|``, L its block length).

    Returns
    -------
    numpy.ndarray
        float32, or float64 for float64 and 16/32-bit integer inputs; (H', W') or (H', W', C).

    >>> conv2d(np.array([[1, 2], [3, 4]], np.uint8), [[1]], padding="valid")
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    """
    if is_dask_array(x):  # lazy, tile by tile, equal byte for byte (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.conv2d(x, kernel, stride=stride, padding=padding, pad_mode=pad_mode, pad_value=pad_value,
                             dilation=dilation, flip=flip, paths=paths)
    arr = as_image_array(x, finite=False)  # checked below: by the direct loops' screen, or apart
    k = as_kernel_array(kernel)
    if flip:
        k = k[::-1, ::-1]
    (sh, sw), (dh, dw), widths, (oh, ow) = conv_geometry(arr.shape, k.shape, stride, padding, dilation)
    kh, kw = k.shape
    mode = canonical_pad_mode(pad_mode)
    h, w = arr.shape[:2]

    dtype = compute_dtype(arr.dtype)
    pad_value = ndsupport.check_fill(pad_value, dtype, "pad value") if mode == "constant" else 0.0
    policy = as_paths(paths)
    x3 = arr.reshape(h, w, -1)
    channels = x3.shape[2]
    # the first choice of every convolution, 2-D and 3-D alike (kernelcli._core.dispatch)
    choice = "numpy" if policy.numpy_for(oh * ow * channels * kh * kw) else None
    if choice is None:
        from ._core import costs, dispatch, engine, forms

        same = policy.jit_start is not None and costs.same_bytes_on_every_path(arr.dtype, k, dtype, mode == "constant", pad_value)
        choice = dispatch.front(policy, oh * ow * channels * kh * kw, oh * ow * channels, k, (sh, sw), dtype, same_bytes=same)
    # Only the rows and columns the windows reach are padded (a large stride or "valid" skips the rest).
    widths = _trim_widths(widths, h, w, oh, ow, kh, kw, sh, sw, dh, dw)
    if choice != "jit":
        ndsupport.check_finite(arr)
    if choice == "fft":
        from ._core import costs, engine, forms

        form = forms.fft_form(x3, k, dtype, PAD_CODES[mode], pad_value, policy.fft_form)
        choice = "numpy" if form[0] == "avoid" else choice  # numpy is exact here, the FFT could not be
    if choice == "numpy":
        out = numpy_impl.correlate_bands(x3, k.astype(dtype), widths, PAD_CODES[mode], pad_value, dtype, (sh, sw), (dh, dw), oh, ow)
    elif choice == "fft":
        out = engine.fft_correlate(x3, k, dtype, widths, PAD_CODES[mode], pad_value, (dh, dw), oh, ow, policy, form)
    else:
        from ._core import costs, engine, forms

        out = engine.correlate(
            x3, k, dtype, widths, PAD_CODES[mode], pad_value, (sh, sw), (dh, dw), oh, ow,
            paths=policy, announce=_announce_first_compile, finite_check=_finite_check(arr),
        )
    return out if arr.ndim == 3 else out[:, :, 0]


def _finite_check(arr: np.ndarray):
    """The check of ``arr`` for NaN/infinity that a jitted loop calls when its screen cannot vouch
    for the input (see :mod:`kernelcli._core.screen`); None for integers, always finite."""
    if arr.dtype.kind != "f":
        return None
    return lambda: ndsupport.check_finite(arr)


def conv_geometry(shape: Sequence[int], kernel_shape: Sequence[int], stride: Any, padding: Any, dilation: Any):
    """Strides, dilations, padding widths (top, bottom, left, right) and output size of a 2-D convolution.

    The one place :func:`conv2d` and its tiled twin resolve a call's geometry; remembered
    for arguments given as ints, strings and tuples of ints (a program convolving many
    patches asks the same question every call).

    >>> conv_geometry((6, 6), (3, 3), 2, "same", 1)
    ((2, 2), (1, 1), (1, 1, 1, 1), (3, 3))
    """
    key = (tuple(shape[:2]), tuple(kernel_shape), _plain(stride), _plain(padding), _plain(dilation))
    if None in key:
        return _conv_geometry(shape, kernel_shape, stride, padding, dilation)
    return _GEOMETRY.get(key, lambda: _conv_geometry(shape, kernel_shape, stride, padding, dilation))


_GEOMETRY = Memo()


def _plain(value: Any) -> Any:
    """A hashable key of an int, a str or a tuple of ints, with their types (True is not 1 here); else None."""
    if type(value) in (int, str):
        return type(value), value
    if type(value) is tuple and all(type(v) is int for v in value):
        return value
    return None


def _conv_geometry(shape, kernel_shape, stride, padding, dilation):
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    kh, kw = kernel_shape
    widths = shapes.resolve_padding(_padding_arg(padding), kh, kw, (dh, dw))
    h, w = shape[:2]
    try:
        oh = shapes.conv_output_size(h, kh, stride=sh, pad_before=widths[0], pad_after=widths[1], dilation=dh)
        ow = shapes.conv_output_size(w, kw, stride=sw, pad_before=widths[2], pad_after=widths[3], dilation=dw)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w} and kernel {kh}x{kw}: {exc}") from None
    return (sh, sw), (dh, dw), tuple(widths), (oh, ow)


def _trim_widths(widths, h, w, oh, ow, kh, kw, sh, sw, dh, dw):
    """Cut the bottom/right padding down to what the last window actually reads.

    A negative result means the last input rows/columns are never read; those stay
    (the core simply does not reach them).
    """
    top, bottom, left, right = widths
    need_h = (oh - 1) * sh + dh * (kh - 1) + 1
    need_w = (ow - 1) * sw + dw * (kw - 1) + 1
    return top, max(0, min(bottom, need_h - top - h)), left, max(0, min(right, need_w - left - w))


def pool2d(
    x: Any,
    size: int,
    *,
    stride: int | None = None,
    op: str = "max",
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    paths: Any = None,
) -> np.ndarray:
    """Max, min or average pooling of each channel separately, exactly as PyTorch's pooling.

    Parameters
    ----------
    x : array_like
        (H, W) or (H, W, C) channels-last.
    size : int
        Window side f.
    stride : int, optional
        Step between windows; defaults to ``size`` (as the lecture says).
    op : {"max", "min", "avg"}
    padding : int
        Virtual cells on every side, at most ``size // 2`` (PyTorch's rule); they never
        win a max/min.
    ceil_mode : bool
        Round the output size up; a window that would start in the right/bottom padding
        is dropped (PyTorch's ``ceil_mode``).
    count_include_pad : bool
        For ``avg``: divide by the window's cells inside the padded input (PyTorch's
        default) or, when False, by the real cells only.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`).

    Returns
    -------
    numpy.ndarray
        max/min keep the input dtype; avg is float32 (float64 for float64 and 16/32-bit
        integer inputs).

    >>> pool2d([[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]], 2)
    array([[8, 6],
           [9, 9]])
    """
    if is_dask_array(x):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode,
                             count_include_pad=count_include_pad, paths=paths)
    arr = as_image_array(x, finite=False)  # checked below (_finite_check): by the 2x2 average loop itself, or apart
    op = canonical_pool_op(op)
    size = shapes.check_positive("size", int(size) if isinstance(size, np.integer) else size)
    stride = size if stride is None else shapes.check_positive("stride", int(stride) if isinstance(stride, np.integer) else stride)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise UsageError(f"padding must be an integer >= 0, got {padding!r}")
    padding = int(padding)
    shapes.check_pool_padding(padding, size)
    h, w = arr.shape[:2]
    try:
        oh = shapes.pool_output_size(h, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        ow = shapes.pool_output_size(w, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w}, pool {size}x{size}: {exc}") from None
    x3 = arr.reshape(h, w, -1)
    channels = x3.shape[2]
    dtype = compute_dtype(arr.dtype) if op == "avg" else arr.dtype
    work = oh * ow * channels * size * size
    policy = as_paths(paths)
    small = _numba_lacks(dtype) or policy.numpy_for(work)
    if small is None:
        from ._core import costs, engine

        # an integer max/min picks a value on either path (floats: NaN handling may differ)
        small = costs.use_numpy(policy, work, same_bytes=op in ("max", "min") and arr.dtype.kind in "biu")
    if small:
        screened = op == "avg" and numpy_impl.avg2_applies(size, stride, padding, h, w, oh, ow)
        if not screened:
            ndsupport.check_finite(arr)
        out = numpy_impl.pool(x3, size, stride, padding, op, count_include_pad, oh, ow, dtype)
        if screened and arr.dtype.kind == "f":
            _screen_avg2(x3, out, oh, ow)
    else:
        from ._core import costs, engine

        out = engine.pool(
            x3, size, stride, padding, POOL_CODES[op], count_include_pad, oh, ow, dtype,
            announce=_announce_first_compile, paths=policy, finite_check=_finite_check(arr),
        )
    return out if arr.ndim == 3 else out[:, :, 0]


def _screen_avg2(x3: np.ndarray, out: np.ndarray, oh: int, ow: int) -> None:
    """Refuse a NaN or an infinity in ``x3`` from the 2x2 averages ``out`` (a quarter of the input's
    values to read) and the cells no window reads, as the jitted loop's screen does: every cell
    read reaches an average, and finite cells give a non-finite one only by overflow, which the
    full check then lets through."""
    if not ndsupport.all_finite(out):
        ndsupport.check_finite(x3)
        return
    for part in (x3[2 * oh :], x3[: 2 * oh, 2 * ow :]):
        if part.size and not ndsupport.all_finite(part):
            ndsupport.check_finite(x3)


class _Module(types.ModuleType):
    """This module, with the old ``SMALL_WORK`` switch kept working (deprecated).

    Setting ``kernelcli.api.SMALL_WORK`` used to steer every later call; the policy is an
    argument now (``paths=``).  The assignment still works, with a DeprecationWarning: it
    sets the default policy (a negative value forces the jitted core, as it did).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "SMALL_WORK":
            import warnings

            warnings.warn(
                "setting kernelcli.api.SMALL_WORK is deprecated: pass paths=Paths(small_work=...) "
                "(or Paths(force='jit')) to the call instead", DeprecationWarning, stacklevel=2,
            )
            _policy.DEFAULT = Paths(force="jit") if value < 0 else Paths(small_work=int(value))
        super().__setattr__(name, value)

    def __reduce__(self):
        # Pickled by name, as cloudpickle sends a plain module: user closures that hold
        # ``kernelcli.api`` reach Dask workers (cloudpickle only knows types.ModuleType itself).
        import importlib

        return importlib.import_module, (self.__name__,)


sys.modules[__name__].__class__ = _Module
