"""Stops that Python would lose: one raised where exceptions are ignored, one replaced by another error.

Python runs a signal handler between two bytecodes of whatever runs at that moment.  When that is
a weakref callback (an import runs one as it releases its module lock) or a ``__del__``, the
exception the handler raises -- Ctrl-C's KeyboardInterrupt, the :class:`~kernelcli.errors.Interrupted`
of SIGTERM and SIGHUP, a batch worker's SystemExit -- is "unraisable": Python prints "Exception
ignored in ... Traceback" and drops it, and the program goes on.  A ``kernelcli`` call stopped that
way finished its work and exited 0, a traceback on stderr, deaf to further SIGTERMs.

:func:`raise_lost_stops` installs a ``sys.unraisablehook`` that keeps such a stop and raises it
again 1 ms later (SIGALRM) from wherever the main thread is then (again, if that too is a
callback); anything else goes to Python's own hook.  SIGALRM is taken only while such a stop waits: one sent
from outside (``timeout -s ALRM``) ends the process as it ends a fresh one.  Not on Windows (no ``setitimer``).

A stop can also be replaced: a signal that lands while a C extension imports a module (numpy's
``PyCapsule_Import`` of ``datetime``) becomes that extension's ImportError, the stop itself dropped.
The signal handlers note each stop (:func:`note`), and the command line reads :func:`received` to
report such an error as the stop it was, with the stop's exit code, not as a bug.

>>> raise_lost_stops()
>>> sys.unraisablehook is _keep_stop
True
>>> sys.unraisablehook = sys.__unraisablehook__
"""

from __future__ import annotations

import _thread
import signal
import sys

from .errors import stop_of

#: the stop waiting to be raised again, and the thread signal handlers run in
_pending: list[BaseException] = []
_main_thread: int | None = None
#: the stop signals received, in order
_received: list[int] = []


def forget() -> None:
    """Start a call with no stop received (a process may run several: tests, the worker's replays)."""
    _received.clear()


#: set when the call's caller is gone (a worker's client killed by a signal it cannot pass on, SIGKILL); for the
#: process: a worker runs each call in a process of its own
_forsaken: list[bool] = []


def forsake() -> None:
    """Remember that the caller is gone: the call stops as a process killed with it would have, publishing nothing
    more, its ``--report`` included (audit 162 #2: a report said "terminated (SIGTERM)", a signal nobody sent)."""
    _forsaken.append(True)


def forsaken() -> bool:
    """Whether the caller is gone (:func:`forsake`).

    >>> forsaken()
    False
    """
    return bool(_forsaken)


def note(signum: int) -> None:
    """Remember that stop signal ``signum`` arrived (called by the handlers, before they raise)."""
    _received.append(signum)


def received() -> int | None:
    """The first stop signal this process received, or None.

    >>> received() is None
    True
    """
    return _received[0] if _received else None


def replaced_stop() -> KeyboardInterrupt | None:
    """The stop a received signal made (:func:`received`): what an exception raised since then may have replaced
    (Ctrl-C's KeyboardInterrupt, SIGTERM's and SIGHUP's :class:`~kernelcli.errors.Interrupted`), else None; read
    before an exception we did not expect is called a bug.

    >>> replaced_stop() is None
    True
    """
    signum = received()
    if signum is None:
        return None
    return stop_of(signum)


def stop_replaced_by(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop (:func:`replaced_stop`) that ``exc`` stands for, else None: the one rule of every path (one input,
    its ``--report``, a batch's files).  Any Exception raised after a stop signal arrived may be the error an
    extension's import replaced the stop by (its ImportError, or ours where a reader wrapped it); a MemoryError (or
    the :class:`~kernelcli.limits.OutOfMemory` that says it) is no such replacement (it says the file's memory), and a
    stop or exit is itself.

    >>> stop_replaced_by(ImportError("datetime")) is None  # (no signal received)
    True
    """
    from .limits import OutOfMemory

    if not isinstance(exc, Exception) or isinstance(exc, (MemoryError, OutOfMemory)):
        return None
    return replaced_stop()


def raise_lost_stops() -> None:
    """Install the hook (call it from the main thread: the one a kept stop is raised again in)."""
    global _main_thread
    if not hasattr(signal, "setitimer"):
        return
    _main_thread = _thread.get_ident()
    sys.unraisablehook = _keep_stop


#: SIGALRM's handler before :func:`_keep_stop` took it, put back as the stop is raised again
_alarm_handler: list = []


def _keep_stop(unraisable) -> None:
    stop = unraisable.exc_value
    if isinstance(stop, (SystemExit, KeyboardInterrupt)) and _thread.get_ident() == _main_thread:
        # SIGALRM is ours only while a stop waits: held for a whole call, it swallowed an outside one (``timeout -s
        # ALRM``), which ends a fresh process and a warm call's client (audit 220 #2)
        if not _alarm_handler:
            before = signal.signal(signal.SIGALRM, _raise_pending)
            _alarm_handler.append(signal.SIG_DFL if before is None else before)  # (None: one set outside Python)
        _pending[:] = [stop]
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    sys.__unraisablehook__(unraisable)


def _raise_pending(_signum, _frame) -> None:
    if _alarm_handler:
        signal.signal(signal.SIGALRM, _alarm_handler.pop())
    if _pending:
        stop = _pending.pop()
        raise stop.with_traceback(None)


def signal_name(signum: int) -> str:
    """The name of signal ``signum`` ("SIGTERM"), or "signal N" for one this system does not name.

    >>> signal_name(15), signal_name(99)
    ('SIGTERM', 'signal 99')
    """
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
