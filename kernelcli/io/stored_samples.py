"""How an opened image stores its samples, read from Pillow's tags and raw modes before decoding, and what Pillow
makes of them: 16-bit colour cut to 8 bits, a PNG's colour key, a 16-bit grey + alpha PNG decoded as its raw bytes,
TIFF samples Pillow drops or cannot unpack.  :func:`kernelcli.io.decode.open_image` asks these of every image.
No numpy here.

>>> from PIL import Image
>>> im = Image.new("RGB", (2, 2))
>>> sixteen_bit_colour(im), colour_key(im), dropped_samples(im)
(False, None, None)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ImageReadError
from ..records import record


@record
class ColourKey:
    """The one grey or RGB value a grey or RGB image (a PNG's tRNS chunk) makes fully transparent."""

    #: the transparent value, one number for grey, three for RGB, as the file stores it
    value: tuple[int, ...]
    #: the bits of a stored sample (1, 2, 4, 8 or 16)
    bits: int



def sixteen_bit_colour(im) -> bool:
    """True for a PNG or TIFF whose colour samples are 16-bit (Pillow decodes them to 8 bits).

    The tags say it for a TIFF (BitsPerSample); a PNG's raw mode does (``RGB;16B``).  A BMP's
    raw mode may hold ``;16`` too, but there it is 16 bits a *pixel* (RGB565), never a channel.
    """
    if im.mode not in ("RGB", "RGBA", "LA"):
        return False
    if im.format == "TIFF":
        return max(tiff_tags(im).get(258) or (8,)) > 8
    return im.format == "PNG" and ";16" in raw_mode(im)


def raw_mode(im) -> str:
    """The raw mode of an opened image's first tile (how its stored bytes are unpacked), or ''."""
    tile = getattr(im, "tile", None) or []
    args = tile[0][3] if tile and len(tile[0]) > 3 else None
    return args if isinstance(args, str) else (args[0] if isinstance(args, tuple) and args and isinstance(args[0], str) else "")


def tiff_tags(im) -> Any:
    """A TIFF's tags by number (an empty dict for another format)."""
    return getattr(im, "tag_v2", None) or {}


#: the bits of a stored sample by a grey or RGB PNG's raw mode (Pillow decodes 2- and 4-bit grey to 0..255)
_KEY_BITS = {"L;2": 2, "L;4": 4, "I;16B": 16, "RGB;16B": 16}


def colour_key(im) -> ColourKey | None:
    """The colour key of an opened grey or RGB image (a PNG's tRNS chunk: ``info["transparency"]``), or None.

    Pillow's ``convert("LA")`` applies it to 8-bit samples alone: a 2- or 4-bit grey key is
    compared with the samples Pillow scaled to 0..255, a 16-bit one with samples cut to 8 bits.
    :func:`kernelcli.io.images.key_alpha` compares it with the samples the file stores.  (A 1-bit
    image's key is 0 or 255 already, as Pillow reads its pixels.)
    """
    value = im.info.get("transparency")
    if im.mode not in ("1", "L", "I", "RGB") and not im.mode.startswith("I;16") or value is None:
        return None
    value = (value,) if isinstance(value, int) else tuple(value) if isinstance(value, tuple) else None
    if value is None or len(value) != (3 if im.mode == "RGB" else 1) or not all(isinstance(v, int) for v in value):
        return None
    bits = _KEY_BITS.get(raw_mode(im), 16 if im.mode.startswith("I") else 8)
    return ColourKey(value, bits)


def refuse_planar_wide(im, p: Path) -> None:
    """Refuse a TIFF of several samples wider than 8 bits stored as separate planes
    (PlanarConfiguration 2): Pillow unpacks each plane as 8-bit samples, a wrong image."""
    tags = tiff_tags(im)
    if im.format != "TIFF" or tags.get(284, 1) != 2 or (tags.get(277) or 1) < 2:
        return
    bits = max(tags.get(258) or (8,))
    if bits > 8:
        raise ImageReadError(
            f"{p}: {bits}-bit samples stored as separate planes (TIFF PlanarConfiguration 2): Pillow cannot decode "
            "them (it reads each plane as 8-bit samples); save it interleaved (PlanarConfiguration 1: ImageMagick's "
            "-interlace none), or its pixels as .npy"
        )


def grey_alpha_16(im) -> bool:
    """Whether an opened image is a 16-bit grey + alpha PNG, which Pillow opens as RGBA (raw mode ``LA;16B``):
    kernelcli reads it as one 16-bit channel and its alpha."""
    return im.format == "PNG" and im.mode == "RGBA" and raw_mode(im) == "LA;16B"


def read_grey_alpha_16_as_bytes(im) -> bool:
    """For a 16-bit grey + alpha PNG, make Pillow decode each pixel's 4 bytes as they are; True when it did.

    Pillow opens it as RGBA and unpacks the high bytes alone (``LA;16B``: grey three times,
    8 bits).  The ``RGBA`` raw mode has the same 32 bits a pixel, so the PNG rows are
    unfiltered alike and R, G, B, A receive grey's high and low byte, then alpha's:
    :func:`kernelcli.io.images._image_to_array` joins them back into 16-bit samples.
    """
    if not grey_alpha_16(im) or len(im.tile) != 1:
        return False
    tile = im.tile[0]
    im.tile = [tile._replace(args="RGBA") if hasattr(tile, "_replace") else (*tile[:3], "RGBA")]
    return True


def dropped_samples(im) -> str | None:
    """What Pillow leaves out of a TIFF whose pixels hold more samples than it decodes (an extra
    sample of unspecified meaning: ExtraSamples 0), or None."""
    tags = tiff_tags(im)
    if im.format != "TIFF":
        return None
    samples = int(tags.get(277) or 1)
    kept = len(im.getbands()) - (1 if im.mode == "RGBX" else 0)
    if samples <= kept:
        return None
    n = samples - kept
    read = "RGB" if kept == 3 else "greyscale" if kept == 1 else im.mode
    extras = tuple(int(e) for e in tags.get(338) or ())
    meaning = ("of unspecified meaning (TIFF ExtraSamples 0)" if extras and not any(extras)
               else f"(TIFF ExtraSamples {', '.join(map(str, extras)) or 'absent'})")
    return (f"{samples} samples per pixel, read as {read}: {'the extra sample' if n == 1 else f'{n} extra samples'} "
            f"{meaning} {'is' if n == 1 else 'are'} dropped; convert it to .npy to keep {'it' if n == 1 else 'them'}")
