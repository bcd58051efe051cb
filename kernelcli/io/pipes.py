"""``-`` as a file: an input read from stdin, an output written to stdout.

A piped input is copied to a private temporary file named after its format (sniffed from
its first bytes: PNG, JPEG, TIFF, BMP, GIF, NPY; anything else is a text matrix; a volume is refused), so it
goes through exactly the readers, guards and messages a file does.  ``--format``
asserts stdin's format when the output is a named file (whose extension gives the output's
format); otherwise it names the output's format.  A piped output is written to a temporary
file in the format ``--format`` names, and its bytes are copied
to stdout only once the command has succeeded: a failed run writes nothing on stdout.

Example
-------
>>> import io
>>> with Pipes("-", None, None, stdin=io.BytesIO(b"1,2\\n3,4\\n")) as p:
...     p.input.suffix, p.shown(p.input.name), p.input.read_text()
('.csv', 'stdin', '1,2\\n3,4\\n')
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..errors import KernelcliError, UsageError, writing_stdout
from .naming import PIPE_FOLDER, stand_in
from .pipe_formats import _IMAGE_FORMATS, csv_may_hold, stdout_format_names, stdout_formats  # noqa: F401 - their former home

#: what ``-`` means for an input or an output
STDIO = "-"
#: ``--format`` value -> file extension, for what goes through a pipe
PIPE_FORMATS = {"png": ".png", "tif": ".tif", "tiff": ".tif", "jpg": ".jpg", "jpeg": ".jpg", "bmp": ".bmp", "npy": ".npy", "csv": ".csv"}
_SNIFFED = {"PNG": "png", "JPEG": "jpg", "TIFF": "tif", "BMP": "bmp", "GIF": "gif", "NPY": "npy"}


def is_stdio(path: Any) -> bool:
    """True for ``-``, which stands for stdin (an input) or stdout (``--out``)."""
    return path is not None and os.fspath(path) == STDIO


def sniff_bytes(head: bytes) -> str:
    """The format a stream's first bytes announce: png, jpg, tif, bmp, gif, npy, else csv.

    >>> sniff_bytes(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff_bytes(b"\\x93NUMPY\\x01\\x00"), sniff_bytes(b"1 2 3")
    ('png', 'npy', 'csv')
    """
    from .decode import SIGNATURES

    if head.startswith(b"\x93NUMPY"):
        return "npy"
    for magic, name in SIGNATURES:
        if head.startswith(magic):
            return _SNIFFED[name]
    return "csv"


#: how much of a stream is read to tell its format: a DICOM file's 'DICM' is at bytes 128-131, after its preamble; a
#: NIfTI-1 file's 'n+1' at 344-347; a NIfTI-2 header is 540 bytes
HEAD_BYTES = 540
#: why a volume on stdin is refused
VOLUMES_NOT_PIPED = "volumes (NIfTI, DICOM, MGH, NRRD, MetaImage) are read from files, not pipes"
_METAIMAGE = re.compile(rb"\s*(ObjectType|NDims)\s*=")
#: NIfTI's sizeof_hdr (bytes 0-3, either byte order) -> where its magic is and what it reads ('ni1' in a .hdr)
_NIFTI = {348: (344, (b"n+1\x00", b"ni1\x00")), 540: (4, (b"n+2\x00", b"ni2\x00"))}
#: MGH's data type codes (uchar, int, float, short), at bytes 20-23 after version 1 and the four sizes
_MGH_TYPES = (0, 1, 3, 4)


def sniff_volume(head: bytes) -> str | None:
    """The volume format a stream's first :data:`HEAD_BYTES` announce (DICOM, NIfTI, MGH, NRRD, MetaImage), else
    None; a gzip stream (``.nii.gz``, ``.mgz``) by what its first bytes unpack to.

    A DICOM file is told by 'DICM' at byte 128 before any image signature: its 128-byte preamble may hold a TIFF
    header (PS3.10 7.1 allows it; pydicom's CT_small.dcm has one), which made it a TIFF on stdin.  A NIfTI file is
    told by its header's size and magic, an MGH file by version 1, four positive sizes and a type code (big-endian).

    >>> sniff_volume(b"II*\\x00".ljust(128, b"\\x00") + b"DICM"), sniff_volume(b"NRRD0004\\n"), sniff_volume(b"ObjectType = Image")
    ('DICOM', 'NRRD', 'MetaImage')
    >>> sniff_volume(b"\\x5c\\x01\\x00\\x00".ljust(344, b"\\x00") + b"n+1\\x00"), sniff_volume(b"\\x1c\\x02\\x00\\x00n+2\\x00")
    ('NIfTI', 'NIfTI')
    >>> import struct; sniff_volume(struct.pack(">7i", 1, 4, 5, 6, 1, 3, 0))
    'MGH'
    """
    if head.startswith(b"\x1f\x8b"):
        import zlib

        try:
            unpacked = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
        except zlib.error:
            return None
        return sniff_volume(unpacked) if not unpacked.startswith(b"\x1f\x8b") else None
    if head[128:132] == b"DICM":
        return "DICOM"
    if head.startswith(b"NRRD000"):
        return "NRRD"
    if _METAIMAGE.match(head):
        return "MetaImage"
    import struct

    if len(head) >= 8:
        for order in "<>":
            at, magics = _NIFTI.get(struct.unpack(order + "i", head[:4])[0], (None, ()))
            if at is not None and head[at:at + 4] in magics:
                return "NIfTI"
    if len(head) >= 24:
        version, *sizes, kind = struct.unpack(">6i", head[:24])
        if version == 1 and min(sizes) > 0 and kind in _MGH_TYPES:
            return "MGH"
    return None


def _fmt_name(fmt: Any) -> str | None:
    value = getattr(fmt, "value", fmt)
    if value is None:
        return None
    name = str(value).lower().lstrip(".")
    if name not in PIPE_FORMATS:
        raise UsageError(f"invalid --format {value!r} for a pipe: expected one of {', '.join(sorted(set(PIPE_FORMATS)))}")
    return {"tiff": "tif", "jpeg": "jpg"}.get(name, name)


def shown_as(text: str, display: dict[str, str]) -> str:
    """``text`` with each stand-in path or file name of ``display`` replaced by its name (``stdin``, ``stdout``):
    whole names only, so a user's ``my_stdin.png`` stays itself (a plain replace made it ``my_stdin``).

    >>> shown_as("stdin-ab12.png 4x5 -> my_stdin-ab12.png", {"/t/x/stdin-ab12.png": "stdin", "stdin-ab12.png": "stdin"})
    'stdin 4x5 -> my_stdin-ab12.png'
    """
    import re

    for path, name in display.items():
        text = re.sub(r"(?<![\w.\-/\\])" + re.escape(path) + r"(?![\w\-]|\.\w)", name, text)
    return text


class Pipes:
    """Stand-in files for ``-`` inputs and outputs, for one command call (a context manager).

    ``input`` and ``out`` are the paths the command should use; ``display`` maps those
    temporary paths to ``stdin``/``stdout`` for messages.  On a clean exit the output file's bytes go to
    ``stdout`` (``sys.stdout.buffer`` by default); the temporary folder is always removed.
    ``text_format``: the call may write a csv (the command takes ``--format csv`` and makes one map per channel, not a
    bank's several); ``combined``: its channels are summed into one map (``--combine sum``), so the input's channels
    do not decide whether a csv holds the result (:func:`csv_may_hold`).
    """

    def __init__(self, input: Any, out: Any, fmt: Any, *, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None,
                 text_format: bool = True, combined: bool = False, maps: bool = False, layout: str | None = None,
                 rescale: Any = None) -> None:
        self.text_format = text_format  # the command takes --format csv, and the result is one map a channel
        self.combined = combined
        self.maps, self.layout, self.rescale = maps, layout, rescale  # (what --format the result takes: stdout_formats)
        self.input = Path(input) if input is not None else None
        self.out = Path(out) if out is not None else None
        self.fmt = _fmt_name(fmt)
        self._stdin = stdin
        self._stdout = stdout
        self._folder: Any = None  # a tempfile.TemporaryDirectory while a pipe is open
        self.display: dict[str, str] = {}
        self.to_stdout = is_stdio(out)
        self.from_stdin = is_stdio(input)
        self._delivered = False

    def __enter__(self) -> "Pipes":
        _OPEN.append(self)
        if not (self.from_stdin or self.to_stdout):
            return self
        import tempfile  # only for pipes: not imported by a call that has none

        from .temporary import run_token

        # named with the run, whose taker-over removes it when this process dies (io.temporary.take_over_run)
        self._folder = tempfile.TemporaryDirectory(prefix=f"{PIPE_FOLDER}{run_token()}-")
        try:
            if self.from_stdin:
                self.input = self._read_stdin()
            if self.to_stdout:
                self.out = self._stdout_file()
        except BaseException:
            _OPEN.remove(self)  # (__exit__ does not run for a block that did not start)
            self._folder.cleanup()
            raise
        return self

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self.deliver()
            elif isinstance(value, KernelcliError) and self.display:
                value.args = (self._stand_in_failed(value) or self.shown(str(value)),)
        finally:
            _OPEN.remove(self)
            if self._folder is not None:
                self._folder.cleanup()

    def deliver(self) -> None:
        """Copy the result to stdout now (once): a ``--report`` records whether stdout took it, where the copy at
        the block's end came after the record was written ('ok' over a stdout on a full disk, exit 1)."""
        if self.to_stdout and self.out is not None and self.out.exists() and not self._delivered:
            self._delivered = True
            stream = self._stdout or sys.stdout.buffer
            try:
                with self.out.open("rb") as f:
                    with writing_stdout():
                        while chunk := f.read(1 << 20):
                            write_all(stream, chunk)
            except BaseException as exc:  # a signal mid-copy too: what stdout holds is cut short
                exc.stdout_cut_short = True  # type: ignore[attr-defined]
                raise

    @staticmethod
    def cut_short(exc: BaseException) -> bool:
        """Whether ``exc`` stopped the copy of the result to stdout part way (a signal, a full pipe): stdout holds
        part of the result at most, so no line may say it was written.

        >>> Pipes.cut_short(KeyboardInterrupt())
        False
        """
        return bool(getattr(exc, "stdout_cut_short", False))

    def _stand_in_failed(self, error: KernelcliError) -> str | None:
        """The message of a write to stdout's stand-in file that the file system refused (a full or size-limited
        temporary folder), which is no fault of stdout's ('stdout: write failed' sent the user to the pipe), else None."""
        from .outputs import FailedWrite

        if not (self.to_stdout and isinstance(error, FailedWrite) and error.path is not None and Path(error.path) == self.out):
            return None
        return (f"stdout: cannot write the result to a temporary file in {self.out.parent.parent}: {error.reason}; "
                "nothing was written on stdout")

    def shown(self, text: str) -> str:
        """``text`` with the temporary paths replaced by ``stdin``/``stdout``."""
        return shown_as(text, self.display)

    def _read_stdin(self) -> Path:
        stream = stdin_stream(self._stdin)
        head = read_up_to(stream, HEAD_BYTES)
        if not head:
            raise UsageError("input '-': stdin is empty")
        volume = sniff_volume(head)
        if volume is not None:
            packed = " (gzip-compressed)" if head.startswith(b"\x1f\x8b") else ""
            raise UsageError(f"input '-': stdin holds {'an' if volume in ('NRRD', 'MGH') else 'a'} {volume} file{packed}; "
                             f"{VOLUMES_NOT_PIPED}: give its path")
        kind = sniff_bytes(head)
        if kind == "csv" and (b"\x00" in head[:16] or head.startswith(b"\x1f\x8b")):
            raise UsageError(
                f"input '-': stdin is neither PNG, JPEG, TIFF, BMP, GIF, NPY nor a text matrix (it starts {head[:4].hex()}); "
                f"{VOLUMES_NOT_PIPED}"
            )
        # --format speaks of stdin only when the output is a named file (its extension is the output's format);
        # without --out it names the output's format, with --out - stdout's
        about_stdin = self.fmt is not None and self.out is not None and not self.to_stdout
        if about_stdin and self.fmt != kind and kind != "csv":
            raise UsageError(f"input '-': stdin starts like {kind.upper()}, but --format says {self.fmt}")
        if about_stdin and kind == "csv" and self.fmt != "csv":
            raise UsageError(f"input '-': stdin is not {self.fmt.upper()} (its first bytes are not that format's signature)")
        assert self._folder is not None
        path = stand_in(self._folder.name, "stdin", PIPE_FORMATS.get(kind, "." + kind))
        from ..limits import MEMORY_ENV, default_max_bytes

        limit = default_max_bytes()
        matrix_cap = None
        if kind == "csv":  # a text matrix is read whole: past the reader's cap, stop copying (`yes 1 |` wrote gigabytes)
            from .matrices import MAX_MATRIX_BYTES, too_large_message

            matrix_cap = MAX_MATRIX_BYTES
        total = len(head)
        try:
            with path.open("wb") as f:
                f.write(head)
                while chunk := read_up_to(stream, 1 << 20):
                    total += len(chunk)
                    if matrix_cap is not None and total > matrix_cap:
                        raise UsageError(too_large_message("input '-': stdin"))
                    if limit is not None and total > limit:
                        # a compressed image may decode larger, which the reader checks; raw bytes beyond the
                        # memory limit can never fit
                        raise UsageError(f"input '-': stdin holds more than {limit} bytes, the memory limit ({MEMORY_ENV}); "
                                         "a stream is copied whole before it is read: give the file's path instead "
                                         "(convolve, pad and pool run a .npy or TIFF file that large tile by tile)")
                    f.write(chunk)
        except OSError as exc:  # a full disk, a file size limit: the temporary copy, not a bug (it was exit 70)
            from ..errors import WriteError

            raise WriteError(f"input '-': cannot copy stdin to a temporary file in {path.parent.parent}: "
                             f"{exc.strerror or exc}; nothing was written") from None
        self.display[str(path)] = "stdin"
        self.display[path.name] = "stdin"  # as notes name a file: 'stdin-<token>.png: the alpha channel is ...'
        return path

    def _stdout_file(self) -> Path:
        fmt = self.fmt
        if fmt is None:
            suffix = self.input.suffix.lower().lstrip(".") if self.input is not None else ""
            if suffix in ("csv", "txt", "npy"):
                fmt = "npy" if suffix == "npy" else "csv"
            else:
                raise UsageError("--out - writes to stdout, which has no file name to tell the format: add --format "
                                 + stdout_formats(self.input, maps=self.maps, layout=self.layout, combined=self.combined,
                                                  rescale=self.rescale)
                                 + terminal_advice(self.text_format and csv_may_hold(self.input, self.combined)))
        if self._stdout is None:
            refuse_terminal_stdout(fmt, lambda: self.text_format and csv_may_hold(self.input, self.combined))
        assert self._folder is not None
        _send_stdout_when_published()
        path = stand_in(self._folder.name, "stdout", PIPE_FORMATS[fmt])
        self.display[str(path)] = "stdout"
        self.display[path.name] = "stdout"  # as notes name a file: 'stdout-<token>.npy does not hold the alpha channel'
        return path


def refuse_terminal_stdout(fmt: Any, csv: Callable[[], bool] | None = None) -> None:
    """Refuse ``-o -`` writing ``fmt`` (a ``--format`` value) where stdout is a terminal, which takes no image or array
    bytes (exit 2); ``csv()``: whether a csv holds the result, asked only then (the advice names ``--format csv``).
    It needs no byte of stdin where the format is given: :func:`kernelcli.cli._stdio.piped` makes it before stdin is
    read, as ``-o /dev/stdout`` is refused (a stream that stays open made the call wait, an empty one said "stdin is
    empty").

    >>> refuse_terminal_stdout("npy")  # (stdout is no terminal under doctest)
    """
    fmt = _fmt_name(fmt)
    if fmt is None or fmt == "csv" or sys.stdout is None or not sys.stdout.isatty():
        return
    raise UsageError(f"--out - writes {fmt.upper()} bytes to stdout, which is a terminal: redirect it to a file "
                     f"(> out.{fmt}) or pipe it to a program (| ...)"
                     + ("; --format csv prints a matrix as text" if csv is not None and csv() else ""))


def terminal_advice(csv: bool) -> str:
    """What ``-o -`` needs besides a format when stdout is a terminal (which takes no image or array bytes: the
    next refusal), else ''; ``csv``: a csv holds the result (:func:`csv_may_hold`), and is printed there as text.
    The hints of a bare ``-o -`` and of ``-o /dev/stdout`` offered formats the terminal then refused, all of them for a
    volume or a filter bank.

    >>> terminal_advice(True)  # (stdout is no terminal under doctest)
    ''
    """
    if sys.stdout is None or not sys.stdout.isatty():
        return ""
    return ("; stdout is a terminal, which takes no image or array bytes: redirect it to a file (> FILE) or pipe it to a "
            "program (| ...)" + ("; --format csv prints a matrix as text" if csv else ""))


def stdin_stream(stream: IO[bytes] | None = None) -> IO[bytes]:
    """``stream``, or stdin's binary stream, noted as an input of the call (``< scan.png`` with ``-o scan.png`` would
    overwrite it) and not read yet; a closed stdin or a terminal is refused (exit 2), as a missing input file is:
    after the checks of the options and kernels, before the output's (:func:`kernelcli.cli._stdio.piped`)."""
    if stream is None:
        if sys.stdin is None:
            raise UsageError("input '-' reads from stdin, but stdin is closed: pipe a file in (cat scan.png | kernelcli ...)")
        if sys.stdin.isatty():
            raise UsageError("input '-' reads from stdin, but stdin is a terminal: pipe a file in (cat scan.png | kernelcli ...)")
        stream = sys.stdin.buffer
    try:
        from .reads import note_input

        note_input(stream.fileno(), "read on stdin")
    except (AttributeError, OSError, ValueError):  # a stream without a descriptor (tests' BytesIO)
        pass
    return stream


#: the :class:`Pipes` blocks open, innermost last
_OPEN: list["Pipes"] = []


def deliver_stdout() -> None:
    """The innermost open :class:`Pipes`' result copied to stdout now (:meth:`Pipes.deliver`); nothing outside one."""
    if _OPEN:
        _OPEN[-1].deliver()


def _send_stdout_when_published() -> None:
    """Have io.outputs send a result's stdout (:func:`deliver_stdout`) between its stand-in and its other files; done
    once a call writes to stdout, not when this module is imported: io.outputs is 13 ms that ``shape`` does not need."""
    from .outputs import SEND_STDOUT

    if deliver_stdout not in SEND_STDOUT:
        SEND_STDOUT.append(deliver_stdout)


def read_up_to(stream: Any, size: int) -> bytes:
    """``size`` bytes of the binary ``stream``, fewer only at its end: a non-blocking descriptor's "nothing yet"
    (None) and short reads are waited on, not taken for the end (a matrix piped in two writes was cut short).

    >>> import io; read_up_to(io.BytesIO(b"abc"), 2), read_up_to(io.BytesIO(b"abc"), 9)
    (b'ab', b'abc')
    """
    parts, got = [], 0
    while got < size:
        chunk = stream.read(size - got)
        if chunk is None:
            import select

            select.select([stream.fileno()], [], [])
            continue
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def write_all(stream: Any, data: bytes) -> None:
    """``data`` written whole on a binary ``stream``, raw or buffered, blocking or not: a raw stream's short
    write (``PYTHONUNBUFFERED``) is continued, not dropped as ``TextIOWrapper`` and ``shutil.copyfileobj`` drop it.

    >>> import io; b = io.BytesIO(); write_all(b, b"abc"); b.getvalue()
    b'abc'
    """
    view = memoryview(data)
    while view:
        try:
            written = stream.write(view)
        except BlockingIOError as full:  # buffered, on a full non-blocking descriptor: it took only a part
            view = view[full.characters_written:]
            _wait_writable(stream)
            continue
        if written is None:  # raw, on a non-blocking descriptor that is full: wait until it takes more
            _wait_writable(stream)
            continue
        if written == 0:
            raise OSError(28, "No space left on device")  # a descriptor that takes nothing: never loop on it
        view = view[written:]
    while True:
        try:
            stream.flush()
            return
        except BlockingIOError:  # (what the buffer still holds stays there for the next flush)
            _wait_writable(stream)


def _wait_writable(stream: Any) -> None:
    import select

    select.select([], [stream.fileno()], [])
