"""A folder holding one DICOM series: slices sorted along the normal into one volume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InputError, UsageError
from .dicom import _dcmread, _dicom_affine, _dicom_volume, _orientation, _pixel_spacing, _pixels, _position, _rescale, _slice_gap, _Stack
from .volume import Volume

def read_series(pydicom: Any, folder: Path) -> Volume:
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


