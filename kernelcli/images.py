"""Reading and writing images, arrays and text matrices; dtype and bit-depth handling.

Files enter and leave kernelcli only through this module (and ``catalog`` for kernels).
Every failure becomes one of our own errors with the file name in its message.

Inputs: PNG, JPEG, TIFF, BMP (8/16-bit greyscale, RGB, RGBA; palette, 1-bit, CMYK and
LA are converted explicitly), ``.npy`` arrays, and ``.csv``/``.txt`` matrices (comma or
whitespace separated).  Outputs by extension: ``.png .jpg .jpeg .tif .tiff .bmp .npy .csv``.

Policies
--------
* 16-bit greyscale stays uint16 (never ``convert('L')``, which clips to 255).
* RGBA: the colour channels are processed, alpha is carried through untouched when the
  output has the input's size (otherwise dropped, with a note).
* EXIF orientation is applied, so results are the right way up.
* Multi-frame GIF/TIFF: the first frame is used, with a note.
* Writes go to a temporary file in the destination folder, then ``os.replace``; the
  temporary file is removed on any error or Ctrl-C, so nothing is left half-written.

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
import stat
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InputError, OutputRefused, UsageError, WriteError

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
ARRAY_SUFFIXES = {".npy"}
MATRIX_SUFFIXES = {".csv", ".txt"}
INPUT_SUFFIXES = set(IMAGE_SUFFIXES) | ARRAY_SUFFIXES | MATRIX_SUFFIXES
OUTPUT_SUFFIXES = set(IMAGE_SUFFIXES) | ARRAY_SUFFIXES | {".csv"}
#: formats Pillow may open: the magic bytes decide, but only among these (never EPS & co.)
PILLOW_FORMATS = ["PNG", "JPEG", "TIFF", "BMP", "GIF"]

MAX_MATRIX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PIXELS = 512 * 1024 * 1024 // 4  # about 134 megapixels, as a decompression-bomb guard


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


# ---------------------------------------------------------------- reading


def check_input_path(path: str | os.PathLike) -> Path:
    """Return ``path`` if it names an existing regular file, else raise InputError.

    Checked before opening: opening a FIFO with Pillow would block forever.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot access: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise InputError(f"{p}: not a regular file ({what})")
    return p


def read_input(path: str | os.PathLike, *, max_pixels: int | None = None, max_bytes: int | None = None) -> Loaded:
    """Read an image, ``.npy`` array or text matrix into a :class:`Loaded`.

    ``max_pixels`` caps the decoded image size (decompression-bomb guard);
    ``max_bytes`` caps the memory a run may need, estimated before decoding.
    """
    p = check_input_path(path)
    suffix = p.suffix.lower()
    if suffix in MATRIX_SUFFIXES:
        return _read_matrix(p)
    if suffix in ARRAY_SUFFIXES:
        return _read_npy(p)
    if suffix in IMAGE_SUFFIXES or suffix in (".gif",):
        return _read_image(p, max_pixels=max_pixels, max_bytes=max_bytes)
    raise InputError(
        f"{p}: unsupported file type {suffix or '(no extension)'!r}: expected one of "
        + ", ".join(sorted(INPUT_SUFFIXES))
    )


def _read_matrix(p: Path) -> Loaded:
    if p.stat().st_size > MAX_MATRIX_BYTES:
        raise ImageReadError(f"{p}: text matrix larger than {MAX_MATRIX_BYTES // 2**20} MiB; use .npy for big arrays")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImageReadError(f"{p}: not a text matrix (byte {exc.start} is not UTF-8)") from None
    rows: list[list[float]] = []
    width = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        cells = [c for c in stripped.replace(",", " ").replace(";", " ").split()]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_float(c))
            raise ImageReadError(f"{p}: line {lineno}: {bad!r} is not a number") from None
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


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_npy(p: Path) -> Loaded:
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ImageReadError(f"{p}: not a valid .npy array ({exc})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: expected a numeric array, got dtype {getattr(arr, 'dtype', type(arr))}")
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageReadError(f"{p}: expected a non-empty (H, W) or (H, W, C) array, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ImageReadError(f"{p}: the array holds NaN or infinite values; expected finite numbers")
    return Loaded(path=p, data=arr, kind="array", format="NPY")


def _read_image(p: Path, *, max_pixels: int | None, max_bytes: int | None) -> Loaded:
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                with Image.open(p, formats=PILLOW_FORMATS) as im:
                    w, h = im.size
                    if w * h > limit:
                        raise ImageReadError(f"{p}: {w}x{h} = {w * h} pixels exceeds the limit of {limit} (--max-pixels)")
                    if max_bytes is not None:
                        need = estimate_bytes(h, w, len(im.getbands()))
                        if need > max_bytes:
                            raise ImageReadError(
                                f"{p}: {w}x{h} would need about {need / 2**30:.1f} GiB "
                                f"(input + padded copy + output), more than the {max_bytes / 2**30:.1f} GiB allowed"
                            )
                    frames = getattr(im, "n_frames", 1)
                    if frames > 1:
                        notes.append(f"{p.name}: {frames} frames; using the first")
                    fmt = im.format or "?"
                    im.load()
                    im = ImageOps.exif_transpose(im)
                    data, alpha, depth = _image_to_array(im, p)
            except ImageReadError:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageReadError(f"{p}: refused as a decompression bomb ({exc}); raise --max-pixels if it is genuine") from None
            except UnidentifiedImageError:
                raise ImageReadError(f"{p}: not a supported image (expected PNG, JPEG, TIFF or BMP content)") from None
            except (OSError, SyntaxError, ValueError, EOFError, MemoryError, struct_error()) as exc:
                raise ImageReadError(f"{p}: cannot decode image: {exc}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    return Loaded(path=p, data=data, kind="image", format=fmt, bit_depth=depth, alpha=alpha, notes=notes)


def struct_error() -> type[Exception]:
    """struct.error, which some Pillow decoders raise on corrupt headers."""
    import struct

    return struct.error


def estimate_bytes(h: int, w: int, channels: int, compute_itemsize: int = 8) -> int:
    """Rough peak memory for one run: input + padded copy + output in the compute dtype."""
    return h * w * channels * (2 + 3 * compute_itemsize)


def _image_to_array(im, p: Path) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """Turn a decoded Pillow image into (data, alpha, bit depth), converting explicitly."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(im).astype(np.uint16), None, 16
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
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
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
    """Validate an output path before any work: known format, not an input, not existing without force.

    Raises OutputRefused (exit 4) or UsageError (exit 2).
    """
    o = Path(out)
    suffix = o.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r}: expected one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    for src in inputs:
        if _same_file(o, Path(src)):
            raise OutputRefused(f"{o}: the output would overwrite the input {src}")
    if o.exists() or o.is_symlink():
        if o.is_dir():
            raise OutputRefused(f"{o}: is a directory, expected a file path")
        if not force:
            raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    parent = o.parent if str(o.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{o}: the folder {parent} does not exist")
    return o


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def to_integer_range(values: np.ndarray, bit_depth: int, rescale: str) -> tuple[np.ndarray, int, int]:
    """Map float results to uint8/uint16: returns (array, values clipped low, values clipped high).

    ``clip`` rounds and clips, ``abs`` takes the absolute value first, ``minmax`` stretches
    min..max to the full range.  Never wraps around.

    >>> to_integer_range(np.array([-5.0, 100.4, 300.0]), 8, "clip")[0]
    array([  0, 100, 255], dtype=uint8)
    """
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    v = np.asarray(values, dtype=np.float64)
    if rescale == "none":
        raise UsageError(f"--rescale none needs a float output (.npy or .tif); this output is {bit_depth}-bit")
    if rescale == "minmax":
        lo, hi = float(v.min()), float(v.max())
        scaled = np.zeros_like(v) if hi == lo else (v - lo) * (top / (hi - lo))
        return np.rint(scaled).astype(dtype), 0, 0
    if rescale == "abs":
        v = np.abs(v)
    r = np.rint(v)
    low = int(np.count_nonzero(r < 0))
    high = int(np.count_nonzero(r > top))
    return np.clip(r, 0, top).astype(dtype), low, high


def write_output(
    out: str | os.PathLike,
    result: np.ndarray,
    *,
    like: Loaded | None = None,
    rescale: str | None = None,
    force: bool = False,
) -> Written:
    """Write ``result`` to ``out`` atomically, in the format its extension names.

    Integer image formats get the input's bit depth (8 unless ``like`` is 16-bit), through
    ``rescale`` (default ``clip``); ``.npy`` and ``.tif`` with ``rescale="none"`` hold the raw
    floats; ``.csv`` holds the numbers as text.  A float result from a matrix or array
    input is refused for PNG/JPEG/BMP unless a rescale is given explicitly.
    """
    o = Path(out)
    suffix = o.suffix.lower()
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    arr = np.asarray(result)
    info = Written(path=o, dtype=str(arr.dtype), total=int(arr.size))

    if suffix == ".npy":
        _atomic_write(o, lambda f: np.save(f, arr, allow_pickle=False))
        return info
    if suffix == ".csv":
        if arr.ndim != 2:
            raise WriteError(f"{o}: a .csv holds a 2-D matrix; this result has shape {arr.shape} (use .npy or an image format)")
        text = format_matrix_csv(arr)
        _atomic_write(o, lambda f: f.write(text.encode()))
        return info

    fmt = IMAGE_SUFFIXES[suffix]
    alpha = like.alpha if like is not None else None
    depth = like.bit_depth if like is not None and like.bit_depth else None
    if depth is None:
        if rescale is None and fmt != "TIFF":
            kind = like.kind if like is not None else "array"
            raise WriteError(
                f"{o}: a float result from a {kind} input cannot be stored in {fmt} as is; "
                "write .tif or .npy to keep the values, or pass --rescale clip|abs|minmax for an 8-bit image"
            )
        depth = 8
    mode = rescale or "clip"
    if fmt == "TIFF" and (mode == "none" or (like is not None and like.bit_depth is None and rescale is None)):
        image_data = arr.astype(np.float32)
        if image_data.ndim == 3 and image_data.shape[2] != 1:
            raise WriteError(f"{o}: a float TIFF holds one channel; this result has {image_data.shape[2]} (use .npy)")
        pil_mode = "F"
        alpha = None
    else:
        if fmt in ("JPEG", "BMP") and depth == 16:
            raise WriteError(f"{o}: {fmt} cannot hold 16-bit data; use .png, .tif or .npy")
        image_data, info.low_clipped, info.high_clipped = to_integer_range(arr, depth, mode)
        pil_mode = None
    if image_data.ndim == 3 and image_data.shape[2] == 1:
        image_data = image_data[..., 0]
    if alpha is not None and alpha.shape != image_data.shape[:2]:
        alpha = None
    if alpha is not None:
        if fmt == "JPEG":
            alpha = None
        else:
            image_data = np.dstack([image_data, alpha.astype(image_data.dtype)])
    img = _to_pil(image_data, pil_mode, o, fmt)
    info.dtype = str(image_data.dtype)
    _atomic_write(o, lambda f: img.save(f, format=fmt))
    return info


def _to_pil(data: np.ndarray, pil_mode: str | None, o: Path, fmt: str):
    from PIL import Image

    if pil_mode == "F":
        return Image.fromarray(data[..., 0] if data.ndim == 3 else data, mode="F")
    if data.dtype == np.uint16:
        if data.ndim != 2:
            raise WriteError(f"{o}: Pillow writes 16-bit images with one channel only; use .tif per channel or .npy")
        return Image.fromarray(data.astype("<u2"), mode="I;16")
    channels = 1 if data.ndim == 2 else data.shape[2]
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise WriteError(f"{o}: {channels} channels cannot be stored in {fmt}; use .npy")
    if fmt == "JPEG" and mode in ("LA", "RGBA"):
        mode = "L" if mode == "LA" else "RGB"
        data = data[..., :-1]
    return Image.fromarray(np.ascontiguousarray(data), mode=mode)


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


def _atomic_write(dest: Path, write: Callable[[io.BufferedWriter], object]) -> None:
    """Write through a temporary file in ``dest``'s folder, then rename it over ``dest``.

    On any error or Ctrl-C the temporary file is removed and ``dest`` is untouched.
    """
    folder = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise WriteError(f"{dest}: cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, (OSError, ValueError)):
            raise WriteError(f"{dest}: write failed: {getattr(exc, 'strerror', None) or exc}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def format_matrix_table(matrix) -> str:
    """A matrix as right-aligned text columns, one row per line.

    >>> print(format_matrix_table([[6, -9], [-3, 0]]), end="")
     6 -9
    -3  0
    """
    cells = [[format_number(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "".join(" ".join(c.rjust(width) for c in row) + "\n" for row in cells)
