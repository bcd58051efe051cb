"""Files of a DICOM series folder that would leave the volume a slice short if set aside: refused, naming them.

A slice copied in part (cut off in its header, or where pydicom cannot read on), or to nothing, is no image; read
without it, the volume would be a slice short with exit 0 (or refused for an uneven gap that never names it).  Set
aside with a note are only the files that show they are no slice of the series: of another series, a DICOMDIR, a
DICOM object of another class read whole (a structured report), a file not named as DICOM (a README).

Example
-------
>>> named_as_dicom(Path("IM4.DCM")), named_as_dicom(Path("IM0004")), named_as_dicom(Path("README.TXT"))
(True, True, False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ImageReadError
from ..volume_inputs import DICOM_SUFFIXES, volume_suffix
from .dicom_read import PREAMBLE

#: the SOP class of a DICOMDIR (a media directory, no image)
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: what every refusal of a lost slice ends with (a cut file's here, a header without pixel data's in series.py)
COPY_AGAIN = "read without it the volume would be a slice short; copy the file again whole, or move it out of the folder"


def sop_class(ds: Any) -> str:
    """A header's SOP class: its SOPClassUID, else its file meta's MediaStorageSOPClassUID (a DICOMDIR states only
    that one, a file cut off before its SOPClassUID has only that one); "" where neither is read.

    >>> sop_class({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"})
    '1.2.840.10008.5.1.4.1.1.2'
    """
    said = str(ds.get("SOPClassUID", "") or "").strip()
    meta = getattr(ds, "file_meta", None)
    return said or (str(meta.get("MediaStorageSOPClassUID", "") or "").strip() if meta is not None else "")


def is_dicomdir(ds: Any, path: Path) -> bool:
    """True for a DICOMDIR, by its SOP class (:func:`sop_class`) whatever its name, or by its name.

    >>> is_dicomdir({}, Path("DICOMDIR")), is_dicomdir({"SOPClassUID": DICOMDIR_CLASS}, Path("DIRFILE"))
    (True, True)
    """
    return path.name.upper() == "DICOMDIR" or sop_class(ds) == DICOMDIR_CLASS


def named_as_dicom(path: Path) -> bool:
    """True where the file's name says DICOM: a DICOM suffix (.dcm, .dicom, .ima, any case) or, without a suffix, a
    name beginning IM (a scanner's ``IM0001``, ``IMG0001``)."""
    return volume_suffix(path) in DICOM_SUFFIXES or (not path.suffix and path.name.upper().startswith("IM"))


def refuse_not_dicom_named_as_dicom(path: Path) -> None:
    """Refuse ``path``, a file of a series folder named as DICOM (:func:`named_as_dicom`) that is not DICOM: empty, cut
    off inside the 128-byte preamble, or damaged where pydicom cannot tell it DICOM; any of them may be a slice lost.
    A file not so named (``README.TXT``) is set aside with a note by the caller."""
    if not named_as_dicom(path):
        return
    size = path.stat().st_size
    if not size:
        what = "empty (0 bytes)"
    elif size < PREAMBLE:
        what = f"{size} bytes, cut off before a DICOM file's 'DICM' (bytes 128-131)"
    else:
        what = "not DICOM (no 'DICM' at byte 128, and read without it no DICOM header)"
    raise ImageReadError(f"{path}: {what}, but named as a DICOM file beside the series' slices: it may be a slice lost; "
                         + COPY_AGAIN)


def refuse_cut_slices(imageless: list[tuple[Path, Any]], uid: str, classes: set[str]) -> None:
    """Refuse the series ``uid`` where one of the folder's DICOM files without an image may be a slice of it: a DICOM
    file that cannot be read whole (``_kernelcli_cut``: cut off, or pydicom fails on it) unless what was read of it
    names another series, or a header read whole without Rows whose SOP class is that of the series' images
    (``classes``): a slice cut off between two elements.  Those that state Rows and Columns are
    :func:`~.series.refuse_slices_without_pixels`'.

    >>> ct = {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "SeriesInstanceUID": "1.2"}
    >>> refuse_cut_slices([(Path("s/IM4.dcm"), ct)], "1.2", {"1.2.840.10008.5.1.4.1.1.2"})
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: s/IM4.dcm: a CT Image Storage file of this series without an image (its header ends before Rows and Pixel Data: a slice cut off): read without it the volume would be a slice short; copy the file again whole, or move it out of the folder
    """
    for entry, ds in imageless:
        series = str(ds.get("SeriesInstanceUID", "") or "").strip()
        if series and series != uid:
            continue  # another series' file: set aside with a note
        whose = "of this series" if series or not uid else "whose SeriesInstanceUID was not read (it may be of this series)"
        if cut := getattr(ds, "_kernelcli_cut", None):
            raise ImageReadError(f"{entry}: cannot read DICOM: {cut}: a DICOM file {whose}; {COPY_AGAIN}")
        if "Rows" in ds and "Columns" in ds:
            continue
        if (sop := sop_class(ds)) and sop in classes:
            from pydicom.uid import UID

            raise ImageReadError(f"{entry}: a {UID(sop).name} file {whose} without an image (its header ends before Rows "
                                 f"and Pixel Data: a slice cut off): {COPY_AGAIN}")
