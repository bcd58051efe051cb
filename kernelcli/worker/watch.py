"""The worker watches its own code on disk (Linux inotify), so that a client need not stamp it.

A call may run in the worker only while the worker's code is what is on disk.  The client
used to prove it by stamping every file of the package (size and time: some 150 ``stat``
calls and a checksum, 2.2-2.6 ms of a 33 ms warm ``shape -q``).  Now the worker holds an
inotify watch on every folder of its code (:func:`kernelcli.worker.protocol.code_dirs`),
made before its own stamp is taken, and reads the pending events when a call comes: the
kernel queues an event while the write that caused it runs, so a change made before the
client connected is seen.  Where inotify is missing (another system, no watches left)
:func:`start` returns None and the worker stamps the files itself on each call.

inotify follows a folder, not its path: a folder *above* the package renamed away and another put
at its path (a release-style swap, ``mv app app.old && mv app.new app``; a virtual environment
rebuilt beside and renamed into place) sends no event, and the new folders were never watched.
So the worker also keeps the identity (device, inode) of its package folder and of each library's
top folder, taken before it loads their code (one taken after would vouch for a folder swapped in while it
loaded), and compares it on each call (:func:`identities`: one ``stat`` a folder).

Events that change no code are ignored: Python writing ``__pycache__``, files that are not
``.py`` or ``.json`` (an editor's swap file).  Anything else -- a code file written, touched,
created, removed or renamed, a folder made or gone, a lost event -- counts, for good.

>>> import pathlib, tempfile
>>> folder = tempfile.mkdtemp()
>>> seen = start([folder])
>>> _ = pathlib.Path(folder, "__pycache__").mkdir(), pathlib.Path(folder, "notes.txt").write_text("")
>>> seen is None or not seen.changed()
True
>>> _ = pathlib.Path(folder, "new.py").write_text("")
>>> seen is None or seen.changed()
True
"""

from __future__ import annotations

import os
import sys

#: inotify's event bits (``<sys/inotify.h>``)
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
IN_ONLYDIR, IN_ISDIR = 0x01000000, 0x40000000
#: what is watched in each folder
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#: suffixes of the files that are code (as :func:`kernelcli.worker.protocol.code_stamp` counts them)
CODE_SUFFIXES = (".py", ".json")
_HEADER = 16  # struct inotify_event: int wd; uint32 mask, cookie, len; then the name


class CodeWatch:
    """An inotify descriptor watching folders of code; :meth:`changed` tells whether any changed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._changed = False

    def changed(self) -> bool:
        """True once any code file or folder under watch has changed (read from pending events)."""
        while not self._changed:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                self._changed = True  # cannot tell any more: say changed
                break
            self._changed = any(relevant(mask, name) for mask, name in events(data))
        return self._changed

    def close(self) -> None:
        os.close(self.fd)


def events(data: bytes) -> list[tuple[int, str]]:
    """The (mask, name) of each ``struct inotify_event`` in ``data`` (name "" for the folder itself).

    >>> field = lambda v: v.to_bytes(4, sys.byteorder)
    >>> events(field(1) + field(IN_MODIFY) + field(0) + field(8) + b"a.py\\0\\0\\0\\0")
    [(2, 'a.py')]
    """
    found = []
    at = 0
    while at + _HEADER <= len(data):
        mask = int.from_bytes(data[at + 4 : at + 8], sys.byteorder)  # the kernel's own byte order
        size = int.from_bytes(data[at + 12 : at + 16], sys.byteorder)
        name = data[at + _HEADER : at + _HEADER + size].split(b"\0", 1)[0]
        found.append((mask, os.fsdecode(name)))
        at += _HEADER + size
    return found


def relevant(mask: int, name: str) -> bool:
    """Whether an event can mean other code: a code file's, a folder's (but ``__pycache__``), or
    one of the watched folder itself or of the queue (gone, moved, events lost).

    >>> relevant(IN_CREATE | IN_ISDIR, "__pycache__"), relevant(IN_CLOSE_WRITE, "x.py.swp"), relevant(IN_MODIFY, "api.py")
    (False, False, True)
    """
    if not name:
        return bool(mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW | IN_IGNORED))
    if mask & IN_ISDIR:
        return name != "__pycache__"
    return name.endswith(CODE_SUFFIXES)


def identities(folders: list[str]) -> tuple:
    """The (device, inode) of each folder at its path now (None for one gone): a folder renamed away
    and replaced by another at the same path gives another identity.

    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "code")
    >>> os.mkdir(folder); before = identities([folder])
    >>> os.rename(folder, folder + ".old"); os.mkdir(folder)
    >>> identities([folder]) == before, identities([folder + "/gone"])
    (False, (None,))
    """
    found = []
    for folder in folders:
        try:
            st = os.stat(folder)
        except OSError:
            found.append(None)
        else:
            found.append((st.st_dev, st.st_ino))
    return tuple(found)


def start(folders: list[str]) -> CodeWatch | None:
    """A watch on ``folders`` (each folder itself, not below it), or None where inotify cannot be used."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
    fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return None
    for folder in folders:
        if add(fd, os.fsencode(folder), MASK) < 0:
            os.close(fd)
            return None
    return CodeWatch(fd)
