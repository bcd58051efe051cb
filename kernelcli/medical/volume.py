"""The :class:`Volume` value every reader returns, and :func:`read_volume`, which picks the reader.

Every volume is a (Z, Y, X) array -- slices, rows, columns -- with ``spacing = (dz, dy, dx)`` in
millimetres and a 4x4 ``affine`` that maps NIfTI voxel indices ``(i, j, k) = (x, y, z)`` to
RAS+ millimetres (nibabel's convention; in a NIfTI header's own unit where it is metres or microns, and
``affine_mm`` in mm), so a result written as NIfTI overlays its input.

Example
-------
>>> volume_stem("data/ct.nii.gz")
'ct'
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingExtra, UsageError
from ..extras import install_hint
from ..io.common import path_arg, stat_input
from ..records import field, record
from ..volume_inputs import (  # noqa: F401 - volume_stem re-exported (its former home)
    DICOM_SUFFIXES, ITK_SUFFIXES, MGH_SUFFIXES, NIFTI_SUFFIXES, VOLUME_SUFFIXES, _has_dicom_magic, volume_stem, volume_suffix,
)

EXTRA_HINT = install_hint("medical")


@record
class Volume:
    """A volume read from a NIfTI, DICOM or other medical input, with what is needed to write results like it.

    ``data`` is (Z, Y, X), or (T, Z, Y, X) for a 4-D NIfTI read whole (T volumes, e.g. an fMRI
    time series); ``affine`` maps the voxel (i, j, k) = (x, y, z) to RAS+ mm.
    """

    data: np.ndarray  # (Z, Y, X) or (T, Z, Y, X)
    spacing: tuple[float, float, float]  # mm per voxel along z, y, x
    # 4x4, voxel (i=x, j=y, k=z) -> RAS+, in mm but for a NIfTI in metres or microns, whose header's unit it keeps so
    # that an output's header holds it as the input's did (affine_mm is in mm for every input)
    affine: np.ndarray
    path: Path
    format: str  # "NIfTI-1", "NIfTI-2", "DICOM", "MGH", "NRRD", ...
    header: Any = None  # nibabel header of a NIfTI input (written back with the dtype updated)
    image_class: Any = None  # nibabel image class of a NIfTI input
    modality: str | None = None  # DICOM Modality (CT, MR, ...)
    units: str | None = None  # "HU" for rescaled CT, "Gy" for RT dose
    window: tuple[float, float] | None = None  # the DICOM file's own WindowCenter/WindowWidth
    notes: list[str] = field(default_factory=list)
    stored_dtype: Any = None  # a NIfTI's on-disk type: what --keep-dtype writes back
    scaling: tuple[float, float] | None = None  # a NIfTI's (scl_slope, scl_inter) when they are not (1, 0)
    inverted: bool = False  # DICOM MONOCHROME1: higher values are darker (previews invert them)
    # why the orientation is unknown ("no ImageOrientationPatient", "qform_code and sform_code are 0"), or None:
    # the affine is then a plain scaling that was made up; previews name no view, NIfTI outputs keep codes 0
    orientation_unknown: str | None = None
    # why the position is unknown ("no ImagePositionPatient"), or None: voxel 0 was put at (0, 0, 0) mm, so NIfTI
    # outputs keep codes 0 as for an unknown orientation (a position nobody measured is not scanner space)
    position_unknown: str | None = None
    # what of the voxel size was not in the file and taken as 1 mm ("no PixelSpacing"), or None: a kernel
    # sized in mm, or a derivative per mm, would then be sized by the guess (refused: see medical.jobs)
    spacing_assumed: str | None = None
    # the voxel axes ("x", "y", "z": i, j, k) whose size spacing_assumed took as 1 mm: a NIfTI output stores pixdim 0
    # along them (not given) and a .zarr's spacing_mm null, so that the guess is not read back as a fact
    assumed_axes: tuple[str, ...] = ()
    # the two voxel sizes a NIfTI/MGH header states where its pixdim and its affine disagree ("pixdim 1x1x1 mm or
    # the sform 0.5x0.8x3 mm (x, y, z)"), or None: a kernel sized in mm is then refused too (see medical.jobs)
    spacing_conflict: str | None = None
    # seconds between the volumes of a 4-D input whose header is not written back (an MGH's TR, an NRRD or
    # MetaImage's fourth spacing), or None:
    # a NIfTI output states it in pixdim[4] (a NIfTI input's header carries its own)
    time_step: float | None = None
    # the axes of 1 past z of a NIfTI of one volume stored 4-D (dim[0] 4, dim[4] 1: an fMRI volume kept 4-D by its
    # pipeline), read whole: data is (Z, Y, X), and a NIfTI output keeps the file's rank, as it keeps its header
    kept_axes: tuple[int, ...] = ()

    @property
    def frames(self) -> int:
        """How many 3-D volumes ``data`` holds (1, or T for a 4-D input)."""
        return 1 if self.data.ndim == 3 else int(self.data.shape[0])

    @property
    def affine_mm(self) -> np.ndarray:
        """``affine`` in mm, whatever the spatial unit of a NIfTI input's header: what two volumes' grids are compared in.

        >>> import nibabel as nib; h = nib.Nifti1Header(); h.set_xyzt_units("meter")
        >>> Volume(np.zeros((1, 1, 1)), (1.0, 1.0, 1.0), np.diag([0.001, 0.001, 0.001, 1]), Path("m.nii"), "NIfTI-1",
        ...        header=h).affine_mm.diagonal().tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        from .nifti_geometry import spatial_unit_mm

        scaled = np.array(self.affine, dtype=np.float64)
        scaled[:3] *= spatial_unit_mm(self.header)
        return scaled


def float32_holds(lo: int, hi: int, slope: float, inter: float) -> bool:
    """True when float32 computes ``raw * slope + inter`` for every stored integer in [lo, hi] closely enough that
    ``--keep-dtype`` gets each one back: within a quarter of a stored step, counting the rounding of the integer, the
    product and the sum (each at most 2**-24 of its size).  Stored integers beyond about 2**21, or a step that is
    tiny against the values (slope 1e-9, intercept 1000), need float64.  The NIfTI and the DICOM reader both ask it.

    >>> float32_holds(-32768, 32767, 1.0, -1024.0), float32_holds(2**30, 2**31 - 1, 0.5, 0.0)
    (True, False)
    """
    big = max(abs(lo), abs(hi))
    value = max(abs(lo * slope + inter), abs(hi * slope + inter))
    return 2 * big + (value + abs(inter)) / abs(slope) < 2**22


# ---------------------------------------------------------------- recognising inputs



def require(module: str, what: str) -> Any:
    """Import an optional dependency or raise MissingExtra naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"reading and writing {what} needs {module}, which is not installed: {EXTRA_HINT}") from None


# ---------------------------------------------------------------- reading


def volume_job_bytes(shape: tuple[int, ...], stored: Any, compute: Any = None) -> int:
    """Bytes of a volume job on ``shape``: the ``stored`` voxels plus a result and a temporary in ``compute``,
    by default the dtype volumes are computed in (:func:`~kernelcli.ndsupport.volume_dtype`: float32, float64
    for float64 and 32/64-bit integers).  The memory guard and the tiled path's choice (:mod:`kernelcli.tiled.nifti`)
    both count this.

    >>> volume_job_bytes((2, 3, 4), np.int16), volume_job_bytes((2, 3, 4), np.int32)
    (240, 480)
    """
    import math

    from ..ndsupport import volume_dtype

    stored = np.dtype(stored)
    compute = np.dtype(compute) if compute is not None else volume_dtype(stored)
    return math.prod(shape) * (stored.itemsize + 2 * compute.itemsize)


#: the voxels of the float64 block a fractional scaling is applied in (:func:`kernelcli.medical.nifti._scaled`'s)
SCALING_BLOCK_VOXELS = 2**20
#: what a scaled read holds beside its arrays (nibabel's header and proxy objects: tracemalloc found 0.01-0.1 MiB)
SCALING_SLACK_BYTES = 2**20


def volume_read_bytes(shape: tuple[int, ...], stored: Any, read: Any = None) -> int:
    """Bytes reading a volume of ``shape`` holds at its peak: the ``stored`` voxels, and where they are held as
    another type once read (a scaled NIfTI's float: :func:`~kernelcli.medical.nifti_open.read_dtype`) their scaled
    copy beside them, and the float64 block the scaling is applied in.

    >>> volume_read_bytes((2, 3, 4), np.int16), volume_read_bytes((2, 3, 4), np.int16, np.float32) - SCALING_SLACK_BYTES
    (48, 336)
    """
    import math

    stored = np.dtype(stored)
    read = stored if read is None else np.dtype(read)
    voxels = math.prod(shape)
    scaling = voxels * read.itemsize + 8 * min(voxels, SCALING_BLOCK_VOXELS) + SCALING_SLACK_BYTES
    return voxels * stored.itemsize + (scaling if read != stored else 0)


def volume_dtype_of(stored: Any, read: Any) -> Any:
    """The dtype a job computes a volume in: :func:`~kernelcli.ndsupport.volume_dtype` of the wider of the stored and
    the read types (a scaled int16 read as float32: float32).

    >>> str(volume_dtype_of(np.int16, np.float32)), str(volume_dtype_of(np.int32, np.float64))
    ('float32', 'float64')
    """
    from ..ndsupport import volume_dtype

    return max((volume_dtype(np.dtype(stored)), volume_dtype(np.dtype(read))), key=lambda d: np.dtype(d).itemsize)


def job_need(shape: tuple[int, ...], stored: Any, job_bytes: Any = None, read: Any = None) -> int:
    """Bytes of the in-memory job on a ``shape`` volume of ``stored`` voxels, held as ``read`` once read (a scaled
    NIfTI's float, :func:`~kernelcli.medical.nifti_open.read_dtype`; by default ``stored``): ``job_bytes(shape, read)``
    where the command counts its own (pool's, :func:`kernelcli.medical.pooling.pool_job_bytes`), else a filter's,
    :func:`volume_job_bytes` of the voxels as read; and at least the read itself (:func:`volume_read_bytes`).
    The one count of the reader's guard (:func:`check_volume_memory`) and the tiled path's choice
    (:func:`kernelcli.tiled.nifti.wanted`): a ``.nii`` goes tile by tile exactly where it would be refused in memory.

    >>> pooled = lambda shape, dtype: 100 * dtype.itemsize  # (a command's own count)
    >>> job_need((2, 3, 4), np.int16), job_need((2, 3, 4), np.int16, pooled), job_need((2, 3, 4), np.float32, pooled)
    (240, 200, 400)
    >>> job_need((2, 3, 4), np.int16, read=np.float32) - SCALING_SLACK_BYTES  # a scaled int16: its read outweighs
    336
    """
    stored = np.dtype(stored)
    read = stored if read is None else np.dtype(read)
    job = int(job_bytes(shape, read)) if job_bytes is not None else volume_job_bytes(shape, read, volume_dtype_of(stored, read))
    return max(job, volume_read_bytes(shape, stored, read))


def check_volume_memory(p: Path, shape: tuple[int, ...], stored: Any, compute: Any = None, *, words: Any = None,
                        read: Any = None) -> None:
    """Refuse (before any voxel is read or inflated) a volume whose job would need more memory than
    allowed (``KERNELCLI_MAX_MEMORY``, by default 3/4 of RAM, as for images): :func:`volume_job_bytes`,
    the ``stored`` voxels plus a result and a temporary in ``compute`` (a DICOM reader's float32, say), or the
    command's own count (:func:`job_need`) where its ``words`` (:class:`~kernelcli.io.read_words.ReadWords`) carry
    one, ``job_bytes``, of the job that leaves each volume ``done``; the voxels counted as ``read`` where they are
    held as another type once read (a scaled NIfTI's float).  The command line's words add that its commands take a
    ``.nii`` tile by tile.

    >>> check_volume_memory(Path("ct.nii.gz"), (300, 512, 512), np.int16)
    """
    import math

    from ..errors import ImageReadError
    from ..limits import DEFAULT_MAX_VOXELS, MEMORY_ENV, default_max_bytes, size_text as _size_text

    if math.prod(shape) > DEFAULT_MAX_VOXELS:
        raise ImageReadError(f"{p}: a {'x'.join(map(str, shape))} volume has more than {DEFAULT_MAX_VOXELS} voxels (a bomb guard)")
    limit = default_max_bytes()
    given, read = compute is not None, np.dtype(stored if read is None else read)
    compute = np.dtype(compute) if given else volume_dtype_of(stored, read)
    job_bytes = getattr(words, "job_bytes", None)
    need = volume_job_bytes(shape, stored, compute) if given and job_bytes is None else job_need(shape, stored, job_bytes, read)
    if limit is not None and need > limit:
        # an uncompressed .nii goes tile by tile instead (kernelcli.tiled.nifti): say so where it would help
        tiles = words is not None and words.cli and str(p).lower().endswith(".nii.gz")  # (a Python caller has no commands)
        scaled = read != np.dtype(stored)  # (the tiled path reads stored values: a scaled .nii is refused there)
        hint = "" if not tiles else "; or gunzip it: convolve and pool take a .nii tile by tile" if not scaled else \
            "; or save it unscaled (float32) as a .nii: convolve and pool take an unscaled .nii tile by tile"
        voxels = f"the voxels, their {read} scaled copy" if scaled else "the voxels"
        counted = f"{voxels}, a {compute} result and a temporary" if job_bytes is None else \
            f"{voxels} and the arrays they are {words.done} with"
        raise ImageReadError(
            f"{p}: a {'x'.join(map(str, shape))} volume would need about {_size_text(need)} of memory ({counted}), "
            f"more than the {_size_text(limit)} allowed (set {MEMORY_ENV} to change it{hint})"
        )


def check_finite_volume(vol: Volume) -> Volume:
    """Refuse a volume holding NaN or infinite values, naming its file (as ``.npy`` inputs are); else return it.

    >>> check_finite_volume(Volume(np.zeros((1, 1, 2)), (1.0, 1.0, 1.0), np.eye(4), Path("a.nii"), "NIfTI-1")).format
    'NIfTI-1'
    >>> check_finite_volume(Volume(np.array([[[1.0, np.nan]]]), (1.0, 1.0, 1.0), np.eye(4), Path("a.nii"), "NIfTI-1"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: a.nii: 1 value(s) are NaN or infinite; expected finite numbers
    """
    from ..errors import ImageReadError
    from ..ndsupport import all_finite, non_finite_count, non_finite_refusal

    data = vol.data
    if data.dtype.kind == "f" and not all_finite(data):
        raise ImageReadError(non_finite_refusal(vol.path, non_finite_count(data)))
    return vol


def every_volume_note(name: str, frames: int, words: Any) -> str:
    """The note on a 4-D input read whole: the command filters (or pools: ``words.done``) each volume, a Python caller
    gets them all.

    >>> from kernelcli.io.read_words import ReadWords, words_for
    >>> every_volume_note("f.nii", 2, words_for("api"))
    'f.nii: 4-D, 2 volumes: all are read, as (T, Z, Y, X) (volume=N takes one)'
    >>> every_volume_note("f.nii", 2, ReadWords(cli=True, done="pooled"))
    'f.nii: 4-D, 2 volumes: each is pooled (--volume N takes one)'
    """
    read = f"each is {words.done}" if words.cli else "all are read, as (T, Z, Y, X)"
    return f"{name}: 4-D, {frames} volumes: {read} ({words.takes('volume', 'N')} takes one)"


def _volume_index(volume: Any) -> int | None:
    """``read_volume``'s ``volume=`` as an int (a numpy integer too), or None; True, 1.7 and "1" are refused: True
    and 1.7 read volume 1 and "1" raised Python's TypeError.

    >>> _volume_index(np.int64(2)), _volume_index(None)
    (2, None)
    >>> _volume_index(1.7)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: volume 1.7: expected None (every volume) or the index of one volume of a 4-D input, an integer >= 0
    """
    import operator

    if volume is None:
        return None
    try:
        index = None if isinstance(volume, (bool, np.bool_)) else operator.index(volume)
    except TypeError:
        index = None
    if index is None or index < 0:
        raise UsageError(f"volume {volume!r}: expected None (every volume) or the index of one volume of a 4-D input, "
                         "an integer >= 0")
    return index


def read_volume(
    path: str | os.PathLike, *, volume: int | None = None, series: str | None = None, resample_slices: bool = False,
    affine: str | None = None, words: str = "api",
) -> Volume:
    """Read a NIfTI, MGH, NRRD/MetaImage, DICOM file or DICOM series folder into a :class:`Volume`.

    ``volume`` picks one volume of a 4-D input; ``series`` (a SeriesInstanceUID or an index)
    picks one series of a folder holding several; ``resample_slices`` interpolates a DICOM
    series with uneven slice gaps onto an even grid (linear along the normal) instead of
    refusing it; ``affine`` ("sform" or "qform") picks a NIfTI's geometry where its qform and
    sform disagree (see :func:`~.nifti.nifti_affine`).  Voxels must be finite numbers.  A refusal or note names
    these keywords as typed (``volume=5``); ``words="cli"`` names the command line's options instead (``--volume 5``).

    Raises
    ------
    InputError
        A missing path, or a path that is neither a file nor a folder.
    ImageReadError
        Content that cannot be read (with the file name and the reason).
    MissingExtra
        pydicom/nibabel/SimpleITK, or the decoder for a compressed DICOM, is not installed.
    """
    from ..ndsupport import check_bool
    from .dicom import read_dicom

    from ..io.read_words import words_for

    said = words_for(words)
    p = path_arg(path, "read_volume")
    resample_slices = check_bool(resample_slices, "resample_slices", "True (interpolate uneven slice gaps) or False")
    volume = _volume_index(volume)
    st = stat_input(p)
    suffix = volume_suffix(p)
    is_dicom = stat.S_ISDIR(st.st_mode) or suffix in DICOM_SUFFIXES or (
        stat.S_ISREG(st.st_mode) and suffix not in VOLUME_SUFFIXES and _has_dicom_magic(p))
    if is_dicom:
        if volume is not None:
            raise UsageError(f"{p}: {said.name('volume')} picks a volume of a 4-D NIfTI/MGH/NRRD input; a DICOM input is one volume")
        if affine is not None:
            raise UsageError(f"{p}: {said.given('affine', affine)} picks a NIfTI's qform or sform; a DICOM input has neither")
        return check_finite_volume(read_dicom(p, series=series, resample_slices=resample_slices, words=said))
    if series is not None:
        raise UsageError(f"{p}: {said.name('series')} picks a series of a DICOM input (a folder of DICOM files or one file); this input "
                         "is not DICOM")
    if resample_slices:
        raise UsageError(f"{p}: {said.flag('resample_slices')} interpolates a DICOM series with uneven slice gaps; this input is not "
                         "DICOM: its voxels are on one grid already")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: not a regular file or folder (a device, pipe or socket)")
    if affine is not None and suffix not in NIFTI_SUFFIXES:
        raise UsageError(f"{p}: {said.given('affine', affine)} picks a NIfTI's qform or sform; this input is not NIfTI (.nii, .nii.gz)")
    if suffix in NIFTI_SUFFIXES or suffix in MGH_SUFFIXES:
        from .nifti import read_nifti

        return check_finite_volume(read_nifti(p, volume=volume, affine=affine, words=said))
    if suffix in ITK_SUFFIXES:
        from .itk import read_itk

        return check_finite_volume(read_itk(p, volume=volume, words=said))
    raise InputError(
        f"{p}: not a medical volume: expected .nii, .nii.gz, .mgz, .nrrd, .mha, .mhd, a DICOM file or a folder of DICOM files"
    )
