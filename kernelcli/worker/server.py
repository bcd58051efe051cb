"""The resident worker: loads everything once, then forks a child per call.

Each call runs in a fork of the warm, pristine parent, so it sees exactly the state a
fresh ``kernelcli`` process would build (plus loaded modules and compiled code, which
hold no per-call state): nothing one call does reaches the next.  The child takes the
caller's stdin/stdout/stderr, working folder, environment, umask and resource limits,
runs the same entry point as the command line (``kernelcli.cli.run``) and reports the
exit code (:mod:`.child`).

The parent refuses (and the client then runs the call itself): a peer of another user
(``SO_PEERCRED``; the connection is closed unanswered), a caller that may do or see other
things than the worker (another group, capabilities, no_new_privs or seccomp, namespaces,
control group or nice value: :func:`.identity.identity`; the call would run with the
worker's), a client of another kernelcli version, different import-time settings (see
:mod:`.protocol`) or interpreter options (``-W``, ``-X``...), another CPU affinity, a memory limit (the
warm process maps more), and every call once its own code on disk has changed (:mod:`.watch`).  It exits after
``idle_seconds`` without calls, on ``stop``, on SIGTERM, and when its code has changed.

The next call's process (the spare) is forked as soon as the last one has its call, while that
call runs, unless the running calls are as many as the CPUs this worker may use (always, on one
CPU: then it is forked when a call ends).

Run as ``python -m kernelcli.worker.server SOCKET IDLE_SECONDS`` (``kernelcli worker
start`` does it).

>>> Server("/nonexistent/w.sock", 60).stamp == protocol.code_stamp()
True
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time

from . import prefault, protocol, starting, watch
from .control import who_holds
from .child import run_child
from .hugepages import collapse
from .identity import identity
from .loaded import Loaded, file_stamps
from .refusal import refusal
from .warmup import (
    cache_state,
    index_paths,
    load_cached_overloads,
    typical_calls,
    warm_up,
)

class Server:
    """The worker's state: the socket, the calls in flight, the counters."""

    def __init__(self, path: str | os.PathLike[str], idle_seconds: float) -> None:
        self.path = str(path)
        self.idle_seconds = idle_seconds
        self.code_watch = watch.start(protocol.code_dirs())  # before the stamp: no change falls between
        self.code_folders = [protocol.package_dir()]  # its path, whatever is renamed above it later
        self.code_identity = watch.identities(self.code_folders)
        # the libraries' folders too, before warm_up imports them: taken after, an identity would vouch for a folder
        # swapped in while they loaded (``mv app app.old && mv app.new app``), not for the code held
        found = protocol.library_dirs(loaded=False)
        self._library_identity = dict(zip(found, watch.identities(found)))
        self.stamp = protocol.code_stamp()
        self.version = protocol.version_stamp()
        self.import_env = protocol.import_time_env()
        state = protocol.caller_state()
        self.affinity, self.limits, self.fs_encoding = state["affinity"], state["limits"], state["fs_encoding"]
        self.interpreter = state["interpreter"]
        self.identity = identity()
        self.cpus = len(self.affinity) if self.affinity else os.cpu_count() or 1
        self.started = time.time()
        self.calls = 0
        self.refused = 0
        self.rejected = 0  # connections from other users
        self.forked_on_call = 0  # calls that found no spare ready: forked on the call's path
        # each call's process: its start, and the worker's copy of its caller's connection (to say how it died)
        self.children: dict[int, tuple[float, socket.socket]] = {}
        self.last_activity = time.monotonic()
        self.stopping = False
        self.command = None  # the click command, built once
        self._inode = None  # of the socket file this worker bound
        self.huge_bytes = 0  # of its warm memory in 2 MiB pages (:mod:`.hugepages`)
        self.pages: tuple[int, ...] = ()  # what a call writes of that memory, written by each spare (:mod:`.prefault`)

    # -- life cycle -------------------------------------------------------------------
    def warm_up(self) -> None:
        """Import what calls use and load the compiled core, without running any thread."""
        import gc

        self.command = warm_up()
        _forget_exit_handlers_of_the_warm_up()
        self.loaded = Loaded()  # what a caller's import path must find where this worker found it
        self._watch_libraries()
        self.watched = index_paths()
        self.cache_seen = cache_state(self.watched)
        # What is loaded now stays: keep the collector from touching (and so copying) it in every fork.
        gc.collect()
        gc.freeze()
        self.huge_bytes = collapse()  # each call's fork then copies 512x fewer page-table entries
        self.pages = prefault.probe(typical_calls(self.command))

    def _watch_libraries(self) -> None:
        """Watch every library :attr:`loaded` holds, not a fixed list (python-isal, which writes every PNG and
        .nii.gz, went unwatched: audit 232 #4): a package's top folder as the code's, a lone module's file by its
        stamp."""
        own = os.path.realpath(protocol.package_dir())
        self.library_folders = sorted({*protocol.library_dirs(), *self.loaded.folders()} - {own})
        self.library_files = self.loaded.files()
        self.library_stamps = file_stamps(self.library_files)
        self.library_watch = watch.start(self.library_folders)  # numpy, numba, isal... upgraded or removed under it
        # the package's identity stays the one taken before the stamp; a library's, the one taken before its import
        # (a folder loaded from where none was found then: taken now)
        self.code_folders = [self.code_folders[0], *self.library_folders]
        self.code_identity = self.code_identity[:1] + tuple(
            self._library_identity.get(folder) or watch.identities([folder])[0] for folder in self.library_folders)

    def bind(self) -> socket.socket:
        """Listen on :attr:`path`: bound under a temporary name and renamed into place, so a
        client never finds a socket that is not yet listening."""
        # no longer than the socket's own name: a Unix socket's path holds at most 107 bytes
        temporary = os.path.join(os.path.dirname(self.path), f".{os.getpid() % 10**6}.tmp")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        old = os.umask(0o177)
        try:
            listener.bind(temporary)
        finally:
            os.umask(old)
        try:
            listener.listen(64)
            os.rename(temporary, self.path)  # (a folder at the path: IsADirectoryError, said by `worker start`)
        except BaseException:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(temporary)  # no socket left behind under a name no one looks for
            raise
        self._inode = os.stat(self.path).st_ino
        return listener

    def serve(self, listener: socket.socket) -> None:
        """Answer connections until stopped or idle for :attr:`idle_seconds`."""
        signal.signal(signal.SIGTERM, self._on_sigterm)
        self._wake = _child_exit_wakeup()
        self.last_activity = time.monotonic()
        try:
            while not self.stopping:
                self._reap()
                if not self.children and self.cache_seen is not None and cache_state(self.watched) != self.cache_seen:
                    self._learn_compiled()
                idle = time.monotonic() - self.last_activity
                if not self.children and idle > self.idle_seconds:
                    break
                if not self.children and self.code_watch is not None and self.code_changed():
                    break  # stale: its code on disk changed (without a watch, the next call finds out)
                if not self.children and not self._socket_is_mine():
                    break  # its socket was removed or replaced (a cleaned runtime folder): no client can reach it
                if len(self.children) < self.cpus:
                    # The next call's process is forked, and writes ahead what a call writes, as soon as
                    # this one's has its call: while the call runs (its client waits, so a single-threaded
                    # call leaves a core free; a call on every core shares one with it), and the next call
                    # of a shell loop finds it ready.  Not while the calls are as many as the CPUs, nor
                    # by a worker about to exit (checked first: it forked a spare, then dropped it).
                    self._spawn_spare(listener)
                # A call's process that ends wakes the loop (SIGCHLD): it is reaped, and a spare is
                # forked at once if none is ready (the calls filled the CPUs, or one CPU).
                waiting = [listener] if self._wake is None else [listener, self._wake]
                ready, _, _ = select.select(waiting, [], [], 0.02 if self.children and self._wake is None else 0.5)
                if self._wake is not None and self._wake in ready:
                    _drain(self._wake)
                if listener in ready:
                    conn, _ = listener.accept()
                    with conn:
                        self._answer(conn, listener)
        finally:
            self._drop_spare()
            self._unlink_if_mine(listener)
            listener.close()
            if self._wake is not None:
                _forget_child_exit_wakeup(self._wake)
                self._wake = None

    def _on_sigterm(self, _signum, _frame) -> None:
        self.stopping = True

    #: the read end of the pipe SIGCHLD writes to (None: the loop polls every 20 ms instead)
    _wake: int | None = None

    #: the Numba cache index files as :meth:`warm_up` left them (None: not watched)
    cache_seen: tuple | None = None
    #: the files of :attr:`cache_seen`
    watched: tuple[str, ...] = ()

    def _learn_compiled(self) -> None:
        """A call compiled something the warm-up had not (another dtype, say) and Numba cached it:
        load it here too, so that the next calls do not load it again each (the spare, forked
        before, is replaced)."""
        self.cache_seen = cache_state(self.watched)
        load_cached_overloads()
        self.huge_bytes = collapse()
        self.pages = prefault.probe(typical_calls(self.command))
        self._drop_spare()

    def _socket_is_mine(self) -> bool:
        """True while :attr:`path` is still the socket this worker bound."""
        try:
            return os.stat(self.path).st_ino == self._inode
        except OSError:
            return False

    def _unlink_if_mine(self, listener: socket.socket) -> None:
        # Another worker may have replaced the socket since (worker start after a stop).
        if self._socket_is_mine():
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def _reap(self) -> None:
        while self.children or self.spare is not None:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                for _started, conn in self.children.values():
                    conn.close()
                self.children.clear()
                return
            if pid == 0:
                return
            if self.spare is not None and pid == self.spare[0]:
                self._drop_spare()
            call = self.children.pop(pid, None)
            if call is not None:
                _tell_if_killed(call[1], status, usage.ru_utime + usage.ru_stime)
                self.last_activity = time.monotonic()

    # -- one connection -----------------------------------------------------------------
    def _answer(self, conn: socket.socket, listener: socket.socket) -> None:
        if protocol.peer_uid(conn) != os.getuid():
            self.rejected += 1
            print(f"kernelcli worker: refused a connection from uid {protocol.peer_uid(conn)}", file=sys.stderr, flush=True)
            return
        conn.settimeout(5.0)
        fds: list[int] = []
        try:
            message, fds = protocol.receive(conn, max_fds=3)
            if message is None:
                return
            op = message.get("op")
            if op == "status":
                protocol.send(conn, self.status())
            elif op == "check":
                protocol.send(conn, {"same": message.get("stamp") == self.stamp and not self.code_changed()})
            elif op == "stop":
                self.stopping = True
                protocol.send(conn, {"stopping": os.getpid()})
            elif op == "run":
                self._run(conn, listener, message, fds, protocol.peer_credentials(conn)[0])  # (fills fds: closed below)
            else:
                protocol.send(conn, {"refused": f"unknown request {op!r}"})
        except (OSError, protocol.ProtocolError) as exc:
            print(f"kernelcli worker: bad request: {exc}", file=sys.stderr, flush=True)
        finally:
            for fd in fds:
                os.close(fd)

    def status(self) -> dict:
        """What ``kernelcli worker status`` prints."""
        from .. import __version__

        return {
            "pid": os.getpid(),
            "version": __version__,
            "socket": self.path,
            "python": sys.executable,
            "package": str(protocol.package_dir()),
            "uptime_seconds": round(time.time() - self.started, 1),
            "idle_timeout_seconds": self.idle_seconds,
            "calls": self.calls,
            "refused": self.refused,
            "rejected_other_users": self.rejected,
            "calls_without_a_spare": self.forked_on_call,
            "code_watched": self.code_watch is not None,
            "huge_page_mib": round(self.huge_bytes / 2**20),
            "pages_written_ahead": len(self.pages),
            "calls_in_progress": sorted(self.children),
            "spare_ready": self.spare is not None,
            "spare_pid": None if self.spare is None else self.spare[0],
        }

    #: the libraries loaded from outside the standard library (None: not warmed up)
    loaded: Loaded | None = None
    #: the files of those that are no package, and their :func:`.loaded.file_stamps`
    library_files: list[str] = []
    library_stamps: tuple = ()

    #: a watch on the top folders of the libraries calls run on (None: not watched)
    library_watch = None

    def code_changed(self) -> bool:
        """True when this worker's code on disk, or a library it runs on, is no longer what it loaded (it is stale)."""
        if watch.identities(self.code_folders) != self.code_identity:
            return True  # a folder renamed away and another put at its path: no watch sees it (:mod:`.watch`)
        if self.library_watch is not None and self.library_watch.changed():
            return True
        if file_stamps(self.library_files) != self.library_stamps:
            return True
        if self.code_watch is not None:
            return self.code_watch.changed()
        return protocol.code_stamp() != self.stamp  # no watch: stamp the files (about 1 ms)

    def _refusal(self, message: dict, fds: list[int], peer_pid: int | None = None) -> str | None:
        return refusal(self, message, fds, peer_pid)

    def _run(self, conn: socket.socket, listener: socket.socket, message: dict, fds: list[int], peer_pid: int | None = None) -> None:
        """Take a call: the request comes alone; once it is taken, the caller sends its stdin, stdout and stderr
        (added to ``fds``, which the caller of this method closes).  Sent with the request, they stayed in
        flight in a hung worker's listen queue, holding the caller's pipes open after it ran the call itself."""
        reason = self._refusal(message, fds, peer_pid)
        if reason is not None:
            self.refused += 1
            protocol.send(conn, {"refused": reason})
            return
        protocol.send(conn, {"stdio": True})
        _more, stdio = protocol.receive(conn, max_fds=3)
        fds.extend(stdio)
        if len(stdio) != 3:  # the caller went away (it ran the call itself), or sent something else
            return
        pid = self._hand_to_spare(conn, message, fds)
        if pid is None:
            self.forked_on_call += 1
            pid = self._fork()
            if pid == 0:
                _forget_child_exit_wakeup(self._wake)
                run_child(conn, listener, message, fds, self.command)  # never returns
        self.children[pid] = (time.monotonic(), conn.dup())
        self.calls += 1
        self.last_activity = time.monotonic()

    def _fork(self) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for _started, conn in self.children.values():  # the other calls' connections: a copy here would
                conn.close()  # keep each open after its own call's process ended
            self.children.clear()
            for watching in (self.code_watch, self.library_watch):  # the worker's: a call holds what a fresh
                if watching is not None:  # process holds (under ulimit -n 20 a batch's pool failed only here)
                    watching.close()
            self.code_watch = self.library_watch = None
        return pid

    # A spare child, forked from the pristine parent ahead of time, waits for the next call:
    # the fork (page tables of a large process) is then off the call's path.
    spare: tuple[int, socket.socket] | None = None

    def _spawn_spare(self, listener: socket.socket) -> None:
        if self.spare is not None or self.stopping:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = self._fork()
        if pid == 0:
            _forget_child_exit_wakeup(self._wake)
            listener.close()
            ours.close()
            prefault.touch(self.pages)  # while the next call is on its way (else its process would fault them in)
            try:
                message, fds = protocol.receive(theirs, max_fds=4)
            except BaseException:  # noqa: BLE001 - the parent went away: nothing to do
                os._exit(0)
            theirs.close()
            if message is None or len(fds) != 4:
                os._exit(0)
            run_child(socket.socket(fileno=fds[0]), None, message, fds[1:], self.command)  # never returns
        theirs.close()
        self.spare = (pid, ours)

    def _hand_to_spare(self, conn: socket.socket, message: dict, fds: list[int]) -> int | None:
        """Give the call to the spare child; its pid, or None when there is none."""
        if self.spare is None:
            return None
        pid, channel = self.spare
        self.spare = None
        with channel:
            try:
                protocol.send(channel, message, [conn.fileno(), *fds])
            except OSError:
                return None
        return pid

    def _drop_spare(self) -> None:
        if self.spare is not None:
            self.spare[1].close()  # it reads the end of the stream and exits
            self.spare = None


def _forget_exit_handlers_of_the_warm_up() -> None:
    """Undo what the warm-up's calls left to run at exit: colorama's reset (``colorama.init``, which Numba
    calls as it words an error in colour) wrote ESC[0m on a terminal after every call the worker ran, which a
    fresh process does not; a call that calls ``init`` itself registers it again, as in a fresh process."""
    import atexit

    initialise = sys.modules.get("colorama.initialise")
    if initialise is not None and getattr(initialise, "atexit_done", False):
        atexit.unregister(initialise.reset_all)
        initialise.atexit_done = False


def _child_exit_wakeup() -> int | None:
    """A pipe that SIGCHLD writes to (``signal.set_wakeup_fd``); its read end, or None."""
    try:
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)  # a Python handler: the wake-up fd is written
        signal.set_wakeup_fd(write)
    except (OSError, ValueError):
        return None
    return read


def _forget_child_exit_wakeup(read: int | None) -> None:
    """Undo :func:`_child_exit_wakeup` (in a forked child, or when the loop ends)."""
    if read is None:
        return
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    write = signal.set_wakeup_fd(-1)
    for fd in (read, write):
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


def _tell_if_killed(conn: socket.socket, status: int, cpu_seconds: float) -> None:
    """Tell the caller that its call's process was killed by a signal (it ran out of memory, say), and the CPU
    seconds it had used (a SIGKILL at the caller's own hard ``ulimit -t`` is the caller's), then let the
    connection go: the caller reports a call that had written output as a fresh process would have ended
    (128 + the signal), and runs any other again itself.  A call that exited has said so itself."""
    with conn:
        if os.WIFSIGNALED(status):
            conn.setblocking(False)  # the caller reads until the end: a small message never waits
            try:
                protocol.send(conn, {"killed": os.WTERMSIG(status), "cpu": round(cpu_seconds, 3)})
            except OSError:
                pass


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def main(argv: list[str] | None = None) -> None:
    """``python -m kernelcli.worker.server SOCKET IDLE_SECONDS``: warm up, then serve."""
    path, idle = (argv if argv is not None else sys.argv[1:])[:2]
    server = Server(path, float(idle))
    try:
        server.warm_up()
        there = who_holds(path)
        if there is not None:  # another worker won the race, or one holds the socket: leave it be
            print(f"kernelcli worker {os.getpid()} not started: {there}", file=sys.stderr, flush=True)
            return
        listener = server.bind()
    finally:
        starting.forget(path, os.getpid())  # (listening now, or leaving: not starting any more)
    print(f"kernelcli worker {os.getpid()} ready on {path}", file=sys.stderr, flush=True)
    server.serve(listener)


if __name__ == "__main__":
    main()
