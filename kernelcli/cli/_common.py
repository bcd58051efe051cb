"""What every command shares: error handling, exit codes, notes on stderr.

Commands stay thin: parse options, call the API, print.  ``guarded`` turns our own
errors into a one-line red message and the error's exit code, Ctrl-C into 130, and any
other exception into exit 70 with a request to report it (the traceback only with
``--debug``, which keeps the exit code).  Nothing here imports numpy, numba, rich or typer
at module level: a plain call parsed without typer (:mod:`kernelcli.cli._fast`) runs the same
command body, whose messages go through :func:`echo` and whose exits through :func:`exit_with`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from .. import startup
from ..errors import (
    EXIT_INTERNAL,
    EXIT_ITEM_FAILED,
    KernelcliError,
    StdoutError,
    interrupt_exit_code,
)
from ..limits import OutOfMemory, out_of_memory, ran_out_of_memory
from ..stops import stop_replaced_by
from ._json_text import json_text, printed_json
from ._lines import shown, single_line
from ._terminal import console, echo, write_stdout  # noqa: F401 - (console: the commands import it from here)
from ._signals import give_back_ending_signals, install_signal_handlers, interrupted_message
from ._value_refused import value_refused

F = TypeVar("F", bound=Callable[..., Any])

#: where a bug report goes: the README section that says what to include
REPORT_BUGS = "the README's \"Reporting bugs\" section"

#: where the root command keeps ``--debug`` in Click's context (``ctx.meta``)
DEBUG_KEY = "kernelcli.debug"
#: The path policy every command passes to the API (through :func:`cli_paths`): each CLI call is a short process, so
#: the core takes the paths that are cheapest for a fresh one (plain numpy while it beats loading the jitted core), as
#: a pure function of the call, so batch workers write the same bytes as separate calls.  See
#: :mod:`kernelcli._core.policy`.  It carries this machine's measured start-up cost (:mod:`kernelcli.startup`; the
#: first call that loads the jitted core without one starts the measurement), which moves a choice only between paths
#: of the same bytes; the warm worker, which has the core loaded, sets it to 0 (:func:`kernelcli.worker.warmup.warm_up`)
#: for the same reason.
CLI_PATHS = startup.cli_paths()


def cli_paths():
    """The path policy of this process's calls (:data:`CLI_PATHS`), read when a command runs."""
    return CLI_PATHS


def debug_enabled() -> bool:
    """True when ``--debug`` was given to this command line, or ``KERNELCLI_DEBUG`` switches it on
    (:func:`kernelcli.switches.env_switch`: ``1``, ``on``; ``0``, ``off``, ``no``, ``false`` leave it off)."""
    if "typer" in sys.modules:  # else no click context exists (a plain call: no --debug)
        from ._click import get_current_context

        ctx = get_current_context(silent=True)
        if ctx is not None and ctx.meta.get(DEBUG_KEY):
            return True
    from ..switches import DEBUG_ENV, env_switch

    return env_switch(DEBUG_ENV, False)


def invoked_as(default: str) -> str:
    """The name this call's command was run under: ``volume`` for convolve's alias; ``default`` where no click
    context exists (a plain call, parsed without typer, runs the command under its own name).

    >>> invoked_as("convolve")
    'convolve'
    """
    if "typer" in sys.modules:
        from ._click import get_current_context

        ctx = get_current_context(silent=True)
        if ctx is not None and ctx.info_name:
            return ctx.info_name
    return default


def stdout_failed(exc: StdoutError) -> int:
    """Say that stdout could not take the output and return the exit code (1); stdout is pointed at
    /dev/null first, so that what it still buffers does not fail again at exit."""
    _silence_stdout()
    error(str(exc))
    return exc.exit_code


def exit_with(code: int) -> BaseException:
    """The exception that ends a command with ``code``: typer's Exit when typer runs the
    command, else SystemExit (a plain call: :mod:`kernelcli.cli._fast`).  ``raise exit_with(2)``."""
    typer = sys.modules.get("typer")
    return typer.Exit(code) if typer is not None else SystemExit(code)


def _click_control(exc: BaseException) -> bool:
    """True for typer's and Click's own exits and usage errors (only where typer is loaded)."""
    typer = sys.modules.get("typer")
    if typer is None:
        return False
    from ._click import click

    return isinstance(exc, (typer.Exit, typer.Abort, click.exceptions.ClickException))


def error(message: str) -> None:
    """Print a one-line error in red on stderr."""
    echo(f"error: {single_line(message)}", err=True, fg="red")


def say_failure(line: str, as_json: bool, kwargs: dict, exc: BaseException | None = None) -> bool:
    """Print the error ``line`` of a failing call; return whether its ``--json`` record may then be printed: not where
    stdout is an input (:func:`~._stdout_input.json_withheld`, whose words end the line)."""
    withheld = None
    if as_json and not _JSON_PRINTED:
        from ._stdout_input import json_withheld  # (here: only a failing --json call asks, not every call's imports)

        withheld = json_withheld(exc, given_inputs(kwargs), kwargs.get("recursive"))
    error(line + (withheld or ""))
    return as_json and withheld is None


def note(message: str) -> None:
    """Print a one-line note on stderr (never on stdout, which carries results); inside
    :func:`notes_held`, keep it for later instead."""
    message = single_line(shown(message))  # stdin/stdout for a pipe's stand-in files: now, while the pipe is open
    if _HELD is not None:
        _HELD.append(message)
        return
    echo(message, err=True)


#: the notes :func:`notes_held` keeps back, or None when notes are printed as they come
_HELD: list[str] | None = None


def call_note(message: str, *, quiet: bool) -> None:
    """A note on the call as a whole (an option it does not use, say): printed now (not with ``-q``),
    and put in every record of the call's JSON document and ``--report``, before each input's own
    notes (:func:`with_call_notes`), as a note a job finds is.

    >>> call_note("--exclude-pad changes nothing here", quiet=True); with_call_notes({"notes": ["x"]})
    {'notes': ['--exclude-pad changes nothing here', 'x']}
    """
    _CALL_NOTES.append(message)
    if not quiet:
        note(f"note: {message}")


def with_call_notes(document: Any) -> Any:
    """A file job's JSON document (one record, or a batch's ``items``) with the call's notes
    (:func:`call_note`) first in each record's ``notes``."""
    if not _CALL_NOTES or not isinstance(document, dict):
        return document
    for record in document.get("items", [document]):
        if isinstance(record.get("notes"), list):
            record["notes"] = _CALL_NOTES + [n for n in record["notes"] if n not in _CALL_NOTES]
    return document


#: this call's notes on itself (:func:`call_note`); emptied as each command starts
_CALL_NOTES: list[str] = []


@contextlib.contextmanager
def notes_held():
    """Keep back the notes (and the summary line) printed inside the block, and print them
    as it ends: after what the block wrote on stdout on its way out (``-o -``: the image,
    copied as the command returns), or before the error of a command that failed.  A stdout
    that could not take the output (:class:`StdoutError`) drops them: the one error line
    is all that is said, with no summary of an output that never arrived; so does a reader
    that closed the pipe early (``| head -c 10``: exit 1, nothing said), and a stop (Ctrl-C, SIGTERM) while the
    result was being copied: stdout got part of it, and "-> stdout 512x512" said it got it whole.

    >>> with notes_held():
    ...     note("a note")  # on stderr as the block ends
    ...     echo("the output")
    the output
    """
    global _HELD
    outer, _HELD = _HELD, []
    held = _HELD
    try:
        yield
    except BaseException as exc:
        from ..io.pipes import Pipes

        if isinstance(exc, (StdoutError, BrokenPipeError)) or Pipes.cut_short(exc):
            held.clear()
        raise
    finally:
        _HELD = outer
        for message in held:
            note(message)


def guarded(func: F) -> F:
    """Wrap a command so that no traceback reaches the user without ``--debug``.

    Our own errors print one red line and exit with their code (2, 3, 4, 1); Ctrl-C exits
    130, SIGTERM 143, SIGHUP 129; Typer's and Click's own exits pass through; anything else is a bug: exit 70 with
    how to report it.  ``--debug`` adds the traceback on stderr and keeps the exit code, so
    scripts see the same codes with and without it.

    >>> @guarded
    ... def cmd() -> None:
    ...     raise UsageError("bad")   # doctest: +SKIP
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        from ..io.published_stops import call_scope
        from ..io.reads import input_session, refuse_stdout_among

        global _COMMAND, _JSON_PRINTED
        _JSON_PRINTED, _COMMAND = False, func.__name__
        _CALL_NOTES.clear()
        # (with --out -, stdout carries the result: no record there, unless the command never writes it there)
        as_json = any(kwargs.get(name) for name in JSON_PARAMETERS) and not (
            str(kwargs.get("out")) == "-" and func.__name__ not in OUT_NEVER_STDOUT)
        from .. import jitcache

        jitcache.QUIET = bool(kwargs.get("quiet"))  # -q: no notes, the "compiling" one too
        jitcache.ON_COMMAND_LINE = True  # (printed on stderr; a library call logs it)
        _notes_from_logging(quiet=jitcache.QUIET)
        try:
            # every file this call reads is an input of its output checks; numpy's RuntimeWarnings (overflow...)
            # never reach the user: results are checked instead; a stop once one input's output is published waits
            with input_session(), warnings.catch_warnings(), call_scope():  # until it is recorded and listed
                warnings.simplefilter("ignore", RuntimeWarning)
                refuse_stdout_among(kwargs)
                return func(*args, **kwargs)
        except SystemExit:
            raise  # a plain call's deliberate exit (exit_with)
        except KernelcliError as exc:  # (said in the command line's words by error_line: an inline kernel under --kernel)
            stop = stop_replaced_by(exc)
            if stop is not None:  # a stop an extension's import replaced by its error, wrapped in ours by a reader
                _stopped(stop, as_json, kwargs)
            _fail_known(exc, as_json, kwargs, func.__name__)
        except KeyboardInterrupt as exc:
            _stopped(exc, as_json, kwargs)
        except MemoryError:  # reported below, once the failed call's frames (and the arrays they hold) are freed
            _traceback_if_debug()  # (--debug only: it may need memory the call still holds)
        except BrokenPipeError:
            # stdout was closed early (`kernelcli ... | head`): not a bug, nothing more to say
            _silence_stdout()
            raise exit_with(EXIT_ITEM_FAILED) from None
        except Exception as exc:  # an exception we did not expect is a bug
            if _click_control(exc):
                raise  # Click's own usage errors (exit 2) and deliberate exits
            if not ran_out_of_memory(exc):  # (an extension that could not be mapped, ENOMEM: reported below)
                _unexpected(exc, as_json, kwargs)
        _out_of_memory(as_json, kwargs)

    return wrapper  # type: ignore[return-value]


def _unexpected(exc: Exception, as_json: bool, kwargs: dict) -> NoReturn:
    """End a call that failed with an exception we did not expect: a bug (exit 70), unless known after all."""
    from ..io.output_checks import gone_folder_error, too_long_error

    known = too_long_error(exc) or gone_folder_error(exc)  # a path the user gave, a folder removed: not a bug
    if known is not None:
        _fail_known(known, as_json, kwargs)
    _traceback_if_debug()
    stop = stop_replaced_by(exc)
    if stop is not None:  # not a bug: a stop that an extension turned into its own error
        _stopped(stop, as_json, kwargs)
    as_json = say_failure(internal_error_message(exc), as_json, kwargs)
    _failure_json(as_json, kwargs, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}")
    raise exit_with(EXIT_INTERNAL) from None


def _out_of_memory(as_json: bool, kwargs: dict) -> NoReturn:
    """End a call that ran out of memory (a limit should have refused it first): the input's error, never a bug;
    called once the failed call's frames and their arrays are freed (reporting while they were held failed too)."""
    inputs = [("stdin" if str(i) == "-" else str(i)) for i in given_inputs(kwargs)]
    _fail_known(out_of_memory(inputs[0] if len(inputs) == 1 else None), as_json, kwargs)


#: the line of an error that cannot be reported for want of memory (:func:`_fail_known`), made before it is wanted
_OUT_OF_MEMORY_LINE = f"error: {out_of_memory()}\n".encode()


def _stopped(exc: BaseException, as_json: bool, kwargs: dict) -> NoReturn:
    """End a call that the stop ``exc`` (Ctrl-C, SIGTERM, SIGHUP) ended: its line, its ``--report`` where none was
    written (:func:`~._signals.stopped_report`), its ``--json`` document or record ("not run"), its exit code."""
    from ._signals import stopped_record, stopped_report

    as_json = say_failure(interrupted_message(exc), as_json, kwargs)
    report, stopped, batch, why = stopped_report(given_inputs(kwargs), kwargs, exc)
    if report is not None:  # (a report that cannot be written: the stop is what the call says)
        with contextlib.suppress(Exception):
            write_report(report, stopped, force=True)  # (stopped_report chose it: new, or --force)
    elif why is not None and not kwargs.get("quiet"):
        note(f"note: --report {kwargs.get('report_file', kwargs.get('report'))}: not written: {why}")
    if batch and as_json and not _JSON_PRINTED:  # the document a batch prints
        print_json(stopped.as_dict())
    else:  # the record, in a batch's words
        _failure_json(as_json, kwargs, interrupt_exit_code(exc), stopped_record(exc), "not run")
    raise exit_with(interrupt_exit_code(exc)) from None


def _notes_from_logging(*, quiet: bool) -> None:
    """Make what the package logs (a file on KERNELCLI_KERNEL_PATH that is no kernel file, skipped) a note on
    the call (:func:`call_note`): held back by ``-q`` and in the ``--json`` notes, where it was printed always."""
    import logging

    class CallNotes(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            call_note(record.getMessage(), quiet=quiet)

    logger = logging.getLogger("kernelcli")
    logger.handlers = [CallNotes(logging.INFO)]
    logger.propagate = False


def _fail_known(exc: KernelcliError, as_json: bool, kwargs: dict, command: str = "") -> NoReturn:
    """Print our own error (and its ``--json`` record) and exit with its code (out of memory even for that: a line)."""
    try:
        _report_known(exc, as_json, kwargs, command)
    except MemoryError:
        with contextlib.suppress(OSError):
            os.write(2, _OUT_OF_MEMORY_LINE)
        raise exit_with(OutOfMemory.exit_code) from None


def _report_known(exc: KernelcliError, as_json: bool, kwargs: dict, command: str) -> NoReturn:
    _traceback_if_debug()
    if isinstance(exc, StdoutError):
        raise exit_with(stdout_failed(exc)) from None
    message = error_line(exc, command)
    as_json = say_failure(message, as_json, kwargs, exc)  # (no record where stdout is an input)
    record = getattr(exc, "record", None)  # one input's record, as its --report holds it (cli._batch.run_reported)
    if record is not None and as_json and not _JSON_PRINTED:
        record.error = message  # the line on stderr: made in the Pipes block, it named stdin's temporary file
        print_json(record.as_dict())
    _failure_json(as_json, kwargs, exc.exit_code, message, output=getattr(exc, "output", None))
    raise exit_with(exc.exit_code) from None


def error_line(exc: KernelcliError, command: str | None = None) -> str:
    """The line a call that failed with our own ``exc`` prints on stderr (after ``error: ``), which is also its
    record's ``error`` (:func:`kernelcli.cli._batch.run_reported`): a refused value in Click's words for the command
    (``command``; by default the one running), an inline kernel under ``--kernel``.

    >>> from ..errors import UsageError
    >>> error_line(UsageError("x.zzz: unsupported output type '.zzz'"))
    "x.zzz: unsupported output type '.zzz'"
    """
    # (no import: an error of a module not loaded cannot be one of its own, and running out of memory is reported here)
    syntax, whole_numbers = sys.modules.get("kernelcli.kernel_syntax"), sys.modules.get("kernelcli.whole_numbers")
    if syntax is not None and isinstance(exc, syntax.KernelTextRefused) and exc.option is None:  # (load_kernel names
        # the spec alone: the command line, its option; --then and kernels show word it where they load it)
        exc = exc.worded("--kernel")
    if whole_numbers is not None and isinstance(exc, whole_numbers.BadValue):
        return value_refused(exc, _COMMAND if command is None else command)
    return str(exc)


def json_printed() -> bool:
    """Whether this call has printed its JSON document (:func:`print_json`): a failure after it prints no other."""
    return _JSON_PRINTED


#: the names commands give their ``--json`` parameter
JSON_PARAMETERS = ("json_out", "as_json", "json_")
#: the call has printed its JSON document (:func:`print_json`): a failure after it prints no other
_JSON_PRINTED = False
#: the command running (its function's name), for :func:`error_line` said before the call ends
_COMMAND = ""


def _failure_json(as_json: bool, kwargs: dict, code: int, message: str, status: str = "failed", output: str | None = None) -> None:
    """With ``--json``, a call that fails before printing its document prints one record of the failure (see
    :func:`failure_record`): stdout always carries JSON, never a failed one.  ``output``: the one refused, named by the call."""
    if not as_json or _JSON_PRINTED:
        return
    from ..io.naming import shown_path
    inputs = given_inputs(kwargs)
    out = kwargs.get("out") if kwargs.get("out") is not None else output
    out = "stdout" if out is not None and str(out) == "-" else out  # (learn's refused -o -: records name the pipes)
    named = "stdin" if len(inputs) == 1 and str(inputs[0]) == "-" else shown_path(inputs[0]) if len(inputs) == 1 else None
    try:  # ('-' is named as a successful call's record names it; a URL keeps its //)
        print_json(failure_record(code, message, status, input=named, output=shown_path(out) if out is not None else None))
    except (OSError, KernelcliError):  # stdout cannot take it: the error line on stderr said it all
        _silence_stdout()


def given_inputs(kwargs: dict[str, Any]) -> list[Any]:
    """The inputs a command was given, whatever it calls them: a list (``convolve``'s, ``pad``'s), one path
    (``learn``'s, ``gallery``'s: a Path was iterated, a TypeError inside the handler of a Ctrl-C) or none.

    >>> from pathlib import Path
    >>> given_inputs({"input": [Path("a.png"), Path("b.png")]}), given_inputs({"input": Path("x.npy")}), given_inputs({})
    ([PosixPath('a.png'), PosixPath('b.png')], [PosixPath('x.npy')], [])
    """
    inputs = kwargs.get("inputs") if kwargs.get("inputs") is not None else kwargs.get("input")
    return list(inputs) if isinstance(inputs, (list, tuple)) else [] if inputs is None else [inputs]


def failure_record(code: int, message: str, status: str = "failed", **given: Any) -> dict[str, Any]:
    """The JSON record of a call that failed: an input's record (its fields, null where unknown) with
    ``status``, ``code`` and ``error``.

    >>> failure_record(2, "x.png: no such file", input="x.png")["code"]
    2
    """
    from ..batch_records import record_document

    return record_document(None, status=status, code=code, error=message, **given)


def internal_error_message(exc: BaseException | str) -> str:
    """The one line for an unexpected exception: what it was, and how to report it."""
    what = exc if isinstance(exc, str) else f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    hint = "the traceback is above" if debug_enabled() else "run again with --debug for the traceback"
    return f"internal error: {what}. This is a bug in kernelcli; {hint} and report it as {REPORT_BUGS} says"


def begin_call() -> None:
    """Where a call starts (the plain parser's or typer's): nothing of it printed yet, and the signal handlers
    installed (:func:`install_signal_handlers`)."""
    from ..io.store_paths import forget_store_lookups

    global _JSON_PRINTED
    _JSON_PRINTED = False
    forget_store_lookups()  # (a Zarr store's look-ups: once per folder in this call, none kept from the last)
    install_signal_handlers()


def end_call() -> None:
    """Where a call ends (:func:`begin_call`'s): no Zarr store look-up outlives it, for the Python API or the next call
    in this process (a store made meanwhile is seen), and the signals that end a process by default do so again."""
    from ..io.store_paths import forget_store_lookups

    give_back_ending_signals()  # (nothing of the call is left to remove: SIGALRM and the like end the process at once)
    forget_store_lookups(remember=False)


def _traceback_if_debug() -> None:
    if sys.exc_info()[0] is not None and debug_enabled():  # (none: reported after its handling, as running out of memory)
        import traceback

        traceback.print_exc(file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def write_report(path: Any, result: Any, *, force: bool) -> None:
    """Write ``result`` (a :class:`~kernelcli.batch_records.BatchResult`) as the ``--report`` file ``path``, as
    ``--json`` prints it (with the call's notes), whole or not at all; never over a file the call has read (exit 4:
    checked again now, as the readers note what they open while the call runs: a mask, a kernel file, a series' files).
    """
    from ..io.output_checks import refuse_noted_input
    from ..io.outputs import write_bytes_atomic, written_at_once
    from ..stops import forsaken

    if forsaken():  # (the worker's client was killed: a process killed with it would have written nothing)
        return
    refuse_noted_input(path)
    with written_at_once():  # (no part of the result: said in the record a matrix's sheet is published after)
        write_bytes_atomic(path, (shown(json_text(with_call_notes(result.as_dict()))) + "\n").encode(), force=force)


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (:func:`~kernelcli.cli._json_text.printed_json`)."""
    global _JSON_PRINTED
    _JSON_PRINTED = True

    write_stdout(shown(printed_json(with_call_notes(document))) + "\n")


#: the commands whose ``--out`` is a file of their own, never stdout (``learn -o -`` is refused in learn's words):
#: with ``--json`` their stdout is free for the failure record
OUT_NEVER_STDOUT = ("learn",)


