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
    ending = folder_ending(path)
    if not ending:
        return
    file = path[:-len(ending)].rstrip("/") or ("/" if path.startswith("/") else ".")  # (named as typed: './one.json')
    if os.path.isfile(os.path.expanduser(file) if home else file):
        raise error(f"{path} names a folder (it ends with '{ending}'), but {file} is a file: drop the '{ending}'")


def refuse_a_folder_named_output(path: Any, error: type[Exception] = UsageError, *, expected: str = "a file name",
                                 example: str = "NAME", store: bool = False) -> None:
    """Refuse (``error``) a file to write (or, ``expected``, to read: a kernel file) named with a folder's ending, whether
    the folder exists or not: ``--report rep/`` wrote the file ``rep``.  ``example``: a name to give in that folder.
    ``store``: a Zarr store's name (``o.zarr/``) is a folder: taken.  (``rep/..`` is kept as it is: the output checks
    refuse a folder.)"""
    ending = folder_ending(path)
    if not ending or (store and os.path.normpath(path).lower().endswith(".zarr")):
        return
    named = path[:-len(ending)]
    folder = named.rstrip("/") or ("/" if path.startswith("/") else ".")
    drop = f" or drop the '{ending}'" if named else ""  # (not of '/' itself)
    raise error(f"{path} names a folder (it ends with '{ending}'): expected {expected}; give one in that folder "
                f"({folder.rstrip('/')}/{example}){drop}")
