"""The libraries the worker has loaded from outside the standard library, and where each came from.

A warm call runs on the modules the worker loaded; a fresh process would import its own, from its own import
path.  So a caller whose path finds another copy of one of them (a ``numpy.py`` in the folder of a
``python -m kernelcli``, another user site under another ``HOME``) runs its call itself (:meth:`Loaded.other_copy`),
and the worker watches every one of them for an upgrade or removal, not a fixed list (:meth:`Loaded.folders`,
:meth:`Loaded.files`).

Each top-level module is looked up as the import system's path finder would (the hooks of ``sys.path_hooks``,
entry by entry); a module found no such way (a name an extension registers, one an editable install's finder
gives) is left out.  What each path entry holds is kept while the entry's folder is unchanged (its inode and
modification time), so a call pays one ``stat`` per entry of its path.

>>> import json
>>> loaded = Loaded(["json"])  # (a module of the standard library, to show it: the worker takes every other one)
>>> loaded.other_copy(sys.path, os.getcwd()) is None
True
"""

from __future__ import annotations

import os
import sys

#: the path entries whose contents are kept at most
_MAX_ENTRIES = 256


#: kernelcli itself: the socket's name already says which copy a worker runs (:func:`.protocol.socket_path`)
_OURS = __name__.partition(".")[0]


def outside_stdlib() -> list[str]:
    """The top-level names of the modules this process has loaded that are not the standard library's (nor kernelcli).

    >>> "numpy" in outside_stdlib() or "numpy" not in sys.modules, "os" in outside_stdlib()
    (True, False)
    """
    return sorted({name.partition(".")[0] for name in list(sys.modules)} - set(sys.stdlib_module_names) - {"__main__", _OURS})


class Loaded:
    """The top-level modules ``names`` (default: :func:`outside_stdlib`) as this process loaded them."""

    def __init__(self, names: list[str] | None = None) -> None:
        self._entries: dict[str, tuple] = {}  # path entry -> (its folder's identity, {name: file found there})
        self.names: tuple[str, ...] = ()  # (those found by their path: _first needs them)
        candidates = {}
        for name in outside_stdlib() if names is None else names:
            file = getattr(sys.modules.get(name), "__file__", None)
            if file:
                candidates[name] = file
        self.names = tuple(candidates)
        found = self._first(sys.path, os.getcwd())
        #: name -> the file this process loaded it from, for the names its own path finds there
        self.loaded = {name: file for name, file in candidates.items() if _same(found.get(name), file)}
        self.names = tuple(self.loaded)

    def other_copy(self, path, cwd: str) -> str | None:
        """The first loaded module that import path ``path`` (relative entries from ``cwd``) finds elsewhere, or
        not at all; None when it finds every one where this process loaded it."""
        found = self._first(path, cwd)
        for name, file in self.loaded.items():
            if not _same(found.get(name), file):
                return name
        return None

    def folders(self) -> list[str]:
        """The top folder of each loaded package (its ``__init__``'s folder)."""
        return sorted({os.path.realpath(os.path.dirname(f)) for f in self.loaded.values() if _is_package(f)})

    def files(self) -> list[str]:
        """The file of each loaded top-level module that is no package (``six.py``, ``_cffi_backend.*.so``)."""
        return sorted(os.path.realpath(f) for f in self.loaded.values() if not _is_package(f))

    def _first(self, path, cwd: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in path:
            for name, file in self._held(os.path.join(cwd, entry) if entry != "" else cwd).items():
                found.setdefault(name, file)
        return found

    def _held(self, entry: str) -> dict[str, str]:
        """What path entry ``entry`` holds of :attr:`names`, as the import system would find it there."""
        try:
            st = os.stat(entry)
        except OSError:
            return {}
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        kept = self._entries.get(entry)
        if kept is not None and kept[0] == key:
            return kept[1]
        if len(self._entries) >= _MAX_ENTRIES:  # (a long-lived worker called from many folders)
            self._entries.clear()
        finder = _finder(entry)
        held = {}
        for name in self.names if finder is not None else ():
            try:
                spec = finder.find_spec(name)
            except (ImportError, OSError, ValueError):
                spec = None
            if spec is not None and spec.loader is not None and spec.origin:  # (a namespace portion gives way)
                held[name] = spec.origin
        self._entries[entry] = (key, held)
        return held


def file_stamps(files: list[str]) -> tuple:
    """The device, inode, size and modification time of each file (None for one gone): a file rewritten, replaced
    or removed gives another stamp.

    >>> file_stamps(["/nonexistent.py"])
    (None,)
    """
    found = []
    for file in files:
        try:
            st = os.stat(file)
        except OSError:
            found.append(None)
        else:
            found.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(found)


def _finder(entry: str):
    for hook in sys.path_hooks:
        try:
            return hook(entry)
        except ImportError:
            continue
    return None


def _is_package(file: str) -> bool:
    return os.path.basename(file).partition(".")[0] == "__init__"


def _same(found: str | None, loaded: str) -> bool:
    return found is not None and (found == loaded or os.path.realpath(found) == os.path.realpath(loaded))
