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

import sys
from typing import Any


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


def stopped_report(inputs: list[Any], kwargs: dict[str, Any], exc: BaseException) -> tuple[Any, Any, bool, str | None]:
    """What a call that ``exc`` stopped before it wrote its ``--report`` (while it started, before a batch's plan)
    writes there: ``(path, result, batch, why)``, the path None where there is none to write (no ``--report``, or one
    written) or where it may not be written (``why``: a file of that name but under ``--force``, one the inputs hold,
    a folder not made yet: nothing was checked).
    The result holds the input "not run" with the run's code; for a batch (``batch``), each file named one by one,
    or none where a folder or a pattern names inputs not found yet.
    ``inputs``: the call's inputs (:func:`kernelcli.cli._common.given_inputs`), ``kwargs`` its other arguments.

    >>> stopped_report(["a.png"], {}, KeyboardInterrupt())[0] is None
    True
    """
    import os
    from pathlib import Path

    from ..batch_records import BatchResult, not_run, stopped_by
    from ..errors import KernelcliError, interrupt_exit_code

    code = interrupt_exit_code(exc)
    inputs = [os.fspath(i) for i in inputs]
    report = kwargs.get("report_file", kwargs.get("report"))
    batch = False
    if "out_dir" in kwargs and inputs:  # (a command without --out-dir never runs a batch: learn, gallery)
        from ._batch_call import BatchOptions, is_batch

        try:  # the rule a call itself decides by
            batch = inputs != ["-"] and is_batch([Path(i) for i in inputs], BatchOptions(out_dir=kwargs.get("out_dir")))
        except KernelcliError:  # a name that reads two ways: no report of a call that never started
            report = None
    out = kwargs.get("out")
    if not batch:
        named = inputs[:1]
    else:  # files named one by one are known, not run; a folder's or a pattern's are not found yet (review 51 #4)
        named = inputs if all(os.path.isfile(i) for i in inputs) else []
    records = [not_run(i, os.fspath(out) if out is not None and not batch else None, code, stopped_by(code)) for i in named]
    result = BatchResult(records, None, 0, interrupted=True, interrupt_code=code)
    if getattr(exc, "reported", False) or not isinstance(report, (str, os.PathLike)) or not inputs:
        return None, result, batch, None
    why = None  # said in a note: a script must not take an earlier run's report for this one's (audit 131 #5)
    if not Path(report).absolute().parent.is_dir():
        why = "its folder does not exist yet"
    elif os.path.lexists(report) and _among(report, inputs):
        why = "it is among the inputs"
    elif os.path.lexists(report) and not earlier_report(report):  # a kernel file, an input a pattern matched (review 52 #1)
        why = "it is not an earlier run's report (a stopped call replaces no other file)"
    elif os.path.lexists(report) and not kwargs.get("force"):
        why = "it exists (an earlier run's? --force replaces it)"  # replaced under --force alone
    return (None if why else report), result, batch, why


def earlier_report(path: Any) -> bool:
    """Whether the file at ``path`` is a ``--report`` an earlier run wrote (a JSON object of ``items`` and ``totals``):
    the one kind of file a stopped call may replace under ``--force``. A stop can come before the call has read its
    kernel file or matched its pattern, so what it reads is not known yet; what the file holds is (a kernel file and
    a PNG a pattern matched were replaced by the report).

    >>> import json, tempfile; f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    >>> _ = f.write(json.dumps({"items": [], "totals": {"total": 0}})); f.close()
    >>> earlier_report(f.name), earlier_report("kernels/basic.json")
    (True, False)
    """
    import json
    import os

    try:
        if os.path.getsize(path) > 64 << 20:  # (a report of a million records is ~300 MB: not read whole here)
            return False
        with open(path, "rb") as f:
            document = json.loads(f.read())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and isinstance(document.get("items"), list) and isinstance(document.get("totals"), dict)


def _among(path: Any, inputs: list[str]) -> bool:
    """Whether ``path`` is one of ``inputs`` or inside one of their folders (links followed): a file not to replace.

    >>> _among("samples/r.json", ["samples"]), _among("r.json", ["samples/phantom.png"])
    (True, False)
    """
    import os

    real = os.path.realpath(path)
    for given in inputs:
        here = os.path.realpath(given)
        if real == here or (os.path.isdir(given) and real.startswith(here.rstrip(os.sep) + os.sep)):
            return True
    return False


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP unwind like Ctrl-C (see :class:`kernelcli.errors.Interrupted`), and the signals that end
    a process by default (SIGALRM, SIGUSR1 ...) end it once its temporary files are gone (:func:`take_ending_signals`).

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
        drop_later_stops()
        raise Interrupted(signum)

    if not _take(handler, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        return
    take_ending_signals()
    start = sys.modules.get(f"{__package__}._start_stops")  # (not imported: saying a stop there imports this module)
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, getattr(start, "interrupt_early", None), _dropped):
        signal.signal(signal.SIGINT, on_interrupt)
    try:
        raise_lost_stops()
    except (ValueError, OSError):  # not the main thread
        pass


#: the ending signals a call took (:func:`take_ending_signals`), each with the handler it found: put back at its end
_TAKEN: dict[int, Any] = {}


def take_ending_signals() -> None:
    """While the call runs (until :func:`give_back_ending_signals`), each signal that ends a process by default and
    that this process leaves at that default (:data:`kernelcli.stops.ENDING`: SIGALRM, SIGUSR1, SIGUSR2 ...) unwinds
    the call as SIGTERM does, its temporary files removed, and the process then ends of it (:func:`on_ending`): a
    ``timeout -s ALRM`` left a half-written ``.part`` for good (audit 232 #3).  One the caller ignores or handles
    is left alone.

    >>> import signal; take_ending_signals(); signal.getsignal(signal.SIGUSR1) is on_ending
    True
    >>> give_back_ending_signals(); signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
    True
    """
    import signal

    from ..stops import ENDING

    give_back_ending_signals()
    for sig in ENDING:
        if signal.getsignal(sig) is signal.SIG_DFL:
            try:
                _TAKEN[sig] = signal.signal(sig, on_ending)
            except (ValueError, OSError):  # not the main thread
                return


def give_back_ending_signals() -> None:
    """Put back the handlers :func:`take_ending_signals` found: once the call has ended, nothing of it is left to
    remove, and a host that ran it in-process is ended by these signals as before.  SIGALRM held by a kept stop
    still to be raised again gets its handler when that stop gives SIGALRM back (:func:`kernelcli.stops.put_back`):
    else the stop put this call's handler back past its end, for good."""
    import signal

    from ..stops import kept_alarm_handler, put_back

    while _TAKEN:
        sig, handler = _TAKEN.popitem()
        now = kept_alarm_handler() if sig == signal.SIGALRM else None
        if (signal.getsignal(sig) if now is None else now) is on_ending:  # (one its host put in since is the host's)
            put_back(sig, handler)


def on_ending(signum: int, frame: Any) -> None:
    """A signal that ends a process by default: the call stops as it stops for SIGTERM (its temporary files removed),
    but says and publishes nothing (no error line, no ``--report``: a process ended by the signal says nothing, and
    the warm worker's call, whose client it ends, says nothing either); the process then ends of the signal
    (:func:`kernelcli.cli.entry`).  One that comes while another stop unwinds the call is dropped, as a second
    Ctrl-C is: the first stop is the one said, its code the exit code (:func:`drop_later_stops`)."""
    from ..errors import Interrupted
    from ..stops import end_by, end_now, forsake, note, received, silence_stdio

    if signum not in _TAKEN:  # (after the call: a kept stop's alarm put this handler back past its end)
        end_now(signum)
    if received() is not None:  # another stop unwinds the call: the first is the one said, its code the exit code
        return
    end_by(signum)
    note(signum)
    forsake()  # (no --report)
    silence_stdio()
    drop_later_stops()
    raise Interrupted(signum)


def drop_later_stops() -> None:
    """Drop every stop after this one, of any kind: the first stop alone unwinds the call and is said.  A Ctrl-C and a
    SIGTERM a few ms apart (a Ctrl-C, then ``timeout`` or a CI runner's SIGTERM) raised the second inside the first
    one's cleanup: its exit code, a second error line, a ``--report`` left "failed, code 0", a ``.part`` left (audit
    199 #1).  A signal the caller left ignored stays ignored.

    >>> import signal; before = signal.getsignal(signal.SIGINT)
    >>> drop_later_stops(); signal.getsignal(signal.SIGINT) is _dropped
    True
    >>> _ = signal.signal(signal.SIGINT, before)
    """
    import signal

    _take(_dropped, signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))


def _take(handler: Any, *signals: Any) -> bool:
    """Install ``handler`` for each of ``signals`` (None: not on this system) that the caller did not leave ignored
    (under ``nohup`` a hang-up must not stop the call); False where this is not the main thread, which cannot."""
    import signal

    for sig in signals:
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread
                return False
    return True


def _dropped(_signum: int, _frame: Any) -> None:
    """A stop after the one the call is stopping for: nothing (not SIG_IGN: a signal that came in with the first,
    not yet handled when SIG_IGN replaced its handler, made Python print "Signal 15 ignored due to race condition"
    with a traceback above the call's error line; review 155 #1)."""


def on_interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C: Python's own handler (KeyboardInterrupt), the stop noted first (:mod:`kernelcli.stops`), later stops
    dropped (:func:`drop_later_stops`)."""
    import signal

    from ..stops import note

    note(signum)
    drop_later_stops()
    signal.default_int_handler(signum, frame)
