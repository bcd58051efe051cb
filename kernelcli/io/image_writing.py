"""Images out through Pillow (and kernelcli's own PNG encoder): bit depth, alpha, encoding.

Outputs: PNG, JPEG, TIFF, BMP (results through :func:`write_image`); rendered pictures
(montages, sheets: :func:`write_picture`) and multi-page TIFFs of feature maps
(:func:`.tiff_writing.write_tiff_pages`).  :class:`Encoding` says how they are encoded (JPEG quality,
PNG compression).  Images come in through :mod:`kernelcli.io.images`.

Policies
--------
* RGBA: the colour channels are processed, alpha is carried through untouched when the
  output has the input's size (``pad`` and ``pool`` give it padded or pooled: ``Loaded.alpha``
  of the output's size; otherwise dropped, with a note).  A result of 2 or 4 channels
  (from an array) is refused for an image: its 2nd or 4th channel would be read as alpha.
* Integer outputs are rounded and clipped, never wrapped
  (:func:`kernelcli.io.integer_range.to_integer_range`).  A format that cannot hold the data
  (16-bit into JPEG, floats into PNG, uint32 or 64-bit integers into TIFF) is refused with a
  suggestion (TIFF or NPY); a float64 result goes into a TIFF as float32 (``Written.dtype`` says so;
  the command line adds a note, counting values float32 makes 0), a value beyond float32's range refused
  (:func:`.tiff_writing.as_float32`).
* Every file is written atomically (:func:`kernelcli.io.outputs.atomic_write`).

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> info = write_image(folder / "a.png", np.array([[-3.0, 300.0, 7.0]]), rescale="clip")
>>> info.dtype, info.low_clipped, info.high_clipped
('uint8', 1, 1)
>>> write_image(folder / "a.jpg", np.zeros((2, 2), np.uint16))
Traceback (most recent call last):
...
kernelcli.io.not_held.KeepAdvised: ...a.jpg: JPEG cannot hold 16-bit data: write .tif or .png (16-bit) or .npy to keep it
"""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np

from .. import numtext
from ..errors import UsageError
from ..given_values import not_real_words
from ..modes import JPEG_QUALITY, PNG_COMPRESSION, canonical_compression, canonical_rescale
from ..records import record
from .common import Loaded, Written
from .integer_range import _BLOCK, _MIN_BLOCKS_PER_THREAD, _WORK_PER_VALUE, to_integer_range
from .naming import IMAGE_SUFFIXES, keep_as, piped_stream
from .outputs import atomic_write, save_image
from .not_held import RESCALE_PAD, FloatOutputNeeded, KeepAdvised, ValuesNotHeld
from .png import write_png
from .tiff_writing import raw_tiff_pixels, signed_tiff_options, tiff_type


@record(frozen=True)
class Encoding:
    """How image outputs are encoded: JPEG ``quality`` (1-100) and PNG ``compress``
    (a name of :data:`kernelcli.modes.PNG_COMPRESSION`).

    PNG ``fast`` (the default) is encoded by :mod:`kernelcli.io.png` (the Up filter, deflate
    level 1), the other levels by Pillow (zlib at that level), but for 16-bit grey + alpha, which
    Pillow cannot write: :mod:`kernelcli.io.png` at that zlib level.

    ``None`` (not given) is the default: quality :data:`~kernelcli.modes.JPEG_QUALITY`, ``fast``;
    a value given for an output that does not use it is named by :meth:`ignored_by`.

    >>> Encoding().own_png("PNG"), Encoding(compress="best").save_options("PNG"), Encoding(quality=80).save_options("JPEG")
    (True, {'compress_level': 9}, {'quality': 80})
    >>> Encoding(quality=80).ignored_by(Path("a.png")), Encoding(quality=80).ignored_by(Path("a.png"), Path("m.jpg"))
    (['--quality 80 is for JPEG outputs; a PNG output does not use it'], [])
    """

    quality: int | None = None
    compress: str | None = None

    def __post_init__(self) -> None:
        # (the command line's --quality is checked by its parser: only a Python caller's reaches here, in its words)
        if self.quality is not None:
            try:
                quality = operator.index(self.quality) if not isinstance(self.quality, bool) else None
            except TypeError:  # ('high' was int()'s ValueError, 2.5 taken as 2, True as 1)
                quality = None
            if quality is None or not 1 <= quality <= 100:
                raise UsageError(f"quality: expected a JPEG quality, a whole number from 1 to 100, got {numtext.clipped(repr(self.quality), 60)}")
            object.__setattr__(self, "quality", int(quality))
        if self.compress is not None:
            object.__setattr__(self, "compress", canonical_compression(self.compress))

    @property
    def jpeg_quality(self) -> int:
        """The JPEG quality to encode with: the one given, else the default."""
        return JPEG_QUALITY if self.quality is None else int(self.quality)

    @property
    def png_compress(self) -> str:
        """The PNG compression to encode with: the one given, else ``fast``."""
        return "fast" if self.compress is None else self.compress

    def own_png(self, fmt: str) -> bool:
        """True when an image of format ``fmt`` is encoded by :func:`kernelcli.io.png.write_png`, not Pillow."""
        return fmt == "PNG" and self.png_compress == "fast"

    def save_options(self, fmt: str) -> dict:
        """The keyword arguments of Pillow's ``Image.save`` for format ``fmt`` (where Pillow encodes it)."""
        if fmt == "PNG":
            return {"compress_level": PNG_COMPRESSION[self.png_compress]}
        if fmt == "JPEG":
            return {"quality": self.jpeg_quality}
        return {}

    def ignored_by(self, *paths: Path) -> list[str]:
        """Notes naming each option given that none of the outputs ``paths`` (by their suffixes) uses."""
        kinds = sorted({IMAGE_SUFFIXES.get(path.suffix.lower()) or path.suffix.lstrip(".").upper() or "suffix-less"
                        for path in paths})
        outputs = f"a {kinds[0]} output does" if len(kinds) == 1 else f"the {' and '.join(kinds)} outputs do"
        notes = []
        for given, option, fmt in ((self.quality, "--quality", "JPEG"), (self.compress, "--compress", "PNG")):
            if given is not None and kinds and fmt not in kinds:
                notes.append(f"{option} {given} is for {fmt} outputs; {outputs} not use it")
        return notes


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
    values (:func:`raw_tiff_pixels`): float32, uint8, uint16, int8, int16 or int32, else refused.  NaN or an infinity is
    refused (:func:`check_finite_result`).  ``rescale`` is read as
    the command line's ``--rescale`` (any case), anything else refused.  A float result
    from a matrix or array input is refused for PNG/JPEG/BMP unless a rescale is given;
    16-bit data is refused for JPEG/BMP.
    """
    from ..ndsupport import native

    o = Path(o)
    arr = native(np.asarray(arr))  # (the dtype lookups below take a '>u2' for no uint16)
    rescale = None if rescale is None else canonical_rescale(rescale)  # ("Minmax" was a silent clip)
    if arr.ndim not in (2, 3):  # (a 1-D result was an IndexError, a 4-D one Pillow's TypeError)
        keep = keep_as(o, "npy")
        raise KeepAdvised(f"{o}: an image holds a 2-D (H, W) or 3-D (H, W, C) result; this result has shape {arr.shape}: "
                          f"{keep} to keep it", ("npy",), keep)
    check_finite_result(o, arr)
    encoding = encoding or Encoding()
    info = Written(path=o, dtype=str(arr.dtype), total=int(arr.size))
    fmt = IMAGE_SUFFIXES[o.suffix.lower()]
    check_image_channels(o, 1 if arr.ndim == 2 else arr.shape[2])
    check_sides(o, fmt, arr.shape[0], arr.shape[1] if arr.ndim > 1 else 1)
    alpha = like.alpha if like is not None else None
    depth = like.bit_depth if like is not None and like.bit_depth else _DEPTHS.get(arr.dtype)
    if fmt == "TIFF" and (rescale == "none" or (depth is None and rescale is None)):
        image_data = raw_tiff_pixels(arr, o, rescale)
        if image_data.dtype.itemsize > 2 or image_data.dtype.kind == "i":
            alpha = None  # (Pillow has no mode for a signed or 32-bit sample beside an alpha: the job's note says so)
    else:
        if depth is None:
            if rescale is None:
                source = (f"from {'an' if like.kind[:1] in 'aeiou' else 'a'} {like.kind} input" if like is not None
                          else "of this result")  # (write_output of an array has no input)
                # (a float TIFF holds one channel: .tif offered to a colour result sent the user to that refusal)
                one_channel = arr.ndim == 2 or arr.shape[2] == 1
                kinds = ("tif", "npy") if tiff_type(arr.dtype) is not None and one_channel else ("npy",)
                keep = keep_as(o, *kinds)
                bits = _rescaled_depth(like)
                head = f"{o}: {fmt} cannot hold the {arr.dtype} values {source} as they are: {keep} to keep them"
                image = f"{'an' if bits == 8 else 'a'} {bits}-bit image"
                raise ValuesNotHeld(head, f"{head} (pad writes its input's values), or pad into {image} with convolve -k "
                                          f"'1x1: 1', the same --padding, --pad-mode and --pad-value, and {RESCALE_PAD}",
                                    image=image, kinds=kinds, said=keep)
            depth = _rescaled_depth(like)
        if rescale == "none":
            bits = 8 if fmt in ("JPEG", "BMP") else depth  # (their only depth: a 16-bit input's was told as theirs)
            if piped_stream(o) == "stdout":  # (no extension to change there, and a .zarr never goes through a pipe)
                raise FloatOutputNeeded(o, bits, ndim=arr.ndim).by_format()
            raise FloatOutputNeeded(o, bits, ndim=arr.ndim)  # (a caller that knows the call offers a .zarr: offering)
        if fmt in ("JPEG", "BMP") and depth == 16:
            keep = keep_as(o, "tif", "png", "npy") if piped_stream(o) == "stdout" else "write .tif or .png (16-bit) or .npy"
            raise KeepAdvised(f"{o}: {fmt} cannot hold 16-bit data: {keep} to keep it", ("tif", "png", "npy"), keep)
        channels = 1 if arr.ndim == 2 else arr.shape[2]
        if depth == 8 and (rescale or "clip") != "minmax" and alpha is None and arr.ndim in (2, 3) and channels in (1, 3):
            if encoding.own_png(fmt):
                pixels = _to_8bit(arr, rescale or "clip", info)
                atomic_write(o, lambda f: write_png(f, pixels), force=force)
                return info
            img = _to_pil_8bit(arr, rescale or "clip", info)
            options = encoding.save_options(fmt)
            atomic_write(o, lambda f: save_image(img, f, fmt, options), force=force)
            return info
        image_data, info.low_clipped, info.high_clipped, info.nonzero = to_integer_range(arr, depth, rescale or "clip", nonzero=True)
    if image_data.ndim == 3 and image_data.shape[2] == 1:
        image_data = image_data[..., 0]
    if alpha is not None and (alpha.shape != image_data.shape[:2] or fmt in ("JPEG", "BMP")):
        alpha = None  # (a 32-bit BMP's fourth byte is read back as padding: Pillow reads it as RGB)
    if alpha is not None and image_data.dtype == np.uint16 and fmt != "PNG":
        alpha = None  # Pillow has no 16-bit grey + alpha mode to write (TIFF): the job's note says so
    if alpha is not None:
        image_data = np.dstack([image_data, alpha.astype(image_data.dtype)])
    info.dtype, info.alpha = str(image_data.dtype), alpha is not None
    # 16-bit grey + alpha, which Pillow cannot write, takes kernelcli's encoder at every --compress level
    own = encoding.own_png(fmt) or (fmt == "PNG" and alpha is not None and image_data.dtype == np.uint16)
    if own and image_data.dtype != np.float32:
        _check_storable(image_data, o, fmt, own_png=True)
        level = None if encoding.own_png(fmt) else PNG_COMPRESSION[encoding.png_compress]
        atomic_write(o, lambda f: write_png(f, image_data, level=level), force=force)
        return info
    img = _to_pil(image_data, o, fmt)
    options = {**encoding.save_options(fmt), **signed_tiff_options(image_data.dtype)}
    del image_data  # Pillow holds its own copy now: not both while it encodes
    atomic_write(o, lambda f: save_image(img, f, fmt, options), force=force)
    return info


def check_real_result(o: Path, arr: np.ndarray, name: str = "result") -> None:
    """Refuse (UsageError) a result that is not real numbers (bool, integer, float), naming its dtype, before
    anything is written: a ``.csv`` took a complex result's real part, None as nan and dates as day counts, a
    ``.npy`` held a complex result that :func:`kernelcli.io.read_input` then refuses.

    >>> check_real_result(Path("r.csv"), np.array([1 + 2j]))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: r.csv: the result holds complex values (dtype complex128), expected real numbers (bool, integer or float); nothing was written
    """
    what = not_real_words(arr.dtype)
    if what is not None:
        raise UsageError(f"{o}: the {name} holds {what} values (dtype {arr.dtype}), expected real numbers (bool, integer "
                         "or float); nothing was written")


def check_finite_result(o: Path, arr: np.ndarray, name: str = "result") -> None:
    """Refuse (UsageError) a float result holding NaN or infinities, before anything is written: an 8-bit image
    wrote NaN as 0 and a ``minmax`` over an inf made every pixel 0, and a file holding them is one
    :func:`kernelcli.io.read_input` refuses (an overflow is an infinity in the API, as in PyTorch).

    >>> check_finite_result(Path("r.png"), np.array([np.nan, 1.0, np.inf]))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: r.png: the result holds 2 NaN or infinite value(s); expected finite numbers (an overflow: compute in float64 or scale the input); nothing was written
    """
    from ..ndsupport import all_finite, non_finite_count

    if arr.dtype.kind == "f" and arr.size and not all_finite(arr):
        raise UsageError(f"{o}: the {name} holds {non_finite_count(arr)} NaN or infinite value(s); expected finite numbers "
                         "(an overflow: compute in float64 or scale the input); nothing was written")


#: the bit depth of a uint8 or uint16 result
_DEPTHS = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}


def written_types(result: object, like: Loaded | None = None, rescale: str | None = None) -> tuple[str, ...]:
    """The output types :func:`kernelcli.io.formats.write_output` writes ``result`` to (``like``: its input), as this
    module decides them: a ``.csv`` holds a 2-D result, an image 1 or 3 channels, a picture integers (not ``rescale
    none``; an input's depth, or a rescale given), JPEG and BMP 8 bits.

    >>> written_types(np.zeros((4, 4, 3))), written_types(np.zeros((4, 4), np.uint8))
    (('.npy',), ('.bmp', '.csv', '.jpeg', '.jpg', '.npy', '.png', '.tif', '.tiff'))
    """
    arr = result if isinstance(result, np.ndarray) else np.asarray(result) if isinstance(result, (list, tuple)) else None
    if arr is None:
        return (".npy",)
    from ..ndsupport import native

    arr = native(arr)  # (as write_output writes it)
    kinds = {".npy"} | ({".csv", ".tif", ".tiff"} if arr.ndim == 2 else set())  # (a float TIFF holds one channel)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3)):
        depth = like.bit_depth if like is not None and like.bit_depth else _DEPTHS.get(arr.dtype)
        if (rescale is None or str(rescale).lower() != "none") and (depth is not None or rescale is not None):  # (integers: a picture's)
            depth = depth or _rescaled_depth(like)
            kinds |= {".png", ".tif", ".tiff"} | ({".bmp", ".jpeg", ".jpg"} if depth == 8 else set())
    return tuple(sorted(kinds))


def kept_in(result: object, like: Loaded | None = None, rescale: str | None = None, *, but: str = "") -> tuple[str, ...]:
    """The types :func:`written_types` offers to keep ``result`` in, as ``--format`` names them (one name a type, the
    numbers first), ``but`` the one refused.

    >>> kept_in(np.zeros((4, 4, 3)), but="csv"), kept_in(np.zeros((4, 4, 3), np.uint8), but="csv")
    (('npy',), ('npy', 'tif', 'png', 'jpg', 'bmp'))
    """
    kinds = written_types(result, like, rescale)
    return tuple(name for name in ("npy", "tif", "csv", "png", "jpg", "bmp") if f".{name}" in kinds and name != but)


def _rescaled_depth(like: Loaded | None) -> int:
    """The bit depth a rescale gives a result whose input has none: 16 for a 16-bit integer
    array (an integer TIFF, a ``.npy``), else 8.

    >>> from kernelcli.io.common import Loaded
    >>> _rescaled_depth(Loaded(path=Path("a.npy"), data=np.zeros((2, 2), np.uint16), kind="array", format="NPY"))
    16
    """
    # (a Loaded built around a '>u2' array says '>u2': the same 16 bits)
    return 16 if like is not None and like.dtype and np.dtype(like.dtype).newbyteorder("=") in (np.uint16, np.int16) else 8


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
    kernelcli.io.not_held.KeepAdvised: o.png: the result has 4 channels; an image holds 1 (grey) or 3 (RGB) filtered channels (a 2nd or 4th is alpha, which would hide or drop a channel): write .npy to keep them, or give a 1- or 3-channel input
    """
    if channels not in (1, 3):
        keep = keep_as(o, "npy")
        raise KeepAdvised(f"{o}: the result has {channels} channels; an image holds 1 (grey) or 3 (RGB) filtered channels "
                          f"(a 2nd or 4th is alpha, which would hide or drop a channel): {keep} to keep them, "
                          "or give a 1- or 3-channel input", ("npy",), keep)


def _check_storable(data: np.ndarray, o: Path, fmt: str, own_png: bool = False) -> None:
    """Refuse integer pixels that an image file cannot hold here (16-bit colour, more than 4 channels);
    ``own_png``: written by :func:`kernelcli.io.png.write_png`, which holds 16-bit grey + alpha too."""
    keep = keep_as(o, "npy")
    if data.dtype == np.uint16 and data.ndim != 2 and not (own_png and data.shape[2] == 2):
        raise KeepAdvised(f"{o}: 16-bit {fmt} images hold one channel here (Pillow's limit); this result has {data.shape[2]}: {keep}",
                          ("npy",), keep)
    channels = 1 if data.ndim == 2 else data.shape[2]
    if channels not in (1, 2, 3, 4):
        raise KeepAdvised(f"{o}: {channels} channels cannot be stored in {fmt}: {keep}", ("npy",), keep)


def _to_pil(data: np.ndarray, o: Path, fmt: str):
    from PIL import Image

    if data.dtype in (np.float32, np.int32):  # Pillow's modes F and I
        return Image.fromarray(np.ascontiguousarray(data[..., 0] if data.ndim == 3 else data))
    if data.dtype in (np.int8, np.int16):  # their bits as L / I;16, marked signed when saved (signed_tiff_options)
        grey = data[..., 0] if data.ndim == 3 else data
        return Image.fromarray(np.ascontiguousarray(grey.view(np.uint8) if data.dtype == np.int8 else grey.view(np.uint16).astype("<u2")))
    _check_storable(data, o, fmt)
    if data.dtype == np.uint16:
        return Image.fromarray(np.ascontiguousarray(data.astype("<u2")))  # Pillow's 16-bit greyscale (I;16)
    return Image.fromarray(np.ascontiguousarray(data))


#: the longest side a format's encoder takes (libjpeg's JPEG_MAX_DIMENSION: a taller gallery sheet failed in the
#: encoder, "broken data stream", exit 70)
MAX_SIDE = {"JPEG": 65500}


def check_sides(o: Path, fmt: str, height: int, width: int) -> None:
    """Refuse an image whose side the format cannot hold, before anything is encoded.

    >>> check_sides(Path("s.jpg"), "JPEG", 94462, 1438)
    Traceback (most recent call last):
    ...
    kernelcli.io.not_held.KeepAdvised: s.jpg: JPEG holds at most 65500 pixels a side, and this image is 1438x94462 (width x height): write .png or .tif
    """
    most = MAX_SIDE.get(fmt)
    if most is not None and max(height, width) > most:
        keep = keep_as(o, "png", "tif")
        raise KeepAdvised(f"{o}: {fmt} holds at most {most} pixels a side, and this image is {width}x{height} (width x height): "
                          + keep, ("png", "tif"), keep)


def check_picture_sides(path: str | Path, width: int, height: int) -> None:
    """Refuse (exit 2) a picture of ``width`` x ``height`` that the format ``path``'s suffix names cannot hold, as
    :func:`write_picture` would: a caller that knows the size first says so before it writes anything else.

    >>> check_picture_sides("s.png", 1438, 94462)
    """
    p = Path(path)
    check_sides(p, IMAGE_SUFFIXES.get(p.suffix.lower(), "PNG"), height, width)


def write_picture(path: str | Path, image, *, force: bool = False, encoding: Encoding | None = None) -> None:
    """Save a rendered Pillow ``image`` (a montage, a gallery sheet) atomically, in the format
    ``path``'s suffix names (PNG for another suffix), encoded as ``encoding`` (default
    :class:`Encoding`: fast PNG, JPEG quality 95).  Raises OutputRefused when ``path``
    exists and ``force`` is False.
    """
    import io

    from .images import _pixels  # (the reader's unpacking of a Pillow image: not imported to write a result)
    from .outputs import write_bytes_atomic

    p = Path(path)
    fmt = IMAGE_SUFFIXES.get(p.suffix.lower(), "PNG")
    check_sides(p, fmt, image.height, image.width)
    encoding = encoding or Encoding()
    buffer = io.BytesIO()
    if encoding.own_png(fmt) and image.mode in ("L", "LA", "RGB", "RGBA"):
        write_png(buffer, _pixels(image))
    else:
        image.save(buffer, format=fmt, **encoding.save_options(fmt))
    write_bytes_atomic(p, buffer.getvalue(), force=force)
