"""A call's first visible effect, told to its client before it happens; the client's death, seen by the call.

The client runs a call again itself when the call's process dies without an exit code (a
worker stopped under it, say).  That is right only while the call has shown nothing: once it
has written to stdout or stderr, or put an output file in place, a second run would repeat the
output (a second copy on stdout) or refuse its own file ("already exists").  So the call's
process sends ``{"committed": True}`` on the connection just before its first such effect
(:class:`Commit`): on stdout and stderr through :class:`FirstWrite`, for files through
:data:`kernelcli.io.outputs.BEFORE_PUBLISH`; a client that has seen it reports the death
instead of running the call again.  And when the client dies (SIGKILL, an out-of-memory
kill), nobody reads the call's output any more: :func:`watch_client` stops the call as a
SIGTERM would stop a process of its own (temporary files removed, nothing published), silently.

Example
-------
>>> import socket
>>> a, b = socket.socketpair()
>>> commit = Commit(a)
>>> commit(); commit()
>>> from kernelcli.worker import protocol
>>> protocol.receive(b)
{'committed': True}
>>> a.close(); b.close()
"""

from __future__ import annotations

import io
import os
import select
import signal
import socket
import threading

from ..stops import forsake, silence_stdio
from . import protocol


class Commit:
    """Send ``{"committed": True}`` on ``conn`` the first time it is called (later calls do nothing)."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.told = False

    def __call__(self) -> None:
        if self.told:
            return
        self.told = True
        try:
            protocol.send(self.conn, {"committed": True})
        except OSError:  # the client is gone: nothing to tell
            pass


class FirstWrite(io.RawIOBase):
    """Descriptor ``fd`` as a raw stream that calls ``commit`` before its first write (the descriptor stays open)."""

    def __init__(self, fd: int, commit) -> None:
        super().__init__()
        self.fd = fd
        self.commit = commit

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def write(self, data) -> int | None:
        if len(data):
            self.commit()
        try:
            return os.write(self.fd, data)
        except BlockingIOError:  # a non-blocking descriptor that is full: None, as FileIO says it
            return None


def watch_client(conn, finished: threading.Event) -> None:
    """In a daemon thread: when the client's end of ``conn`` closes before the call has ``finished``,
    send this process SIGTERM (the call then ends as a process of its own would, exit 143)."""

    def wait() -> None:
        # poll, not a blocking recv: the connection may carry a timeout, which is no sign of the client's end
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        while not finished.is_set():
            events = poller.poll(1000)
            if not events:
                continue
            if any(flags & (select.POLLHUP | select.POLLERR) for _, flags in events):
                break
            try:
                if not conn.recv(64, socket.MSG_DONTWAIT):  # the client sends nothing more: only its end comes
                    break
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                break
        if not finished.is_set():
            forsake()  # (no --report: nothing is published for a caller that is gone)
            silence_stdio()  # the caller is gone, as a process killed with it would be: nothing more reaches its terminal
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait, name="kernelcli-client-watch", daemon=True).start()
