"""Whether a PNG's image data holds every row its header declares.

Pillow's PNG decoder stops without a word when the compressed stream ends before the last row, and
leaves the rows it never got as zeros: a 100x100 file holding 10 rows was read as 10 rows over 90 black
ones (exit 0), where libpng ("Not enough image data") and ImageMagick refuse it.  :func:`missing_rows`
inflates the IDAT chunks again, counting bytes only, and compares them with what the header needs.  It
is asked only where it can matter (:func:`needs_a_count`): an image whose last row decoded as zeros, which
every image cut short this way has (the rows never decoded are zeros).  An interlaced image cut short is
refused by Pillow itself ("image file is truncated").

>>> import io, struct, zlib
>>> def chunk(kind, data):
...     return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
>>> header = struct.pack(">IIBBBBB", 4, 3, 8, 0, 0, 0, 0)  # 4x3, 8-bit grey
>>> png = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\\0" * 5 * 2)) + chunk(b"IEND", b"")
>>> missing_rows(io.BytesIO(png))
(2, 3)
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

#: samples a pixel of each PNG colour type: grey, RGB, palette, grey + alpha, RGBA
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: inflated bytes kept at once while counting (the image itself is never held here)
_STEP = 1 << 20


def needs_a_count(im) -> bool:
    """Whether a decoded Pillow PNG ``im`` may have been cut short: not interlaced, and its last row all zeros."""
    if im.info.get("interlace"):
        return False
    w, h = im.size
    return not any(im.crop((0, h - 1, w, h)).tobytes())


def missing_rows(f: IO[bytes]) -> tuple[int, int] | None:
    """``(rows, height)`` when the PNG in ``f`` (not interlaced) holds fewer rows of image data than its header
    declares, else None (also for a file this cannot parse: Pillow has read it, and judged it)."""
    if f.read(8) != b"\x89PNG\r\n\x1a\n":
        return None
    inflate, total, needed, row_bytes, height = zlib.decompressobj(), 0, None, 1, 0
    while True:
        head = f.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        data = f.read(length)
        f.read(4)  # the CRC (Pillow checked it)
        if kind == b"IHDR" and len(data) >= 13:
            width, height, depth, colour, _, _, interlaced = struct.unpack(">IIBBBBB", data[:13])
            if interlaced:
                return None
            row_bytes = 1 + (width * depth * _SAMPLES.get(colour, 1) + 7) // 8
            needed = height * row_bytes
        elif kind == b"IDAT":
            while data:
                try:
                    total += len(inflate.decompress(data, _STEP))
                except zlib.error:  # (Pillow decoded what it could, and said nothing: not judged here either)
                    return None
                data = inflate.unconsumed_tail
        elif kind == b"IEND" or inflate.eof:
            break
    if needed is None or total >= needed:
        return None
    return total // row_bytes, height
