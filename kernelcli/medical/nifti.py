"""NIfTI in and out: (i, j, k) on disk, (Z, Y, X) in memory, the header kept.

Example
-------
>>> from nibabel.testing import data_path                          # doctest: +SKIP
>>> read_nifti(data_path / "example4d.nii.gz").data.shape          # doctest: +SKIP
(24, 96, 128)
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InputError, WriteError
from ..volume_inputs import volume_suffix
from .volume import Volume, require as _require

#: gzip level for .nii.gz outputs: nibabel's own default, fast on large volumes
GZIP_LEVEL = 1

_NIFTI_UNITS_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}


def read_nifti(path: str | os.PathLike) -> Volume:
    """Read a NIfTI-1/2 file (``.nii`` or ``.nii.gz``) as a (Z, Y, X) volume; 4-D gives the first volume.

    >>> from nibabel.testing import data_path                          # doctest: +SKIP
    >>> read_nifti(data_path / "example4d.nii.gz").notes[0]            # doctest: +SKIP
    'example4d.nii.gz: 4-D (128x96x24x2), 2 volumes; using the first (index 0)'
    """
    nib = _require("nibabel", "NIfTI")
    p = Path(path)
    try:
        img = nib.load(str(p))
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except Exception as exc:  # nibabel raises ImageFileError, HeaderDataError, OSError, EOFError...
        raise ImageReadError(f"{p}: not a readable NIfTI file: {exc}") from None
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ImageReadError(f"{p}: {type(img).__name__} is not NIfTI-1 or NIfTI-2")
    notes: list[str] = []
    shape = tuple(int(n) for n in img.shape)
    if len(shape) < 2:
        raise ImageReadError(f"{p}: {len(shape)}-D image (shape {shape}); expected a 3-D volume")
    index: tuple[Any, ...]
    if len(shape) > 3:
        extra = math.prod(shape[3:])
        index = (slice(None),) * 3 + (0,) * (len(shape) - 3)
        if extra > 1:
            notes.append(f"{p.name}: {len(shape)}-D ({'x'.join(map(str, shape))}), {extra} volumes; using the first (index 0)")
    else:
        index = (Ellipsis,)
    try:
        data = np.asarray(img.dataobj[index])
    except Exception as exc:  # truncated or corrupt data: EOFError, OSError, zlib.error, ValueError
        raise ImageReadError(f"{p}: cannot read the voxel data: {exc}") from None
    if data.ndim == 2:
        data = data[:, :, np.newaxis]
    if data.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: voxel type {img.get_data_dtype()} is not real numbers (RGB or complex); expected a scalar volume")
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    header = img.header
    unit = header.get_xyzt_units()[0]
    factor = _NIFTI_UNITS_MM.get(unit, 1.0)
    if unit not in _NIFTI_UNITS_MM:
        notes.append(f"{p.name}: the header does not say the spatial unit; assuming millimetres")
    # str() of a float32 is its shortest decimal form: 0.8, not 0.800000011920929
    zooms = [float(str(np.float32(v))) * factor for v in header.get_zooms()[:3]] + [1.0] * (3 - min(3, len(header.get_zooms())))
    spacing = []
    for axis, size in zip("xyz", zooms):
        if not (math.isfinite(size) and size > 0):
            notes.append(f"{p.name}: voxel size {size:g} along {axis} in the header; assuming 1 mm")
            size = 1.0
        spacing.append(size)
    return Volume(
        data=data.transpose(2, 1, 0),  # (i, j, k) -> (k, j, i); Fortran order on disk makes this C-contiguous
        spacing=(spacing[2], spacing[1], spacing[0]),
        affine=np.asarray(img.affine, dtype=np.float64),
        path=p,
        format="NIfTI-2" if isinstance(img, nib.Nifti2Image) else "NIfTI-1",
        header=header,
        image_class=type(img),
        notes=notes,
    )

def write_nifti(out: str | os.PathLike, data: np.ndarray, like: Volume | None = None, *, affine: np.ndarray | None = None, force: bool = False) -> Path:
    """Write a (Z, Y, X) array as NIfTI (``.nii`` or ``.nii.gz``), atomically.

    With ``like`` from a NIfTI input, its header and affine are kept (the dtype, shape and
    scaling updated; ``cal_min``/``cal_max``, which describe the input's display range, are
    cleared), so the result overlays the input in a viewer.  From a DICOM input the affine
    computed from its geometry is used, with qform/sform code 1 (scanner).  ``affine``
    overrides (pooling changes the voxel grid).
    """
    nib = _require("nibabel", "NIfTI")
    from ..io.outputs import atomic_write

    o = Path(out)
    arr = np.asarray(data)
    if arr.ndim != 3:
        raise WriteError(f"{o}: expected a (Z, Y, X) volume, got shape {arr.shape}")
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    xyz = arr.transpose(2, 1, 0)  # back to nibabel's (i, j, k)
    target = affine if affine is not None else (like.affine if like is not None else np.eye(4))
    if like is not None and like.header is not None and like.image_class is not None:
        header = like.header.copy()
        header.set_data_dtype(arr.dtype)
        img = like.image_class(xyz, target, header=header)
        img.header["cal_min"] = 0
        img.header["cal_max"] = 0
    else:
        img = nib.Nifti1Image(xyz, target)
        img.header.set_data_dtype(arr.dtype)
        img.set_qform(target, code=1)
        img.set_sform(target, code=1)
        img.header.set_xyzt_units("mm", "sec")
    img.header.set_slope_inter(1.0, 0.0)

    def write(f: Any) -> None:
        if volume_suffix(o) == ".nii.gz":
            # mtime=0 and no file name: the same volume gives the same bytes on every run
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=GZIP_LEVEL, mtime=0, filename="") as gz:
                holder = nib.FileHolder(fileobj=gz)
                img.to_file_map({"image": holder, "header": holder})
        else:
            holder = nib.FileHolder(fileobj=f)
            img.to_file_map({"image": holder, "header": holder})

    atomic_write(o, write, force=force)
    return o

