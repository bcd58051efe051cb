"""Images in through Pillow: decoding, bit depth, EXIF, multi-frame.

Inputs: PNG, JPEG, TIFF, BMP, GIF (8/16-bit greyscale, RGB, RGBA; palette, 1-bit, CMYK and
LA are converted explicitly).  Images go out through :mod:`kernelcli.io.image_writing`.

Policies
--------
* The content decides the format, but only among PNG, JPEG, TIFF, BMP and GIF (never EPS
  and the like, whatever the extension says); decoding errors never pass as images
  (``LOAD_TRUNCATED_IMAGES`` stays off).
* Size guards, before any pixel is decoded: ``max_pixels`` (decompression bomb; Pillow's
  ``DecompressionBombWarning`` is an error) and a memory estimate (input + padded copy +
  output in the compute dtype) against ``max_bytes``.
* 16-bit greyscale stays uint16 (never ``convert('L')``, which clips to 255), with its alpha
  for a grey + alpha PNG.  Pillow reads 16-bit *colour* PNGs and TIFFs as 8 bits per channel;
  that is said in a note (16-bit colour stored in planes it cannot read: refused).
* A palette whose used entries are all grey is read as one grey channel, as the same pixels
  saved greyscale are; another palette as RGB(A).
* A TIFF sample of unspecified meaning that Pillow leaves out is said in a note; a valid
  file Pillow does not decode (float64, 12-bit JPEG ...) is described, not called broken.
* A greyscale integer TIFF is read as the type its tags name (int8, int16, uint32, int32),
  whatever its values; only uint8/uint16 inputs have a bit depth.
* RGBA: the colour channels are the data, alpha is kept beside them (``Loaded.alpha``), for
  the writer to carry through (:mod:`kernelcli.io.image_writing`).  A grey or RGB PNG's colour
  key (tRNS) is read as such an alpha: 0 where the pixel is the key, opaque elsewhere.
* EXIF orientation is applied, so results are the right way up.
* Multi-frame GIF/TIFF: the first frame is used, with a note.
* Pillow's warnings (corrupt EXIF and the like) become notes, not noise on stderr.

Example
-------
>>> import tempfile, pathlib
>>> from kernelcli.io.image_writing import write_image
>>> from kernelcli.io.tiff_writing import write_tiff_pages
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.png"
>>> _ = write_image(p, np.array([[-3.0, 300.0]]), like=None, rescale="clip")
>>> loaded = read_image(p, max_pixels=None, max_bytes=None)
>>> loaded.format, loaded.bit_depth, loaded.data.tolist()
('PNG', 8, [[0, 255]])
>>> write_tiff_pages(p.with_suffix(".tif"), np.zeros((2, 3, 4)))
>>> read_image(p.with_suffix(".tif"), max_pixels=None, max_bytes=None).notes
['a.tif: 4 frames; using the first']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ImageReadError
from .common import FILTER, ImageOverMemory, Loaded, RunNeed
from .decode import DEFAULT_MAX_PIXELS, decode, open_image, reading, sniff_format, take
from .stored_samples import ColourKey
from .pillow import orientation


def _refuse_what_neither_reads(p: Path) -> None:
    """Refuse a TIFF over the memory cap in its own words where no reader takes it (an Orientation that turns a page
    not square: :func:`kernelcli.tiled.tiff.neither_reads`), as the one-input call's switch to tiles does: a batch's
    item was refused for memory, and raising the cap as advised met the decoded size's refusal (audit 208 #4)."""
    if sniff_format(p) != "TIFF":  # (the content decides, as Pillow opens it)
        return
    from ..tiled.tiff import neither_reader_takes, neither_reads

    if (problem := neither_reader_takes(p)) is not None:
        raise neither_reads(p, problem)


def read_image(p: Path, *, max_pixels: int | None, max_bytes: int | None, need: RunNeed = FILTER) -> Loaded:
    """Decode the image ``p`` with Pillow (see the module's policies); raises only our own errors.

    The image may have been opened and decoded early (:func:`kernelcli.io.decode.begin`): the
    same checks, pixels, notes and errors.  ``need``: what the run holds beside the input
    (:class:`kernelcli.io.common.RunNeed`, :func:`kernelcli.io.common.check_memory`).
    """
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    try:
        opened = take(p, limit, max_bytes, need) or open_image(p, limit=limit, max_bytes=max_bytes, need=need)
    except ImageOverMemory:
        _refuse_what_neither_reads(p)
        raise
    with reading(p, limit, opened.notes), opened.image as im:
        decode(opened)
        if orientation(im) in _TURNS:  # (importing PIL.ImageOps: 2-3 ms of a cold call)
            from PIL import ImageOps

            ImageOps.exif_transpose(im, in_place=True)  # a copy only when it turns the image
        data, alpha, depth = _grey_alpha_16(im) if opened.wide_grey_alpha else _image_to_array(im, p)
        if opened.key is not None and alpha is None:
            alpha = key_alpha(data, opened.key, low=lambda: _low_bytes(p))
        metadata = _metadata(im.info)
        im.close()  # its pixels freed now (the array holds a copy), not whenever the last reference goes
    return Loaded(path=p, data=data, kind="image", format=opened.format, bit_depth=depth, alpha=alpha, notes=opened.notes,
                  metadata=metadata)


#: resolutions that say nothing of a scan: what writers put when they know none
_DEFAULT_DPI = frozenset((1, 72, 96))


def _metadata(info: dict) -> list[str]:
    """What an image's ``info`` holds beside its pixels that kernelcli does not write: a resolution
    other than the writers' defaults (1, 72 or 96 dpi: Pillow writes a BMP at 96) and an ICC profile.

    >>> _metadata({"dpi": (299.9994, 299.9994), "icc_profile": b"..."}), _metadata({"dpi": (1, 1)})
    (['resolution (300x300 dpi)', 'ICC profile'], [])
    """
    found = []
    dpi = info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2 and not {round(float(d)) for d in dpi} <= _DEFAULT_DPI:
        found.append(f"resolution ({round(float(dpi[0]))}x{round(float(dpi[1]))} dpi)")
    if info.get("icc_profile"):
        found.append("ICC profile")
    return found


#: the values of the EXIF orientation that turn or mirror the image (``ImageOps.exif_transpose``)
_TURNS = frozenset(range(2, 9))
#: bytes Pillow unpacks at a time in :func:`_pixels` (a chunk stays in the CPU cache)
_UNPACK_BYTES = 1 << 20


def _pixels(im) -> np.ndarray:
    """The 8-bit pixels of a decoded L/LA/RGB/RGBA image as a read-only (H, W[, C]) array.

    ``np.asarray(im)`` goes through ``tobytes``, which unpacks into a list of chunks and then
    joins them: two copies of the image (a 12 MP photo: 62 ms).  Here each chunk goes
    straight into the array (31 ms, one copy).  Read-only, as ``np.asarray`` gives it.
    """
    from PIL import Image

    h, w, c = im.height, im.width, len(im.getbands())
    try:
        encoder = Image._getencoder(im.mode, "raw", im.mode)
    except AttributeError:  # another Pillow: its own way
        return np.asarray(im)
    flat = np.empty(h * w * c, dtype=np.uint8)
    at = 0
    try:
        encoder.setimage(im.im, (0, 0, w, h))
        while True:
            _, status, chunk = encoder.encode(max(_UNPACK_BYTES, w * 4))  # at least a row (as Pillow's tobytes)
            flat[at : at + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            at += len(chunk)
            if status:
                break
    finally:
        encoder.cleanup()
    if status < 0 or at != flat.size:
        raise ImageReadError(f"cannot unpack the decoded image (Pillow status {status})")
    flat.setflags(write=False)
    return flat.reshape((h, w, c) if c > 1 else (h, w))


#: the integer samples of a greyscale TIFF that Pillow reads in mode ``I``, by (BitsPerSample, SampleFormat)
_TIFF_INTEGERS = {(16, 1): np.uint16, (16, 2): np.int16, (32, 1): np.uint32, (32, 2): np.int32}


def _tiff_integer_type(im, p: Path) -> type | None:
    """The numpy type of a greyscale TIFF's integer samples, from its BitsPerSample (258) and
    SampleFormat (339) tags; None where Pillow's mode says it (and for another format).

    Pillow holds 16- and 32-bit samples of either sign as int32 (mode ``I``) and signed 8-bit
    ones as unsigned (mode ``L``): the tags, not the values, say what the file holds.
    """
    tags = getattr(im, "tag_v2", None)
    if tags is None or im.mode not in ("L", "I") and not im.mode.startswith("I;16"):
        return None
    bits, sample = (tags.get(258) or (0,))[0], (tags.get(339) or (1,))[0]
    if im.mode == "L":
        return np.int8 if (bits, sample) == (8, 2) else None
    if im.mode != "I":
        return np.int16 if sample == 2 else None
    kind = _TIFF_INTEGERS.get((bits, sample))
    if kind is None:
        raise ImageReadError(f"{p}: {bits}-bit samples of SampleFormat {sample} are not supported; "
                             "expected 16- or 32-bit integers (SampleFormat 1 or 2)")
    return kind


def _image_to_array(im, p: Path) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """Turn a decoded Pillow image into (data, alpha, bit depth), converting explicitly.

    Only unsigned 8- and 16-bit greyscale get a bit depth; another integer type is kept as the
    file stores it (a TIFF's tags say which: :func:`_tiff_integer_type`). A MinIsWhite TIFF is
    inverted, as Pillow inverts it at 1 and 8 bits but leaves it at 16 and 32 (read as stored, the
    edges of a 16-bit one came out with the opposite sign).
    """
    data, alpha, depth = _converted(im, p)
    tags = getattr(im, "tag_v2", None)
    if tags is not None and tags.get(262) == 0 and (im.mode in ("I", "F") or im.mode.startswith("I;16")):
        if data.dtype.kind != "u":
            raise ImageReadError(f"{p}: a MinIsWhite TIFF of {data.dtype} samples has no white to invert from; "
                                 "expected unsigned integers (or save it MinIsBlack)")
        data = np.iinfo(data.dtype).max - data
    return data, alpha, depth


def _converted(im, p: Path) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """:func:`_image_to_array`'s conversion of the Pillow image, before a MinIsWhite one is inverted."""
    mode = im.mode
    stored = _tiff_integer_type(im, p)
    if stored is np.uint16:
        return np.asarray(im).astype(np.uint16), None, 16
    if stored is not None:
        # Pillow holds the samples as int32 (int8 as uint8): the same bits, read as the file's type
        arr = np.asarray(im)
        return (arr.view(np.int8) if stored is np.int8 else arr.view(np.uint32) if stored is np.uint32 else arr.astype(stored)), None, None
    if mode.startswith("I;16"):
        arr = np.asarray(im)
        if arr.dtype.kind == "u":
            return arr.astype(np.uint16), None, 16
        return arr.astype(np.int16), None, None  # signed 16-bit: kept as integers, no bit depth
    if mode == "I":  # not a TIFF: a 16-bit PNG, as older Pillows read it
        arr = np.asarray(im)
        if arr.min(initial=0) >= 0 and arr.max(initial=0) <= 65535:
            return arr.astype(np.uint16), None, 16
        return arr.astype(np.int32), None, None
    if mode == "F":
        from ..ndsupport import all_finite, non_finite_count

        arr = np.asarray(im, dtype=np.float32)
        if not all_finite(arr):  # refused here, naming the file (as .npy inputs are), not by the core as "x"
            raise ImageReadError(f"{p}: the image holds {non_finite_count(arr)} NaN or infinite value(s); expected finite numbers")
        return arr, None, None
    grey = mode in ("P", "PA") and grey_palette(im)
    if mode == "1":
        im = im.convert("L")
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        im = im.convert("RGB")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise ImageReadError(f"{p}: unsupported image mode {mode!r}")
    arr = _pixels(im)
    if grey:  # R = G = B: one channel, as the same pixels saved greyscale give
        return np.ascontiguousarray(arr[..., 0]), (np.ascontiguousarray(arr[..., 3]) if im.mode == "RGBA" else None), 8
    if im.mode in ("LA", "RGBA"):
        colour = np.ascontiguousarray(arr[..., :-1])
        if colour.shape[2] == 1:
            colour = colour[..., 0]
        return colour, np.ascontiguousarray(arr[..., -1]), 8
    return np.ascontiguousarray(arr), None, 8


def key_alpha(data: np.ndarray, key: ColourKey, low: Callable[[], np.ndarray] | None = None) -> np.ndarray:
    """The alpha of a colour-keyed image's pixels ``data`` (as read): 0 where the pixel is the key's value,
    opaque (255, or 65535 for 16-bit samples) elsewhere.

    A 2- or 4-bit grey key is scaled as Pillow scales the samples (x 85, x 17).  A 16-bit colour
    image is read as its high bytes (Pillow's limit): ``low()`` gives the low bytes, for the key
    is matched against the 16 bits the file holds, not the 8 kept.

    >>> key_alpha(np.array([[0, 85], [170, 255]], np.uint8), ColourKey((1,), 2)).tolist()
    [[255, 0], [255, 255]]
    """
    value = np.asarray(key.value, dtype=np.int64)
    if key.bits < 8:
        value = value * (255 // (2**key.bits - 1))
    if key.bits == 16 and data.dtype == np.uint8:  # 16-bit samples read as their high bytes
        lows = low() if low is not None else None
        if lows is None or lows.shape != data.shape:
            raise ImageReadError("cannot match a 16-bit colour key: the low bytes of the samples were not read")
        hit = (data == value >> 8) & (lows == value & 0xFF)
    else:
        hit = data == value
    if hit.ndim == 3:
        hit = hit.all(axis=2)
    opaque = np.uint16 if data.dtype.itemsize > 1 else np.uint8
    return np.where(hit, opaque(0), np.iinfo(opaque).max).astype(opaque)


def _low_bytes(p: Path) -> np.ndarray:
    """The low bytes of a 16-bit RGB PNG's samples (Pillow reads their high bytes): the file decoded again
    with the raw mode ``RGB;16L``, which takes the second byte of each sample (the same 48 bits a pixel, so
    the rows are unfiltered alike), turned by its EXIF orientation as :func:`read_image` turns the image."""
    from .pillow import image

    with image().open(p, formats=["PNG"]) as im:
        im.tile = [t._replace(args="RGB;16L") if hasattr(t, "_replace") else (*t[:3], "RGB;16L") for t in im.tile]
        im.load()
        if orientation(im) in _TURNS:
            from PIL import ImageOps

            ImageOps.exif_transpose(im, in_place=True)
        return np.asarray(im)


def grey_palette(im) -> bool:
    """True when every palette entry a P or PA image uses is grey (R = G = B): read as one grey channel.

    >>> from PIL import Image
    >>> grey_palette(Image.new("L", (2, 2), 7).convert("P")), grey_palette(Image.new("RGB", (2, 2), (255, 0, 0)).convert("P"))
    (True, False)
    """
    counts = im.histogram()[:256]  # the index band's (a PA image's alpha band follows)
    palette = im.getpalette("RGB") or []
    entries = np.zeros((256, 3), dtype=np.int16)
    given = np.asarray(palette[: 256 * 3], dtype=np.int16).reshape(-1, 3)
    entries[: len(given)] = given  # entries past the palette's end are black, as Pillow takes them
    used = entries[np.asarray(counts) > 0]
    return bool(np.all(used[:, 0] == used[:, 1]) and np.all(used[:, 1] == used[:, 2]))


def _grey_alpha_16(im) -> tuple[np.ndarray, np.ndarray, int]:
    """(grey, alpha, 16) of a 16-bit grey + alpha PNG decoded byte for byte into RGBA
    (:func:`kernelcli.io.stored_samples.read_grey_alpha_16_as_bytes`): R, G hold grey's high and low byte, B, A alpha's."""
    raw = _pixels(im)
    grey = (raw[..., 0].astype(np.uint16) << 8) | raw[..., 1]
    alpha = (raw[..., 2].astype(np.uint16) << 8) | raw[..., 3]
    return grey, alpha, 16
