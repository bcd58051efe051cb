"""One exception family for kernelcli; the CLI maps each class to an exit code.

Every error carries a one-line message that names the file, field or value and
what was expected.  The exit codes follow the project's fault catalogue:

====  ==========================================================
code  meaning
====  ==========================================================
0     everything succeeded
1     one or more items failed while running; the rest completed
2     usage error (bad option value, missing path, nothing matched)
3     invalid kernel (file or name), found before any image is read
4     refused to write (output exists, output is an input, ...)
70    internal error (a bug); the message says how to report it
129   hung up (SIGHUP): cleaned up like Ctrl-C
130   interrupted (Ctrl-C)
143   terminated (SIGTERM, ``kill``, ``timeout``): cleaned up like Ctrl-C
====  ==========================================================

Example
-------
>>> raise InvalidKernel("k.json: kernels[0].matrix: row 2 has 1 value, expected 3")
Traceback (most recent call last):
...
kernelcli.errors.InvalidKernel: k.json: kernels[0].matrix: row 2 has 1 value, expected 3
"""

from __future__ import annotations

import _signal  # (not the signal module: its enums cost a call's start more than the call)
import contextlib
from collections.abc import Callable

EXIT_OK = 0
EXIT_ITEM_FAILED = 1
EXIT_USAGE = 2
EXIT_KERNEL = 3
EXIT_REFUSED = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_HANGUP = 129  # 128 + SIGHUP
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Python is so that it unwinds like Ctrl-C: temporary
    files are removed, workers stopped, the report of what finished written; the exit code
    is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum
        self.exit_code = 128 + signum


def stop_of(signum: int) -> KeyboardInterrupt:
    """The exception a stop signal raises in the call's code: Ctrl-C's KeyboardInterrupt, else :class:`Interrupted`.

    >>> stop_of(15).exit_code, type(stop_of(2)).__name__
    (143, 'KeyboardInterrupt')
    """
    return KeyboardInterrupt() if signum == _signal.SIGINT else Interrupted(signum)


def interrupt_exit_code(exc: BaseException) -> int:
    """128 + the signal for :class:`Interrupted`, 130 for a plain Ctrl-C."""
    return getattr(exc, "exit_code", EXIT_INTERRUPTED)


class KernelcliError(Exception):
    """Base of every error kernelcli raises on purpose."""

    exit_code = EXIT_USAGE

    def __reduce__(self) -> tuple:
        # A batch's worker process sends its refusal back pickled.  Exception's own pickling calls the class with its
        # message alone, which a refusal whose __init__ takes its parts (KernelTextRefused: spec, why) cannot take:
        # the pool broke.  Rebuilt instead from the message and the attributes, as they were.
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type, args: tuple, state: dict) -> BaseException:
    """An error unpickled: its message and attributes as they were, without calling its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(KernelcliError, ValueError):
    """A bad option value, parameter or combination of them."""

    exit_code = EXIT_USAGE


class ShapeError(UsageError):
    """Sizes that do not fit: an output below 1, mismatched shapes."""


class InputError(KernelcliError):
    """An input path that is missing, not a regular file, or cannot be read."""

    exit_code = EXIT_USAGE


class ImageReadError(InputError):
    """An input file whose content cannot be decoded (garbage, truncated, bomb)."""


class InvalidKernel(KernelcliError, ValueError):
    """A kernel file or kernel spec that fails validation."""

    exit_code = EXIT_KERNEL


class KernelNotFound(InvalidKernel):
    """A kernel name that is in no catalogue folder."""


class OutputRefused(KernelcliError):
    """Writing would overwrite an input or an existing output, or collide."""

    exit_code = EXIT_REFUSED


class WriteError(KernelcliError):
    """Writing an output failed (disk full, permissions, unsupported format)."""

    exit_code = EXIT_ITEM_FAILED


class StdoutError(WriteError):
    """stdout could not take the result (a full disk: ``kernelcli shape ... >/dev/full``): an
    output that cannot be written, exit 1, as a file's; a closed pipe is ``BrokenPipeError``.

    >>> str(StdoutError.of(OSError(28, "No space left on device")))
    'stdout: cannot write: No space left on device'
    """

    @classmethod
    def of(cls, exc: OSError) -> StdoutError:
        return cls(f"stdout: cannot write: {exc.strerror or exc}")


#: checks run before anything is written on stdout; :mod:`kernelcli.io.outputs` adds its own (a stdout that is a file
#: the call reads), a layer above this one
BEFORE_STDOUT: list[Callable[[], None]] = []


@contextlib.contextmanager
def writing_stdout():
    """Around code that writes on stdout (rich's Console and a pipe's copy included): a stdout that
    cannot take it (a full disk) is a :class:`StdoutError`, exit 1; a closed pipe stays ``BrokenPipeError``;
    :data:`BEFORE_STDOUT`'s checks run first (a stdout that is a file this call reads is refused).

    >>> with writing_stdout():
    ...     raise OSError(28, "No space left on device")
    Traceback (most recent call last):
    ...
    kernelcli.errors.StdoutError: stdout: cannot write: No space left on device
    >>> with writing_stdout():
    ...     "ö3.png".encode("ascii")
    Traceback (most recent call last):
    ...
    kernelcli.errors.StdoutError: stdout: cannot write: its encoding (ascii) cannot carry '\\xf6'; give it one that can (PYTHONIOENCODING=utf-8)
    """
    for check in BEFORE_STDOUT:
        check()
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StdoutError.of(exc) from None
    except UnicodeEncodeError as exc:  # (PYTHONIOENCODING=ascii and a file named ö.png: escaped, it would name no file)
        what = exc.object[exc.start : exc.end]
        raise StdoutError(f"stdout: cannot write: its encoding ({exc.encoding}) cannot carry {ascii(what)}; "
                          "give it one that can (PYTHONIOENCODING=utf-8)") from None


class MissingExtra(KernelcliError):
    """An optional dependency (an extra such as ``kernelcli[medical]``) is absent."""

    exit_code = EXIT_USAGE
