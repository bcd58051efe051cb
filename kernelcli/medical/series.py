"""A folder holding DICOM series: one series chosen, its slices sorted along the normal into one volume.

Example
-------
>>> pick_series({"1.2.3": [], "1.2.4": []}, "1", "scans")
'1.2.4'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, InputError, UsageError
from ..io.read_words import API, ReadWords
from ..volume_inputs import SERIES_OWN_FILES, dicom_folders, dicom_folders_below, series_folders_said
from .dicom import _dcmread, _pixels, _read_file, assemble, stored_type
from .dicom_read import UnreadableDicom
from .dicom_tags import _orientation, _pixel_spacing, _position, _rescale, _slice_gap, mismatch, modality_lut, refuse_mosaic
from .lost_slices import COPY_AGAIN, DICOMDIR_CLASS, is_dicomdir, refuse_cut_slices, refuse_not_dicom_named_as_dicom, sop_class
from .pydicom_notes import PydicomWarnings
from .volume import Volume


#: the elements that hold a DICOM image's pixels: Pixel Data, Float Pixel Data, Double Float Pixel Data
PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def holds_an_image(pydicom: Any, path: Path, ds: Any) -> bool:
    """True where ``ds``, the header of ``path`` read up to its pixel data, is of a DICOM image: Rows and a pixel data
    element (:data:`PIXEL_DATA_TAGS`) after it, and no DICOMDIR.  A header kept whole without its pixels (pydicom's
    ``stop_before_pixels`` saved back, ``dcmodify -ea PixelData``) has Rows and no image: its folder was advised as a
    series to give, which then failed on its first file.  The pixel data is looked for past the header, skipped over,
    never read; a file read without its preamble (``_kernelcli_forced``) is judged by Rows alone.

    >>> holds_an_image(None, Path("x.dcm"), {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"})
    False
    """
    if "Rows" not in ds or sop_class(ds) == DICOMDIR_CLASS:
        return False
    if getattr(ds, "_kernelcli_forced", None):
        return True
    try:
        whole = pydicom.dcmread(str(path), specific_tags=list(PIXEL_DATA_TAGS), defer_size=0)
    except Exception:  # noqa: BLE001 - its header was read: reading its pixels says what is wrong
        return True
    return any(tag in whole for tag in PIXEL_DATA_TAGS)


def _headers(pydicom: Any, folder: Path, warned: PydicomWarnings) -> tuple[list[tuple[Path, Any]], list[str], list[str],
                                                                         list[tuple[Path, Any]]]:
    """(path, header) of every DICOM image in the folder, the names of the files skipped as no DICOM image, those of
    the entries skipped as no regular file, each with why ("s2.dcm (a broken link)"), and (path, header) of the DICOM
    files without an image (:func:`holds_an_image`; :func:`refuse_slices_without_pixels` tells a slice lost among
    them); sub-folders are :func:`dicom_folders`'.

    What pydicom warns about a file kept as a DICOM image goes to ``warned``, naming it; about a
    file skipped (not DICOM, a DICOMDIR), nothing: the note on the skipped files says enough.
    """
    headers: list[tuple[Path, Any]] = []
    skipped: list[str] = []
    imageless: list[tuple[Path, Any]] = []  # of those, the DICOM files without an image (a header without pixel data)
    unread: list[str] = []  # a slice whose link points at an archive not mounted is a slice lost: said, never dropped
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder: {exc.strerror or exc}") from None
    from ..io.reads import note_input

    for entry in entries:
        if entry.is_dir():
            continue
        if not entry.is_file():  # (checked before any open: a FIFO blocks it)
            why = ("a broken link" if entry.is_symlink() and not os.path.exists(entry) else
                   "a device, pipe or socket" if os.path.exists(entry) else "cannot be read")
            unread.append(f"{entry.name} ({why})")
            continue
        note_input(entry)  # each file opened is an input: no output of this call (a --report) is written over it
        said = PydicomWarnings()  # kept only for the files that stay
        with said.about(entry.name):
            try:
                ds = _dcmread(pydicom, entry, headers_only=True)
            except UnreadableDicom as exc:  # DICOM, but not whole: refused, unless what was read names another series
                ds = exc.header
                ds._kernelcli_cut = exc.reason
            except ImageReadError:  # not DICOM: skipped with a note, but where its name says DICOM (a slice lost?)
                refuse_not_dicom_named_as_dicom(entry)
                ds = None
            if ds is None or getattr(ds, "_kernelcli_cut", None) or not holds_an_image(pydicom, entry, ds):
                skipped.append(entry.name)  # (no DICOM, no image, a DICOMDIR, a file cut off)
                if ds is not None and not is_dicomdir(ds, entry):
                    imageless.append((entry, ds))
                continue
        warned.extend(said)
        headers.append((entry, ds))
    return headers, skipped, unread, imageless


#: why a folder of DICOM files that hold no image is not a series, for a refusal and a study folder's advice
NO_IMAGE = "DICOM files without an image (headers without pixel data)"


def _shown(names: list[Any]) -> str:
    """The first three of ``names`` (file names, or (path, header) pairs), for a note or a refusal.

    >>> _shown(["a.dcm", "b.dcm", "c.dcm", "d.dcm"]), _shown([(Path("s/a.dcm"), {})])
    ('a.dcm, b.dcm, c.dcm, ...', 'a.dcm')
    """
    said = [name[0].name if isinstance(name, tuple) else name for name in names]
    return ", ".join(said[:3]) + (", ..." if len(said) > 3 else "")


def refuse_slices_without_pixels(imageless: list[tuple[Path, Any]], uid: str, images: list[tuple[Path, Any]] = ()) -> None:
    """Refuse the series ``uid`` where one of the folder's DICOM files without an image is a slice of it: a header that
    states an image (Rows and Columns) of the same SeriesInstanceUID (none, where the images have none), but holds no
    pixel data (deleted, or a copy cut off where its pixels start).  Read without it, the volume would be a slice short
    (or refused for an uneven gap that never names it).  Where one of the series' ``images`` is the same instance
    (:func:`_instance_key`: a re-copy aborted beside the whole file), the slice is there: both files are named, and the
    one without pixels is to be removed (which of two files is meant is not chosen in silence); so too where one of them
    holds its slice position (:func:`_position_held`): it is extra, not a lost slice.  A file without Rows or
    Columns states no image (a structured report, a header alone), and one of another series is no slice of this one:
    those are set aside with a note.

    >>> refuse_slices_without_pixels([(Path("s/IM4.dcm"), {"Rows": 2, "Columns": 3, "SeriesInstanceUID": "1.2"})], "1.2")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: s/IM4.dcm: a slice of this series without pixel data (its header states a 2x3 image, but no Pixel Data follows: deleted, or a copy cut off where its pixels start): read without it the volume would be a slice short; copy the file again whole, or move it out of the folder
    >>> head = {"Rows": 2, "Columns": 3, "SeriesInstanceUID": "1.2", "SOPInstanceUID": "1.2.4", "InstanceNumber": "4"}
    >>> refuse_slices_without_pixels([(Path("s/IM4_hdr.dcm"), head)], "1.2", [(Path("s/IM4.dcm"), dict(head))])
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: s/IM4_hdr.dcm: a copy of IM4.dcm without its pixel data (the same DICOM instance: SOPInstanceUID 1.2.4, same position and InstanceNumber; no Pixel Data follows its header): the series has that slice whole in IM4.dcm; remove IM4_hdr.dcm
    """
    whole = {key: entry for entry, ds in images if (key := _instance_key(ds)) is not None}
    for entry, ds in imageless:
        if "Rows" in ds and "Columns" in ds and str(ds.get("SeriesInstanceUID", "")) == uid:
            if (copy := whole.get(_instance_key(ds))) is not None:
                raise ImageReadError(
                    f"{entry}: a copy of {copy.name} without its pixel data (the same DICOM instance: SOPInstanceUID "
                    f"{_instance_key(ds)[0]}, same position and InstanceNumber; no Pixel Data follows its header): the series "
                    f"has that slice whole in {copy.name}; remove {entry.name}")
            if (held := _position_held(entry, ds, images)) is not None:  # (copied whole, it would be a second slice there)
                raise ImageReadError(
                    f"{entry}: a header without pixel data at the slice position of {held.name} (the same position and "
                    f"orientation; another SOPInstanceUID or InstanceNumber): not a lost slice, the series has that position "
                    f"whole in {held.name}; {entry.name} is extra: remove it")
            raise ImageReadError(
                f"{entry}: a slice of this series without pixel data (its header states a {ds.get('Rows')}x{ds.get('Columns')} "
                f"image, but no Pixel Data follows: deleted, or a copy cut off where its pixels start): {COPY_AGAIN}")


def _position_held(entry: Path, ds: Any, images: list[tuple[Path, Any]]) -> Path | None:
    """The file of ``images`` at ``ds``'s slice position (its orientation, and its position along the normal within
    geometry's SAME_POSITION_MM), or None; a header without usable position or orientation holds none."""
    from .geometry import SAME_POSITION_MM, normal_of

    try:
        iop, ipp = _orientation(ds, where=entry), _position(ds, where=entry)
    except ImageReadError:
        return None
    if iop is None or ipp is None:
        return None
    normal = normal_of(iop)
    for path, image in images:
        try:
            other_iop, other_ipp = _orientation(image, where=path), _position(image, where=path)
        except ImageReadError:
            continue
        if other_iop is not None and other_ipp is not None and np.allclose(other_iop, iop, atol=1e-4) \
                and abs(float(np.dot(other_ipp - ipp, normal))) < SAME_POSITION_MM:
            return path
    return None


def _instance_key(ds: Any) -> tuple[str, str, str] | None:
    """What makes two files one DICOM instance (:func:`refuse_repeated_instances`): the SOPInstanceUID, the position
    and the InstanceNumber; None without a SOPInstanceUID.

    >>> _instance_key({"SOPInstanceUID": " 1.2.9 ", "InstanceNumber": "3"}), _instance_key({})
    (('1.2.9', '', '3'), None)
    """
    uid = str(ds.get("SOPInstanceUID", "") or "").strip()
    return (uid, str(ds.get("ImagePositionPatient", "")), str(ds.get("InstanceNumber", ""))) if uid else None


def why_not_a_series(folder: Path) -> str | None:
    """Why ``folder``, a study's sub-folder holding DICOM files, would be refused as a series, for the study's advice
    (:func:`~kernelcli.volume_inputs.dicom_folders_below`): its DICOM files hold no image (:data:`NO_IMAGE`), or they
    are Siemens mosaics; None where its first image is one to read, or pydicom is not installed (nothing is said then).
    Headers only, up to the first image.
    """
    try:
        import pydicom
    except ImportError:
        return None
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith(".") and e.is_file())
    except OSError:
        return None
    dicom = 0
    for entry in entries:
        try:
            ds = _dcmread(pydicom, entry, headers_only=True)
        except ImageReadError:
            continue
        dicom += 1
        if holds_an_image(pydicom, entry, ds):
            try:
                refuse_mosaic(ds, entry)
            except ImageReadError:
                return "Siemens mosaics, which kernelcli does not unpack: convert them to a NIfTI first (dcm2niix)"
            return None
    return NO_IMAGE if dicom else None


def _frame_count(ds: Any) -> int:
    """A header's NumberOfFrames, 1 where it states none or no whole number (the pixel reader refuses that, naming it).

    >>> _frame_count({"NumberOfFrames": "15"}), _frame_count({}), _frame_count({"NumberOfFrames": "1A"})
    (15, 1, 1)
    """
    try:
        value = float(str(ds.get("NumberOfFrames", 1) or 1))
    except ValueError:
        return 1
    return int(value) if value.is_integer() and value >= 1 else 1


def instance_order(names: list[str], numbers: list[Any], folder: Path) -> list[int] | None:
    """The slices' order by InstanceNumber, for a series that cannot be ordered by position.

    None when no slice has a number (the file names' order is then taken, with a note); refused when only some
    have one, or two share one: the order of those slices would be a guess.

    >>> instance_order(["a.dcm", "b.dcm", "c.dcm"], ["3", "1", "2.5"], Path("s"))
    [1, 2, 0]
    >>> instance_order(["a.dcm", "b.dcm"], ["2", "2"], Path("s"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: s: a.dcm and b.dcm have the same InstanceNumber (2) and no position orders the slices (ImagePositionPatient and ImageOrientationPatient are not in every file): their order is unknown; give each slice its position, or a distinct InstanceNumber
    """
    why = "no position orders the slices (ImagePositionPatient and ImageOrientationPatient are not in every file)"
    fix = "give each slice its position, or a distinct InstanceNumber"
    values: list[float | None] = []
    for name, number in zip(names, numbers):
        try:
            value = float(number) if number is not None and str(number).strip() else None
        except (TypeError, ValueError):
            raise ImageReadError(f"{folder / name}: InstanceNumber {str(number)!r} is not a number; {why}") from None
        values.append(value if value is None or np.isfinite(value) else None)
    missing = [name for name, value in zip(names, values) if value is None]
    if len(missing) == len(names):
        return None
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise ImageReadError(f"{folder}: {len(missing)} of {len(names)} slices have no InstanceNumber ({shown}) and {why}: "
                             f"their order is unknown; {fix}")
    order = sorted(range(len(names)), key=lambda i: values[i])  # type: ignore[arg-type,return-value]
    for i, j in zip(order, order[1:]):
        if values[i] == values[j]:
            raise ImageReadError(f"{folder}: {names[i]} and {names[j]} have the same InstanceNumber ({numbers[i]}) and "
                                 f"{why}: their order is unknown; {fix}")
    return order


def pick_series(series: dict[str, list[Any]], choice: str | None, where: str, words: ReadWords = API) -> str:
    """The UID of the series to read: the only one, or ``choice`` (a UID, or an index into the listing).

    The listing order is the dictionary's (the caller sorts by SeriesNumber, then UID); ``words`` name ``series``.
    A bare integer that is both a UID (some anonymisers write them) and the index of another series reads two ways:
    refused, naming both; ``uid:TEXT`` and ``index:N`` say which is meant.

    >>> pick_series({"1": [], "2": []}, "index:1", "scans"), pick_series({"1": [], "2": []}, "uid:1", "scans")
    ('2', '1')
    >>> pick_series({"1": [], "2": []}, "1", "scans")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: scans: series='1' reads two ways: the SeriesInstanceUID of [0] or the index of [1] (UID 2); give series='uid:1' for [0] or series='index:1' for [1]:
      [0] 1
      [1] 2
    """
    uids = list(series)
    if choice is None:
        if len(uids) == 1:
            return uids[0]
        raise UsageError(f"{where}: holds {len(uids)} DICOM series; pick one with {words.takes('series', 'UID')} or "
                         f"{words.takes('series', 'INDEX')}{_two_ways_hint(uids, words)}:\n" + _listing(series))
    text = str(choice).strip()
    given = words.given("series", text if words.cli else choice)
    kind, _, rest = text.partition(":")
    if kind.strip().lower() in ("uid", "index") and rest.strip():
        by_uid = rest.strip() if kind.strip().lower() == "uid" and rest.strip() in series else None
        by_index = _index(rest.strip(), uids) if kind.strip().lower() == "index" else None
        if by_uid is None and by_index is None:
            raise UsageError(f"{where}: {given}: no such series (a UID, or an index from 0 to {len(uids) - 1}):\n" + _listing(series))
        return by_uid or by_index  # type: ignore[return-value]
    by_index = _index(text, uids)
    if text in series:
        if by_index is not None and by_index != text:
            raise UsageError(
                f"{where}: {given} reads two ways: the SeriesInstanceUID of [{uids.index(text)}] or the index of [{text}] "
                f"(UID {by_index}); give {words.given('series', f'uid:{text}')} for [{uids.index(text)}] or "
                f"{words.given('series', f'index:{text}')} for [{text}]:\n" + _listing(series))
        return text
    if by_index is not None:
        return by_index
    raise UsageError(f"{where}: {given}: no such series (a UID, or an index from 0 to {len(uids) - 1}):\n" + _listing(series))


def _index(text: str, uids: list[str]) -> str | None:
    """The UID at index ``text`` of the listing, None where ``text`` is no index into it."""
    return uids[int(text)] if text.isascii() and text.isdigit() and int(text) < len(uids) else None


def _two_ways_hint(uids: list[str], words: ReadWords) -> str:
    """What the listing adds where a UID is also the index of another series: how to say which is meant.

    >>> _two_ways_hint(["1", "2"], API), _two_ways_hint(["0", "1.2"], API)
    (" (a UID that is also another series' index: series='uid:UID' or series='index:INDEX')", '')
    """
    if not any(_index(uid, uids) not in (None, uid) for uid in uids):
        return ""
    return (f" (a UID that is also another series' index: {words.given('series', 'uid:UID')} or "
            f"{words.given('series', 'index:INDEX')})")


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


def refuse_repeated_instances(headers: list[tuple[Path, Any]], folder: Path) -> None:
    """Refuse two files of one series that are one DICOM instance: the same SOPInstanceUID, at the same
    ImagePositionPatient, with the same InstanceNumber (a copy of a file, ``IM002 copy.dcm``), naming both; read,
    it would be a slice twice (in file-name order), or two slices at one position taken for two volumes.  Files that
    share a SOPInstanceUID but not a position are left to the geometry checks (an anonymiser may reuse one UID).

    >>> same = {"SOPInstanceUID": "1.2.9", "ImagePositionPatient": [0, 0, 2], "InstanceNumber": "3"}
    >>> refuse_repeated_instances([(Path("IM002.dcm"), same), (Path("IM002 copy.dcm"), dict(same))], Path("ct"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ct: IM002.dcm and IM002 copy.dcm are the same DICOM instance (SOPInstanceUID 1.2.9, same position and InstanceNumber): the same slice twice (a copy?), not a second volume; remove one of them
    """
    seen: dict[tuple[str, str, str], Path] = {}
    for entry, ds in headers:
        key = _instance_key(ds)
        if key is None:
            continue
        if key in seen:
            raise ImageReadError(
                f"{folder}: {seen[key].name} and {entry.name} are the same DICOM instance (SOPInstanceUID {key[0]}, same "
                "position and InstanceNumber): the same slice twice (a copy?), not a second volume; remove one of them")
        seen[key] = entry


def _check_rescales(headers: list[tuple[Path, Any]], rescales: list[tuple[float, float, bool]]) -> None:
    """Refuse a series in which some files have a rescale (RescaleSlope/RescaleIntercept, or a Modality LUT) and others
    have none, naming the first file without one and one with one: its stored values would sit among the others'
    rescaled ones (a CT slice 1024 off in HU).  Files whose rescale is 1 and 0 read alike with or without it.

    >>> _check_rescales([(Path("a.dcm"), {}), (Path("b.dcm"), {})], [(1.0, -1024.0, True), (1.0, 0.0, False)])
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: b.dcm: no RescaleSlope or RescaleIntercept, but a.dcm has RescaleSlope 1, RescaleIntercept -1024: ...
    """
    without = [entry for (entry, _), (_, _, present) in zip(headers, rescales) if not present]
    if not without or len(without) == len(headers):
        return
    for (entry, ds), (slope, intercept, present) in zip(headers, rescales):
        lut = present and modality_lut(ds) is not None
        if present and (lut or (slope, intercept) != (1.0, 0.0)):
            has = "a Modality LUT (ModalityLUTSequence)" if lut else f"RescaleSlope {slope:g}, RescaleIntercept {intercept:g}"
            raise ImageReadError(
                f"{without[0]}: no RescaleSlope or RescaleIntercept, but {entry.name} has {has}: its stored values would sit "
                "among the others' rescaled ones (two scales in one volume): not one volume; give the series without it, or "
                "add the tags to it"
            )


def read_series(pydicom: Any, folder: Path, *, series: str | None = None, resample_slices: bool = False,
                warned: PydicomWarnings | None = None, words: ReadWords = API) -> Volume:
    """Read one series of a folder (see :func:`~.dicom.read_dicom`).

    What pydicom warns while a file is read goes to ``warned`` naming that file (the caller makes
    notes of it); without ``warned`` it is dropped.
    """
    warned = warned if warned is not None else PydicomWarnings()
    headers, skipped, unread, imageless = _headers(pydicom, folder, warned)
    if not headers:
        passed = f" (skipped, no regular file: {', '.join(unread[:3])}{', ...' if len(unread) > 3 else ''})" if unread else ""
        if imageless:
            passed += f" ({len(imageless)} {NO_IMAGE.replace('DICOM files', 'DICOM file(s)', 1)}: {_shown(imageless)})"
        raise InputError(f"{folder}: no DICOM images in this folder{passed}{dicom_folders_below(folder, unreadable=why_not_a_series)}")
    notes: list[str] = []
    set_aside = {entry.name for entry, _ in imageless}
    if not_dicom := [name for name in skipped if name not in set_aside]:
        notes.append(f"{folder.name}: skipped {len(not_dicom)} file(s) that are not DICOM images ({_shown(not_dicom)})")
    if unread:
        shown = ", ".join(unread[:3]) + (", ..." if len(unread) > 3 else "")
        notes.append(f"{folder.name}: skipped {len(unread)} name(s) that are no regular file ({shown}): a slice among "
                     "them would be missing from the volume")
    if below := dicom_folders(folder, 1):  # (as a batch names a series folder it does not read; as the refusal says it)
        notes.append(f"{folder.name}: sub-folders not read ({SERIES_OWN_FILES}): "
                     f"{series_folders_said(below, unreadable=why_not_a_series)}")

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
    uid = pick_series(groups, series, str(folder), words)
    headers = groups[uid]
    refuse_cut_slices(imageless, uid, {sop_class(ds) for _, ds in headers} - {""})
    refuse_slices_without_pixels(imageless, uid, headers)
    if imageless:
        notes.append(f"{folder.name}: skipped {len(imageless)} {NO_IMAGE.replace('DICOM files', 'DICOM file(s)', 1)}, "
                     f"no slice of the series read ({_shown(imageless)})")
    if len(groups) > 1:
        notes.append(f"{folder.name}: series {uid} ({len(headers)} of {sum(len(v) for v in groups.values())} files)")

    for entry, ds in headers:  # (from the headers, before any pixel data: a mosaic's one image is no slice)
        refuse_mosaic(ds, entry)
    refuse_repeated_instances(headers, folder)
    frames = [_frame_count(ds) for _, ds in headers]
    if len(headers) == 1 and frames[0] > 1:  # one multi-frame file (an RT Dose, an enhanced CT): its own volume
        with warned.about(headers[0][0].name):
            vol = _read_file(pydicom, headers[0][0], resample_slices, words=words)
        vol.notes[:0] = notes
        return vol
    for (entry, _), count in zip(headers, frames):
        if count > 1:  # (from the header: refused before any pixel data is decoded)
            raise ImageReadError(f"{entry}: {count} frames in one of the series' {len(headers)} files; expected one slice "
                                 f"per file (a multi-frame file is a volume of its own: give it alone, as {entry})")

    first_path, first = headers[0]
    size = (int(first.Rows), int(first.Columns))
    from .volume import check_volume_memory

    check_volume_memory(folder, (len(headers), *size), stored_type(first))  # from the headers, before any pixels
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
            raise ImageReadError(f"{entry}: {mismatch('ImageOrientationPatient', other, first_path.name, iop)}: not one volume")
        if (pixel is None) != (ps is None) or (pixel is not None and not np.allclose(pixel, ps, rtol=1e-4)):
            raise ImageReadError(f"{entry}: {mismatch('PixelSpacing', ps, first_path.name, pixel)}: not one volume")
    _check_rescales(headers, [rescale for _, rescale, *_ in facts])

    fallback, how = None, "file name"
    known = [position is not None for position, *_ in facts]
    # ordered by number where no position orders them: none has one, or none has an orientation to sort along
    # (some positions but not all: assemble refuses, naming the slices without one)
    if not any(known) or (iop is None and all(known)):
        fallback = instance_order([entry.name for entry, _ in headers], [number for _, _, number, _, _ in facts], folder)
        how = "file name" if fallback is None else "InstanceNumber"

    def read(i: int) -> np.ndarray:
        entry = headers[i][0]
        with warned.about(entry.name):
            raw = _pixels(_dcmread(pydicom, entry), entry)
        if raw.shape[0] != 1:  # (frames the header did not count)
            raise ImageReadError(f"{entry}: {raw.shape[0]} frames in one of the series' {len(headers)} files; expected "
                                 f"one slice per file (a multi-frame file is a volume of its own: give it alone, as {entry})")
        return raw[0]

    return assemble(
        first, folder, read, [entry.name for entry, _ in headers], [position for position, *_ in facts], iop, pixel,
        _slice_gap(first), [rescale for _, rescale, *_ in facts], resample_slices, notes, fallback, how, words=words,
    )
