"""Start, stop and ask the warm worker (what ``kernelcli worker start|stop|status`` call).

>>> status(socket_file="/nonexistent/w.sock") is None
True
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..errors import KernelcliError, UsageError
from . import protocol, starting

#: how long ``start`` waits for the worker to answer (a first run compiles the core)
START_TIMEOUT = 300.0
#: what a worker's log says while the core compiles (:func:`kernelcli.jitcache.announce_compiling`)
COMPILING = starting.COMPILING
#: a compiling worker that used no CPU for this long (or half the wait, if shorter) is hung, not compiling
STALL_SECONDS = 10.0
#: what a first start after an install does, as ``start`` says it
FIRST_START = "the first start after an install compiles it: a minute or more, longer on a busy machine"


class WorkerError(KernelcliError):
    """The worker could not be started or reached."""

    exit_code = 1


class WorkerPlaceError(WorkerError):
    """Where the worker's socket goes cannot take one (a folder open to others, a folder in the way, a path too
    long): a setting to fix, said before any worker starts."""

    exit_code = 2


class WorkerNotAnswering(WorkerError):
    """A worker holds the socket (it takes connections, or its queue is full) but does not answer: stopped
    (SIGSTOP) or hung.  :attr:`pid` is the listening process (``SO_PEERCRED``), None when its queue is full."""

    def __init__(self, path, pid: int | None) -> None:
        self.path, self.pid = str(path), pid
        if pid is None:
            super().__init__(f"a worker holds {path} but does not answer (stopped or hung), and its queue is full "
                             "(its pid cannot be asked): end it with kill")
        else:
            super().__init__(f"a worker (pid {pid}) holds {path} but does not answer (stopped or hung); "
                             "'kernelcli worker stop' ends it")


class StillCompiling(WorkerError):
    """The worker ``start`` started was still compiling the numeric core (its log says so, and it uses CPU) when
    the wait ended: left to go on in the background, where it takes calls once ready.  :attr:`pid`, :attr:`log`."""

    exit_code = 0

    def __init__(self, pid: int, log: str, seconds: float | None = None) -> None:
        self.pid, self.log = pid, log
        after = f"{START_TIMEOUT:g}" if seconds is None else f"{seconds:.0f}"  # (one another start started: its age)
        super().__init__(f"kernelcli worker {pid}: still compiling the numeric core after {after} s "
                         f"({FIRST_START}); it goes on in the background and takes calls once ready "
                         f"('kernelcli worker status' says when; its log: {log})")


class Ended(int):
    """The pid of a worker that did not answer ``stop`` and was ended by a signal, named by :attr:`signal`;
    :attr:`starting` when it was still starting (warming up, compiling) and so could not be asked."""

    signal = "SIGTERM"
    starting = False


#: the longest path a Unix socket's address holds on Linux (108 bytes with the closing NUL)
MAX_SOCKET_PATH = 107


def _socket(socket_file=None, create: bool = False) -> Path:
    if socket_file is not None:
        return Path(socket_file)
    runtime = protocol.runtime_dir(create=create)
    if runtime is None:
        folder = protocol.runtime_folder()
        raise WorkerPlaceError(f"{folder}: {protocol.not_private(folder)}; the worker needs a private folder of this user (mode 0700) for its socket")
    return Path(protocol.socket_path(runtime))


def _ask(path: Path, message: dict, timeout: float = 5.0, hung: bool = False) -> dict | None:
    """Send one request to the worker at ``path``; its answer, or None when none is there.

    With ``hung``, a worker that takes the connection (or whose queue is full) but does not answer within
    ``timeout`` raises :class:`WorkerNotAnswering`: it is there, not "not running"."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if st.st_uid != os.getuid():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (BlockingIOError, TimeoutError):  # a full queue
            if hung:
                raise WorkerNotAnswering(path, None) from None
            return None
        except OSError:
            return None
        try:
            if protocol.peer_uid(sock) != os.getuid():
                return None
            protocol.send(sock, message)
            return protocol.receive(sock)
        except TimeoutError:
            if hung:
                raise WorkerNotAnswering(path, protocol.peer_credentials(sock)[0]) from None
            return None
        except (OSError, protocol.ProtocolError):
            return None


def status(socket_file=None) -> dict | None:
    """The running worker's status (pid, version, socket, calls, ...), or None; :class:`WorkerNotAnswering` for
    one that holds the socket but does not answer."""
    try:
        path = _socket(socket_file)
    except WorkerError:
        return None
    return _ask(path, {"op": "status"}, hung=True)


def starting_now(socket_file=None) -> starting.Starting | None:
    """The worker a ``start`` left starting (warming up, compiling: not listening yet), or None.

    >>> starting_now(socket_file="/nonexistent/w.sock") is None
    True
    """
    try:
        return starting.read(_socket(socket_file))
    except WorkerError:
        return None


def unusable() -> str | None:
    """Why no call can reach a worker here whether or not one runs (the runtime folder is not
    private: a worker started before its mode changed still runs, unused), or None."""
    if not os.path.lexists(protocol.runtime_folder()):  # never made: no worker, nothing to say
        return None
    try:
        _socket()
    except WorkerError as exc:
        return str(exc)
    return None


def start(idle_seconds: float = protocol.DEFAULT_IDLE_SECONDS, socket_file=None, said=None) -> dict:
    """Start a worker (unless one runs) and wait until it answers; its status.

    The worker runs detached (its own session), logs to ``<socket>.log`` and exits after
    ``idle_seconds`` without calls.  A stale socket is replaced.  ``said(line)`` is told once when its log
    says it compiles the core (a first start after an install).  Past :data:`START_TIMEOUT`, a worker still
    compiling (using CPU) is left to go on: :class:`StillCompiling`; one that does not is ended: :class:`WorkerError`.
    A worker another start left starting (its marker, :mod:`.starting`) is waited on in the same way, not doubled.
    """
    if not 0 < idle_seconds <= protocol.MAX_IDLE_SECONDS:  # nan passed "> 0" checks and never timed out
        raise UsageError(f"idle_seconds: expected seconds > 0 and at most {protocol.MAX_IDLE_SECONDS} (a year), got {idle_seconds:g}")
    path = _socket(socket_file, create=True)
    running = _ask(path, {"op": "status"}, hung=True)  # (one that does not answer is said, not replaced)
    if running is not None:
        if _same_code(path):
            return running
        stop(socket_file=path)
    _refuse_what_is_not_a_socket(path)
    process, there = None, starting.read(path)
    if there is None:
        log = open(f"{path}.log", "ab")
        logged_from = log.tell()  # (what this worker writes: the log holds earlier workers' lines too)
        with log:
            process = _launch(path, idle_seconds, log)
        if starting.record(path, process.pid, f"{path}.log", logged_from):
            there = starting.read(path) or starting.Starting(process.pid, time.time(), None, f"{path}.log", logged_from)
        else:  # another start left its marker first: wait on that one
            process.terminate()
            process.wait()
            process, there = None, starting.read(path)
            if there is None:  # (and it listens already, or died)
                answer = _ask(path, {"op": "status"})
                if answer is None:
                    raise WorkerError(f"another start's worker exited while starting; see {path}.log")
                return answer
    if process is None and said is not None:
        said(f"kernelcli worker {there.pid}: starting already (for {there.seconds:.0f} s), not started again; waiting for it")
    return _wait_ready(path, there, process, said)


def _launch(path: Path, idle_seconds: float, log) -> subprocess.Popen:
    """The worker's process, detached, logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-c", _SERVE, os.path.dirname(protocol.package_dir()), str(path), repr(float(idle_seconds))],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        env=dict(os.environ, **{protocol.OFF_ENV: "off"}), cwd="/",
    )


def _wait_ready(path: Path, there: starting.Starting, process, said) -> dict:
    """Wait for the starting worker ``there`` (``process`` when this start launched it) to answer; see :func:`start`."""
    deadline = time.monotonic() + START_TIMEOUT
    compiling, samples, looked = False, [], 0.0
    while time.monotonic() < deadline:
        answer = _ask(path, {"op": "status"})
        if answer is not None and answer.get("pid") == there.pid:
            starting.forget(path, there.pid)
            return answer
        if process is not None and process.poll() is not None:
            starting.forget(path, there.pid)
            raise WorkerError(f"the worker {_ended(process.returncode)} while starting; see {path}.log")
        if process is None and not there.alive():
            raise WorkerError(f"the worker {there.pid} another start started exited while starting; see {path}.log")
        if time.monotonic() - looked >= 0.5:
            looked = time.monotonic()
            samples.append((looked, _cpu_seconds(there.pid)))
            if not compiling and there.compiling():
                compiling = True
                if said is not None:
                    said(f"kernelcli worker {there.pid}: compiling the numeric core ({FIRST_START})...")
        time.sleep(0.05)
    if compiling and there.alive() and _uses_cpu(samples, _cpu_seconds(there.pid)):
        if process is not None:
            _LEFT_RUNNING.append(process)  # (left on purpose: a Popen dropped while its process runs warns)
            raise StillCompiling(there.pid, there.log)
        raise StillCompiling(there.pid, there.log, there.seconds)
    if process is not None:
        process.terminate()
        try:
            process.wait(10.0)  # (reaped: a Popen dropped while its process runs warns, and leaves a zombie)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    else:
        _end(there.pid, 10.0)
    starting.forget(path, there.pid)
    hung = " (compiling, but it used no CPU for the last seconds: hung)" if compiling else ""
    raise WorkerError(f"the worker did not answer within {START_TIMEOUT:g} s{hung}; see {path}.log")


def _ended(returncode: int) -> str:
    """How a worker's process ended, from its ``returncode``: a negative one is the signal that ended it.

    >>> _ended(-15), _ended(1)
    ('was ended by SIGTERM (a "kernelcli worker stop"?)', 'exited with code 1')
    """
    if returncode < 0:
        from ..stops import signal_name

        name = signal_name(-returncode)
        return f'was ended by {name}' + (' (a "kernelcli worker stop"?)' if name == "SIGTERM" else "")
    return f"exited with code {returncode}"


#: the workers :func:`start` left compiling in the background
_LEFT_RUNNING: list = []


def _cpu_seconds(pid: int) -> float | None:
    """The CPU seconds process ``pid`` has used (Linux's /proc; None where it cannot be read).

    >>> _cpu_seconds(os.getpid()) is None or _cpu_seconds(os.getpid()) >= 0
    True
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _uses_cpu(samples: list, now: float | None) -> bool:
    """True when the CPU seconds went up over the last :data:`STALL_SECONDS` (half the wait, if shorter) of
    ``samples`` ((time, CPU seconds) pairs) to ``now``; True where they cannot be read (progress is then assumed
    of a worker whose log says it compiles).

    >>> _uses_cpu([(0.0, 1.0), (9.0, 1.0)], 1.5), _uses_cpu([(0.0, 1.0), (9.0, 1.0)], 1.0)
    (True, False)
    """
    if now is None or not samples:
        return True
    since = samples[-1][0] - min(STALL_SECONDS, START_TIMEOUT / 2)
    before = next((cpu for at, cpu in samples if at >= since), None)
    return before is None or now > before


def _refuse_what_is_not_a_socket(path) -> None:
    """A folder where the worker's socket goes cannot be replaced as a stale socket (or a file) is, and a path
    longer than a socket's address holds cannot be bound: say so, rather than start a worker that warms up and
    then fails with a traceback in its log.

    >>> _refuse_what_is_not_a_socket("/" + "d" * 200)
    Traceback (most recent call last):
    kernelcli.worker.control.WorkerPlaceError: /ddd...: a Unix socket's path holds at most 107 bytes, this one has 201; set XDG_RUNTIME_DIR to a shorter folder
    """
    if os.path.isdir(path) and not os.path.islink(path):
        raise WorkerPlaceError(f"{path}: is a folder, not the worker's socket; move it away to start the worker")
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH:
        raise WorkerPlaceError(f"{path}: a Unix socket's path holds at most {MAX_SOCKET_PATH} bytes, this one has {size}; "
                               "set XDG_RUNTIME_DIR to a shorter folder")


def spawn(path, idle_seconds: float = protocol.DEFAULT_IDLE_SECONDS):
    """Start a worker on ``path`` in the background without waiting for it (``KERNELCLI_WORKER=auto``);
    the process, or None when one is starting already (its marker, ``<socket>.starting``: :mod:`.starting`).
    :class:`WorkerPlaceError` where ``start`` refuses too (a worker there would warm up only to fail, every call).
    """
    _refuse_what_is_not_a_socket(path)
    if starting.read(path) is not None:
        return None
    with open(f"{path}.log", "ab") as log:
        logged_from = log.tell()
        process = _launch(path, idle_seconds, log)
    if not starting.record(path, process.pid, f"{path}.log", logged_from):  # another call's came first
        process.terminate()
        process.wait()
        return None
    return process


# The worker imports this very copy of kernelcli (and refuses calls once its files change: .watch).
_SERVE = "import sys; sys.path.insert(0, sys.argv.pop(1)); from kernelcli.worker.server import main; main()"


def _same_code(path: Path) -> bool:
    """True when the worker at ``path`` runs the code on disk now (it refuses calls otherwise)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        try:
            sock.connect(str(path))
            protocol.send(sock, {"op": "check", "stamp": protocol.code_stamp()})
            answer = protocol.receive(sock) or {}
        except (OSError, protocol.ProtocolError):
            return False
    return bool(answer.get("same"))


def stop(socket_file=None, timeout: float = 10.0) -> int | None:
    """Stop the worker; the pid it had, or None when none was running (as where the runtime folder was never made).
    One that holds the socket but does not answer, or one still starting (it does not listen yet), is ended with
    SIGTERM (and SIGCONT, were it stopped), then SIGKILL after ``timeout``: an :class:`Ended` pid.

    >>> stop(socket_file="/nonexistent/w.sock") is None
    True
    """
    if socket_file is None and not os.path.lexists(protocol.runtime_folder()):  # never made: as status, not an error
        return None
    path = _socket(socket_file)
    try:
        answer = _ask(path, {"op": "stop"}, hung=True)
    except WorkerNotAnswering as exc:
        if exc.pid is None:
            raise
        return _end(exc.pid, timeout)
    if answer is None:
        there = starting.read(path)
        if there is None:
            return None
        ended = _end(there.pid, timeout)
        ended.starting = True
        starting.forget(path, there.pid)
        return ended
    pid = int(answer["stopping"])
    _wait_gone(pid, timeout)
    return pid


def _wait_gone(pid: int, timeout: float) -> bool:
    """True once process ``pid`` is gone (or a zombie: ended, its parent not yet told), False when it is still
    there after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                if stat.read().rpartition(b")")[2].split()[0] == b"Z":
                    return True
        except (OSError, IndexError):
            pass
        time.sleep(0.05)
    return False


def _end(pid: int, timeout: float) -> Ended:
    """End the worker ``pid`` that does not answer: SIGTERM (continued, were it stopped), then SIGKILL."""
    import signal

    ended = Ended(pid)
    for sent in (signal.SIGTERM, signal.SIGCONT):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sent)
    if not _wait_gone(pid, timeout):
        ended.signal = "SIGKILL"
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, timeout)
    return ended


#: seconds a starting worker waits for one already on its socket to accept its connection
HOLD_TIMEOUT = 2.0


def who_holds(path: str, timeout: float = HOLD_TIMEOUT) -> str | None:
    """Why a starting worker must not take ``path``: one listens there already (a connection it accepts or queues, or a
    full queue: a worker busy or hung); None when nobody listens (no socket, or a stale one).

    Without the timeout, a full queue kept a starting worker waiting in connect for as long as the other hung.

    >>> who_holds("/nonexistent/w.sock") is None
    True
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        except OSError as exc:
            return f"a worker holds {path} but does not accept ({exc.strerror or exc})"
        peer = protocol.peer_credentials(sock)[0]
        try:  # a bare connect succeeds on a hung worker's queue too: ask it
            protocol.send(sock, {"op": "status"})
            answer = protocol.receive(sock)
        except (OSError, protocol.ProtocolError) as exc:
            return f"a worker (pid {peer}) holds {path} but does not answer ({exc.strerror or exc})"
    if not answer:
        return f"a worker (pid {peer}) holds {path} but closed the connection unanswered"
    return f"worker {answer.get('pid')} runs on {path} already"
