"""How a call stops: SIGTERM and SIGHUP unwind like Ctrl-C, and what the stop is called.

A signal raises an exception in the call's own code (:class:`kernelcli.errors.Interrupted`,
``KeyboardInterrupt``), so the same ``finally`` blocks remove temporary files whatever stopped
the call; :func:`interrupted_message` is the one line that says which it was.

>>> import signal
>>> from kernelcli.errors import Interrupted
>>> interrupted_message(Interrupted(signal.SIGTERM))
'terminated (SIGTERM); temporary files removed'
"""

from __future__ import annotations

from typing import Any


def stop_replaced_by(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop a signal made before ``exc`` was raised (see :mod:`kernelcli.stops`), else None."""
    import signal

    from ..errors import Interrupted
    from ..stops import received

    signum = received()
    if signum is None:
        return None
    return KeyboardInterrupt() if signum == signal.SIGINT else Interrupted(signum)


def interrupted_message(exc: BaseException) -> str:
    """``interrupted`` (Ctrl-C), or ``terminated (SIGTERM)`` / ``hung up (SIGHUP)``."""
    from ..batch_records import stopped_by
    from ..errors import interrupt_exit_code

    words = stopped_by(interrupt_exit_code(exc))
    return words if words == "interrupted" else f"{words}; temporary files removed"


def stopped_record(exc: BaseException) -> str:
    """The error of a record the stop ``exc`` left not run: one input's as a batch's (``not run: terminated (SIGTERM)``)."""
    from ..batch_records import not_run_error, stopped_by
    from ..errors import interrupt_exit_code

    return not_run_error(stopped_by(interrupt_exit_code(exc)))


def stopped_report(inputs: list[Any], kwargs: dict[str, Any], exc: BaseException) -> tuple[Any, Any, bool]:
    """What a call that ``exc`` stopped before it wrote its ``--report`` (while it started, before a batch's plan)
    writes there: ``(path, result, batch)``, the path None where there is none to write (no ``--report``, one
    written, or a file of that name: it may be an input a folder holds, nothing was checked yet).  The result holds
    the input "not run" with the run's code, or for a batch (``batch``), whose inputs are not found yet, no record.
    ``inputs``: the call's inputs (:func:`kernelcli.cli._common.given_inputs`), ``kwargs`` its other arguments.

    >>> stopped_report(["a.png"], {}, KeyboardInterrupt())[0] is None
    True
    """
    import os
    from pathlib import Path

    from ..batch_plan import is_batch_argument
    from ..batch_records import BatchResult, not_run, stopped_by
    from ..errors import interrupt_exit_code
    from ..volume_inputs import is_volume_input

    code = interrupt_exit_code(exc)
    inputs = [os.fspath(i) for i in inputs]
    report = kwargs.get("report_file", kwargs.get("report"))
    one = len(inputs) == 1 and kwargs.get("out_dir") is None
    batch = bool(inputs) and not (one and (os.path.isfile(inputs[0]) or inputs[0] == "-" or not is_batch_argument(inputs[0])
                                           or (os.path.isdir(inputs[0]) and is_volume_input(inputs[0]))))
    out = kwargs.get("out")
    records = [] if batch or not inputs else [not_run(inputs[0], os.fspath(out) if out is not None else None, code, stopped_by(code))]
    result = BatchResult(records, 0.0, 0, interrupted=True, interrupt_code=code)
    if (getattr(exc, "reported", False) or not isinstance(report, (str, os.PathLike)) or not inputs or os.path.lexists(report)
            or not Path(report).absolute().parent.is_dir()):
        report = None
    return report, result, batch


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP unwind like Ctrl-C (see :class:`kernelcli.errors.Interrupted`).

    A signal the caller left ignored stays ignored: under ``nohup`` a hang-up must not stop
    the call (Python keeps an inherited ignored SIGINT the same way).  A stop that lands in a
    weakref callback is raised again from the call's own code (:mod:`kernelcli.stops`).
    """
    import signal

    from ..errors import Interrupted
    from ..stops import forget, note, raise_lost_stops

    forget()

    def handler(signum: int, frame: Any) -> None:
        note(signum)
        for sig in (signal.SIGTERM, signal.SIGHUP):  # a second signal while cleaning up is ignored
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread
                return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_interrupt)
    try:
        raise_lost_stops()
    except (ValueError, OSError):  # not the main thread
        pass


def on_interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C: Python's own handler (KeyboardInterrupt), the stop noted first (:mod:`kernelcli.stops`)."""
    import signal

    from ..stops import note

    note(signum)
    signal.default_int_handler(signum, frame)
