"""Medical volumes: DICOM and NIfTI in; NIfTI, ``.npy`` and windowed PNG out; Hounsfield units and windowing.

Reading and writing go through the field's own libraries, pydicom and nibabel, installed with
the optional extra ``pip install 'kernelcli[medical]'``; without them a medical input fails with
:class:`~kernelcli.errors.MissingExtra` (exit 2) naming that command.

Volumes
-------
Every volume is a (Z, Y, X) array -- slices, rows, columns -- with ``spacing = (dz, dy, dx)`` in
millimetres and a 4x4 ``affine`` that maps NIfTI voxel indices ``(i, j, k) = (x, y, z)`` to
RAS+ millimetres (nibabel's convention), so a result written as NIfTI overlays its input.

* **NIfTI** (``.nii``, ``.nii.gz``): the (i, j, k) array nibabel gives is transposed to (k, j, i)
  without a copy; ``spacing`` comes from the header's voxel sizes (in mm, converted from
  metres or microns when the header says so).  A 4-D file gives its first volume, with a note.
  Scaling in the header (``scl_slope``/``scl_inter``) is applied by nibabel.
* **DICOM**: a single file (one slice, or the frames of a multi-frame file), or a folder holding
  one series.  The slices are sorted by their position along the slice normal
  (``ImagePositionPatient`` projected on ``row x column`` of ``ImageOrientationPatient``), or by
  ``InstanceNumber`` when positions are missing.  ``RescaleSlope``/``RescaleIntercept`` are applied
  per slice, so CT values are Hounsfield units: int16 when the result is exact in int16
  (integer slope and intercept, stored range fits), float32 otherwise.  Compressed transfer
  syntaxes whose decoder is not installed fail with a message naming what to install.

Windowing
---------
``--window C,W`` (centre, width) or a preset maps values to 0..255 with DICOM's linear VOI
function (PS3.3 C.11.2.1.2.1).  Presets, from Radiopaedia's "Windowing (CT)" table
(https://radiopaedia.org/articles/windowing-ct): brain W:80 L:40, lungs W:1500 L:-600,
bone W:1800 L:400 (Radiopaedia's spine bone window; the older W:1500 L:300 is also common),
soft tissue W:350 L:50 (the mediastinum window).

Example
-------
>>> vol = read_volume("samples/phantom3d.nii.gz")     # doctest: +SKIP
>>> vol.data.shape, vol.spacing                       # doctest: +SKIP
((64, 64, 64), (1.0, 0.8, 0.8))
"""

from __future__ import annotations

import gzip
import math
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ImageReadError, InputError, InvalidKernel, MissingExtra, OutputRefused, UsageError, WriteError
from .images import stat_input
from .jobs import Report
from .volume_inputs import DICOM_SUFFIXES, NIFTI_SUFFIXES, _has_dicom_magic, is_volume_input, volume_suffix  # noqa: F401

EXTRA_HINT = "pip install 'kernelcli[medical]'"
OUTPUT_SUFFIXES = (".nii.gz", ".nii", ".npy", ".png")

#: (centre, width) in HU; see the module notes for the source
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
    "soft-tissue": (50.0, 350.0),
}
_PRESET_ALIASES = {"lungs": "lung", "soft_tissue": "soft-tissue", "softtissue": "soft-tissue", "soft": "soft-tissue", "mediastinum": "soft-tissue"}

#: gzip level for .nii.gz outputs: nibabel's own default, fast on large volumes
GZIP_LEVEL = 1
#: values windowed per step (bounds the float64 temporaries)
_WINDOW_CHUNK = 1 << 20


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



def _require(module: str, what: str) -> Any:
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


def _dcmread(pydicom: Any, path: Path, *, headers_only: bool = False) -> Any:
    try:
        return pydicom.dcmread(str(path), stop_before_pixels=headers_only)
    except pydicom.errors.InvalidDicomError as exc:
        raise ImageReadError(f"{path}: not a DICOM file ({exc})") from None
    except Exception as exc:  # truncated or corrupt: EOFError, OSError, struct.error, ValueError
        raise ImageReadError(f"{path}: cannot read DICOM: {exc}") from None


def _check_decoder(ds: Any, path: Path) -> None:
    """Fail before decoding when the pixel data is compressed and no installed plugin decodes it."""
    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if uid is None or not uid.is_compressed:
        return
    try:
        from pydicom.pixels import get_decoder  # pydicom >= 3.0
    except ImportError:  # older pydicom: its own error from pixel_array names the missing handlers
        return
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise ImageReadError(f"{path}: pixel data uses transfer syntax {uid.name} ({uid}), which pydicom cannot decode") from None
    if not decoder.is_available:
        options = "; ".join(decoder.missing_dependencies) or "a pydicom pixel-data plugin"
        raise MissingExtra(
            f"{path}: pixel data is compressed as {uid.name} ({uid}) and no installed decoder reads it; "
            f"install one of: {options} (for example pip install pylibjpeg pylibjpeg-libjpeg), "
            "or decompress the files first (gdcmconv --raw, or dcmtk's dcmdjpeg)"
        )


def _pixels(ds: Any, path: Path) -> np.ndarray:
    """The stored pixel values (frames, rows, columns), before the rescale."""
    _check_decoder(ds, path)
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise ImageReadError(f"{path}: colour DICOM (SamplesPerPixel {ds.SamplesPerPixel}); expected greyscale values")
    try:
        raw = ds.pixel_array
    except MissingExtra:
        raise
    except Exception as exc:  # no PixelData, bad length, decoder failure
        raise ImageReadError(f"{path}: cannot decode the pixel data: {exc}") from None
    raw = np.asarray(raw)
    if raw.ndim == 2:
        raw = raw[np.newaxis]
    if raw.ndim != 3 or raw.dtype.kind not in "biuf":
        raise ImageReadError(f"{path}: pixel data of shape {raw.shape} and type {raw.dtype}; expected greyscale frames")
    return raw


def _first(value: Any) -> float | None:
    """A DICOM number that may be multi-valued (WindowCenter '40\\400'): its first value."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, (str, bytes)) and hasattr(value, "__len__"):
            value = value[0] if len(value) else None
        return None if value is None else float(value)
    except (TypeError, ValueError, IndexError):
        return None


def _functional(ds: Any, sequence: str, attribute: str) -> Any:
    """``attribute`` from the shared functional groups of an enhanced (multi-frame) object, or None."""
    groups = ds.get("SharedFunctionalGroupsSequence")
    if not groups:
        return None
    seq = groups[0].get(sequence)
    if not seq:
        return None
    return seq[0].get(attribute)


def _rescale(ds: Any) -> tuple[float, float, bool]:
    """(slope, intercept, present) from the dataset or its shared functional groups."""
    slope = _first(ds.get("RescaleSlope"))
    intercept = _first(ds.get("RescaleIntercept"))
    if slope is None and intercept is None:
        slope = _first(_functional(ds, "PixelValueTransformationSequence", "RescaleSlope"))
        intercept = _first(_functional(ds, "PixelValueTransformationSequence", "RescaleIntercept"))
    present = slope is not None or intercept is not None
    return (1.0 if slope is None or slope == 0 else slope), (0.0 if intercept is None else intercept), present


def _pixel_spacing(ds: Any) -> tuple[float, float] | None:
    spacing = ds.get("PixelSpacing") or _functional(ds, "PixelMeasuresSequence", "PixelSpacing")
    if not spacing or len(spacing) != 2:
        return None
    dy, dx = float(spacing[0]), float(spacing[1])
    return (dy, dx) if dy > 0 and dx > 0 else None


def _orientation(ds: Any) -> np.ndarray | None:
    iop = ds.get("ImageOrientationPatient") or _functional(ds, "PlaneOrientationSequence", "ImageOrientationPatient")
    if not iop or len(iop) != 6:
        return None
    return np.array([float(v) for v in iop], dtype=np.float64)


def _position(ds: Any) -> np.ndarray | None:
    ipp = ds.get("ImagePositionPatient")
    if not ipp or len(ipp) != 3:
        return None
    return np.array([float(v) for v in ipp], dtype=np.float64)


def _dicom_affine(iop: np.ndarray, origin: np.ndarray, step: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """NIfTI affine (voxel (column, row, slice) -> RAS+ mm) from DICOM's LPS+ geometry.

    DICOM: position = origin + column * dx * iop[:3] + row * dy * iop[3:] + slice * step, in
    LPS+; negating the first two rows turns LPS+ into RAS+ (as dcm2niix and nibabel's
    nicom do).
    """
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * dx
    lps[:3, 1] = iop[3:] * dy
    lps[:3, 2] = step
    lps[:3, 3] = origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _slice_gap(ds: Any) -> float | None:
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        value = _first(ds.get(key)) or _first(_functional(ds, "PixelMeasuresSequence", key))
        if value is not None and value > 0:
            return value
    return None


class _Stack:
    """The volume being filled slice by slice with rescaled values.

    int16 while every value so far is an exact integer in int16 (integer stored values,
    slope and intercept, the usual CT case); it switches to float32 for good the first time
    a slice does not fit or holds float pixel data, or from the start when a slope or
    intercept is fractional.
    """

    def __init__(self, shape: tuple[int, ...], integral: bool) -> None:
        self.data = np.empty(shape, dtype=np.int16 if integral else np.float32)

    def put(self, z: int, raw: np.ndarray, slope: float, intercept: float) -> None:
        if self.data.dtype == np.int16:
            # float pixel data (FloatPixelData) would be truncated by the integer path
            if raw.dtype.kind in "biu" and float(slope).is_integer() and float(intercept).is_integer():
                values = raw.astype(np.int64) * int(slope) + int(intercept)
                if values.min() >= -32768 and values.max() <= 32767:
                    self.data[z] = values
                    return
            self.data = self.data.astype(np.float32)
        self.data[z] = raw.astype(np.float64) * slope + intercept


def read_dicom(path: str | os.PathLike) -> Volume:
    """Read a DICOM file or a folder holding one DICOM series as a (Z, Y, X) volume in HU (for CT).

    In a folder, files that are not DICOM images (DICOMDIR, text, hidden files) are skipped
    with a note; two series in one folder, slices of different sizes or orientations, and two
    slices at one position are errors.
    """
    pydicom = _require("pydicom", "DICOM")
    p = Path(path)
    if p.is_dir():
        return _read_series(pydicom, p)
    ds = _dcmread(pydicom, p)
    raw = _pixels(ds, p)
    slope, intercept, present = _rescale(ds)
    notes: list[str] = []
    stack = _Stack(raw.shape, float(slope).is_integer() and float(intercept).is_integer())
    for z in range(raw.shape[0]):
        stack.put(z, raw[z], slope, intercept)
    data = stack.data
    pixel = _pixel_spacing(ds)
    if pixel is None:
        notes.append(f"{p.name}: no PixelSpacing; assuming 1 mm")
        pixel = (1.0, 1.0)
    gap = _slice_gap(ds)
    if gap is None:
        gap = 1.0
        if raw.shape[0] > 1:
            notes.append(f"{p.name}: no slice spacing (SpacingBetweenSlices/SliceThickness); assuming 1 mm")
    iop = _orientation(ds)
    origin = _position(ds)
    if iop is None or origin is None:
        iop = np.array([1.0, 0, 0, 0, 1.0, 0])
        origin = np.zeros(3)
        notes.append(f"{p.name}: no ImageOrientationPatient/ImagePositionPatient; the NIfTI affine is a plain scaling")
    normal = np.cross(iop[:3], iop[3:])
    if raw.shape[0] > 1:
        notes.append(f"{p.name}: {raw.shape[0]} frames, taken as slices {gap:g} mm apart")
    return _dicom_volume(ds, p, data, (gap, *pixel), _dicom_affine(iop, origin, normal * gap, *pixel), present, notes)


def _dicom_volume(ds: Any, p: Path, data: np.ndarray, spacing: tuple[float, float, float], affine: np.ndarray, rescaled: bool, notes: list[str]) -> Volume:
    modality = str(ds.get("Modality", "") or "") or None
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    units = None
    if modality == "CT":
        units = "HU" if rescaled else None
        if not rescaled:
            notes.append(f"{p.name}: CT without RescaleSlope/RescaleIntercept; values kept as stored (they may not be HU)")
    return Volume(
        data=data, spacing=tuple(float(v) for v in spacing), affine=affine, path=p, format="DICOM",  # type: ignore[arg-type]
        modality=modality, units=units, window=(center, width) if center is not None and width and width >= 1 else None,
        notes=notes,
    )


def _read_series(pydicom: Any, folder: Path) -> Volume:
    headers: list[tuple[Path, Any]] = []
    skipped: list[str] = []
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder: {exc.strerror or exc}") from None
    for entry in entries:
        if not entry.is_file():
            continue
        try:
            ds = pydicom.dcmread(str(entry), stop_before_pixels=True)
        except Exception:  # not DICOM, or unreadable: skipped with a note below
            skipped.append(entry.name)
            continue
        if "Rows" not in ds or str(ds.get("SOPClassUID", "")) == "1.2.840.10008.1.3.10":  # no image / DICOMDIR
            skipped.append(entry.name)
            continue
        headers.append((entry, ds))
    if not headers:
        raise InputError(f"{folder}: no DICOM images in this folder")
    notes: list[str] = []
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        notes.append(f"{folder.name}: skipped {len(skipped)} file(s) that are not DICOM images ({shown})")

    series: dict[str, list[tuple[Path, Any]]] = {}
    for entry, ds in headers:
        series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((entry, ds))
    if len(series) > 1:
        listing = "; ".join(f"{uid or '(no UID)'}: {len(items)} files, e.g. {items[0][0].name}" for uid, items in series.items())
        raise UsageError(f"{folder}: holds {len(series)} DICOM series ({listing}); put each series in its own folder")

    first_path, first = headers[0]
    size = (int(first.Rows), int(first.Columns))
    iop = _orientation(first)
    pixel = _pixel_spacing(first)
    for entry, ds in headers[1:]:
        if (int(ds.Rows), int(ds.Columns)) != size:
            raise ImageReadError(f"{entry}: {ds.Rows}x{ds.Columns} pixels, but {first_path.name} has {size[0]}x{size[1]}: not one volume")
        other = _orientation(ds)
        if (iop is None) != (other is None) or (iop is not None and not np.allclose(iop, other, atol=1e-4)):
            raise ImageReadError(f"{entry}: ImageOrientationPatient differs from {first_path.name}'s: not one volume")
        ps = _pixel_spacing(ds)
        if (pixel is None) != (ps is None) or (pixel is not None and not np.allclose(pixel, ps, rtol=1e-4)):
            raise ImageReadError(f"{entry}: PixelSpacing {ps} differs from {first_path.name}'s {pixel}: not one volume")

    positions = [_position(ds) for _, ds in headers]
    if iop is not None and all(pos is not None for pos in positions):
        normal = np.cross(iop[:3], iop[3:])
        keys = [float(np.dot(pos, normal)) for pos in positions]
        order = sorted(range(len(headers)), key=lambda i: keys[i])
        gaps = np.diff([keys[i] for i in order])
        for n, gap in enumerate(gaps):
            if abs(gap) < 1e-4:
                a, b = headers[order[n]][0].name, headers[order[n + 1]][0].name
                raise ImageReadError(
                    f"{folder}: {a} and {b} are at the same slice position ({keys[order[n]]:.3f} mm along the normal): "
                    "the folder holds more than one volume (time points or echoes?); put each in its own folder"
                )
        if len(order) > 1:
            gap = float(np.median(gaps))
            if gaps.max() - gaps.min() > max(0.01, 0.01 * gap):
                notes.append(f"{folder.name}: slice gaps vary from {gaps.min():.4g} to {gaps.max():.4g} mm; using the median, {gap:.4g} mm")
            first_pos, last_pos = positions[order[0]], positions[order[-1]]
            step = (last_pos - first_pos) / (len(order) - 1)  # type: ignore[operator]
        else:
            gap = _slice_gap(first) or 1.0
            step = normal * gap
        origin = positions[order[0]]
    else:
        numbers = [ds.get("InstanceNumber") for _, ds in headers]
        if all(n is not None for n in numbers):
            order = sorted(range(len(headers)), key=lambda i: int(numbers[i]))
            how = "InstanceNumber"
        else:
            order = list(range(len(headers)))
            how = "file name"
        gap = _slice_gap(first) or 1.0
        notes.append(f"{folder.name}: no ImagePositionPatient; slices sorted by {how}, {gap:g} mm apart (from the header)")
        if iop is None:
            iop = np.array([1.0, 0, 0, 0, 1.0, 0])
        step = np.cross(iop[:3], iop[3:]) * gap
        origin = positions[order[0]] if positions[order[0]] is not None else np.zeros(3)
    if pixel is None:
        notes.append(f"{folder.name}: no PixelSpacing; assuming 1 mm")
        pixel = (1.0, 1.0)

    rescales = [_rescale(headers[i][1]) for i in order]
    stack = _Stack((len(order), *size), all(float(s).is_integer() and float(b).is_integer() for s, b, _ in rescales))
    for z, i in enumerate(order):
        entry = headers[i][0]
        ds = _dcmread(pydicom, entry)
        raw = _pixels(ds, entry)
        if raw.shape[0] != 1:
            raise ImageReadError(f"{entry}: {raw.shape[0]} frames in one file of a series; expected one slice per file")
        slope, intercept, _ = rescales[z]
        stack.put(z, raw[0], slope, intercept)
    present = all(r[2] for r in rescales)
    return _dicom_volume(first, folder, stack.data, (gap, *pixel), _dicom_affine(iop, origin, step, *pixel), present, notes)


# ---------------------------------------------------------------- windowing


def parse_window(text: str) -> tuple[float, float]:
    """``"C,W"`` (centre, width) or a preset name -> (centre, width).

    >>> parse_window("lung"), parse_window("40,400")
    ((-600.0, 1500.0), (40.0, 400.0))
    """
    key = str(text).strip().lower()
    key = _PRESET_ALIASES.get(key, key)
    if key in WINDOW_PRESETS:
        return WINDOW_PRESETS[key]
    parts = [s.strip() for s in key.split(",")]
    try:
        center, width = (float(s) for s in parts)
    except ValueError:
        presets = ", ".join(f"{name} ({c:g},{w:g})" for name, (c, w) in WINDOW_PRESETS.items())
        raise UsageError(f"invalid window {text!r}: expected CENTRE,WIDTH in HU (e.g. 40,80) or a preset: {presets}") from None
    if not (math.isfinite(center) and math.isfinite(width)) or width < 1:
        raise UsageError(f"invalid window {text!r}: the width must be a number >= 1 (DICOM's rule) and both finite")
    return center, width


def apply_window(values: Any, center: float, width: float) -> np.ndarray:
    """Map values to uint8 0..255 with DICOM's linear VOI function (PS3.3 C.11.2.1.2.1).

    At or below ``c - 0.5 - (w-1)/2`` -> 0, above ``c - 0.5 + (w-1)/2`` -> 255, linear between
    (rounded).  Works in chunks, so a whole volume needs no float copy of itself.

    >>> apply_window(np.array([-1000, 0, 20, 40, 60, 80]), 40, 80)
    array([  0,   0,  65, 129, 194, 255], dtype=uint8)
    """
    arr = np.asarray(values)
    if width < 1:
        raise UsageError(f"window width {width:g} must be >= 1")
    out = np.empty(arr.shape, dtype=np.uint8)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    lo = center - 0.5 - (width - 1) / 2
    for start in range(0, flat_in.size, _WINDOW_CHUNK):  # chunks: no float64 copy of a whole volume
        part = flat_in[start : start + _WINDOW_CHUNK].astype(np.float64)
        if width == 1:
            mapped = np.where(part > lo, 255.0, 0.0)
        else:
            mapped = ((part - (center - 0.5)) / (width - 1) + 0.5) * 255.0
        flat_out[start : start + _WINDOW_CHUNK] = np.clip(np.rint(mapped), 0, 255)
    return out


# ---------------------------------------------------------------- writing


def check_volume_output(out: str | os.PathLike, inputs: tuple[Path, ...] = (), *, force: bool = False) -> Path:
    """Validate an output path for a volume result before any work (exit 2 or 4).

    >>> check_volume_output("result.mha")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: result.mha: unsupported output type '.mha' for a volume: expected one of .nii.gz, .nii, .npy, .png
    """
    from .images import _same_file

    o = Path(out)
    suffix = volume_suffix(o)
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r} for a volume: expected one of {', '.join(OUTPUT_SUFFIXES)}")
    for src in inputs:
        if src.is_file() and _same_file(o, src):
            raise OutputRefused(f"{o}: the output would overwrite the input {src}")
    if o.exists() or o.is_symlink():
        if o.is_dir():
            raise OutputRefused(f"{o}: is a directory, expected a file path")
        if not force:
            raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    parent = o.parent if str(o.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{o}: the folder {parent} does not exist")
    return o


def write_nifti(out: str | os.PathLike, data: np.ndarray, like: Volume | None = None, *, affine: np.ndarray | None = None, force: bool = False) -> Path:
    """Write a (Z, Y, X) array as NIfTI (``.nii`` or ``.nii.gz``), atomically.

    With ``like`` from a NIfTI input, its header and affine are kept (the dtype, shape and
    scaling updated; ``cal_min``/``cal_max``, which describe the input's display range, are
    cleared), so the result overlays the input in a viewer.  From a DICOM input the affine
    computed from its geometry is used, with qform/sform code 1 (scanner).  ``affine``
    overrides (pooling changes the voxel grid).
    """
    nib = _require("nibabel", "NIfTI")
    from .images import _atomic_write

    o = Path(out)
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
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

    _atomic_write(o, write)
    return o


def write_png_slice(out: str | os.PathLike, plane: np.ndarray, *, force: bool = False) -> Path:
    """Write a 2-D uint8 array as an 8-bit greyscale PNG, atomically."""
    from PIL import Image

    from .images import _atomic_write

    o = Path(out)
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    img = Image.fromarray(np.ascontiguousarray(plane, dtype=np.uint8), mode="L")
    _atomic_write(o, lambda f: img.save(f, format="PNG"))
    return o


def write_npy(out: str | os.PathLike, data: np.ndarray, *, force: bool = False) -> Path:
    """Write the (Z, Y, X) array as ``.npy``, atomically."""
    from .images import _atomic_write

    o = Path(out)
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    _atomic_write(o, lambda f: np.save(f, np.asarray(data), allow_pickle=False))
    return o


# ---------------------------------------------------------------- sample data

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


# ---------------------------------------------------------------- file jobs

_MM_SPEC = re.compile(r"\s*(gaussian|box)\s*:\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(mm|vox)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class VolumeKernel:
    """A ``--kernel`` spec resolved for volumes (before any input is read).

    ``kind`` is ``gaussian_mm``/``box_mm`` (size in mm, resolved with the spacing),
    ``gaussian_vox``/``box_vox`` (size in voxels), ``3d`` (a named 3-D kernel) or ``2d`` (a
    catalogue kernel applied slice by slice).
    """

    name: str
    kind: str
    size: float = 0.0
    kernel: Any = None

    @property
    def keeps_units(self) -> bool:
        """True when the weights sum to 1 (smoothing): results stay in the input's units (HU)."""
        if self.kind in ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox"):
            return True
        return abs(float(self.kernel.sum) - 1.0) < 1e-9

    def factors(self, spacing: tuple[float, float, float]) -> tuple[Any, Any, Any]:
        """One 1-D kernel per axis (z, y, x) for the separable kinds."""
        from . import volumes

        if self.kind == "gaussian_mm":
            return volumes.gaussian_mm(self.size, spacing)
        if self.kind == "box_mm":
            return volumes.box_mm(self.size, spacing)
        if self.kind == "gaussian_vox":
            return volumes.gaussian_vox(self.size)
        if self.kind == "box_vox":
            side = int(self.size)
            return (np.full(side, 1.0 / side),) * 3  # type: ignore[return-value]
        if self.kind == "3d":
            return tuple(np.asarray(f, dtype=np.float64) for f in self.kernel.factors)  # type: ignore[return-value]
        raise AssertionError(self.kind)


def resolve_volume_kernel(spec: str) -> VolumeKernel:
    """Turn a ``--kernel`` spec into a :class:`VolumeKernel`; errors are InvalidKernel (exit 3).

    ``gaussian:1.5mm``, ``box:5mm``, ``gaussian:2vox``, ``box:3vox``, ``gaussian_3d``, ``box_3d``,
    ``sobel_3d`` (``_y``, ``_z``), or anything the 2-D catalogue loads (applied slice by slice).

    >>> resolve_volume_kernel("gaussian:1.5mm").kind, resolve_volume_kernel("sobel_v").kind
    ('gaussian_mm', '2d')
    """
    from . import volumes

    text = str(spec).strip()
    match = _MM_SPEC.fullmatch(text)
    if match:
        family, number, unit = match.group(1).lower(), float(match.group(2)), match.group(3).lower()
        if not (math.isfinite(number) and number > 0):
            raise InvalidKernel(f"{text}: the size must be a positive number")
        if family == "box" and unit == "vox":
            if not number.is_integer() or not 1 <= number <= volumes.MAX_TAPS:
                raise InvalidKernel(f"{text}: a box in voxels needs a whole number of voxels from 1 to {volumes.MAX_TAPS}")
        kind = f"{family}_{unit}"
        return VolumeKernel(name=f"{family}:{match.group(2)}{unit}", kind=kind, size=number)
    key = text.lower().replace("-", "_")
    if key in volumes.KERNELS_3D:
        k3 = volumes.KERNELS_3D[key]
        return VolumeKernel(name=k3.name if key != "sobel_3d_x" else key, kind="3d", kernel=k3)
    if re.fullmatch(r"(gaussian|box):.*[a-z]\s*", text, re.IGNORECASE) and not re.fullmatch(r"(gaussian|box):[0-9.e+-]+", text, re.IGNORECASE):
        raise InvalidKernel(f"{text!r}: expected a size in mm or voxels such as gaussian:1.5mm, box:5mm or gaussian:2vox")
    from .catalog import load_kernel

    k2 = load_kernel(text)
    return VolumeKernel(name=k2.name, kind="2d", kernel=k2)


@dataclass(frozen=True)
class VolumeOptions:
    """Options of a volume job.

    ``axis``: for a 2-D kernel, the axis across which slices are taken (default z); for a
    kernel in mm or voxels, an axis to leave alone (smooth within those slices only); not
    allowed with a named 3-D kernel.  ``pad_mode`` defaults to replicate: scans have air
    (-1000 HU) at their borders, and zero padding would draw a bright rim (ITK, behind c3d,
    also smooths with a zero-flux, i.e. replicate, boundary).
    """

    axis: str | None = None
    pad_mode: str = "replicate"
    pad_value: float = 0.0
    flip: bool = False
    window: tuple[float, float] | None = None
    keep_dtype: bool = False

    def __post_init__(self) -> None:
        from .modes import canonical_pad_mode

        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        if self.axis is not None:
            key = str(self.axis).strip().lower()
            if key not in ("z", "y", "x"):
                raise UsageError(f"invalid axis {self.axis!r}: expected z, y or x (the volume is (Z, Y, X))")
            object.__setattr__(self, "axis", key)


@dataclass
class VolumeReport(Report):
    """A :class:`~kernelcli.jobs.Report` with the volume's facts."""

    spacing: list[float] | None = None
    format: str | None = None
    units: str | None = None


def default_volume_output(input_path: str | os.PathLike, label: str, directory: Path = Path(".")) -> Path:
    """``<stem>_<label>.nii.gz`` in ``directory``.

    >>> default_volume_output(Path("scans/ct.nii.gz"), "gaussian:1.5mm")
    PosixPath('ct_gaussian_1.5mm.nii.gz')
    """
    from .jobs import safe_stem

    return directory / f"{volume_stem(input_path)}_{safe_stem(label)}.nii.gz"


def filter_volume(vol: Volume, kernel: VolumeKernel | None, options: VolumeOptions) -> tuple[np.ndarray, list[str]]:
    """Apply ``kernel`` to ``vol.data`` as the options say; returns (result, notes).  The input is not modified."""
    from . import volumes

    notes: list[str] = []
    data = vol.data
    if kernel is None:
        return data, notes
    if kernel.kind == "2d":
        k = kernel.kernel.array()
        dtype = volumes.volume_dtype(data.dtype)
        notes.append(f"{kernel.name} is a 2-D kernel: applied to each slice across {options.axis or 'z'} (kernels in mm: gaussian:1.5mm)")
        result = volumes.convolve_slices(
            data, k, options.axis or "z", dtype=dtype, padding="same", pad_mode=options.pad_mode,
            pad_value=options.pad_value, flip=options.flip,
        )
        return result, notes
    if kernel.kind == "3d" and options.axis is not None:
        raise UsageError(f"--axis {options.axis}: {kernel.name} is a 3-D kernel; --axis is for 2-D kernels and kernels in mm")
    factors = list(kernel.factors(vol.spacing))
    if options.flip:
        factors = [None if f is None else f[::-1] for f in factors]
    if options.axis is not None:
        factors[volumes.AXES.index(options.axis)] = None
    if kernel.kind in ("gaussian_mm", "box_mm"):
        sides = "x".join(str(len(f)) if f is not None else "1" for f in factors)
        notes.append(f"{kernel.name} on {'x'.join(f'{s:g}' for s in vol.spacing)} mm voxels (z, y, x): a {sides} kernel")
    if options.pad_mode == "constant" and options.pad_value != 0 and kernel.kind == "3d":
        # separable passes would pad partial sums with the value; the dense loop pads the input
        return volumes.conv3d(data, kernel.kernel.array()[::-1, ::-1, ::-1] if options.flip else kernel.kernel.array(),
                              pad_mode="constant", pad_value=options.pad_value), notes
    return volumes.correlate_separable(data, factors, pad_mode=options.pad_mode, pad_value=options.pad_value), notes


def _to_input_dtype(result: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, int, int]:
    """Round and clip to an integer dtype (never wraps); returns (array, clipped low, clipped high)."""
    info = np.iinfo(dtype)
    low = high = 0
    out = np.empty(result.shape, dtype=dtype)
    for z in range(result.shape[0]):  # slice by slice: no full float64 temporary
        r = np.rint(result[z])
        low += int(np.count_nonzero(r < info.min))
        high += int(np.count_nonzero(r > info.max))
        out[z] = np.clip(r, info.min, info.max)
    return out, low, high


def _write_result(
    out_path: Path, result: np.ndarray, vol: Volume, options: VolumeOptions, report: VolumeReport, *,
    force: bool, affine: np.ndarray | None = None, keeps_units: bool = True,
) -> None:
    suffix = volume_suffix(out_path)
    window = options.window
    if suffix == ".png":
        axis = options.axis or "z"
        a = "zyx".index(axis)
        index = result.shape[a] // 2
        plane = np.take(result, index, axis=a)
        if window is None:
            if vol.window is not None and keeps_units:
                window = vol.window
                report.notes.append(f"window {window[0]:g},{window[1]:g} from the DICOM header (give --window to choose)")
            else:
                lo, hi = float(plane.min()), float(plane.max())
                window = ((lo + hi) / 2 + 0.5, max(hi - lo + 1, 1.0))
                report.notes.append(f"no --window: the slice's range {lo:g}..{hi:g} stretched to 0..255")
        report.notes.append(
            f"PNG: the middle slice across {axis} (index {index} of {result.shape[a]}), windowed at {window[0]:g},{window[1]:g}; "
            "array order (row 0 at the top), not reoriented"
        )
        image = apply_window(plane, *window)
        write_png_slice(out_path, image, force=force)
        report.dtype = "uint8"
        report.output_shape = list(image.shape)
        return
    if window is not None:
        result = apply_window(result, *window)
        report.notes.append(f"windowed at {window[0]:g},{window[1]:g} to uint8 0..255")
    elif options.keep_dtype and vol.data.dtype.kind in "iu" and result.dtype.kind == "f":
        result, report.clipped_low, report.clipped_high = _to_input_dtype(result, vol.data.dtype)
        if report.clipped_low or report.clipped_high:
            report.notes.append(
                f"--keep-dtype: {report.clipped_low + report.clipped_high} value(s) outside {vol.data.dtype} were clipped; "
                "leave --keep-dtype off to keep float32"
            )
    if suffix == ".npy":
        write_npy(out_path, result, force=force)
    else:
        write_nifti(out_path, result, vol, affine=affine, force=force)
    report.dtype = str(result.dtype)


def convolve_volume_file(
    input_path: str | os.PathLike,
    kernel_spec: str | None,
    options: VolumeOptions | None = None,
    *,
    out: str | os.PathLike | None = None,
    force: bool = False,
) -> VolumeReport:
    """Filter one volume (NIfTI, DICOM file or series folder) and write the result.

    The kernel is resolved first (exit 3), then the output path is checked (exit 4), then
    the input is read.  ``out=None`` writes ``<stem>_<kernel>.nii.gz`` in the current folder.
    """
    options = options or VolumeOptions()
    kernel = resolve_volume_kernel(kernel_spec) if kernel_spec else None
    label = kernel.name if kernel else "copy"
    src = Path(input_path)
    out_path = check_volume_output(out if out is not None else default_volume_output(src, label), (src,), force=force)
    vol = read_volume(src)
    start = time.perf_counter()
    result, notes = filter_volume(vol, kernel, options)
    seconds = time.perf_counter() - start
    report = VolumeReport(
        input=str(src), operation=f"convolve {label}" if kernel else "copy", input_shape=list(vol.data.shape),
        output_shape=list(result.shape), output=str(out_path), minimum=float(result.min()), maximum=float(result.max()),
        seconds=seconds, dtype=str(result.dtype), total=int(result.size), notes=vol.notes + notes,
        kernel=kernel.name if kernel else None, spacing=list(vol.spacing), format=vol.format, units=vol.units,
    )
    _write_result(out_path, result, vol, options, report, force=force, keeps_units=kernel is None or kernel.keeps_units)
    return report


def pool_volume_file(
    input_path: str | os.PathLike,
    size: int,
    *,
    op: str = "max",
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    out: str | os.PathLike | None = None,
    force: bool = False,
    window: tuple[float, float] | None = None,
) -> VolumeReport:
    """Pool one volume in 3-D (as PyTorch's max_pool3d/avg_pool3d) and write it.

    A NIfTI output gets the pooled grid: voxel sizes times the stride, and an affine whose
    voxel (0, 0, 0) sits at the centre of the first window, so it still overlays the input.
    """
    from . import volumes
    from .modes import canonical_pool_op

    op = canonical_pool_op(op)
    label = f"{op}pool{size}"
    src = Path(input_path)
    out_path = check_volume_output(out if out is not None else default_volume_output(src, label), (src,), force=force)
    vol = read_volume(src)
    step = size if stride is None else stride
    start = time.perf_counter()
    result = volumes.pool3d(vol.data, size, step, op, padding, ceil_mode, count_include_pad)
    seconds = time.perf_counter() - start
    # new voxel n sits at old index n*step - padding + (size-1)/2, on each of (i, j, k)
    grid = np.eye(4)
    grid[:3, :3] *= step
    grid[:3, 3] = (size - 1) / 2 - padding
    affine = vol.affine @ grid
    report = VolumeReport(
        input=str(src), operation=label, input_shape=list(vol.data.shape), output_shape=list(result.shape),
        output=str(out_path), minimum=float(result.min()), maximum=float(result.max()), seconds=seconds,
        dtype=str(result.dtype), total=int(result.size), notes=list(vol.notes),
        spacing=[s * step for s in vol.spacing], format=vol.format, units=vol.units,
    )
    _write_result(out_path, result, vol, VolumeOptions(window=window), report, force=force, affine=affine)
    return report


def convolve_volume_for_cli(
    input_path: str | os.PathLike,
    kernels: list[str] | None,
    *,
    stride: int = 1,
    padding: str = "same",
    dilation: int = 1,
    pad_mode: str | None = None,
    pad_value: float = 0.0,
    flip: bool = False,
    out: str | os.PathLike | None = None,
    force: bool = False,
    unsupported: dict[str, bool] | None = None,
) -> VolumeReport:
    """``kernelcli convolve`` on a volume input: one kernel, stride and dilation 1, "same" padding.

    ``unsupported`` maps option names to whether they were given (``{"--montage": True}``);
    any given one is a usage error naming it.  ``pad_mode=None`` means replicate (see
    :class:`VolumeOptions`).
    """
    given = [name for name, used in (unsupported or {}).items() if used]
    if stride != 1:
        given.append("--stride")
    if dilation != 1:
        given.append("--dilation")
    if str(padding).strip().lower() != "same":
        given.append("--padding")
    if given:
        raise UsageError(f"{input_path}: {', '.join(given)} not supported for volumes (NIfTI/DICOM); see `kernelcli volume --help`")
    if not kernels or len(kernels) != 1:
        raise UsageError(f"{input_path}: a volume takes exactly one --kernel (e.g. gaussian:1.5mm, sobel_3d or a 2-D catalogue kernel)")
    options = VolumeOptions(pad_mode=pad_mode or "replicate", pad_value=pad_value, flip=flip)
    return convolve_volume_file(input_path, kernels[0], options, out=out, force=force)
