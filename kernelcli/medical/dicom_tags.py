"""DICOM header values read as numbers, each checked: a value that is there but is not what the tag holds
(``'abc\\def'`` for PixelSpacing, a NaN position, a RescaleSlope of 0, an orientation whose two directions
are parallel) is refused naming the file and the tag, never read as missing or as 1.

Example
-------
>>> _first([40, 400]), _first("-600"), _first("")
(40.0, -600.0, None)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ImageReadError
from .geometry import DIRECTION_TOLERANCE, is_degenerate


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


def _functional(ds: Any, sequence: str, attribute: str, frame: Any = None) -> Any:
    """``attribute`` from an enhanced (multi-frame) object's functional groups: the frame's own
    (``frame``, an item of PerFrameFunctionalGroupsSequence) first, then the shared ones; or None."""
    for groups in (frame, (ds.get("SharedFunctionalGroupsSequence") or [None])[0]):
        if groups is None:
            continue
        seq = groups.get(sequence)
        if seq and seq[0].get(attribute) is not None:
            return seq[0].get(attribute)
    return None


def _tag_text(value: Any) -> str:
    """A DICOM value as the header holds it (``a\\b\\c``), for a message."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return str(value).strip()
    return "\\".join(str(v).strip() for v in value)


def mismatch(tag: str, value: Any, other: str, other_value: Any, *, own: str = "") -> str:
    r"""How one file's (or frame's) ``tag`` differs from ``other``'s, both values as a header writes them; None
    stands for a tag that is not there.  ``own``: who holds ``value``, when the message does not start with it.

    >>> print(mismatch("PixelSpacing", None, "IM000.dcm", (0.661468, 0.661468)))
    no PixelSpacing, but IM000.dcm has 0.661468\0.661468
    >>> print(mismatch("PixelSpacing", (0.5, 0.8), "frame 1", (0.8, 0.6), own="frame 3"))
    frame 3's PixelSpacing 0.5\0.8 differs from frame 1's 0.8\0.6
    """
    def shown(values: Any) -> str:
        return "\\".join(f"{float(v):g}" for v in values)

    if value is None:
        return f"{own + ' has ' if own else ''}no {tag}, but {other} has {shown(other_value)}"
    whose = f"{own}'s " if own else ""
    if other_value is None:
        return f"{whose}{tag} {shown(value)}, but {other} has none"
    return f"{whose}{tag} {shown(value)} differs from {other}'s {shown(other_value)}"


def _numbers(value: Any, tag: str, count: int, where: Any) -> np.ndarray | None:
    """``count`` finite numbers from a multi-valued tag (ImagePositionPatient: 3), or None when it is absent or empty.

    A value that is there but is not ``count`` finite numbers is refused naming ``where`` (the
    file, or a frame of it) and the tag: read as missing it would be placed, sorted or sized
    by a guess (a NaN position sorts anywhere).

    >>> _numbers(["1", "2.5", "-3"], "ImagePositionPatient", 3, "a.dcm").tolist(), _numbers("", "PixelSpacing", 2, "a.dcm")
    ([1.0, 2.5, -3.0], None)
    >>> _numbers(["1", "2"], "ImagePositionPatient", 3, "a.dcm")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: a.dcm: ImagePositionPatient has 2 values (1\\2); expected 3 numbers
    """
    if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
        return None
    items = list(value) if not isinstance(value, (str, bytes)) and hasattr(value, "__len__") else [value]
    if not items:
        return None
    text = _tag_text(value)
    wanted = "a number" if count == 1 else f"{count} numbers"
    if len(items) != count:
        raise ImageReadError(f"{where}: {tag} has {len(items)} value{'s' if len(items) != 1 else ''} ({text}); expected {wanted}")
    try:
        numbers = np.array([float(v) for v in items], dtype=np.float64)
    except (TypeError, ValueError):
        raise ImageReadError(f"{where}: {tag} is '{text}', not {'a number' if count == 1 else 'numbers'}; expected {wanted}") from None
    if not np.all(np.isfinite(numbers)):
        raise ImageReadError(f"{where}: {tag} is '{text}', not finite; expected {wanted.replace('number', 'finite number')}")
    return numbers


def _scale_number(value: Any, tag: str, where: Any) -> float | None:
    """A rescale factor (RescaleSlope, RescaleIntercept, DoseGridScaling) or None when absent; one that is not a
    finite number, or a slope of 0, is refused naming ``where`` and the tag (read as 1 it would give values in the
    wrong units under the right name).

    >>> _scale_number("2.5", "RescaleSlope", "a.dcm"), _scale_number(None, "RescaleSlope", "a.dcm")
    (2.5, None)
    >>> _scale_number("0", "RescaleSlope", "a.dcm")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: a.dcm: RescaleSlope is 0; expected a non-zero number (stored value x slope + intercept)
    """
    items = list(value) if value is not None and not isinstance(value, (str, bytes)) and hasattr(value, "__len__") else [value]
    numbers = _numbers(items[0] if items else None, tag, 1, where)  # VM 1 (a second value, which no standard allows, is ignored)
    if numbers is None:
        return None
    number = float(numbers[0])
    if number == 0 and tag != "RescaleIntercept":
        raise ImageReadError(f"{where}: {tag} is 0; expected a non-zero number (stored value x slope + intercept)")
    return number


def _rescale(ds: Any, frame: Any = None, where: Any = "") -> tuple[float, float, bool]:
    """(slope, intercept, present) from the dataset, or its per-frame or shared functional groups; a file whose values
    a Modality LUT defines has them from :func:`modality_lut` (applied as the pixels are read): (1, 0, True)."""
    slope = _scale_number(ds.get("RescaleSlope"), "RescaleSlope", where)
    intercept = _scale_number(ds.get("RescaleIntercept"), "RescaleIntercept", where)
    if slope is None and intercept is None:
        slope = _scale_number(_functional(ds, "PixelValueTransformationSequence", "RescaleSlope", frame), "RescaleSlope", where)
        intercept = _scale_number(_functional(ds, "PixelValueTransformationSequence", "RescaleIntercept", frame),
                                  "RescaleIntercept", where)
    present = slope is not None or intercept is not None or modality_lut(ds) is not None
    return (1.0 if slope is None else slope), (0.0 if intercept is None else intercept), present


#: DICOM's defined terms of RescaleType (PS3.3 C.11.1.1.2) other than HU, for a note
RESCALE_TYPES = {"US": "unspecified", "OD": "optical density", "MGML": "mg/ml", "Z_EFF": "effective atomic number",
                 "ED": "electron density", "EDW": "electron density relative to water", "HU_MOD": "modified HU",
                 "PCT": "percent"}


def rescale_type(ds: Any) -> str | None:
    """The RescaleType the file states (its own, else its enhanced frames' PixelValueTransformationSequence), or
    None where it states none; where frames differ, the first that is not HU (those values, at least, are not HU).

    >>> rescale_type({"RescaleType": "US"}), rescale_type({})
    ('US', None)
    """
    frames = [None, *(ds.get("PerFrameFunctionalGroupsSequence") or [])]
    stated = [ds.get("RescaleType")] + [_functional(ds, "PixelValueTransformationSequence", "RescaleType", f) for f in frames]
    types = [str(t).strip().upper() for t in stated if t is not None and str(t).strip()]
    return next((t for t in types if t != "HU"), types[0] if types else None)


def ct_units(ds: Any, rescaled: bool, name: str) -> tuple[str | None, str | None]:
    """(units, note) of a CT's values: HU where they are rescaled and no RescaleType says otherwise (the CT
    Image module implies HU); else the stated type (None for US, unspecified), with a note saying they are not HU.

    >>> ct_units({"RescaleType": "US"}, True, "a.dcm")
    (None, 'a.dcm: RescaleType US (unspecified): its values are not HU')
    """
    if not rescaled:
        return None, f"{name}: CT without RescaleSlope/RescaleIntercept; values kept as stored (they may not be HU)"
    stated = rescale_type(ds)
    if stated in (None, "HU"):
        return "HU", None
    meaning = f" ({RESCALE_TYPES[stated]})" if stated in RESCALE_TYPES else ""
    return (None if stated == "US" else stated), f"{name}: RescaleType {stated}{meaning}: its values are not HU"


def modality_lut(ds: Any) -> Any:
    """The Modality LUT that defines the file's values (DICOM PS3.3 C.11.1: the alternative to RescaleSlope and
    RescaleIntercept), or None: its ``ModalityLUTSequence`` where the file has no rescale of its own."""
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return None
    sequence = ds.get("ModalityLUTSequence")
    return sequence[0] if sequence else None


def _mosaic_count(ds: Any) -> int | None:
    """Siemens' NumberOfImagesInMosaic: the private tag (0019,xx0A) of the block its creator ``SIEMENS MR HEADER``
    reserves (usually (0019,100A)), or None where the file has none, or one that is not a number."""
    try:
        value = ds.private_block(0x0019, "SIEMENS MR HEADER")[0x0A].value
    except (AttributeError, KeyError, ValueError, TypeError):
        return None
    if isinstance(value, bytes):  # (read as UN where pydicom does not know the VR: a little-endian US)
        return int.from_bytes(value[:2], "little") if len(value) >= 2 else None
    number = _first(value)
    return int(number) if number is not None and math.isfinite(number) else None


def refuse_mosaic(ds: Any, where: Any) -> None:
    r"""Refuse a Siemens mosaic: an MR volume whose slices are tiled side by side in one image (``ImageType`` holding
    ``MOSAIC``, or a NumberOfImagesInMosaic (0019,100A)).  Read as one image it would be one slice: a kernel in mm
    would blur each slice into its neighbours in the tiling, and the volume would sit at the mosaic's corner, hundreds
    of mm from the tissue; dcm2niix (or nibabel.nicom) unpacks it to a volume.

    >>> refuse_mosaic({"ImageType": ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"], "Rows": 384, "Columns": 384}, "a.dcm")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: a.dcm: a Siemens mosaic (ImageType ORIGINAL\PRIMARY\M\ND\MOSAIC): its slices are tiled in one 384x384 image, which kernelcli does not unpack (read as one slice, each slice would blur into its neighbours and the volume sit at the mosaic's corner, hundreds of mm off); convert it to a NIfTI first (dcm2niix) and give that
    """
    raw = ds.get("ImageType")
    values = [] if raw is None else [raw] if isinstance(raw, (str, bytes)) else list(raw)
    kinds = {part.strip().upper() for value in values for part in str(value).split("\\")}
    count = _mosaic_count(ds)
    if "MOSAIC" not in kinds and not count:
        return
    said = [f"ImageType {_tag_text(raw)}"] if "MOSAIC" in kinds else []
    if count:
        said.append(f"NumberOfImagesInMosaic (0019,100A) {count}")
    raise ImageReadError(
        f"{where}: a Siemens mosaic ({', '.join(said)}): {f'{count} slices' if count else 'its slices'} are tiled in one "
        f"{ds.get('Rows')}x{ds.get('Columns')} image, which kernelcli does not unpack (read as one slice, each slice would "
        "blur into its neighbours and the volume sit at the mosaic's corner, hundreds of mm off); convert it to a NIfTI "
        "first (dcm2niix) and give that"
    )


def _pixel_spacing(ds: Any, frame: Any = None, where: Any = "") -> tuple[float, float] | None:
    """(row, column) spacing in mm; None when absent or not positive (1 mm is then assumed, with a note)."""
    spacing = _numbers(ds.get("PixelSpacing") or _functional(ds, "PixelMeasuresSequence", "PixelSpacing", frame),
                       "PixelSpacing", 2, where)
    if spacing is None:
        return None
    dy, dx = float(spacing[0]), float(spacing[1])
    return (dy, dx) if dy > 0 and dx > 0 else None


def missing_spacing(ds: Any, frame: Any = None) -> str:
    """Why :func:`_pixel_spacing` gave None: the tag is absent, or not positive (named as the header holds it).

    >>> from types import SimpleNamespace as Header
    >>> missing_spacing(Header(get=lambda k, d=None: None)), missing_spacing(Header(get=lambda k, d=None: ["0", "0"]))
    ('no PixelSpacing', 'PixelSpacing 0\\\\0 is not positive')
    """
    raw = ds.get("PixelSpacing") or _functional(ds, "PixelMeasuresSequence", "PixelSpacing", frame)
    return "no PixelSpacing" if raw is None or not _tag_text(raw) else f"PixelSpacing {_tag_text(raw)} is not positive"


def _orientation(ds: Any, frame: Any = None, where: Any = "") -> np.ndarray | None:
    """ImageOrientationPatient (row, then column direction cosines), or None when absent; refused when degenerate."""
    raw = ds.get("ImageOrientationPatient") or _functional(ds, "PlaneOrientationSequence", "ImageOrientationPatient", frame)
    iop = _numbers(raw, "ImageOrientationPatient", 6, where)
    if iop is not None and is_degenerate(iop):
        raise ImageReadError(
            f"{where}: ImageOrientationPatient ({_tag_text(raw)}) is degenerate: its row and column directions are zero or "
            "parallel, so they span no plane; expected two perpendicular unit vectors"
        )
    if iop is not None:
        lengths = np.linalg.norm(iop[:3]), np.linalg.norm(iop[3:])
        cosine = float(np.dot(iop[:3], iop[3:]) / (lengths[0] * lengths[1]))
        if max(abs(lengths[0] - 1), abs(lengths[1] - 1)) > DIRECTION_TOLERANCE or abs(cosine) > DIRECTION_TOLERANCE:
            angle = math.degrees(math.acos(min(1.0, max(-1.0, cosine))))
            raise ImageReadError(  # (read as given, a length of 2 doubles a voxel in the affine; an angle shears it)
                f"{where}: ImageOrientationPatient ({_tag_text(raw)}) is not two perpendicular unit vectors (lengths "
                f"{lengths[0]:.4g} and {lengths[1]:.4g}, {angle:.4g} degrees apart); expected direction cosines"
            )
    return iop


def _position(ds: Any, frame: Any = None, where: Any = "") -> np.ndarray | None:
    """ImagePositionPatient (the file's, or ``frame``'s PlanePositionSequence), or None when absent."""
    ipp = ds.get("ImagePositionPatient") if frame is None else _functional(ds, "PlanePositionSequence", "ImagePositionPatient", frame)
    return _numbers(ipp, "ImagePositionPatient", 3, where)


def unusable_slice_spacing(ds: Any, frame: Any = None) -> float | None:
    """SpacingBetweenSlices where it is there but negative or not finite (-3: SimpleITK stacks such frames 3 mm apart
    against the normal, another reader 3 mm along it), else None: frames placed by it alone are refused, not guessed.
    A 0 is no spacing at all: SliceThickness stands in for it, as for one not given.

    >>> from types import SimpleNamespace as Header
    >>> [unusable_slice_spacing(Header(get=lambda k, d=None: v if k == "SpacingBetweenSlices" else None)) for v in ("-3", "0")]
    [-3.0, None]
    """
    value = _first(ds.get("SpacingBetweenSlices"))
    if value is None:
        value = _first(_functional(ds, "PixelMeasuresSequence", "SpacingBetweenSlices", frame))
    return value if value is not None and (value < 0 or not math.isfinite(value)) else None


def _slice_gap(ds: Any, frame: Any = None) -> float | None:
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        value = _first(ds.get(key)) or _first(_functional(ds, "PixelMeasuresSequence", key, frame))
        if value is not None and math.isfinite(value) and value > 0:
            return value
    return None


def missing_slice_gap(ds: Any) -> str:
    """Why :func:`_slice_gap` gave None for ``ds`` (its first frame's, for an enhanced object): neither tag is there,
    or the one that is is not a positive number (named as the header holds it), as :func:`missing_spacing` says.

    >>> from types import SimpleNamespace as Header
    >>> missing_slice_gap(Header(get=lambda k, d=None: None))
    'no SliceThickness or SpacingBetweenSlices'
    >>> missing_slice_gap(Header(get=lambda k, d=None: {"SliceThickness": "-2", "SpacingBetweenSlices": "0"}.get(k)))
    'SpacingBetweenSlices 0 and SliceThickness -2 are not positive'
    """
    frame = (ds.get("PerFrameFunctionalGroupsSequence") or [None])[0]
    said = []
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        raw = ds.get(key)
        raw = raw if raw is not None and _tag_text(raw) else _functional(ds, "PixelMeasuresSequence", key, frame)
        if raw is not None and _tag_text(raw):
            value = _first(raw)
            said.append((f"{key} {_tag_text(raw)}", "not a number" if value is None else "not positive"))
    if not said:
        return "no SliceThickness or SpacingBetweenSlices"
    if len(said) == 2 and said[0][1] == said[1][1]:
        return f"{said[0][0]} and {said[1][0]} are {said[0][1]}"
    return " and ".join(f"{tag} is {why}" for tag, why in said)
