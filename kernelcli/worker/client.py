"""The thin client: hand a call to the warm worker, or say it cannot (standard library only).

:func:`run_in_worker` is the first thing ``kernelcli`` does: it returns the call's exit
code when the worker ran it, or None when the caller must run it in-process (no worker,
a stale socket, an unsafe folder or socket, another version, a refusal, a worker that
died before the call finished).  Nothing is printed then, except a note with ``--debug``.

>>> run_in_worker(["shape", "--in", "8", "--f", "3", "-q"], socket_file="/nonexistent/w.sock")
"""

from __future__ import annotations

import _signal as signal  # not the signal module: its enums cost a short call more than the call
import _socket
import os
import stat
import sys

from ..switches import DEBUG_ENV, check_switches, env_switch
from . import protocol

#: seconds to wait for the worker to accept and answer (the call itself has no limit)
CONNECT_TIMEOUT = 2.0


#: calls about the caller's shell (Tab completion, its script): the shell is found among the caller's parent
#: processes, which a worker's call process is not a child of ('Shell  not supported.', exit 70 for each Tab)
_SHELL_CALLS = ("--show-completion", "--install-completion")
_COMPLETE_VAR = "_KERNELCLI_COMPLETE"  # (cli._fast's; not imported: the client stays tiny)


def wants_worker(argv: list[str]) -> bool:
    """False for calls the worker must not take: ``worker ...`` itself, shell completion, or with the switch off.

    ``KERNELCLI_WORKER=auto`` also starts a worker in the background when none runs; a value it does not take
    raises :class:`protocol.SwitchError` (but for shell completion, which has no line to say it on)."""
    if _COMPLETE_VAR in os.environ or any(a in _SHELL_CALLS for a in argv):
        return False
    check_switches()
    if protocol.switch() == "off":
        return False
    command = next((a for a in argv if not a.startswith("-")), None)
    return command != "worker"


def run_in_worker(argv: list[str], socket_file: str | os.PathLike[str] | None = None) -> int | None:
    """Run ``kernelcli ARGV`` in the worker; the exit code, or None to run it in-process."""
    try:
        return _run(argv, socket_file)
    except _Fallback as why:
        if why.reason and ("--debug" in argv or env_switch(DEBUG_ENV, False)):
            sys.stderr.write(f"note: kernelcli worker not used ({why.reason}); running in-process\n")
            sys.stderr.flush()
        if why.run is not None:
            from ..io.temporary import take_over_run

            take_over_run(why.run)  # (a half-written .part of the dead call's was left beside its output)
        return None


class _Fallback(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        self.run: str | None = None  # the run token of a call's process that died (see io.temporary.take_over_run)


def _connect(path: str) -> _socket.socket:
    """A connection to a live worker of this user at ``path``, or :class:`_Fallback`."""
    try:
        st = os.lstat(path)
    except OSError:
        if protocol.switch() == "auto":
            _spawn(path)  # in the background: this call runs here, the next ones in the worker
        raise _Fallback("") from None  # no worker: the common case, nothing to say
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
        raise _Fallback(f"{path} is not a socket of this user")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(path)
        if protocol.peer_uid(sock) != os.getuid():
            raise _Fallback("the worker runs as another user")
    except (ConnectionRefusedError, FileNotFoundError) as exc:
        sock.close()
        if protocol.switch() == "auto":  # a killed worker's socket: nobody listens, start one over it
            _spawn(path)
        raise _Fallback(f"stale socket {path}: {exc.strerror or exc}") from None
    except OSError as exc:  # a full listen queue (EAGAIN) or no accept in time: a worker is there, busy or hung
        sock.close()
        raise _Fallback(f"the worker at {path} does not answer: {exc.strerror or exc}") from None
    except _Fallback:
        sock.close()
        raise
    return sock


def _spawn(path: str) -> None:
    """Start a worker on ``path`` in the background (``KERNELCLI_WORKER=auto``), or :class:`_Fallback` saying why
    none can listen there (a folder in the way, a path too long for a socket), as ``worker start`` says it."""
    from .control import WorkerPlaceError, spawn

    try:
        spawn(path)
    except WorkerPlaceError as exc:
        raise _Fallback(f"no worker started: {exc}") from None


def _run(argv: list[str], socket_file) -> int:
    if socket_file is None:
        runtime = protocol.runtime_dir(create=protocol.switch() == "auto")
        if runtime is None:
            folder = protocol.runtime_folder()
            # a folder that is missing: no worker, nothing to say; one that is there but open to others: say so
            raise _Fallback(f"{folder} {protocol.not_private(folder)}, not a private folder of this user (mode 0700)"
                            if os.path.lexists(folder) else "")
        socket_file = protocol.socket_path(runtime)
    stdio = [0, 1, 2]
    for fd, stream in zip(stdio, (sys.stdin, sys.stdout, sys.stderr), strict=True):
        try:  # (before the socket is made: it would take a closed descriptor's number)
            os.fstat(fd)
        except OSError:
            raise _Fallback(f"file descriptor {fd} is closed") from None
        if stream is None:  # closed when Python started, open now: the call runs here and says so itself
            raise _Fallback(f"file descriptor {fd} was closed at start")
    try:
        state = protocol.caller_state()
    except OSError as exc:  # a current folder that was deleted: the call runs here, as a fresh process would
        raise _Fallback(f"cannot tell the worker where this call stands: {exc.strerror or exc}") from None
    named = _names_a_descriptor(argv, state["cwd"])
    if named is not None:  # only stdin, stdout and stderr travel: the call's /dev/fd/3 would be its own
        raise _Fallback(f"{named} names a file descriptor of this process past 2, which the worker's call has not")
    sock = _connect(os.fspath(socket_file))
    try:
        start = _stdin_offset()
        request = {"op": "run", "argv": argv, "stamp": protocol.version_stamp(), **state}
        with _Relay() as relay:  # from before the request: a Ctrl-C is never lost while the call starts
            try:
                sys.stdout.flush()
                sys.stderr.flush()
                protocol.send(sock, request)  # alone: a hung worker's queue must not hold the caller's stdio
                reply = protocol.receive(sock)
                if reply and reply.get("stdio"):  # the worker took the call: now the descriptors
                    protocol.send(sock, {"op": "stdio"}, stdio)
                    reply = protocol.receive(sock)
            except (OSError, protocol.ProtocolError) as exc:
                raise _Fallback(f"the worker did not answer: {exc}") from None
            if not reply or "pid" not in reply:
                raise _Fallback((reply or {}).get("refused", "the worker closed the connection"))
            relay.to(int(reply["pid"]))
            try:
                return _wait(sock, start, reads_stdin="-" in argv, relay=relay)
            except _Fallback as why:  # the call's process died: this one carries on its run, and clears what it left
                why.run = reply.get("run")
                raise
    finally:
        sock.close()


#: the folders that name the descriptors of the process that looks (Linux's, and fdescfs where /dev/fd is one)
_OWN_DESCRIPTORS = ("/proc/self", "/proc/thread-self", "/dev/fd")


def _names_a_descriptor(argv: list[str], cwd: str | None = None) -> str | None:
    """The first argument that names a file through this process's own descriptors past 2 (``/dev/fd/3``,
    ``/proc/self/fd/3``, a link to one, bash's ``<(...)``, ``--kernel=/dev/fd/3``, ``-k/dev/fd/3``), or None.

    A call's process in the worker has the caller's stdin, stdout and stderr only; there such a path names
    the call's own descriptor (its connection to the worker) or none.

    >>> _names_a_descriptor(["convolve", "/dev/fd/63", "-k", "box:3"])
    '/dev/fd/63'
    >>> _names_a_descriptor(["convolve", "/dev/stdin", "-k", "box:3"]) is None
    True
    """
    for arg in argv:
        if arg.startswith("--"):
            candidates = [arg.partition("=")[2]] if "=" in arg else []
        elif arg.startswith("-") and len(arg) > 2:  # a short option's attached value, after any flags before it
            candidates = [arg[i:] for i in range(2, len(arg))]
        else:
            candidates = [arg]
        if any(_through_own_descriptors(c, cwd) for c in candidates if c):
            return arg
    return None


def _through_own_descriptors(path: str, cwd: str | None) -> bool:
    """True when ``path``, its links followed one by one, goes through :data:`_OWN_DESCRIPTORS` to anything but
    descriptor 0, 1 or 2.  Not ``realpath``: it would follow ``/proc/self/fd/3`` itself to the file it is open on."""
    parts = path.split("/")[::-1]  # a stack: a link's target goes on top of what is left
    current = "/" if path.startswith("/") else (cwd or os.getcwd())
    links = 0
    while parts:
        part = parts.pop()
        if part in ("", "."):
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        current = os.path.join(current, part)
        if current in _OWN_DESCRIPTORS:
            rest = [p for p in reversed(parts) if p not in ("", ".")]
            if current == "/dev/fd":
                rest = ["fd", *rest]
            return not (len(rest) == 2 and rest[0] == "fd" and rest[1] in ("0", "1", "2"))
        try:
            target = os.readlink(current)
        except OSError:  # not a link, or not there: the rest follows from here
            continue
        links += 1
        if links > 40:  # a loop: the call meets it too (ELOOP), wherever it runs
            return False
        parts.extend(target.split("/")[::-1])
        current = "/" if target.startswith("/") else os.path.dirname(current)
    return False


def _stdin_offset() -> int | None:
    """Where stdin stands now when it can be rewound (a regular file), else None."""
    try:
        if stat.S_ISREG(os.fstat(0).st_mode):
            return os.lseek(0, 0, os.SEEK_CUR)
    except OSError:
        pass
    return None


#: signals a call's process gets from its own resource limits (``ulimit -t``, ``-f``): the
#: caller's, so the caller dies of them as a fresh process would, and the call is not run again
_OWN_LIMITS = tuple(getattr(signal, n) for n in ("SIGXCPU", "SIGXFSZ") if hasattr(signal, n))
#: those the command line turns into an exit code (130, 143, 129) rather than dying of them
_HANDLED = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class _Relay:
    """Signals to this client go to the call's process (:meth:`to`); those that come before
    it is known wait, and are relayed then.  When no call's process ever takes them (the
    call runs here after all), they act here as the block ends: Ctrl-C raises
    KeyboardInterrupt, as in a fresh process.  Ctrl-Z (SIGTSTP) stops the call's process
    and then this one; ``fg`` continues both.  :attr:`relayed` keeps what was passed on."""

    SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, n))
    STOP = getattr(signal, "SIGTSTP", None)

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        self.previous: dict = {}
        self.relayed: set[int] = set()

    def __enter__(self) -> "_Relay":
        for s in (*self.SIGNALS, self.STOP) if self.STOP is not None else self.SIGNALS:
            if signal.getsignal(s) != signal.SIG_IGN:  # ignored stays ignored, as in the call's process
                self.previous[s] = signal.signal(s, self._on_stop if s == self.STOP else self._on_signal)
        return self

    def _on_signal(self, signum, _frame) -> None:
        if self.pid is None:
            self.pending.append(signum)
            return
        try:
            os.kill(self.pid, signum)
            self.relayed.add(signum)
        except OSError:
            pass

    def _on_stop(self, signum, _frame) -> None:
        """Stop the call's process (it runs in the worker's session, out of reach of the terminal's
        job control), then this client as SIGTSTP would; once continued, continue the call."""
        pid = self.pid
        if pid is not None:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pid = None
        signal.signal(signum, signal.SIG_DFL)
        try:
            os.kill(os.getpid(), signum)  # stops here until SIGCONT
        finally:
            signal.signal(signum, self._on_stop)
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass

    def to(self, pid: int) -> None:
        self.pid = pid
        while self.pending:
            self._on_signal(self.pending.pop(0), None)

    def __exit__(self, *_exc) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(self.pending):  # never relayed: this process was the target
            handler = self.previous[s]
            if callable(handler):
                handler(s, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), s)


def _wait(sock: _socket.socket, stdin_at: int | None, reads_stdin: bool, relay: _Relay | None = None) -> int:
    """Wait (signals relayed by the caller's :class:`_Relay`) until the call reports its exit code.

    A call's process killed by a signal this client passed on (Ctrl-\\ is SIGQUIT) or by the
    caller's own resource limits ends this client the same way: it is not run again."""
    sock.settimeout(None)
    committed = False  # the call has written to stdout/stderr or put an output in place: never run it again
    while True:
        try:
            reply = protocol.receive(sock)
        except (OSError, protocol.ProtocolError):
            reply = None
        if not (reply and reply.get("committed")):
            break
        committed = True
    if reply and "exit" in reply:
        return int(reply["exit"])
    # The call's process died before it finished: the worker says by which signal, when it knows.
    killed = int(reply["killed"]) if reply and "killed" in reply else None
    own = killed in _OWN_LIMITS or (killed == signal.SIGKILL and _at_own_cpu_limit(reply.get("cpu")))
    if killed and (own or (relay is not None and killed in relay.relayed)):
        return _die_of(killed)
    code = 128 + killed if killed else 70
    if committed:
        sys.stderr.write(
            f"error: the kernelcli worker's call process {_death(killed)} after the call had written output (stdout, "
            "stderr or a file): it is not run again, which would repeat that output; run the command again "
            "(KERNELCLI_WORKER=off keeps calls away from the worker)\n"
        )
        return code
    # Run the call here instead, from where stdin stood (outputs are written through
    # temporary files, so none is half-written).
    if stdin_at is not None:
        os.lseek(0, stdin_at, os.SEEK_SET)
    elif reads_stdin and not _stdin_is_replayable():
        sys.stderr.write(
            f"error: the kernelcli worker's call process {_death(killed)} after it may have read stdin; "
            "run the command again (KERNELCLI_WORKER=off keeps calls away from the worker)\n"
        )
        return code
    raise _Fallback(f"the worker's call process {_death(killed)}")


def _at_own_cpu_limit(cpu_seconds: float | None) -> bool:
    """True when a call's process that used ``cpu_seconds`` reached this caller's hard CPU limit: the kernel kills
    it with SIGKILL there (bash's ``ulimit -t N`` sets soft and hard alike, so no SIGXCPU comes first), and a
    fresh process would have died the same way: the call is not run again (it ran a second time, as long)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    return cpu_seconds is not None and hard != resource.RLIM_INFINITY and float(cpu_seconds) >= hard - 0.05


def _die_of(signum: int) -> int:
    """End as the call's process did, killed by ``signum``; 128 + signum where that signal is one the
    command line turns into an exit code, or does not end this process."""
    if signum not in _HANDLED:
        sys.stdout.flush()
        sys.stderr.flush()
        if signum != signal.SIGKILL:  # (its disposition cannot be changed: Linux refuses, EINVAL)
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    return 128 + signum


def _death(signum: int | None) -> str:
    """'was killed by SIGKILL' for a known signal, else 'died'."""
    if not signum:
        return "died"
    from ..stops import signal_name  # only here: the client's fast path needs none of the signal module's enums

    return f"was killed by {signal_name(signum)}"


def _stdin_is_replayable() -> bool:
    """A terminal or /dev/null can be read again; a pipe that was read from cannot."""
    try:
        st = os.fstat(0)
    except OSError:
        return True
    return os.isatty(0) or stat.S_ISCHR(st.st_mode)
