"""``--kernel`` specs for volumes, resolved before any input is read (errors exit 3).

* ``gaussian:SIGMAmm`` / ``gaussian:SIGMAvox``; ``fwhm:Xmm`` / ``fwhm:Xvox`` (the same Gaussian
  given by its full width at half maximum, sigma = FWHM / (2 sqrt(2 ln 2)) = FWHM / 2.3548, as
  SPM and FSL users quote it); the radius is ``ceil(truncate * sigma / spacing)`` voxels;
* ``box:WIDTHmm`` / ``box:Nvox``;
* ``gradient`` -- gradient magnitude in units per mm: central differences divided by twice the
  spacing of each axis (SimpleITK's GradientMagnitude with its image spacing);
* ``sobel_mm`` -- Sobel gradient magnitude in units per mm: each derivative [1, 0, -1] / (2 spacing)
  smoothed [1, 2, 1] / 4 along the other two axes;
* ``log:SIGMAmm`` -- Laplacian of Gaussian in units per mm^2: the sum over axes of the Gaussian's
  second derivative along that axis (sigma / spacing voxels) divided by the spacing squared,
  i.e. ``scipy.ndimage.gaussian_laplace`` with the spacing taken into account;
* named 3-D kernels (``gaussian_3d``, ``box_3d``, ``sobel_3d[_y|_z]``: per voxel), and any 2-D
  catalogue kernel (applied slice by slice).

Example
-------
>>> [resolve_volume_kernel(s).kind for s in ("gaussian:1.5mm", "fwhm:4mm", "gradient", "log:2mm", "sobel_v")]
['gaussian_mm', 'gaussian_mm', 'gradient', 'log_mm', '2d']
>>> round(resolve_volume_kernel("fwhm:4mm").size, 4)
1.6986
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidKernel

from ..kernel_build import FWHM_PER_SIGMA  # noqa: E402, F401  (FWHM = this * sigma for a Gaussian)

_SIZE_SPEC = re.compile(r"\s*(gaussian|box|fwhm|log)\s*:\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(mm|vox)\s*", re.IGNORECASE)
#: kinds whose weights sum to 1: results stay in the input's units (HU)
SMOOTHING = ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox")
#: kinds computed in mm whatever the kernel: derivatives
DERIVATIVES = ("gradient", "sobel_mm", "log_mm", "log_vox")


@dataclass(frozen=True)
class VolumeKernel:
    """A ``--kernel`` spec resolved for volumes.

    ``kind``: ``gaussian_mm``/``box_mm`` (size in mm, resolved with the spacing),
    ``gaussian_vox``/``box_vox`` (size in voxels), ``gradient``, ``sobel_mm``, ``log_mm``/``log_vox``
    (derivatives), ``3d`` (a named 3-D kernel) or ``2d`` (a catalogue kernel, slice by slice).
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

    def factors(self, spacing: tuple[float, float, float], truncate: float | None = None) -> tuple[Any, Any, Any]:
        """One 1-D kernel per axis (z, y, x) for the separable kinds."""
        from .. import kernel_build

        t = kernel_build.TRUNCATE if truncate is None else truncate
        if self.kind == "gaussian_mm":
            return kernel_build.gaussian_mm(self.size, spacing, truncate=t)
        if self.kind == "box_mm":
            return kernel_build.box_mm(self.size, spacing)
        if self.kind == "gaussian_vox":
            return kernel_build.gaussian_vox(self.size, truncate=t)
        if self.kind == "box_vox":
            return kernel_build.box_vox(int(self.size))
        if self.kind == "3d":
            return tuple(np.asarray(f, dtype=np.float64) for f in self.kernel.factors)  # type: ignore[return-value]
        raise AssertionError(self.kind)


def resolve_volume_kernel(spec: str) -> VolumeKernel:
    """Turn a ``--kernel`` spec into a :class:`VolumeKernel` (see the module notes); errors are InvalidKernel.

    >>> resolve_volume_kernel("gaussian:1.5mm").kind, resolve_volume_kernel("box_3d").kind
    ('gaussian_mm', '3d')
    """
    from .. import kernel_build as volumes  # the kernel builder (named 3-D kernels, MAX_TAPS)

    text = str(spec).strip()
    match = _SIZE_SPEC.fullmatch(text)
    if match:
        family, number, unit = match.group(1).lower(), float(match.group(2)), match.group(3).lower()
        if not (math.isfinite(number) and number > 0):
            raise InvalidKernel(f"{text}: the size must be a positive number")
        name = f"{family}:{match.group(2)}{unit}"
        if family == "box" and unit == "vox":
            if not number.is_integer() or not 1 <= number <= volumes.MAX_TAPS:
                raise InvalidKernel(f"{text}: a box in voxels needs a whole number of voxels from 1 to {volumes.MAX_TAPS}")
        if family == "fwhm":
            return VolumeKernel(name=name, kind=f"gaussian_{unit}", size=number / FWHM_PER_SIGMA)
        return VolumeKernel(name=name, kind=f"{family}_{unit}", size=number)
    key = text.lower().replace("-", "_")
    if key in ("gradient", "gradient_magnitude", "gradmag"):
        return VolumeKernel(name="gradient", kind="gradient")
    if key in ("sobel_mm", "sobel_magnitude"):
        return VolumeKernel(name="sobel_mm", kind="sobel_mm")
    if key in volumes.KERNELS_3D:
        k3 = volumes.KERNELS_3D[key]
        return VolumeKernel(name=k3.name if key != "sobel_3d_x" else key, kind="3d", kernel=k3)
    if re.fullmatch(r"(gaussian|box|fwhm|log):.*", text, re.IGNORECASE) and not re.fullmatch(r"(gaussian|box):[0-9.e+-]+", text, re.IGNORECASE):
        raise InvalidKernel(
            f"{text!r}: expected a size in mm or voxels such as gaussian:1.5mm, fwhm:4mm, box:5mm, log:2mm or gaussian:2vox"
        )
    from ..catalog import load_kernel

    k2 = load_kernel(text)
    return VolumeKernel(name=k2.name, kind="2d", kernel=k2)
