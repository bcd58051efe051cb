"""``--kernel`` specs for volumes, resolved before any input is read (errors exit 3).

The grammar is built in :mod:`kernelcli.volume_grammar` (:func:`~kernelcli.volume_grammar.resolve_volume_kernel`,
:class:`~kernelcli.volume_grammar.VolumeKernel`); this module passes it the 2-D catalogue, which
reads kernel files, and keeps the names importable from here.

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
  i.e. ``scipy.ndimage.gaussian_laplace`` with the spacing taken into account and scipy's ``radius=`` given
  as ``ceil(truncate * sigma)`` (scipy's own rounds it: see :func:`kernelcli.volume_filters.laplacian_of_gaussian`);
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

from ..kernel_build import FWHM_PER_SIGMA  # noqa: F401  (built in kernel_build; importable from here)
from ..volume_grammar import (  # noqa: F401  (the grammar's; these names stay importable from here)
    DERIVATIVES,
    SMOOTHING,
    VolumeKernel,
)
from ..volume_grammar import resolve_volume_kernel as _resolve


def resolve_volume_kernel(spec: str) -> VolumeKernel:
    """Turn a ``--kernel`` spec into a :class:`VolumeKernel` (see the module notes); errors are InvalidKernel.

    A spec outside the volume grammar is a 2-D catalogue kernel (or kernel file), applied slice by slice, or a
    file of a 3-D kernel, (z, y, x) taps as the volume's axes, applied in 3-D.

    >>> resolve_volume_kernel("gaussian:1.5mm").kind, resolve_volume_kernel("box_3d").kind
    ('gaussian_mm', '3d')
    """
    from ..catalog import load_kernel

    return _resolve(spec, lambda text: load_kernel(text, max_ndim=3))
