"""The 3-D Shepp-Logan head phantom shipped as ``samples/phantom3d.nii.gz``."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .nifti import write_nifti


#: (HU, semi-axes a (x), b (y), c (z), centre x0, y0, z0, angle in degrees about z).  The x-y geometry is
#: Shepp & Logan's (1974) head phantom (as samples/make_samples.py); the z semi-axes and centres follow
#: the 3-D Shepp-Logan ellipsoids of Kak & Slaney (1988, ch. 3) as in M. Schabel's phantom3d (MATLAB File
#: Exchange), the ventricles' tilt out of the x-y plane left out.  Values are HU-like, painted in order.
SHEPP_LOGAN_3D_HU = (
    (800, 0.6900, 0.9200, 0.810, 0.00, 0.0000, 0.00, 0.0),  # skull (bone)
    (40, 0.6624, 0.8740, 0.780, 0.00, -0.0184, 0.00, 0.0),  # brain
    (10, 0.1100, 0.3100, 0.220, 0.22, 0.0000, 0.00, -18.0),  # ventricles (CSF)
    (10, 0.1600, 0.4100, 0.280, -0.22, 0.0000, 0.00, 18.0),
    (25, 0.2100, 0.2500, 0.410, 0.00, 0.3500, -0.15, 0.0),  # hypodense region
    (60, 0.0460, 0.0460, 0.050, 0.00, 0.1000, 0.25, 0.0),  # small dense lesions
    (60, 0.0460, 0.0460, 0.050, 0.00, -0.1000, 0.25, 0.0),
    (75, 0.0460, 0.0230, 0.050, -0.08, -0.6050, 0.00, 0.0),
    (75, 0.0230, 0.0230, 0.020, 0.00, -0.6060, 0.00, 0.0),
    (75, 0.0230, 0.0460, 0.020, 0.06, -0.6050, 0.00, 0.0),
)
AIR_HU = -1000


def shepp_logan_3d(shape: tuple[int, int, int] = (64, 64, 64)) -> np.ndarray:
    """A Shepp-Logan-style head phantom as an int16 (Z, Y, X) volume of HU-like values.

    Air -1000, skull 800, brain 40, ventricles 10, lesions 25-75.  Coordinates span [-1, 1]
    on every axis (row 0 is y = +1, as the 2-D sample); deterministic.

    >>> v = shepp_logan_3d((16, 16, 16)); v.dtype, int(v[8, 8, 8]), int(v[0, 0, 0])
    (dtype('int16'), 40, -1000)
    """
    nz, ny, nx = shape

    def axis(n: int) -> np.ndarray:
        return (np.arange(n) - (n - 1) / 2) / max((n - 1) / 2, 1)

    z = axis(nz)[:, None, None]
    y = -axis(ny)[None, :, None]
    x = axis(nx)[None, None, :]
    vol = np.full(shape, AIR_HU, dtype=np.int16)
    for value, a, b, c, x0, y0, z0, degrees in SHEPP_LOGAN_3D_HU:
        phi = math.radians(degrees)
        cos, sin = math.cos(phi), math.sin(phi)
        dx, dy, dz = x - x0, y - y0, z - z0
        inside = ((dx * cos + dy * sin) / a) ** 2 + ((dy * cos - dx * sin) / b) ** 2 + (dz / c) ** 2 <= 1.0
        vol[inside] = value
    return vol


def write_phantom3d(out: str | os.PathLike, shape: tuple[int, int, int] = (64, 64, 64), spacing: tuple[float, float, float] = (1.0, 0.8, 0.8), *, force: bool = False) -> Path:
    """Write :func:`shepp_logan_3d` as NIfTI with voxel sizes ``spacing`` (dz, dy, dx) mm, centred on the origin.

    The default spacing is anisotropic on purpose, so that kernels in mm differ per axis.
    """
    dz, dy, dx = spacing
    nz, ny, nx = shape
    affine = np.diag([dx, dy, dz, 1.0])
    affine[:3, 3] = [-(nx - 1) / 2 * dx, -(ny - 1) / 2 * dy, -(nz - 1) / 2 * dz]
    return write_nifti(out, shepp_logan_3d(shape), affine=affine, force=force)


