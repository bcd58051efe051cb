"""Stops while a call starts: SIGTERM, SIGHUP and Ctrl-C before any command's own handlers are installed.

From the call's first line (:func:`stops_unwind`) until a command takes the call
(:func:`kernelcli.cli._signals.install_signal_handlers` replaces these handlers), Python is
still importing what the call needs.  A stop there raises as Ctrl-C does, so the call says it
(:func:`say_stopped`: one error line, the ``--json`` record, exit 130/143/129) where SIGTERM and
SIGHUP killed the process with nothing printed.  The first stop is the one said: any later one
is remembered and dropped.  Each is remembered (:data:`EARLY_STOPS`), because one that lands
inside an import can come out as that import's own error (:func:`early_stop`).  Imports
nothing but the interpreter's built-in ``_signal`` and ``sys``: the worker's client runs here.

Example
-------
>>> stops_unwind(); early_stop() is None
True
"""

from __future__ import annotations

import _signal  # not the signal module: its enums cost a short call more than the call
import sys

#: the stops a call turns into an exit code besides Ctrl-C's
_STOPS = tuple(getattr(_signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(_signal, n))

#: the stop signals this call received before its own handlers took over, in the order they were handled
EARLY_STOPS: list[int] = []


def stops_unwind() -> None:
    """Make SIGTERM and SIGHUP unwind like Ctrl-C from the call's first line: they raise
    :class:`kernelcli.errors.Interrupted` (exit 143 / 129), which :func:`kernelcli.cli._call` says as it says a
    Ctrl-C there (audit 150 #2).  An ignored one stays ignored (``nohup``).  A call run in a process that stopped
    an earlier one (:func:`kernelcli.cli.main` in-process) starts with none remembered."""
    EARLY_STOPS.clear()
    try:
        for sig in _STOPS:
            if _signal.getsignal(sig) in (_signal.SIG_DFL, _stop_early):
                _signal.signal(sig, _stop_early)
        if _signal.getsignal(_signal.SIGINT) in (_signal.default_int_handler, interrupt_early):
            _signal.signal(_signal.SIGINT, interrupt_early)
    except (ValueError, OSError):  # not the main thread
        return


def _stop_early(signum: int, _frame) -> None:
    EARLY_STOPS.append(signum)
    if len(EARLY_STOPS) == 1:  # (a second stop while the first unwinds or is said: remembered, not raised there)
        from ..errors import Interrupted  # (here: the worker's client imports nothing it does not need)

        raise Interrupted(signum)


def interrupt_early(signum: int, frame) -> None:
    """Ctrl-C before the call's own handlers: Python's (KeyboardInterrupt), the stop remembered first; a stop
    after another is remembered alone (:func:`_stop_early`)."""
    EARLY_STOPS.append(signum)
    if len(EARLY_STOPS) == 1:
        _signal.default_int_handler(signum, frame)


def early_stop() -> KeyboardInterrupt | None:
    """The stop the first early signal made (:func:`stops_unwind`), or None: what an error raised since may stand
    for."""
    if not EARLY_STOPS:
        return None
    from ..errors import stop_of

    return stop_of(EARLY_STOPS[0])


def say_stopped(argv: list[str], stop: KeyboardInterrupt) -> None:
    """Say ``stop``, which ended the call before any command took it, and exit with its code, as a fresh process says
    it (:func:`kernelcli.cli._before.interrupted`); where this process cannot (the stop broke a module it imports:
    "module 'collections' has no attribute 'abc'"), a fresh process says it in its place (:func:`_said_afresh`)."""
    if not EARLY_STOPS:  # (a stop not from these handlers: later ones are dropped from here on, as after these)
        EARLY_STOPS.append(getattr(stop, "signum", _signal.SIGINT))
    try:
        from ._before import interrupted

        code = interrupted(argv, stop)
    except Exception:  # noqa: BLE001 - this interpreter's imports are broken: a new one's are not
        _said_afresh(argv, getattr(stop, "signum", _signal.SIGINT))
    sys.exit(code)


def _said_afresh(argv: list[str], signum: int) -> None:
    """Replace this process by a fresh interpreter that says the stop (``os.execv``: the same pid, streams and exit
    code).  Its stops are ignored (a handler does not outlive ``execv``; an ignored signal does): nothing but SIGKILL
    ends it while it writes one line.  It runs isolated from the working folder (``-P``: a ``signal.py`` or
    ``json.py`` there is not imported in the standard module's place) with this interpreter's other flags."""
    import os

    for sig in (*_STOPS, _signal.SIGINT):
        _signal.signal(sig, _signal.SIG_IGN)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        os.execv(sys.executable, [sys.executable, *_flags(), "-P", "-c", _SAY_STOPPED, here, str(signum), *argv])
    except (OSError, TypeError, ValueError):  # no interpreter to run (an embedded one): the exit code alone
        os._exit(128 + signum)


def _flags() -> list[str]:
    """This interpreter's options that change what a fresh one imports or prints (``-I -E -s -B``, ``-X``, ``-W``),
    read without an import: the imports are what may be broken.

    >>> isinstance(_flags(), list)
    True
    """
    letters = "".join(c for c, on in (("I", sys.flags.isolated), ("E", sys.flags.ignore_environment),
                                       ("s", sys.flags.no_user_site), ("B", sys.flags.dont_write_bytecode)) if on)
    xoptions = [f"-X{k}" if v is True else f"-X{k}={v}" for k, v in getattr(sys, "_xoptions", {}).items()]
    return ([f"-{letters}"] if letters else []) + xoptions + [f"-W{w}" for w in sys.warnoptions]


#: what a fresh interpreter runs to say a stop this one could not (:func:`_said_afresh`): argv = [here, signum, *argv]
_SAY_STOPPED = (
    "import sys; sys.path.insert(0, sys.argv[1])\n"
    "from kernelcli.cli._before import interrupted\n"
    "from kernelcli.errors import stop_of\n"
    "sys.exit(interrupted(sys.argv[3:], stop_of(int(sys.argv[2]))))\n"
)


def stops_found() -> dict:
    """Every signal's handler as a call finds it (SIGTERM, SIGHUP and Ctrl-C, and SIGALRM, SIGUSR1 ... which the call
    takes while it runs: :func:`kernelcli.cli._signals.take_ending_signals`): what :func:`restore_stops` gives back.
    About 10 us for the 64 of Linux.

    >>> stops_found()[_signal.SIGINT] is _signal.getsignal(_signal.SIGINT)
    True
    """
    found = {}
    for sig in range(1, getattr(_signal, "NSIG", 65)):
        try:
            found[sig] = _signal.getsignal(sig)
        except (ValueError, OSError):  # (a number this system has no signal for)
            pass
    return found


def restore_stops(found: dict) -> None:
    """Give back the handlers ``found`` (:func:`stops_found`) at the call's start, every one the call changed: a process
    that ran a call in-process (:func:`kernelcli.cli.main`) is stopped as before it, by its own handlers, not by the
    call's (the early ones here, the command's of :mod:`._signals`, those that drop a later stop, or an ignored
    SIGALRM a child would inherit: review of ae769e9).  One installed from C (None) is left as the call left it:
    Python cannot put it back.  SIGALRM held by a kept stop that waits to be raised again gets the found handler
    when that stop puts its own back (:func:`kernelcli.stops.put_back`): put back now, the stop's alarm would end the
    process."""
    stops = sys.modules.get("kernelcli.stops")  # (not imported: no kept stop)
    for sig, handler in found.items():
        try:
            if handler is None or _signal.getsignal(sig) is handler:
                continue
            if stops is not None:
                stops.put_back(sig, handler)
            else:
                _signal.signal(sig, handler)
        except ValueError:  # not the main thread
            return
        except OSError:  # (one this system will not let Python set)
            continue
