"""DICOM files in: pixel data, rescale to Hounsfield units, geometry from the headers.

Example
-------
>>> _first([40, 400]), _first("-600"), _first("")
(40.0, -600.0, None)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, MissingExtra
from .volume import Volume, require as _require

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
        from .series import read_series

        return read_series(pydicom, p)
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

