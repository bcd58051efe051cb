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

from . import conv_args, ndsupport, pool_args, shapes  # noqa: F401  (shapes: kernelcli.api.shapes, as before)
from ._core import numpy_impl, numpy_pool
from ._core import policy as _policy
from ._core.memo import Memo
from ._core.policy import Paths, as_paths
from .errors import UsageError  # noqa: F401  (kernelcli.api.UsageError, as before)
from .jitcache import CORE_NOTE as _compile_note
from .modes import PAD_CODES, PAD_MODE_DEFAULT, PAD_VALUE_DEFAULT, POOL_CODES, canonical_pad_mode, canonical_pool_op, check_fill_reading, pad_keywords, pad_words
from .ndsupport import all_finite as _all_finite  # noqa: F401  (kept for old imports)
from .ndsupport import compute_dtype  # noqa: F401  (public here since the first release)
from .tiled import is_dask_array

#: At or below this many multiply-adds (H*W*C*taps) the plain-numpy path is used under any
#: policy (see :mod:`kernelcli._core.policy`, which owns the value).
SMALL_WORK = _policy.SMALL_WORK


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
    k = ndsupport.kernel_values(kernel, ndim)
    if k.size <= 1024:  # a kernel a program applies call after call: its finiteness is remembered
        _FINITE_KERNELS.get(k.tobytes(), lambda: ndsupport.check_finite_kernel(k))
    else:
        ndsupport.check_finite_kernel(k)
    return k


#: byte strings of float64 kernels found finite (a Memo does not remember a failed check)
_FINITE_KERNELS = Memo()


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """Turn an int or a pair into (vertical, horizontal), each an integer >= 1."""
    return ndsupport.normalize_sequence(value, 2, name)  # type: ignore[return-value]


def _numba_lacks(dtype: np.dtype) -> bool:
    """True for float16: Numba has no float16 arithmetic, so results that keep a float16
    dtype (``pad2d``, max/min pooling) always take the plain-numpy path."""
    return np.dtype(dtype) == np.float16


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

    return pad_flat(x3, widths, code, value, dtype, _compile_note)


@ndsupport.quiet_overflow
def pad2d(x: Any, p: int | Sequence[int], *, pad_mode: str = PAD_MODE_DEFAULT, pad_value: float = PAD_VALUE_DEFAULT,
          paths: Any = None, mode: str | None = None, value: float | None = None) -> np.ndarray:
    """Pad an (H, W) or (H, W, C) array on its two spatial axes.

    Parameters
    ----------
    x : array_like
        The image or matrix.
    p : int or (top, bottom, left, right) or (ph, pw)
        Pad widths.  Widths larger than the input are valid for every mode: reflection
        and wrapping repeat, exactly as numpy.pad does.
    pad_mode : str
        constant (the default), replicate, reflect, symmetric or circular (or an alias: zero,
        edge, nearest, mirror, wrap, ...); see :mod:`kernelcli.modes` for the table of names.
        The same name as :func:`conv2d`'s and ``--pad-mode``'s.
    pad_value : float
        The fill for ``constant`` (default 0); it must fit the input's dtype (300 in a uint8
        image is refused with a UsageError, on every path).
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`); the default suits a long-lived program.
    mode, value : optional
        Aliases of ``pad_mode`` and ``pad_value`` (as ``--mode`` and ``--value`` are of the
        command line's options); giving a name and its alias is a TypeError.

    The result keeps the input's dtype (a long double input is taken as float64, as everywhere).

    >>> pad2d([[1, 2, 3]], (0, 0, 2, 2), pad_mode="reflect")
    array([[3, 2, 1, 2, 3, 2, 1]])
    """
    keywords = pad_keywords(mode, value)
    mode, value = pad_words("pad2d", pad_mode, pad_value, mode, value)
    check_fill_reading(mode, value, "pad2d", keywords)
    if is_dask_array(x):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pad2d(x, p, **dict(zip(keywords, (mode, value))))  # (in the words typed: its refusals say them)
    arr = as_image_array(x)
    widths = conv_args.pad_widths(p)
    mode = canonical_pad_mode(mode, keywords[0])
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)
    value = ndsupport.check_fill(value, arr.dtype, keywords[1]) if mode == "constant" else 0.0
    conv_args.check_padding_fits(x3.shape, widths, None, arr.dtype.itemsize)  # (pad2d(x, 10**6): numpy's MemoryError of 29 TiB)
    work = x3.size + (widths[0] + widths[1]) * x3.shape[1] * x3.shape[2] * 4
    out = _pad3(x3, widths, mode, value, arr.dtype, as_paths(paths), work)
    return out if arr.ndim == 3 else out[:, :, 0]


@ndsupport.quiet_overflow
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
    dtype: Any = None,
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
        (as PyTorch and TensorFlow at stride 1; at a larger stride TensorFlow's "SAME" pads only
        what the last window needs, so its windows can sit a cell further down/right:
        ``kernelcli shape --same`` says where).  The output size is
        ``(in + pad_total - dilation*(f-1) - 1) // stride + 1``.
    pad_mode, pad_value : str, float
        How the border is filled; see :func:`pad2d`.  The fill is a value of the compute dtype
        (float): ``pad_value=300`` pads a uint8 image with 300, where :func:`pad2d`, whose result
        keeps the input's dtype, refuses it.
    flip : bool
        True convolution (the kernel rotated 180 degrees) instead of cross-correlation.
    dtype : None, float32, float64 or an integer dtype, optional
        None keeps the float result below; ``float32`` or ``float64`` compute in that precision
        (the image cast to it first); ``uint8``, ``int8``, ``uint16`` or ``int16`` give the
        result rounded half to even and clipped to the dtype's range (exactly
        ``np.clip(np.rint(r), lo, hi).astype(dtype)`` of that float result ``r``, on every path),
        as the command line's 8-bit outputs round.  A uint8 image under a rank-1 kernel at zero
        padding or a mirroring mode into uint8 rounds in the loop: no float result is written.
        Other dtypes are refused; the same meaning in every array function
        (:func:`kernelcli.ndsupport.dtype_arg`).
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`): which compute path runs.  Every
        path gives the same exact result where the arithmetic is exact (whole-number data and
        fill, a kernel of whole numbers times a power of two, or divided by a whole number such as
        ``box:10``'s 100: the exact sum divided once, correctly rounded; an integer image whose sums
        pass float32's whole numbers, 2**24 (a 301x301 box on uint8), is summed in float64 on every
        path, then rounded once to float32; a float image's sums must be held exactly by its type);
        elsewhere they agree within float rounding (the FFT within ``eps * log2(L) * max|x| * sum|k|``,
        ``max|x|`` counting a constant fill, L its block length).  The FFT rounds to the exact sums
        only below 2**40: past that, ``Paths(force="fft")`` is refused (UsageError naming
        ``force='dense'``), as the default policy takes a direct loop there.

    Returns
    -------
    numpy.ndarray
        float32, or float64 for float64 and 16-, 32- and 64-bit integer inputs (or ``dtype``); (H', W') or (H', W', C).

    >>> conv2d(np.array([[1, 2], [3, 4]], np.uint8), [[1]], padding="valid")
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    >>> conv2d(np.array([[1, 2, 3, 250]], np.uint8), [[0.5, 0.5]], padding="valid", dtype="uint8")
    array([[  2,   2, 126]], dtype=uint8)
    """
    if is_dask_array(x):  # lazy, tile by tile, equal byte for byte (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.conv2d(x, kernel, stride=stride, padding=padding, pad_mode=pad_mode, pad_value=pad_value,
                             dilation=dilation, flip=flip, dtype=dtype, paths=paths)
    arr = as_image_array(x, finite=False)  # checked below: by the direct loops' screen, or apart
    rounded = None
    if dtype is not None:
        arr, rounded = _computed_in(arr, dtype, compute_dtype(arr.dtype))
    else:
        ndsupport.check_whole(arr, compute_dtype(arr.dtype))
    call = conv_args.resolve(arr.shape, arr.dtype, kernel, stride, padding, pad_mode, pad_value, dilation, flip)
    k, dtype, fill, (oh, ow) = call.k, call.dtype, call.fill, call.out
    policy = as_paths(paths)
    # an integer image's exact sums past float32's whole numbers: summed in float64 on every path, then narrowed
    want, dtype = dtype, _summing_dtype(arr, dtype, fill if call.mode == "constant" else 0.0, k)
    fused, key = (rounded, call if call.remembered else None) if dtype == want else (None, None)
    # the first choice of every convolution, 2-D and 3-D alike (kernelcli._core.dispatch)
    choice = "numpy" if policy.numpy_for(call.work) else None
    if choice is None:
        costs, dispatch, engine, forms = _core_modules()
        same = policy.start_cost_known and costs.same_bytes_on_every_path(arr.dtype, k, dtype, call.mode == "constant", fill)
        choice = dispatch.front(policy, call.work, call.outputs, k, call.stride, dtype, same_bytes=same)
    if choice == "jit":
        check = _finite_check(arr)
        out = engine.correlate(arr, k, dtype, call.widths, call.code, fill, call.stride, call.dilation, oh, ow, paths=policy,
                               announce=_compile_note, finite_check=check,
                               key=key, rounded=fused)
        # the check ran: the loop's screen saw an output that is not finite, or could not look
        if out.dtype.kind == "f" and (check.ran if check is not None else call.overflow):
            _settle(out, arr, call)
        return numpy_impl.rounded(out if dtype == want else out.astype(want), rounded)
    ndsupport.check_finite(arr)
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)
    if choice == "fft":
        form = forms.fft_form(x3, k, dtype, call.code, fill, policy.fft_form)
        choice = "numpy" if form[0] == "avoid" else choice  # numpy is exact here, the FFT could not be
    if choice == "numpy":
        from ._core.forms import divided  # (pure numpy, no jitted core)

        div = divided(k, arr.dtype)  # whole numbers over a whole number: summed, then divided once
        weights, divisor = (k, None) if div is None else div
        out = numpy_impl.correlate_bands(x3, weights.astype(dtype), call.widths, call.code, fill, dtype, call.stride,
                                         call.dilation, oh, ow, rounded=fused, divisor=divisor)
    else:
        out = engine.fft_correlate(x3, k, dtype, call.widths, call.code, fill, call.dilation, oh, ow, policy, form)
    if call.overflow:  # (float data: always; integer data where its range times the weights can leave the dtype's)
        _settle(out, x3, call)
    out = numpy_impl.rounded(out if dtype == want else out.astype(want), rounded)
    return out if arr.ndim == 3 else out[:, :, 0]


def _summing_dtype(arr: np.ndarray, dtype: np.dtype, fill: float, k: np.ndarray) -> np.dtype:
    """float64 where ``dtype`` (float32) would round an integer image's exact sums (:mod:`kernelcli._core.exact_sums`)."""
    global _SUMMING
    if arr.dtype.kind not in "biu" or dtype.itemsize >= 8:  # (no import for the common case)
        return dtype
    if _SUMMING is None:  # (imported once: an import statement in every call cost a microsecond)
        from ._core.exact_sums import summing_dtype as _SUMMING
    return _SUMMING(arr, dtype, fill, kernel=k)


_SUMMING = None


def _computed_in(x: Any, dtype: Any, default: np.dtype) -> tuple[Any, np.dtype | None]:
    """``x`` cast to the float dtype a ``dtype=`` asks to compute in (as it is for None or an integer
    dtype), and the integer dtype the result is then rounded into (:func:`ndsupport.dtype_arg`)."""
    compute, rounded = ndsupport.dtype_arg(dtype, default, arr=x)
    return (x if compute == default else x.astype(compute)), rounded


_CORE: tuple = ()


def _core_modules():
    """``(costs, dispatch, engine, forms)`` of the core, imported on first use (not at ``import
    kernelcli.api``: the command line's cold path may need none) and kept: an import statement
    in every call cost a small one about half a microsecond."""
    global _CORE
    if not _CORE:
        from ._core import costs, dispatch, engine, forms

        _CORE = costs, dispatch, engine, forms
    return _CORE


class _FiniteCheck:
    """The check of an array for NaN/infinity that a jitted loop calls when its screen cannot vouch
    for the input (see :mod:`kernelcli._core.screen`); ``ran``: whether it was called."""

    __slots__ = ("arr", "ran")

    def __init__(self, arr: np.ndarray) -> None:
        self.arr, self.ran = arr, False

    def __call__(self) -> None:
        self.ran = True
        ndsupport.check_finite(self.arr)


def _finite_check(arr: np.ndarray) -> _FiniteCheck | None:
    """A :class:`_FiniteCheck` of ``arr``; None for integers, always finite."""
    if arr.dtype.kind != "f":
        return None
    return _FiniteCheck(arr)


def _overflow():
    from ._core import overflow

    return overflow


def _settle(out: np.ndarray, arr: np.ndarray, call) -> None:
    """Outputs of ``conv2d`` that are not finite, from a finite input, summed again wider (:mod:`._core.overflow`):
    one value on every path where one path overflowed on the way and another did not."""
    if out.dtype.kind != "f" or np.isfinite(np.add.reduce(out, axis=None, dtype=np.float64)):
        return  # (one reduction, no mask: every output finite, the usual case)
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)

    def recompute(wide):
        weights = call.k.astype(call.dtype).astype(wide)  # the kernel as the sums held it
        return numpy_impl.correlate_bands(x3, weights, call.widths, call.code, call.fill, wide, call.stride,
                                          call.dilation, *call.out).reshape(out.shape)

    _overflow().settle(out, recompute)


conv_geometry = conv_args.conv_geometry  # (public here since the tiled twin came)


@ndsupport.quiet_overflow
def pool2d(
    x: Any,
    size: int,
    *,
    stride: int | None = None,
    op: str = "max",
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    dtype: Any = None,
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
    dtype : None, float32, float64 or an integer dtype, optional
        As for :func:`conv2d`: None keeps the result; ``float32`` or ``float64`` compute in
        it; ``uint8``, ``int8``, ``uint16`` or ``int16`` round it half to even and clip it (an average of 2.5 is 2, of
        3.5 is 4: OpenCV's ``INTER_AREA`` rounds half up).  A uint8 image's 2x2 average
        into uint8 rounds in the loop, in integers: no float result.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`).

    Returns
    -------
    numpy.ndarray
        max/min keep the input dtype; avg is float32 (float64 for float64 and 16-, 32-
        and 64-bit integer inputs); or ``dtype``.

    >>> pool2d([[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]], 2)
    array([[8, 6],
           [9, 9]])
    >>> pool2d(np.array([[7, 3, 5, 2], [8, 7, 1, 6]], np.uint8), 2, op="avg", dtype="uint8")
    array([[6, 4]], dtype=uint8)
    """
    if is_dask_array(x):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode,
                             count_include_pad=count_include_pad, dtype=dtype, paths=paths)
    arr = as_image_array(x, finite=False)  # checked below (_finite_check): by the 2x2 average loop itself, or apart
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)
    call = pool_args.resolve(x3.shape, arr.dtype, size, stride, op, padding, ceil_mode, count_include_pad, dtype)
    if call.cast is not None:  # a float dtype= to compute in: the image cast to it first
        ndsupport.check_fits(arr, call.cast)
        arr, x3 = arr.astype(call.cast), x3.astype(call.cast)
    elif dtype is None or call.rounded is not None:  # (a float dtype= asks for the rounding, as in conv2d)
        ndsupport.check_whole(arr, call.result)
    (oh, ow), dtype, rounded = call.out, call.result, call.rounded
    policy = as_paths(paths)
    lacks = _numba_lacks(dtype)  # (float16 results: numpy's path, whatever the process loaded)
    small = lacks or policy.numpy_for(call.work)
    if small is None:
        from ._core import costs

        small = costs.use_numpy(policy, call.work, same_bytes=True)  # PyTorch's bits on every path
    elif small and not lacks and not policy.cold and policy.force is None and _pool_loops_loaded():
        small = False  # the same bytes either way, and no start-up left to pay for the jitted loop
    if small:
        if not call.avg2:
            ndsupport.check_finite(arr)
        out = numpy_pool.pool(x3, call.size, call.stride, call.padding, call.op, count_include_pad, oh, ow, dtype)
        if call.avg2 and arr.dtype.kind == "f":
            _screen_avg2(x3, out, oh, ow)
    else:
        from ._core import engine

        out = engine.pool(
            x3, call.size, call.stride, call.padding, POOL_CODES[call.op], count_include_pad, oh, ow, dtype,
            announce=_compile_note, paths=policy, finite_check=_finite_check(arr), rounded=rounded,
        )
    out = numpy_impl.rounded(out, rounded)
    return out if arr.ndim == 3 else out[:, :, 0]


def _pool_loops_loaded() -> bool:
    """True once this process has loaded the jitted pooling loops (a call above the small-work rule
    did): a call whose every path gives the same bytes may then take them, at no start-up cost."""
    engine = sys.modules.get(__package__ + "._core.engine")
    return engine is not None and engine._POOL_LOOPS is not None


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
