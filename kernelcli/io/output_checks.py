"""The one output check: may this call write ``dest``?  Decided before any work, said in one line.

An output may not be an input (also through a symlink or hardlink: refused with or without
``--force``); an existing output needs ``--force``; a folder, a device or a name too long for
its file system is refused naming it.  :mod:`kernelcli.io.outputs` then writes atomically.
Standard library only (no numpy).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> output_problem(folder / "out.png") is None
True
>>> exists_message(folder / "x.png").endswith("x.png: already exists; use --force to overwrite it")
True
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from typing import Any
from pathlib import Path

from ..errors import KernelcliError, OutputRefused, UsageError, WriteError
from .reads import input_identities

#: the longest file name (in bytes) the usual file systems allow
NAME_MAX = 255


def output_folder(o: Path) -> Path:
    """The folder ``o`` goes in (``.`` for a bare name).

    >>> output_folder(Path("a.png")), output_folder(Path("out/a.png"))
    (PosixPath('.'), PosixPath('out'))
    """
    o = Path(o)
    return o.parent if str(o.parent) else Path(".")


def no_folder(folder: Path) -> str:
    """Why an output cannot go in ``folder``, which is no folder: the nearest of it and its parents that exists is a
    file (``p.png/m.png`` was told "the folder p.png does not exist", which sent one looking for a missing folder),
    or the folder does not exist.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); (folder / "p.png").touch()
    >>> no_folder(folder / "p.png" / "sub").endswith("p.png is a file, not a folder"), no_folder(folder / "no")[-18:]
    (True, '/no does not exist')
    """
    found = Path(folder)
    while not found.exists() and found != found.parent:
        found = found.parent
    if found.exists() and not found.is_dir():
        return f"{found} is a file, not a folder"
    return f"the folder {folder} does not exist"


def folder_writable(folder: Path) -> bool:
    """True when new files can be created in ``folder`` (as this user, with its privileges)."""
    return os.access(folder, os.W_OK | os.X_OK)


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file, also through a symlink or a hardlink, and also where the file
    does not exist yet: a link to a missing file names the file it would create (two outputs, one written through
    the link, were both written and the link replaced).

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); _ = (folder / "a.png").write_bytes(b"x")
    >>> (folder / "link.png").symlink_to(folder / "a.png"); same_file(folder / "a.png", folder / "link.png")
    True
    >>> (folder / "new_link.png").symlink_to("new.png"); same_file(folder / "new.png", folder / "new_link.png")
    True
    """
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    try:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
    except (OSError, ValueError):  # (a loop of links: the names as given)
        return os.path.abspath(a) == os.path.abspath(b)


def name_problem(dest: Path) -> str | None:
    """Why the file system would refuse the name ``dest`` (too long), or None.

    >>> name_problem(Path("x" * 300 + ".png"))
    'the file name is 304 bytes long, more than the 255 a file name may have'
    """
    size = len(os.fsencode(Path(dest).name))
    if size > NAME_MAX:
        return f"the file name is {size} bytes long, more than the {NAME_MAX} a file name may have"
    if len(os.fsencode(os.fspath(dest))) >= 4096:
        return "the path is longer than the 4096 bytes a path may have"
    return None


def too_long_error(exc: BaseException) -> UsageError | None:
    """The file system's "name too long" (ENAMETOOLONG) on a path this call was given, as the usage error it is
    (exit 2, naming the path and the long name), else None: the checks before each read cannot foresee every
    path a call derives (``folder/name``, a kernel file's, a DICOM series'), and it is never kernelcli's bug.

    >>> err = OSError(errno.ENAMETOOLONG, "File name too long", "d/" + "x" * 300)
    >>> str(too_long_error(err))[-71:]
    'the file name is 300 bytes long, more than the 255 a file name may have'
    """
    if not isinstance(exc, OSError) or exc.errno != errno.ENAMETOOLONG or exc.filename is None:
        return None
    path = Path(os.fsdecode(exc.filename))
    longest = max(path.parts, key=lambda part: len(os.fsencode(part)), default="")
    problem = name_problem(path)
    if problem is None and len(os.fsencode(longest)) > NAME_MAX:
        problem = f"the name {shown_path(Path(longest))!r} in it is {len(os.fsencode(longest))} bytes long, more than the {NAME_MAX} a name may have"
    return UsageError(f"{shown_path(path)}: {problem or 'a name in it is too long for the file system'}")


def gone_folder_error(exc: BaseException) -> UsageError | None:
    """The current folder removed under the call (``os.getcwd()`` fails: a relative path cannot be resolved) as the
    usage error it is, else None: it was an internal error, exit 70, from ``os.path.abspath``."""
    if not isinstance(exc, FileNotFoundError):
        return None
    try:
        os.getcwd()
    except FileNotFoundError:
        return UsageError("the current folder no longer exists (it was removed): cd to one that does")
    return None


#: the device files of the standard streams, by name: read where /proc is not (their links are followed where it is)
_STREAM_FILES = {"/dev/stdin": "stdin", "/dev/stdout": "stdout", "/dev/stderr": "stderr"}
_STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}
_DESCRIPTORS = re.compile(r"/(?:proc/(\d+|self|thread-self)(?:/task/\d+)?|dev)/fd")


def descriptor_of(dest: str | os.PathLike) -> str | None:
    """The open descriptor ``dest`` is, or links to: ``stdout``, ``stderr``, ``stdin`` or ``descriptor N``; else None.

    The links are followed one at a time, for their last one (``/proc/self/fd/1``) points at the file stdout is
    redirected to: seen through it, ``--report so`` (``so -> /proc/self/fd/1``) was a regular file, and writing it
    replaced the link (as root, ``--report /dev/stdout --force > f`` replaced the system's /dev/stdout).

    >>> descriptor_of("/dev/stdout"), descriptor_of("/proc/self/fd/2"), descriptor_of("o.png")
    ('stdout', 'stderr', None)
    """
    path = os.fspath(dest)
    if not os.path.islink(path):  # (one lstat: a batch's thousands of new outputs ask no more)
        return _STREAM_FILES.get(re.sub("^/+", "/", os.path.normpath(path)))
    path = os.path.abspath(path)
    for _hop in range(40):
        if path in _STREAM_FILES:
            return _STREAM_FILES[path]
        folder, name = os.path.split(path)
        try:
            folder = os.path.realpath(folder)  # /dev/fd and /proc/self are links to /proc/<pid>/fd and /proc/<pid>
        except (OSError, ValueError):
            return None
        found = _DESCRIPTORS.fullmatch(folder) or _DESCRIPTORS.fullmatch(os.path.dirname(path))
        if name.isdigit() and found:
            pid = found.group(1)
            if pid is not None and pid.isdigit() and int(pid) != os.getpid():
                return f"descriptor {int(name)} of process {pid}"
            return _STREAMS.get(int(name), f"descriptor {int(name)}")
        path = os.path.join(folder, name)
        try:
            path = os.path.normpath(os.path.join(folder, os.readlink(path)))
        except (OSError, ValueError):  # not a link (or none there): the file itself
            return None
    return None


def pipe_refused(option: str, value: Any, what: str, *, stream: str, fix: str = "give a path") -> str:
    """The one wording of ``-`` (or stdout's device file) given where ``option`` takes a file, not a pipe: what the
    option takes, which ``stream`` it is not, and what to give instead.

    >>> pipe_refused("--report", "-", "the report is a file", stream="stdout", fix="give a path (--json prints its records on stdout)")
    "--report '-': the report is a file, not stdout; give a path (--json prints its records on stdout)"
    """
    return f"{option} {os.fspath(value)!r}: {what}, not {stream}; {fix}"


def refuse_descriptor(dest: str | os.PathLike, option: str = "", what: str = "the output is a file",
                      fix: str = "give a file path") -> None:
    """Refuse (exit 2, before anything is done) an output or report path that is, or links to, an open descriptor
    (:func:`descriptor_of`): written there by renaming, it replaced the link and never reached the stream.

    >>> refuse_descriptor("/dev/stderr", "--report", "the report is a file")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --report '/dev/stderr': the report is a file, not stderr; give a file path
    """
    stream = descriptor_of(dest)
    if stream is None:
        return
    raise UsageError(pipe_refused(option or "output", dest, what, stream=stream_named(dest, stream), fix=fix))


def stream_named(dest: str | os.PathLike, stream: str) -> str:
    """``stream`` (what :func:`descriptor_of` found ``dest`` to be) as a message names it: through a link of the
    user's, the link is said.

    >>> stream_named("/dev/stdout", "stdout"), stream_named("/tmp/so", "stdout")
    ('stdout', 'stdout (a link to its descriptor)')
    """
    if stream.startswith("descriptor") and "process" not in stream:
        stream += " of this process"
    path = os.path.abspath(os.fspath(dest))
    if path in _STREAM_FILES or _DESCRIPTORS.fullmatch(os.path.dirname(path)):
        return stream
    return f"{stream} (a link to its descriptor)"


#: how a caller allows an existing output to be replaced: the command line's option, the Python API's argument
FORCE_OPTION, FORCE_ARGUMENT = "--force", "force=True"


def exists_message(dest: str | os.PathLike, allow: str = FORCE_OPTION) -> str:
    """The one wording of "exists without --force" (exit 4); ``allow``: how the caller allows it,
    :data:`FORCE_ARGUMENT` for :func:`kernelcli.write_output`'s.

    >>> exists_message("o.png"), exists_message("o.png", FORCE_ARGUMENT)
    ('o.png: already exists; use --force to overwrite it', 'o.png: already exists; use force=True to overwrite it')
    """
    return f"{os.fspath(dest)}: already exists; use {allow} to overwrite it"


class OutputExists(OutputRefused):
    """An existing output without force (exit 4), in :func:`exists_message`'s words; ``dest`` lets a caller with
    other words for force say it in those (:meth:`worded`).

    >>> str(OutputExists("o.npy").worded(FORCE_ARGUMENT))
    'o.npy: already exists; use force=True to overwrite it'
    """

    def __init__(self, dest: str | os.PathLike, allow: str = FORCE_OPTION) -> None:
        super().__init__(exists_message(dest, allow))
        self.dest = os.fspath(dest)

    def worded(self, allow: str) -> OutputExists:
        """The same refusal, saying ``allow`` for force."""
        return OutputExists(self.dest, allow)


def output_problem(
    dest: str | os.PathLike,
    inputs: Sequence[str | os.PathLike] = (),
    *,
    force: bool = False,
    identities: dict[tuple[int, int], str] | None = None,
    input_paths: frozenset[str] | None = None,
    listed: bool = False,
) -> str | None:
    """The one-line reason ``dest`` may not be written (exit 4), or None.

    Refused: an input (``inputs`` and every file noted in this call, also through a
    link, whatever ``force`` says), a folder, and an existing file without ``force``.
    ``identities`` (from :func:`input_identities`) saves stating the inputs again when
    many outputs are checked, and ``input_paths`` (their absolute paths, as a set) comparing
    each output with every input (a batch's planning was quadratic in its files).  A path that is, or links to, an
    open descriptor is refused at once (UsageError, exit 2: :func:`refuse_descriptor`), or with ``listed`` (a batch's
    plan, which lists every problem) returned as its reason, as the others are.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); _ = (folder / "a.png").write_bytes(b"x")
    >>> output_problem(folder / "new.png") is None, output_problem(folder / "a.png")
    (True, '.../a.png: already exists; use --force to overwrite it')
    >>> output_problem(folder / "a.png", [folder / "a.png"], force=True)
    '.../a.png: is the input .../a.png (same file): the output would overwrite the input'
    """
    try:
        refuse_descriptor(dest)
    except UsageError as refused:
        if not listed:
            raise
        return str(refused)
    dest = Path(dest)
    ids = input_identities(inputs) if identities is None else identities
    try:
        st = dest.stat()
    except (OSError, ValueError):
        st = None
    if st is not None and (st.st_dev, st.st_ino) in ids:
        return same_file_message(dest, ids[(st.st_dev, st.st_ino)])
    if input_paths is None:
        input_paths = frozenset(os.path.abspath(s) for s in ids.values())
    if st is None and os.path.abspath(dest) in input_paths:
        return f"{dest}: is an input of this command; it would be overwritten"
    if st is not None and stat.S_ISDIR(st.st_mode):
        return f"{dest}: is a folder, expected a file path"
    if st is not None and not stat.S_ISREG(st.st_mode):  # --force put a regular file in place of /dev/null
        return f"{dest}: is not a regular file ({_special_kind(st.st_mode)}), expected a file path"
    if not force and (st is not None or os.path.islink(dest)):
        return exists_message(dest)
    return None


def inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when ``path`` is in ``folder``, at any depth (also through links), and is not ``folder`` itself.

    >>> inside("scan.zarr/c/0/0", "scan.zarr"), inside("scan.zarr", "scan.zarr"), inside("scan.zarr2/a", "scan.zarr")
    (True, False, False)
    """
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real != root and os.path.commonpath([real, root]) == root


def _store_word(folder: str | os.PathLike) -> str:
    """'store' for a Zarr store or a folder in one (:func:`kernelcli.io.store_paths.enclosing_store`), 'folder' for
    another folder (a DICOM series)."""
    from .store_paths import enclosing_store

    return "store" if enclosing_store(folder, itself=True) is not None else "folder"


def store_problem(dest: str | os.PathLike, inputs: Sequence[str | os.PathLike] = (),
                  outputs: Sequence[str | os.PathLike] = ()) -> str | None:
    """The one-line reason (exit 4, whatever ``--force`` says) ``dest`` may not be written for a store around it, or
    None: it is inside an input that is a folder (a Zarr store's chunks and metadata at any depth, a DICOM series'
    slices: replaced, or met by the next read), or inside an output (a store about to be written: its chunk or
    ``zarr.json`` replaced after it is published, or a file that stops a later ``--force`` from replacing it).
    The one check of ``-o`` on the tiled path and of ``--report``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); (folder / "in.zarr" / "c").mkdir(parents=True)
    >>> store_problem(folder / "in.zarr" / "c" / "r.json", [folder / "in.zarr"])
    '.../in.zarr/c/r.json: is inside the input .../in.zarr: write it outside the input store'
    >>> store_problem("o.zarr/zarr.json", outputs=["o.zarr"])
    'o.zarr/zarr.json: is inside the output o.zarr: write it outside the output store'

    ``dest`` naming the input folder itself (``-o grp.zarr/img`` reading ``grp.zarr/img``) is the input:

    >>> store_problem(folder / "in.zarr", [folder / "in.zarr"])
    '.../in.zarr: is the input .../in.zarr (same file): the output would overwrite the input'
    """
    for src in inputs:
        if os.path.isdir(src) and os.path.realpath(dest) == os.path.realpath(src):
            return same_file_message(dest, os.fspath(src))
        if os.path.isdir(src) and inside(dest, src):
            return f"{os.fspath(dest)}: is inside the input {os.fspath(src)}: write it outside the input {_store_word(src)}"
    for out in outputs:
        if inside(dest, out):
            return f"{os.fspath(dest)}: is inside the output {os.fspath(out)}: write it outside the output {_store_word(out)}"
    return None


def held_input(store: str | os.PathLike, inputs: Sequence[str | os.PathLike] = ()) -> str | None:
    """The one-line reason (exit 4) the existing folder ``store`` may not be replaced, or None: it holds a file this
    call reads, ``inputs`` or one noted in this call (a kernel file kept in an output store's chunk folder was deleted
    by ``--force``).

    >>> held_input("o.zarr", ["o.zarr/c/k.npy"])
    'o.zarr: holds the input o.zarr/c/k.npy: the output would replace it'
    """
    for src in [*map(os.fspath, inputs), *input_identities().values()]:
        if inside(src, store):
            return f"{os.fspath(store)}: holds the input {src}: the output would replace it"
    return None


def same_file_message(dest: str | os.PathLike, src: str) -> str:
    """The one wording of an output that is the input ``src`` (exit 4, whatever force says).

    >>> same_file_message("k.npy", "k.npy")
    'k.npy: is the input k.npy (same file): the output would overwrite the input'
    """
    return f"{os.fspath(dest)}: is the input {src} (same file): the output would overwrite the input"


def refuse_noted_input(dest: str | os.PathLike) -> None:
    """OutputRefused (exit 4, in :func:`output_problem`'s words) where ``dest`` is, also through a link, a file
    this call has noted as an input (:func:`~kernelcli.io.reads.note_input`): for an output checked before a reader
    opened that file (``--report`` of a volume's call: its mask, its kernel file, a series' files), checked again
    as it is written.

    >>> refuse_noted_input("/no/such/file") is None
    True
    """
    try:
        st = os.stat(dest)
    except (OSError, ValueError):
        return
    src = input_identities().get((st.st_dev, st.st_ino))
    if src is not None:
        raise OutputRefused(same_file_message(dest, src))


def _special_kind(mode: int) -> str:
    """What a file that is neither a folder nor a regular file is, in a message.

    >>> _special_kind(stat.S_IFIFO)
    'a pipe'
    """
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def refuse_folder(dest: str | os.PathLike) -> None:
    """Exit 4 where the output ``dest`` is an existing folder: checked before its extension, which a folder's
    name seldom has (the message was "unsupported output type '(no extension)'", exit 2).

    >>> refuse_folder("/")
    Traceback (most recent call last):
    ...
    kernelcli.errors.OutputRefused: /: is a folder, expected a file path
    """
    if os.path.isdir(dest):
        raise OutputRefused(f"{dest}: is a folder, expected a file path")


def check_output(dest: str | os.PathLike, inputs: Sequence[str | os.PathLike] = (), *, force: bool = False) -> Path:
    """Check one output before any work; return it as a Path.

    Raises OutputRefused (exit 4, see :func:`output_problem`), UsageError (exit 2: a name
    too long, a missing folder) or WriteError (exit 1: a read-only folder).

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> check_output(folder / "edges.png") == folder / "edges.png"
    True
    >>> check_output(folder / "no" / "edges.png")
    Traceback (most recent call last):
    kernelcli.errors.UsageError: .../no/edges.png: the folder .../no does not exist
    """
    from .folder_names import refuse_a_folder_named_output

    refuse_a_folder_named_output(dest, store=True)  # ('x.npy/' names a folder; a Zarr store is one)
    o = Path(dest)
    too_long = name_problem(o)
    if too_long:
        raise _of_output(UsageError(f"{shown_path(o)}: {too_long}"), o)
    problem = output_problem(o, inputs, force=force)
    if problem:
        raise _of_output(OutputExists(o) if problem == exists_message(o) else OutputRefused(problem), o)
    parent = output_folder(o)
    if not parent.is_dir():
        raise _of_output(UsageError(f"{o}: {no_folder(parent)}"), o)
    if not folder_writable(parent):
        raise _of_output(WriteError(f"{o}: cannot write in {parent}: permission denied (read-only folder); nothing was written"), o)
    return o


def _of_output(exc: KernelcliError, dest: Path) -> KernelcliError:
    """``exc`` with the output it refuses as ``exc.output``: a refused default name (``<stem>_sobel_v.png``, no
    ``-o``) is named in the ``--json`` record of the failure, as the ``--report`` record names it."""
    exc.output = os.fspath(dest)  # type: ignore[attr-defined]
    return exc


def shown_path(p: Path) -> str:
    """A path short enough for a one-line message."""
    text = os.fspath(p)
    return text if len(text) <= 80 else f"{text[:40]}...{text[-20:]}"
