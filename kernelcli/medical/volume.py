"""The :class:`Volume` value every reader returns, and :func:`read_volume`, which picks the reader.

Every volume is a (Z, Y, X) array -- slices, rows, columns -- with ``spacing = (dz, dy, dx)`` in
millimetres and a 4x4 ``affine`` that maps NIfTI voxel indices ``(i, j, k) = (x, y, z)`` to
RAS+ millimetres (nibabel's convention), so a result written as NIfTI overlays its input.

Example
-------
>>> volume_stem("data/ct.nii.gz")
'ct'
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingExtra
from ..images import stat_input
from ..volume_inputs import DICOM_SUFFIXES, NIFTI_SUFFIXES, _has_dicom_magic, volume_suffix

EXTRA_HINT = "pip install 'kernelcli[medical]'"


@dataclass
class Volume:
    """A volume read from a NIfTI or DICOM input, with what is needed to write results like it."""

    data: np.ndarray  # (Z, Y, X)
    spacing: tuple[float, float, float]  # mm per voxel along z, y, x
    affine: np.ndarray  # 4x4, voxel (i=x, j=y, k=z) -> RAS+ mm
    path: Path
    format: str  # "NIfTI-1", "NIfTI-2" or "DICOM"
    header: Any = None  # nibabel header of a NIfTI input (written back with the dtype updated)
    image_class: Any = None  # nibabel image class of a NIfTI input
    modality: str | None = None  # DICOM Modality (CT, MR, ...)
    units: str | None = None  # "HU" for rescaled CT
    window: tuple[float, float] | None = None  # the DICOM file's own WindowCenter/WindowWidth
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- recognising inputs


def volume_stem(path: str | os.PathLike) -> str:
    """The name without a volume suffix: ``ct.nii.gz`` -> ``ct``; a folder keeps its name.

    >>> volume_stem("data/ct.nii.gz")
    'ct'
    """
    p = Path(path)
    suffix = volume_suffix(p)
    name = p.name
    if suffix in NIFTI_SUFFIXES + DICOM_SUFFIXES:
        return name[: len(name) - len(suffix)] or "volume"
    return name or "volume"



def require(module: str, what: str) -> Any:
    """Import an optional dependency or raise MissingExtra naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"reading and writing {what} needs {module}, which is not installed: {EXTRA_HINT}") from None


# ---------------------------------------------------------------- reading


def read_volume(path: str | os.PathLike) -> Volume:
    """Read a NIfTI file, a DICOM file or a DICOM series folder into a :class:`Volume`.

    Raises
    ------
    InputError
        A missing path, or a path that is neither a file nor a folder.
    ImageReadError
        Content that cannot be read (with the file name and the reason).
    MissingExtra
        pydicom/nibabel, or the decoder for a compressed DICOM, is not installed.
    """
    p = Path(path)
    from .dicom import read_dicom
    from .nifti import read_nifti

    st = stat_input(p, "no such file or folder")
    if stat.S_ISDIR(st.st_mode):
        return read_dicom(p)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: not a regular file or folder (a device, pipe or socket)")
    if volume_suffix(p) in NIFTI_SUFFIXES:
        return read_nifti(p)
    if volume_suffix(p) in DICOM_SUFFIXES or _has_dicom_magic(p):
        return read_dicom(p)
    raise InputError(f"{p}: not a medical volume: expected .nii, .nii.gz, a DICOM file or a folder of DICOM files")


