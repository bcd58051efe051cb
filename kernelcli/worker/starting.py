"""The marker a starting worker leaves beside its socket, ``<socket>.starting``, until it listens.

A worker warms up (on a first start after an install it compiles the numeric core: minutes on a busy machine)
before it binds its socket, so the socket alone cannot show it: the marker holds its pid, the process's own start
time (which tells it from a later process given the same pid), when it was started and where its log begins.
``worker status`` reports it, ``worker stop`` ends it and a second ``worker start`` waits on it rather than start a
second compile.  The worker removes the marker once it listens; one whose pid is dead or another process is stale.

>>> import tempfile
>>> sock = os.path.join(tempfile.mkdtemp(), "w.sock")
>>> record(sock, os.getpid(), sock + ".log", 0), record(sock, os.getpid(), sock + ".log", 0)
(True, False)
>>> read(sock).pid == os.getpid()
True
>>> forget(sock, os.getpid()); read(sock) is None
True
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from .. import records

#: what a worker's log says while the core compiles (:func:`kernelcli.jitcache.announce_compiling`)
COMPILING = "kernelcli: compiling "


@records.record(frozen=True)
class Starting:
    """A worker that was started and does not listen yet."""

    pid: int
    started: float  # time.time() when it was started
    ticks: int | None  # its start time in clock ticks after boot (/proc/PID/stat), None where unknown
    log: str
    logged_from: int  # where its lines begin in the log (which holds earlier workers' lines too)

    @property
    def seconds(self) -> float:
        """How long ago it was started."""
        return max(0.0, time.time() - self.started)

    def compiling(self) -> bool:
        """True when its log says that it compiles the core."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.logged_from)
                return COMPILING.encode() in f.read(1 << 20)
        except OSError:
            return False

    def alive(self) -> bool:
        """True while its process runs (not a zombie) and is the one recorded, not a later one given its pid."""
        return _alive(self.pid, self.ticks)


def marker(path) -> str:
    """The marker of the worker starting on socket ``path``."""
    return f"{os.fspath(path)}.starting"


def record(path, pid: int, log: str, logged_from: int) -> bool:
    """Leave the marker of worker ``pid`` started on ``path``; False (nothing written) when another start left its
    marker first.  Written whole to a temporary file and linked into place: no reader sees half of it, and of two
    starts at once only one links."""
    where = marker(path)
    temporary = f"{where}.{os.getpid()}.tmp"
    entry = {"pid": pid, "started": time.time(), "ticks": _ticks(pid), "log": log, "logged_from": logged_from}
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # (one left by a killed start of this pid's)
    try:
        fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(entry, f)
        os.link(temporary, where)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return True


def read(path) -> Starting | None:
    """The worker starting on ``path``, or None; a stale marker (its pid dead or another process, or unreadable:
    an older kernelcli's empty one) is removed."""
    where = marker(path)
    try:
        with open(where, "rb") as f:
            inode = os.fstat(f.fileno()).st_ino
            entry = json.loads(f.read() or b"null")
        found = Starting(int(entry["pid"]), float(entry["started"]), entry["ticks"], str(entry["log"]),
                         int(entry["logged_from"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError):
        found = None
    if found is not None and found.alive():
        return found
    with contextlib.suppress(OSError):
        if os.stat(where).st_ino == inode:  # (not a marker another start has linked since)
            os.unlink(where)
    return None


def forget(path, pid: int) -> None:
    """Remove the marker of worker ``pid`` (it listens now, or was ended); another worker's is left."""
    where = marker(path)
    try:
        with open(where, "rb") as f:
            if json.loads(f.read() or b"null")["pid"] != pid:
                return
    except FileNotFoundError:
        return
    except (OSError, ValueError, TypeError, KeyError):
        pass  # unreadable: stale, whoever left it
    with contextlib.suppress(FileNotFoundError):
        os.unlink(where)


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command's name (the state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None  # (field 22, starttime)
    except (IndexError, ValueError):
        return None


def _alive(pid: int, ticks: int | None) -> bool:
    """True when process ``pid`` runs, is not a zombie and started at ``ticks`` (where /proc tells)."""
    fields = _stat_fields(pid)
    if fields is None:
        if os.path.isdir("/proc/self"):  # /proc there and no entry: gone
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's: not our worker
            return False
        return True
    if fields[0] == b"Z":
        return False
    return ticks is None or _ticks(pid) == ticks
