"""Why a file Pillow could not identify is refused: a valid file of a layout it does not decode (its layout in
words), or a broken or truncated one.

>>> jpeg_layout("cannot handle 12-bit layers")
'12-bit samples'
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .common import one_line


#: Pillow's reasons for refusing a file that is valid but of a variant it does not decode, by format
_UNSUPPORTED_REASONS = {"TIFF": ("unknown pixel mode",), "JPEG": ("cannot handle",), "BMP": ("Unsupported BMP",)}


#: a TIFF's SampleFormat (339) in words
_SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "floating-point", 4: "undefined"}


#: a TIFF's PhotometricInterpretation (262) in words
_PHOTOMETRICS = {0: "greyscale (MinIsWhite)", 1: "greyscale", 2: "RGB", 3: "palette", 4: "mask", 5: "CMYK", 6: "YCbCr", 8: "CIELab"}


def undecodable(p: Path, kind: str, plugin: str) -> str:
    """Why Pillow could not identify ``p``, whose first bytes announce ``kind`` (read by ``plugin``): a valid file of a
    variant it does not decode (its layout, in words), else a broken or truncated file."""
    reason = _plugin_refusal(p, plugin)
    if reason is not None and any(r in reason for r in _UNSUPPORTED_REASONS.get(kind, ())):
        layout = _tiff_layout(p) if kind == "TIFF" else jpeg_layout(reason) if kind == "JPEG" else reason
        return (f"{p}: a {kind} file whose layout this reader (Pillow) does not decode: {layout}; "
                f"{_READABLE[kind]}: convert it, or save its pixels as .npy (numpy.save)")
    why = f" ({reason})" if reason else ""
    return f"{p}: cannot decode image: it starts like a {kind} file but is broken or truncated{why}"


#: what this reader decodes, by format (ends a refusal of another layout)
_READABLE = {
    "TIFF": "kernelcli reads 8/16-bit greyscale and 8-bit RGB(A), palette, CMYK and int8-int32, uint32, float32 greyscale TIFFs",
    "JPEG": "kernelcli reads 8-bit JPEGs",
    "BMP": "kernelcli reads the BMP variants Pillow decodes",
}


def jpeg_layout(reason: str) -> str:
    """A JPEG's samples in words, from Pillow's refusal (``cannot handle 12-bit layers``).

    >>> jpeg_layout("cannot handle 12-bit layers")
    '12-bit samples'
    """
    import re

    found = re.search(r"(\d+)-bit", reason)
    return f"{found.group(1)}-bit samples" if found else reason


def _plugin_refusal(p: Path, plugin: str) -> str | None:
    """The reason the Pillow ``plugin`` (``TiffImagePlugin``) gives for refusing ``p``, or None (it opens it, or fails otherwise)."""
    import importlib

    module = importlib.import_module(f"PIL.{plugin}")
    opener = getattr(module, f"{plugin[: -len('ImagePlugin')]}ImageFile", None)
    if opener is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opener(str(p)).close()
    except Exception as exc:  # noqa: BLE001 - a plugin's complaint, whatever its type, is only quoted
        return one_line(exc)
    return None


def _tiff_layout(p: Path) -> str:
    """A TIFF's first page's samples in words (``1 sample per pixel (greyscale) of 64-bit floating-point``),
    read from its tags alone."""
    from PIL import TiffImagePlugin

    try:
        with open(p, "rb") as f:
            head = f.read(8)
            if head[2:4] in (b"\x2b\x00", b"\x00\x2b"):  # BigTIFF: a 16-byte header
                head += f.read(8)
            tags = TiffImagePlugin.ImageFileDirectory_v2(head)
            f.seek(tags.next)
            tags.load(f)
    except Exception:  # noqa: BLE001 - the layout is only described; the refusal stands without it
        return "an unsupported sample layout"
    samples, bits = int(tags.get(277) or 1), tuple(tags.get(258) or (1,))
    fmt = _SAMPLE_FORMATS.get((tags.get(339) or (1,))[0], "unknown-format")
    photometric = tags.get(262)
    extras = tuple(tags.get(338) or ())
    what = _PHOTOMETRICS.get(photometric, f"photometric {photometric}")
    if extras:
        names = {0: "of unspecified meaning", 1: "associated alpha", 2: "alpha"}
        kinds = [names.get(int(e), f"ExtraSamples {e}") for e in extras]
        what += " + " + ", ".join(f"{kinds.count(k)} {k}" if kinds.count(k) > 1 else k for k in dict.fromkeys(kinds))
    width = "/".join(str(b) for b in sorted(set(bits)))
    return f"{samples} sample{'s' if samples != 1 else ''} per pixel ({what}) of {width}-bit {fmt}"
