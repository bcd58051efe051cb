"""`kernelcli worker start|stop|status`: the warm worker that takes calls from the command line.

A thin adapter over :mod:`kernelcli.worker.control`.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from ..worker.protocol import DEFAULT_IDLE_SECONDS, MAX_IDLE_SECONDS
from ._click import CLICK_SUGGESTS_COMMANDS
from ._common import echo, error, guarded, note, print_json
from .option_values import number_in
from .options import JsonOption, option

worker_app = typer.Typer(
    name="worker",
    add_completion=False,
    suggest_commands=not CLICK_SUGGESTS_COMMANDS,
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="""A resident kernelcli that takes calls, so they skip Python's and Numba's start-up.

    While it runs, every `kernelcli ...` call of this user (same Python, same kernelcli
    copy) is handed to it over a private Unix socket and gives the same bytes, output and
    exit code as without it. KERNELCLI_WORKER=off keeps a call away from it.

    \b
    Examples:
      kernelcli worker start
      kernelcli worker status
      kernelcli worker stop
    """,
)



@worker_app.command("start")
@guarded
def start(
    idle_timeout: Annotated[
        Optional[float],
        option("idle_timeout", parser=number_in(1, MAX_IDLE_SECONDS),
               extra=f"[default: {DEFAULT_IDLE_SECONDS}; at most a year]", show_default=False),
    ] = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="Nothing but errors.")] = False,
) -> None:
    """Start the worker (if it is not running) and wait until it is ready."""
    from ..worker import control

    _refuse_unusable(control, as_json)
    asked = DEFAULT_IDLE_SECONDS if idle_timeout is None else idle_timeout
    try:
        info = control.start(idle_seconds=asked, said=None if quiet else lambda line: note(f"note: {line}"))
    except control.StillCompiling as exc:  # (not running yet, and not failed: its own answer, exit 0)
        if as_json:
            print_json({"running": False, "starting": True, "compiling": True, "pid": exc.pid, "log": exc.log})
        elif not quiet:
            echo(str(exc))
        return
    except control.WorkerError as exc:
        _not_started(control, exc, as_json)
    running = info.get("idle_timeout_seconds")
    if running != asked and not quiet:  # one was running already, started with another timeout
        said = f"note: kernelcli worker {info.get('pid')} runs already, with an idle timeout of {running:g} s"
        if idle_timeout is not None:  # (without --idle-timeout no other was asked for)
            said += "; 'kernelcli worker stop' first to start it with another"
        note(said)
    _show(info, as_json, quiet)


@worker_app.command("status")
@guarded
def status(
    as_json: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="Nothing: the exit code answers (0 running, 1 not, also while it starts).")] = False,
) -> None:
    """Say whether the worker runs: pid, socket, calls served. Exit 1 when it does not (also while it is starting)."""
    from ..worker import control

    try:
        info = control.status()
    except control.WorkerNotAnswering as exc:
        if as_json:
            print_json({"running": False, "pid": exc.pid, "error": str(exc)})
        elif not quiet:
            note(f"kernelcli worker: {exc}")
        raise typer.Exit(1) from None
    if info is None and (there := control.starting_now()) is not None:  # warming up: it takes no calls yet
        _show_starting(there, as_json, quiet)
        raise typer.Exit(1)
    if info is None:
        why = control.unusable()  # (then a worker may run, but no call reaches it: "not running" would mislead)
        if as_json:
            print_json({"running": False} if why is None else {"running": False, "unusable": why})
        elif not quiet:
            note("kernelcli worker: not running" if why is None else f"kernelcli worker: not used: {why}")
        raise typer.Exit(1)
    _show(info, as_json, quiet)


@worker_app.command("stop")
@guarded
def stop(
    as_json: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="Nothing but errors.")] = False,
) -> None:
    """Stop the worker (calls in progress finish). Exit 0 also when none was running."""
    from ..worker import control

    _refuse_unusable(control, as_json)
    try:
        pid = control.stop()
    except control.WorkerNotAnswering as exc:
        if as_json:
            print_json({"running": False, "pid": exc.pid, "error": str(exc)})
        error(f"kernelcli worker: not stopped: {exc}")
        raise typer.Exit(1) from None
    ended = getattr(pid, "signal", None) if isinstance(pid, control.Ended) else None
    if as_json:  # status's record of a worker that does not run, with the pid of the one stopped
        print_json({"running": False} if pid is None else {"running": False, "pid": int(pid),
                                                            **({"ended_with": ended} if ended else {}),
                                                            **({"starting": True} if ended and pid.starting else {})})
    elif not quiet:
        note("kernelcli worker: not running" if pid is None else f"kernelcli worker {pid}: still starting; ended with {ended}"
             if ended and pid.starting else f"kernelcli worker {pid}: did not answer; ended with {ended}"
             if ended else f"kernelcli worker {pid}: stopped")


def _refuse_unusable(control: Any, as_json: bool) -> None:
    """Exit 2 where the runtime folder cannot be used (not private), in status's words and record: start and stop
    said it as a failed file job (exit 1; --json printed convolve's record), where it is a setting to fix."""
    why = control.unusable()
    if why is None:
        return
    if as_json:
        print_json({"running": False, "unusable": why})
    error(f"kernelcli worker: not used: {why}")
    raise typer.Exit(2)


def _not_started(control: Any, exc: Exception, as_json: bool) -> None:
    """Say why ``start`` started no worker, in status's record: a place that cannot take the socket is a setting to
    fix (exit 2, ``"unusable"``), a worker that died or never answered a failure (exit 1, ``"error"``); both went
    through the file jobs' handler (convolve's record, exit 1)."""
    place = isinstance(exc, control.WorkerPlaceError)
    if as_json:
        print_json({"running": False, "unusable" if place else "error": str(exc)})
    error(f"kernelcli worker: not started: {exc}")
    raise typer.Exit(2 if place else 1)


def _show_starting(there: Any, as_json: bool, quiet: bool) -> None:
    """Say that a worker is starting (warming up, or compiling the core), as status's answer."""
    compiling = there.compiling()
    if as_json:
        print_json({"running": False, "starting": True, "compiling": compiling, "pid": there.pid,
                    "seconds": round(there.seconds, 1), "log": there.log})
    elif not quiet:
        doing = "compiling the numeric core" if compiling else "warming up"
        note(f"kernelcli worker: starting ({doing}), pid {there.pid}, for {there.seconds:.0f} s; it takes calls once "
             f"ready ('kernelcli worker stop' ends it; its log: {there.log})")


def _show(info: dict, as_json: bool, quiet: bool) -> None:
    if as_json:
        print_json({"running": True, **info})
        return
    if quiet:
        return
    echo(
        f"kernelcli worker {info['pid']}: running on {info['socket']}, {info['calls']} call(s), "
        f"up {info['uptime_seconds']:g} s, idle timeout {info['idle_timeout_seconds']:g} s"
    )


def register(app: typer.Typer) -> None:
    """Add ``kernelcli worker`` to the app."""
    app.add_typer(worker_app, name="worker")
