"""NIfTI in and out: (i, j, k[, t]) on disk, (Z, Y, X) or (T, Z, Y, X) in memory, the header kept.

Reading keeps the stored integer type where the header's scaling (``scl_slope``/``scl_inter``)
gives exact integers that still fit it (a CT stored as int16 with intercept -1024 stays int16
HU), float32 otherwise -- float64 for integer data only where float32 would round the stored
integers (int32 near 2**30 with a scaling), so ``--keep-dtype`` writes back what it read.  A 4-D
file is read whole (every volume is filtered, as ``fslmaths -s`` does), or one volume with ``volume=N``.

Writing streams the header and then the voxels slice by slice through a fast deflate
(python-isal's ``isal_zlib`` when installed, else zlib at level 1), so a ``.nii.gz`` costs
no copy of the volume.  The input's header is kept: dimensions, TR (pixdim[4]), units,
description, intent, qform/sform codes; only the type, the scaling and the display range
(``cal_min``/``cal_max``) change.

Example
-------
>>> vol = read_nifti("samples/phantom3d.nii.gz")
>>> vol.data.dtype, vol.frames, int(vol.header["qform_code"]), int(vol.header["sform_code"])
(dtype('int16'), 1, 1, 1)
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, UsageError, WriteError
from ..io.common import one_line
from ..io.read_words import API, ReadWords, words_for
from ..volume_inputs import volume_suffix
from .nifti_geometry import (  # noqa: F401 - the geometry readers, importable from here as before
    AFFINE_TOLERANCE, VOXEL_SIZE_TOLERANCE, NiftiGeometry, nifti_affine, nifti_geometry, nifti_spacing, niftilib_image_class,
    repair_quaternion, sheared_grid_note, stored_pixdim, voxel_size_conflict,
)
from .nifti_open import nibabel_messages, not_a_volume, open_nifti, read_dtype
from .volume import Volume, check_volume_memory, every_volume_note, float32_holds, require as _require
from .writers import assumed_unit_steps

#: deflate level of .nii.gz outputs, chosen for speed: isal's level 1 (about 5x zlib's level 1 on a CT, at a
#: similar size), or zlib's level 1 where python-isal is not installed
GZIP_LEVEL = 1
#: voxels handed to the compressor per call (bounds the temporary of a type conversion)
_CHUNK_VOXELS = 1 << 20
#: the header fields that time the acquisition of each slice (NIfTI-1 section "slice timing"): valid on the input's grid only
SLICE_TIMING = ("slice_code", "slice_start", "slice_end", "slice_duration")


class _Deflater:
    """A gzip stream over a binary file object: ``write(bytes)`` then ``close()`` (the file is left open)."""

    def __init__(self, f: Any, packer: Any) -> None:
        self.f, self.packer = f, packer

    def write(self, data: Any) -> None:
        self.f.write(self.packer.compress(data))

    def close(self) -> None:
        self.f.write(self.packer.flush())


def gzip_writer(f: Any, level: int = GZIP_LEVEL, threads: int | None = None) -> tuple[Any, str]:
    """A gzip stream writing into the open binary file ``f`` (``.write``, ``.close``), and the library's name.

    With python-isal: its pigz-like threaded writer (one gzip member, blocks compressed on
    ``threads`` threads, default: the cores, at most 4; time stamp 0, so the bytes are the same
    on every run); without it, zlib's compressobj at ``level``.

    >>> import io
    >>> sink = io.BytesIO(); gz, name = gzip_writer(sink); _ = gz.write(b"abc" * 100); gz.close()
    >>> import gzip; gzip.decompress(sink.getvalue()) == b"abc" * 100, name in ("isal", "zlib")
    (True, True)
    """
    try:
        from isal import igzip_threaded, isal_zlib
    except ImportError:
        import zlib

        return _Deflater(f, zlib.compressobj(level, zlib.DEFLATED, 31)), "zlib"
    n = threads if threads is not None else max(1, min(4, os.cpu_count() or 1))
    return igzip_threaded.open(_Unclosed(f), "wb", compresslevel=min(level, isal_zlib.ISAL_BEST_COMPRESSION), threads=n), "isal"


class _Unclosed:
    """``f`` seen by a writer that closes what it wraps: closing this leaves ``f`` open for the atomic rename."""

    def __init__(self, f: Any) -> None:
        self._f = f

    def write(self, data: Any) -> int:
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.flush()

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


# ---------------------------------------------------------------- reading


def _scaled(raw: np.ndarray, slope: float, inter: float) -> np.ndarray:
    """``raw * slope + inter``: exact integers in the stored type, or int16 when they fit there (a uint16 CT
    with intercept -1024 becomes int16 HU), or int32 for 32/64-bit stored types, else float32 -- or float64
    where float32 would round the stored integers (:func:`~.volume.float32_holds`: int32 values near 2**30), so that
    ``--keep-dtype`` writes back what was read.  8- and 16-bit data past int16 become float32, which holds
    them exactly: volumes of them are computed in float32 (:func:`~kernelcli.ndsupport.volume_dtype`), as
    the memory guard counts from the stored type.  A fractional scaling is applied in float64 a block at a time
    and rounded once to the result (the memory of the float32 result, not of a float64 copy).

    >>> _scaled(np.array([0, 4095], np.uint16), 1.0, -1024.0)
    array([-1024,  3071], dtype=int16)
    >>> _scaled(np.array([0, 65535], np.uint16), 1.0, -1024.0), _scaled(np.array([2**30 + 1], np.int32), 0.5, 0.0).dtype
    (array([-1024., 64511.], dtype=float32), dtype('float64'))
    """
    lo, hi = (int(raw.min()), int(raw.max())) if raw.size and raw.dtype.kind in "iu" else (0, 0)
    if raw.dtype.kind in "iu" and float(slope).is_integer() and float(inter).is_integer():
        s, b = int(slope), int(inter)
        values = (lo, hi, lo * s, hi * s, lo * s + b, hi * s + b)  # the intermediate product must fit too
        wide = (np.dtype(np.int32),) if raw.dtype.itemsize >= 4 else ()
        for dtype in (raw.dtype, np.dtype(np.int16), *wide):
            info = np.iinfo(dtype)
            if info.min <= min(values) and max(values) <= info.max:
                out = raw.astype(dtype, copy=True)
                if s != 1:
                    out *= dtype.type(s)
                out += dtype.type(b)
                return out
    exact32 = raw.dtype.kind not in "iu" or float32_holds(lo, hi, slope, inter)
    dtype = np.float64 if raw.dtype == np.float64 or not exact32 else np.float32
    # in float64 and rounded once to the result's type, as nibabel, SimpleITK and the DICOM reader scale: float32
    # arithmetic rounded the slope, the product and the sum (1 ulp off in 9 % of functional.nii's voxels)
    order = "F" if raw.flags.f_contiguous and not raw.flags.c_contiguous else "C"
    src = np.asarray(raw, order=order).reshape(-1, order=order)  # (a view, but for a sliced input's copy)
    out = np.empty(raw.shape, dtype=dtype, order=order)
    flat = out.reshape(-1, order=order)
    for start in range(0, src.size, _CHUNK_VOXELS):  # a block at a time: no float64 copy of the volume
        flat[start : start + _CHUNK_VOXELS] = src[start : start + _CHUNK_VOXELS].astype(np.float64) * slope + inter
    return out


def _inflate(p: Path, proxy: Any) -> np.ndarray:
    """The stored voxels of a ``.nii.gz``, inflated straight into one buffer (python-isal's igzip when
    installed: about 3x zlib) and viewed as the (i, j, k[, t]) array without a copy."""
    try:
        from isal import igzip as gz
    except ImportError:
        import gzip as gz
    dtype = np.dtype(proxy.dtype)
    shape = tuple(int(n) for n in proxy.shape)
    buf = bytearray(math.prod(shape) * dtype.itemsize)
    view = memoryview(buf)
    with gz.open(str(p), "rb") as f:
        f.read(int(proxy.offset))
        done = 0
        while done < len(buf):
            n = f.readinto(view[done : done + (16 << 20)])  # in pieces: a whole-size read would make a temporary copy
            if not n:
                raise EOFError(f"the voxel data ends after {done} of {len(buf)} bytes (truncated file?)")
            done += n
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F")


def read_nifti(path: str | os.PathLike, *, volume: int | None = None, affine: str | None = None,
               words: ReadWords = API) -> Volume:
    """Read a NIfTI-1/2 (``.nii``, ``.nii.gz``) or MGH (``.mgz``, ``.mgh``) file.

    A 3-D file gives (Z, Y, X); a 4-D file gives (T, Z, Y, X), or volume ``volume`` alone as
    (Z, Y, X).  Scaled integers stay integers where exact, else float32.  The geometry is the
    qform or the sform as :func:`nifti_affine` decides (``affine`` picks one when they
    disagree); an MGH file has one affine, and ``affine`` is refused for it.

    >>> from nibabel.testing import data_path
    >>> read_nifti(Path(data_path) / "example4d.nii.gz").data.shape
    (2, 24, 96, 128)
    >>> read_nifti(Path(data_path) / "example4d.nii.gz", volume=1).data.shape
    (24, 96, 128)
    """
    nib = _require("nibabel", "NIfTI")
    from ..io.folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder(path)  # ('x.nii.gz/' names a folder: pathlib would read x.nii.gz)
    p, words = Path(path), words_for(words)
    with nibabel_messages(p) as told:  # nibabel's own warnings become our notes, with the file name
        # mmap=False: the voxels are read into memory by ordinary reads (one copy, which check_volume_memory counts)
        # and not filtered from nibabel's map of the file, where a page past the end of a file cut short meanwhile
        # is a SIGBUS that no Python code can catch; a short read is "cannot read the voxel data" naming the file
        img = open_nifti(nib, p, mmap=False)
    mgh = isinstance(img, nib.MGHImage)
    if not (mgh or isinstance(img, (nib.Nifti1Image, nib.Nifti2Image))):
        raise ImageReadError(f"{p}: {type(img).__name__} is not NIfTI-1, NIfTI-2 or MGH")
    notes: list[str] = list(told)
    if mgh and affine is not None:
        raise UsageError(f"{p}: {words.given('affine', affine)} picks a NIfTI's qform or sform; an MGH file has one affine")
    # the geometry first: a file that reads two ways is refused before its voxels are read
    geometry = nifti_geometry(img, p, affine, notes, mgh=mgh, words=words)
    shape = tuple(int(n) for n in img.shape)
    if len(shape) < 2:
        raise ImageReadError(f"{p}: {len(shape)}-D image (shape {shape}); expected a 3-D or 4-D volume")
    if len(shape) > 4 and math.prod(shape[4:]) > 1:
        raise ImageReadError(not_a_volume(p, shape))
    frames = shape[3] if len(shape) >= 4 else 1
    index: tuple[Any, ...] = (slice(None),) * min(3, len(shape))
    if volume is not None:
        if len(shape) < 4:
            raise UsageError(f"{p}: {words.given('volume', volume)}: the file is {len(shape)}-D ({'x'.join(map(str, shape))}), not 4-D")
        if not 0 <= volume < frames:
            raise UsageError(f"{p}: {words.given('volume', volume)}: the file holds {frames} volume(s), indices 0 to {frames - 1}")
        index += (volume,)
    elif len(shape) >= 4:
        index += (slice(None) if frames > 1 else 0,)
    index += (0,) * max(0, len(shape) - len(index))
    kept = [n for n, i in zip(shape, index) if isinstance(i, slice)]
    check_volume_memory(p, tuple(kept[::-1]), np.dtype(img.get_data_dtype()), words=words,  # stated (Z, Y, X)
                        read=read_dtype(img))
    try:
        proxy = img.dataobj
        if volume is None and volume_suffix(p) == ".nii.gz" and hasattr(proxy, "offset") and hasattr(proxy, "slope"):
            raw = _inflate(p, proxy)[index]
            slope, inter = float(proxy.slope), float(proxy.inter)
        elif hasattr(proxy, "_get_unscaled"):  # nibabel's ArrayProxy: the stored values, sliced on disk
            raw = np.asarray(proxy._get_unscaled(index))
            slope, inter = float(getattr(proxy, "slope", 1.0)), float(getattr(proxy, "inter", 0.0))
        else:
            raw, slope, inter = np.asarray(proxy[index]), 1.0, 0.0
    except Exception as exc:  # truncated or corrupt data: EOFError, OSError, zlib.error, ValueError
        raise ImageReadError(f"{p}: cannot read the voxel data: {one_line(exc)}") from None
    if raw.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: voxel type {img.get_data_dtype()} is not real numbers (RGB or complex); expected a scalar volume")
    if not raw.dtype.isnative:
        raw = raw.astype(raw.dtype.newbyteorder("="))
    elif raw.dtype.byteorder == "<" or raw.dtype.byteorder == ">":
        raw = raw.view(raw.dtype.newbyteorder("="))  # the same bytes, the plain dtype (int16, not <i2)
    stored = raw.dtype
    scaling = None
    if not (math.isfinite(slope) and slope != 0):
        slope = 1.0
    if not math.isfinite(inter):
        inter = 0.0
    if (slope, inter) != (1.0, 0.0):
        scaling = (slope, inter)
        raw = _scaled(raw, slope, inter)
        if stored.kind in "iu" and raw.dtype == np.float64:
            notes.append(f"{p.name}: {stored} values with scl_slope {slope:g}, scl_inter {inter:g} are read and filtered as "
                         "float64: float32 would round them (it holds whole numbers exactly only up to 2^24)")
    while raw.ndim < 3:
        raw = raw[..., np.newaxis]
    data = raw.transpose(tuple(range(raw.ndim))[::-1])  # (i, j, k[, t]) -> ([t,] k, j, i): C-contiguous for Fortran data
    header = img.header
    if frames > 1 and volume is None:
        notes.append(every_volume_note(p.name, frames, words))
    return Volume(
        data=data, spacing=geometry.spacing, affine=geometry.affine,
        path=p, format="MGH" if mgh else ("NIfTI-2" if isinstance(img, nib.Nifti2Image) else "NIfTI-1"),
        header=None if mgh else header, image_class=None if mgh else type(img), notes=notes,
        stored_dtype=stored, scaling=scaling, orientation_unknown=geometry.orientation_unknown,
        spacing_assumed=geometry.spacing_assumed, spacing_conflict=geometry.spacing_conflict,
        assumed_axes=geometry.assumed_axes,
        time_step=_mgh_time_step(img.header) if mgh and data.ndim == 4 else None,
        kept_axes=shape[3:] if volume is None and len(shape) > 3 and frames == 1 and not mgh else (),
    )


def _mgh_time_step(header: Any) -> float | None:
    """An MGH header's TR in seconds (it is stored in ms), or None where it states none (0)."""
    tr = float(header["tr"])
    return tr / 1000.0 if math.isfinite(tr) and tr > 0 else None


# ---------------------------------------------------------------- writing


def slice_timing_note(vol: Volume) -> str | None:
    """The note for an output on a new grid (pooling) of a NIfTI input that times its slices; None when it does not."""
    header = vol.header
    if header is None or not any(float(header[key]) for key in SLICE_TIMING if key in header):
        return None
    return (f"{vol.path.name}: the slice timing (slice_code, slice_start, slice_end, slice_duration) is cleared in the output: "
            "it timed the input's slices, not the pooled grid's")


def nifti_header(data: np.ndarray, like: Volume | None = None, affine: np.ndarray | None = None,
                 scaling: tuple[float, float] | None = None) -> Any:
    """The header for writing ``data`` ((Z, Y, X) or (T, Z, Y, X)) like ``like``, in native byte order.

    A NIfTI input's header is copied (TR, units, intent, description, qform/sform codes kept);
    otherwise (DICOM, MGH, ...) a NIfTI-1 header with qform/sform code 1 (scanner) and mm/s units,
    and for 4-D data the time between volumes ``like.time_step`` (an MGH's TR) or 0, not stated.
    On the input's grid the header is kept bit for bit (both readings of a file whose qform and
    sform disagree, so the result overlays the input as it does); on a new grid (pooling) both
    hold the new affine, made from the reading the input was read with.
    On a new grid the slice timing (:data:`SLICE_TIMING`) is cleared: it told when each old slice was
    acquired, and kept it would give the pooled grid the old grid's slice count of times.  A volume whose
    orientation is unknown (``like.orientation_unknown``: NIfTI codes 0, DICOM without
    ImageOrientationPatient) keeps codes 0, "unknown": its affine was made up, and stating it
    (code 1, scanner) would claim an orientation nobody measured; so does one whose position is unknown
    (``like.position_unknown``: DICOM without ImagePositionPatient).
    A voxel size the input did not give (``like.assumed_axes``: a pixdim of 0 or below, no PixelSpacing, no
    ElementSpacing, a 2-D image's depth) is not given by the output either: pixdim 0 along that axis, which kernelcli
    reads back as "not in the file" and nibabel and SimpleITK (niftilib) read as 1; so that all of them place the voxels
    alike, the affine's column along it is that 1 (on a pooled grid too, from the first window's centre: SimpleITK
    sizes voxels by pixdim alone).  On the input's grid a stored pixdim that is not a positive number is kept as it is.

    >>> like = Volume(np.zeros((2, 3, 4)), (1.0, 1.0, 1.0), np.diag([2.0, 2.0, 5.0, 1.0]), Path("s"), "DICOM",
    ...               assumed_axes=("x", "y"))
    >>> hdr = nifti_header(like.data, like); hdr["pixdim"][1:4].tolist(), hdr.get_sform()[:3, :3].diagonal().tolist()
    ([0.0, 0.0, 5.0], [1.0, 1.0, 5.0])
    """
    nib = _require("nibabel", "NIfTI")
    target = np.asarray(affine if affine is not None else (like.affine if like is not None else np.eye(4)), dtype=np.float64)
    source = like.header if like is not None and isinstance(like.header, nib.Nifti1Header) else None
    same_grid = False
    if source is not None:
        hdr = source.copy()
        if hdr.endianness != nib.volumeutils.native_code:
            hdr = hdr.as_byteswapped(nib.volumeutils.native_code)
        qcode, scode = int(hdr["qform_code"]), int(hdr["sform_code"])
        same_grid = affine is None or np.array_equal(target, like.affine)  # type: ignore[union-attr]
    else:
        hdr = nib.Nifti1Header()
        hdr.set_xyzt_units("mm", "sec")
        qcode = scode = 0 if getattr(like, "orientation_unknown", None) or getattr(like, "position_unknown", None) else 1
        if data.ndim == 4:  # the time between volumes: an MGH's TR, else 0 (not stated; nibabel's default claims 1 s)
            hdr["pixdim"][4] = getattr(like, "time_step", None) or 0.0
    pixdim = hdr["pixdim"].copy()
    kept = tuple(getattr(like, "kept_axes", ())) if source is not None and len(data.shape) == 3 else ()
    hdr.set_data_shape(data.shape[::-1] + kept)  # (x, y, z, 1) for one volume stored 4-D: the input's rank
    hdr.set_data_dtype(data.dtype)
    assumed = [n for n, axis in enumerate("xyz", start=1) if axis in (getattr(like, "assumed_axes", None) or ())]
    if same_grid:
        hdr["pixdim"] = pixdim  # the input's qform, sform and voxel sizes, bit for bit
    else:
        target = assumed_unit_steps(target, tuple(getattr(like, "assumed_axes", None) or ()))  # (the pixdim 0 below)
        # codes 0 stay 0: the grid then comes from pixdim alone, as the input's did (set_qform keeps pixdim right)
        hdr.set_qform(target, code=qcode, strip_shears=True)  # a qform cannot shear
        # a half turn's quaternion can be stored a few eps past unit length, which nibabel cannot read back
        repair_quaternion(hdr)
        hdr.set_sform(target, code=scode)  # the sform keeps the exact affine
        for key in SLICE_TIMING:  # the input's slice times describe its slices, not the new grid's
            hdr[key] = 0
    for n in assumed:  # a voxel size the input did not give is not stated as a fact (one stored as 0 or below stays)
        if not same_grid or (math.isfinite(float(pixdim[n])) and float(pixdim[n]) > 0):
            hdr["pixdim"][n] = 0
    slope, inter = scaling if scaling is not None else (1.0, 0.0)
    if data.dtype.kind == "f":
        slope, inter = 1.0, 0.0
    hdr["scl_slope"], hdr["scl_inter"] = slope, inter
    hdr["cal_min"] = hdr["cal_max"] = 0  # the input's display range does not describe the result
    hdr["vox_offset"] = 0  # recomputed from the header and its extensions
    return hdr


def sheared_output_note(data: Any, like: Volume, affine: np.ndarray | None = None) -> str | None:
    """The note of a sheared grid of another format (an MGH, an NRRD/MetaImage, a tilted DICOM series) written as
    NIfTI ``data`` like ``like`` (``affine``: a new grid's, a pool's): the qform :func:`nifti_header` stores holds
    its nearest unsheared grid, so many mm off (:func:`sheared_grid_note`); None for a NIfTI input, whose read says
    it of its own qform, where the header keeps codes 0 (no qform: an unknown orientation or position), and for
    a grid the qform holds within 1% of a voxel.  Said where a NIfTI is written: a .png or .npy stores no qform.

    >>> tilt = np.eye(4); tilt[1, 2] = 0.5  # each slice 0.5 mm further along y
    >>> like = Volume(np.zeros((20, 10, 10), np.float32), (1.0, 1.0, 1.0), tilt, Path("t.mgz"), "MGH")
    >>> sheared_output_note(like.data, like)[:55]
    't.mgz: the grid is sheared (its z and y axes 26.6 degre'
    """
    nib = _require("nibabel", "NIfTI")
    if isinstance(like.header, nib.Nifti1Header) or like.orientation_unknown or like.position_unknown:
        return None
    return sheared_grid_note(like.path.name, like.affine if affine is None else affine, tuple(data.shape[-3:])[::-1])


def header_bytes(data: Any, like: Volume | None = None, affine: np.ndarray | None = None,
                 scaling: tuple[float, float] | None = None) -> bytes:
    """What precedes the voxels in a ``.nii`` holding ``data`` (anything with ``.shape`` and ``.dtype``):
    the header of :func:`nifti_header`, its extensions, and padding up to ``vox_offset``.

    >>> len(header_bytes(np.zeros((2, 3, 4), np.float32)))
    352
    """
    hdr = nifti_header(data, like, affine, scaling)
    head = io.BytesIO()
    hdr.write_to(head)
    blob = head.getvalue()
    return blob + b"\0" * max(0, int(hdr["vox_offset"]) - len(blob))


def write_nifti(
    out: str | os.PathLike, data: np.ndarray, like: Volume | None = None, *, affine: np.ndarray | None = None,
    force: bool = False, scaling: tuple[float, float] | None = None, level: int = GZIP_LEVEL,
) -> Path:
    """Write a (Z, Y, X) or (T, Z, Y, X) array as NIfTI (``.nii`` or ``.nii.gz``), atomically and streamed.

    With ``like`` from a NIfTI input its header is kept (see :func:`nifti_header`), so the
    result overlays the input; ``affine`` overrides (pooling changes the grid).  ``scaling``
    (slope, intercept) is stored for integer data (``--keep-dtype`` of a scaled input).
    The bytes are the same on every run (gzip time stamp 0, no file name).  What :func:`kernelcli.io.write_output`
    refuses (NaN, infinities, complex values: what :func:`read_volume` refuses in a file) is refused in its words.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "z.nii.gz"
    >>> _ = write_nifti(path, np.zeros((2, 3, 4), np.int16))
    >>> read_nifti(path).data.shape
    (2, 3, 4)
    """
    from ..io.common import path_arg
    from ..io.formats import checked_result
    from ..io.outputs import atomic_write

    o = path_arg(out, "write_nifti", "out", writes=True)  # (a folder's ending, a URL: refused)
    arr = checked_result(o, data, "data")  # (as write_output: NaN, infinities and complex values read_volume refuses)
    if arr.ndim not in (3, 4):
        raise WriteError(f"{o}: expected a (Z, Y, X) or (T, Z, Y, X) volume, got shape {arr.shape}")
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    blob = header_bytes(arr, like, affine, scaling)
    gz = volume_suffix(o) == ".nii.gz"

    def write(f: Any) -> None:
        sink = gzip_writer(f, level)[0] if gz else f
        sink.write(blob)
        # (Z, Y, X) in C order is NIfTI's on-disk order (x fastest): slabs of whole slices, no transposed copy
        flat = arr.reshape(-1, arr.shape[-2] * arr.shape[-1])
        rows = max(1, _CHUNK_VOXELS // flat.shape[1])
        for start in range(0, flat.shape[0], rows):
            sink.write(memoryview(np.ascontiguousarray(flat[start : start + rows])).cast("B"))
        if gz:
            sink.close()

    atomic_write(o, write, force=force)
    return o
