"""Volume filters beyond one separable pass: fslmaths-style renormalised smoothing, derivatives in mm.

Arrays in, arrays out, like :mod:`kernelcli.volumes` (whose separable passes they use); no files.
The kernels are built in :mod:`kernelcli.kernel_build`; this module applies them.

Renormalised edges (fslmaths ``-s``)
------------------------------------
``fslmaths -s SIGMA`` smooths with a Gaussian cut at 4 sigma (radius ``ceil(4 sigma /
spacing)`` voxels per axis) and, at the volume's edge, drops the voxels outside and divides by
the weights inside (FSL's ``convolve_separable(..., renormalise=true)``, one pass per axis: x,
then y, then z).  :func:`smooth_renormalised` does the same; with a ``mask`` each pass uses only
the voxels inside it (mask > 0.5, FSL's rule) and leaves the voxels outside unchanged, as FSL's
masked ``convolve`` does.  Without a mask, renormalising per pass equals renormalising the whole
3-D kernel (the weights inside a box factorise).

Every function takes ``paths=`` (the path policy of :mod:`kernelcli._core.policy`) and passes
it to each separable pass; the CLI passes its cold policy.  And ``dtype=``, with the meaning it has in every
array function (:func:`kernelcli.ndsupport.dtype_arg`): float32 or float64 to compute in, an
integer dtype to round the result into.

Derivatives in millimetres
--------------------------
Gradients divide each axis's difference by its own spacing, so an anisotropic CT (0.7 x 0.7 x
2.5 mm) gives the same edge strength along z as in-plane.  Results are in the input's units per
mm (HU/mm), and per mm^2 for the Laplacian.

Example
-------
>>> import numpy as np
>>> ramp = np.broadcast_to(np.arange(6.0) * 3, (4, 5, 6)).copy()    # 3 units per voxel along x
>>> float(gradient_magnitude(ramp, (1.0, 1.0, 0.5))[2, 2, 2])        # x voxels 0.5 mm: 6 units/mm
6.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ._core import exact_sums
from ._core.numpy_impl import rounded as _rounded
from .kernel_build import central_difference_mm, laplacian_of_gaussian_factors, sobel_mm_factors
from .kernel_build import gaussian_second_derivative_1d  # noqa: F401  (built in kernel_build; importable from here)
from . import numtext
from .modes import AXES, check_fill_reading
from .volume_args import as_volume, factors_of, pass_kernels, volume_dtype_arg
from .volumes import _spacing, correlate_separable


def _one_axis(axis: int, k: np.ndarray) -> list[Any]:
    factors: list[Any] = [None, None, None]
    factors[axis] = k
    return factors


def smooth_renormalised(vol: Any, kernels: Sequence[Any], *, mask: Any = None, dtype: Any = None, paths: Any = None) -> np.ndarray:
    """Separable smoothing that renormalises over the voxels inside the volume (and ``mask``).

    ``kernels`` are one 1-D smoothing kernel per axis (z, y, x) or None: every weight >= 0 and the centre one > 0
    (a derivative is InvalidKernel; :func:`~kernelcli.volumes.correlate_separable` applies it).  ``mask`` is checked
    as the volume is (real, finite, 3-D; a masked array refused).  Without ``mask`` the result is
    the correlation with zero padding divided, voxel by voxel, by the sum of the weights that
    fell inside; with ``mask`` (same shape; inside where > 0.5) each pass (x, y, then z, as
    FSL) averages only inside voxels and keeps the outside ones.  See the module notes.

    >>> x = np.ones((3, 3, 3)); x[:, :, 0] = 4
    >>> smooth_renormalised(x, (None, None, [1.0, 1.0, 1.0]))[0, 0].tolist()   # edge: (4 + 1) / 2
    [2.5, 2.0, 1.0]
    """
    arr = as_volume(vol)
    cdt, rounded = volume_dtype_arg(dtype, arr)
    passes = _smoothing_passes(kernels)
    for axis, k in passes:  # a voxel with no inside neighbour (a mask's, or an axis of one voxel) divides by its centre's
        centre = k[(len(k) - 1) // 2]
        alone = mask is not None or arr.shape[axis] == 1
        if alone and len(k) > 1 and centre < np.finfo(cdt).tiny:  # (0 or subnormal there: no quotient worth the name)
            from .errors import InvalidKernel

            raise InvalidKernel(f"kernel along {AXES[axis]}: its centre weight is {centre / k.max():.3g} of its largest, "
                                f"below {np.dtype(cdt).name}'s normal range (the compute dtype): a voxel whose only weight "
                                "inside is its centre would be divided by it; give dtype='float64' or a kernel whose centre "
                                "weight is nearer its largest")
    factors = factors_of(passes)
    if mask is None:
        # Sums float32 would round (a uint16 box's past 2**24) are taken and divided in float64, then rounded once to
        # cdt: a float64 sum rounded to float32 before its division rounded twice (1 ulp off the mean, audit 217 #1)
        sdt = exact_sums.summing_dtype(arr, cdt, 0.0, factors=[k1 for _, k1 in passes])
        out = correlate_separable(arr, factors, pad_mode="constant", pad_value=0.0, dtype=sdt, paths=paths)
        _divide_by_weights_inside(out, passes, paths)
        return _rounded(out if sdt == cdt else out.astype(cdt), rounded)
    m = as_volume(mask, "mask")
    if m.shape != arr.shape:
        from .errors import ShapeError

        raise ShapeError(f"mask: shape {m.shape} differs from the volume's {arr.shape}; expected the same grid")
    inside = (m > 0.5).astype(cdt)
    result = arr.astype(cdt, copy=True)
    for axis, k in sorted(passes, key=lambda item: -item[0]):  # x, y, z: FSL's order
        num = correlate_separable(result * inside, _one_axis(axis, k), pad_mode="constant", dtype=cdt, paths=paths)
        den = correlate_separable(inside, _one_axis(axis, k), pad_mode="constant", dtype=cdt, paths=paths)
        ok = inside > 0  # an inside voxel's den holds its own centre tap
        result[ok] = num[ok] / den[ok]
    return _rounded(result, rounded)


def _divide_by_weights_inside(out: np.ndarray, passes: list[tuple[int, np.ndarray]], paths: Any) -> None:
    """Divide ``out`` (Z, Y, X), in place, by the sum of the weights that fall inside the volume, voxel by voxel: the
    product of each axis' sums, taken in float64 and rounded once to ``out``'s dtype (a box's whole counts: exact), so
    that a voxel's average is divided once (dividing by each axis' sum in turn rounded three times: a box's mean was
    1-2 float32 steps off at the edges, audit 216 #1).  Plane by plane: one plane's product in memory, not a
    float64 volume.  Each sum is at least the centre tap: never 0.

    >>> out = np.ones((1, 2, 3), np.float32)
    >>> _divide_by_weights_inside(out, [(1, np.ones(3)), (2, np.ones(3))], None); (out[0] * 12).tolist()
    [[3.0, 2.0, 3.0], [3.0, 2.0, 3.0]]
    """
    sums = {axis: correlate_separable(np.ones((1, 1, out.shape[axis])), (None, None, k), pad_mode="constant",
                                      dtype=np.float64, paths=paths).reshape(-1) for axis, k in passes}
    rows = sums[1][:, None] if 1 in sums else 1.0
    columns = sums[2][None, :] if 2 in sums else 1.0
    for z in range(out.shape[0]):
        plane = 1.0 * sums[0][z] if 0 in sums else 1.0  # (z, then y, then x: the passes' order, each product as before)
        out[z] /= np.broadcast_to(plane * rows * columns, out.shape[1:]).astype(out.dtype)


def _smoothing_passes(kernels: Sequence[Any]) -> list[tuple[int, np.ndarray]]:
    """``(axis, 1-D float64 weights)`` of :func:`smooth_renormalised`'s kernels, checked as
    :func:`~kernelcli.volumes.correlate_separable` checks its own, and refused (InvalidKernel) unless they
    smooth: weights >= 0 and a positive centre tap, so that the weights inside are never 0 and dividing by
    them is an average (a derivative's [1, 0, -1] was "renormalised" into nonsense).  Each is scaled by a power of
    two to a largest weight in [1, 2): the average does not depend on the scale, and a power of two changes no
    rounding, but a kernel too small for the compute dtype (``[1e-46]`` in float32) would be 0 there, and so the
    weights inside (NaN: review 49 #3); a centre weight 0 there beside its largest is refused by the caller.

    >>> _smoothing_passes([None, None, [[1, 2, 1]]])
    [(2, array([0.5, 1. , 0.5]))]
    """
    from .errors import InvalidKernel

    passes = pass_kernels(kernels)
    for axis, k1 in passes:
        if (k1 < 0).any() or not k1[(len(k1) - 1) // 2] > 0:
            shown = numtext.clipped("[" + ", ".join(f"{v:.4g}" for v in k1[:12]) + (", ...]" if len(k1) > 12 else "]"), 80)
            raise InvalidKernel(
                f"kernel along {AXES[axis]}: {shown} is no smoothing kernel: renormalising divides by the weights inside "
                "the volume (or mask), so every weight must be >= 0 and the centre one > 0 (a Gaussian's or a box's, as "
                "gaussian_mm and box_mm build them); correlate_separable applies any kernel"
            )
    # a box (one weight repeated: box:3vox's is 1/3 each) as ones: its sums whole, exact, and the mean divided once
    return [(axis, np.ones_like(k1) if (k1 == k1[0]).all() else np.ldexp(k1, 1 - int(np.frexp(k1.max())[1])))
            for axis, k1 in passes]


def gradient_magnitude(vol: Any, spacing: Sequence[float], *, pad_mode: str = "replicate", pad_value: float = 0.0,
                       dtype: Any = None, paths: Any = None) -> np.ndarray:
    """``|grad f|`` in units per mm from central differences ``(f[i+1] - f[i-1]) / (2 spacing)`` per axis.

    With replicate borders this is SimpleITK's ``GradientMagnitude`` (image spacing on); ``pad_value`` is
    the fill of ``pad_mode="constant"``, around the volume (:func:`_dense_fill`).

    >>> float(gradient_magnitude(np.arange(27.0).reshape(3, 3, 3), (2.0, 1.0, 1.0))[1, 1, 1])  # (9/2, 3, 1)
    5.5
    """
    arr = as_volume(vol)
    steps = _spacing(spacing)
    cdt, rounded = volume_dtype_arg(dtype, arr)
    passes = _dense_fill(arr, cdt, pad_mode, pad_value, paths, "gradient_magnitude")

    def partials():
        for axis, step in enumerate(steps):
            yield passes(_one_axis(axis, central_difference_mm(step)))

    return _rounded(_magnitude(partials, arr.shape, cdt), rounded)


def sobel_magnitude(vol: Any, spacing: Sequence[float], *, pad_mode: str = "replicate", pad_value: float = 0.0,
                    dtype: Any = None, paths: Any = None) -> np.ndarray:
    """Sobel gradient magnitude in units per mm: per axis ``[-1, 0, 1] / (2 spacing)``, smoothed ``[1, 2, 1] / 4`` on the others.

    ``pad_value``: the fill of ``pad_mode="constant"``, around the volume (:func:`_dense_fill`).

    >>> float(sobel_magnitude(np.arange(27.0).reshape(3, 3, 3), (2.0, 1.0, 1.0))[1, 1, 1])
    5.5
    """
    arr = as_volume(vol)
    steps = _spacing(spacing)
    cdt, rounded = volume_dtype_arg(dtype, arr)
    passes = _dense_fill(arr, cdt, pad_mode, pad_value, paths, "sobel_magnitude")

    def partials():
        for axis in range(3):
            yield passes(sobel_mm_factors(axis, steps))

    return _rounded(_magnitude(partials, arr.shape, cdt), rounded)


def _dense_fill(arr: np.ndarray, cdt: Any, pad_mode: str, pad_value: float, paths: Any,
                function: str = "correlate_separable") -> Callable[[Sequence[Any]], np.ndarray]:
    """``passes(factors)``: :func:`correlate_separable` of ``arr`` in ``cdt``, a ``pad_mode="constant"`` volume padded
    with ``pad_value`` as :func:`kernelcli.volumes.conv3d` pads it; ``zeros`` with another fill is refused in the words
    of ``function``, the one called (:func:`kernelcli.modes.check_fill_reading`).

    >>> passes = _dense_fill(np.full((1, 1, 3), 5.0), np.float64, "constant", 5.0, None)
    >>> passes([None, None, np.array([-1.0, 0.0, 1.0])]).ravel().tolist()   # a flat volume in a fill of its value
    [0.0, 0.0, 0.0]
    """
    check_fill_reading(pad_mode, pad_value, function)
    return lambda factors: correlate_separable(arr, factors, pad_mode=pad_mode, pad_value=pad_value, dtype=cdt, paths=paths)


def _magnitude(partials: Callable[[], Iterator[np.ndarray]], shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``sqrt(sum of d**2)`` over the new arrays ``partials()`` yields (used up), without overflow or underflow.

    The squares are summed in ``dtype``, one partial at a time, unless a square or the sum left
    the range: in float32 a derivative of 1e20 squares to inf and one of 1e-25 to 0, although
    the magnitudes, 1e20 and 1e-25, are representable.  The processor's overflow and underflow
    flags tell (numpy raises them under ``errstate``, at no cost); then the partials are computed
    again and chained through ``np.hypot``, which scales per voxel: the same result within
    rounding, a second pass for such volumes only.

    >>> big = lambda: iter([np.full(2, 3e37, np.float32), np.full(2, 4e37, np.float32)])
    >>> [round(float(m) / 1e37, 5) for m in _magnitude(big, (2,), np.float32)]   # squares: 1.6e75, inf in float32
    [5.0, 5.0]
    >>> small = lambda: iter([np.full(2, 3e-25, np.float32), np.full(2, 4e-25, np.float32)])
    >>> [round(float(m) / 1e-25, 5) for m in _magnitude(small, (2,), np.float32)]   # squares: 0 in float32
    [5.0, 5.0]
    """
    total = np.zeros(shape, dtype=dtype)
    try:
        for d in partials():
            with np.errstate(over="raise", under="raise"):
                total += np.multiply(d, d, out=d)
        return np.sqrt(total, out=total)
    except FloatingPointError:
        del total
    out = None
    for d in partials():
        out = np.abs(d, out=d) if out is None else np.hypot(out, d, out=out)
    return out


def laplacian_of_gaussian(
    vol: Any, sigma_mm: float, spacing: Sequence[float] | None, *, truncate: float = 4.0, pad_mode: str = "replicate", pad_value: float = 0.0,
    dtype: Any = None, paths: Any = None,
) -> np.ndarray:
    """Laplacian of Gaussian in units per mm^2, sigma in mm on anisotropic voxels.

    The sum over axes a of (second derivative of the Gaussian along a, Gaussian along the others;
    sigma_a = sigma_mm / spacing_a voxels, radius ``ceil(truncate * sigma_a)``) divided by
    spacing_a^2.  On 1 mm voxels it equals ``scipy.ndimage.gaussian_laplace(x, sigma, mode="nearest",
    radius=kernel_build.radius_for(sigma, truncate))`` (``ceil(truncate * sigma)``); with ``truncate=truncate``
    alone scipy's radius is ``int(truncate * sigma + 0.5)``, one voxel shorter whenever the rounding goes down
    (sigma 1.1: 4 against 5, results 0.3% of the largest |LoG| apart; up to 1.4% for sigma <= 3, at 2.874).
    ``pad_value``: the fill of ``pad_mode="constant"``, around the volume (:func:`_dense_fill`).  ``spacing`` None:
    sigma in voxels (spacing 1 on every axis, units per voxel^2), named so where it is refused.

    >>> x = np.zeros((9, 9, 9)); x[4, 4, 4] = 1
    >>> float(laplacian_of_gaussian(x, 1.0, (1, 1, 1))[4, 4, 4]) < 0
    True
    """
    arr = as_volume(vol)
    cdt, rounded = volume_dtype_arg(dtype, arr)
    terms = laplacian_of_gaussian_factors(sigma_mm, spacing, truncate)  # sigma, truncate and size refused before any volume is allocated
    passes = _dense_fill(arr, cdt, pad_mode, pad_value, paths, "laplacian_of_gaussian")
    total = np.zeros(arr.shape, dtype=cdt)
    for factors in terms:
        total += passes(factors)
    return _rounded(total, rounded)

