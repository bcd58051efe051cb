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
