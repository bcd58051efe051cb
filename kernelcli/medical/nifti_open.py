"""Opening a NIfTI or MGH file with nibabel: every reader opens one here, in memory and tile by tile.

:func:`open_nifti` loads the image (also for a suffix nibabel does not know in its case,
``Scan.Nii``) and refuses what cannot be a volume before any voxel is read (:func:`check_dims`);
a missing file is an :class:`~kernelcli.errors.InputError`, an unreadable one an
:class:`~kernelcli.errors.ImageReadError` naming the file; :func:`nibabel_messages` collects what
nibabel logs as notes.

Example
-------
>>> import nibabel as nib
>>> img = open_nifti(nib, Path("samples/phantom3d.nii.gz"))
>>> img.shape
(64, 64, 64)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ImageReadError, InputError
from ..io.common import one_line
from ..volume_inputs import volume_suffix
from .nifti_geometry import niftilib_image_class


def open_nifti(nib: Any, p: Path, **load: Any) -> Any:
    """``nib.load(p, **load)``, also for a suffix nibabel does not know in its case (``Scan.Nii``): its loader then
    looked for ``Scan.nii``, a file that is not there, where the image is read from ``p`` itself; a missing file is
    an InputError, an unreadable one an ImageReadError, and so is a NIfTI whose header gives an axis no voxels
    (:func:`check_dims`): every reader of a NIfTI opens it here, in memory and tile by tile."""
    img = _load(nib, p, **load)
    if isinstance(img.header, nib.Nifti1Header):  # (NIfTI-2's header is one too)
        check_dims(img.header["dim"], p)
    return img


def check_dims(dim: Any, p: Path) -> None:
    """Refuse a NIfTI header whose dim[1] .. dim[dim[0]] is not a positive number of voxels, naming the field: nibabel
    takes the shape as given, so a -4 reached a memory map ("memory mapped length must be positive", exit 70 tile by
    tile) or an index ("Integer index 0 too large").

    >>> check_dims([3, 8, 10, 6, 1, 1, 1, 1], Path("a.nii"))
    >>> check_dims([3, -4, 10, 6, 1, 1, 1, 1], Path("a.nii"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: a.nii: dim[1] is -4; expected a positive number of voxels
    """
    for k in range(1, min(int(dim[0]), 7) + 1):
        if int(dim[k]) < 1:
            raise ImageReadError(f"{p}: dim[{k}] is {int(dim[k])}; expected a positive number of voxels")


def not_a_volume(p: Path, shape: tuple[int, ...]) -> str:
    """The refusal of a NIfTI with more than 4 axes past its trailing 1s (a vector field's 5th), in memory and tile
    by tile alike: no --volume picks a volume of it.

    >>> not_a_volume(Path("v.nii"), (6, 7, 5, 1, 3))
    'v.nii: 5-D image (6x7x5x1x3); expected 3-D or 4-D (vector or tensor images are not volumes)'
    """
    return f"{p}: {len(shape)}-D image ({'x'.join(map(str, shape))}); expected 3-D or 4-D (vector or tensor images are not volumes)"


def _load(nib: Any, p: Path, **load: Any) -> Any:
    """:func:`open_nifti`'s load, before the header's dimensions are checked."""
    try:
        try:
            return nib.load(str(p), **load)
        except FileNotFoundError:
            if not p.is_file():
                raise InputError(f"{p}: no such file") from None
            return _from_file_map(nib, p, **load)
    except InputError:
        raise
    except Exception as exc:  # nibabel raises ImageFileError, HeaderDataError, OSError, EOFError...
        if "w2 should be positive" in str(exc):  # its qform's quaternion, just past unit length: read as niftilib reads it
            with contextlib.suppress(Exception):
                return _from_file_map(nib, p, niftilib_quaternion=True, **load)
        kind = "MGH" if volume_suffix(p) in (".mgz", ".mgh") else "NIfTI"
        raise ImageReadError(f"{p}: not a readable {kind} file: {one_line(exc)}") from None


def _from_file_map(nib: Any, p: Path, *, niftilib_quaternion: bool = False, **load: Any) -> Any:
    """The image in ``p``, its class picked by its case-folded suffix and its header's size (NIfTI-2: 540 bytes);
    ``niftilib_quaternion``: with a header class that reads the qform as niftilib does (:func:`niftilib_image_class`)."""
    import gzip

    if volume_suffix(p) in (".mgz", ".mgh"):
        kind = nib.MGHImage
    else:
        with open(p, "rb") as f:
            head = f.read(4)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(p) as f:
                head = f.read(4)
        kind = nib.Nifti2Image if 540 in (int.from_bytes(head, "little"), int.from_bytes(head, "big")) else nib.Nifti1Image
        if niftilib_quaternion:
            kind = niftilib_image_class(kind)
    holder = {"image": nib.FileHolder(filename=str(p)), "header": nib.FileHolder(filename=str(p))}
    return kind.from_file_map(holder, **load)


@contextlib.contextmanager
def nibabel_messages(p: Path) -> Iterator[list[str]]:
    """Collect what nibabel logs ("pixdim[1,2,3] should be non-zero...") as notes naming ``p``,
    instead of letting its own handler print them on stderr."""
    import logging

    told: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            told.append(f"{p.name}: {record.getMessage()} (nibabel)")

    logger = logging.getLogger("nibabel.global")
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [Collect()], False
    try:
        yield told
    finally:
        logger.handlers, logger.propagate = saved


def read_dtype(img: Any) -> Any:
    """The dtype a NIfTI's (or MGH's) voxels are held in once read, for the memory counts made before reading them:
    the stored type, or where the header scales them (``scl_slope``/``scl_inter``) the float they may become
    (:func:`kernelcli.ndsupport.volume_dtype` of the stored type, the widest :func:`.nifti._scaled` returns): a scaled
    int16 counted as int16 was read as float32, twice its bytes.

    >>> from types import SimpleNamespace
    >>> int16 = SimpleNamespace(get_data_dtype=lambda: "int16", dataobj=SimpleNamespace(slope=0.5, inter=-10.0))
    >>> str(read_dtype(int16)), str(read_dtype(SimpleNamespace(get_data_dtype=lambda: "int16", dataobj=None)))
    ('float32', 'int16')
    """
    import math

    import numpy as np

    from ..ndsupport import volume_dtype

    stored = np.dtype(img.get_data_dtype())
    slope, inter = (float(getattr(img.dataobj, name, default)) for name, default in (("slope", 1.0), ("inter", 0.0)))
    scaled = math.isfinite(slope) and slope not in (0.0, 1.0) or math.isfinite(inter) and inter != 0.0
    return volume_dtype(stored) if scaled and stored.kind in "iuf" else stored
