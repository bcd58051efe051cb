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
    _ending.clear()


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


def put_back(sig: int, handler) -> None:
    """Give ``sig`` back its ``handler`` as a call ends (in-process: :func:`kernelcli.cli.main`, the command's
    :func:`kernelcli.cli._signals.give_back_ending_signals`).  Where a kept stop holds SIGALRM until it is raised
    again (:func:`_keep_stop`), ``handler`` is the one that stop puts back: put back now, its alarm, still to come,
    would end the process.

    >>> put_back(signal.SIGUSR2, signal.getsignal(signal.SIGUSR2))
    """
    if sig == signal.SIGALRM and _alarm_handler and signal.getsignal(sig) is _raise_pending:
        _alarm_handler[:] = [handler]
        return
    signal.signal(sig, handler)


def kept_alarm_handler():
    """SIGALRM's handler once a kept stop waiting to be raised again has put it back (:func:`_keep_stop`), else
    None (SIGALRM is not held).

    >>> kept_alarm_handler() is None
    True
    """
    if _alarm_handler and signal.getsignal(signal.SIGALRM) is _raise_pending:
        return _alarm_handler[0]
    return None


def _raise_pending(_signum, _frame) -> None:
    if _alarm_handler:
        signal.signal(signal.SIGALRM, _alarm_handler.pop())
    if _pending:
        stop = _pending.pop()
        raise stop.with_traceback(None)


#: the signals whose default action ends the process and that Python leaves at that default: a call takes them while
#: it runs (:func:`kernelcli.cli._signals.install_signal_handlers`) so that its temporary files go before the process
#: ends of them, as it would have (audit 232 #3: ``timeout -s ALRM`` left a 100 MB ``.part`` for good; review 250 #1:
#: SIGXCPU, a soft CPU limit's, ``ulimit -St`` or a batch scheduler's, left it too).  SIGQUIT (Ctrl-\) is left alone:
#: it asks for a core dump of the call where it stands, which a handler would move
ENDING = tuple(getattr(signal, name) for name in ("SIGALRM", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGPROF", "SIGIO",
                                                  "SIGPWR", "SIGSTKFLT", "SIGXCPU") if hasattr(signal, name)) + (
    tuple(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)) if hasattr(signal, "SIGRTMIN") else ())

#: the ending signals received (:data:`ENDING`), in order; the process ends of the first
_ending: list[int] = []


def end_by(signum: int) -> None:
    """Remember that ``signum``, one of :data:`ENDING`, arrived: the process is to end of it (:func:`ending`)."""
    _ending.append(signum)


def ending() -> int | None:
    """The ending signal the process is to end of once its call is cleaned up (:func:`end_now`), or None.

    >>> ending() is None
    True
    """
    return _ending[0] if _ending else None


def end_now(signum: int) -> None:
    """End the process of ``signum`` as its default action would, its own last act: the caller sees the status it
    would have seen without kernelcli's handler (``$?`` 128 + N, killed by N), the ``atexit`` functions run first."""
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    signal.raise_signal(signum)
    os._exit(128 + signum)  # (not reached: the default action ends the process)


def silence_stdio() -> None:
    """Point this process's stdout and stderr at /dev/null: the call ends as a process killed then would, saying
    nothing more (its "terminated" line named a stop nobody asked it to say; audit 162 #2, 232 #3)."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for fd in (1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


def signal_name(signum: int) -> str:
    """The name of signal ``signum`` ("SIGTERM"), or "signal N" for one this system does not name.

    >>> signal_name(15), signal_name(99)
    ('SIGTERM', 'signal 99')
    """
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
