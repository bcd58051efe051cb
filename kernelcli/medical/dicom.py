"""DICOM files in: pixel data, rescale to Hounsfield units, geometry from the headers.

Example
-------
>>> _first([40, 400]), _first("-600"), _first("")
(40.0, -600.0, None)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, MissingExtra
from ..io.read_words import API, ReadWords, words_for
from .dicom_read import _dcmread
from .dicom_tags import (_first, _numbers, _orientation, _pixel_spacing, _position, _rescale, _scale_number, _slice_gap, mismatch, modality_lut,
                         ct_units, missing_slice_gap, missing_spacing, refuse_mosaic, unusable_slice_spacing)
from .geometry import DIRECTION_TOLERANCE, dicom_affine as _dicom_affine, normal_of, stack_slices
from .pydicom_notes import PydicomWarnings, decoder_encoding, other_decoders, pydicom_line
from .volume import Volume, check_volume_memory, float32_holds, require as _require

#: the one ImageOrientationPatient for which an RT Dose's GridFrameOffsetVector may hold z coordinates (PS3.3 C.8.8.3.2)
AXIAL_DOSE_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


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


def _check_frame_count(ds: Any, path: Path) -> None:
    """Refuse a NumberOfFrames that is not a whole number >= 1 (pydicom's test file ``badVR.dcm`` has '1A'),
    naming it, rather than let the decoder fail on ``int('1A')``."""
    value = ds.get("NumberOfFrames")
    if value is None or str(value).strip() == "":
        return
    try:
        frames = float(str(value))
    except ValueError:
        frames = 0.0
    if not (frames >= 1 and frames.is_integer()):
        raise ImageReadError(f"{path}: NumberOfFrames is {str(value)!r}; expected a whole number of frames, 1 or more")


#: the elements that hold a DICOM image's pixels, by keyword: a file holds at most one of them
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def _refuse_empty_pixel_data(ds: Any, path: Path) -> None:
    """Refuse a pixel data element that is there but empty (an anonymiser's blanking; pydicom reads it as None, and its
    decoder failed on that with "object of type 'NoneType' has no len()"), saying what its header states instead."""
    for keyword in _PIXEL_KEYWORDS:
        if keyword in ds and not ds[keyword].value:
            rows, cols = ds.get("Rows"), ds.get("Columns")
            meta = getattr(ds, "file_meta", None)
            syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
            frames = int(float(str(ds.get("NumberOfFrames", 1) or 1))) * int(ds.get("SamplesPerPixel", 1) or 1)
            size = ("" if syntax is not None and syntax.is_compressed else
                    f" of {int(rows or 0) * int(cols or 0) * -(-int(ds.get('BitsAllocated', 16) or 16) // 8) * frames:,} bytes")
            raise ImageReadError(f"{path}: its {keyword} is empty (0 bytes), but its header states a {rows}x{cols} image"
                                 f"{size}: blanked, or cut off; there is no image to read (copy the file again whole)")


def _pixels(ds: Any, path: Path) -> np.ndarray:
    """The stored pixel values (frames, rows, columns), before the rescale; mapped through the file's Modality LUT
    where one defines its values (:func:`~.dicom_tags.modality_lut`: a LUT, unlike a rescale, is not linear)."""
    _check_decoder(ds, path)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    if photometric == "PALETTE COLOR":
        raise ImageReadError(
            f"{path}: palette-colour DICOM (PhotometricInterpretation PALETTE COLOR, as ultrasound and secondary captures "
            "use): its pixels are indices into a colour table, not intensities, so filtering them means nothing; "
            "convert it to greyscale first (e.g. pydicom.pixels.apply_color_lut, then to luminance)"
        )
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        raise ImageReadError(f"{path}: colour DICOM (SamplesPerPixel {ds.SamplesPerPixel}, {photometric or 'colour'}); expected greyscale values")
    _check_frame_count(ds, path)
    _refuse_empty_pixel_data(ds, path)
    try:
        raw = ds.pixel_array
    except MissingExtra:
        raise
    except Exception as exc:  # no PixelData, bad length, decoder failure
        # pydicom's "Unable to decode as exceptions were raised by all available plugins:" then one line per plugin
        reasons = re.sub(r"^Unable to decode as exceptions were raised by all available plugins:\s*", "", pydicom_line(str(exc)))
        raise ImageReadError(f"{path}: cannot decode the pixel data{decoder_encoding(ds)}: {reasons}{other_decoders(ds)}") from None
    raw = np.asarray(raw)
    if modality_lut(ds) is not None:
        from pydicom.pixels import apply_modality_lut

        try:
            raw = np.asarray(apply_modality_lut(raw, ds))
        except Exception as exc:  # a LUT whose descriptor or data pydicom cannot use
            raise ImageReadError(f"{path}: its Modality LUT (ModalityLUTSequence) cannot be applied: {pydicom_line(str(exc))}") from None
    if raw.ndim == 2:
        raw = raw[np.newaxis]
    if raw.ndim != 3 or raw.dtype.kind not in "biuf":
        raise ImageReadError(f"{path}: pixel data of shape {raw.shape} and type {raw.dtype}; expected greyscale frames")
    return raw


def _exact_dtype(raw: np.ndarray, slope: float, intercept: float, whole: bool) -> np.dtype:
    """The narrowest type holding ``raw * slope + intercept`` exactly, by the NIfTI reader's rule (``nifti._scaled``).

    With ``whole`` (integer results wanted): int16 where the values fit it; int32 for 32/64-bit stored integers past
    int16 (a PT or RT Dose stored as uint32).  Else float32, exact for 8/16-bit stored integers and any usual
    rescale of them, or float64 where float32 would round the stored integers (:func:`~.volume.float32_holds`)
    and for float64 pixel data.

    >>> [str(_exact_dtype(np.array([0, v], t), 1.0, 0.0, True)) for v, t in ((4095, np.uint16), (65535, np.uint16),
    ...  (2**24 + 1, np.uint32), (2**31, np.uint32))]
    ['int16', 'float32', 'int32', 'float64']
    """
    if raw.dtype.kind == "f":
        return np.dtype(np.float64 if raw.dtype.itemsize >= 8 else np.float32)
    lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, 0)
    if whole and float(slope).is_integer() and float(intercept).is_integer():
        s, b = int(slope), int(intercept)
        values = (lo, hi, lo * s, hi * s, lo * s + b, hi * s + b)  # the intermediate product must fit too
        for dtype in (np.int16, np.int32) if raw.dtype.itemsize >= 4 else (np.int16,):
            info = np.iinfo(dtype)
            if info.min <= min(values) and max(values) <= info.max:
                return np.dtype(dtype)
    return np.dtype(np.float32 if float32_holds(lo, hi, slope, intercept) else np.float64)


class _Stack:
    """The volume being filled slice by slice with rescaled values, in the narrowest type that holds every one
    exactly (:func:`_exact_dtype`, the NIfTI reader's rule).

    int16 while every value so far is an exact integer in int16 (integer stored values, slope and
    intercept, the usual CT case); int32 for whole values of 32-bit stored integers past it; float32 from
    the start when a slope or intercept is fractional, or from the first slice that does not fit, and
    float64 where float32 would round the stored integers.  It only widens, exactly (int16 to int32 or
    float32, and either to float64), so the slices already placed keep their values.

    >>> s = _Stack((2, 1, 2), integral=True)
    >>> s.put(0, np.array([[0, 5]], np.uint32), 1.0, 0.0); s.put(1, np.array([[2**24 + 1, 7]], np.uint32), 1.0, 0.0)
    >>> s.data.dtype, int(s.data[1, 0, 0]), s.rounding
    (dtype('int32'), 16777217, None)
    """

    def __init__(self, shape: tuple[int, ...], integral: bool) -> None:
        self.data = np.empty(shape, dtype=np.int16 if integral else np.float32)
        self.rounding: str | None = None  # the stored type float32 would have rounded, for a note

    def widen(self, raw: np.ndarray, slope: float, intercept: float) -> None:
        """Make room for ``raw * slope + intercept``: the stack's type widened to hold it exactly."""
        need = _exact_dtype(raw, slope, intercept, whole=self.data.dtype.kind == "i")
        if need == np.float64 and raw.dtype.kind in "iu" and self.rounding is None:
            self.rounding = f"{8 * raw.dtype.itemsize}-bit stored"
        target = np.promote_types(self.data.dtype, need)  # int32 with float32 is float64: neither holds the other
        if target != self.data.dtype:
            self.data = self.data.astype(target)

    def put(self, z: int, raw: np.ndarray, slope: float, intercept: float) -> None:
        self.widen(raw, slope, intercept)
        if self.data.dtype.kind == "i":  # whole values that fit (checked by widen): exact in int64
            self.data[z] = raw.astype(np.int64) * int(slope) + int(intercept)
        else:
            self.data[z] = raw.astype(np.float64) * slope + intercept


def stored_type(ds: Any) -> np.dtype:
    """The integer type of ``ds``'s stored values by their size (``BitsAllocated``), before any pixel data is
    decoded: what the memory guard counts, with results in the type volumes of it are computed in (float32 for
    16-bit, float64 for 32-bit data: :func:`~kernelcli.ndsupport.volume_dtype`).

    >>> str(stored_type({"BitsAllocated": 16})), str(stored_type({"BitsAllocated": 32}))
    ('int16', 'int32')
    """
    bits = int(ds.get("BitsAllocated", 16) or 16)
    return np.dtype(next(f"i{n}" for n in (1, 2, 4, 8) if 8 * n >= bits or n == 8))


def read_dicom(path: str | os.PathLike, *, series: str | None = None, resample_slices: bool = False, words: Any = "api") -> Volume:
    """Read a DICOM file or a folder holding a DICOM series as a (Z, Y, X) volume in HU (for CT).

    A multi-frame file is placed frame by frame: an enhanced object's per-frame
    PlanePositionSequence (with its per-frame or shared orientation and pixel measures), or an
    RT Dose's GridFrameOffsetVector; the frames are sorted along the normal like the files of a
    series.  RT Dose values are multiplied by DoseGridScaling (Gy).  In a folder, files that are
    not DICOM images are skipped with a note; several series need ``series`` (UID or index); ``words`` as read_volume's.
    """
    from ..io.folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder(path)  # ('x.dcm/' names a folder: pathlib would read x.dcm)
    pydicom = _require("pydicom", "DICOM")
    p, said = Path(path), words_for(words)
    warned = PydicomWarnings()
    if p.is_dir():
        from .series import read_series

        with warned.about(p.name):
            vol = read_series(pydicom, p, series=series, resample_slices=resample_slices, warned=warned, words=said)
    else:
        with warned.about(p.name):
            vol = _read_file(pydicom, p, resample_slices, series, said)
    vol.notes[:0] = warned.notes()  # what pydicom warned, first: it is about reading the files
    return vol


def _read_file(pydicom: Any, p: Path, resample_slices: bool, series: str | None = None, words: ReadWords = API) -> Volume:
    """One DICOM file (one slice, or the frames of a multi-frame object) as a volume; see :func:`read_dicom`.
    ``series``: refused unless it names the file's own series, its UID or index 0 (it was ignored)."""
    ds = _dcmread(pydicom, p)
    refuse_mosaic(ds, p)  # (before its pixels: a header-only mosaic is refused as one too)
    if series is not None:
        from .series import pick_series

        pick_series({str(ds.get("SeriesInstanceUID", "")): [(p, ds)]}, series, str(p), words)
    raw = _pixels(ds, p)
    notes: list[str] = []
    count = raw.shape[0]
    if getattr(ds, "_kernelcli_forced", None):
        notes.append(f"{p.name}: {ds._kernelcli_forced}")
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence") or [])
    frames: list[Any] = per_frame[:count] if len(per_frame) >= count else [None] * count
    names = [f"frame {n + 1}" for n in range(count)] if count > 1 else [p.name]
    where = [f"{p} ({name})" if count > 1 and f is not None else p for name, f in zip(names, frames)]
    iop = _orientation(ds, frames[0], where[0])
    pixel = _pixel_spacing(ds, frames[0], where[0])
    positions: list[np.ndarray | None] = [_position(ds, f, w) if f is not None else None for f, w in zip(frames, where)]
    top = _position(ds, where=p)  # the file's own ImagePositionPatient: a slice's, or the first frame's
    offsets = ds.get("GridFrameOffsetVector")
    first_position = None  # frames without positions of their own, stacked from the file's
    if count > 1 and not all(pos is not None for pos in positions) and offsets is not None and top is not None and iop is not None:
        positions = _dose_positions(ds, p, offsets, iop, count)
    elif count > 1 and not any(pos is not None for pos in positions) and top is not None:
        first_position = top  # legacy multi-frame (MR, NM, XA): one position, frames along the normal (as SimpleITK)
    elif count == 1 and positions[0] is None:
        positions = [top]
    for n, (f, w) in enumerate(zip(frames[1:], where[1:]), start=2):
        other = _orientation(ds, f, w)
        if other is not None and iop is not None and not np.allclose(other, iop, atol=1e-4):
            raise ImageReadError(f"{p}: {mismatch('ImageOrientationPatient', other, 'frame 1', iop, own=f'frame {n}')} "
                                 "(PlaneOrientationSequence): not one volume")
        spacing = _pixel_spacing(ds, f, w) if f is not None else pixel
        if (spacing is None) != (pixel is None) or (pixel is not None and not np.allclose(pixel, spacing, rtol=1e-4)):
            raise ImageReadError(f"{p}: {mismatch('PixelSpacing', spacing, 'frame 1', pixel, own=f'frame {n}')} "
                                 "(PixelMeasuresSequence): not one volume")
    rescales = [_rescale(ds, f, w) for f, w in zip(frames, where)]
    units = None
    if str(ds.get("Modality", "")) == "RTDOSE" and ds.get("DoseGridScaling") is not None:
        scale = _scale_number(ds.get("DoseGridScaling"), "DoseGridScaling", p) or 1.0
        rescales = [(scale, 0.0, True)] * count
        units = "Gy" if str(ds.get("DoseUnits", "")).upper() == "GY" else str(ds.get("DoseUnits", "") or "") or None
        notes.append(f"{p.name}: RT Dose: stored values x DoseGridScaling {scale:g} = dose ({units or 'DoseUnits not given'})")
    vol = assemble(
        ds, p, lambda i: raw[i], names, positions, iop, pixel, _slice_gap(ds, frames[0]), rescales, resample_slices, notes,
        keep_order=True, first_position=first_position, spacing_missing=missing_spacing(ds, frames[0]) if pixel is None else None, words=words,
    )
    if units:
        vol.units = units
    return vol


def _dose_positions(ds: Any, p: Path, offsets: Any, iop: np.ndarray, count: int) -> list[np.ndarray]:
    """Frame positions of an RT Dose from GridFrameOffsetVector (PS3.3 C.8.8.3.2).

    A vector starting at 0 holds offsets along the normal from ImagePositionPatient; otherwise the frames'
    z coordinates, allowed only on the axial grid (:data:`AXIAL_DOSE_ORIENTATION`): elsewhere refused, naming both tags.
    """
    values = list(offsets) if not isinstance(offsets, (str, bytes)) and hasattr(offsets, "__len__") else [offsets]
    if len(values) != count:
        raise ImageReadError(f"{p}: GridFrameOffsetVector has {len(values)} values for {count} frames")
    numbers = _numbers(values, "GridFrameOffsetVector", count, p)
    origin = _position(ds, where=p)
    assert origin is not None and numbers is not None
    if numbers[0] == 0:
        normal = normal_of(iop)
        return [origin + o * normal for o in numbers]
    if not np.allclose(iop, AXIAL_DOSE_ORIENTATION, rtol=0, atol=DIRECTION_TOLERANCE):
        shown = "\\".join(f"{float(v):g}" for v in iop)
        raise ImageReadError(
            f"{p}: GridFrameOffsetVector starts at {numbers[0]:g}, not 0, so its values are the frames' z coordinates, which "
            f"the standard (PS3.3 C.8.8.3.2) allows only for an axial grid (ImageOrientationPatient 1\\0\\0\\0\\1\\0); this "
            f"file's ImageOrientationPatient is {shown}: the frames' positions along its normal are not given"
        )
    return [np.array([origin[0], origin[1], o]) for o in numbers]


def assemble(
    ds: Any, where: Path, read: Any, names: list[str], positions: list[np.ndarray | None], iop: np.ndarray | None,
    pixel: tuple[float, float] | None, header_gap: float | None, rescales: list[tuple[float, float, bool]],
    resample: bool, notes: list[str], fallback_order: list[int] | None = None, fallback_how: str = "", keep_order: bool = False,
    first_position: np.ndarray | None = None, spacing_missing: str | None = None, words: ReadWords = API,
) -> Volume:
    """Sort slices into a volume: ``read(i)`` gives slice i's stored pixels (rows, columns).

    With every position known the slices are stacked by :func:`~.geometry.stack_slices`
    (even gaps, or resampled; ``keep_order``: the frames of one file stay in their order when
    it runs along the normal either way, as SimpleITK reads them); with none, in ``fallback_order`` at the header's gap, with a
    note; with some but not all, refused (the others cannot be placed).  Without ``iop`` the orientation is unknown:
    the slices take the same fallback (positions cannot be sorted along an unknown normal), the affine is a plain
    scaling, a note says so and the volume's ``orientation_unknown`` says why.  ``first_position``: the frames of a
    multi-frame file without positions of their own start there and follow the normal at the header's gap (as
    SimpleITK stacks them).  With no position at all, voxel 0 is put at (0, 0, 0), a note says the position is unknown
    and the volume's ``position_unknown`` says why (NIfTI outputs then keep codes 0, as for an unknown orientation).
    ``spacing_missing``: why ``pixel`` is None (:func:`~.dicom_tags.missing_spacing` of the frame it was read
    for), else that of ``ds``'s own tags.
    """
    count = len(names)
    known = [pos is not None for pos in positions]
    unknown = position_unknown = None  # why the orientation, or the position, is unknown, if it is
    assumed = []  # what of the voxel size is not in the files
    assumed_axes = []  # and along which voxel axes (x, y: PixelSpacing; z: the slice spacing)
    if pixel is None:
        why = spacing_missing or missing_spacing(ds)
        notes.append(f"{where.name}: {why}; assuming 1 mm")
        assumed.append(why)
        assumed_axes += ["x", "y"]
        pixel = (1.0, 1.0)
    blend = None
    if iop is not None and all(known):
        stack = stack_slices(positions, iop, names, str(where), resample=resample, keep_order=keep_order, words=words)  # type: ignore[arg-type]
        order, origin, step, blend = stack.order, stack.origin, stack.step, stack.blend
        notes.extend(stack.notes)
        if count == 1:
            gap = header_gap or 1.0
            step = step * gap
    else:
        if any(known) and not all(known) and count > 1:
            missing = [name for name, k in zip(names, known) if not k]
            shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
            raise ImageReadError(
                f"{where}: {len(missing)} of {count} slices have no ImagePositionPatient ({shown}): they cannot be placed "
                "in the volume; remove them or give the series without them"
            )
        gap = header_gap or 1.0
        bad_spacing = unusable_slice_spacing(ds) if count > 1 else None
        if bad_spacing is not None:
            raise ImageReadError(
                f"{where}: SpacingBetweenSlices is {bad_spacing:g}, and it alone places the slices here (no position per "
                f"slice, or no ImageOrientationPatient to order them by); expected a positive number of mm"
                + (f" ({bad_spacing:g} may mean {-bad_spacing:g} mm against the normal, as SimpleITK reads it: not guessed)"
                   if bad_spacing < 0 else "")
            )
        order = fallback_order if fallback_order is not None else list(range(count))
        origin = positions[order[0]] if positions[order[0]] is not None else first_position
        if origin is None:
            position_unknown, origin = "no ImagePositionPatient", np.zeros(3)
        unplaced = ("no ImagePositionPatient: the position is unknown (voxel 0 put at 0, 0, 0 mm; NIfTI outputs keep "
                    "qform/sform codes 0, unknown)")
        if count == 1 and position_unknown:
            notes.append(f"{where.name}: {unplaced}")
        if count > 1:
            how = fallback_how or ("frame order" if fallback_order is None else "InstanceNumber")
            source = "from the header" if header_gap else f"assumed: {missing_slice_gap(ds)}"
            if not header_gap:
                assumed.append(f"no slice spacing (no position per slice, and {missing_slice_gap(ds)})")
                assumed_axes.append("z")
            if first_position is not None:
                notes.append(f"{where.name}: no per-frame positions; frames stacked in {how} from ImagePositionPatient along "
                             f"the normal, {gap:g} mm apart ({source})")
            else:
                # with every position known but no orientation, the normal to sort along is unknown: the same fallback
                why = unplaced if not any(known) else (
                    "no ImageOrientationPatient, so the slice normal is unknown and ImagePositionPatient cannot order the slices")
                notes.append(f"{where.name}: {why}; slices sorted by {how}, {gap:g} mm apart ({source})")
        if iop is None:
            notes.append(f"{where.name}: no ImageOrientationPatient; the NIfTI affine is a plain scaling (orientation unknown)")
            unknown = "no ImageOrientationPatient"
        iop = iop if iop is not None else np.array([1.0, 0, 0, 0, 1.0, 0])
        step = normal_of(iop) * gap
    if count == 1 and not header_gap:  # (a depth of 1 mm made up in silence: a kernel in mm then ran on it)
        notes.append(f"{where.name}: one slice and {missing_slice_gap(ds)}: its depth is taken as 1 mm")
        assumed.append(f"one slice and {missing_slice_gap(ds)}")
        assumed_axes.append("z")
    rows, cols = int(ds.Rows), int(ds.Columns)
    check_volume_memory(where, (len(order) if blend is None else len(blend), rows, cols), stored_type(ds))
    integral = blend is None and all(float(s).is_integer() and float(b).is_integer() for s, b, _ in rescales)
    stack_ = _Stack((len(order) if blend is None else len(blend), rows, cols), integral)
    if blend is None:
        for z, i in enumerate(order):
            slope, intercept, _ = rescales[i]
            stack_.put(z, read(i), slope, intercept)
    else:
        cache: dict[int, np.ndarray] = {}

        def rescaled(j: int) -> np.ndarray:
            if j not in cache:
                cache.clear() if len(cache) > 2 else None
                i = order[j]
                raw = read(i)
                stack_.widen(raw, rescales[i][0], rescales[i][1])
                cache[j] = raw.astype(np.float64) * rescales[i][0] + rescales[i][1]
            return cache[j]

        for z, (j, w) in enumerate(blend):
            stack_.data[z] = rescaled(j) * (1 - w) + rescaled(j + 1) * w if w else rescaled(j)
    spacing = (float(np.linalg.norm(step)), *pixel)
    present = all(r[2] for r in rescales)
    if stack_.rounding:
        notes.append(f"{where.name}: {stack_.rounding} values with their rescale are read and filtered as float64: "
                     "float32 would round them (it holds whole numbers exactly only up to 2^24)")
    vol = _dicom_volume(ds, where, stack_.data, spacing, _dicom_affine(iop, origin, step, *pixel), present, notes)
    vol.orientation_unknown, vol.spacing_assumed, vol.assumed_axes = unknown, "; ".join(assumed) or None, tuple(assumed_axes)
    vol.position_unknown = position_unknown  # (a tilt's sheared grid: a NIfTI output says what its qform holds of it)
    return vol


def _dicom_volume(ds: Any, p: Path, data: np.ndarray, spacing: tuple[float, float, float], affine: np.ndarray, rescaled: bool, notes: list[str]) -> Volume:
    modality = str(ds.get("Modality", "") or "") or None
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    units = None
    if modality == "CT":  # (HU unless the file says otherwise: a RescaleType of US, a derived perfusion map's)
        units, said = ct_units(ds, rescaled, p.name)
        notes.extend(filter(None, [said]))
    if (lut := modality_lut(ds)) is not None:
        entries = lut.get("LUTDescriptor", [0])[0] or 65536  # 0 means 2**16 entries
        notes.append(f"{p.name}: values mapped through its Modality LUT (ModalityLUTSequence, {entries} entries"
                     f"{', type ' + str(lut.ModalityLUTType) if lut.get('ModalityLUTType') else ''}), as pydicom's apply_modality_lut")
    inverted = str(ds.get("PhotometricInterpretation", "") or "").strip().upper() == "MONOCHROME1"
    if inverted:
        notes.append(f"{p.name}: MONOCHROME1 (higher values display darker): values are kept; PNG previews are inverted to match")
    return Volume(
        data=data, spacing=tuple(float(v) for v in spacing), affine=affine, path=p, format="DICOM",  # type: ignore[arg-type]
        modality=modality, units=units, window=(center, width) if center is not None and width and width >= 1 else None,
        notes=notes, inverted=inverted,
    )
