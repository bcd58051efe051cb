"""What every reader and writer shares: the :class:`Loaded` and :class:`Written` records,
the input-path check, and the memory estimate taken before any pixel is decoded.

Every failure becomes one of our own errors with the file name in its message: a broken,
hostile or unexpected file can never surface as a traceback.  A path must be a regular
file; it is checked before opening (opening a FIFO would block forever).

Example
-------
>>> estimate_bytes(1000, 1000, 1)
26000000
>>> check_input_path("/")
Traceback (most recent call last):
...
kernelcli.errors.InputError: /: not a regular file (a directory)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ImageReadError, InputError, UsageError
from ..limits import OverMemory, size_text
from ..records import field, record


@record
class Loaded:
    """An input read into memory, with what is needed to write a result like it."""

    path: Path
    data: Any  # a numpy array (not imported here: this module stays numpy-free)
    kind: str  # "image", "array" or "matrix"
    format: str  # PNG, JPEG, TIFF, BMP, GIF, NPY, CSV
    bit_depth: int | None = None  # 8 or 16 for integer images, else None
    alpha: Any = None  # the alpha channel of an LA/RGBA image, carried through untouched
    notes: list[str] = field(default_factory=list)
    #: the data's dtype as text ("uint16"), kept when a writer gets the record without its pixels
    dtype: str | None = None
    #: what the input's file says beside its pixels that no output carries ("resolution (300x300 dpi)", "ICC profile")
    metadata: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.dtype is None and self.data is not None:
            self.dtype = str(self.data.dtype)

    @property
    def is_integer_image(self) -> bool:
        """True when the result should go back to an 8/16-bit integer image by default."""
        return self.bit_depth is not None


@record
class Written:
    """What :func:`kernelcli.io.write_output` did: where, and how much the rescale had to clip."""

    path: Path
    dtype: str
    low_clipped: int = 0
    high_clipped: int = 0
    total: int = 0
    #: non-zero values of the result, when the rescale counted them (else None)
    nonzero: int | None = None
    #: True when the input's alpha channel was written with the result (PNG, integer TIFF)
    alpha: bool = False


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (some decoders put newlines in their messages).

    >>> one_line(ValueError("bad\\n  header"))
    'bad header'
    """
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def unreadable(p: Path, exc: BaseException, kind: type[Exception] = InputError) -> Exception | None:
    """The error for a file the system would not let us read (no permission, an I/O error: an OSError with an
    errno; ``kind``, an input's by default, a kernel file's where it is one), or None for a reader's complaint about
    the content (Pillow's "image file is truncated" has none):
    'cannot decode image (broken or truncated?): [Errno 13] Permission denied' sent a user to the wrong cause.

    >>> str(unreadable(Path("x.png"), PermissionError(13, "Permission denied"))), unreadable(Path("x.png"), OSError("truncated"))
    ('x.png: cannot read: Permission denied', None)
    """
    from ..limits import out_of_memory, ran_out_of_memory

    if ran_out_of_memory(exc):  # (ENOMEM: the one line of running out of memory, as a tile's read says it)
        return out_of_memory(str(p))
    if isinstance(exc, OSError) and exc.errno is not None:
        return kind(f"{p}: cannot read: {exc.strerror or one_line(exc)}")
    return None


def estimate_bytes(h: int, w: int, channels: int, compute_itemsize: int = 8, input_itemsize: int = 2) -> int:
    """Rough peak memory for one run: input + padded copy + output in the compute dtype (+ a temporary)."""
    return h * w * channels * (input_itemsize + 3 * compute_itemsize)


def compute_itemsize(input_itemsize: int, keeps_dtype: bool = False) -> int:
    """The bytes per value a run holds its padded copy and output in: the input's own where the operation keeps its
    dtype (``pad``, max and min pooling), else float32 for an 8-bit input and float64 for a wider one (a convolution,
    average pooling).

    >>> compute_itemsize(1), compute_itemsize(1, keeps_dtype=True), compute_itemsize(2)
    (4, 1, 8)
    """
    return input_itemsize if keeps_dtype else 4 if input_itemsize == 1 else 8


class RunNeed(NamedTuple):
    """What one run holds beside its input, counted from the input's header before any pixel is decoded
    (:func:`check_memory`, and the tiled path's choice of a ``.npy`` or TIFF input): for a filter (convolve, pad), a
    padded copy, an output and a temporary, each the input's size; for a pooling (``window``: its size, stride and
    padding), a working copy (padded), the pooled output and a temporary (:func:`kernelcli.limits.conv_peak`, the count the
    pooling checks again once the image is read: a 2x2 average of a 4000x4000 uint16 image was counted 396.7 MiB,
    an output and a temporary the input's size in float64, for 103 MiB traced).  ``keeps_dtype``: held in the input's
    dtype (pad, max and min pooling), else in float (:func:`compute_itemsize`).

    >>> RunNeed().bytes(4000, 4000, 1, 2) / 2**20, pool_need("avg", 2, None, 0).bytes(4000, 4000, 1, 2) / 2**20
    (396.728515625, 213.623046875)
    >>> pool_need("max", 2, None, 0).held(2)
    "a working copy, the pooled output and a temporary in the input's dtype"
    """

    keeps_dtype: bool = False
    window: tuple[int, int, int] | None = None  # a pooling's (size, stride, padding)

    def bytes(self, h: int, w: int, channels: int, input_itemsize: int) -> int:
        """The run's peak bytes, its input of (h, w, channels) values of ``input_itemsize`` bytes included."""
        compute = compute_itemsize(input_itemsize, self.keeps_dtype)
        if self.window is None:
            return estimate_bytes(h, w, channels, compute, input_itemsize)
        from ..limits import conv_peak

        size, stride, padding = self.window
        return conv_peak((h, w, channels), (size, size), stride=stride, pads=(padding,) * 4, itemsize=compute,
                         input_itemsize=input_itemsize)

    def held(self, input_itemsize: int) -> str:
        """What :meth:`bytes` counts beside the input, in words."""
        held = "the input's dtype" if self.keeps_dtype else f"float{8 * compute_itemsize(input_itemsize)}"
        if self.window is None:
            return f"a padded copy, an output and a temporary in {held}"
        return f"a working copy, the pooled output and a temporary in {held}"


#: a filter's need, holding its copies in float (convolve): the readers' default
FILTER = RunNeed()
#: pad's: its copies in the input's dtype
PAD = RunNeed(keeps_dtype=True)


def pool_need(op: str, size: int, stride: int | None, padding: int) -> RunNeed:
    """What a 2-D pooling holds (:class:`RunNeed`): ``op`` max and min in the input's dtype, avg in float; ``stride``
    None is the size."""
    from ..modes import KEEPS_DTYPE, canonical_pool_op

    return RunNeed(keeps_dtype=canonical_pool_op(op) in KEEPS_DTYPE, window=(size, stride or size, padding))


class ImageOverMemory(OverMemory, ImageReadError):
    """An input refused as its run would need more memory than allowed (:func:`check_memory`)."""


def check_memory(p: Path, h: int, w: int, channels: int, input_itemsize: int, max_bytes: int | None, *,
                 need: RunNeed = FILTER) -> None:
    """Refuse (ImageReadError) an input whose run would need more than ``max_bytes`` (None: no limit): the input and
    what the run holds beside it (:class:`RunNeed`: a filter's padded copy, output and temporary by default).

    >>> check_memory(Path("g.png"), 6000, 6000, 1, 1, 150 * 2**20, need=RunNeed(keeps_dtype=True))  # pad: 4 bytes a pixel
    >>> check_memory(Path("g.png"), 6000, 6000, 1, 1, 150 * 2**20)
    Traceback (most recent call last):
    ...
    kernelcli.io.common.ImageOverMemory: g.png: 6000x6000x1 would need about 446.3 MiB of memory (the input, and a padded copy, an output and a temporary in float32), more than the 150.0 MiB allowed (set KERNELCLI_MAX_MEMORY to change it)
    """
    if max_bytes is None:
        return
    total = need.bytes(h, w, channels, input_itemsize)
    if total > max_bytes:
        raise ImageOverMemory.over(f"{p}: {h}x{w}x{channels} would need about {size_text(total)} of memory (the input, "
                                   f"and {need.held(input_itemsize)}), more than the {size_text(max_bytes)} allowed")


def stat_input(p: Path, missing: str = "no such file") -> os.stat_result:
    """``os.stat`` of an input, or InputError naming it: ``X: no such file`` for every kind of input (a folder, a
    volume, an image), unless ``missing`` says otherwise.  A URL is refused (exit 2) naming it: its folded spelling
    (``s3:/b/a.png``) was "no such file", as if a local file were missing.

    >>> stat_input(Path("s3://b/a.png"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: s3://b/a.png: is a URL, and this input is read from a local file: give a local path
    """
    from ..tiled.urls import refuse_url

    refuse_url(p, "this input is read from a local file")
    try:
        return p.stat()
    except FileNotFoundError:
        raise InputError(f"{p}: {missing}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot access: {exc.strerror or exc}") from None


def path_arg(path: Any, function: str, name: str = "path", *, writes: bool = False) -> Path:
    """``path`` (a str or os.PathLike) as a Path, else a UsageError naming ``function`` and the argument:
    ``read_input(None)`` was Python's "expected str, bytes or os.PathLike object, not NoneType".  A text ending with
    ``/`` or ``/.`` names a folder, as on the command line (:mod:`.folder_names`): refused for a file to write
    (``writes``), and for a file to read (``read_input('a.png/')`` read a.png).  A URL to write is refused naming it: its
    folded spelling (``s3:/b/x.npy``) was written under a local folder ./s3: where one was there.

    >>> path_arg(None, "read_input")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: read_input: path None: expected a path (str or os.PathLike), got NoneType
    """
    if isinstance(path, str) or (isinstance(path, os.PathLike) and isinstance(os.fspath(path), str)):
        from .folder_names import refuse_a_file_named_as_folder, refuse_a_folder_named_output

        (refuse_a_folder_named_output if writes else refuse_a_file_named_as_folder)(path)
        if writes:
            from ..tiled.urls import refuse_url

            refuse_url(path, f"{function} writes a local file")
        return Path(path)
    from ..numtext import quoted

    raise UsageError(f"{function}: {name} {quoted(path)}: expected a path (str or os.PathLike), got {type(path).__name__}")


def check_input_path(path: str | os.PathLike) -> Path:
    """Return ``path`` if it names an existing regular file, else raise InputError.

    Checked before opening: opening a FIFO with Pillow would block forever.  ``a.png/`` names a folder: refused.
    """
    from .folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder(path)
    p = Path(path)
    st = stat_input(p)
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise InputError(f"{p}: not a regular file ({what})")
    from .reads import note_read

    note_read(p)  # read by this call: never its stdout's file either (``>> m.csv``)
    return p
