"""A folder holding DICOM series: one series chosen, its slices sorted along the normal into one volume.

Example
-------
>>> pick_series({"1.2.3": [], "1.2.4": []}, "1", "scans")
'1.2.4'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InputError, UsageError
from .dicom import _dcmread, _pixels, assemble
from .dicom_tags import _orientation, _pixel_spacing, _position, _rescale, _slice_gap
from .pydicom_notes import PydicomWarnings
from .volume import Volume


def _headers(pydicom: Any, folder: Path, warned: PydicomWarnings) -> tuple[list[tuple[Path, Any]], list[str]]:
    """(path, header) of every DICOM image in the folder, and the names of the files skipped.

    What pydicom warns about a file kept as a DICOM image goes to ``warned``, naming it; about a
    file skipped (not DICOM, a DICOMDIR), nothing: the note on the skipped files says enough.
    """
    headers: list[tuple[Path, Any]] = []
    skipped: list[str] = []
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder: {exc.strerror or exc}") from None
    for entry in entries:
        if not entry.is_file():
            continue
        said = PydicomWarnings()  # kept only for the files that stay
        with said.about(entry.name):
            try:
                ds = _dcmread(pydicom, entry, headers_only=True)
            except ImageReadError:  # not DICOM, or unreadable: skipped with a note
                ds = None
            if ds is None or "Rows" not in ds or str(ds.get("SOPClassUID", "")) == "1.2.840.10008.1.3.10":  # no image / DICOMDIR
                skipped.append(entry.name)
                continue
        warned.extend(said)
        headers.append((entry, ds))
    return headers, skipped


def pick_series(series: dict[str, list[Any]], choice: str | None, where: str) -> str:
    """The UID of the series to read: the only one, or ``choice`` (a UID, or an index into the listing).

    The listing order is the dictionary's (the caller sorts by SeriesNumber, then UID).
    """
    uids = list(series)
    if choice is None:
        if len(uids) == 1:
            return uids[0]
        raise UsageError(f"{where}: holds {len(uids)} DICOM series; pick one with --series UID or --series INDEX:\n" + _listing(series))
    text = str(choice).strip()
    if text in series:
        return text
    if text.isdigit() and int(text) < len(uids):
        return uids[int(text)]
    raise UsageError(f"{where}: --series {text}: no such series (a UID, or an index from 0 to {len(uids) - 1}):\n" + _listing(series))


def _listing(series: dict[str, list[Any]]) -> str:
    lines = []
    for n, (uid, items) in enumerate(series.items()):
        ds = items[0][1] if items and isinstance(items[0], tuple) else None
        facts = []
        if ds is not None:
            for key in ("SeriesNumber", "Modality", "SeriesDescription"):
                if ds.get(key) not in (None, ""):
                    facts.append(f"{key} {ds.get(key)}")
            facts.append(f"{len(items)} file(s), e.g. {items[0][0].name}")
        lines.append(f"  [{n}] {uid or '(no SeriesInstanceUID)'}" + (f": {', '.join(facts)}" if facts else ""))
    return "\n".join(lines)


def read_series(pydicom: Any, folder: Path, *, series: str | None = None, resample_slices: bool = False,
                warned: PydicomWarnings | None = None) -> Volume:
    """Read one series of a folder (see :func:`~.dicom.read_dicom`).

    What pydicom warns while a file is read goes to ``warned`` naming that file (the caller makes
    notes of it); without ``warned`` it is dropped.
    """
    warned = warned if warned is not None else PydicomWarnings()
    headers, skipped = _headers(pydicom, folder, warned)
    if not headers:
        raise InputError(f"{folder}: no DICOM images in this folder")
    notes: list[str] = []
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        notes.append(f"{folder.name}: skipped {len(skipped)} file(s) that are not DICOM images ({shown})")

    groups: dict[str, list[tuple[Path, Any]]] = {}
    for entry, ds in headers:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((entry, ds))

    def number(uid: str) -> tuple[float, str]:
        value = groups[uid][0][1].get("SeriesNumber")
        try:
            return float(value), uid
        except (TypeError, ValueError):
            return float("inf"), uid

    groups = {uid: groups[uid] for uid in sorted(groups, key=number)}
    uid = pick_series(groups, series, str(folder))
    headers = groups[uid]
    if len(groups) > 1:
        notes.append(f"{folder.name}: series {uid} ({len(headers)} of {sum(len(v) for v in groups.values())} files)")

    first_path, first = headers[0]
    size = (int(first.Rows), int(first.Columns))
    from .volume import check_volume_memory

    # from the headers, before any pixel data is decoded
    check_volume_memory(folder, (len(headers), *size), max(1, int(first.get("BitsAllocated", 16) or 16) // 8))
    with warned.about(first_path.name):
        iop = _orientation(first, where=first_path)
        pixel = _pixel_spacing(first, where=first_path)
    # header values are converted when first used: per file, so that pydicom's warnings (and our refusals) name the file
    facts = []
    for entry, ds in headers:
        with warned.about(entry.name):
            facts.append((_position(ds, where=entry), _rescale(ds, where=entry), ds.get("InstanceNumber"),
                          _orientation(ds, where=entry), _pixel_spacing(ds, where=entry)))
    for (entry, ds), (_, _, _, other, ps) in zip(headers[1:], facts[1:]):
        if (int(ds.Rows), int(ds.Columns)) != size:
            raise ImageReadError(f"{entry}: {ds.Rows}x{ds.Columns} pixels, but {first_path.name} has {size[0]}x{size[1]}: not one volume")
        if (iop is None) != (other is None) or (iop is not None and not np.allclose(iop, other, atol=1e-4)):
            raise ImageReadError(f"{entry}: ImageOrientationPatient differs from {first_path.name}'s: not one volume")
        if (pixel is None) != (ps is None) or (pixel is not None and not np.allclose(pixel, ps, rtol=1e-4)):
            raise ImageReadError(f"{entry}: PixelSpacing {ps} differs from {first_path.name}'s {pixel}: not one volume")

    numbers = [number for _, _, number, _, _ in facts]
    fallback, how = None, "file name"
    if all(n is not None for n in numbers):
        fallback, how = sorted(range(len(headers)), key=lambda i: int(numbers[i])), "InstanceNumber"

    def read(i: int) -> np.ndarray:
        entry = headers[i][0]
        with warned.about(entry.name):
            raw = _pixels(_dcmread(pydicom, entry), entry)
        if raw.shape[0] != 1:
            raise ImageReadError(f"{entry}: {raw.shape[0]} frames in one file of a series; expected one slice per file")
        return raw[0]

    return assemble(
        first, folder, read, [entry.name for entry, _ in headers], [position for position, *_ in facts], iop, pixel,
        _slice_gap(first), [rescale for _, rescale, *_ in facts], resample_slices, notes, fallback, how,
    )
