"""The forked child that runs one call: it becomes the caller's process, runs the call, reports its exit.

The worker forks one per call (:mod:`kernelcli.worker.server`); the child takes the caller's
stdio (the descriptors it sent), folder, environment, umask and limits, says its pid, runs
:func:`kernelcli.cli.run` as a fresh process would and sends the exit code; it never returns
into the server's loop.  The server, on a call it accepted (``message``: the caller's argv, cwd,
environment, umask, limits; ``fds``: its stdin, stdout and stderr):

>>> if os.fork() == 0:                                                        # doctest: +SKIP
...     run_child(conn, listener, message, fds, command)  # never returns: os._exit(the call's code)
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading

from . import protocol
from .commit import Commit, FirstWrite, watch_client


def run_child(conn: socket.socket, listener: socket.socket | None, message: dict, fds: list[int], command) -> None:
    """Become the call's process: the caller's stdio, folder, environment, limits; run; report."""
    code = 70
    try:
        if listener is not None:
            listener.close()
        for sig in (signal.SIGQUIT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        # Ctrl-C, SIGTERM and SIGHUP relayed as soon as the caller knows our pid wait until
        # run() can act on them as a fresh process does (else this process would die
        # silently and the caller run the call again itself).
        held: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, _frame: held.append(signum))
        commit = Commit(conn)
        try:
            become_caller(message, fds, commit)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # (a limit above the worker's hard one)
            protocol.send(conn, {"refused": f"cannot take over the call: {exc}"})
            os._exit(0)
        from ..io.temporary import run_token

        protocol.send(conn, {"pid": os.getpid(), "run": run_token()})  # (its temporary files' token: see take_over_run)
        from ..io import outputs

        outputs.BEFORE_PUBLISH.append(commit)  # an output file put in place is an effect too
        finished = threading.Event()
        watch_client(conn, finished)
        from ..cli import run

        try:
            code = run(message["argv"], command=command, held=held)
        except SystemExit as exc:  # click/typer end some paths so (--show-completion): as the interpreter takes it
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        finished.set()
        protocol.send(conn, {"exit": code})
    except BaseException:  # noqa: BLE001 - a child must never return into the server loop
        pass
    finally:
        os._exit(code)


def become_caller(message: dict, fds: list[int], commit=None) -> None:
    """Take the caller's stdio, folder, environment, umask, import path and limits; ``commit`` (a :class:`.commit.Commit`) is
    called before the first write to stdout or stderr."""
    import io
    import resource

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    fds.clear()
    os.chdir(message["cwd"])
    os.environ.clear()
    os.environ.update(message["env"])
    os.umask(int(message["umask"]))
    # the caller's import path, not the worker's (its package's parent first, put there by control._SERVE, and the
    # folder a call runs in, '' of ``python -c``): what a batch's pool inherits (batch_pool._our_kernelcli_first) and
    # where a call's later imports look, as in a fresh process of the caller
    sys.path[:] = [str(folder) for folder in message["path"]]
    for name, (soft, hard) in message["limits"].items():
        which = getattr(resource, name)
        if (soft, hard) != tuple(resource.getrlimit(which)):
            resource.setrlimit(which, (soft, hard))
    streams = []
    for fd, (encoding, errors) in enumerate(zip(message["encoding"], message["errors"])):
        mode = "rb" if fd == 0 else "wb"
        binary = io.open(fd, mode, closefd=False) if fd == 0 or commit is None else io.BufferedWriter(FirstWrite(fd, commit))
        tty = os.isatty(fd)
        streams.append(io.TextIOWrapper(binary, encoding=encoding, errors=errors, line_buffering=tty or fd == 2, write_through=fd == 2))
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams
    sys.argv = ["kernelcli", *message["argv"]]
