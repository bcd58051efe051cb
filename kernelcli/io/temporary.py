"""Temporary files beside an output: their names, the run that owns them, and their cleanup.

An output is written to ``.<name>.<run>.<random>.part`` beside it and published in one step
(:mod:`kernelcli.io.outputs`).  ``<run>`` is this run's :func:`run_token`, which its batch workers share, so a run's
cleanup (:func:`remove_temporary_files_of`) removes its own temporary files and never another run's; the name is
shortened so that every legal output name, up to 255 bytes, still fits.

Standard library only (no numpy).

Example
-------
>>> from pathlib import Path
>>> temp_prefix(Path("out.png")) == f".out.png.{run_token()}."
True
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .output_checks import NAME_MAX, output_folder

#: how a temporary file for ``dest`` ends: ``.<dest name>.<run>.<random>.part``
PART_SUFFIX = ".part"

#: letters of a run's token (:func:`run_token`)
RUN_TOKEN_LETTERS = 6

#: bytes of a temporary name around the (possibly shortened) output name: "." "." run "." 8 random ".part"
_TEMP_EXTRA = 1 + 1 + RUN_TOKEN_LETTERS + 1 + 8 + len(PART_SUFFIX)

#: this process's run token and the pid it was made in (a process forked from this one makes its own)
_RUN: dict[str, Any] = {"pid": None, "token": ""}


def run_token() -> str:
    """Random letters naming this run in its temporary files' names: made once per process, taken by the worker
    processes of its batch (:func:`adopt_run_token`), so that one run's cleanup leaves another run's files alone.

    >>> len(run_token()) == RUN_TOKEN_LETTERS and run_token() == run_token()
    True
    """
    if _RUN["pid"] != os.getpid():
        _RUN.update(pid=os.getpid(), token=_random_letters(RUN_TOKEN_LETTERS))
    return _RUN["token"]


def adopt_run_token(token: str) -> None:
    """Name this process's temporary files with ``token``: a batch's worker process, the run's own."""
    _RUN.update(pid=os.getpid(), token=token)


def take_over_run(token: str) -> None:
    """Carry on the run ``token`` of a process that died before it wrote anything (the warm worker's call process,
    killed by the out-of-memory killer, whose call the client then runs itself): this process's temporary files
    take that token, and each output's leftovers of it (that process's half-written ``.part``) are removed before
    the output is written anew.  A run is one process's (and its batch workers'), so no live writer holds them.
    Anything but a run token (:data:`RUN_TOKEN_LETTERS` of the temporary names' letters) is ignored.

    >>> take_over_run("../*")  # (nothing: not a token)
    """
    if not (isinstance(token, str) and len(token) == RUN_TOKEN_LETTERS and all(c in _TEMP_LETTERS for c in token)):
        return
    adopt_run_token(token)
    _RUN["leftovers"] = True
    _remove_pipe_folders_of(token)


def _remove_pipe_folders_of(token: str) -> None:
    """Remove the dead run's pipe folders (``kernelcli-pipe-<token>-*`` in the temporary folder: a whole copy of
    its piped stdin, its stdout's stand-in), which nothing else would ever remove."""
    import shutil
    import tempfile

    from .naming import PIPE_FOLDER

    folder = tempfile.gettempdir()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(f"{PIPE_FOLDER}{token}-") and entry.is_dir(follow_symlinks=False):
            try:
                if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                pass


def temp_prefix(dest: Path) -> str:
    """``.<name>.<run>.`` (:func:`run_token`) with the name cut (at a character boundary) so that the temporary
    name fits in :data:`NAME_MAX` bytes.

    >>> len(temp_prefix(Path("x" * 255)).encode()) + 8 + len(PART_SUFFIX) <= NAME_MAX
    True
    """
    name = Path(dest).name
    room = NAME_MAX - _TEMP_EXTRA
    raw = os.fsencode(name)
    if len(raw) > room:
        name = os.fsdecode(raw[:room])
        while len(os.fsencode(name)) > room or name.endswith("\udcff"):
            name = name[:-1]
    return f".{name}.{run_token()}."


def temporary_folder_beside(dest: str | os.PathLike, folder: str | os.PathLike) -> str:
    """A new temporary folder (mode 0700) for ``dest``, a store such as ``.zarr``, in ``folder``: named as
    :func:`temporary_beside` names a file, so that this run's cleanup (:func:`remove_temporary_files_of`) and a
    run taking over a dead one's (:func:`take_over_run`) find it too.  OSError when the folder refuses it.

    >>> import tempfile, os
    >>> name = temporary_folder_beside("out.zarr", tempfile.mkdtemp())
    >>> os.path.isdir(name), os.path.basename(name).startswith(".out.zarr." + run_token()), name.endswith(PART_SUFFIX)
    (True, True, True)
    """
    prefix = os.path.join(folder, temp_prefix(Path(dest)))
    remove_leftovers(prefix)
    for _ in range(_TEMP_TRIES):
        name = prefix + _random_letters(8) + PART_SUFFIX
        try:
            os.mkdir(name, 0o700)
            return name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no unused name {prefix}*{PART_SUFFIX} after {_TEMP_TRIES} tries")


def remove_leftovers(prefix: str) -> None:
    """After :func:`take_over_run`: a dead process's half-written file (or store) of this output, removed."""
    if _RUN.get("leftovers"):
        import glob

        for leftover in glob.glob(f"{glob_escape(prefix)}*{PART_SUFFIX}"):
            _remove_temporary(Path(leftover))


def _remove_temporary(path: Path) -> bool:
    """Remove one temporary file, or a temporary store's folder with what it holds; False when it cannot be."""
    try:
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    except OSError:
        return False

#: tempfile.mkstemp's letters, flags and tries
_TEMP_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_TEMP_TRIES = 100


def new_file(prefix: str, suffix: str) -> tuple[int, str]:
    """A new file ``prefix`` + 8 random letters + ``suffix``, open (mode 0600): ``tempfile.mkstemp``'s
    way, without importing tempfile (and with it shutil, bz2, lzma and random: about 2 ms of a cold call)."""
    for _ in range(_TEMP_TRIES):
        name = prefix + _random_letters(8) + suffix
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no unused name {prefix}*{suffix} after {_TEMP_TRIES} tries")


def _random_letters(n: int) -> str:
    return "".join(_TEMP_LETTERS[b % len(_TEMP_LETTERS)] for b in os.urandom(n))


def temporary_files(dest: str | os.PathLike) -> list[Path]:
    """The temporary files (and stores' folders) a write to ``dest`` in this run may have left (``.<name>.<run>.*.part``
    beside it)."""
    d = Path(dest)
    try:
        return sorted(output_folder(d).glob(f"{glob_escape(temp_prefix(d))}*{PART_SUFFIX}"))
    except (OSError, ValueError):
        return []


def remove_temporary_files(dest: str | os.PathLike) -> int:
    """Remove what :func:`temporary_files` finds; return how many were removed."""
    return sum(_remove_temporary(tmp) for tmp in temporary_files(dest))


def remove_temporary_files_of(dests: Iterable[str | os.PathLike]) -> int:
    """:func:`remove_temporary_files` for many outputs (a batch's cleanup): this run's temporary files only (another
    run writing the same names keeps its own); each folder is listed once, not globbed once per output (2,000
    outputs in one folder took seconds).

    >>> remove_temporary_files_of([])
    0
    """
    prefixes: dict[Path, set[str]] = {}
    for dest in dests:
        d = Path(dest)
        try:
            prefixes.setdefault(output_folder(d), set()).add(temp_prefix(d))
        except (OSError, ValueError):
            continue
    removed = 0
    for folder, wanted in prefixes.items():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith(PART_SUFFIX):
                continue
            if any(c == "." and name[: i + 1] in wanted for i, c in enumerate(name)):
                removed += _remove_temporary(folder / name)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped.

    >>> glob_escape("a[1]*.png")
    'a[[]1[]][*].png'
    """
    return re.sub(r"([*?\[\]])", r"[\1]", name)
