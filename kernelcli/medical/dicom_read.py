"""Reading a DICOM file with pydicom, telling a file that is not DICOM from a DICOM file that cannot be read whole.

pydicom reads a file cut off inside an element's value without a word (the value comes back short), and raises on one
cut inside an element's own header: either way the file is DICOM, and what it was (a slice of the series being read,
or not) is asked of what could be read of it (:class:`UnreadableDicom`'s ``header``).

Example
-------
>>> cut_off_at({}, 10) is None
True
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import ImageReadError
from .pydicom_notes import pydicom_line

#: the bytes before a DICOM file's first element: a 128-byte preamble, then ``DICM``
PREAMBLE = 132
#: a UID as the standard writes one (PS3.5 9.1): what makes a header read without the preamble DICOM enough to tell
_UID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
#: the (0020,000E) SeriesInstanceUID tag: what a partial read stops after (the elements are in tag order)
_SERIES_UID_TAG = 0x0020000E
#: pydicom's length of an element whose end is marked by a delimiter, not stated
_UNDEFINED_LENGTH = 0xFFFFFFFF


class UnreadableDicom(ImageReadError):
    """A DICOM file (the ``DICM`` preamble, or a header read without it that states a UID) that cannot be read whole:
    cut off or corrupt.  ``reason``: why, in one line; ``header``: what could be read of it (a pydicom Dataset, empty
    where nothing could), for telling whether it is a file of the series being read."""

    reason: str = ""
    header: Any = None


def unreadable(path: Path, reason: str, header: Any) -> UnreadableDicom:
    """The :class:`UnreadableDicom` for ``path``: ``{path}: cannot read DICOM: {reason}``."""
    error = UnreadableDicom(f"{path}: cannot read DICOM: {reason}")
    error.reason, error.header = reason, header
    return error


def cut_off_at(ds: Any, size: int, start: int = 0) -> str | None:
    """Where ``ds``, a header pydicom read from a file of ``size`` bytes (from byte ``start`` on), was cut off: inside
    its file meta information (shorter than its group length says) or inside the value of its last element; None
    where it ends whole (at an element's end, which only the missing elements after it can tell).

    >>> cut_off_at({}, 0) is None
    True
    """
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not start and isinstance(meta.get("FileMetaInformationGroupLength"), int):
        end = PREAMBLE + 12 + meta.FileMetaInformationGroupLength  # (the group length element itself is 12 bytes)
        if size < end:
            return f"cut off at byte {size}, inside its file meta information (which ends at byte {end})"
    tags = list(ds.keys()) if hasattr(ds, "get_item") else []
    if not tags:
        return f"cut off at byte {size}, before its first element" if meta is not None and not start else None
    raw = ds.get_item(tags[-1])
    tell, length = getattr(raw, "value_tell", None), getattr(raw, "length", None)
    if not isinstance(tell, int) or not isinstance(length, int) or length == _UNDEFINED_LENGTH:
        return None
    if start + tell + length <= size:
        return None
    from pydicom.datadict import keyword_for_tag

    name = keyword_for_tag(tags[-1]) or str(tags[-1])
    return f"cut off at byte {size}, inside {name} (its value needs {length} bytes from byte {start + tell})"


def partial_header(pydicom: Any, path: Path) -> Any:
    """What can be read of ``path``'s header, up to its SeriesInstanceUID, an element cut off in its value left out;
    an empty Dataset where nothing can be (a file cut inside its file meta information)."""
    from pydicom.dataset import Dataset
    from pydicom.filereader import read_partial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with open(path, "rb") as f:
                ds = read_partial(f, stop_when=lambda tag, vr, length: tag > _SERIES_UID_TAG)
        except Exception:  # noqa: BLE001 - cut before the elements that tell the series: nothing is known
            return Dataset()
    tags = list(ds.keys())
    if tags and cut_off_at(ds, path.stat().st_size):
        del ds[tags[-1]]  # (a SeriesInstanceUID cut short would name another series)
    return ds


def _dcmread(pydicom: Any, path: Path, *, headers_only: bool = False) -> Any:
    """Read a DICOM file.

    A file without the 128-byte preamble and ``DICM`` (old ACR-NEMA style, pydicom's
    ``no_meta.dcm``) is read as pydicom's ``force=True`` does; when that finds no image and a
    few stray bytes precede the first group-0008 element (as in ``no_meta.dcm``), reading
    starts there.  Either way ``ds._kernelcli_forced`` says so, for a note; a file that still
    holds no image is refused, but where ``headers_only`` and it states a SOP class or series UID: a DICOM header
    without an image is returned.  A DICOM file that cannot be read whole (pydicom fails on it, or, for
    ``headers_only``, it ends inside an element: :func:`cut_off_at`) raises :class:`UnreadableDicom`.
    """
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=headers_only)
    except pydicom.errors.InvalidDicomError:
        ds = None  # no DICM header: read again below without it
    except Exception as exc:  # truncated or corrupt: EOFError, OSError, struct.error, ValueError
        reason = f"{pydicom_line(str(exc))} (the file is {path.stat().st_size} bytes: cut off, or damaged)"
        raise unreadable(path, reason, partial_header(pydicom, path)) from None
    if ds is not None:
        if headers_only and (cut := cut_off_at(ds, path.stat().st_size)):
            raise unreadable(path, cut, partial_header(pydicom, path))
        return ds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about every element it cannot make sense of
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise ImageReadError(f"{path}: cannot read: {exc.strerror or exc}") from None
        starts = [0] + [n for n in range(1, min(256, len(blob) - 6)) if blob[n : n + 2] == b"\x08\x00" and blob[n + 3] == 0]
        told = None  # a header that states a UID but no image, from the first start that gives one
        for start in starts[:8]:
            try:
                ds = pydicom.dcmread(io.BytesIO(blob[start:]), stop_before_pixels=headers_only, force=True)
            except Exception:  # not DICOM from this byte on
                continue
            if "Rows" in ds and "Columns" in ds:
                if headers_only and (cut := cut_off_at(ds, len(blob), start)):
                    raise unreadable(path, cut, ds)
                return _forced(ds, start)
            if told is None and any(_UID.match(str(ds.get(key, "") or "")) for key in ("SOPClassUID", "SeriesInstanceUID")):
                told = (ds, start)
    if told is not None and headers_only:
        ds, start = told
        if cut := cut_off_at(ds, len(blob), start):
            raise unreadable(path, cut, ds)
        return _forced(ds, start)
    # (pydicom's own reason ends "Use force=True to force reading": kernelcli tried that already, so it is not repeated)
    raise ImageReadError(f"{path}: not a DICOM file, or one without an image: no DICM header (the 'DICM' prefix or the "
                         "file meta information), and read without it the file holds no Rows/Columns")


def _forced(ds: Any, start: int) -> Any:
    """``ds``, read without the DICOM preamble from byte ``start``, told so (``_kernelcli_forced``) and given the
    transfer syntax its elements were read in (the pixel decoder needs to be told it)."""
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        from pydicom.dataset import FileMetaDataset
        from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

        implicit, little = getattr(ds, "original_encoding", (False, True))
        ds.file_meta = meta if meta is not None else FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian))
    ds._kernelcli_forced = "read without the DICOM preamble (as pydicom's force=True)" + (
        f", skipping {start} stray byte(s) before the first element" if start else "")
    return ds
