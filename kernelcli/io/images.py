"""Images in and out through Pillow: decoding, bit depth, EXIF, multi-frame, encoding.

Inputs: PNG, JPEG, TIFF, BMP, GIF (8/16-bit greyscale, RGB, RGBA; palette, 1-bit, CMYK and
LA are converted explicitly).  Outputs: PNG, JPEG, TIFF, BMP.

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
* RGBA: the colour channels are processed, alpha is carried through untouched when the
  output has the input's size (otherwise dropped, with a note).  A result of 2 or 4 channels
  (from an array) is refused for an image: its 2nd or 4th channel would be read as alpha.
* EXIF orientation is applied, so results are the right way up.
* Multi-frame GIF/TIFF: the first frame is used, with a note.
* Pillow's warnings (corrupt EXIF and the like) become notes, not noise on stderr.
* Integer outputs are rounded and clipped, never wrapped (:func:`to_integer_range`).  A
  format that cannot hold the data (16-bit into JPEG, floats into PNG, float64 or uint32
  into TIFF) is refused with a suggestion (TIFF or NPY).

Example
-------
>>> import tempfile, pathlib
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

from pathlib import Path

import numpy as np

from ..errors import ImageReadError, UsageError
from ..modes import JPEG_QUALITY, PNG_COMPRESSION, canonical_compression
from ..records import record
from .common import Loaded, Written
from .decode import DEFAULT_MAX_PIXELS, decode, open_image, reading, take
from .naming import IMAGE_SUFFIXES
from .outputs import atomic_write
from .pillow import orientation
from .png import write_png


def read_image(p: Path, *, max_pixels: int | None, max_bytes: int | None) -> Loaded:
    """Decode the image ``p`` with Pillow (see the module's policies); raises only our own errors.

    The image may have been opened and decoded early (:func:`kernelcli.io.decode.begin`): the
    same checks, pixels, notes and errors.
    """
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    opened = take(p, limit, max_bytes) or open_image(p, limit=limit, max_bytes=max_bytes)
    with reading(p, limit, opened.notes), opened.image as im:
        decode(opened)
        if orientation(im) in _TURNS:  # (importing PIL.ImageOps: 2-3 ms of a cold call)
            from PIL import ImageOps

            ImageOps.exif_transpose(im, in_place=True)  # a copy only when it turns the image
        data, alpha, depth = _grey_alpha_16(im) if opened.wide_grey_alpha else _image_to_array(im, p)
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
    file stores it (a TIFF's tags say which: :func:`_tiff_integer_type`).
    """
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
    grey = mode in ("P", "PA") and _grey_palette(im)
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


def _grey_palette(im) -> bool:
    """True when every palette entry a P or PA image uses is grey (R = G = B)."""
    counts = im.histogram()[:256]  # the index band's (a PA image's alpha band follows)
    palette = im.getpalette("RGB") or []
    entries = np.zeros((256, 3), dtype=np.int16)
    given = np.asarray(palette[: 256 * 3], dtype=np.int16).reshape(-1, 3)
    entries[: len(given)] = given  # entries past the palette's end are black, as Pillow takes them
    used = entries[np.asarray(counts) > 0]
    return bool(np.all(used[:, 0] == used[:, 1]) and np.all(used[:, 1] == used[:, 2]))


def _grey_alpha_16(im) -> tuple[np.ndarray, np.ndarray, int]:
    """(grey, alpha, 16) of a 16-bit grey + alpha PNG decoded byte for byte into RGBA
    (:func:`kernelcli.io.decode._read_grey_alpha_16_as_bytes`): R, G hold grey's high and low byte, B, A alpha's."""
    raw = _pixels(im)
    grey = (raw[..., 0].astype(np.uint16) << 8) | raw[..., 1]
    alpha = (raw[..., 2].astype(np.uint16) << 8) | raw[..., 3]
    return grey, alpha, 16



#: values converted per block by :func:`to_integer_range` (a block stays in the CPU cache)
_BLOCK = 1 << 16
#: what converting one value costs, in the unit of :func:`kernelcli._core.threads.run_rows`'s
#: ``work`` (multiply-adds): about 8 passes of numpy over it, scaled by 2 with that unit's
#: threshold (1 -> 2 M a thread), so that a second thread starts from about 2**18 values (4 M / 16),
#: as it did at 28 with 3.5 M
_WORK_PER_VALUE = 16
#: kernelcli._core.threads.MIN_ROWS_PER_THREAD (blocks here), not imported for a small image
_MIN_BLOCKS_PER_THREAD = 16


def to_integer_range(values: np.ndarray, bit_depth: int, rescale: str, *, nonzero: bool = False, out: np.ndarray | None = None,
                     count: bool = True) -> tuple:
    """Map float results to uint8/uint16: returns (array, values clipped low, values clipped high).

    ``nonzero``: also count the non-zero values (before rounding) in the same pass, as a
    fourth item (None for ``minmax``, which clips nothing): what the note on clipped
    responses needs, without another pass over the float result.  ``out``: an integer
    array of ``values``' shape (any strides: the colour bytes of an RGBX picture, say) to
    write into, returned as the array.  ``count=False``: the caller has the counts
    (:func:`kernelcli.io.pictures.whole_counts`); every count comes back 0, and no pass takes them.

    ``clip`` rounds and clips, ``abs`` takes the absolute value first, ``minmax`` stretches
    min..max to the full range.  Never wraps around.  Computed a block of leading-axis rows
    at a time into the integer output: no float copy of the whole image (float32 holds
    every 8-bit level exactly; 16-bit levels and wider integers are computed in float64, a
    block at a time; 8- and 16-bit integers as they are: whole numbers, nothing to round).

    >>> to_integer_range(np.array([-5.0, 100.4, 300.0]), 8, "clip")[0]
    array([  0, 100, 255], dtype=uint8)
    """
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if rescale == "none":
        raise UsageError(f"--rescale none needs a float output (.npy or .tif); this output is {bit_depth}-bit")
    v = np.asarray(values)
    # 8/16-bit integers have nothing to round: compared and clipped as they are (|x| in int32)
    whole = v.dtype.kind in "iu" and v.dtype.itemsize <= 2 and rescale != "minmax"
    if whole:
        work = np.dtype(np.int32) if rescale == "abs" and v.dtype.kind == "i" else v.dtype
    else:
        work = v.dtype if v.dtype.kind == "f" and not (bit_depth == 16 and v.dtype.itemsize < 8) else np.dtype(np.float64)
    if out is None:
        out = np.empty(v.shape, dtype=dtype)
    elif out.shape != v.shape or out.dtype != dtype:
        raise ValueError(f"out: expected a {np.dtype(dtype)} array of shape {v.shape}, got {out.dtype} {out.shape}")
    done = (lambda *r: (*r, None if rescale == "minmax" else responses)) if nonzero else (lambda *r: r)
    responses = 0
    if v.size == 0:
        return done(out, 0, 0)
    if v.ndim == 0:
        v, target = v.reshape(1), out.reshape(1)
    else:
        target = out
    if rescale == "minmax":
        lo, hi = float(v.min()), float(v.max())
        if hi == lo:
            out.fill(0)
            return done(out, 0, 0)
        factor = top / (hi - lo)
    row = v[0].size
    rows = max(1, _BLOCK // row)
    n_blocks = -(-v.shape[0] // rows)
    counts: list[tuple[int, int, int]] = []

    def convert(b0: int, b1: int) -> None:  # blocks b0..b1-1, with buffers of its own (a thread's share)
        low = high = responses = 0
        buffer = np.empty(min(rows, v.shape[0]) * row, dtype=work)
        flags = np.empty(buffer.size, dtype=bool)
        for start in range(b0 * rows, min(b1 * rows, v.shape[0]), rows):
            block, into = v[start : start + rows], target[start : start + rows]
            r, f = buffer[: block.size].reshape(block.shape), flags[: block.size].reshape(block.shape)
            if block.dtype != work:  # converted first (exactly: integers and float32 to float64)
                r[...] = block
                block = r
            if rescale == "minmax":
                np.subtract(block, lo, out=r)
                np.multiply(r, factor, out=r)
                np.rint(r, out=r)
                np.copyto(into, r, casting="unsafe")
                continue
            if nonzero and count:  # through a comparison: counting a float array's non-zeros directly is 4x slower
                responses += int(np.count_nonzero(np.not_equal(block, 0, out=f)))
            if rescale == "abs":
                np.abs(block, out=r)
                if not whole:
                    np.rint(r, out=r)
            elif whole:
                r = block
            else:
                np.rint(block, out=r)
            if count:
                low += int(np.count_nonzero(np.less(r, 0, out=f)))
                high += int(np.count_nonzero(np.greater(r, top, out=f)))
            np.clip(r, 0, top, out=into, casting="unsafe")  # whole numbers in range: the cast is exact
        counts.append((low, high, responses))  # list.append is atomic

    # numpy's loops release the GIL: the blocks of a large image are shared among threads
    # (each value is converted alone and the counts are sums: the same bytes and counts)
    if n_blocks < 2 * _MIN_BLOCKS_PER_THREAD:  # one thread whatever the machine: no thread module to import
        convert(0, n_blocks)
    else:
        from .._core.threads import run_rows

        run_rows(convert, n_blocks, work=v.size * _WORK_PER_VALUE)
    low, high, responses = (sum(c[i] for c in counts) for i in range(3))
    return done(out, low, high)


@record(frozen=True)
class Encoding:
    """How image outputs are encoded: JPEG ``quality`` (1-100) and PNG ``compress``
    (a name of :data:`kernelcli.modes.PNG_COMPRESSION`).

    PNG ``fast`` (the default) is encoded by :mod:`kernelcli.io.png` (the Up filter, deflate
    level 1), the other levels by Pillow (zlib at that level).

    >>> Encoding().own_png("PNG"), Encoding(compress="best").save_options("PNG"), Encoding(quality=80).save_options("JPEG")
    (True, {'compress_level': 9}, {'quality': 80})
    """

    quality: int = JPEG_QUALITY
    compress: str = "fast"

    def __post_init__(self) -> None:
        if not 1 <= int(self.quality) <= 100:
            raise UsageError(f"--quality: expected a JPEG quality from 1 to 100, got {self.quality}")
        object.__setattr__(self, "compress", canonical_compression(self.compress))

    def own_png(self, fmt: str) -> bool:
        """True when an image of format ``fmt`` is encoded by :func:`kernelcli.io.png.write_png`, not Pillow."""
        return fmt == "PNG" and self.compress == "fast"

    def save_options(self, fmt: str) -> dict:
        """The keyword arguments of Pillow's ``Image.save`` for format ``fmt`` (where Pillow encodes it)."""
        if fmt == "PNG":
            return {"compress_level": PNG_COMPRESSION[self.compress]}
        if fmt == "JPEG":
            return {"quality": int(self.quality)}
        return {}


def write_image(
    o: Path,
    arr: np.ndarray,
    *,
    like: Loaded | None = None,
    rescale: str | None = None,
    force: bool = False,
    encoding: Encoding | None = None,
) -> Written:
    """Write ``arr`` to the image ``o`` (its suffix names the format) atomically.

    Integer formats get the input's bit depth (or the result's, for uint8/uint16 results),
    through ``rescale`` (default ``clip``: round, then clip; never wrap); an input without a
    bit depth given a rescale gets 16 bits when it is a 16-bit integer array, else 8.
    ``.tif`` with ``rescale="none"`` (or a result without a bit depth) holds the result's own
    values (:func:`_raw_tiff`): float32, uint8, uint16 or int32, else refused.  A float result
    from a matrix or array input is refused for PNG/JPEG/BMP unless a rescale is given;
    16-bit data is refused for JPEG/BMP.
    """
    o = Path(o)
    arr = np.asarray(arr)
    encoding = encoding or Encoding()
    info = Written(path=o, dtype=str(arr.dtype), total=int(arr.size))
    fmt = IMAGE_SUFFIXES[o.suffix.lower()]
    check_image_channels(o, 1 if arr.ndim == 2 else arr.shape[2])
    alpha = like.alpha if like is not None else None
    depth = like.bit_depth if like is not None and like.bit_depth else _DEPTHS.get(arr.dtype)
    if fmt == "TIFF" and (rescale == "none" or (depth is None and rescale is None)):
        image_data = _raw_tiff(arr, o, rescale)
        if image_data.dtype.itemsize > 2:
            alpha = None
    else:
        if depth is None:
            if rescale is None:
                source = f"{'an' if like.kind[:1] in 'aeiou' else 'a'} {like.kind} input" if like is not None else "this input"
                keep = ".tif or .npy" if _tiff_type(arr.dtype) is not None else ".npy"
                bits = _rescaled_depth(like)
                raise UsageError(
                    f"{o}: {fmt} cannot hold the {arr.dtype} values from {source} as they are: "
                    f"write {keep} to keep them, or pass --rescale clip|abs|minmax (convolve, pool) for {'an' if bits == 8 else 'a'} "
                    f"{bits}-bit image"
                )
            depth = _rescaled_depth(like)
        if fmt in ("JPEG", "BMP") and depth == 16:
            raise UsageError(f"{o}: {fmt} cannot hold 16-bit data: write .tif or .png (16-bit) or .npy to keep it")
        channels = 1 if arr.ndim == 2 else arr.shape[2]
        if depth == 8 and (rescale or "clip") != "minmax" and alpha is None and arr.ndim in (2, 3) and channels in (1, 3):
            if encoding.own_png(fmt):
                pixels = _to_8bit(arr, rescale or "clip", info)
                atomic_write(o, lambda f: write_png(f, pixels), force=force)
                return info
            img = _to_pil_8bit(arr, rescale or "clip", info)
            options = encoding.save_options(fmt)
            atomic_write(o, lambda f: img.save(f, format=fmt, **options), force=force)
            return info
        image_data, info.low_clipped, info.high_clipped, info.nonzero = to_integer_range(arr, depth, rescale or "clip", nonzero=True)
    if image_data.ndim == 3 and image_data.shape[2] == 1:
        image_data = image_data[..., 0]
    if alpha is not None and (alpha.shape != image_data.shape[:2] or fmt in ("JPEG", "BMP")):
        alpha = None  # (a 32-bit BMP's fourth byte is read back as padding: Pillow reads it as RGB)
    if alpha is not None and image_data.dtype == np.uint16 and not encoding.own_png(fmt):
        alpha = None  # Pillow has no 16-bit grey + alpha mode to write: the job's note says so
    if alpha is not None:
        image_data = np.dstack([image_data, alpha.astype(image_data.dtype)])
    info.dtype, info.alpha = str(image_data.dtype), alpha is not None
    if encoding.own_png(fmt) and image_data.dtype != np.float32:
        _check_storable(image_data, o, fmt, own_png=True)
        atomic_write(o, lambda f: write_png(f, image_data), force=force)
        return info
    img = _to_pil(image_data, o, fmt)
    del image_data  # Pillow holds its own copy now: not both while it encodes
    options = encoding.save_options(fmt)
    atomic_write(o, lambda f: img.save(f, format=fmt, **options), force=force)
    return info


#: the bit depth of a uint8 or uint16 result
_DEPTHS = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}


def _rescaled_depth(like: Loaded | None) -> int:
    """The bit depth a rescale gives a result whose input has none: 16 for a 16-bit integer
    array (an integer TIFF, a ``.npy``), else 8.

    >>> from kernelcli.io.common import Loaded
    >>> _rescaled_depth(Loaded(path=Path("a.npy"), data=np.zeros((2, 2), np.uint16), kind="array", format="NPY"))
    16
    """
    return 16 if like is not None and like.dtype in ("uint16", "int16") else 8


def _tiff_type(dtype: np.dtype) -> np.dtype | None:
    """The type a TIFF holds a result of ``dtype`` in (None: none can here): float32 for any float
    (float64 rounded to it: the job says so in a note) and bool (as 0/1), uint8/uint16 as they are,
    int32 for int8/16/32.  Pillow writes no float64, uint32 or 64-bit integer TIFF.

    >>> _tiff_type(np.dtype(np.int16)), _tiff_type(np.dtype(np.float64)), _tiff_type(np.dtype(np.uint32))
    (dtype('int32'), dtype('float32'), None)
    """
    if dtype.kind in "bf":
        return np.dtype(np.float32)
    if dtype in _DEPTHS:
        return dtype
    if dtype.kind == "i" and dtype.itemsize <= 4:
        return np.dtype(np.int32)
    return None


def _raw_tiff(arr: np.ndarray, o: Path, rescale: str | None) -> np.ndarray:
    """The pixels of a TIFF holding the result ``arr`` as it is (:func:`_tiff_type`), or
    UsageError naming what it cannot hold: a type too wide, several channels beyond 16 bits."""
    kind = _tiff_type(arr.dtype)
    if kind is None:
        hint = ", or pass --rescale clip|abs|minmax for an integer image" if rescale is None else ""
        raise UsageError(f"{o}: TIFF holds at most int32 integers here (Pillow writes no wider type), not this {arr.dtype} "
                         f"result: write .npy to keep its values{hint}")
    if kind.itemsize > 2 and arr.ndim == 3 and arr.shape[2] != 1:
        raise UsageError(f"{o}: a {kind} TIFF holds one channel; this result has {arr.shape[2]}: write .npy to keep the values")
    return arr.astype(kind, copy=False)


def _to_pil_8bit(arr: np.ndarray, rescale: str, info: Written):
    """The 8-bit Pillow image of a float result (one or three channels); counts into ``info``.

    One channel: converted straight into an array that Pillow then uses as its image memory
    (``Image.frombuffer``: no copy).  Three: Pillow keeps RGB as 4 bytes a pixel, so the
    values go a strip of rows at a time into a small 8-bit array and from there, through
    Pillow's raw unpacker, straight into the rows of its RGB image (no whole 8-bit copy
    beside Pillow's, and no temporary picture per strip to paste: 12 MP, 80 -> 50 ms).
    The same values either way (:func:`to_integer_range` works value by value).
    """
    from PIL import Image

    h, w = arr.shape[:2]
    if arr.ndim == 2 or arr.shape[2] == 1:
        return Image.frombuffer("L", (w, h), _to_8bit(arr, rescale, info), "raw", "L", 0, 1)
    img = Image.new("RGB", (w, h), None)  # every row is written below: no fill first
    rows = max(1, min(h, _STRIP_BYTES // max(1, w * 3 * arr.itemsize)))
    counts: list[tuple[int, int, int]] = []

    def convert(a0: int, a1: int) -> None:  # image rows a0..a1-1, a strip at a time (a thread's share)
        strip = np.empty((min(rows, a1 - a0), w, 3), dtype=np.uint8)
        low = high = nonzero = 0
        for a in range(a0, a1, rows):
            part = arr[a : min(a + rows, a1)]
            into = strip[: part.shape[0]]
            _, lo, hi, nz = to_integer_range(part, 8, rescale, nonzero=True, out=into)
            _unpack_rows(img, into, a)
            low, high, nonzero = low + lo, high + hi, nonzero + nz
        counts.append((low, high, nonzero))

    if h * w * 3 < 2 * _MIN_BLOCKS_PER_THREAD * _BLOCK:
        convert(0, h)
    else:
        from .._core.threads import run_rows

        run_rows(convert, h, work=h * w * 3 * _WORK_PER_VALUE)
    info.low_clipped, info.high_clipped, info.nonzero = (sum(c[i] for c in counts) for i in range(3))
    info.dtype = "uint8"
    return img


def _to_8bit(arr: np.ndarray, rescale: str, info: Written) -> np.ndarray:
    """The (H, W) or (H, W, 3) uint8 pixels of a float result of one or three channels (for
    :func:`kernelcli.io.png.write_png`, or Pillow's image memory); counts into ``info``."""
    pixels = np.empty(arr.shape[:2] if arr.ndim == 2 or arr.shape[2] == 1 else arr.shape, dtype=np.uint8)
    _, info.low_clipped, info.high_clipped, info.nonzero = to_integer_range(arr, 8, rescale, nonzero=True, out=pixels.reshape(arr.shape))
    info.dtype = "uint8"
    return pixels


def _unpack_rows(img, rows: np.ndarray, top: int) -> None:
    """Copy the (n, W, 3) uint8 ``rows`` into rows ``top``.. of the RGB image ``img`` (Pillow's raw decoder)."""
    from PIL import Image

    try:
        decoder = Image._getdecoder("RGB", "raw", ("RGB", 0, 1))
    except AttributeError:  # another Pillow: through a picture of the strip
        img.paste(Image.fromarray(rows), (0, top))
        return
    decoder.setimage(img.im, (0, top, rows.shape[1], top + rows.shape[0]))
    consumed, code = decoder.decode(memoryview(np.ascontiguousarray(rows)).cast("B"))
    if consumed >= 0 or code != 0:  # as Image.frombytes: a negative count says every row is filled
        raise ValueError(f"cannot unpack the 8-bit rows into the picture (Pillow code {code})")


#: bytes of float result turned into 8-bit rows at a time by :func:`_to_pil_8bit`
_STRIP_BYTES = 4 << 20


def check_image_channels(o: Path, channels: int) -> None:
    """Refuse a result of ``channels`` channels for the image ``o`` unless it has 1 (grey) or 3 (RGB):
    an image's 2nd or 4th channel is alpha, so a filtered one would be read as transparency or dropped.

    An input's own alpha is not a channel of the result: it is carried beside it (``Loaded.alpha``).

    >>> check_image_channels(Path("o.png"), 4)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: o.png: the result has 4 channels; an image holds 1 (grey) or 3 (RGB) filtered channels (a 2nd or 4th is alpha, which would hide or drop a channel): write .npy to keep them, or give a 1- or 3-channel input
    """
    if channels not in (1, 3):
        raise UsageError(f"{o}: the result has {channels} channels; an image holds 1 (grey) or 3 (RGB) filtered channels "
                         "(a 2nd or 4th is alpha, which would hide or drop a channel): write .npy to keep them, "
                         "or give a 1- or 3-channel input")


def _check_storable(data: np.ndarray, o: Path, fmt: str, own_png: bool = False) -> None:
    """Refuse integer pixels that an image file cannot hold here (16-bit colour, more than 4 channels);
    ``own_png``: written by :func:`kernelcli.io.png.write_png`, which holds 16-bit grey + alpha too."""
    if data.dtype == np.uint16 and data.ndim != 2 and not (own_png and data.shape[2] == 2):
        raise UsageError(f"{o}: 16-bit {fmt} images hold one channel here (Pillow's limit); this result has {data.shape[2]}: write .npy")
    channels = 1 if data.ndim == 2 else data.shape[2]
    if channels not in (1, 2, 3, 4):
        raise UsageError(f"{o}: {channels} channels cannot be stored in {fmt}: write .npy")


def _to_pil(data: np.ndarray, o: Path, fmt: str):
    from PIL import Image

    if data.dtype in (np.float32, np.int32):  # Pillow's modes F and I
        return Image.fromarray(np.ascontiguousarray(data[..., 0] if data.ndim == 3 else data))
    _check_storable(data, o, fmt)
    if data.dtype == np.uint16:
        return Image.fromarray(np.ascontiguousarray(data.astype("<u2")))  # Pillow's 16-bit greyscale (I;16)
    return Image.fromarray(np.ascontiguousarray(data))


def write_picture(path: str | Path, image, *, force: bool = False, encoding: Encoding | None = None) -> None:
    """Save a rendered Pillow ``image`` (a montage, a gallery sheet) atomically, in the format
    ``path``'s suffix names (PNG for another suffix), encoded as ``encoding`` (default
    :class:`Encoding`: fast PNG, JPEG quality 95).  Raises OutputRefused when ``path``
    exists and ``force`` is False.
    """
    import io

    from .outputs import write_bytes_atomic

    p = Path(path)
    fmt = IMAGE_SUFFIXES.get(p.suffix.lower(), "PNG")
    encoding = encoding or Encoding()
    buffer = io.BytesIO()
    if encoding.own_png(fmt) and image.mode in ("L", "LA", "RGB", "RGBA"):
        write_png(buffer, _pixels(image))
    else:
        image.save(buffer, format=fmt, **encoding.save_options(fmt))
    write_bytes_atomic(p, buffer.getvalue(), force=force)


def write_tiff_pages(path: str | Path, maps: np.ndarray, *, force: bool = False) -> None:
    """Write (H, W, M) maps as an M-page float32 TIFF (page k = map k), atomically."""
    import io

    from PIL import Image

    from .outputs import write_bytes_atomic

    pages = [Image.fromarray(np.ascontiguousarray(maps[:, :, k], dtype=np.float32)) for k in range(maps.shape[2])]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    write_bytes_atomic(Path(path), buffer.getvalue(), force=force)

