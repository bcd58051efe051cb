"""A path that ends with ``/`` or ``/.`` names a folder (``cat a.png/`` fails so): the one rule, for the command line's
paths and the API's alike.

pathlib drops the ending, so ``Path("a.png/")`` is ``a.png``: a file read or written through such a name was read or
written in silence.  Only the text as given keeps the ending, so each reader and writer asks here before it makes a
Path of it (a Path given is taken as it is: it has no ending left).  Each caller raises its own kind of error: the
command line's parsers a bad value (exit 2), the API a UsageError, a kernel path an InvalidKernel.

Example
-------
>>> folder_ending("scans/"), folder_ending("scans/."), folder_ending("a.png")
('/', '/.', '')
>>> refuse_a_folder_named_output("out.npy/")
Traceback (most recent call last):
...
kernelcli.errors.UsageError: out.npy/ names a folder (it ends with '/'): expected a file name; give one in that folder (out.npy/NAME) or drop the '/'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import UsageError


def folder_ending(path: Any) -> str:
    """``'/'`` or ``'/.'`` where the text ``path`` ends so, else ``''`` (a Path, or anything else, has no ending left)."""
    if not isinstance(path, str):
        return ""
    return "/" if path.endswith("/") else "/." if path.endswith("/.") else ""


def refuse_a_file_named_as_folder(path: Any, error: type[Exception] = UsageError, *, home: bool = False) -> None:
    """Refuse (``error``) an input named with a folder's ending whose name is a file's: ``a.png/``, ``w.npy/.``.
    A folder so named is a folder: taken.  ``home``: ``~`` is expanded first (a kernel path's text).

    >>> import tempfile; folder = tempfile.mkdtemp(); open(folder + "/a.png", "wb").close()
    >>> refuse_a_file_named_as_folder(folder + "/"), refuse_a_file_named_as_folder(Path(folder) / "a.png")
    (None, None)
    >>> refuse_a_file_named_as_folder(folder + "/a.png/")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: .../a.png/ names a folder (it ends with '/'), but .../a.png is a file: drop the '/'
    """
    if not folder_ending(path):
        return
    file = named_file(path)
    ending = path[len(file):]
    if os.path.isfile(os.path.expanduser(file) if home else file):
        raise error(f"{path} names a folder (it ends with '{ending}'), but {file} is a file: drop the '{ending}'")


def refuse_a_folder_named_output(path: Any, error: type[Exception] = UsageError, *, expected: str = "a file name",
                                 example: str = "NAME", store: bool = False) -> None:
    """Refuse (``error``) a file to write (or, ``expected``, to read: a kernel file) named with a folder's ending, whether
    the folder exists or not: ``--report rep/`` wrote the file ``rep``.  ``example``: a name to give in that folder.
    ``store``: a Zarr store's name (``o.zarr/``) is a folder: taken.  (``rep/..`` is kept as it is: the output checks
    refuse a folder.)"""
    if not folder_ending(path) or (store and os.path.normpath(path).lower().endswith(".zarr")):
        return
    named = named_file(path)
    root = named in ("/", "/.")  # (the root itself: no name is left to keep, so no ending to drop)
    ending = folder_ending(path) if root else path[len(named):]
    drop = "" if root else f" or drop the '{ending}'"
    folder = "" if root else named
    raise error(f"{path} names a folder (it ends with '{ending}'): expected {expected}; give one in that folder "
                f"({folder}/{example}){drop}")


def named_file(path: str) -> str:
    """``path`` without its folder endings (every trailing ``/`` and ``/.``): the file it would name, as typed.

    >>> named_file("a.png/"), named_file("a.png/./"), named_file("./one.json/."), named_file("/."), named_file("//"), named_file("a/..")
    ('a.png', 'a.png', './one.json', '/.', '/', 'a/..')
    """
    file = path
    while True:
        if file.endswith("/") and file.rstrip("/"):
            file = file.rstrip("/")
        elif file.endswith("/.") and len(file) > 2:
            file = file[:-2]
        else:
            return "/" if file and not file.strip("/") else file  # ('//' is the root)
