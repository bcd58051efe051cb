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
* Compute dtype: float64 for float64 input, float32 for everything else (a 512x512x400 CT
  in float64 alone would be 4 copies of its int16 data).  float32 keeps about 7 significant
  digits: a Gaussian over 16-bit HU is off by well under 0.01 HU, far below CT noise.
  Pass ``dtype="float64"`` to compute in double precision.

Kernels in millimetres
----------------------
:func:`gaussian_mm` and :func:`box_mm` turn a physical size into one 1-D kernel per axis
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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ndsupport, shapes
from ._core import numpy_impl
from ._core.policy import as_paths
from .api import as_kernel_array
from .errors import InvalidKernel, ShapeError, UsageError
from .modes import AXES, PAD_CODES, POOL_CODES, canonical_pad_mode, canonical_pool_op  # noqa: F401 (AXES is public here)
from .ndsupport import volume_dtype  # noqa: F401  (public here since the first release)

#: the truncation of Gaussians in mm: radius ceil(3 * sigma) voxels, as the catalogue's gaussian:SIGMA
TRUNCATE = 3.0
#: longest 1-D kernel a physical size may give (a typo such as 200mm on 0.5 mm voxels)
MAX_TAPS = 1001


# ---------------------------------------------------------------- validation


def as_volume(x: Any, name: str = "volume") -> np.ndarray:
    """Validate a (Z, Y, X) array of finite real numbers; native byte order.

    >>> as_volume(np.zeros((2, 3, 4))).shape
    (2, 3, 4)
    """
    return ndsupport.as_real_array(x, (3,), name, "3-D (Z, Y, X)")


def _kernel1d(kernel: Any, axis: str) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float64).reshape(-1)
    if k.size == 0:
        raise ShapeError(f"kernel along {axis}: empty")
    if not np.isfinite(k).all():
        raise UsageError(f"kernel along {axis}: values must be finite")
    return k


def _axis_index(axis: str | int) -> int:
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and 0 <= int(axis) <= 2:
        return int(axis)
    key = str(axis).strip().lower()
    if key not in AXES:
        raise UsageError(f"invalid axis {axis!r}: expected z, y or x (the volume is (Z, Y, X))")
    return AXES.index(key)


def _triple(value: int | Sequence[int], name: str, minimum: int = 1) -> tuple[int, int, int]:
    """An int or three ints (z, y, x), each an integer >= minimum."""
    return ndsupport.normalize_sequence(value, 3, name, minimum)  # type: ignore[return-value]


def resolve_padding3d(padding: str | int | Sequence[int], shape: tuple[int, int, int]) -> tuple[int, int, int, int, int, int]:
    """Turn "same", "valid", P, (pz, py, px) or (z0, z1, y0, y1, x0, x1) into six pad widths.

    >>> resolve_padding3d("same", (3, 4, 5))
    (1, 1, 1, 2, 2, 2)
    """
    return ndsupport.resolve_padding(padding, shape)  # type: ignore[return-value]


def _use_numpy(paths: Any, work: int) -> bool:
    """The dispatcher's rule (:func:`kernelcli._core.engine.use_numpy`) for ``work`` multiply-adds."""
    from ._core import engine

    return engine.use_numpy(as_paths(paths), work)


# ---------------------------------------------------------------- convolution


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
        As :func:`kernelcli.api.pad2d`: constant, replicate, reflect, symmetric, circular.
    flip : bool
        True convolution (the kernel reversed on all three axes).
    dtype : float32 or float64, optional
        Compute dtype (default: float64 for float64 input, else float32).
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

        return arrays.conv3d(vol, kernel3d, padding=padding, pad_mode=pad_mode, pad_value=pad_value, flip=flip, dtype=dtype)
    arr = as_volume(vol)
    k = as_kernel_array(kernel3d, ndim=3)
    if flip:
        k = k[::-1, ::-1, ::-1]
    widths = resolve_padding3d(padding, k.shape)
    mode = canonical_pad_mode(pad_mode)
    out_shape = []
    for axis in range(3):
        try:
            out_shape.append(
                shapes.conv_output_size(arr.shape[axis], k.shape[axis], pad_before=widths[2 * axis], pad_after=widths[2 * axis + 1])
            )
        except ShapeError as exc:
            raise ShapeError(f"volume {'x'.join(map(str, arr.shape))} and kernel {'x'.join(map(str, k.shape))}, axis {AXES[axis]}: {exc}") from None
    cdt = volume_dtype(arr.dtype, dtype)
    value = ndsupport.check_fill(pad_value, cdt, "pad value") if mode == "constant" else 0.0
    if _use_numpy(paths, math.prod(out_shape) * int(np.count_nonzero(k))):
        xp = numpy_impl.pad_nd(arr, widths, PAD_CODES[mode], value, cdt)
        return numpy_impl.correlate_nd(xp, k.astype(cdt), tuple(out_shape))
    from ._core.conv3d import correlate3d

    return correlate3d(arr, k, widths, PAD_CODES[mode], value, cdt, tuple(out_shape), _announce)


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
    multiply-adds per voxel.  ``None`` (or ``[1]``) skips an axis.  The first pass reads
    the input and writes ``out`` (a new array in the compute dtype, or the one given, which
    may be ``vol`` itself when it has that dtype); later passes work in place, so memory
    stays at the input plus one volume.

    With ``pad_mode="constant"`` and a non-zero ``pad_value`` the passes pad their partial
    results with the value, which equals dense 3-D padding only for kernels that sum to 1
    per axis (smoothing); use :func:`conv3d` for the exact dense semantics otherwise.

    >>> vol = np.zeros((3, 3, 3)); vol[1, 1, 1] = 8
    >>> correlate_separable(vol, ([0.5, 0.5], None, [1, 1]))[1, 1]
    array([4., 4., 0.])
    """
    arr = as_volume(vol)
    mode = canonical_pad_mode(pad_mode)
    if len(kernels) != 3:
        raise UsageError(f"kernels: expected three 1-D kernels (z, y, x), got {len(kernels)}")
    passes = []
    for axis, k in enumerate(kernels):
        if k is None:
            continue
        k1 = _kernel1d(k, AXES[axis])
        if k1.size == 1 and k1[0] == 1.0:
            continue
        passes.append((axis, k1))
    cdt = volume_dtype(arr.dtype, dtype)
    if out is None:
        out = np.empty(arr.shape, dtype=cdt)
    elif out.shape != arr.shape or out.dtype != cdt or not out.flags.c_contiguous:
        raise UsageError(f"out: expected a C-contiguous {cdt} array of shape {arr.shape}, got {out.dtype} {out.shape}")
    if not passes:
        if out is not arr:
            out[...] = arr
        return out
    value = ndsupport.check_fill(pad_value, cdt, "pad value") if mode == "constant" else 0.0
    if _use_numpy(paths, arr.size * sum(int(np.count_nonzero(k1)) for _, k1 in passes)):
        src = arr
        for axis, k1 in passes:
            src = numpy_impl.correlate_axis(src, k1, axis, PAD_CODES[mode], value, cdt)
        out[...] = src
        return out
    from ._core.conv3d import correlate_axis

    src = arr
    for axis, k1 in passes:
        correlate_axis(src, k1, axis, PAD_CODES[mode], value, out, _announce)
        src = out
    return out


def convolve_slices(vol: Any, kernel2d: Any, axis: str | int = "z", *, dtype: Any = None, **conv2d_kwargs: Any) -> np.ndarray:
    """Apply a 2-D kernel to every slice across ``axis`` with :func:`kernelcli.api.conv2d`.

    ``axis="z"`` filters each (Y, X) slice (the usual axial slices of a CT), ``"y"`` each
    (Z, X) slice, ``"x"`` each (Z, Y) slice; the slices stay along the same axis of the
    result.  ``conv2d_kwargs`` (stride, padding, pad_mode, pad_value, dilation, flip) are
    passed on unchanged, so each result slice is exactly ``conv2d`` of that slice.

    Parameters
    ----------
    dtype : optional
        The result's dtype; by default conv2d's own (float64 for 16-bit input).  Pass
        ``"float32"`` to halve the memory of a large 16-bit volume.

    >>> vol = np.arange(18.0).reshape(2, 3, 3)
    >>> convolve_slices(vol, [[1, -1]], "z", padding="valid")[1]
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]])
    """
    from .api import conv2d

    arr = as_volume(vol)
    a = _axis_index(axis)
    out = None
    for index in range(arr.shape[a]):
        plane = np.take(arr, index, axis=a)
        result = conv2d(plane, kernel2d, **conv2d_kwargs)
        if out is None:
            shape = list(result.shape)
            shape.insert(a, arr.shape[a])
            out = np.empty(shape, dtype=result.dtype if dtype is None else np.dtype(dtype))
        view = out[(slice(None),) * a + (index,)]
        view[...] = result
    assert out is not None  # the volume is not empty
    return out


def pool3d(
    vol: Any,
    size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    op: str = "max",
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    paths: Any = None,
) -> np.ndarray:
    """Max, min or average pooling of a (Z, Y, X) volume, exactly as PyTorch's max_pool3d/avg_pool3d.

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

    Returns
    -------
    numpy.ndarray
        max/min keep the input dtype; avg is float32 (float64 for float64 input).

    >>> pool3d(np.arange(8).reshape(2, 2, 2), 2)
    array([[[7]]])
    """
    from .tiled import is_dask_array

    if is_dask_array(vol):  # lazy, tile by tile (kernelcli.tiled.arrays)
        from .tiled import arrays

        return arrays.pool3d(vol, size, stride, op, padding, ceil_mode, count_include_pad)
    arr = as_volume(vol)
    op = canonical_pool_op(op)
    f = _triple(size, "size")
    s = f if stride is None else _triple(stride, "stride")
    p = _triple(padding, "padding", minimum=0)
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
    cdt = volume_dtype(arr.dtype) if op == "avg" else arr.dtype
    if _use_numpy(paths, math.prod(out_shape) * math.prod(f)) or cdt == np.float16:
        return numpy_impl.pool_nd(arr, f, s, p, op, bool(count_include_pad), tuple(out_shape), cdt)
    from ._core.conv3d import pool3d as pool_core

    src = np.ascontiguousarray(arr, dtype=cdt) if op == "avg" else np.ascontiguousarray(arr)
    out = np.empty(tuple(out_shape), dtype=cdt)
    return pool_core(src, f, s, p, POOL_CODES[op], bool(count_include_pad), out, _announce)


def _announce(dispatcher: Any, *dtypes: Any) -> None:
    """Say "compiling..." once when a jitted loop is not in Numba's cache yet (the API's rule)."""
    from .api import _announce_first_compile

    _announce_first_compile(dispatcher, *dtypes)


# ---------------------------------------------------------------- kernels in millimetres


def _spacing(spacing: Sequence[float]) -> tuple[float, float, float]:
    items = tuple(float(v) for v in spacing)
    if len(items) != 3 or not all(math.isfinite(v) and v > 0 for v in items):
        raise UsageError(f"spacing {tuple(spacing)!r}: expected three positive voxel sizes in mm (dz, dy, dx)")
    return items  # type: ignore[return-value]


def gaussian_1d(sigma: float, radius: int) -> np.ndarray:
    """Sampled Gaussian ``exp(-x**2 / (2 sigma**2))`` at x = -radius..radius, normalised to sum 1.

    The same weights as scipy.ndimage's ``_gaussian_kernel1d`` (order 0).

    >>> gaussian_1d(1.0, 1).round(4)
    array([0.2741, 0.4519, 0.2741])
    """
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def radius_for(sigma_vox: float, truncate: float = TRUNCATE) -> int:
    """Gaussian radius in voxels: ``ceil(truncate * sigma_vox)``, less 1e-9 so decimal noise
    (0.3 / 0.1 = 2.9999999999999996, 3 * (1/3) = 1.0000000000000002) does not add a tap.

    >>> radius_for(2.0), radius_for(1.5 / 0.8)
    (6, 6)
    """
    return max(0, math.ceil(truncate * sigma_vox - 1e-9))


def gaussian_mm(sigma_mm: float, spacing: Sequence[float], *, truncate: float = TRUNCATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 1-D Gaussian per axis (z, y, x) for a standard deviation of ``sigma_mm`` millimetres.

    Per axis: ``sigma_vox = sigma_mm / spacing``, radius ``ceil(truncate * sigma_vox)`` voxels
    (:func:`radius_for`; ``truncate = 3``: the catalogue's ``gaussian:SIGMA`` rule), weights
    sampled and normalised to sum 1.  Equals ``scipy.ndimage.gaussian_filter(x,
    sigma=sigma_mm/spacing, radius=radius_for(sigma_mm/spacing))`` (same weights, same support).

    >>> [len(k) for k in gaussian_mm(2.0, (1.0, 0.8, 0.8))]
    [13, 17, 17]
    """
    if not (isinstance(sigma_mm, (int, float, np.floating)) and math.isfinite(sigma_mm) and sigma_mm > 0):
        raise InvalidKernel(f"gaussian: sigma {sigma_mm!r} mm must be a positive finite number")
    if not (math.isfinite(truncate) and truncate > 0):
        raise UsageError(f"truncate {truncate!r} must be a positive number")
    kernels = []
    for axis, step in enumerate(_spacing(spacing)):
        sigma = float(sigma_mm) / step
        radius = radius_for(sigma, truncate)
        if 2 * radius + 1 > MAX_TAPS:
            raise InvalidKernel(
                f"gaussian: sigma {sigma_mm:g} mm is {sigma:.4g} voxels along {AXES[axis]} (spacing {step:g} mm), "
                f"a kernel of {2 * radius + 1} taps, more than {MAX_TAPS}"
            )
        kernels.append(gaussian_1d(sigma, radius))
    return kernels[0], kernels[1], kernels[2]


def box_mm(width_mm: float, spacing: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 1-D box (mean) kernel per axis (z, y, x) covering ``width_mm`` millimetres.

    Per axis a voxel is in the box when its centre lies within ``width_mm / 2`` of the
    target's centre (fslmaths ``-kernel box``: "all voxels in a cube of width X mm centred on
    the target voxel"): radius ``floor(width_mm / 2 / spacing)`` voxels, side ``2*radius+1``,
    every weight ``1/side``.  A width below one voxel leaves that axis untouched.

    >>> [len(k) for k in box_mm(5.0, (1.0, 0.8, 0.8))]
    [5, 7, 7]
    """
    if not (isinstance(width_mm, (int, float, np.floating)) and math.isfinite(width_mm) and width_mm > 0):
        raise InvalidKernel(f"box: width {width_mm!r} mm must be a positive finite number")
    kernels = []
    for axis, step in enumerate(_spacing(spacing)):
        # the tiny allowance keeps 5mm on 1.25mm voxels at radius 2, not 1.999... -> 1
        radius = math.floor(float(width_mm) / 2 / step + 1e-9)
        side = 2 * radius + 1
        if side > MAX_TAPS:
            raise InvalidKernel(f"box: {width_mm:g} mm is {side} voxels along {AXES[axis]} (spacing {step:g} mm), more than {MAX_TAPS}")
        kernels.append(np.full(side, 1.0 / side))
    return kernels[0], kernels[1], kernels[2]


def gaussian_vox(sigma: float, *, truncate: float = TRUNCATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gaussian_mm` with sigma in voxels (spacing 1 on every axis).

    >>> len(gaussian_vox(2.0)[0])
    13
    """
    return gaussian_mm(sigma, (1.0, 1.0, 1.0), truncate=truncate)


# ---------------------------------------------------------------- named 3-D kernels

_BINOMIAL = (0.25, 0.5, 0.25)
_DERIVATIVE = (1.0, 0.0, -1.0)
_SOBEL_SMOOTH = (1.0, 2.0, 1.0)
_SOBEL_SOURCE = (
    "Sobel-Feldman operator extended to 3-D: derivative [1, 0, -1] along one axis times the smoothing "
    "[1, 2, 1] along the other two (Wikipedia, 'Sobel operator', section 'Extension to other dimensions', "
    "https://en.wikipedia.org/wiki/Sobel_operator; https://dsp.stackexchange.com/questions/45433)"
)


@dataclass(frozen=True)
class Kernel3D:
    """A named separable 3-D kernel: one 1-D factor per axis (z, y, x), with where it comes from.

    The dense kernel is the outer product ``factors[0] x factors[1] x factors[2]``.

    >>> kernel_3d("box_3d").array().shape
    (3, 3, 3)
    """

    name: str
    factors: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
    description: str
    source: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """(kz, ky, kx)."""
        return tuple(len(f) for f in self.factors)  # type: ignore[return-value]

    def array(self, dtype: Any = "float64") -> np.ndarray:
        """The dense (kz, ky, kx) kernel."""
        kz, ky, kx = (np.asarray(f, dtype=np.float64) for f in self.factors)
        return np.einsum("a,b,c->abc", kz, ky, kx).astype(dtype, copy=False)

    @property
    def sum(self) -> float:
        """Sum of the weights (1 for smoothing kernels, 0 for derivatives)."""
        return float(np.prod([math.fsum(f) for f in self.factors]))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the shape of a future ``"dims": 3`` catalogue entry)."""
        return {
            "name": self.name, "dims": 3, "shape": list(self.shape), "sum": self.sum, "separable": True,
            "factors": [list(f) for f in self.factors], "description": self.description, "source": self.source,
        }


def _sobel(axis: int) -> tuple[tuple[float, ...], ...]:
    return tuple(_DERIVATIVE if a == axis else _SOBEL_SMOOTH for a in range(3))


#: Named 3-D kernels.  They belong in the JSON catalogue with ``"dims": 3`` once its validator
#: accepts 3-D matrices; until then they are defined here, with their factors and sources.
KERNELS_3D: dict[str, Kernel3D] = {
    k.name: k
    for k in (
        Kernel3D(
            "box_3d", ((1 / 3,) * 3,) * 3,  # type: ignore[arg-type]
            "3x3x3 mean: every weight 1/27; no orientation.",
            "Box (mean) filter, the 3-D analogue of the catalogue's box_3x3 (fslmaths -kernel boxv 3)",
        ),
        Kernel3D(
            "gaussian_3d", (_BINOMIAL, _BINOMIAL, _BINOMIAL),
            "3x3x3 Gaussian blur, binomial 1-2-1 on each axis, divided by 64 (sigma about 0.71 voxel); no orientation.",
            "Binomial approximation of the Gaussian, the 3-D analogue of the catalogue's gaussian_3x3 "
            "(P. J. Burt and E. H. Adelson, IEEE Trans. Communications 31(4), 1983)",
        ),
        Kernel3D(
            "sobel_3d", _sobel(2),  # type: ignore[arg-type]
            "3x3x3 Sobel along x: positive where values fall from left to right (the sign of the catalogue's sobel_v); sum 0.",
            _SOBEL_SOURCE,
        ),
        Kernel3D(
            "sobel_3d_y", _sobel(1),  # type: ignore[arg-type]
            "3x3x3 Sobel along y (rows): positive where values fall from top to bottom; sum 0.",
            _SOBEL_SOURCE,
        ),
        Kernel3D(
            "sobel_3d_z", _sobel(0),  # type: ignore[arg-type]
            "3x3x3 Sobel along z (slices): positive where values fall from the first slice to the last; sum 0.",
            _SOBEL_SOURCE,
        ),
    )
}
KERNELS_3D["sobel_3d_x"] = KERNELS_3D["sobel_3d"]


def kernel_3d(name: str) -> Kernel3D:
    """Return a named 3-D kernel (``box_3d``, ``gaussian_3d``, ``sobel_3d``, ``sobel_3d_y``, ``sobel_3d_z``).

    >>> kernel_3d("sobel_3d").factors[2]
    (1.0, 0.0, -1.0)
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in KERNELS_3D:
        from .errors import KernelNotFound

        raise KernelNotFound(f"{name!r} is not a 3-D kernel: expected one of {', '.join(sorted(KERNELS_3D))}")
    return KERNELS_3D[key]
