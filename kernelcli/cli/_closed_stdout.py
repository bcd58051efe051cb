"""A stdout closed when Python started (``kernelcli ... >&-``): an output that cannot be written.

Python then sets ``sys.stdout`` to None, and ``print`` to None writes nothing and succeeds:
``kernelcli shape ... >&-`` exited 0 with its answer lost, while rich, click and ``-o -``
met None and crashed (exit 70).  :func:`stand_in` replaces that None, once per call, by
:class:`ClosedStdout`, whose writes raise ``OSError(EBADF)`` as a descriptor closed later
would: every command that prints then says ``error: stdout: cannot write: Bad file
descriptor`` and exits 1 (:func:`kernelcli.errors.writing_stdout`), as on a full disk, and
a command that prints nothing (``convolve ... -o out.png -q``) still succeeds.

>>> stream = ClosedStdout()
>>> stream.write("")
0
>>> stream.write("20\\n")
Traceback (most recent call last):
...
OSError: [Errno 9] Bad file descriptor
"""

from __future__ import annotations

import errno
import io
import os
import sys


def _closed() -> OSError:
    return OSError(errno.EBADF, os.strerror(errno.EBADF))


class _ClosedBuffer(io.RawIOBase):
    """``ClosedStdout.buffer``: the bytes side (``-o -`` copies an image through it)."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not len(data):
            return 0
        raise _closed()


class ClosedStdout(io.TextIOBase):
    """Stands for a stdout that was closed at start: writing anything raises ``OSError(EBADF)``;
    flushing has nothing to send; ``fileno`` raises (descriptor 1 may belong to another file by now)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self) -> None:
        super().__init__()
        self.buffer = _ClosedBuffer()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise _closed()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def stand_in() -> None:
    """Replace a ``sys.stdout`` that Python set to None (descriptor 1 closed at start) by
    :class:`ClosedStdout`; a no-op otherwise."""
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
