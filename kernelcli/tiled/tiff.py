"""A TIFF's first page read tile by tile as the in-memory reader reads the whole file.

tifffile's Zarr store gives the stored samples; :func:`tiff_reading` maps them to what
:func:`kernelcli.io.images.read_image` gives (Pillow's palette, 1-bit, MinIsWhite and alpha
rules) or says why it cannot, and :func:`missing_codec` names a compression this install cannot
decode before the first tile would fail on it.

>>> from types import SimpleNamespace as N
>>> tiff_reading(N(photometric=1, samplesperpixel=1, bitspersample=8, dtype="uint8", extrasamples=(), tags={},
...                compression=1, predictor=1))[1] is None
True
"""

from __future__ import annotations

from typing import Any


#: greyscale TIFF samples both readers take as stored (in memory: as the TIFF's tags say, :mod:`kernelcli.io.images`)
_GREY_AS_STORED = ("uint8", "uint16", "int8", "int16", "int32", "uint32", "float32")


def tiff_reading(page: Any) -> tuple[Any, str | None]:
    """``(convert, problem)`` for a TIFF's first page: ``convert`` maps its stored samples (a dask
    array, as tifffile's Zarr store gives them) to what :func:`kernelcli.io.images.read_image`
    reads (Pillow: palette to RGB, 1-bit to 0/255, MinIsWhite inverted, alpha dropped from an
    array result); ``problem`` says why it cannot, else None.  An Orientation other than 1 is
    refused: Pillow turns the image while decoding it, then by its EXIF tag.

    >>> from types import SimpleNamespace as N
    >>> tiff_reading(N(photometric=5, samplesperpixel=4, bitspersample=8, dtype="uint8", extrasamples=(), tags={}))[1]
    'photometric CMYK (5), 4 sample(s) of 8 bits'
    """
    import numpy as np

    missing = missing_codec(page)
    if missing is not None:
        return None, f"{missing} (tifffile needs the imagecodecs package for it)"
    photometric, samples, bits = int(page.photometric), int(page.samplesperpixel), int(page.bitspersample)
    dtype = np.dtype(page.dtype) if page.dtype is not None else None
    extras = tuple(int(e) for e in (page.extrasamples or ()))
    tag = page.tags.get(274)  # Orientation
    planar = int(getattr(page, "planarconfig", 1)) == 2 and samples > 1
    if dtype is None or bits != (1 if dtype == np.bool_ else 8 * dtype.itemsize):
        return None, f"{bits}-bit samples (scaled to {'8 or 16' if dtype is None else 8 * dtype.itemsize} bits in memory)"
    if extras and dtype != np.uint8:
        return None, f"{bits}-bit samples with an extra (alpha) sample"
    steps: list[Any] = []
    if planar:
        steps.append(lambda a: a.transpose(1, 2, 0))  # (C, H, W) planes, read (H, W, C)
    if photometric in (0, 1) and samples - len(extras) == 1:
        if dtype == np.bool_:
            steps.append((lambda a: (~a).astype(np.uint8) * 255) if photometric == 0 else (lambda a: a.astype(np.uint8) * 255))
        elif photometric == 0 and dtype.kind != "u":
            return None, f"a MinIsWhite TIFF of {dtype} samples"
        elif photometric == 0:
            white = np.iinfo(dtype).max
            steps.append(lambda a: white - a)
        elif dtype.name not in _GREY_AS_STORED:
            return None, f"{_a(dtype.name)} greyscale TIFF (tile by tile: {', '.join(_GREY_AS_STORED)} ones)"
    elif photometric == 2 and samples - len(extras) == 3:
        if dtype != np.uint8:
            return None, f"{_a(f'{bits}-bit')} colour TIFF" + (" (read in memory as 8 bits per channel)" if bits == 16 else "")
    elif photometric == 3 and samples == 1 and bits == 8 and page.colormap is not None:
        lut = (np.asarray(page.colormap)[:3].T // 256).astype(np.uint8)  # Pillow's palette: the high byte
        steps.append(lambda a: _palette_image(a, lut))
    else:
        name = {3: "palette", 4: "mask", 5: "CMYK", 6: "YCbCr", 8: "CIELab"}.get(photometric)
        return None, f"photometric {f'{name} ({photometric})' if name else photometric}, {samples} sample(s) of {bits} bits"
    if extras:
        if extras[0] == 1:
            return None, "a TIFF with associated (premultiplied) alpha (un-premultiplied in memory)"
        if extras != (2,):  # only a single alpha sample is known to be alpha: any other extra is data of its own
            return None, (f"{len(extras)} extra sample(s) (TIFF ExtraSamples {', '.join(map(str, extras))}; 0: of unspecified "
                          "meaning) where only one alpha sample (2) is taken off")
        grey = samples == 2
        steps.append(lambda a: a[..., 0] if grey else a[..., :3])  # alpha: not part of an array result
    if tag is not None and int(tag.value) != 1:
        return None, f"Orientation {tag.value} (a turned or mirrored image)"

    def convert(a: Any) -> Any:
        for step in steps:
            a = step(a)
        return a

    return convert, None


def neither_reads(path: Any, problem: str) -> Exception:
    """The refusal (exit 2) of a TIFF that neither the tiled path nor the in-memory reader reads (``problem``:
    :func:`tiff_reading`'s), whatever sent it to either: a memory cap's advice cannot help it.

    >>> str(neither_reads("o.tif", "Orientation 6")).split("; ")[1]
    'save it without the Orientation tag, or as PNG or .npy'
    """
    from ..errors import ImageReadError

    advice = ("save it without the Orientation tag, or as PNG or .npy" if problem.startswith("Orientation")
              else "convert it first (to .npy, .zarr or an 8-bit grey or RGB TIFF)")  # (an 8-bit grey one is one already)
    return ImageReadError(f"{path}: {problem}: neither the tiled path nor the in-memory reader reads it; {advice}")


def neither_reader_takes(path: Any) -> str | None:
    """What makes the TIFF ``path`` one neither the tiled path nor the in-memory reader reads (:func:`tiff_reading`'s
    problem, :func:`read_in_memory` False), or None: also None where tifffile is missing or cannot open it (the
    in-memory reader then says what it finds).  Asked before a memory cap refuses a TIFF, whatever path read it: the
    cap's advice cannot help it (:func:`neither_reads`).

    >>> neither_reader_takes("no-such.tif") is None
    True
    """
    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            problem = tiff_reading(page)[1]
            return problem if problem is not None and not read_in_memory(path, page) else None
    except Exception:  # noqa: BLE001 - no tifffile, or a file it cannot open: no second opinion
        return None


def read_in_memory(path: Any, page: Any) -> bool:
    """Whether the in-memory reader (:func:`kernelcli.io.images.read_image`) takes the TIFF ``path`` whose first page
    is ``page``: asked of a page :func:`tiff_reading` refuses, so that leaving the tiled path is offered only where
    it leads somewhere.  Pillow's opening and the checks before decoding decide (:func:`kernelcli.io.decode.open_image`),
    then the in-memory reader's refusals after decoding, from the tags: a MinIsWhite page of signed or float samples
    (no white to invert from), an Orientation that turns a page that is not square (its decoded size differs).

    >>> from types import SimpleNamespace as N
    >>> read_in_memory("m.tif", N(photometric=0, dtype="int16", tags={}, imagewidth=2, imagelength=2))
    False
    """
    import sys
    from pathlib import Path

    import numpy as np

    from ..errors import ImageReadError
    from ..io.decode import open_image

    if int(page.photometric) == 0 and page.dtype is not None and np.dtype(page.dtype).kind not in "ub":
        return False
    tag = page.tags.get(274)  # Orientation: 5-8 turn the image by a quarter
    if tag is not None and int(tag.value) in (5, 6, 7, 8) and int(page.imagewidth) != int(page.imagelength):
        return False
    try:  # (the layout alone: no pixel cap, no memory cap)
        open_image(Path(str(path)), limit=sys.maxsize, max_bytes=None).image.close()
    except ImageReadError:
        return False
    return True


#: TIFF compressions by number, for messages
_COMPRESSIONS = {5: "LZW", 6: "old-style JPEG", 7: "JPEG", 32773: "PackBits", 34887: "LERC", 34925: "LZMA",
                 50000: "Zstandard", 50001: "WebP", 34712: "JPEG 2000", 33003: "JPEG 2000", 33005: "JPEG 2000"}


#: TIFF predictors by number, for messages
_PREDICTORS = {2: "horizontal differencing", 3: "floating-point", 34892: "horizontal differencing (2)",
               34893: "horizontal differencing (4)", 34894: "floating-point (2)", 34895: "floating-point (4)"}


def missing_codec(page: Any) -> str | None:
    """The compression or predictor of a TIFF page that the installed tifffile cannot decode
    (most need the imagecodecs package, which the ``[distributed]`` extra does not install), or None.

    It would fail only when dask computes the first tile, after the run has started.

    >>> from types import SimpleNamespace as N
    >>> missing_codec(N(compression=1, predictor=1)) is None
    True
    """
    from tifffile import TIFF

    compression, predictor = int(getattr(page, "compression", 1) or 1), int(getattr(page, "predictor", 1) or 1)
    if not _decodable(TIFF.DECOMPRESSORS, compression):
        return f"{_COMPRESSIONS.get(compression, 'compression')} compression ({compression})"
    if not _decodable(TIFF.UNPREDICTORS, predictor):
        return f"the {_PREDICTORS.get(predictor, 'TIFF')} predictor ({predictor})"
    return None


def _decodable(codecs: Any, key: int) -> bool:
    """Whether tifffile's codec table has a decoder for ``key`` (it looks one up, importing imagecodecs)."""
    try:
        return key in codecs
    except Exception:  # noqa: BLE001 - a codec whose import fails is one this install cannot use
        return False


def _palette(block: Any, lut: Any) -> Any:
    return lut[block]


def _palette_image(indices: Any, lut: Any) -> Any:
    """A palette image's pixels as the in-memory reader gives them (:func:`kernelcli.io.images.grey_palette`):
    one grey channel when every entry it uses is grey, else RGB; which entries it uses takes a pass over it.

    >>> import dask.array as da, numpy as np
    >>> lut = np.array([[0, 0, 0], [9, 9, 9], [1, 2, 3]], np.uint8)
    >>> _palette_image(da.from_array(np.array([[0, 1]], np.uint8)), lut).compute()
    array([[0, 9]], dtype=uint8)
    """
    import dask.array as da
    import numpy as np

    used = lut[np.asarray(da.bincount(indices.ravel(), minlength=len(lut)).compute()) > 0]  # (an 8-bit TIFF's 256 entries)
    if (used == used[:, :1]).all():
        return indices.map_blocks(_palette, lut[:, 0], dtype=np.uint8)
    return indices.map_blocks(_palette, lut, dtype=np.uint8, new_axis=2, chunks=indices.chunks + ((3,),))


def _a(word: str) -> str:
    """``word`` with its article, as it is said: an int64, an 8-bit, a uint16, a float64, a 16-bit.

    >>> _a("int64"), _a("8-bit"), _a("uint16"), _a("16-bit"), _a("11-bit")
    ('an int64', 'an 8-bit', 'a uint16', 'a 16-bit', 'an 11-bit')
    """
    spoken_vowel = word[:1] in "aeio" or word.startswith(("8", "11-", "18-"))
    return f"{'an' if spoken_vowel else 'a'} {word}"
