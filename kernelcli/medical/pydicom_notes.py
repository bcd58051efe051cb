r"""What pydicom says while it reads, turned into the tool's own one-line notes and messages.

pydicom warns through :mod:`warnings` (an invalid value, excess padding after the pixel data, a
VR that differs from the transfer syntax's) and joins its decoders' failures over several lines;
left alone, Python prints each warning with pydicom's source path, and an error spans lines.

Example
-------
>>> pydicom_line("Unable to decode:\n  pillow: no 12-bit JPEG")
'Unable to decode: pillow: no 12-bit JPEG'
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from typing import Any


class PydicomWarnings:
    """What pydicom warns while DICOM files are read, kept as notes naming the file instead of reaching stderr.

    pydicom warns through :mod:`warnings` (an invalid value, excess padding after the pixel
    data, a VR that differs from the transfer syntax's); left alone, Python prints each with
    pydicom's source path.  ``with warned.about(name):`` records what is warned while ``name``
    is read (an inner block wins over an outer one); :meth:`notes` gives one note per distinct
    message, naming the first file and how many others said the same.  Warnings about
    pydicom's own API (deprecations) say nothing about the file and are dropped.

    >>> warned = PydicomWarnings()
    >>> with warned.about("a.dcm"):
    ...     warnings.warn("Invalid value for VR IS: '1A'. Please see <https://dicom.nema.org> for allowed values.")
    >>> warned.notes()
    ["a.dcm: Invalid value for VR IS: '1A' (pydicom)"]
    """

    #: categories that concern pydicom's API, not the file being read
    NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)

    def __init__(self) -> None:
        self.said: dict[str, list[str]] = {}

    @contextlib.contextmanager
    def about(self, name: str) -> Iterator[None]:
        """Record the warnings raised inside the block as being about ``name``."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                for w in caught:
                    text = pydicom_line(str(w.message))
                    if text and not issubclass(w.category, self.NOISE):
                        names = self.said.setdefault(text, [])
                        if name not in names:
                            names.append(name)

    def extend(self, other: "PydicomWarnings") -> None:
        """Add what ``other`` recorded."""
        for text, names in other.said.items():
            mine = self.said.setdefault(text, [])
            mine.extend(name for name in names if name not in mine)

    def notes(self) -> list[str]:
        """One note per distinct message: ``"a.dcm: <message> (pydicom)"``, or ``"a.dcm and 3 other file(s): ..."``."""
        out = []
        for text, names in self.said.items():
            who = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} other file(s)"
            out.append(f"{who}: {text} (pydicom)")
        return out


def pydicom_line(text: str) -> str:
    r"""A library's message on one line: pydicom's links to the standard dropped, lines joined with '; '.

    >>> pydicom_line("Unable to decode:\n  pillow: no 12-bit JPEG\n  gdcm: not installed")
    'Unable to decode: pillow: no 12-bit JPEG; gdcm: not installed'
    >>> pydicom_line("Invalid value for VR IS: '1A'. Please see <https://x.org/a> for allowed values for each VR.")
    "Invalid value for VR IS: '1A'"
    """
    text = re.sub(r"\s*Please see <[^>]*>[^.]*\.?", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0].rstrip(".")
    rest = "; ".join(line.rstrip(".") for line in lines[1:])
    return f"{head} {rest}" if head.endswith(":") and rest else "; ".join([head, rest]) if rest else head


def compressed_syntax(ds: Any) -> Any:
    """The transfer syntax UID of a file whose pixel data are compressed, else None (uncompressed, or none stated)."""
    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    return uid if uid is not None and getattr(uid, "is_compressed", False) else None


def decoder_encoding(ds: Any) -> str:
    """`` (JPEG Extended, 12-bit)``: a compressed file's transfer syntax (without its process numbers) and bits
    stored, for a message; empty for uncompressed pixel data."""
    uid = compressed_syntax(ds)
    if uid is None:
        return ""
    name = re.sub(r"\s*\(.*\)$", "", str(uid.name)) or str(uid)
    bits = ds.get("BitsStored")
    return f" ({name}, {bits}-bit)" if bits else f" ({name})"


def other_decoders(ds: Any) -> str:
    """What to install when a compressed file's installed decoders all failed and others exist, for a message."""
    uid = compressed_syntax(ds)
    if uid is None:
        return ""
    try:
        from pydicom.pixels import get_decoder  # pydicom >= 3.0

        missing = list(get_decoder(uid).missing_dependencies)
    except Exception:  # older pydicom, or no decoder at all for this syntax
        return ""
    # pydicom says "pylibjpeg - requires pylibjpeg>=2.0 and pylibjpeg-libjpeg>=2.1": keep what to install
    options = [m.split("requires", 1)[1].strip() if "requires" in m else m.strip() for m in missing]
    if not options:
        return ""
    return (f"; another decoder may read it: install {', or '.join(options)}, "
            "or decompress the file first (gdcmconv --raw, or dcmtk's dcmdjpeg)")
