"""Every kernel kernelcli builds, in one place: sizes in pixels, voxels or millimetres, named 3-D kernels.

Application lives elsewhere and takes arrays (:mod:`kernelcli.api`, :mod:`kernelcli.volumes`),
as kornia keeps ``filters/kernels.py`` (building) apart from ``filters/filter.py`` (applying).
The catalogue (:mod:`kernelcli.catalog`) builds ``gaussian:SIGMA`` from :func:`gaussian_row`
and :func:`radius_for`; the volume grammar (:func:`kernelcli.volume_grammar.resolve_volume_kernel`) resolves
``gaussian:1.5mm``, ``box:5mm``, ``fwhm:4mm``, ``gaussian:2vox`` through the functions here.
Numpy is imported only by the functions that return arrays, so the catalogue stays numpy-free.

Gaussians, one rule everywhere: radius ``ceil(truncate * sigma)`` samples (truncate = 3; per
axis ``sigma = sigma_mm / spacing``), weights ``exp(-x**2 / (2 sigma**2))``, normalised to sum 1
(as scipy.ndimage's ``_gaussian_kernel1d``, cv2's ``getGaussianKernel`` and ImageMagick's ``Gaussian:RxSIGMA`` with
R = ceil(3*sigma); ImageMagick's ``Gaussian:0xSIGMA`` picks its own radius, often larger).

The named 3-D kernels (``box_3d``, ``gaussian_3d``, ``sobel_3d[_x|_y|_z]``) are data:
``kernels/3d/separable.json``, one 1-D factor per axis with its source.

The derivatives in millimetres (central differences, Sobel, the Laplacian of Gaussian's terms) are built here too;
:mod:`kernelcli.volume_filters` applies them.  The volume ``--kernel`` grammar that names them all is
:mod:`kernelcli.volume_grammar`.

Example
-------
>>> [len(k) for k in gaussian_mm(2.0, (1.0, 0.8, 0.8))]
[13, 17, 17]
>>> kernel_3d("sobel_3d").factors[2]
(1.0, 0.0, -1.0)
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from typing import Any

from .errors import InvalidKernel, KernelNotFound, UsageError
from .modes import AXES
from .records import record
from .whole_numbers import flag
from .resources import catalog_dir

#: the truncation of Gaussians: radius ceil(3 * sigma) samples, in pixels, voxels and mm alike
TRUNCATE = 3.0
#: a Laplacian of Gaussian's: its second derivative reaches further (scipy's and fslmaths' 4)
LOG_TRUNCATE = 4.0
#: longest 1-D kernel a physical size may give (a typo such as 200mm on 0.5 mm voxels)
MAX_TAPS = 1001
#: FWHM = this * sigma for a Gaussian
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def gaussian_row(sigma: float, radius: int) -> list[float]:
    """Unnormalised Gaussian weights ``exp(-x**2 / (2 sigma**2))`` at x = -radius..radius (pure Python).

    ``(x / sigma) * (x / sigma)`` rather than ``x*x / sigma**2``: a tiny sigma underflows to a
    weight of 0, it never raises.

    >>> [round(w, 4) for w in gaussian_row(1.0, 1)]
    [0.6065, 1.0, 0.6065]
    """
    return [math.exp(-0.5 * (x / sigma) * (x / sigma)) for x in range(-radius, radius + 1)]


def _full(n: int, value: float):
    import numpy as np

    return np.full(n, value)


# ---------------------------------------------------------------- sizes in voxels and millimetres


def check_spacing(spacing: Sequence[float]) -> tuple[float, float, float]:
    """Three positive finite voxel sizes in mm (dz, dy, dx), or a UsageError.

    >>> check_spacing((1, 0.8, 0.8))
    (1.0, 0.8, 0.8)
    """
    values = None if isinstance(spacing, (str, bytes)) or not hasattr(spacing, "__iter__") else list(spacing)  # "111": 3 x 1 mm
    numeric = values is not None and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    items = tuple(float(v) for v in values) if numeric else ()
    if len(items) != 3 or not all(math.isfinite(v) and v > 0 for v in items):
        raise UsageError(f"spacing {spacing!r}: expected three positive voxel sizes in mm (dz, dy, dx)")
    return items  # type: ignore[return-value]


def gaussian_1d(sigma: float, radius: int) -> np.ndarray:
    """Sampled Gaussian ``exp(-x**2 / (2 sigma**2))`` at x = -radius..radius, normalised to sum 1.

    The same weights as scipy.ndimage's ``_gaussian_kernel1d`` (order 0).

    >>> gaussian_1d(1.0, 1).round(4)
    array([0.2741, 0.4519, 0.2741])
    """
    import numpy as np

    x = np.arange(-radius, radius + 1, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):  # sigma 1e-300: (1 / sigma)**2 is inf, a weight of exactly 0
        w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def radius_for(sigma_vox: float, truncate: float = TRUNCATE) -> int:
    """Gaussian radius in voxels: ``ceil(truncate * sigma_vox)``, less four units in the last place so that
    the noise of a division or two (3 * (1/3) = 1.0000000000000002) does not add a tap.  An absolute margin
    of 1e-9 made gaussian:1e-10 1x1 and gaussian:0.3333333334 3x3, where the rule gives 3x3 and 5x5.

    >>> radius_for(2.0), radius_for(1.5 / 0.8), radius_for(1 / 3), radius_for(0.3333333333334), radius_for(1e-10)
    (6, 6, 1, 2, 1)
    """
    reach = truncate * sigma_vox
    return max(0, math.ceil(reach - 4 * math.ulp(reach)))


def check_sigma_truncate(family: str, sigma_mm: Any, truncate: Any, unit: str = "mm", width: str = "sigma") -> None:
    """Refuse a sigma that is not a positive finite real number (InvalidKernel, naming ``family``, the ``width``
    it was given as, ``sigma`` or ``FWHM``, and the ``unit``, ``mm`` or ``voxels``) or a truncate that is not one
    (UsageError); bools and text are refused, not read as numbers.

    >>> check_sigma_truncate("log", -1.0, 4.0)
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: log: sigma -1.0 mm must be a positive finite number
    """
    if isinstance(sigma_mm, bool) or not (isinstance(sigma_mm, numbers.Real) and math.isfinite(sigma_mm) and sigma_mm > 0):
        raise InvalidKernel(f"{family}: {width} {sigma_mm!r} {unit} must be a positive finite number")
    if isinstance(truncate, bool) or not (isinstance(truncate, numbers.Real) and math.isfinite(truncate) and truncate > 0):
        # (True was a truncate of 1; '3' and None were Python's TypeError)
        raise UsageError(f"truncate {truncate!r} must be a positive number")


def _radii(family: str, sigma_given: float, spacing: Sequence[float] | None, truncate: float) -> list[int]:
    """:func:`radius_for` of ``sigma_given`` along each axis (z, y, x): in mm on ``spacing``, or in voxels where
    ``spacing`` is None; InvalidKernel past :data:`MAX_TAPS` taps, before anything is allocated (log:1e6mm ran
    for minutes), naming the axis of the finest spacing that is too long and the largest sigma that fits, in the
    unit given (:func:`_too_many_taps`)."""
    steps = (1.0, 1.0, 1.0) if spacing is None else spacing
    radii = [0, 0, 0]
    for axis in sorted(range(3), key=lambda a: steps[a]):  # (the finest axis first: its bound is the one that holds)
        step = steps[axis]
        sigma = float(sigma_given) / step
        if truncate * sigma > MAX_TAPS:  # before ceil(): 3 * 1e308 is inf, and 1e30 would print a 31-digit size
            raise _too_many_taps(family, sigma_given, sigma, axis, step, truncate, None, spacing is None)
        radii[axis] = radius_for(sigma, truncate)
        if 2 * radii[axis] + 1 > MAX_TAPS:
            raise _too_many_taps(family, sigma_given, sigma, axis, step, truncate, 2 * radii[axis] + 1, spacing is None)
    return radii


def _too_many_taps(family: str, sigma_given: float, sigma: float, axis: int, step: float, truncate: float,
                   taps: int | None, in_voxels: bool) -> InvalidKernel:
    """The refusal of a kernel of ``taps`` taps (None: too many to count) past :data:`MAX_TAPS`, with the largest
    sigma that fits, ``MAX_TAPS // 2 / truncate * step``, rounded down (:func:`_at_most`: 166.7 would not fit).

    >>> str(_too_many_taps("gaussian", 170, 170.0, 0, 1.0, 3.0, 1021, True))
    'gaussian: sigma 170 voxels, a kernel of 1021 taps along every axis, more than 1001 (sigma at most 166.6 voxels)'
    """
    # a fwhm: kernel is refused in the FWHM it was given in (its sigma beside it), not in a sigma the user never typed
    width, per = ("FWHM", FWHM_PER_SIGMA) if family == "fwhm" else ("sigma", 1.0)
    bound = _at_most(MAX_TAPS // 2 / truncate * step * per)
    said = f"FWHM {sigma_given * per:g} {{unit}} (sigma {sigma_given:g})" if per != 1.0 else f"sigma {sigma_given:g} {{unit}}"
    if in_voxels:
        given, along, most = f"{family}: {said.format(unit='voxels')}", " along every axis", f"{width} at most {bound} voxels"
    else:
        given = f"{family}: {said.format(unit='mm')} is {sigma:.4g} voxels along {AXES[axis]} (spacing {step:g} mm)"
        along, most = "", f"{width} at most {bound} mm here"
    if taps is None:
        return InvalidKernel(f"{given}: a kernel of more than {MAX_TAPS} taps{along} ({most})")
    return InvalidKernel(f"{given}, a kernel of {taps} taps{along}, more than {MAX_TAPS} ({most})")


def _at_most(value: float) -> str:
    """``value`` to four significant digits, rounded down: a bound that fits.

    >>> _at_most(500 / 3), _at_most(125.0), _at_most(500 / 3 * 0.5)
    ('166.6', '125', '83.33')
    """
    scale = 10.0 ** (3 - math.floor(math.log10(value)))
    return f"{math.floor(value * scale * (1 + 1e-12)) / scale:g}"  # (the 1e-12: 125 computed as 124.99999999999999)


def gaussian_mm(sigma_mm: float, spacing: Sequence[float], *, truncate: float = TRUNCATE, fwhm: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 1-D Gaussian per axis (z, y, x) for a standard deviation of ``sigma_mm`` millimetres.

    Per axis: ``sigma_vox = sigma_mm / spacing``, radius ``ceil(truncate * sigma_vox)`` voxels
    (:func:`radius_for`; ``truncate = 3``: the catalogue's ``gaussian:SIGMA`` rule), weights
    sampled and normalised to sum 1.  Equals ``scipy.ndimage.gaussian_filter(x,
    sigma=sigma_mm/spacing, radius=radius_for(sigma_mm/spacing))`` (same weights, same support).

    ``fwhm=True``: ``sigma_mm`` is the full width at half maximum in mm, not a sigma: the Gaussian of sigma
    ``sigma_mm / FWHM_PER_SIGMA`` (about FWHM / 2.3548), as the volume ``--kernel fwhm:4mm``; a refusal names the
    FWHM given.  ``fwhm`` must be True or False (``"no"`` is refused, not read as true).

    >>> [len(k) for k in gaussian_mm(2.0, (1.0, 0.8, 0.8))]
    [13, 17, 17]
    >>> [len(k) for k in gaussian_mm(4.0, (1.0, 1.0, 1.0), fwhm=True)]  # sigma 1.699 mm
    [13, 13, 13]
    """
    return _given_width(sigma_mm, spacing, truncate, flag("fwhm", fwhm))


def _given_width(size: Any, spacing: Sequence[float] | None, truncate: Any, fwhm: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gaussian_sigma` of a ``size`` given as a sigma, or as a FWHM where ``fwhm`` (checked as given first:
    a refusal names the FWHM typed, not the sigma it divides to)."""
    unit = "mm" if spacing is not None else "voxels"
    if not fwhm:
        return gaussian_sigma(size, spacing, truncate)
    check_sigma_truncate("fwhm", size, truncate, unit, width="FWHM")
    return gaussian_sigma(float(size) / FWHM_PER_SIGMA, spacing, truncate, given_as_fwhm=True)


def gaussian_sigma(sigma: float, spacing: Sequence[float] | None, truncate: float = TRUNCATE, *,
                   given_as_fwhm: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gaussian_mm` on ``spacing``, or :func:`gaussian_vox` where it is None, of a ``sigma`` that is always a
    sigma; ``given_as_fwhm``: the caller was given its FWHM (the volume grammar's ``fwhm:4mm``, already divided by
    :data:`FWHM_PER_SIGMA`), so a refusal says it in FWHM.

    >>> [len(k) for k in gaussian_sigma(4.0 / FWHM_PER_SIGMA, None, given_as_fwhm=True)]
    [13, 13, 13]
    """
    check_sigma_truncate("gaussian", sigma, truncate, "mm" if spacing is not None else "voxels")
    steps = (1.0, 1.0, 1.0) if spacing is None else check_spacing(spacing)
    radii = _radii("fwhm" if given_as_fwhm else "gaussian", sigma, None if spacing is None else steps, truncate)
    z, y, x = (gaussian_1d(float(sigma) / step, radius) for step, radius in zip(steps, radii))
    return z, y, x


def box_mm(width_mm: float, spacing: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 1-D box (mean) kernel per axis (z, y, x) covering ``width_mm`` millimetres.

    Per axis a voxel is in the box when its centre lies within ``width_mm / 2`` of the
    target's centre (fslmaths ``-kernel box``: "all voxels in a cube of width X mm centred on
    the target voxel"): radius ``floor(width_mm / 2 / spacing)`` voxels, side ``2*radius+1``,
    every weight ``1/side``.  A width below one voxel leaves that axis untouched.

    >>> [len(k) for k in box_mm(5.0, (1.0, 0.8, 0.8))]
    [5, 7, 7]
    """
    if not (isinstance(width_mm, numbers.Real) and math.isfinite(width_mm) and width_mm > 0):
        raise InvalidKernel(f"box: width {width_mm!r} mm must be a positive finite number")
    kernels = []
    for axis, step in enumerate(check_spacing(spacing)):
        # the tiny allowance keeps 5mm on 1.25mm voxels at radius 2, not 1.999... -> 1
        radius = math.floor(float(width_mm) / 2 / step + 1e-9)
        side = 2 * radius + 1
        if side > MAX_TAPS:
            raise InvalidKernel(f"box: {width_mm:g} mm is {side} voxels along {AXES[axis]} (spacing {step:g} mm), more than {MAX_TAPS}")
        kernels.append(_full(side, 1.0 / side))
    return kernels[0], kernels[1], kernels[2]


def gaussian_vox(sigma: float, *, truncate: float = TRUNCATE, fwhm: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gaussian_mm` with sigma in voxels (spacing 1 on every axis), refused in voxels; ``fwhm=True``:
    ``sigma`` is a FWHM in voxels, as in :func:`gaussian_mm`.

    >>> len(gaussian_vox(2.0)[0]), len(gaussian_vox(4.0, fwhm=True)[0])
    (13, 13)
    """
    return _given_width(sigma, None, truncate, flag("fwhm", fwhm))


def box_vox(side: int) -> tuple[Any, Any, Any]:
    """One 1-D box (mean) kernel of ``side`` voxels per axis.

    >>> [len(k) for k in box_vox(3)]
    [3, 3, 3]
    """
    if isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= MAX_TAPS:
        raise InvalidKernel(f"box: {side!r} voxels must be a whole number from 1 to {MAX_TAPS}")
    return (_full(side, 1.0 / side),) * 3  # type: ignore[return-value]


# ---------------------------------------------------------------- named 3-D kernels


@record(frozen=True)
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
        import numpy as np

        kz, ky, kx = (np.asarray(f, dtype=np.float64) for f in self.factors)
        return np.einsum("a,b,c->abc", kz, ky, kx).astype(dtype, copy=False)

    @property
    def sum(self) -> float:
        """Sum of the weights (1 for smoothing kernels, 0 for derivatives)."""
        return float(math.prod(math.fsum(f) for f in self.factors))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the shape of a future ``"dims": 3`` catalogue entry)."""
        return {
            "name": self.name, "dims": 3, "shape": list(self.shape), "sum": self.sum, "separable": True,
            "factors": [list(f) for f in self.factors], "description": self.description, "source": self.source,
        }


def _load_named_3d() -> dict[str, Kernel3D]:
    """The named 3-D kernels of ``kernels/3d/*.json`` (and their aliases), by name."""
    found: dict[str, Kernel3D] = {}
    for path in sorted((catalog_dir() / "3d").glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["kernels"]:
            factors = tuple(tuple(float(v) for v in f) for f in entry["factors"])
            if len(factors) != 3 or not all(factors):
                raise InvalidKernel(f"{path}: {entry.get('name')!r}: expected three non-empty factors (z, y, x)")
            kernel = Kernel3D(entry["name"], factors, entry["description"], entry["source"])  # type: ignore[arg-type]
            for name in (entry["name"], *entry.get("aliases", ())):
                found[name] = kernel
    return found


#: Named 3-D kernels (``sobel_3d_x`` is ``sobel_3d``), read from ``kernels/3d/``.
KERNELS_3D: dict[str, Kernel3D] = _load_named_3d()


def kernel_3d(name: str) -> Kernel3D:
    """Return a named 3-D kernel (``box_3d``, ``gaussian_3d``, ``sobel_3d``, ``sobel_3d_y``, ``sobel_3d_z``).

    >>> kernel_3d("sobel_3d").factors[2]
    (1.0, 0.0, -1.0)
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in KERNELS_3D:
        raise KernelNotFound(f"{name!r} is not a 3-D kernel: expected one of {', '.join(sorted(KERNELS_3D))}")
    return KERNELS_3D[key]


# ---------------------------------------------------------------- derivatives in millimetres


def central_difference_mm(step: float) -> np.ndarray:
    """``[-1, 0, 1] / (2 step)``: the central difference in units per mm on voxels ``step`` mm apart.

    >>> central_difference_mm(0.5).tolist()
    [-1.0, 0.0, 1.0]
    """
    import numpy as np

    return np.array([-1.0, 0.0, 1.0]) / (2 * step)


def sobel_mm_factors(axis: int, spacing: Sequence[float]) -> list[np.ndarray]:
    """The Sobel derivative along ``axis`` in units per mm: :func:`central_difference_mm` along it,
    ``[1, 2, 1] / 4`` along the other two (one factor per axis, z, y, x).

    >>> [f.tolist() for f in sobel_mm_factors(0, (2.0, 1.0, 1.0))][0]
    [-0.25, 0.0, 0.25]
    """
    import numpy as np

    steps = check_spacing(spacing)
    factors = [np.array([1.0, 2.0, 1.0]) / 4 for _ in range(3)]
    factors[axis] = central_difference_mm(steps[axis])
    return factors


def gaussian_second_derivative_1d(sigma: float, radius: int) -> np.ndarray:
    """Weights of the Gaussian's second derivative at -radius..radius: ``(x^2/sigma^4 - 1/sigma^2) * g(x)``,
    with g normalised to sum 1 (scipy.ndimage's ``_gaussian_kernel1d(sigma, 2, radius)``).

    >>> round(float(gaussian_second_derivative_1d(1.0, 4).sum()), 3)
    -0.0
    """
    import numpy as np

    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = gaussian_1d(sigma, radius)
    s = np.float64(sigma)  # a tiny sigma gives inf or NaN weights (refused by the caller), not ZeroDivisionError
    with np.errstate(all="ignore"):
        return (x * x / s**4 - 1 / s**2) * g


def laplacian_of_gaussian_factors(sigma_mm: float, spacing: Sequence[float] | None, truncate: float = 4.0) -> list[list[np.ndarray]]:
    """The Laplacian of Gaussian as three separable terms, one per axis a: the Gaussian's second
    derivative along a (sigma_a = sigma_mm / spacing_a voxels, radius ``ceil(truncate * sigma_a)``)
    divided by spacing_a^2, the Gaussian along the other axes.  Their sum is the LoG in units per mm^2;
    ``spacing`` None: sigma in voxels (spacing 1 on every axis, units per voxel^2), so named in refusals.

    >>> [len(f) for f in laplacian_of_gaussian_factors(1.0, (2.0, 1.0, 1.0))[0]]
    [5, 9, 9]
    """
    import numpy as np

    check_sigma_truncate("log", sigma_mm, truncate, "mm" if spacing is not None else "voxels")
    steps = (1.0, 1.0, 1.0) if spacing is None else check_spacing(spacing)
    sigmas = [float(sigma_mm) / s for s in steps]
    radii = _radii("log", sigma_mm, None if spacing is None else steps, truncate)
    smooth = [gaussian_1d(s, r) for s, r in zip(sigmas, radii)]
    terms = []
    for axis in range(3):
        factors = list(smooth)
        with np.errstate(over="ignore"):
            factors[axis] = gaussian_second_derivative_1d(sigmas[axis], radii[axis]) / steps[axis] ** 2
        if not np.isfinite(factors[axis]).all():  # x^2/sigma^4 overflows below about 1e-77 voxels
            given = f"{sigma_mm:g} voxels" if spacing is None else \
                f"{sigma_mm:g} mm is {sigmas[axis]:.4g} voxels along {AXES[axis]} (spacing {steps[axis]:g} mm)"
            raise InvalidKernel(f"log: sigma {given}: too small, its weights (x^2/sigma^4 - 1/sigma^2 times "
                                f"the Gaussian) overflow float64")
        terms.append(factors)
    return terms
