"""An 8-bit picture made from a result band by band, then encoded: no whole float result.

:func:`kernelcli.io.image_writing.write_image` turns a float result into 8-bit pixels value by value
(:func:`~kernelcli.io.integer_range.to_integer_range`), so the pixels of a band of rows depend on
that band only.  Here the bands come from :class:`kernelcli.bands.Bands` as they are
computed: each is checked for non-finite values, its minimum and maximum taken, and it is
converted while still in the CPU cache, straight into what the encoder reads: the 8-bit
array of a grey picture or of kernelcli's PNG encoder; for a JPEG from the jitted core, RGBX
words that Pillow encodes from as its own image memory (:mod:`kernelcli._core.eightbit`
converts them in one pass); else Pillow's RGB image memory through its raw unpacker.  The encoded bytes are those :func:`~kernelcli.io.image_writing.write_image`
writes from the whole result (tested for every format).

Only what ``write_image`` converts value by value goes this way (:func:`takes_bands`): an
8-bit image output, like an 8-bit input without alpha, one or three channels, ``--rescale``
clip or abs (minmax needs the whole result's range first).

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from kernelcli.bands import conv2d_bands
>>> from kernelcli.io.common import Loaded
>>> like = Loaded(path=pathlib.Path("in.png"), data=None, kind="image", format="PNG", bit_depth=8)
>>> out = pathlib.Path(tempfile.mkdtemp()) / "edges.png"
>>> takes_bands(out, like, None, 1)
True
>>> picture = picture_8bit(out, conv2d_bands(np.eye(6, dtype=np.uint8) * 9, [[1, 0, -1]]), "clip")
>>> picture.minimum, picture.maximum, picture.low_clipped
(-9.0, 9.0, 5)
>>> write_picture_8bit(out, picture).dtype
'uint8'
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..bands import Bands, ahead
from ..ndsupport import min_max
from ..records import record
from .common import Loaded, Written
from .image_writing import _STRIP_BYTES, Encoding, _unpack_rows
from .integer_range import to_integer_range
from .naming import IMAGE_SUFFIXES
from .outputs import atomic_write, save_image
from .png import write_png


def takes_bands(o: Path, like: Loaded | None, rescale: str | None, channels: int) -> bool:
    """True when writing a float result of ``channels`` channels to ``o`` converts it value by
    value to 8 bits (so the picture can be made band by band, :func:`picture_8bit`)."""
    return (Path(o).suffix.lower() in IMAGE_SUFFIXES and like is not None and like.kind == "image" and like.bit_depth == 8
            and like.alpha is None and (rescale or "clip") in ("clip", "abs") and channels in (1, 3))


@record
class Picture:
    """The 8-bit pixels of a result, with the facts its report needs."""

    #: (H, W), (H, W, 3) or (a JPEG's RGBX) (H, W, 4) uint8, or None when ``image`` holds them
    pixels: np.ndarray | None
    #: Pillow's RGB image (what Pillow encodes an RGB picture from), or None
    image: Any
    #: ints for a whole-number result (exact past 2**53), floats for a float one
    minimum: float | int
    maximum: float | int
    low_clipped: int
    high_clipped: int
    nonzero: int
    total: int


def picture_8bit(o: Path, bands: Any, rescale: str, encoding: Encoding | None = None,
                 check: Callable[[float, float], None] | None = None) -> Picture:
    """Compute ``bands`` (a :class:`kernelcli.bands.Bands`) and convert each band to 8 bits for
    the output ``o`` (``rescale``: clip or abs).  ``check(minimum, maximum)`` sees each band
    before it is converted (it refuses a non-finite band, say)."""
    from PIL import Image

    fmt = IMAGE_SUFFIXES[Path(o).suffix.lower()]
    h, w = bands.shape[:2]
    colour = len(bands.shape) == 3 and bands.shape[2] == 3
    jitted = getattr(bands, "jitted", False) and bands.dtype == np.float32 and sys.byteorder == "little"
    image = pixels = strip = None
    if colour and fmt == "JPEG" and jitted:  # RGBX words, the memory Pillow's JPEG encoder reads
        pixels = np.empty((h, w, 4), dtype=np.uint8)
    elif colour and not (encoding or Encoding()).own_png(fmt):
        image = Image.new("RGB", (w, h), None)  # every row is written below: no fill first
    else:
        pixels = np.empty((h, w, 3) if colour else (h, w), dtype=np.uint8)
    if isinstance(bands, Bands) and not jitted:
        bands = bands.as_sums()  # integer sums where numpy adds exactly: the same values, converted without rounding
    lo, hi, low, high, nonzero = np.inf, -np.inf, 0, 0, 0
    # what only reads a band is done on the thread that computed it (ahead): the conversion is the longer share
    facts = partial(_facts, rescale=rescale)
    blocks = ahead(bands, each=facts) if isinstance(bands, Bands) else ((top, b, facts(b)) for top, b in bands)
    for top, block, known in blocks:
        if block.size == 0:
            continue
        b_lo, b_hi, counted = known
        if check is not None:
            check(b_lo, b_hi)
        lo, hi = min(lo, b_lo), max(hi, b_hi)
        rows = block.shape[0]
        if image is None:
            into = pixels[top : top + rows]
        else:
            if strip is None or strip.shape[0] < rows:
                strip = np.empty((max(rows, _STRIP_BYTES // max(1, w * 3 * block.itemsize)), w, 3), dtype=np.uint8)
            into = strip[:rows]
        a, b, n = _convert(block, into, rescale, jitted, counted)
        low, high, nonzero = low + a, high + b, nonzero + n
        if image is not None:
            _unpack_rows(image, into, top)
    if np.dtype(bands.dtype).kind == "f":  # (integer sums of a float result: its extremes are floats)
        lo, hi = float(lo), float(hi)
    return Picture(pixels, image, lo, hi, low, high, nonzero, int(np.prod(bands.shape)))


def _facts(block: np.ndarray, rescale: str) -> tuple | None:
    """``(min, max, counts)`` of a band (None when empty): ``counts`` for whole numbers (:func:`whole_counts`),
    else None (the conversion counts as it rounds)."""
    if not block.size:
        return None
    lo, hi = min_max(block)
    return lo, hi, whole_counts(block, 8, rescale, lo, hi) if block.dtype.kind in "iu" else None


def whole_counts(values: np.ndarray, bit_depth: int, rescale: str, lo: float, hi: float) -> tuple[int, int, int]:
    """``(clipped low, clipped high, non-zero)`` of whole-number ``values`` whose minimum and maximum are
    ``lo`` and ``hi``: the counts :func:`~kernelcli.io.integer_range.to_integer_range` takes for ``rescale``
    clip or abs (a whole number rounds to itself), without the passes the extremes rule out.

    A band of integer sums (:meth:`kernelcli.bands.Bands.as_sums`) is counted on the thread that
    computed it, and only converted on the caller's: the caller's share had been the longer
    (12 MP RGB Sobel: 120 ms of conversion against 20 ms of extremes).

    >>> whole_counts(np.array([-3, 0, 7, 300], np.int16), 8, "clip", -3, 300)
    (1, 1, 3)
    >>> whole_counts(np.array([-300, 0, 7, 300], np.int16), 8, "abs", -300, 300)
    (0, 2, 3)
    """
    top = 255 if bit_depth == 8 else 65535
    nonzero = int(np.count_nonzero(values))  # (an integer array counted directly: twice as fast as through a comparison)
    if rescale == "abs":
        high = int(np.count_nonzero(values > top)) if hi > top else 0
        return 0, high + (int(np.count_nonzero(values < -top)) if lo < -top else 0), nonzero
    low = int(np.count_nonzero(values < 0)) if lo < 0 else 0
    return low, int(np.count_nonzero(values > top)) if hi > top else 0, nonzero


def _convert(block: np.ndarray, into: np.ndarray, rescale: str, jitted: bool,
             counted: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """``block`` to 8 bits into the rows ``into`` (RGBX when it has 4 channels); (low, high, nonzero).
    ``counted``: those counts, taken already (:func:`whole_counts`): the pixels are only written."""
    rows = block.shape[0]
    rgbx = into.ndim == 3 and into.shape[2] == 4
    if counted is not None or not jitted or not block.flags.c_contiguous:
        _, a, b, n = to_integer_range(block, 8, rescale, nonzero=True, out=into[..., :3] if rgbx else into.reshape(block.shape),
                                      count=counted is None)
        return (a, b, n) if counted is None else counted
    from .._core import eightbit

    values = block.reshape(rows, -1)
    if rgbx:
        return eightbit.rows_to_rgbx(values, into.view(np.uint32).reshape(rows, -1), rescale == "abs")
    return eightbit.rows_to_uint8(values, into.reshape(rows, -1), rescale == "abs")


def write_picture_8bit(o: Path, picture: Picture, *, force: bool = False, encoding: Encoding | None = None) -> Written:
    """Encode ``picture`` to ``o`` (its suffix names the format) atomically, as
    :func:`kernelcli.io.image_writing.write_image` encodes 8-bit pixels."""
    from PIL import Image

    o = Path(o)
    fmt = IMAGE_SUFFIXES[o.suffix.lower()]
    encoding = encoding or Encoding()
    info = Written(path=o, dtype="uint8", total=picture.total, low_clipped=picture.low_clipped,
                   high_clipped=picture.high_clipped, nonzero=picture.nonzero)
    if picture.image is None and encoding.own_png(fmt):
        atomic_write(o, lambda f: write_png(f, picture.pixels), force=force)
        return info
    if picture.image is not None:
        img = picture.image
    else:  # Pillow's image over the array itself (no copy): grey, or RGBX (a JPEG encodes its RGB)
        h, w = picture.pixels.shape[:2]
        mode = "RGBX" if picture.pixels.ndim == 3 else "L"
        img = Image.frombuffer(mode, (w, h), picture.pixels, "raw", mode, 0, 1)
    options = encoding.save_options(fmt)
    atomic_write(o, lambda f: save_image(img, f, fmt, options), force=force)
    return info
