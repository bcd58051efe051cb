"""3-D volumes: convolution with 3-D kernels, 2-D kernels slice by slice, pooling, kernels in millimetres.

Arrays in, arrays out, like :mod:`kernelcli.api`; no files (those are :mod:`kernelcli.medical`).

Conventions
-----------
* A volume is a (Z, Y, X) array: slices first, then rows and columns, as pydicom stacks a
  series.  ``spacing`` is ``(dz, dy, dx)`` in millimetres, in the same order.
* Cross-correlation (no kernel flip), as :func:`kernelcli.api.conv2d`; ``flip=True`` gives true
  convolution.  "same" padding is ``f // 2`` on each side for an odd side f; an even side pads
  the extra cell after (bottom/right/back), as conv2d, PyTorch and TensorFlow.
* Pad modes are those of :mod:`kernelcli.modes` (constant, replicate, reflect, symmetric,
  circular); scipy.ndimage calls them constant, nearest, mirror, reflect, grid-wrap.
* Compute dtype: float64 for float64 and 32- and 64-bit integer input (float32 holds whole numbers exactly
  only up to 2**24), float32 for everything else (a 512x512x400 CT in float64 alone would be 4 copies of
  its int16 data; :func:`kernelcli.ndsupport.volume_dtype`).  float32 keeps about 7 significant
  digits: a Gaussian over 16-bit HU is off by well under 0.01 HU, far below CT noise.
  Pass ``dtype="float64"`` to compute in double precision.  Integer data under a kernel of whole numbers (over
  a whole number: ``box:65vox``) whose sums pass 2**24 is summed in float64 and rounded once, on every path
  (:mod:`kernelcli._core.exact_sums`).

Kernels in millimetres
----------------------
Built in :mod:`kernelcli.kernel_build` (and importable from here): :func:`gaussian_mm` and :func:`box_mm` turn a physical size into one 1-D kernel per axis
using the voxel spacing (like fslmaths ``-kernel gauss``/``-kernel box`` and c3d
``-smooth 2mm``).  The Gaussian's radius per axis is ``ceil(truncate * sigma_mm / spacing)``
voxels with ``truncate = 3``: the same rule as the catalogue's ``gaussian:SIGMA`` (side
``2*ceil(3*sigma)+1``).  ``scipy.ndimage.gaussian_filter(x, sigma=sigma_mm/spacing,
radius=that radius)`` uses the very same weights, so the two agree to rounding.

Example
-------
>>> import numpy as np
>>> vol = np.zeros((5, 5, 5)); vol[2, 2, 2] = 27
>>> float(conv3d(vol, np.ones((3, 3, 3)) / 27)[1:4, 1:4, 1:4].min())
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport, out_buffers, shapes
from ._core import numpy_impl, numpy_pool
from ._core.policy import as_paths
from .api import as_kernel_array
from .errors import ShapeError, UsageError
from .modes import AXES, PAD_CODES, POOL_CODES, canonical_pad_mode, canonical_pool_op, check_fill_reading
from .ndsupport import volume_dtype  # noqa: F401  (public here since the first release)

# Kernels are built in kernelcli.kernel_build; these names stay importable from here.
from .kernel_build import (  # noqa: F401
    KERNELS_3D,
    MAX_TAPS,
    TRUNCATE,
    Kernel3D,
    box_mm,
    gaussian_1d,
    gaussian_mm,
    gaussian_vox,
    kernel_3d,
    radius_for,
)
from .kernel_build import check_spacing as _spacing  # noqa: F401
from .volume_args import (  # noqa: F401  (each public here as before the split)
    announce, as_volume, axis_index, check_padding_fits3d, conv3d_jit_path, conv3d_path, factors_of, kernel_1d, pass_kernels,
    pool3d_takes_numpy, resolve_padding3d, separable_takes_numpy, triple, use_numpy, volume_dtype_arg,
)


# ---------------------------------------------------------------- convolution


@ndsupport.quiet_overflow
def conv3d(
    vol: Any,
    kernel3d: Any,
    *,
    padding: str | int | Sequence[int] = "same",
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    flip: bool = False,
    dtype: Any = None,
    paths: Any = None,
) -> np.ndarray:
    """Cross-correlate a (Z, Y, X) volume with a dense 3-D kernel (stride 1).

    Parameters
    ----------
    vol : array_like
        The volume, (Z, Y, X).
    kernel3d : array_like or Kernel3D
        A (kz, ky, kx) matrix, any side odd or even.
    padding : "same", "valid", P, (pz, py, px) or (z0, z1, y0, y1, x0, x1)
        "same" keeps the shape (see the module notes for even sides).
    pad_mode, pad_value : str, float
        As :func:`kernelcli.api.pad2d`: constant, replicate, reflect, symmetric, circular.  The default,
        constant 0, is PyTorch's Conv3d's; ``kernelcli volume`` (and the volume filters here) default to
        replicate: give ``pad_mode="replicate"`` to match a command-line result at the border.
    flip : bool
        True convolution (the kernel reversed on all three axes, as scipy.ndimage.convolve; an image's
        (C, f, f) kernel in :func:`kernelcli.banks.filter_bank` is flipped along y and x alone).
    dtype : None, float32, float64 or an integer dtype, optional
        As for :func:`kernelcli.api.conv2d` (:func:`kernelcli.ndsupport.dtype_arg`): float32 or
        float64 compute in it (default: float64 for float64 and 32- or 64-bit integer input, else float32); an integer
        dtype rounds the result into it.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`): plain numpy for small work, as 2-D.

    Returns
    -------
    numpy.ndarray
        (Z', Y', X') in the compute dtype; each side ``in + pad_before + pad_after - f + 1``.

    The padded volume is built once (one copy in the compute dtype), so this costs about
    two volumes of memory; for separable kernels :func:`correlate_separable` works in place.

    >>> conv3d(np.arange(27.0).reshape(3, 3, 3), np.ones((1, 1, 2)), padding="valid")[0, 0]
    array([1., 3.])
    """
    from .tiled import is_dask_array

    if is_dask_array(vol):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.conv3d(vol, kernel3d, padding=padding, pad_mode=pad_mode, pad_value=pad_value, flip=flip, dtype=dtype,
                             paths=paths)
    arr = as_volume(vol)
    k = as_kernel_array(kernel3d, ndim=3)
    if ndsupport.check_flip(flip):
        k = k[::-1, ::-1, ::-1]
    widths = resolve_padding3d(padding, k.shape)
    check_fill_reading(pad_mode, pad_value, "conv3d")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    out_shape = conv3d_out_shape(arr.shape, k.shape, widths)
    cdt, rounded = volume_dtype_arg(dtype, arr)
    check_padding_fits3d(arr.shape, widths, np.dtype(cdt).itemsize)
    ndsupport.check_fits(k, np.dtype(cdt), "kernel", ndsupport.WIDER_FOR_WEIGHTS)  # beyond it the weights become inf: 0 * inf NaN
    k = ndsupport.weights_as_held(k, cdt)  # the weights the loops apply, on the FFT too
    value = ndsupport.check_fill(pad_value, cdt, "pad_value") if mode == "constant" else 0.0
    from ._core import dispatch, exact_sums

    want, cdt = cdt, exact_sums.summing_dtype(arr, cdt, value, kernel=k)  # float64 where float32 rounds exact sums
    choice = conv3d_path(paths, arr.shape, k, widths, tuple(out_shape), cdt)
    arr = _loop_readable(arr, cdt)
    out = dispatch.correlate3d(arr, k, widths, PAD_CODES[mode], value, cdt, tuple(out_shape), as_paths(paths), choice, announce)
    dispatch.settled(out, arr, k, cdt, lambda wide: numpy_impl.correlate_nd(numpy_impl.pad_nd(arr, widths, PAD_CODES[mode], value, wide),
                                                                          k.astype(cdt).astype(wide), tuple(out_shape)))
    return numpy_impl.rounded(out.astype(want, copy=False), rounded)


def conv3d_out_shape(shape: Sequence[int], kshape: Sequence[int], widths: Sequence[int]) -> tuple[int, int, int]:
    """:func:`conv3d`'s output shape, of a volume ``shape`` under a kernel ``kshape`` padded by ``widths``
    (before, after per axis); an empty one refused naming the volume, the kernel and the axis.

    >>> conv3d_out_shape((4, 6, 7), (3, 3, 3), (0, 0, 1, 1, 1, 1))
    (2, 6, 7)
    """
    out = []
    for axis in range(3):
        try:
            out.append(shapes.conv_output_size(shape[axis], kshape[axis], pad_before=widths[2 * axis], pad_after=widths[2 * axis + 1]))
        except ShapeError as exc:
            raise ShapeError(f"volume {'x'.join(map(str, shape))} and kernel {'x'.join(map(str, kshape))}, axis {AXES[axis]}: {exc}") from None
    return tuple(out)


@ndsupport.quiet_overflow
def correlate_separable(
    vol: Any,
    kernels: Sequence[Any],
    *,
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    dtype: Any = None,
    out: np.ndarray | None = None,
    paths: Any = None,
) -> np.ndarray:
    """Apply one 1-D kernel per axis, ``(kz, ky, kx)``, as three passes with "same" output.

    The result is the correlation with the outer product ``kz x ky x kx`` (a Gaussian,
    box or Sobel), for about ``(len(kz)+len(ky)+len(kx))`` instead of their product
    multiply-adds per voxel.  ``None`` (or ``[1]``) skips an axis; a :class:`Kernel3D`
    (``kernel_3d('sobel_3d')``) is its three factors.  The first pass reads
    the input and writes ``out`` (a new array in the compute dtype, or the one given, which
    may be ``vol`` itself when it has that dtype: the same memory, by any view or tensor of it,
    is filtered in place); later passes work in place, so memory
    stays at the input plus one volume.

    With ``pad_mode="constant"`` and a non-zero ``pad_value`` the volume is padded with the value
    first, as far as the kernels reach, as :func:`conv3d` pads it (passes that padded their partial
    results with it gave another answer for kernels that do not sum to 1 per axis: a derivative's);
    that costs a padded copy of the volume.  The default, constant 0, is :func:`conv3d`'s; ``kernelcli volume``
    defaults to replicate (``pad_mode="replicate"`` matches its border voxels).

    An output a pass overflowed on the way is summed again as :func:`conv3d` sums it (the factors of a float
    input balanced, then the window's dense sum, then a wider type): sobel_3d's factors over 1e38 give 0.

    >>> vol = np.zeros((3, 3, 3)); vol[1, 1, 1] = 8
    >>> correlate_separable(vol, ([0.5, 0.5], None, [1, 1]))[1, 1]
    array([4., 4., 0.])
    """
    arr = as_volume(vol)
    check_fill_reading(pad_mode, pad_value, "correlate_separable")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    passes = [(axis, k1) for axis, k1 in pass_kernels(kernels) if not (k1.size == 1 and k1[0] == 1.0)]
    cdt, rounded = volume_dtype_arg(dtype, arr)
    for axis, k1 in passes:  # beyond it the weights become inf: 0 * inf NaN, as conv3d refuses
        ndsupport.check_fits(k1, np.dtype(cdt), f"kernel along {AXES[axis]}", ndsupport.WIDER_FOR_WEIGHTS)
    want = cdt if rounded is None else rounded
    if out is not None:
        _check_separable_out(out, arr, want)
    if rounded is not None:  # computed as by default, then rounded (into ``out`` when given)
        result = numpy_impl.rounded(correlate_separable(arr, factors_of(passes), pad_mode=pad_mode, pad_value=pad_value, paths=paths), rounded)
        if out is None:
            return result
        out[...] = result
        return out
    if out is None:
        out = np.empty(arr.shape, dtype=cdt)
    if not passes:
        if not out_buffers.same_elements(out, arr):
            out[...] = arr
        if out.dtype.kind == "f":  # conv3d's zero (its sums start at +0.0): a -0.0 of the input was kept here
            out += 0
        return out
    value = ndsupport.check_fill(pad_value, cdt, "pad_value") if mode == "constant" else 0.0
    from ._core import exact_sums, forms

    if exact_sums.summing_dtype(arr, cdt, value, factors=[k1 for _, k1 in passes]) != cdt:  # as conv3d: float32 would round
        out[...] = correlate_separable(arr, factors_of(passes), pad_mode=pad_mode, pad_value=pad_value, dtype="float64", paths=paths)
        return out
    if value != 0:
        out[...] = _in_a_fill(arr, passes, value, cdt, paths)
        return out
    takes_numpy = separable_takes_numpy(paths, arr.shape, [k1 for _, k1 in passes], cdt)  # (the tiled path asks so too)
    div = forms.divided_factors([k1 for _, k1 in passes], arr.dtype)  # conv3d's rule: whole numbers summed, divided once
    if div is not None:
        passes, divisor = [(axis, w) for (axis, _), w in zip(passes, div[0])], div[1]
    code, factors = PAD_CODES[mode], [k1 for _, k1 in passes]
    if arr.dtype.kind == "f":  # conv3d's rule: a float input's passes stay within its magnitude
        factors = list(forms.balanced(factors))
    if takes_numpy:
        src = arr
        for (axis, _), f in zip(passes, factors):
            src = numpy_impl.correlate_axis(src, f, axis, code, value, cdt)
        _passes_settled(src, arr, passes, factors, code, value, cdt, True)
        out[...] = src
        return out if div is None else np.divide(out, out.dtype.type(divisor), out=out)
    from ._core import dispatch
    from ._core.conv3d import correlate_axis

    # In place whenever out is the volume's memory, by whatever object (vols[1] twice is two views of one buffer):
    # the passes overwrite it, and the input is kept to sum an overflowed window again
    in_place = out_buffers.same_elements(out, arr)
    keep = arr.copy() if in_place and dispatch.may_overflow(arr, factors, cdt) else arr
    src = arr if in_place else _loop_readable(arr, cdt)
    for (axis, _), f in zip(passes, factors):
        correlate_axis(src, f, axis, code, value, out, announce)
        src = out
    _passes_settled(out, keep, passes, factors, code, value, cdt, False)
    return out if div is None else np.divide(out, out.dtype.type(divisor), out=out)


def _in_a_fill(arr: np.ndarray, passes: list, value: float, cdt: Any, paths: Any) -> np.ndarray:
    """The passes over ``arr`` padded with ``value`` as far as they reach, cropped back to its shape: the volume's
    constant padding, as :func:`conv3d` pads it (taking the fill out of the volume and adding it back would round
    every voxel to the fill's scale); the padded volume's own zero padding is never read by what is kept.

    >>> [float(v) for v in _in_a_fill(np.full((1, 1, 3), 5.0), [(2, np.array([-1.0, 0.0, 1.0]))], 5.0, np.float64, None).ravel()]
    [0.0, 0.0, 0.0]
    """
    widths = [(0, 0)] * 3
    for axis, k1 in passes:
        widths[axis] = ((k1.size - 1) // 2, k1.size - 1 - (k1.size - 1) // 2)  # a "same" pass's centre tap
    padded = np.pad(arr.astype(cdt, copy=False), widths, constant_values=value)
    whole = correlate_separable(padded, factors_of(passes), dtype=cdt, paths=paths)
    return whole[tuple(slice(before, before + n) for (before, _), n in zip(widths, arr.shape))]


def _passes_settled(out: np.ndarray, arr: np.ndarray, passes: list, factors: list, code: int, value: float, cdt: Any,
                    numpy: bool) -> None:
    """:func:`kernelcli._core.dispatch.separable_settled` with the 3-D kernel the passes make, held as conv3d holds it."""
    from ._core import dispatch

    ks = [np.ones(1)] * 3
    for axis, k1 in passes:
        ks[axis] = k1
    k = ndsupport.weights_as_held(np.einsum("a,b,c->abc", *ks), cdt)
    dispatch.separable_settled(out, arr, factors, k, code, value, np.dtype(cdt), numpy, announce)


def _loop_readable(arr: np.ndarray, cdt: np.dtype) -> np.ndarray:
    """``arr`` as the jitted 3-D loops can read it: float16 (which Numba cannot compile: a 64^3 volume
    raised its NotImplementedError where a 4^3 one, on plain numpy, worked) cast to the compute dtype."""
    return arr.astype(cdt) if arr.dtype.kind == "f" and arr.dtype.itemsize < 4 else arr


def _check_separable_out(out: Any, arr: np.ndarray, want: np.dtype) -> None:
    """Refuse an ``out`` :func:`correlate_separable` cannot write into: not an array, another shape or dtype,
    not C-contiguous and writeable, or overlapping the input without being it (the passes would read
    values they had already written: a view shifted by 8 values gave errors of 100, silently)."""
    if not isinstance(out, np.ndarray):
        raise UsageError(f"out: expected a numpy array, got {type(out).__name__}")
    if out.shape != arr.shape or out.dtype != want or not (out.flags.c_contiguous and out.flags.writeable):
        raise UsageError(f"out: expected a C-contiguous, writeable {want} array of shape {arr.shape}, got {out.dtype} {out.shape}"
                         + ("" if out.flags.writeable else ", read-only"))
    if not out_buffers.same_elements(out, arr) and np.shares_memory(out, arr):
        raise UsageError("out: overlaps the volume without being it; pass the volume itself (in place) or a separate buffer")


@ndsupport.quiet_overflow
def convolve_slices(vol: Any, kernel2d: Any, axis: str | int = "z", *, dtype: Any = None, **conv2d_kwargs: Any) -> np.ndarray:
    """Apply a 2-D kernel to every slice across ``axis`` with :func:`kernelcli.api.conv2d`.

    ``axis="z"`` filters each (Y, X) slice (the usual axial slices of a CT), ``"y"`` each
    (Z, X) slice, ``"x"`` each (Z, Y) slice; the slices stay along the same axis of the
    result.  ``conv2d_kwargs`` (stride, padding, pad_mode, pad_value, dilation, flip) are
    passed on unchanged, so each result slice is exactly ``conv2d`` of that slice (its ``pad_mode``
    defaults to constant, conv2d's; ``kernelcli volume --axis`` defaults to replicate).

    Parameters
    ----------
    dtype : None, float32, float64 or an integer dtype, optional
        As :func:`kernelcli.api.conv2d`'s ``dtype=``, slice by slice: by default conv2d's own
        (float64 for 16-bit input); ``"float32"`` computes in float32 and halves the memory of a
        large 16-bit volume; an integer dtype (uint8, int8, uint16, int16) rounds each slice
        half to even and clips it as it is computed.

    >>> vol = np.arange(18.0).reshape(2, 3, 3)
    >>> convolve_slices(vol, [[1, -1]], "z", padding="valid")[1]
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]])
    """
    import inspect

    from . import api
    from .api import conv2d

    passed = [n for n, p in inspect.signature(conv2d).parameters.items() if p.kind is p.KEYWORD_ONLY and n != "dtype"]
    if unknown := [n for n in conv2d_kwargs if n not in passed]:  # (conv2d's own TypeError named conv2d)
        raise UsageError(f"convolve_slices() got an unexpected keyword argument {unknown[0]!r}: it takes axis, dtype "
                         f"and conv2d's {', '.join(passed)}")
    arr = as_volume(vol)
    a = axis_index(axis)
    # the whole volume checked once, as conv3d checks it: per slice, a refusal named x and one plane's cells and count
    ndsupport.dtype_arg(dtype, api.compute_dtype(arr.dtype), arr=arr, arr_name="volume")
    out = None
    for index in range(arr.shape[a]):
        plane = np.take(arr, index, axis=a)
        result = conv2d(plane, kernel2d, dtype=dtype, **conv2d_kwargs)
        if out is None:
            shape = list(result.shape)
            shape.insert(a, arr.shape[a])
            out = np.empty(shape, dtype=result.dtype)
        view = out[(slice(None),) * a + (index,)]
        view[...] = result
    assert out is not None  # the volume is not empty
    return out


@ndsupport.quiet_overflow
def pool3d(
    vol: Any,
    size: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    op: str = "max",
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    paths: Any = None,
    dtype: Any = None,
) -> np.ndarray:
    """Max, min or average pooling of a (Z, Y, X) volume, exactly as PyTorch's max_pool3d/avg_pool3d.

    Wherever PyTorch gives a result the two agree; a few shapes it refuses (an axis of 1 with size 2 and
    padding 1: "input image ... smaller than kernel size") are pooled here by the same rule, over the padded volume.

    Parameters
    ----------
    size, stride, padding : int or (z, y, x)
        Window sides; step (default: the size); virtual cells on each side, at most
        ``size // 2`` (PyTorch's rule) -- they never win a max/min.
    op : {"max", "min", "avg"}
    ceil_mode : bool
        Round output sizes up; a window starting in the trailing padding is dropped.
    count_include_pad : bool
        ``avg``: divide by the window's cells in the padded input, or by the real ones only.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`).
    dtype : None, float32, float64 or an integer dtype, optional
        As for :func:`kernelcli.api.pool2d`: a float to compute in, or an integer dtype to round the
        result into (half to even, clipped into its range).

    Returns
    -------
    numpy.ndarray
        max/min keep the input dtype; avg is float32, float64 for float64, 32- and 64-bit integer input
        (:func:`kernelcli.ndsupport.volume_dtype`: float32 holds whole numbers exactly only up to 2^24); or ``dtype``.

    >>> pool3d(np.arange(8).reshape(2, 2, 2), 2)
    array([[[7]]])
    >>> pool3d(np.array([[[7, 3], [8, 7]], [[5, 2], [1, 6]]], np.uint8), 2, op="avg", dtype="uint8")
    array([[[5]]], dtype=uint8)
    """
    from .tiled import is_dask_array

    ceil_mode = ndsupport.check_bool(ceil_mode, "ceil_mode")
    count_include_pad = ndsupport.check_bool(count_include_pad, "count_include_pad")
    op = canonical_pool_op(op, "op")
    if is_dask_array(vol):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pool3d(vol, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode,
                             count_include_pad=count_include_pad, dtype=dtype, paths=paths)
    arr = as_volume(vol)
    default = volume_dtype(arr.dtype) if op == "avg" else arr.dtype
    compute, rounded = ndsupport.dtype_arg(dtype, default, arr=arr, arr_name="volume")
    if compute != default:
        ndsupport.check_fits(arr, compute)
        arr = arr.astype(compute)
    f = triple(size, "size")
    s = f if stride is None else triple(stride, "stride")
    p = triple(padding, "padding", minimum=0)
    for axis in range(3):
        if p[axis] > f[axis] // 2:
            raise UsageError(
                f"padding {p[axis]} on axis {AXES[axis]} is more than half the pool size {f[axis]}: "
                f"at most {f[axis] // 2} (PyTorch's rule)"
            )
    out_shape = []
    for axis in range(3):
        try:
            out_shape.append(shapes.pool_output_size(arr.shape[axis], f[axis], stride=s[axis], padding=p[axis], ceil_mode=ceil_mode))
        except ShapeError as exc:
            raise ShapeError(f"volume {'x'.join(map(str, arr.shape))}, axis {AXES[axis]}: {exc}") from None
    cdt = volume_dtype(arr.dtype) if op == "avg" else arr.dtype  # (values it would round: refused by dtype_arg above)
    if pool3d_takes_numpy(paths, arr.shape, f, s, p, op, tuple(out_shape), cdt, arr.dtype):
        return numpy_impl.rounded(numpy_pool.pool_nd(arr, f, s, p, op, bool(count_include_pad), tuple(out_shape), cdt), rounded)
    from ._core.conv3d import pool3d as pool_core

    src = np.ascontiguousarray(arr, dtype=cdt) if op == "avg" else np.ascontiguousarray(arr)
    out = np.empty(tuple(out_shape), dtype=cdt)
    return numpy_impl.rounded(pool_core(src, f, s, p, POOL_CODES[op], bool(count_include_pad), out, announce), rounded)


