"""Reading and writing images, arrays and text matrices; dtype and bit-depth handling.

Files enter and leave kernelcli only through this module (and ``catalog`` for kernels).
Every failure becomes one of our own errors with the file name in its message: a broken,
hostile or unexpected file can never surface as a traceback.

Inputs: PNG, JPEG, TIFF, BMP, GIF (8/16-bit greyscale, RGB, RGBA; palette, 1-bit, CMYK and
LA are converted explicitly), ``.npy`` arrays, and ``.csv``/``.txt`` matrices (comma or
whitespace separated).  Outputs by extension: ``.png .jpg .jpeg .tif .tiff .bmp .npy .csv``.

Policies
--------
* A path must be a regular file; it is checked before opening (a FIFO would block forever).
* The content decides the format, but only among PNG, JPEG, TIFF, BMP and GIF (never EPS
  and the like, whatever the extension says); decoding errors never pass as images
  (``LOAD_TRUNCATED_IMAGES`` stays off).
* Size guards, before any pixel is decoded: ``max_pixels`` (decompression bomb; Pillow's
  ``DecompressionBombWarning`` is an error) and a memory estimate (input + padded copy +
  output in the compute dtype) against ``max_bytes``, by default 3/4 of the machine's RAM
  or ``KERNELCLI_MAX_MEMORY`` (``512M``, ``4G``, bytes).
* 16-bit greyscale stays uint16 (never ``convert('L')``, which clips to 255).  Pillow reads
  16-bit *colour* PNGs as 8 bits per channel; that is said in a note.
* RGBA: the colour channels are processed, alpha is carried through untouched when the
  output has the input's size (otherwise dropped, with a note).
* EXIF orientation is applied, so results are the right way up.
* Multi-frame GIF/TIFF: the first frame is used, with a note.
* Pillow's warnings (corrupt EXIF and the like) become notes, not noise on stderr.
* Integer outputs are rounded and clipped, never wrapped.  A format that cannot hold the
  data (16-bit into JPEG, floats into PNG) is refused with a suggestion (TIFF or NPY).
* Writes go through :mod:`kernelcli.io.outputs`: a temporary file beside the destination,
  published atomically (create-if-absent without ``force``); the temporary file is removed
  on any error, signal or full disk, so the destination is the complete new file or untouched.

Example
-------
>>> loaded = read_input("samples/example1.csv")      # doctest: +SKIP
>>> loaded.kind, loaded.data.shape                   # doctest: +SKIP
('matrix', (5, 5))
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InputError, KernelcliError, UsageError
from .modes import JPEG_QUALITY, PNG_COMPRESSION, canonical_compression
from .io.naming import (  # noqa: F401 - the format tables, declared once in kernelcli.io
    ARRAY_SUFFIXES,
    IMAGE_SUFFIXES,
    INPUT_SUFFIXES,
    MATRIX_SUFFIXES,
    OUTPUT_SUFFIXES,
    READ_ONLY_IMAGE_SUFFIXES,
)
from .io.outputs import (  # noqa: F401 - the one output check and atomic write, re-exported
    PART_SUFFIX,
    atomic_write,
    folder_writable,
    glob_escape,
    output_folder,
    remove_temporary_files,
    same_file,
    temporary_files,
    write_bytes_atomic,
)

#: formats Pillow may open: the magic bytes decide, but only among these (never EPS & co.)
PILLOW_FORMATS = ["PNG", "JPEG", "TIFF", "BMP", "GIF"]

MAX_MATRIX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PIXELS = 512 * 1024 * 1024 // 4  # about 134 megapixels, as a decompression-bomb guard
from .limits import MEMORY_ENV, MEMORY_SHARE, default_max_bytes, parse_bytes  # noqa: E402,F401 - declared once there


@dataclass
class Loaded:
    """An input read into memory, with what is needed to write a result like it."""

    path: Path
    data: np.ndarray
    kind: str  # "image", "array" or "matrix"
    format: str  # PNG, JPEG, TIFF, BMP, GIF, NPY, CSV
    bit_depth: int | None = None  # 8 or 16 for integer images, else None
    alpha: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_integer_image(self) -> bool:
        """True when the result should go back to an 8/16-bit integer image by default."""
        return self.bit_depth is not None


@dataclass
class Written:
    """What :func:`write_output` did: where, and how much the rescale had to clip."""

    path: Path
    dtype: str
    low_clipped: int = 0
    high_clipped: int = 0
    total: int = 0


def _one_line(exc: BaseException) -> str:
    """An exception's text on one line (some decoders put newlines in their messages)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# ---------------------------------------------------------------- limits


def estimate_bytes(h: int, w: int, channels: int, compute_itemsize: int = 8, input_itemsize: int = 2) -> int:
    """Rough peak memory for one run: input + padded copy + output in the compute dtype (+ a temporary).

    >>> estimate_bytes(1000, 1000, 1)
    26000000
    """
    return h * w * channels * (input_itemsize + 3 * compute_itemsize)


def _check_memory(p: Path, h: int, w: int, channels: int, input_itemsize: int, max_bytes: int | None) -> None:
    if max_bytes is None:
        return
    compute = 4 if input_itemsize == 1 else 8
    need = estimate_bytes(h, w, channels, compute, input_itemsize)
    if need > max_bytes:
        raise ImageReadError(
            f"{p}: {h}x{w}x{channels} would need about {_size_text(need)} of memory "
            f"(input + padded copy + output), more than the {_size_text(max_bytes)} allowed "
            f"(set {MEMORY_ENV} to change it)"
        )


def _size_text(n: float) -> str:
    from .limits import size_text

    return size_text(n)


# ---------------------------------------------------------------- reading


def stat_input(p: Path, missing: str = "no such file") -> os.stat_result:
    """``os.stat`` of an input, or InputError naming it (``missing`` says what was expected)."""
    try:
        return p.stat()
    except FileNotFoundError:
        raise InputError(f"{p}: {missing}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot access: {exc.strerror or exc}") from None


def check_input_path(path: str | os.PathLike) -> Path:
    """Return ``path`` if it names an existing regular file, else raise InputError.

    Checked before opening: opening a FIFO with Pillow would block forever.
    """
    p = Path(path)
    st = stat_input(p)
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise InputError(f"{p}: not a regular file ({what})")
    return p


def read_input(path: str | os.PathLike, *, max_pixels: int | None = None, max_bytes: int | None = None) -> Loaded:
    """Read an image, ``.npy`` array or text matrix into a :class:`Loaded`.

    ``max_pixels`` caps the decoded image size (decompression-bomb guard, default
    :data:`DEFAULT_MAX_PIXELS`); ``max_bytes`` caps the memory a run may need, estimated
    before decoding (default :func:`default_max_bytes`).  Raises only our own errors.
    """
    p = check_input_path(path)
    suffix = p.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise InputError(
            f"{p}: unsupported file type {suffix or '(no extension)'!r}: expected one of "
            + ", ".join(sorted(INPUT_SUFFIXES))
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputError(f"{p}: cannot access: {exc.strerror or exc}") from None
    if size == 0:
        raise ImageReadError(f"{p}: empty file (0 bytes)")
    limit_bytes = default_max_bytes() if max_bytes is None else max_bytes
    try:
        if suffix in MATRIX_SUFFIXES:
            return _read_matrix(p, size, limit_bytes)
        if suffix in ARRAY_SUFFIXES:
            return _read_npy(p, limit_bytes)
        return _read_image(p, max_pixels=max_pixels, max_bytes=limit_bytes)
    except KernelcliError:
        raise
    except MemoryError:
        raise ImageReadError(f"{p}: not enough memory to read it") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or _one_line(exc)}") from None


#: bytes of memory parsing one byte of a text matrix may take at its peak (cell strings, floats, lists)
MATRIX_PARSE_FACTOR = 40


def _read_matrix(p: Path, size: int, max_bytes: int | None = None) -> Loaded:
    from .limits import check_peak, size_text

    if size > MAX_MATRIX_BYTES:
        raise ImageReadError(f"{p}: text matrix larger than {MAX_MATRIX_BYTES // 2**20} MiB; use .npy for big arrays")
    check_peak(size * MATRIX_PARSE_FACTOR, f"{p}: reading a {size_text(size)} text matrix", max_bytes=max_bytes)
    raw = p.read_bytes()
    if b"\x00" in raw:
        raise ImageReadError(f"{p}: not a text matrix (it holds NUL bytes; binary content?)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImageReadError(f"{p}: not a text matrix (byte {exc.start} is not UTF-8)") from None
    rows: list[list[float]] = []
    width = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        cells = stripped.replace(",", " ").replace(";", " ").split()
        values = []
        for cell in cells:
            value = _to_float(cell)
            if value is None:
                shown = cell if len(cell) <= 20 else cell[:17] + "..."
                raise ImageReadError(f"{p}: line {lineno}: {shown!r} is not a number")
            values.append(value)
        if not all(math.isfinite(v) for v in values):
            raise ImageReadError(f"{p}: line {lineno}: NaN or infinite value; expected finite numbers")
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ImageReadError(f"{p}: line {lineno} has {len(values)} values, expected {width} like the first row")
        rows.append(values)
    if not rows:
        raise ImageReadError(f"{p}: empty matrix: expected rows of numbers separated by commas or spaces")
    return Loaded(path=p, data=np.array(rows, dtype=np.float64), kind="matrix", format="CSV")


def _to_float(text: str) -> float | None:
    """``float(text)`` for plain decimal numbers; None otherwise (no ``1_000``, no 5000-digit ints)."""
    if len(text) > 400 or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _read_npy(p: Path, max_bytes: int | None) -> Loaded:
    try:
        # A memory map reads only the header: the shape and dtype are checked against the
        # file size and the memory limit before any data is loaded.
        mapped = np.load(p, mmap_mode="r", allow_pickle=False)
    except MemoryError:
        raise ImageReadError(f"{p}: not enough memory to read the .npy header") from None
    except Exception as exc:  # numpy's header parser fails in many ways (even tokenize errors)
        raise ImageReadError(f"{p}: not a valid .npy array ({_one_line(exc)})") from None
    if not isinstance(mapped, np.ndarray):
        close = getattr(mapped, "close", None)
        if close is not None:
            close()
        raise ImageReadError(f"{p}: expected a single .npy array, got an .npz archive or another object")
    if mapped.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: expected a numeric array, got dtype {mapped.dtype}")
    if mapped.ndim not in (2, 3) or mapped.size == 0:
        raise ImageReadError(f"{p}: expected a non-empty (H, W) or (H, W, C) array, got shape {mapped.shape}")
    h, w = mapped.shape[:2]
    channels = mapped.shape[2] if mapped.ndim == 3 else 1
    _check_memory(p, h, w, channels, mapped.dtype.itemsize, max_bytes)
    arr = np.array(mapped, dtype=mapped.dtype.newbyteorder("=") if mapped.dtype.itemsize > 1 else mapped.dtype)
    del mapped
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ImageReadError(f"{p}: the array holds NaN or infinite values; expected finite numbers")
    return Loaded(path=p, data=arr, kind="array", format="NPY")


#: bands after the explicit conversion in :func:`_image_to_array` (for the memory estimate)
_CONVERTED_BANDS = {"1": 1, "P": 4, "PA": 4, "CMYK": 3, "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBX": 3}


def _read_image(p: Path, *, max_pixels: int | None, max_bytes: int | None) -> Loaded:
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                with Image.open(p, formats=PILLOW_FORMATS) as im:
                    w, h = im.size
                    if w * h > limit:
                        raise ImageReadError(
                            f"{p}: {w}x{h} = {w * h} pixels is more than the limit of {limit} "
                            "(a decompression-bomb guard); raise it with --max-pixels if the image is genuine"
                        )
                    if w < 1 or h < 1:
                        raise ImageReadError(f"{p}: the image has no pixels ({w}x{h})")
                    mode = im.mode
                    channels = _CONVERTED_BANDS.get(mode, len(im.getbands()))
                    _check_memory(p, h, w, channels, 2 if mode.startswith("I") or mode == "F" else 1, max_bytes)
                    if _sixteen_bit_colour(im):
                        notes.append(
                            f"{p.name}: 16-bit colour is read as 8 bits per channel (Pillow's limit); "
                            "16-bit greyscale or .npy keeps the full precision"
                        )
                    frames = getattr(im, "n_frames", 1)
                    if frames > 1:
                        im.seek(0)
                        notes.append(f"{p.name}: {frames} frames; using the first")
                    fmt = im.format or "?"
                    im.load()
                    ImageOps.exif_transpose(im, in_place=True)  # a copy only when it turns the image
                    data, alpha, depth = _image_to_array(im, p)
            except ImageReadError:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageReadError(
                    f"{p}: refused as a decompression bomb ({_one_line(exc)}); raise --max-pixels if the image is genuine"
                ) from None
            except UnidentifiedImageError:
                kind = sniff_format(p)
                if kind is not None:
                    raise ImageReadError(f"{p}: cannot decode image: it starts like a {kind} file but is broken or truncated") from None
                raise ImageReadError(
                    f"{p}: not a supported image: the content is not PNG, JPEG, TIFF, BMP or GIF "
                    "(the content decides, not the extension)"
                ) from None
            except MemoryError:
                raise ImageReadError(f"{p}: not enough memory to decode the image") from None
            except Exception as exc:  # a decoder's complaint about a broken file, whatever its type
                raise ImageReadError(f"{p}: cannot decode image (broken or truncated?): {_one_line(exc)}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    for w_ in caught:
        notes.append(f"{p.name}: {_one_line(w_.message)}")  # type: ignore[arg-type]
    return Loaded(path=p, data=data, kind="image", format=fmt, bit_depth=depth, alpha=alpha, notes=notes)


#: leading bytes of the formats kernelcli reads
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


def sniff_format(path: Path) -> str | None:
    """The format a file's first bytes announce (PNG, JPEG, TIFF, BMP, GIF), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)


def _sixteen_bit_colour(im) -> bool:
    """True for a PNG/TIFF whose colour samples are 16-bit (Pillow decodes them to 8 bits)."""
    if im.mode not in ("RGB", "RGBA", "LA"):
        return False
    tile = getattr(im, "tile", None) or []
    args = tile[0][3] if tile and len(tile[0]) > 3 else None
    raw = args if isinstance(args, str) else (args[0] if isinstance(args, tuple) and args and isinstance(args[0], str) else "")
    return ";16" in raw


def _image_to_array(im, p: Path) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """Turn a decoded Pillow image into (data, alpha, bit depth), converting explicitly."""
    mode = im.mode
    if mode.startswith("I;16"):
        arr = np.asarray(im)
        if arr.dtype.kind == "u":
            return arr.astype(np.uint16), None, 16
        return arr.astype(np.int32), None, None  # signed 16-bit: kept as integers, no bit depth
    if mode == "I":
        arr = np.asarray(im)
        if arr.min(initial=0) >= 0 and arr.max(initial=0) <= 65535:
            return arr.astype(np.uint16), None, 16
        return arr.astype(np.int32), None, None
    if mode == "F":
        return np.asarray(im, dtype=np.float32), None, None
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
    arr = np.asarray(im)
    if im.mode in ("LA", "RGBA"):
        colour = np.ascontiguousarray(arr[..., :-1])
        if colour.shape[2] == 1:
            colour = colour[..., 0]
        return colour, np.ascontiguousarray(arr[..., -1]), 8
    return np.ascontiguousarray(arr), None, 8


# ---------------------------------------------------------------- writing


def check_output_path(out: str | os.PathLike, inputs: list[Path] | tuple[Path, ...] = (), *, force: bool = False) -> Path:
    """Validate an output path before any work: a format kernelcli writes, then the one
    output check (:func:`kernelcli.io.outputs.check_output`).

    Raises OutputRefused (exit 4), UsageError (exit 2) or WriteError (read-only folder).
    """
    from .io.outputs import check_output

    o = Path(out)
    suffix = o.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r}: expected one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    return check_output(o, inputs, force=force)


_same_file = same_file  # the former private name


#: values converted per block by :func:`to_integer_range` (a block stays in the CPU cache)
_BLOCK = 1 << 16


def to_integer_range(values: np.ndarray, bit_depth: int, rescale: str) -> tuple[np.ndarray, int, int]:
    """Map float results to uint8/uint16: returns (array, values clipped low, values clipped high).

    ``clip`` rounds and clips, ``abs`` takes the absolute value first, ``minmax`` stretches
    min..max to the full range.  Never wraps around.  Computed block by block into the
    integer output: no float copy of the whole image (float32 holds every 8-bit level
    exactly; 16-bit levels and integer inputs are computed in float64, a block at a time).

    >>> to_integer_range(np.array([-5.0, 100.4, 300.0]), 8, "clip")[0]
    array([  0, 100, 255], dtype=uint8)
    """
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if rescale == "none":
        raise UsageError(f"--rescale none needs a float output (.npy or .tif); this output is {bit_depth}-bit")
    v = np.asarray(values)
    work = v.dtype if v.dtype.kind == "f" and not (bit_depth == 16 and v.dtype.itemsize < 8) else np.dtype(np.float64)
    out = np.empty(v.shape, dtype=dtype)
    if v.size == 0:
        return out, 0, 0
    source, target = v.reshape(-1), out.reshape(-1)
    if rescale == "minmax":
        lo, hi = float(v.min()), float(v.max())
        if hi == lo:
            out.fill(0)
            return out, 0, 0
        factor = top / (hi - lo)
    low = high = 0
    buffer = np.empty(min(_BLOCK, source.size), dtype=work)
    for start in range(0, source.size, _BLOCK):
        block = source[start : start + _BLOCK]
        r = buffer[: block.size]
        r[...] = block
        if rescale == "minmax":
            np.subtract(r, lo, out=r)
            np.multiply(r, factor, out=r)
            np.rint(r, out=r)
        else:
            if rescale == "abs":
                np.abs(r, out=r)
            np.rint(r, out=r)
            low += int(np.count_nonzero(r < 0))
            high += int(np.count_nonzero(r > top))
            np.clip(r, 0, top, out=r)
        target[start : start + block.size] = r
    return out, low, high


@dataclass(frozen=True)
class Encoding:
    """How image outputs are encoded: JPEG ``quality`` (1-100) and PNG ``compress``
    (a name of :data:`kernelcli.modes.PNG_COMPRESSION`).

    >>> Encoding().save_options("PNG"), Encoding(quality=80).save_options("JPEG")
    ({'compress_level': 1}, {'quality': 80})
    """

    quality: int = JPEG_QUALITY
    compress: str = "fast"

    def __post_init__(self) -> None:
        if not 1 <= int(self.quality) <= 100:
            raise UsageError(f"--quality: expected a JPEG quality from 1 to 100, got {self.quality}")
        object.__setattr__(self, "compress", canonical_compression(self.compress))

    def save_options(self, fmt: str) -> dict:
        """The keyword arguments of Pillow's ``Image.save`` for format ``fmt``."""
        if fmt == "PNG":
            return {"compress_level": PNG_COMPRESSION[self.compress]}
        if fmt == "JPEG":
            return {"quality": int(self.quality)}
        return {}


def write_output(
    out: str | os.PathLike,
    result: np.ndarray,
    *,
    like: Loaded | None = None,
    rescale: str | None = None,
    force: bool = False,
    encoding: Encoding | None = None,
) -> Written:
    """Write ``result`` to ``out`` atomically, in the format its extension names.

    Integer image formats get the input's bit depth (or the result's, for uint8/uint16
    results), through ``rescale`` (default ``clip``: round, then clip; never wrap);
    ``.npy`` and ``.tif`` with ``rescale="none"`` hold the raw floats; ``.csv`` holds the
    numbers as text.  A float result from a matrix or array input is refused for
    PNG/JPEG/BMP unless a rescale is given; 16-bit data is refused for JPEG/BMP.

    >>> write_output("edges.png", np.array([[-3.0, 300.0]]), rescale="clip")   # doctest: +SKIP
    """
    o = Path(out)
    suffix = o.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r}: expected one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    arr = np.asarray(result)
    info = Written(path=o, dtype=str(arr.dtype), total=int(arr.size))

    if suffix == ".npy":
        atomic_write(o, lambda f: np.save(f, arr, allow_pickle=False), force=force)
        return info
    if suffix == ".csv":
        if arr.ndim != 2:
            raise UsageError(f"{o}: a .csv holds a 2-D matrix; this result has shape {arr.shape} (use .npy or an image format)")
        text = format_matrix_csv(arr)
        atomic_write(o, lambda f: f.write(text.encode()), force=force)
        return info

    fmt = IMAGE_SUFFIXES[suffix]
    alpha = like.alpha if like is not None else None
    depth = like.bit_depth if like is not None and like.bit_depth else {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(arr.dtype)
    float_tiff = fmt == "TIFF" and (rescale == "none" or (depth is None and rescale is None))
    if float_tiff:
        image_data = arr.astype(np.float32)
        if image_data.ndim == 3 and image_data.shape[2] != 1:
            raise UsageError(f"{o}: a float TIFF holds one channel; this result has {image_data.shape[2]}: write .npy to keep the values")
        alpha = None
    else:
        if depth is None:
            if rescale is None:
                source = f"{'an' if like.kind[:1] in 'aeiou' else 'a'} {like.kind} input" if like is not None else "this input"
                raise UsageError(
                    f"{o}: {fmt} cannot hold the {arr.dtype} values from {source} as they are: "
                    "write .tif or .npy to keep them, or pass --rescale clip|abs|minmax for an 8-bit image"
                )
            depth = 8
        if fmt in ("JPEG", "BMP") and depth == 16:
            raise UsageError(f"{o}: {fmt} cannot hold 16-bit data: write .tif or .png (16-bit) or .npy to keep it")
        image_data, info.low_clipped, info.high_clipped = to_integer_range(arr, depth, rescale or "clip")
    if image_data.ndim == 3 and image_data.shape[2] == 1:
        image_data = image_data[..., 0]
    if alpha is not None and (alpha.shape != image_data.shape[:2] or fmt == "JPEG"):
        alpha = None
    if alpha is not None:
        image_data = np.dstack([image_data, alpha.astype(image_data.dtype)])
    img = _to_pil(image_data, o, fmt)
    info.dtype = str(image_data.dtype)
    options = (encoding or Encoding()).save_options(fmt)
    atomic_write(o, lambda f: img.save(f, format=fmt, **options), force=force)
    return info


def _to_pil(data: np.ndarray, o: Path, fmt: str):
    from PIL import Image

    if data.dtype == np.float32:
        return Image.fromarray(np.ascontiguousarray(data[..., 0] if data.ndim == 3 else data))
    if data.dtype == np.uint16:
        if data.ndim != 2:
            raise UsageError(f"{o}: 16-bit {fmt} images hold one channel here (Pillow's limit); this result has {data.shape[2]}: write .npy")
        return Image.fromarray(np.ascontiguousarray(data.astype("<u2")))  # Pillow's 16-bit greyscale (I;16)
    channels = 1 if data.ndim == 2 else data.shape[2]
    if channels not in (1, 2, 3, 4):
        raise UsageError(f"{o}: {channels} channels cannot be stored in {fmt}: write .npy")
    if fmt == "JPEG" and channels in (2, 4):
        data = data[..., :-1] if channels == 4 else data[..., 0]
    return Image.fromarray(np.ascontiguousarray(data))


def format_matrix_csv(arr: np.ndarray) -> str:
    """Numbers as CSV text: integers without decimals, others with up to 10 significant digits.

    >>> format_matrix_csv(np.array([[1.0, 2.5]]))
    '1,2.5\\n'
    """
    return "".join(",".join(format_number(v) for v in row) + "\n" for row in arr)


def format_number(v: float) -> str:
    """One number as short text: ``6`` for 6.0, ``0.0625``, ``-1.234567891``.

    >>> format_number(-9.0), format_number(1 / 3)
    ('-9', '0.3333333333')
    """
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.10g}"


def _atomic_write(dest: Path, write: Callable[[io.BufferedWriter], object], *, force: bool = True) -> None:
    """The former private name of :func:`kernelcli.io.outputs.atomic_write` (replacing, as it did)."""
    atomic_write(dest, write, force=force)


def format_matrix_table(matrix) -> str:
    """A matrix as right-aligned text columns, one row per line.

    >>> print(format_matrix_table([[6, -9], [-3, 0]]), end="")
     6 -9
    -3  0
    """
    cells = [[format_number(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "".join(" ".join(c.rjust(width) for c in row) + "\n" for row in cells)
