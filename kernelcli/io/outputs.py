"""The one output check and the one atomic write: nothing lost, nothing half-written.

Every command checks its outputs with :func:`~kernelcli.io.output_checks.check_output` (or
:func:`~kernelcli.io.output_checks.output_problem`, which a batch calls for every planned file) and
writes them with :func:`atomic_write`:

* an output may not be an input: the image, and every other file the command read in
  this call (kernel files, weights, bias, specs: :func:`kernelcli.io.reads.note_input` records them), also
  through a symlink or hardlink; refused (exit 4) with or without ``--force``;
* an existing output is replaced only with ``--force``, and keeps its permission bits;
* the data goes to a temporary file ``.<name>.<run>.<random>.part`` beside the output (named, owned by this run
  and cleaned up by :mod:`kernelcli.io.temporary`), is flushed,
  then published in one step: without ``--force`` an atomic create-if-absent (a hard link
  of the temporary file, or ``renameat2(RENAME_NOREPLACE)`` where links are not
  supported), so of two runs racing for one name exactly one wins and the other gets
  exit 4; with ``--force`` an ``os.replace``.  On any error, signal or full disk the
  temporary file is removed and the destination is untouched.

Standard library only (no numpy).

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_bytes_atomic(folder / "a.txt", b"one")
>>> write_bytes_atomic(folder / "a.txt", b"two")
Traceback (most recent call last):
...
kernelcli.io.output_checks.OutputExists: ...a.txt: already exists; use ... to overwrite it
>>> write_bytes_atomic(folder / "a.txt", b"two", force=True); (folder / "a.txt").read_bytes()
b'two'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import KernelcliError, OutputRefused, UsageError, WriteError
from .naming import piped_stream
from .output_checks import OutputExists, descriptor_of, name_problem, output_folder, shown_path
from . import held_stops
from .published_stops import hold_from
from .temporary import PART_SUFFIX, new_file, remove_leftovers, temp_prefix

#: sends ``--out -``'s stand-in file to stdout (:func:`kernelcli.io.pipes.deliver_stdout`, registered there): the step
#: between publishing it and the other files of its result
SEND_STDOUT: list[Callable[[], None]] = []

#: called (each, with no argument) just before an output is put in place: the warm worker's call process
#: tells its client then that the call has an effect a second run would repeat (:mod:`kernelcli.worker.commit`)
BEFORE_PUBLISH: list[Callable[[], None]] = []


class FailedWrite(WriteError):
    """The file system refused an output's bytes (full, a file-size limit, an I/O error): exit 1, as any WriteError;
    ``path`` and ``reason`` (the system's words) let a caller say it for what the path stands for (a pipe's
    stand-in file is not stdout: :mod:`kernelcli.io.pipes`).

    >>> e = FailedWrite("o.npy: write failed: File too large", "o.npy", "File too large"); (str(e), e.reason)
    ('o.npy: write failed: File too large', 'File too large')
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.path, self.reason = path, reason

    def __reduce__(self) -> tuple[Any, ...]:  # (a batch's worker sends it back pickled)
        return type(self), (str(self), self.path, self.reason)


def write_failure(dest: str | os.PathLike, exc: OSError, folder: str | os.PathLike | None = None, rest: str = "") -> FailedWrite:
    """The one wording of an output the file system refused: ``<dest>: write failed: <reason>; the destination is
    untouched``, or, where its temporary file could not be made in ``folder``, ``<dest>: cannot write in <folder>: <reason>``.

    >>> str(write_failure("o.npy", OSError(27, "File too large")))
    'o.npy: write failed: File too large; the destination is untouched'
    """
    reason = exc.strerror or _one_line(exc)
    if folder is not None:
        return FailedWrite(f"{os.fspath(dest)}: cannot write in {os.fspath(folder)}: {reason}", dest, reason)
    return FailedWrite(f"{os.fspath(dest)}: write failed: {reason}; the destination is untouched{rest}", dest, reason)


def about_to_publish(dest: str | os.PathLike | None = None) -> None:
    """Run :data:`BEFORE_PUBLISH` (an output is about to appear; a batch calls it once before its workers start), and
    hold a one-input call's stops from here to its end (``dest``: the output: :mod:`kernelcli.io.published_stops`)."""
    for hook in BEFORE_PUBLISH:
        hook()
    if dest is not None:
        hold_from(dest)


# ---------------------------------------------------------------- writing


def temporary_beside(dest: str | os.PathLike, folder: str | os.PathLike) -> tuple[int, str]:
    """A new temporary file for ``dest`` in ``folder``: its open descriptor and its name, which
    :func:`~kernelcli.io.temporary.remove_temporary_files` recognises.  WriteError when the folder refuses it.

    Call it inside ``with signals_deferred():`` and keep the name in the same statement, so that
    a signal cannot land between the file's creation and the cleanup knowing it.

    >>> import tempfile, os
    >>> fd, name = temporary_beside("out.png", tempfile.mkdtemp())
    >>> os.close(fd); os.path.basename(name).startswith(".out.png.") and name.endswith(PART_SUFFIX)
    True
    """
    prefix = os.path.join(folder, temp_prefix(Path(dest)))
    remove_leftovers(prefix)
    try:
        return new_file(prefix, PART_SUFFIX)
    except OSError as exc:
        raise write_failure(dest, exc, folder) from None


def atomic_write(dest: str | os.PathLike, write: Callable[[IO[bytes]], object], *, force: bool = False) -> None:
    """Write through a temporary file in ``dest``'s folder, then publish it in one step.

    Without ``force`` the publishing is an atomic create-if-absent: if ``dest`` exists
    (or appears while we write), OutputRefused (exit 4) and ``dest`` is untouched.  With
    ``force`` it replaces ``dest``, keeping its permission bits.  On any error, on Ctrl-C,
    SIGTERM or a full disk the temporary file is removed (Pillow's ``save`` truncates its
    target before it knows it can encode, so nothing ever writes to ``dest`` itself).
    Inside :func:`written_together` the write is held, and made with the others at its end.
    """
    held = getattr(_TOGETHER, "held", None)
    if held is not None:
        held.writes.append((dest, write, force))
        return
    atomic_write_all([(dest, write)], force=force)


class _Held:
    """What one :func:`written_together` block holds: ``writes`` not made yet, and ``ready``, the temporaries a block
    inside it wrote, published at this block's end (dest, temporary, force)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str | os.PathLike, Callable[[IO[bytes]], object], bool]] = []
        self.ready: list[tuple[Path, str, bool]] = []


#: the :class:`_Held` of the innermost :func:`written_together` block in this thread (None: each write is made at once)
_TOGETHER = threading.local()


@contextlib.contextmanager
def written_together() -> Iterator[None]:
    """Hold every :func:`atomic_write` made inside, then make them all in one :func:`atomic_write_all` at the end:
    the files of one result (``convolve --out`` and its ``--montage``) are written both or neither, and a failure
    says the others were not written either.  Nothing is written where the block raises.

    Inside another block the temporaries are written at this block's end and published at the outer one's: a result
    printed on stdout between the two (a matrix beside its ``--montage``) is part of the "both or neither".

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> with written_together():
    ...     atomic_write(folder / "a.txt", lambda f: f.write(b"a")); sorted(p.name for p in folder.iterdir())
    []
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    outer, block = getattr(_TOGETHER, "held", None), _Held()
    _TOGETHER.held = block
    try:
        yield
    except BaseException as exc:
        _remove_temporaries(tmp for _, tmp, _ in block.ready)
        unwritten = [str(dest) for dest, _, _ in block.ready if piped_stream(dest) is None]
        if unwritten and isinstance(exc, KernelcliError) and len(exc.args) == 1:  # (a stdout that did not take the result)
            exc.args = (f"{exc}, and {' and '.join(unwritten)} {'is' if len(unwritten) == 1 else 'are'} not written either",)
        raise
    finally:
        _TOGETHER.held = outer
    if not block.writes and not block.ready:
        return
    force = all(f for _, _, f in block.writes) and all(f for _, _, f in block.ready)  # (one call, one --force)
    items = [(dest, write) for dest, write, _ in block.writes]
    ready = [(dest, tmp) for dest, tmp, _ in block.ready]
    try:
        ready += _write_temporaries(items, also=[dest for dest, _ in ready]) if items else []
    except BaseException:
        _remove_temporaries(tmp for _, tmp, _ in block.ready)
        raise
    if outer is not None:
        outer.ready.extend((dest, tmp, force) for dest, tmp in ready)
        return
    _publish_all(ready, force=force)


@contextlib.contextmanager
def written_at_once() -> Iterator[None]:
    """Inside a :func:`written_together` block, make each write at once: a file that is no part of the result, the
    ``--report`` written before stdout takes a matrix whose ``--montage`` sheet is published after it.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> with written_together():
    ...     with written_at_once():
    ...         atomic_write(folder / "r.json", lambda f: f.write(b"{}"))
    ...     sorted(p.name for p in folder.iterdir())
    ['r.json']
    """
    outer = getattr(_TOGETHER, "held", None)
    _TOGETHER.held = None
    try:
        yield
    finally:
        _TOGETHER.held = outer


def atomic_write_all(items: Sequence[tuple[str | os.PathLike, Callable[[IO[bytes]], object]]], *, force: bool = False) -> None:
    """:func:`atomic_write` for several files that make one result (a kernel file and its loss curve): every
    temporary is written first, then all are published, so a write that fails (a full disk, a file-size limit, an
    encoder's error) leaves every destination untouched, and its message says the others were not written either.
    Where one of them is ``--out -``'s stand-in file, stdout is sent the result before the others are published, so
    a stdout that does not take it leaves them unwritten too (its message says so).

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> atomic_write_all([(folder / "a.txt", lambda f: f.write(b"a")), (folder / "b.txt", lambda f: f.write(b"b"))])
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt', 'b.txt']
    """
    _publish_all(_write_temporaries(items), force=force)


def _write_temporaries(items: Sequence[tuple[str | os.PathLike, Callable[[IO[bytes]], object]]],
                       also: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """The temporary file of each of ``items`` written, flushed and synced: (dest, temporary) each.  On any failure
    every one is removed and the error names the destination that failed and the others (``also``: files of the
    same result written before) as not written either."""
    dests = [Path(dest) for dest, _ in items]
    for dest in dests:
        too_long = name_problem(dest)
        if too_long:
            raise UsageError(f"{shown_path(dest)}: {too_long}")
    temps: list[str] = []
    current, f = dests[0], None
    try:
        for dest, (_, write) in zip(dests, items):
            current, f = dest, None
            with signals_deferred():  # a signal now is raised once the temporary is known, so the finally removes it
                fd, tmp = temporary_beside(dest, output_folder(dest))
                temps.append(tmp)
                f = os.fdopen(fd, "wb")
            with f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
        f = None
        return list(zip(dests, temps))
    except BaseException as exc:
        if f is not None:
            f.close()
        _remove_temporaries(temps)
        others = [str(d) for d in [*also, *dests] if d != current]
        err = _failed(exc, current, f", and {' and '.join(others)} {'is' if len(others) == 1 else 'are'} not written either"
                      if others else "")
        if err is exc:
            raise
        raise err from None


def _publish_all(ready: Sequence[tuple[Path, str]], *, force: bool) -> None:
    """Publish each written temporary (dest, temporary) of one result; ``--out -``'s stand-in first, then stdout sent
    its bytes (:data:`SEND_STDOUT`), then the others.  On a failure the files published without
    ``force`` are withdrawn (stdout cannot be) and the error says what was or was not written; the temporaries are
    always removed."""
    streams = [item for item in ready if piped_stream(item[0]) == "stdout"]
    ready = [*streams, *(item for item in ready if item not in streams)]
    published: list[Path] = []
    delivered = False
    current = ready[0][0]
    try:
        for dest, tmp in ready:
            current = dest
            _publish(tmp, dest, force=force)
            published.append(dest)
            if streams and dest == streams[-1][0] and len(ready) > len(streams):
                for send in SEND_STDOUT:
                    send()  # (a full disk or a closed pipe stops the call here: nothing else published)
                delivered = True
    except BaseException as exc:
        kept = [d for d in published if force or delivered and piped_stream(d) is not None]
        if not force:  # (files this call created a moment ago: a result is all of them or none)
            for done in published:
                if done not in kept:
                    with contextlib.suppress(OSError):
                        os.unlink(done)
        others = [str(d) for d, _ in ready if d != current and d not in kept]
        if kept:
            rest = f"; {', '.join(str(d) for d in kept)} {'was' if len(kept) == 1 else 'were'} written"
        else:
            rest = f", and {' and '.join(others)} {'is' if len(others) == 1 else 'are'} not written either" if others else ""
        err = _failed(exc, current, rest)
        if err is exc:
            raise
        raise err from None
    finally:
        _remove_temporaries(tmp for _, tmp in ready)


def _failed(exc: BaseException, current: Path, rest: str) -> BaseException:
    """The error to raise for ``exc``, which stopped the write of ``current``, with ``rest`` (what else was or was not
    written) added: our own errors keep their class and attributes; Ctrl-C, signals, exit requests and a closed pipe
    pass unchanged; the file system's refusal is :func:`write_failure`, an encoder's a WriteError."""
    if isinstance(exc, OutputRefused) and rest:
        return OutputRefused(f"{exc}{rest}")
    if isinstance(exc, KernelcliError):
        if rest and len(exc.args) == 1:  # (a stdout that did not take the result: its cut_short mark is kept)
            exc.args = (f"{exc}{rest}",)
        return exc
    if not isinstance(exc, Exception) or isinstance(exc, BrokenPipeError):
        return exc  # Ctrl-C, signals, exit requests, and a reader that closed stdout (a silent exit 1) pass through
    if isinstance(exc, OSError):
        return write_failure(current, exc, rest=rest)
    return WriteError(f"{current}: cannot encode as {current.suffix.lstrip('.').upper() or 'this format'}: {_one_line(exc)}{rest}")


def _remove_temporaries(temps: Iterator[str] | Sequence[str]) -> None:
    for tmp in temps:
        if os.path.lexists(tmp):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold the unwinding signals for the block and act on them at its end.

    Creating a temporary file and keeping its name are two steps: a signal between them
    would leave a file nobody removes.  Enter this inside the ``try`` whose cleanup removes
    the file: a signal that arrives meanwhile is raised when the block ends, with the name
    known.  Python runs signal handlers in the main thread only, so elsewhere this does nothing.
    Where a one-input call's output was put in place inside the block, its hold, which lasts to the call's end, takes
    the stops instead (:mod:`kernelcli.io.held_stops`).

    >>> with signals_deferred():
    ...     name = "created and remembered without interruption"
    """
    held = held_stops.hold()
    try:
        yield
    finally:
        for sig, handler in held_stops.release(held):
            held_stops.act(sig, handler)  # raises KeyboardInterrupt / Interrupted here, as it would have


def _publish(tmp: str, dest: Path, *, force: bool) -> None:
    about_to_publish(dest)
    if force and os.path.islink(dest):  # the checks refused it; a link made since is not replaced either
        if descriptor_of(dest) is not None or os.path.realpath(dest).startswith(("/dev/", "/proc/")):
            raise OutputRefused(f"{dest}: links to {os.readlink(dest)}, a device or an open descriptor, not a file: "
                                "not replaced")
    if force:
        mode = 0o666 & ~_umask()
        with contextlib.suppress(OSError):
            st = os.stat(dest)
            if stat.S_ISREG(st.st_mode):
                mode = stat.S_IMODE(st.st_mode) & 0o777
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
        return
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        os.link(tmp, dest)  # fails if dest exists: exactly one of two racing writers wins
    except FileExistsError:
        raise OutputExists(dest) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EACCES):
            raise
        _rename_noreplace(tmp, dest)


def rename_noreplace(tmp: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Move ``tmp`` (a file or a folder, such as a Zarr store) to ``dest`` only if ``dest``
    does not exist, in one step: OutputRefused (exit 4) otherwise.  ``renameat2`` where
    the kernel has it; else a check then a rename (a folder is never renamed over a
    non-empty one, so a lost race fails instead of replacing)."""
    about_to_publish(dest)
    try:
        _rename_noreplace(os.fspath(tmp), Path(dest))
    except (WriteError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno not in (errno.ENOSYS, errno.EINVAL):
            raise
        if os.path.lexists(dest):
            raise OutputExists(dest) from None
        os.rename(tmp, dest)


def _rename_noreplace(tmp: str, dest: Path) -> None:
    """``renameat2(RENAME_NOREPLACE)`` for file systems without hard links (Linux >= 3.15)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise WriteError(f"{dest}: this file system supports neither hard links nor renameat2; use --force to write")
    at_fdcwd, rename_noreplace = -100, 1
    if renameat2(at_fdcwd, os.fsencode(tmp), at_fdcwd, os.fsencode(os.fspath(dest)), rename_noreplace) != 0:
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise OutputExists(dest)
        raise OSError(code, os.strerror(code), os.fspath(dest))


def save_image(img: Any, f: IO[bytes], fmt: str, options: dict[str, Any]) -> None:
    """Pillow's ``img.save`` into ``f`` (an :func:`atomic_write` file) through ``f.write``, never its descriptor.

    Given a descriptor, Pillow's C encoders (JPEG, TIFF) write to it themselves and take a short write (a full
    disk, a file-size limit) for a whole one: the cut file was published with exit 0.  Python's buffered
    ``write`` writes the rest or raises, and :func:`atomic_write` then removes the temporary file.
    """
    img.save(WholeWrites(f), format=fmt, **options)


class WholeWrites:
    """``f`` without a descriptor to hand out: a writer given it writes through ``f.write``, whose short write
    (a full disk, a file-size limit) raises an OSError with its errno.  Pillow's C encoders (:func:`save_image`) took
    a short write on a descriptor for a whole one; numpy's ``tofile`` (``numpy.save`` of a file) raised
    "262144 requested and 16352 written", without the cause."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f

    def write(self, data: Any) -> int:
        return self._f.write(data)

    def tell(self) -> int:
        return self._f.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def flush(self) -> None:
        self._f.flush()

    def fileno(self) -> int:
        import io

        raise io.UnsupportedOperation("fileno")


def write_bytes_atomic(dest: str | os.PathLike, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``dest`` with :func:`atomic_write`."""
    atomic_write(Path(dest), lambda f: f.write(data), force=force)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


