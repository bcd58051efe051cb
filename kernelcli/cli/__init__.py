"""The ``kernelcli`` command line: :func:`entry` is the console script, ``app`` the Typer app.

A call (:func:`main`, :func:`entry`) is first offered to the warm worker
(:mod:`kernelcli.worker`), which needs only the standard library; only when no worker takes
it does this process import typer and build the app (:mod:`kernelcli.cli.root`) to run it; a
plain call of a file command is parsed and run without typer (:mod:`kernelcli.cli._fast`)
and, from the console script, ends without the interpreter's teardown (:func:`leave`).
"""

from __future__ import annotations

import sys

from ._start_stops import EARLY_STOPS, early_stop, restore_stops, say_stopped, stops_found, stops_unwind

#: command modules, each exposing ``register(app)``; listed once here
COMMAND_MODULES = (
    "convolve",
    "pad",
    "pool",
    "shape",
    "params",
    "kernels",
    "summary",
    "volume",
    "gallery",
    "learn",
    "worker",
)

#: every command's name and the module that registers it, in the order ``kernelcli --help``
#: lists them (Typer's: commands, then groups); a test keeps it equal to the whole app's
COMMANDS = {
    "convolve": "convolve",
    "pad": "pad",
    "pool": "pool",
    "shape": "shape",
    "params": "params",
    "summary": "summary",
    "volume": "volume",
    "gallery": "gallery",
    "learn": "learn",
    "kernels": "kernels",
    "worker": "worker",
}


def __getattr__(name: str):
    if name == "app":
        from .root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run ``kernelcli`` with ``sys.argv``: the worker runs the call if one is up, else this
    process; raises SystemExit with the exit code (the process's entry is :func:`entry`)."""
    found = stops_found()
    try:
        code = _call(sys.argv[1:])
    finally:  # (in-process: the host's stops are its own again, as the call's start found them)
        restore_stops(found)
    _end_as_signalled()
    sys.exit(code)


def entry() -> None:
    """The ``kernelcli`` console script and ``python -m kernelcli``: :func:`main`, except that a
    finished call ends without the interpreter's teardown (:func:`leave`), and a call a stop
    ended ignores later stops until the process is gone."""
    argv = sys.argv[1:]
    try:
        code = _call(argv)
        try:
            _end_as_signalled()
            _ignore_later_stops()
            leave(code)
        except KeyboardInterrupt as exc:  # a stop once the call returned: said as one in _call's last line is (a
            say_stopped(argv, early_stop() or exc)  # traceback and exit 1 before, after the call's "ok" record)
    except SystemExit:  # (a stop said before any command took the call, or after it returned)
        _ignore_later_stops()
        raise
    sys.exit(code)


def _end_as_signalled() -> None:
    """Where a signal that ends a process by default (SIGALRM, SIGUSR1 ...) stopped the call, end of it now that its
    temporary files are gone (:func:`kernelcli.cli._signals.on_ending`): killed by it, as the caller would have seen
    without kernelcli's handler, and as the warm worker's client ends."""
    stops = sys.modules.get("kernelcli.stops")  # (not imported: a call nothing stopped never loaded it)
    if stops is not None and stops.ending() is not None:
        stops.end_now(stops.ending())


def _forget_stops() -> None:
    """A call starts with no stop received: one that stopped an earlier call of this process (:func:`run` in-process)
    must not end this one's process (:func:`_end_as_signalled`) nor be said as its own."""
    stops = sys.modules.get("kernelcli.stops")  # (not imported: nothing to forget)
    if stops is not None:
        stops.forget()


def _ignore_later_stops() -> None:
    """Where this call was stopped, ignore SIGTERM, SIGHUP, Ctrl-C and the signals that end a process by default
    (SIGALRM, SIGUSR1 ...) from here to the process's end: :func:`entry` alone, whose process ends next (an ignored
    signal is inherited by any child; :func:`main` in-process gives every handler back instead).

    Python's exit resets every signal with a Python handler to its default before it frees the
    modules: a terminal closing sends SIGHUP then SIGTERM, and a SIGTERM that came in then killed
    the process after it had said the hang-up (exit -15, not 129).  An ignored signal stays
    ignored through the exit.  A call that was not stopped keeps its handlers: a stop while the
    interpreter waits for a thread still ends it.
    """
    stops = sys.modules.get("kernelcli.stops")  # (not imported: a call nothing stopped never loaded it)
    if not EARLY_STOPS and (stops is None or stops.received() is None):
        return
    import _signal

    ending = stops.ENDING if stops is not None else ()  # (SIGALRM, SIGUSR1 ...: a later one is no more the answer)
    for sig in (*(getattr(_signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(_signal, n)), *ending):
        try:
            _signal.signal(sig, _signal.SIG_IGN)
        except (ValueError, OSError):  # not the main thread
            return


def _call(argv: list[str]) -> int:
    """Run ``kernelcli ARGV`` (in the worker if one runs it, else here) and return its exit code."""
    try:
        stops_unwind()  # (inside: a stop as its handlers are installed is said as a later one is)
        _forget_stops()
        argv = debug_first(argv)  # (inside: a stop there is said as one a line later is)
        from ..worker.client import run_in_worker, wants_worker
        from ..worker.protocol import SwitchError

        try:
            wanted = wants_worker(argv)
        except SwitchError as exc:
            from ._before import refused_at_start

            return refused_at_start(argv, str(exc))
        code = run_in_worker(argv) if wanted else None
        if code is not None:
            return code
        from ._closed_stdout import stand_in

        stand_in()  # a stdout closed at start: what prints fails with one line, exit 1 (after the client's check of it)
        code = run_plain(argv)
        if code is not None:
            return code
        return run(argv)
    except KeyboardInterrupt as exc:  # before any command took the call (Python still importing what it needs):
        say_stopped(argv, early_stop() or exc)  # (the first stop, where a second came in while the first unwound)
    except Exception:  # a stop that landed inside an import, which then failed in its own words (a module left
        stop = early_stop()  # partly initialised: "module 'contextlib' has no attribute 'contextmanager'")
        if stop is None:
            raise
        say_stopped(argv, stop)


def debug_first(argv: list[str]) -> list[str]:
    """``--debug`` is the root command's option; given after the command (``convolve x.png -k sobel_v --debug``), where
    Click said 'No such option: --debug (Possible options: --mode)', it is moved in front of it.  After ``--``
    it is an argument, as every option is.

    >>> debug_first(["convolve", "x.png", "--debug"]), debug_first(["shape", "--", "--debug"])
    (['--debug', 'convolve', 'x.png'], ['shape', '--', '--debug'])
    """
    end = argv.index("--") if "--" in argv else len(argv)
    if "--debug" not in argv[:end] or argv[0] == "--debug":
        return argv
    return ["--debug", *(a for a in argv[:end] if a != "--debug"), *argv[end:]]


def leave(code: int) -> None:
    """End the process now with ``code``, as the interpreter would but without tearing it down.

    Python's own exit frees every module, numpy's and Pillow's included, and joins OpenBLAS's
    thread: 10-25 ms of a cold 512x512 ``convolve`` (issue 17), for nothing a finished call
    needs.  What an exit must still do is done first, in the interpreter's order: no thread
    but daemons may be running (else the normal exit waits for them), then the ``atexit``
    functions run, then stdout and stderr are flushed.  When the flush fails (a closed pipe)
    the normal exit takes over and says so as it always did.  Outputs are whole by then:
    every file is written and closed through a temporary and a rename before the command returns.
    The teardown also reset the stop signals' handlers to their defaults first: a SIGTERM in its
    0.5-1 s after ``learn`` killed a finished call (exit -15, not 0; audit 199 #4).
    """
    if "threading" in sys.modules:
        import threading

        main_thread = threading.main_thread()
        if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
            return
    import atexit
    import os

    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed (`>&-`)
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def run_plain(argv: list[str]) -> int | None:
    """Run a plain call of a file command without importing typer (:mod:`kernelcli.cli._fast`);
    its exit code, or None when typer should parse it (:func:`run`)."""
    from ._fast import run_plain as plain

    code = plain(argv)
    if code is not None:
        _measure_start_up()
    return code


def build_command(every: bool = False):
    """The app's click command as every call runs it, here or in the warm worker: with plain
    value converters instead of typer's pydantic adapters (:mod:`kernelcli.cli._lean`), so
    both start lean and word their errors alike.  Each subcommand is built when the call
    looks it up (:func:`kernelcli.cli.root.lazy_command`); ``every`` builds them all now.

    >>> build_command().commands.loaded()
    []
    """
    from ._lean import lean_command
    from .root import lazy_command

    command = lean_command(lazy_command())
    if every:
        command.commands.load_all()
    return command


def run(argv: list[str], command=None, held: list[int] | None = None) -> int:
    """Run ``kernelcli ARGV`` in this process and return the exit code.

    Without Click's standalone mode, so that a Ctrl-C before a command body starts (while
    Python imports, say) still exits 130, as the command bodies do, instead of Click's
    "Aborted!" with exit 1.  ``command`` is the app's click command when already built
    (the worker builds it once).  ``held``: signals the worker's call process received
    before this point; they act here, as if they came now.

    >>> run(["shape", "--in", "8", "--f", "3", "-q"])
    6
    0
    """
    # Every command passes the "cold" path policy (cli._common.cli_paths()) to the API itself:
    # nothing is steered through the environment.
    from ..errors import StdoutError, interrupt_exit_code, writing_stdout
    from ._common import begin_call, end_call, stdout_failed
    from ._signals import interrupted_message

    try:
        begin_call()  # SIGTERM and SIGHUP unwind like Ctrl-C: exit 143 / 129
        if held is not None:
            import signal

            from ._signals import on_interrupt

            signal.signal(signal.SIGINT, on_interrupt)
            for signum in list(dict.fromkeys(held)):
                signal.getsignal(signum)(signum, None)  # raises KeyboardInterrupt / Interrupted
        from ._click import click
        import typer

        if command is None:
            command = build_command()
        try:
            with writing_stdout():  # click's own output too: --help, -V
                code = _main_noting_interrupts(command, argv)
        except StdoutError as exc:
            return stdout_failed(exc)
        except typer.Abort as exc:
            cause = exc.__cause__ or exc.__context__ or exc
            from ._common import error

            error(interrupted_message(cause))
            return interrupt_exit_code(cause)
        except click.exceptions.ClickException as exc:
            from ._before import failure_before_parsing

            if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # `kernelcli shape` alone: the help
                sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
                return exc.exit_code
            failure_before_parsing(argv, exc.exit_code, click_error_line(exc), takes_value=_valued_options(exc))
            return exc.exit_code
        except typer.Exit as exc:
            return exc.exit_code
    except KeyboardInterrupt as exc:
        from ._before import interrupted

        return interrupted(argv, exc)
    finally:
        end_call()
    _measure_start_up()
    return code if isinstance(code, int) else 0


def _valued_options(exc) -> dict[str, int] | None:
    """The options that take values in the command Click failed in, by name, with how many words each takes (``params
    --dense`` two), or None where the error came before a command took the call (an unknown command)."""
    ctx = getattr(exc, "ctx", None)
    if ctx is None or hasattr(ctx.command, "commands"):  # (a group: the root command)
        return None
    return {name: max(1, param.nargs) for param in ctx.command.params if getattr(param, "param_type_name", "") == "option"
            and not param.is_flag and not param.count for name in param.opts}


def click_error_line(exc) -> str:
    """Click's usage error as one line: its message and where the command's help is.

    Click prints the usage, a hint and a blank line before the error; every other error of
    the tool is one line, and a script reading stderr gets the same shape here.

    >>> from ._click import click
    >>> click_error_line(click.exceptions.UsageError("Missing option '--size' / '-f'."))
    "Missing option '--size' / '-f'."
    """
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        message += f" (see '{ctx.command_path} {ctx.help_option_names[0]}')"
    return message


def _measure_start_up() -> None:
    """After a call that loaded the jitted core: have its start-up cost measured, once per install
    (in the background; :mod:`kernelcli.startup`), unless it is measured already."""
    from ._common import cli_paths

    if not cli_paths().start_cost_known and "numba" in sys.modules:
        from .. import startup

        startup.start_measuring(startup.record_path())


def _main_noting_interrupts(command, argv: list[str]):
    """``command.main`` in non-standalone mode, except that a Ctrl-C it would swallow (typer
    turns one while parsing, before any command body, into a silent exit 130) is raised."""
    seen: list[BaseException] = []

    def noting(method):
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except KeyboardInterrupt as exc:
                seen.append(exc)
                raise

        return wrapper

    command.make_context, command.invoke = noting(command.make_context), noting(command.invoke)
    try:
        code = command.main(args=list(argv), prog_name="kernelcli", standalone_mode=False)
    finally:
        del command.make_context, command.invoke  # the class's methods again
    if seen:
        raise seen[0]
    return code
