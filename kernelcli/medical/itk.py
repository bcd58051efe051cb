"""NRRD and MetaImage inputs (``.nrrd``, ``.nhdr``, ``.mha``, ``.mhd``) through SimpleITK.

SimpleITK is optional (``pip install 'kernelcli[itk]'``); without it these inputs fail with
exit 2 naming that command.  ITK gives an origin, a spacing and a direction matrix in LPS+
(DICOM's patient coordinates); the NIfTI affine is ``diag(-1, -1, 1) @ [direction * spacing |
origin]``, exactly what SimpleITK's own NIfTI writer stores, so a result overlays the input.
A 4-D image (an ITK image of dimension 4, or a 3-D vector image is refused) is read whole or
one volume with ``volume=N``, as NIfTI.

Example
-------
>>> itk_affine((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), (2.0, 2.0, 3.0), (10.0, 20.0, 30.0))[:3].tolist()
[[-2.0, 0.0, 0.0, -10.0], [0.0, -2.0, 0.0, -20.0], [0.0, 0.0, 3.0, 30.0]]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ImageReadError, MissingExtra, UsageError
from .volume import Volume

ITK_HINT = "pip install 'kernelcli[itk]'"


def itk_affine(direction: Sequence[float], spacing: Sequence[float], origin: Sequence[float]) -> np.ndarray:
    """The NIfTI (RAS+) affine of an ITK image's first three axes (direction row-major, LPS+)."""
    n = int(round(len(direction) ** 0.5))
    d = np.asarray(direction, dtype=np.float64).reshape(n, n)[:3, :3]
    lps = np.eye(4)
    lps[:3, :3] = d @ np.diag(np.asarray(spacing, dtype=np.float64)[:3])
    lps[:3, 3] = np.asarray(origin, dtype=np.float64)[:3]
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def read_itk(path: str | os.PathLike, *, volume: int | None = None) -> Volume:
    """Read an NRRD or MetaImage file as a (Z, Y, X) or (T, Z, Y, X) :class:`Volume` through SimpleITK."""
    try:
        import SimpleITK as sitk
    except ImportError:
        raise MissingExtra(f"{path}: reading .nrrd/.mha/.mhd needs SimpleITK, which is not installed: {ITK_HINT}") from None
    p = Path(path)
    try:
        img = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise ImageReadError(f"{p}: not a readable {p.suffix} image: {reason}") from None
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise ImageReadError(f"{p}: {img.GetNumberOfComponentsPerPixel()} components per voxel (a vector or colour image); expected a scalar volume")
    dim = img.GetDimension()
    if dim not in (2, 3, 4):
        raise ImageReadError(f"{p}: {dim}-D image; expected 3-D or 4-D")
    data = sitk.GetArrayViewFromImage(img)  # (Z, Y, X) or (T, Z, Y, X); a view, copied below
    notes: list[str] = []
    if dim == 4:
        if volume is not None:
            if not 0 <= volume < data.shape[0]:
                raise UsageError(f"{p}: --volume {volume}: the file holds {data.shape[0]} volume(s), indices 0 to {data.shape[0] - 1}")
            data = data[volume]
        elif data.shape[0] > 1:
            notes.append(f"{p.name}: 4-D, {data.shape[0]} volumes: each is filtered (--volume N takes one)")
        else:
            data = data[0]
    elif volume is not None:
        raise UsageError(f"{p}: --volume {volume}: the file is {dim}-D, not 4-D")
    arr = np.array(data)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: voxel type {arr.dtype} is not real numbers; expected a scalar volume")
    spacing = tuple(float(s) for s in img.GetSpacing()) + (1.0,) * max(0, 3 - dim)
    direction = img.GetDirection()
    origin = tuple(img.GetOrigin()) + (0.0,) * max(0, 3 - dim)
    if dim == 2:
        direction = (direction[0], direction[1], 0.0, direction[2], direction[3], 0.0, 0.0, 0.0, 1.0)
    return Volume(
        data=arr, spacing=(spacing[2], spacing[1], spacing[0]), affine=itk_affine(direction, spacing, origin), path=p,
        format={".nrrd": "NRRD", ".nhdr": "NRRD", ".mha": "MetaImage", ".mhd": "MetaImage"}.get(p.suffix.lower(), "ITK"),
        notes=notes, stored_dtype=arr.dtype,
    )
