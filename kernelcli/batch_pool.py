"""A batch's worker processes: started from a clean forkserver, one job each, stopped cleanly.

:func:`run_one` runs one item and records its failure instead of raising; :func:`_start_pool`
starts the processes (each capping Numba's threads, ignoring Ctrl-C: the main process stops
them with SIGTERM, which unwinds the current write), and :func:`_run_pool` feeds them. The pools
pickle :func:`_init_worker` and :func:`_work` from this module.

>>> from kernelcli.batch_targets import Item
>>> from pathlib import Path
>>> run_one(lambda path, out: None, Item(Path("a.png"), Path("b.png"))).status
'ok'
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .batch_records import Record
from .batch_targets import Item
from .batch_watch import WATCH_EVERY, _exists, _Watch, lost_record, quiet_pool_handler
from .errors import KernelcliError
from .io.not_held import FloatOutputNeeded, KeepAdvised
from .io.outputs import signals_deferred
from .io.temporary import adopt_run_token, run_token
from .stops import raise_lost_stops, stop_replaced_by

#: what a job looks like: ``job(input_path, out=output_path)`` returning a report with ``.notes``
Job = Callable[..., Any]


def cap_numba_threads(threads: int) -> None:
    """Limit Numba (and kernelcli's row threads, which follow it) to ``threads`` in this process."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)  # read when numba is first imported
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its config is fixed; set the active count instead
        try:
            numba.set_num_threads(max(1, min(threads, int(numba.config.NUMBA_NUM_THREADS))))
        except Exception:  # noqa: BLE001 - a thread cap must never fail a batch
            pass


def run_one(job: Job, item: Item, token: str | None = None) -> Record:
    """Run one item; never raises for a failing file (only for Ctrl-C and exit requests).  ``token``: the run's
    (:func:`~kernelcli.io.temporary.run_token`), for a cluster's worker, which names its temporary files with it."""
    if token is not None:
        adopt_run_token(token)
    start = time.perf_counter()
    record = Record(str(item.input), str(item.output), "ok")
    try:
        record.finished(job(item.input, out=item.output))
    except Exception as exc:
        stop = stop_replaced_by(exc)
        if stop is not None:  # a stop an extension's import replaced by its own error (which a reader may have
            raise stop from exc  # wrapped in ours): not the file's failure, nor a bug; the run stops
        if isinstance(exc, (FloatOutputNeeded, KeepAdvised)):  # (a batch's outputs are named by --format: its values)
            exc = exc.by_format()
        if isinstance(exc, KernelcliError):  # in a batch every error names its file
            record.failed(exc, str(item.input), path=item.input)
        else:  # a bug (or MemoryError): keep going, but say so (exit 70 at the end)
            record.failed(exc, str(item.input), traceback.format_exc())
    record.seconds = time.perf_counter() - start
    return record


_WORKER_JOB: Job | None = None
#: in a worker: the pool's shared slots (one per item: the pid of the worker running it, negated as it returns)
_WORKER_SLOTS: Any = None


def _init_worker(job: Job, threads: int, slots: Any = None, token: str | None = None) -> None:
    global _WORKER_JOB, _WORKER_SLOTS
    _WORKER_JOB, _WORKER_SLOTS = job, slots
    if token is not None:  # the run's temporary files are named as the main process names them (its cleanup's)
        adopt_run_token(token)
    # Ctrl-C reaches the whole process group: the main process alone decides, and stops
    # the workers with SIGTERM, which unwinds the current write (removing its temporary file).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _stop_handlers()
    _stop_with_parent()
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)  # as in the main process: results are checked instead
    cap_numba_threads(threads)


#: Linux's prctl option: the signal a process gets when its parent ends
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """On Linux, SIGTERM this worker when its parent ends (the forkserver, which ends with the main process): a main
    process killed with SIGKILL left its workers running, publishing outputs after the command had exited and
    printing BrokenPipeError tracebacks into its caller's stderr.  Elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _stop_handlers() -> None:
    """SIGTERM stops a worker: SystemExit from wherever it is, which unwinds the current write
    (raised again from the worker's own code when it lands in a weakref callback: :mod:`kernelcli.stops`)."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    raise_lost_stops()


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _work(task: tuple[int, Item]) -> tuple[int, Record]:
    index, item = task
    assert _WORKER_JOB is not None
    if _WORKER_SLOTS is not None:  # (the main process's _Watch: whose task a dead worker took with it)
        _WORKER_SLOTS[index] = os.getpid()
    record = run_one(_WORKER_JOB, item)
    if _WORKER_SLOTS is not None:
        _WORKER_SLOTS[index] = -os.getpid()
    return index, record


def _context():
    """Worker processes start from a clean server process (forkserver), never as forks of
    this one: a fork would inherit thread pools whose threads do not exist in the child."""
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["kernelcli.batch_pool", "kernelcli.jobs", "kernelcli.io.formats", "kernelcli.api", "PIL.Image"])
        return ctx
    return mp.get_context("spawn")


class _our_kernelcli_first:
    """While a pool starts, the processes it starts import this kernelcli, not one in the
    current folder.

    Python 3.11 starts the forkserver with ``python -c``, so its ``sys.path[0]`` is the
    current folder, and it preloads any ``kernelcli`` found there (a source checkout of
    another version) before the workers get this process's ``sys.path``.  With the safe
    path (PYTHONSAFEPATH, as ``-P``) it finds ours on the path it shares with this process
    (site-packages, an editable install's ``.pth``, PYTHONPATH).  Only where this process
    found kernelcli in its own first entry (``python -m kernelcli`` in a checkout), which the
    safe path drops, is that folder put first on PYTHONPATH: never site-packages, whose
    modules would then shadow the standard library's in the pool's processes.  The
    environment is put back when the pool has started; spawned workers (no forkserver) take
    this process's ``sys.path`` before importing anything anyway.

    >>> with _our_kernelcli_first():                                  # doctest: +SKIP
    ...     pool = _context().Pool(2)
    """

    NAMES = ("PYTHONSAFEPATH", "PYTHONPATH")

    def __enter__(self) -> None:
        self.saved = {name: os.environ.get(name) for name in self.NAMES}
        os.environ["PYTHONSAFEPATH"] = "1"
        root = Path(__file__).resolve().parent.parent
        first = None if sys.flags.safe_path or not sys.path else Path(sys.path[0] or os.getcwd()).resolve()
        if root == first:
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), self.saved["PYTHONPATH"]]))

    def __exit__(self, *exc) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_pool(job: Job, n_workers: int, items: int = 0):
    """A pool of ``n_workers`` processes running ``job``, or None if processes cannot be started.

    ``items``: how many items :func:`_run_pool` will give it; the pool then carries ``slots``, where each worker
    says which item it runs, so that an item whose worker dies (the out-of-memory killer) fails alone.

    A signal while the pool starts is held until it has started, then stops it: interrupted
    half way, its starting workers would find the pool's semaphores gone and print tracebacks.
    """
    if not _descriptors_for(n_workers):
        return None
    pool = None
    try:
        with signals_deferred(), _our_kernelcli_first(), _group_signals_blocked():
            ctx = _context()
            slots = ctx.RawArray("q", items) if items else None
            pool = ctx.Pool(n_workers, initializer=_init_worker, initargs=(job, threads_per_worker(n_workers), slots, run_token()))
            pool.slots = slots
    except (OSError, ValueError, ImportError, EOFError):  # (EOFError: the forkserver ran out of descriptors)
        return None
    except BaseException:
        if pool is not None:
            _stop_pool(pool)
        raise
    if not _stop_pools_at_exit.registered:
        # after multiprocessing's own exit handler (the pool imported it), so it runs before it
        atexit.register(_stop_pools_at_exit)
        _stop_pools_at_exit.registered = True
    _LIVE_POOLS.add(pool)
    return pool


def _descriptors_for(n_workers: int) -> bool:
    """True unless the open-files limit (``ulimit -n``) leaves too few descriptors for a pool of ``n_workers``:
    the forkserver, failing to receive them, printed an EOFError traceback on the caller's stderr (at 18, for 2)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        in_use = len(os.listdir("/proc/self/fd"))
    except (ImportError, OSError, ValueError):
        return True  # (no /proc: the pool's own failure is caught as before)
    return soft == resource.RLIM_INFINITY or soft - in_use >= POOL_DESCRIPTORS + 3 * n_workers


#: descriptors a pool takes besides three per worker: the forkserver's and the resource tracker's pipes,
#: the descriptors the forkserver is handed for each process (under the same limit, with its own open), the
#: pool's own pipes and wake-ups (measured: a 2-worker pool of a process holding 4 failed under ulimit -n 18,
#: one holding 6 started under 19; a margin beyond both)
POOL_DESCRIPTORS = 16


class _group_signals_blocked:
    """SIGHUP, SIGTERM and SIGINT blocked while a pool starts: the helper processes multiprocessing starts then (the
    forkserver, the resource tracker) keep them blocked, as a closing terminal (SIGHUP), a service manager
    (SIGTERM) or a Ctrl-C (SIGINT) signals the whole process group.  A Ctrl-C reached the forkserver while it
    imported its preloaded modules (numpy, Pillow), before it ignores SIGINT, and printed a KeyboardInterrupt
    traceback or "Fatal Python error: init_import_site" (3 of 12 runs interrupted 0.6-1.0 s into a 200-file
    batch beside two CPU burners).  Killed by SIGHUP or SIGTERM, the forkserver left the workers it had
    forked running for ever (their exit codes then read 255, so nobody stopped them), and the pool's own
    thread, finding workers dead before this process had acted on its signal, asked the dead forkserver
    for new ones and printed a traceback.  Every process the forkserver starts (the pool's workers, a dask
    LocalCluster's, which share it) unblocks all three as it starts (:func:`_unblock_group_signals`, run after
    the fork); this process gets a signal that came meanwhile as the block ends.

    The resource tracker is started first: starting it, the standard library unblocks SIGINT and
    SIGTERM in this process, which would then start the forkserver with SIGTERM unblocked."""

    SIGNALS = {getattr(signal, name) for name in ("SIGHUP", "SIGTERM", "SIGINT") if hasattr(signal, name)}

    def __enter__(self) -> None:
        self.saved = None
        if hasattr(signal, "pthread_sigmask"):
            from multiprocessing import resource_tracker

            self.saved = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)
            try:
                resource_tracker.ensure_running()
            except BaseException:  # (a failed fork: the batch runs in this process, with its signals)
                self.__exit__()
                raise
            signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)

    def __exit__(self, *exc) -> None:
        if self.saved is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.saved)


def _unblock_group_signals(_owner: object) -> None:
    """In a process multiprocessing has just started: take back SIGHUP, SIGTERM and SIGINT, which its forkserver
    keeps blocked (:class:`_group_signals_blocked`).  A SIGINT that came while they were blocked is dropped (ignored
    across the unblocking, then the handler put back): a Ctrl-C to the group was delivered as it was taken back,
    before a pool worker's initializer ignores it, and multiprocessing printed a KeyboardInterrupt traceback (1 run
    of a full suite, test_signals); the main process decides what a Ctrl-C stops."""
    if hasattr(signal, "pthread_sigmask"):
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _group_signals_blocked.SIGNALS)
        signal.signal(signal.SIGINT, previous)


#: registered once per process that imports this module (the forkserver preloads it): multiprocessing runs
#: it in every process it starts from there, before the process's own code
_AFTER_FORK_OWNER = type("_AfterForkOwner", (), {})()


def _register_after_fork() -> None:
    import multiprocessing.util

    multiprocessing.util.register_after_fork(_AFTER_FORK_OWNER, _unblock_group_signals)


_register_after_fork()


#: pools started and not yet joined or stopped: a second signal can skip the unwinding's
#: own stop, and multiprocessing's exit handler would then terminate them without a time limit
_LIVE_POOLS: weakref.WeakSet = weakref.WeakSet()


def _stop_pools_at_exit() -> None:
    for pool in list(_LIVE_POOLS):
        _stop_pool(pool)


_stop_pools_at_exit.registered = False  # type: ignore[attr-defined]


#: seconds the pool's own shutdown, then each stopped worker, may take before we move on
STOP_GRACE = 3.0


def _stop_pool(pool, grace: float | None = None) -> None:
    """Stop the pool's workers; return within about ``3 * grace`` seconds (default
    :data:`STOP_GRACE`) whatever happens.

    ``Pool.terminate`` can block forever: it takes the task queue's lock, which a worker
    stopped while holding it never gives back, and it joins threads and workers without a
    time limit.  It runs in a daemon thread here; workers still alive after ``grace`` are
    sent SIGTERM (which unwinds their write, removing its temporary file), then SIGKILL.
    """
    grace = STOP_GRACE if grace is None else grace
    _LIVE_POOLS.discard(pool)
    with _sigint_ignored():
        stopper = threading.Thread(target=_terminate_quietly, args=(pool,), name="kernelcli-pool-stop", daemon=True)
        stopper.start()
        stopper.join(grace)
        workers = list(getattr(pool, "_pool", None) or [])
        for send in ("terminate", "kill"):
            alive = [p for p in workers if p.exitcode is None]
            for p in alive:
                try:
                    getattr(p, send)()
                except (OSError, ValueError):  # already gone
                    pass
            deadline = time.monotonic() + grace
            for p in alive:
                p.join(max(0.0, deadline - time.monotonic()))
        for p in workers:
            if p.exitcode is None:  # killed, yet not reported dead: the exit must not wait for it either
                _forget_child(p)
        _stop_orphans([p.pid for p in workers if p.exitcode == _FORKSERVER_LOST], grace)


#: the exit code multiprocessing gives a worker whose forkserver died (it no longer knows the real one)
_FORKSERVER_LOST = 255


def _stop_orphans(pids: list[int], grace: float) -> None:
    """SIGTERM, then SIGKILL, to workers that may outlive their forkserver (a signal to the whole process
    group killed it): multiprocessing reports them ended, so ``Process.terminate`` sends nothing."""
    for send in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, send)
                alive.append(pid)
            except OSError:  # gone (or, long since reused, not ours to signal)
                pass
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            time.sleep(0.01)
            alive = [pid for pid in alive if _exists(pid)]
        pids = alive


def _forget_child(process) -> None:
    """Take ``process`` off multiprocessing's children, which the interpreter's exit joins without a time limit."""
    import multiprocessing.process

    getattr(multiprocessing.process, "_children", set()).discard(process)


def _terminate_quietly(pool) -> None:
    try:
        pool.terminate()
        pool.join()
    except Exception:  # noqa: BLE001 - a pool that cannot be shut down cleanly is stopped by _stop_pool
        pass


def _run_pool(pool, items: Sequence[Item], finished: Callable[[int, Record], None],
              lost: Callable[[int, str], None] | None = None) -> None:
    """Run every item in ``pool``; ``finished(index, record)`` as each returns.  An item whose worker died (killed
    by the out-of-memory killer: multiprocessing.Pool replaces the worker and never returns its task) is
    ``lost(index, why)`` (default: a failed record, exit 1) and the others go on; the pool is then stopped,
    not joined (its lost task would keep the join waiting for ever)."""
    from multiprocessing import TimeoutError as Waited

    lost = lost or (lambda index, why: finished(index, lost_record(items[index], why)))
    watch = _Watch(pool, len(items))
    try:
        results = pool.imap_unordered(_work, list(enumerate(items)), chunksize=1)
        with quiet_pool_handler():
            while watch.pending:
                try:
                    index, record = results.next(timeout=WATCH_EVERY)
                except Waited:
                    pass
                except StopIteration:
                    break
                else:
                    watch.returned(index)
                    finished(index, record)
                for index, why in watch.lost() or watch.broken():
                    lost(index, why)
        if watch.any_lost:
            _stop_pool(pool)
            return
        pool.close()
        pool.join()  # a signal here too stops the pool within a bounded time
    except BaseException:
        _stop_pool(pool)
        raise
    _LIVE_POOLS.discard(pool)


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Numeric-core threads for each of ``workers`` processes, so workers x threads <= cores.

    >>> threads_per_worker(2, cores=8), threads_per_worker(16, cores=8)
    (4, 1)
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


class _sigint_ignored:
    """Ignore a second Ctrl-C, SIGTERM or SIGHUP while cleaning up (main thread only)."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __enter__(self):
        self.previous = {}
        for sig in self.SIGNALS:
            try:
                self.previous[sig] = signal.signal(sig, signal.SIG_IGN)
            except ValueError:  # not the main thread
                pass
        return self

    def __exit__(self, *exc):
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)
        return False
