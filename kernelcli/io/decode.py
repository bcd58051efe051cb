"""Opening and decoding an image with Pillow, and decoding one early on a second thread.

:func:`open_image` opens an image and makes every check that comes before its pixels are
decoded (the format among :data:`PILLOW_FORMATS`, the pixel cap, the memory estimate,
frames); :func:`decode` decodes it.  :func:`kernelcli.io.images.read_image` is the two, then
the conversion to numpy.  Both map every failure to one ImageReadError naming the file
(:func:`reading`), and turn Pillow's warnings into notes.  No numpy here.

Early decoding (issue 17, the cold path)
-----------------------------------------
A cold ``kernelcli convolve photo.jpg ...`` imports numpy and its own modules (about 70 ms)
before it reads the input, and Pillow then decodes a 12 MP JPEG for about 70 ms with the GIL
released.  :func:`begin`, called before those imports, opens the image as ``read_image``
does and decodes it on a daemon thread; ``read_image`` takes it (:func:`take`) when the call
reads that file with the same limits, and waits for the thread if it is still decoding.
Everything that can fail is raised where ``read_image`` raises it, with the same message: a
check that refused the file at :func:`begin` is kept and raised then, as is an error the
thread met (a truncated or corrupt file).  Only JPEG is decoded early: Pillow's JPEG decoding
emits no Python warnings (a warning on another thread could not become a note); other formats
are opened again by ``read_image``.  :func:`discard` drops what no reader took.

>>> import pathlib, tempfile
>>> from PIL import Image
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jpg"
>>> Image.new("L", (4, 3)).save(p)
>>> begin(p, max_pixels=None)
True
>>> from kernelcli.limits import default_max_bytes
>>> opened = take(p, DEFAULT_MAX_PIXELS, default_max_bytes())
>>> with reading(p, opened.limit):
...     decode(opened)
>>> opened.image.size, opened.format
((4, 3), 'JPEG')
>>> take(p, DEFAULT_MAX_PIXELS, default_max_bytes()) is None  # taken once
True
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ImageReadError
from ..limits import DEFAULT_MAX_PIXELS  # (kernelcli.io.decode.DEFAULT_MAX_PIXELS, as before)
from ..records import field, record
from . import png_rows
from .common import FILTER, RunNeed, check_memory, one_line, unreadable
from .stored_samples import (  # noqa: F401 (ColourKey, grey_alpha_16: kernelcli.io.decode's names, as before)
    ColourKey,
    colour_key,
    dropped_samples,
    grey_alpha_16,
    read_grey_alpha_16_as_bytes,
    refuse_planar_wide,
    sixteen_bit_colour,
)

#: formats Pillow may open: the magic bytes decide, but only among these (never EPS & co.)
PILLOW_FORMATS = ["PNG", "JPEG", "TIFF", "BMP", "GIF"]
#: Pillow's plugin module of each of :data:`PILLOW_FORMATS`
PLUGINS = {"PNG": "PngImagePlugin", "JPEG": "JpegImagePlugin", "TIFF": "TiffImagePlugin", "BMP": "BmpImagePlugin",
           "GIF": "GifImagePlugin"}

#: bands after the explicit conversion in :func:`kernelcli.io.images._image_to_array` (for the memory estimate)
_CONVERTED_BANDS = {"1": 1, "P": 4, "PA": 4, "CMYK": 3, "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBX": 3}

#: leading bytes of the formats kernelcli reads
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)

#: file names :func:`begin` decodes early (read_input reads them as images; the content must be JPEG too)
EARLY_SUFFIXES = (".jpg", ".jpeg")
#: whether :func:`begin` decodes early (tests switch it off to compare)
EARLY = True


def formats_to_try(path: Path) -> list[str]:
    """:data:`PILLOW_FORMATS` with the one ``path``'s first bytes announce first, its plugin imported.

    Pillow imports every plugin it has (about 45) as soon as a format it tries has no plugin
    loaded yet, and it loads only the plugin of the file's extension: a ``.jpg`` tried against
    ``PNG`` first loaded them all, 44 ms of CPU against 14 for the JPEG plugin alone, before a
    cold call's early decode could start.  The magic bytes of these formats exclude one another, so the order
    never changes which one opens a file.  Only a regular file is peeked at (a FIFO's first
    bytes are read once).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> _ = p.write_bytes(b"GIF89a: a GIF named .png")
    >>> formats_to_try(p)
    ['GIF', 'PNG', 'JPEG', 'TIFF', 'BMP']
    """
    import importlib

    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        regular = False
    found = sniff_format(path) if regular else None
    if found is None:
        return list(PILLOW_FORMATS)
    importlib.import_module(f"PIL.{PLUGINS[found]}")
    return [found, *(f for f in PILLOW_FORMATS if f != found)]


def sniff_format(path: Path) -> str | None:
    """The format a file's first bytes announce (PNG, JPEG, TIFF, BMP, GIF), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return next((name for magic, name in SIGNATURES if head.startswith(magic)), None)


@record
class Opened:
    """An image opened and checked, its pixels not yet (or not yet surely) decoded."""

    path: Path
    #: Pillow's image; :func:`decode` fills its pixels
    image: Any
    format: str
    #: the pixel cap it was opened under
    limit: int
    notes: list[str] = field(default_factory=list)
    #: waits for the thread decoding it early (None: :func:`decode` decodes it)
    wait: Callable[[], None] | None = None
    #: closes it once that thread is done, for no reader will take it
    abandon: Callable[[], None] | None = None
    #: the size Pillow declared before decoding (:func:`decode` checks the pixels kept it)
    declared: tuple[int, int] | None = None
    #: a 16-bit grey + alpha PNG decoded as the raw bytes of each pixel (see :func:`~kernelcli.io.stored_samples.read_grey_alpha_16_as_bytes`)
    wide_grey_alpha: bool = False
    #: the colour key of a grey or RGB image (PNG's tRNS), as :func:`~kernelcli.io.stored_samples.colour_key` gives it, or None
    key: ColourKey | None = None


class TooManyPixels(ImageReadError):
    """An image over the pixel limit: ``head``, then the advice to raise it, naming the command line's ``--max-pixels``;
    :meth:`worded` names another (:func:`~kernelcli.io.formats.read_input`'s ``max_pixels=``).

    >>> str(TooManyPixels("a.png: too large; raise ").worded("max_pixels="))
    'a.png: too large; raise max_pixels= if the image is genuine'
    """

    def __init__(self, head: str, option: str = "--max-pixels") -> None:
        super().__init__(f"{head}{option} if the image is genuine")
        self.head = head

    def worded(self, option: str) -> TooManyPixels:
        """The same refusal, its advice naming ``option``."""
        return TooManyPixels(self.head, option)


def bomb_refusal(p: Any, size: str) -> TooManyPixels:
    """The one refusal of an image over ``--max-pixels`` (in memory, and a TIFF on the tiled path).

    >>> str(bomb_refusal("a.tif", "20 pixels, more than the limit of 4"))
    'a.tif: refused as a decompression bomb (20 pixels, more than the limit of 4); raise --max-pixels if the image is genuine'
    """
    return TooManyPixels(f"{p}: refused as a decompression bomb ({size}); raise ")


def _bomb_size(exc: BaseException, limit: int) -> str:
    """The image's pixels against ``limit``: Pillow's error quotes twice its limit (it warns above the
    limit and raises above twice it; the warning is an error here), which read as a wrong figure.

    >>> _bomb_size(ValueError("Image size (400000000 pixels) exceeds limit of 268435456 pixels, ..."), 134217728)
    '400000000 pixels, more than the limit of 134217728'
    """
    import re

    found = re.search(r"\((\d+) pixels\)", str(exc))
    return f"{found.group(1)} pixels, more than the limit of {limit}" if found else one_line(exc)


@contextlib.contextmanager
def reading(p: Path, limit: int, notes: list[str] | None = None) -> Iterator[None]:
    """Pillow under the pixel cap ``limit``, its warnings appended to ``notes``, every failure one
    ImageReadError naming ``p`` (a broken file's error, whatever its type, never a traceback)."""
    from .pillow import image

    Image = image()
    from PIL import UnidentifiedImageError

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                yield
            except ImageReadError:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise bomb_refusal(p, _bomb_size(exc, limit)) from None
            except UnidentifiedImageError:
                kind = sniff_format(p)
                if kind is not None:
                    from .undecodable import undecodable

                    raise ImageReadError(undecodable(p, kind, PLUGINS[kind])) from None
                raise ImageReadError(
                    f"{p}: not a supported image: the content is not PNG, JPEG, TIFF, BMP or GIF "
                    "(the content decides, not the extension)"
                ) from None
            except MemoryError:
                raise ImageReadError(f"{p}: not enough memory to decode the image") from None
            except Exception as exc:  # noqa: BLE001 - a decoder's complaint about a broken file, whatever its type
                raise unreadable(p, exc) or ImageReadError(f"{p}: cannot decode image (broken or truncated?): {one_line(exc)}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    if notes is not None:
        notes.extend(f"{p.name}: {one_line(w.message)}" for w in caught)  # type: ignore[arg-type]


def open_image(p: Path, *, limit: int, max_bytes: int | None, need: RunNeed = FILTER) -> Opened:
    """Open ``p`` and make every check that comes before decoding (see the module; ``need``: what the run holds beside
    the input, :class:`~kernelcli.io.common.RunNeed`); raises only our own errors."""
    from .pillow import image

    Image = image()

    notes: list[str] = []
    with reading(p, limit, notes):
        im = Image.open(p, formats=formats_to_try(p))
        try:
            w, h = im.size
            if w * h > limit:
                raise TooManyPixels(f"{p}: {w}x{h} = {w * h} pixels is more than the limit of {limit} "
                                    "(a decompression-bomb guard); raise it with ")
            if w < 1 or h < 1:
                raise ImageReadError(f"{p}: the image has no pixels ({w}x{h})")
            mode = im.mode
            key = colour_key(im)
            channels = _CONVERTED_BANDS.get(mode, len(im.getbands())) + (key is not None)
            check_memory(p, h, w, channels, 4 if mode in ("I", "F") else 2 if mode.startswith("I;16") else 1, max_bytes,
                         need=need)
            refuse_planar_wide(im, p)
            found: list[str] = []
            wide_grey_alpha = read_grey_alpha_16_as_bytes(im)
            if sixteen_bit_colour(im):
                found.append(
                    f"{p.name}: 16-bit colour is read as 8 bits per channel (Pillow's limit); "
                    "16-bit greyscale or .npy keeps the full precision"
                )
            dropped = dropped_samples(im)
            if dropped:
                found.append(f"{p.name}: {dropped}")
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                im.seek(0)
                found.append(f"{p.name}: {frames} frames; using the first")
        except BaseException:
            im.close()
            raise
    return Opened(p, im, im.format or "?", limit, found + notes, declared=(w, h), wide_grey_alpha=wide_grey_alpha,
                  key=key)


def decode(opened: Opened) -> None:
    """Decode the pixels of ``opened`` (or wait for the thread that does); call inside :func:`reading`.

    Pillow 13 gives a TIFF whose Orientation tag turns it a quarter (5-8) the turned size, and turns
    the pixels as it decodes them; for some layouts (8- and 16-bit grey, int8, RGBA, palette, CMYK) it
    decodes them at the wrong row length and falls back to the stored size: a scrambled image, refused
    here (RGB, grey + alpha, bilevel, float32 and int32 are turned right).
    """
    if opened.wait is None:
        opened.image.load()
    else:
        opened.wait()
    size = opened.image.size
    if opened.format == "PNG" and png_rows.needs_a_count(opened.image):
        try:
            with open(opened.path, "rb") as f:
                short = png_rows.missing_rows(f)
        except OSError:  # (read once already: nothing to add)
            short = None
        if short is not None:
            raise ImageReadError(f"{opened.path}: cannot decode image (broken or truncated?): its image data holds "
                                 f"{short[0]} of the {short[1]} rows its header declares")
    if opened.declared is not None and size != opened.declared:
        (w, h), (dw, dh) = size, opened.declared
        raise ImageReadError(
            f"{opened.path}: declared {dw}x{dh} but decoded as {w}x{h}"
            f"{' (its Orientation tag turns it)' if opened.format == 'TIFF' else ''}: the pixels cannot be read correctly; "
            f"{'save it without the Orientation tag, or as PNG' if opened.format == 'TIFF' else 'the file may be damaged'}"
        )


# ---------------------------------------------------------------- decoding early

#: the one image decoding early: (path, pixel cap, memory cap, the run's need, what it became: Opened or the error)
_early: tuple[str, int, int | None, RunNeed, Any] | None = None


def begin(path: str | os.PathLike, *, max_pixels: int | None, need: RunNeed = FILTER) -> bool:
    """Open the JPEG file ``path`` as ``read_image`` would (``need`` alike) and start decoding it on a thread;
    True when it did (a check that refused it counts: the refusal waits for :func:`take`).

    Nothing happens for another kind of path (not a regular, non-empty ``.jpg``/``.jpeg``
    file whose content is JPEG), or when :data:`EARLY` is off.
    """
    global _early
    from ..limits import default_max_bytes

    discard()
    p = Path(path)
    if not EARLY or p.suffix.lower() not in EARLY_SUFFIXES:
        return False
    try:
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return False
        max_bytes = default_max_bytes()
    except Exception:  # noqa: BLE001 - read_input says what is wrong, in its turn
        return False
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    try:
        opened = open_image(p, limit=limit, max_bytes=max_bytes, need=need)
    except ImageReadError as exc:
        _early = (str(p), limit, max_bytes, need, exc)
        return True
    if opened.format != "JPEG":
        opened.image.close()
        return False
    failed: list[BaseException] = []
    done = threading.Event()
    lock = threading.Lock()
    abandoned: list[bool] = []

    def work() -> None:
        try:
            opened.image.load()  # Pillow releases the GIL while it decodes
        except BaseException as exc:  # noqa: BLE001 - raised by take()'s reader, as read_image would
            failed.append(exc)
        finally:
            with lock:
                done.set()
                if abandoned:
                    opened.image.close()

    def wait() -> None:
        done.wait()
        if failed:
            raise failed[0]

    def abandon() -> None:
        with lock:
            if done.is_set():
                opened.image.close()
            else:
                abandoned.append(True)  # the thread closes it when it is done

    from .._core.threads import start_helper

    if start_helper(work, "kernelcli-decode") is None:  # no thread to be had (ulimit -v): read_image decodes it in turn
        opened.image.close()
        return False
    opened.wait, opened.abandon = wait, abandon
    _early = (str(p), limit, max_bytes, need, opened)
    return True


def take(p: Path, limit: int, max_bytes: int | None, need: RunNeed = FILTER) -> Opened | None:
    """The image :func:`begin` opened for ``p`` under these limits (once), or None; raises the
    ImageReadError its checks raised."""
    global _early
    if _early is None or _early[:4] != (str(p), limit, max_bytes, need):
        return None
    found, _early = _early[4], None
    if isinstance(found, ImageReadError):
        raise found
    return found


def discard() -> None:
    """Forget an early image no reader took, closing it (once its thread is done)."""
    global _early
    found, _early = (_early[4] if _early is not None else None), None
    if isinstance(found, Opened) and found.abandon is not None:
        found.abandon()
