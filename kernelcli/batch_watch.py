"""Which items a batch's dead pool workers took with them (:class:`_Watch`), and their records.

``multiprocessing.Pool`` replaces a worker that died (the out-of-memory killer's SIGKILL) and never returns its
task; :func:`kernelcli.batch_pool._run_pool` asks the watch which pending items were lost, and each fails alone.

>>> _ended(-9)
'its worker process was killed by SIGKILL (out of memory?)'
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path  # noqa: F401 - (lost_record's doctest)
from typing import Any

from .batch_records import Record
from .batch_targets import Item
from .stops import signal_name


def lost_record(item: Item, why: str) -> Record:
    """The record of an item whose worker process died: failed alone, exit 1.

    >>> lost_record(Item(Path("a.png"), Path("o.png")), "its worker process was killed by SIGKILL (out of memory?)").error
    'a.png: its worker process was killed by SIGKILL (out of memory?)'
    """
    from .errors import EXIT_ITEM_FAILED

    return Record(str(item.input), str(item.output), "failed", error=f"{item.input}: {why}", code=EXIT_ITEM_FAILED)


#: seconds between looks at the pool's workers while waiting for results
WATCH_EVERY = 0.1
#: seconds a dead worker's item waits for a record the worker sent as it died, or for its exit code
LOST_AFTER = 1.0


class _Watch:
    """Which items a pool's dead workers took with them: each worker writes the item it runs in the pool's
    ``slots`` (its pid; negated once the record is on its way).  The items are looked at only when the
    pool's set of workers changed (a worker died and was replaced): nothing in a run where none dies."""

    def __init__(self, pool, total: int) -> None:
        self.pool, self.slots = pool, getattr(pool, "slots", None)
        self.pending = set(range(total))
        self.workers: dict[int, Any] = {}  # every worker seen, by pid: their exit codes
        self.seen: frozenset[int] = frozenset()
        self.dead_since: dict[int, float] = {}
        self.checked = time.monotonic()
        self.any_lost = False
        self.note_workers()

    def note_workers(self) -> list[Any]:
        """The pool's workers now, each kept: a worker that dies is taken out of the pool's list when the pool
        replaces it, and its exit code (SIGKILL: "out of memory?") is read from the one kept here.  Called at
        every wait, not only at a look (a worker killed on its first file, before the first look, was "ended
        unexpectedly")."""
        current = list(getattr(self.pool, "_pool", None) or [])
        for process in current:
            self.workers.setdefault(process.pid, process)
        return current

    def returned(self, index: int) -> None:
        self.pending.discard(index)
        self.dead_since.pop(index, None)

    def lost(self) -> list[tuple[int, str]]:
        """The items whose worker is dead, with why (once each)."""
        current = self.note_workers()
        now = time.monotonic()
        if self.slots is None or now - self.checked < WATCH_EVERY:
            return []
        self.checked = now
        pids = frozenset(p.pid for p in current)
        if pids == self.seen and not self.dead_since:
            return []
        self.seen = pids
        found = []
        for index in sorted(self.pending):
            pid = self.slots[index]
            if pid == 0:
                continue
            code = _exit_code(self.workers.get(abs(pid)))
            if code is None and _exists(abs(pid)):
                continue
            first = self.dead_since.setdefault(index, now)
            if (pid < 0 or code is None) and now - first < LOST_AFTER:  # its record may be on its way
                continue
            found.append((index, _ended(code)))
        for index, _why in found:
            self.returned(index)
        self.any_lost = self.any_lost or bool(found)
        return found


    def broken(self) -> list[tuple[int, str]]:
        """Every pending item, with why, once the pool can start no worker and none is left to take them: its
        worker handler thread has ended (it died on the forkserver's socket: a forkserver killed, as by the
        out-of-memory killer, takes its workers with it), and no worker of it is alive.  Else nothing: a pool
        short of one worker goes on.  Once each, as :meth:`lost`."""
        handler = getattr(self.pool, "_worker_handler", None)
        if not self.pending or handler is None or handler.is_alive():
            return []
        if any(_exists(process.pid) for process in self.note_workers()):
            return []
        found = [(index, "the batch's process pool broke (its server process ended), so no worker could take it")
                 for index in sorted(self.pending)]
        for index, _why in found:
            self.returned(index)
        self.any_lost = True
        return found


class quiet_pool_handler:
    """While a pool runs, a worker handler thread that dies (the forkserver gone: ConnectionRefusedError) has its
    traceback kept from stderr: :meth:`_Watch.broken` says what it means, once per pending item.  Every other
    thread's exception is printed as before."""

    def __enter__(self):
        import threading

        self.previous = threading.excepthook

        def hook(args):
            if not (args.thread is not None and "_handle_workers" in args.thread.name and isinstance(args.exc_value, OSError)):
                self.previous(args)

        threading.excepthook = hook
        return self

    def __exit__(self, *exc):
        import threading

        threading.excepthook = self.previous


#: what multiprocessing's forkserver Popen stores as a worker's exit code when it cannot read one: the server that
#: reports its workers' statuses ended (a forkserver killed takes its workers with it)
STATUS_LOST = 255
#: the words for such a worker's end (an exit code it never gave would be said otherwise)
ENDED_WITH_SERVER = "its worker process ended with the batch's server process (its exit status was lost)"


def _exit_code(process) -> int | str | None:
    """A worker's exit code once the pool has collected it (read, not polled: polling a forkserver's worker reads
    its status from a pipe the pool's own thread reads too); :data:`ENDED_WITH_SERVER` for multiprocessing's stand-in
    of a forkserver worker whose status was lost with its server."""
    popen = getattr(process, "_popen", None)
    code = getattr(popen, "returncode", None)
    if code == STATUS_LOST and type(popen).__module__ == "multiprocessing.popen_forkserver":
        return ENDED_WITH_SERVER
    return code


def _ended(code: int | str | None) -> str:
    """How a worker process ended, for its item's error (a text: :func:`_exit_code`'s words already).

    >>> _ended(-9), _ended(-11), _ended(1)
    ('its worker process was killed by SIGKILL (out of memory?)', 'its worker process was killed by SIGSEGV', 'its worker process ended with exit code 1')
    """
    if isinstance(code, str):
        return code
    if code is None:
        return "its worker process ended unexpectedly"
    if code < 0:
        return f"its worker process was killed by {signal_name(-code)}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
    return f"its worker process ended with exit code {code}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
