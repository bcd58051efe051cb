"""The volume ``--kernel`` grammar: ``gaussian:1.5mm``, ``box:5mm``, ``fwhm:4mm``, ``gaussian:2vox``, ``log:2mm``,
``gradient``, ``sobel_mm``, a named 3-D kernel or the 2-D catalogue's, resolved into a :class:`VolumeKernel` whose
factors :mod:`kernelcli.kernel_build` builds (documented in :mod:`kernelcli.medical.kernels`, which passes it the
2-D catalogue).  Split from :mod:`kernelcli.kernel_build`.

>>> kernel = resolve_volume_kernel("fwhm:4mm"); kernel.kind, round(kernel.size, 4)
('gaussian_mm', 1.6986)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from . import numtext
from .errors import InvalidKernel, KernelNotFound, UsageError
from .kernel_build import (
    FWHM_PER_SIGMA, KERNELS_3D, LOG_TRUNCATE, MAX_TAPS, TRUNCATE, Kernel3D, box_mm, box_vox, gaussian_sigma,
)
from .records import record


#: a size in mm or voxels; its number is written as every number is (numtext: a sign, a point, an exponent)
_SIZE_SPEC = re.compile(rf"\s*(gaussian|box|fwhm|log)\s*:\s*({numtext.DECIMAL})\s*(mm|vox)\s*", re.IGNORECASE)


#: volume kinds whose weights sum to 1: results stay in the input's units (HU)
SMOOTHING = ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox")


#: volume kinds that are derivatives (never renormalised as smoothing; log_vox is in voxels, the others in mm)
DERIVATIVES = ("gradient", "sobel_mm", "log_mm", "log_vox")


@record(frozen=True)
class VolumeKernel:
    """A volume ``--kernel`` spec, resolved (see :func:`resolve_volume_kernel`).

    ``kind``: ``gaussian_mm``/``box_mm`` (size in mm, resolved with the spacing),
    ``gaussian_vox``/``box_vox`` (size in voxels), ``gradient``, ``sobel_mm``, ``log_mm``/``log_vox``
    (derivatives), ``3d`` (a named 3-D kernel), ``dense3d`` (a kernel file of (z, y, x) taps) or ``2d`` (a catalogue
    kernel, slice by slice).
    ``size`` is sigma (Gaussians, also when given as FWHM), the width (box) or 0.
    """

    name: str
    kind: str
    size: float = 0.0
    kernel: Any = None

    @property
    def keeps_units(self) -> bool:
        """True when the weights sum to 1 (smoothing): results stay in the input's units (HU)."""
        if self.kind in SMOOTHING:
            return True
        if self.kind in DERIVATIVES:
            return False
        return abs(float(self.kernel.sum) - 1.0) < 1e-9

    @property
    def default_truncate(self) -> float | None:
        """The cut, in sigmas, this kernel takes without ``--truncate``: 3, 4 for ``log:``; None where it is no Gaussian.

        >>> VolumeKernel("gaussian:2mm", "gaussian_mm", 2).default_truncate, VolumeKernel("log:2mm", "log_mm", 2).default_truncate
        (3.0, 4.0)
        """
        if self.kind in ("log_mm", "log_vox"):
            return LOG_TRUNCATE
        return TRUNCATE if self.kind in ("gaussian_mm", "gaussian_vox") else None

    def result_units(self, units: str | None) -> str | None:
        """The units of this kernel's result on a volume in ``units`` (a record's ``units``): as they are for a
        smoothing, per mm for a gradient, per mm^2 (voxel^2) for a Laplacian of Gaussian, None for other weights (a
        Sobel's response is in no unit): every record said HU.

        >>> VolumeKernel("gradient", "gradient").result_units("HU"), VolumeKernel("log:2mm", "log_mm", 2).result_units("HU")
        ('HU/mm', 'HU/mm^2')
        """
        if units is None or self.keeps_units:
            return units
        per = {"gradient": "/mm", "sobel_mm": "/mm", "log_mm": "/mm^2", "log_vox": "/voxel^2"}.get(self.kind)
        return units + per if per else None

    def factors(self, spacing: tuple[float, float, float], truncate: float | None = None) -> tuple[Any, Any, Any]:
        """One 1-D kernel per axis (z, y, x) for the separable kinds.

        >>> [len(f) for f in VolumeKernel("box:3vox", "box_vox", 3).factors((1.0, 1.0, 1.0))]
        [3, 3, 3]
        """
        t = TRUNCATE if truncate is None else truncate
        if self.kind in ("gaussian_mm", "gaussian_vox"):  # size is the sigma, also of fwhm:4mm (refused in its FWHM)
            return gaussian_sigma(self.size, spacing if self.kind == "gaussian_mm" else None, t,
                                  given_as_fwhm=self.name.startswith("fwhm"))
        if self.kind == "box_mm":
            return box_mm(self.size, spacing)
        if self.kind == "box_vox":
            return box_vox(int(self.size))
        if self.kind == "3d":
            import numpy as np

            return tuple(np.asarray(f, dtype=np.float64) for f in self.kernel.factors)  # type: ignore[return-value]
        raise AssertionError(self.kind)


def voxel_kernel(spec: str) -> Kernel3D | None:
    """A Gaussian or box sized in voxels (``gaussian:2vox``, ``fwhm:4vox``, ``box:3vox``) as the separable 3-D kernel
    a volume applies without ``--axis`` or ``--truncate`` (no spacing needed), or None for any other spec; a size
    in voxels it cannot build (``box:2vox``) is InvalidKernel.

    >>> voxel_kernel("box:3vox").shape, voxel_kernel("gaussian:1.5mm")
    ((3, 3, 3), None)
    """
    if not _SIZE_SPEC.fullmatch(str(spec)):
        return None
    kernel = resolve_volume_kernel(spec)
    if kernel.kind not in ("gaussian_vox", "box_vox"):
        return None
    factors = tuple(tuple(float(v) for v in f) for f in kernel.factors((1.0, 1.0, 1.0)))
    if kernel.kind == "box_vox":
        side = int(kernel.size)
        what = f"box (mean) of {side} voxels along every axis: every weight 1/{side ** 3}"
    else:
        fwhm = kernel.size * FWHM_PER_SIGMA
        width = f"FWHM {fwhm:g} voxel{'s' * (fwhm != 1)} (sigma {kernel.size:.6g})" if kernel.name.startswith("fwhm") \
            else f"sigma {kernel.size:g} voxel{'s' * (kernel.size != 1)}"
        what = f"Gaussian of {width} along every axis, cut at {TRUNCATE:g} sigma (--truncate T: ceil(T*sigma) voxels a side)"
    source = "built from its size in voxels, on any grid (--axis leaves one axis out)"
    return Kernel3D(kernel.name, factors, what, source)  # type: ignore[arg-type]


#: the volume grammar's names of the gradient magnitude (Gaussian derivatives) and of the Sobel one in mm
GRADIENT_NAMES = ("gradient", "gradient_magnitude", "gradmag")


SOBEL_MM_NAMES = ("sobel_mm", "sobel_magnitude")


def volume_kernel_names() -> frozenset[str]:
    """The names the volume grammar takes before any catalogue kernel (a catalogue kernel of one is never reached).

    >>> sorted(volume_kernel_names())[:3]
    ['box_3d', 'gaussian_3d', 'gradient']
    """
    return frozenset(KERNELS_3D) | frozenset(GRADIENT_NAMES) | frozenset(SOBEL_MM_NAMES)


def volume_kernel_advice(spec: str) -> str:
    """Where the Python API builds (or applies) the volume kernel ``spec`` names, from :mod:`kernelcli.volumes`
    (``kernel_3d``, ``gaussian_mm``...) or :mod:`kernelcli.volume_filters` (the gradient and LoG filters).

    >>> volume_kernel_advice("fwhm:4mm"), volume_kernel_advice("box:3vox")
    ('gaussian_mm(4, spacing, fwhm=True) (correlate_separable; from kernelcli.volumes)', 'box_vox(3) (correlate_separable; from kernelcli.kernel_build)')
    """
    key = spec.strip().lower().replace("-", "_")
    if key in GRADIENT_NAMES or key in SOBEL_MM_NAMES:
        name = "gradient_magnitude" if key in GRADIENT_NAMES else "sobel_magnitude"
        return f"{name}(vol, spacing) (from kernelcli.volume_filters)"
    sized = re.fullmatch(r"(gaussian|box|fwhm|log)\s*:\s*([0-9.eE+-]+)\s*(mm|vox)", key)
    if sized is None:
        return f"kernel_3d({key!r}) (conv3d; from kernelcli.volumes)" if key in volume_kernel_names() else \
            "gaussian_mm(SIGMA, spacing) (fwhm=True for a FWHM) or box_mm(WIDTH, spacing) (correlate_separable; from kernelcli.volumes)"
    family, size, unit = sized.groups()
    if family == "log":
        return f"laplacian_of_gaussian(vol, {size}, {'spacing' if unit == 'mm' else 'None'}) (from kernelcli.volume_filters)"
    if family == "box":
        return f"box_mm({size}, spacing) (correlate_separable; from kernelcli.volumes)" if unit == "mm" else \
            f"box_vox({size}) (correlate_separable; from kernelcli.kernel_build)"
    fwhm = ", fwhm=True" if family == "fwhm" else ""
    built = f"gaussian_mm({size}, spacing{fwhm})" if unit == "mm" else f"gaussian_vox({size}{fwhm})"
    return f"{built} (correlate_separable; from kernelcli.volumes)"


def resolve_volume_kernel(spec: str, catalogue: Callable[[str], Any] | None = None) -> VolumeKernel:
    """Turn a volume ``--kernel`` spec into a :class:`VolumeKernel`; errors are InvalidKernel (a pooling step: UsageError).

    The grammar is that of :mod:`kernelcli.medical.kernels`.  A spec outside it is a 2-D kernel
    applied slice by slice, looked up with ``catalogue`` (a name or file -> kernel function:
    :func:`kernelcli.catalog.load_kernel`, which reads files, so it is passed in); without one
    such a spec is KernelNotFound.

    >>> resolve_volume_kernel("gaussian:1.5mm").kind, resolve_volume_kernel("box_3d").kind
    ('gaussian_mm', '3d')
    """
    text = str(spec).strip()
    shown = numtext.clipped(text, 120)  # (a 4300-digit size was quoted whole)
    match = _SIZE_SPEC.fullmatch(text)
    if match:
        family, number, unit = match.group(1).lower(), numtext.decimal(match.group(2)), match.group(3).lower()
        if number is None or not (math.isfinite(number) and number > 0):  # (None: past numtext.MAX_CHARS digits)
            raise InvalidKernel(f"{shown}: the size must be a positive finite number")
        name = f"{family}:{numtext.shortest(number)}{unit}"  # by its value, as an image kernel: box:3.0vox is box:3vox
        if family == "box" and unit == "vox":
            if numtext.exact_whole(match.group(2)) is None or not 1 <= number <= MAX_TAPS:  # (3.0000000000000001 is not 3)
                raise InvalidKernel(f"{shown}: a box in voxels needs an odd whole number of voxels from 1 to {MAX_TAPS}")
            if number % 2 == 0:  # a box in mm is odd by its rule (FSL's): centred on its voxel
                raise InvalidKernel(f"{shown}: a box in voxels needs an odd number of voxels, a centre voxel: an even box's "
                                    f"result sits half a voxel off the volume's grid; give box:{int(number) - 1}vox or "
                                    f"box:{int(number) + 1}vox")
        if family == "fwhm":
            return VolumeKernel(name=name, kind=f"gaussian_{unit}", size=number / FWHM_PER_SIGMA)
        return VolumeKernel(name=name, kind=f"{family}_{unit}", size=number)
    key = text.lower().replace("-", "_")
    if key in GRADIENT_NAMES:
        return VolumeKernel(name="gradient", kind="gradient")
    if key in SOBEL_MM_NAMES:
        return VolumeKernel(name="sobel_mm", kind="sobel_mm")
    if key in KERNELS_3D:
        k3 = KERNELS_3D[key]
        return VolumeKernel(name=k3.name if key != "sobel_3d_x" else key, kind="3d", kernel=k3)
    # (blanks about the colon as an image's gaussian:SIGMA takes them: 'box: 3' was "expected a size in mm or voxels")
    if re.fullmatch(r"(gaussian|box|fwhm|log)\s*:.*", text, re.IGNORECASE) and not re.fullmatch(r"(gaussian|box)\s*:\s*[0-9.e+-]+", text, re.IGNORECASE):
        raise InvalidKernel(
            f"{numtext.quoted(text, 120)}: expected a size in mm or voxels such as gaussian:1.5mm, fwhm:4mm, box:5mm, log:2mm or gaussian:2vox"
        )
    from .modes import is_pool_step, misspelt_pool_step

    pooling = UsageError(f"{text}: a pooling step works on images and arrays; a volume is pooled in 3-D by "
                         f"`kernelcli pool VOLUME --size F` (as max_pool3d)")
    if is_pool_step(text):  # (a --kernel of images and arrays: a chain of one step)
        raise pooling
    if catalogue is None:
        raise KernelNotFound(f"{text!r} is not a volume kernel (gaussian:1.5mm, box_3d, gradient...) and no 2-D catalogue was given")
    try:
        found = catalogue(text)
    except InvalidKernel:  # (one misspelt, maxpool2, was told the image's form, maxpool:2, which a volume then refused)
        if misspelt_pool_step(text) is None:
            raise
        raise pooling from None
    shape = tuple(int(n) for n in found.shape)
    if any(n % 2 == 0 for n in shape):  # 'same' pads an even side's extra tap after: the result moves half a voxel
        what = "(z, y, x)" if len(shape) == 3 else "(applied to each slice)"
        odd = re.fullmatch(r"box\s*:\s*([0-9]+)", text, re.IGNORECASE)
        instead = (f"give box:{int(odd.group(1)) - 1} or box:{int(odd.group(1)) + 1}" if odd else "give a kernel of odd sides")
        raise InvalidKernel(f"{text}: a {'x'.join(map(str, shape))} kernel {what}; a volume's kernel needs an odd size on "
                            f"every axis, a centre voxel: an even side's result sits half a voxel off the grid; {instead}")
    if len(shape) == 3:  # a kernel file of (z, y, x) taps, as the volume's own axes
        return VolumeKernel(name=found.name, kind="dense3d", kernel=found)
    return VolumeKernel(name=found.name, kind="2d", kernel=found)
