"""A 3-D call's arguments checked and its compute path decided, as :mod:`kernelcli.conv_args` and
:mod:`kernelcli.pool_args` do for 2-D: the volume itself, its compute dtype, a separable pass's 1-D kernel, an axis,
a size or padding per axis, and which path (plain numpy, the jitted loops, the FFT) :mod:`kernelcli.volumes` takes.

>>> as_volume(np.zeros((2, 3, 4))).shape, triple(2, "size"), axis_index("y")
((2, 3, 4), (2, 2, 2), 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport
from ._core.policy import as_paths
from .errors import ShapeError, UsageError
from .modes import AXES
from .ndsupport import volume_dtype


def as_volume(x: Any, name: str = "volume") -> np.ndarray:
    """Validate a (Z, Y, X) array of finite real numbers; native byte order.

    >>> as_volume(np.zeros((2, 3, 4))).shape
    (2, 3, 4)
    """
    return ndsupport.as_real_array(x, (3,), name, "3-D (Z, Y, X)")


def volume_dtype_arg(dtype: Any, arr: np.ndarray) -> tuple[np.dtype, np.dtype | None]:
    """``(compute, rounded)`` of a volume function's ``dtype=`` (:func:`ndsupport.dtype_arg`), by
    default :func:`volume_dtype` of ``arr``, whose values are checked to fit the compute dtype.

    >>> volume_dtype_arg(None, np.zeros((1, 1, 1), np.int16)), volume_dtype_arg("uint8", np.zeros((1, 1, 1)))
    ((dtype('float32'), None), (dtype('float64'), dtype('uint8')))
    """
    return ndsupport.dtype_arg(dtype, volume_dtype(arr.dtype), arr=arr, arr_name="volume")


def kernel_1d(kernel: Any, axis: str) -> np.ndarray:
    """The kernel of one separable pass as 1-D float64 weights, checked as :func:`conv3d` checks its kernel
    (:func:`kernelcli.ndsupport.kernel_values`): a (1, n) or (n, 1, 1) array is taken as its n taps.

    >>> kernel_1d([[1, 2, 1]], "x")
    array([1., 2., 1.])
    """
    name = f"kernel along {axis}"
    k = ndsupport.kernel_values(kernel, None, name)
    if k.ndim > 1 and max(k.shape) != k.size:  # a (2, 3) array was flattened into 6 taps
        raise ShapeError(f"{name}: a {'x'.join(map(str, k.shape))} array; expected a 1-D kernel (one per axis)")
    k = k.reshape(-1)
    if not np.isfinite(k).all():
        raise UsageError(f"{name}: values must be finite")
    return k


def pass_kernels(kernels: Any) -> list[tuple[int, np.ndarray]]:
    """``(axis, 1-D float64 weights)`` of each separable pass in ``kernels``: three 1-D kernels (z, y, x), ``None``
    for an axis not passed, each checked by :func:`kernel_1d`.

    A :class:`kernelcli.kernel_build.Kernel3D` (``kernel_3d('sobel_3d')``, which :func:`conv3d` takes as it is) is
    its three factors.

    >>> pass_kernels([None, [1, 2, 1], None])
    [(1, array([1., 2., 1.]))]
    """
    from .kernel_build import Kernel3D
    from .numtext import clipped

    if isinstance(kernels, Kernel3D):  # (refused with its whole repr, some 600 characters)
        kernels = kernels.factors
    try:
        given = tuple(kernels)  # (a generator is read once, here)
    except TypeError:  # None was Python's "object of type 'NoneType' has no len()"
        raise UsageError(f"kernels: expected three 1-D kernels (z, y, x), got {clipped(repr(kernels), 80)}") from None
    if len(given) != 3:
        raise UsageError(f"kernels: expected three 1-D kernels (z, y, x), got {len(given)}")
    return [(axis, kernel_1d(k, AXES[axis])) for axis, k in enumerate(given) if k is not None]


def factors_of(passes: list) -> list:
    """The three kernels (z, y, x) of ``passes`` (:func:`pass_kernels`), None where an axis has no pass.

    >>> factors_of([(2, np.ones(3))])
    [None, None, array([1., 1., 1.])]
    """
    factors: list = [None] * 3
    for axis, k1 in passes:
        factors[axis] = k1
    return factors


def axis_index(axis: str | int) -> int:
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and 0 <= int(axis) <= 2:
        return int(axis)
    key = str(axis).strip().lower()
    if key not in AXES:
        raise UsageError(f"invalid axis {axis!r}: expected z, y or x (the volume is (Z, Y, X))")
    return AXES.index(key)


def triple(value: int | Sequence[int], name: str, minimum: int = 1) -> tuple[int, int, int]:
    """An int or three ints (z, y, x), each an integer >= minimum."""
    return ndsupport.normalize_sequence(value, 3, name, minimum)  # type: ignore[return-value]


def resolve_padding3d(padding: str | int | Sequence[int], shape: tuple[int, int, int]) -> tuple[int, int, int, int, int, int]:
    """Turn "same", "valid", P, (pz, py, px) or (z0, z1, y0, y1, x0, x1) into six pad widths.

    >>> resolve_padding3d("same", (3, 4, 5))
    (1, 1, 1, 2, 2, 2)
    """
    return ndsupport.resolve_padding(padding, shape)  # type: ignore[return-value]


def check_padding_fits3d(shape: tuple[int, ...], widths: tuple[int, ...], itemsize: int) -> None:
    """Refuse (ResourceLimit) padding a (Z, Y, X) volume by ``widths`` where the padded copy, ``itemsize`` bytes a
    cell, needs more than the machine's memory, as 2-D padding is refused (:func:`kernelcli.conv_args.check_padding_fits`):
    ``conv3d(6x7x8, k, padding=10**4)`` was numpy's MemoryError "Unable to allocate 29.1 TiB".

    >>> check_padding_fits3d((6, 7, 8), (1, 1, 1, 1, 1, 1), 4)
    """
    need = math.prod(n + widths[2 * a] + widths[2 * a + 1] for a, n in enumerate(shape)) * itemsize
    if need > 2**30:  # (the usual call never asks)
        from .limits import check_machine

        check_machine(need, f"padding the {'x'.join(map(str, shape))} volume by {','.join(map(str, widths))}")


def use_numpy(paths: Any, work: int, numpy_bytes: int, jit_bytes: int) -> bool:
    """The dispatcher's rule for volumes (:func:`kernelcli._core.costs.use_numpy_volume`).

    ``work`` multiply-adds; ``numpy_bytes``/``jit_bytes``: what each path allocates besides
    the input, so a cold call never trades a few tenths of a second for several volumes of memory.
    """
    from ._core import costs

    return costs.use_numpy_volume(as_paths(paths), work, numpy_bytes, jit_bytes)


def conv3d_path(paths: Any, shape: tuple[int, ...], k: np.ndarray, widths: tuple[int, ...], out_shape: tuple[int, ...], cdt: Any) -> str:
    """:func:`conv3d`'s first choice for a ``shape`` volume: ``"numpy"``, ``"fft"`` or ``"jit"``
    (:func:`kernelcli._core.dispatch.front`, the one 2-D convolution makes too).

    numpy holds the padded copy, the result and one product; the jitted loops the padded
    copy and the result; the FFT the result and one block's float64 buffers.
    A tiling caller asks this once for the whole volume.
    """
    from ._core import dispatch

    size = np.dtype(cdt).itemsize
    padded_shape = tuple(n + widths[2 * a] + widths[2 * a + 1] for a, n in enumerate(shape))
    padded = math.prod(padded_shape) * size
    out_bytes = math.prod(out_shape) * size
    outputs = math.prod(out_shape)
    return dispatch.front(as_paths(paths), outputs * int(np.count_nonzero(k)), outputs, k, 1, np.dtype(cdt),
                          padded + 2 * out_bytes, padded + out_bytes, dispatch.fft_bytes(k.shape, out_shape, cdt))


def conv3d_jit_path(paths: Any, shape: tuple[int, ...], k: np.ndarray, widths: tuple[int, ...], out_shape: tuple[int, ...], cdt: Any) -> str:
    """The jitted path :func:`conv3d` takes after :func:`conv3d_path`'s ``"jit"``: dense, separable or fft."""
    from ._core import dispatch

    return dispatch.jit_path3d(tuple(shape), k, widths, out_shape, np.dtype(cdt), as_paths(paths).force)


def separable_takes_numpy(paths: Any, shape: tuple[int, ...], kernels: Sequence[Any], cdt: Any) -> bool:
    """Whether :func:`correlate_separable` of a ``shape`` volume takes plain numpy (else the jitted passes).

    ``kernels``: the 1-D kernels per axis (None, or a single tap of 1, is no pass).  numpy holds,
    per pass, the previous result, a padded copy, the new result and a product (plus ``out``);
    the jitted passes ``out`` only, each pass in place.  A tiling caller asks this once for the
    whole volume.
    """
    taps = [np.asarray(k, dtype=np.float64).reshape(-1) for k in kernels if k is not None]
    work = math.prod(shape) * sum(int(np.count_nonzero(k)) for k in taps if not (k.size == 1 and k[0] == 1.0))
    vol_bytes = math.prod(shape) * np.dtype(cdt).itemsize
    return use_numpy(paths, work, 5 * vol_bytes, vol_bytes)


def pool3d_bytes(shape: tuple[int, ...], f, s, p, op: str, out_shape: tuple[int, ...], cdt: Any, stored: Any = None) -> tuple[int, int]:
    """What :func:`pool3d` of a ``shape`` volume of ``stored`` values (by default ``cdt``) allocates besides it, on the
    plain-numpy path and on the jitted loop: ``(numpy_bytes, jit_bytes)``.

    numpy (:func:`kernelcli._core.numpy_pool.pool_nd`) holds the result, a padded copy where a window reaches past the
    volume (an average's in ``cdt``, else a cast where ``stored`` is not ``cdt``) and, for a float max/min, a mask of
    the result's shape, for an average its divisor a plane at a time (three int64 planes); the jitted loop the result
    and an average's cast.

    >>> pool3d_bytes((4, 4, 4), (2, 2, 2), (1, 1, 1), (1, 1, 1), "avg", (5, 5, 5), np.float32, np.int16)
    (1964, 756)
    """
    cdt, stored = np.dtype(cdt), np.dtype(cdt if stored is None else stored)
    out_bytes = math.prod(out_shape) * cdt.itemsize
    extra = [max(0, (o - 1) * sa + fa - pa - n) for o, sa, fa, pa, n in zip(out_shape, s, f, p, shape)]
    padded = any(p) or any(extra)
    from .modes import KEEPS_DTYPE

    copy_dtype = stored if op in KEEPS_DTYPE else cdt
    copy = math.prod(n + pa + e for n, pa, e in zip(shape, p, extra)) * copy_dtype.itemsize if padded or copy_dtype != stored else 0
    mask = math.prod(out_shape) if op != "avg" and cdt.kind == "f" else 3 * 8 * math.prod(out_shape[1:]) if op == "avg" else 0
    cast = math.prod(shape) * cdt.itemsize if op == "avg" and cdt != stored else 0
    return copy + out_bytes + mask, cast + out_bytes


def pool3d_takes_numpy(paths: Any, shape: tuple[int, ...], f, s, p, op: str, out_shape: tuple[int, ...], cdt: Any,
                       stored: Any = None) -> bool:
    """Whether :func:`pool3d` of a ``shape`` volume takes plain numpy (else the jitted loop), by what each allocates
    (:func:`pool3d_bytes`).  float16 always takes numpy.
    """
    numpy_bytes, jit_bytes = pool3d_bytes(shape, f, s, p, op, out_shape, cdt, stored)
    work = math.prod(out_shape) * math.prod(f)
    return use_numpy(paths, work, numpy_bytes, jit_bytes) or np.dtype(cdt) == np.float16


def announce(dispatcher: Any, *dtypes: Any) -> None:
    """Say "compiling..." once when a jitted loop is not in Numba's cache yet (the API's rule)."""
    from .jitcache import CORE_NOTE

    CORE_NOTE(dispatcher, *dtypes)
