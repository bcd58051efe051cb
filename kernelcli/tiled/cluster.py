"""``--scheduler``: run a batch's files, or a big image's tiles, on a dask.distributed cluster.

``--scheduler local`` starts a ``LocalCluster`` of ``--workers`` processes (default: the
number of cores), one thread each, and closes it at the end; any other value is the
address of a running scheduler (``tcp://host:8786``), whose workers need only
``pip install 'kernelcli[distributed]'`` and the same files (a shared folder or object
storage).  Nothing here schedules by itself: files are ``Client.submit`` futures, tiles a
dask graph; the scheduler retries the tasks of a worker that dies.

* every file is written as it is without a cluster (a temporary file renamed into place),
  so a retried file is written once and whole, and a failed file fails alone (its
  record says why, the others complete);
* Ctrl-C cancels every future, removes the temporary files of the planned outputs and
  exits 130 without partial outputs.

Example
-------
>>> describe(None), describe("local")
('this process', 'a LocalCluster')
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from . import require


#: the address schemes a scheduler of another process can be reached by (distributed's inproc:// is this process's)
SCHEMES = ("tcp", "tls", "ws", "wss")
SCHEDULER_FORMS = "'local' or a dask scheduler's address, host:port or tcp://host:port (tls://, ws://, wss:// too)"


def scheduler_problem(scheduler: str) -> str | None:
    """Why ``scheduler`` is neither ``local`` nor an address a scheduler can answer on, or None: a bad one was tried
    for 10 s, or named in distributed's words ("not enough values to unpack").

    >>> scheduler_problem("tcp://10.0.0.5:8786"), scheduler_problem("local"), scheduler_problem("tcp://host:99999")
    (None, None, 'its port 99999 is not a port (1 to 65535)')
    """
    if scheduler == "local":
        return None
    scheme, separator, rest = scheduler.rpartition("://")
    if separator and scheme.lower() not in SCHEMES:
        return f"its scheme {scheme}:// is not one a scheduler of another process answers on ({', '.join(SCHEMES)})"
    host, colon, port = rest.rpartition(":")
    if not colon or not host.strip("[]"):
        return "it names no host and port"
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"its port {port} is not a port (1 to 65535)" if port else "it names no port"
    return None


def canonical_scheduler(text: str) -> str:
    """``--scheduler`` as the cluster takes it: ``local`` in any case, or an address (:func:`scheduler_problem`);
    a UsageError naming the value as typed for anything else.

    >>> canonical_scheduler(" Local "), canonical_scheduler("tcp://10.0.0.5:8786")
    ('local', 'tcp://10.0.0.5:8786')
    """
    from .. import numtext
    from ..errors import UsageError

    value = "local" if text.strip().lower() == "local" else text
    problem = scheduler_problem(value)
    if problem is not None:
        raise UsageError(f"--scheduler {numtext.quoted(text)}: {problem}; expected {SCHEDULER_FORMS}")
    return value


def describe(scheduler: str | None) -> str:
    """How a scheduler value reads in a note."""
    if scheduler is None:
        return "this process"
    return "a LocalCluster" if scheduler == "local" else f"the scheduler at {scheduler}"


#: what ``--workers`` sets, opening each note of a call where it changes nothing
WORKERS_SET = "the processes of a batch or of --scheduler local"


def unused_workers(workers: int | None, scheduler: str | None, *, tiles: bool) -> str | None:
    """The note for ``--workers`` given where it changes nothing, else None: a running cluster (``--scheduler``'s
    address) has its own workers, and a tile-by-tile run in this process (``tiles``) uses its threads, one per core.

    >>> print(unused_workers(3, "tcp://10.0.0.5:8786", tiles=False))
    --workers 3: the processes of a batch or of --scheduler local; the cluster at tcp://10.0.0.5:8786 has its own workers, so it changes nothing
    >>> unused_workers(3, "local", tiles=True) is None, unused_workers(None, None, tiles=True) is None
    (True, True)
    """
    if workers is None or (scheduler is not None and scheduler.strip().lower() == "local"):
        return None
    if scheduler is not None:
        where = f"the cluster at {scheduler} has its own workers"
    elif tiles:
        where = "a tile-by-tile run in this process uses its threads, one per core"
    else:
        return None
    return f"--workers {workers}: {WORKERS_SET}; {where}, so it changes nothing"


@contextmanager
def client_for(scheduler: str | None, workers: int | None = None, threads: int = 1) -> Iterator[Any]:
    """A ``distributed.Client`` for ``--scheduler`` (None: yields None), closed at the end.

    A LocalCluster gets ``workers`` processes (default: the cores), each running one task
    at a time with ``threads`` numeric-core threads.

    Raises MissingExtra (exit 2) without the extra, UsageError (exit 2) when the scheduler
    cannot be reached.
    """
    if scheduler is None:
        yield None
        return
    from .. import numtext
    from ..errors import UsageError

    scheduler = canonical_scheduler(scheduler)
    distributed = require("distributed", "--scheduler")

    if scheduler == "local":
        import dask

        n = max(1, int(workers or os.cpu_count() or 1))
        # Two defaults of dask's workers cost a file-sized task 2-3x its time (measured on 128x128 PNGs):
        # the statistical profiler (a stack sample every 10 ms) and MALLOC_TRIM_THRESHOLD_=64 KiB (every
        # freed image handed back to the system, and faulted in again). The config holds for restarts too.
        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items() if k != "MALLOC_TRIM_THRESHOLD_"}
        settings = {"distributed.worker.profile.enabled": False, "distributed.nanny.pre-spawn-environ": environ}
        if _has_forkserver():
            # Workers forked from a clean server process that imported distributed and numpy once: about
            # as quick to start as forking this process (measured: 2,000 PNGs, cluster / --workers 2 1.09
            # against 1.06), without forking a process whose event-loop thread may hold a lock (a plain
            # fork here is why distributed defaults to spawn).
            settings["distributed.worker.multiprocessing-method"] = "forkserver"
        from ..io.outputs import signals_deferred

        with dask.config.set(settings):
            cluster = None
            try:
                # Ctrl-C while the workers start is acted on once they have: stopped half way, they found the
                # forkserver's semaphores gone, and distributed's exit handler a cluster 'Status.init' (tracebacks)
                with signals_deferred():
                    # dashboard_address=None still serves HTTP, on port 8787: a second cluster (another
                    # kernelcli call) found it taken and warned; any free port of this host instead
                    cluster = distributed.LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                        silence_logs=logging.CRITICAL, env={"NUMBA_NUM_THREADS": str(threads)},
                    )
                client = distributed.Client(cluster)
                client.run(_quiet_runtime_warnings)  # their stderr is ours: an overflow is refused in one line here
                try:
                    yield client
                finally:
                    client.close()
            finally:
                if cluster is not None:
                    cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler {numtext.quoted(scheduler)}: cannot reach the scheduler ({' '.join(str(exc).split())}); "
                         "give 'local' or the address of a running dask scheduler, e.g. tcp://host:8786") from None
    try:
        yield client
    finally:
        client.close()


def _quiet_runtime_warnings() -> None:
    """On a local cluster's worker: numpy's RuntimeWarnings (an overflow...) are not printed, as in this process
    (results are checked instead); two 'overflow encountered in reduce' lines came before the refusal."""
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)


def _has_forkserver() -> bool:
    """Whether this platform starts processes from a fork server (Linux; not macOS or Windows)."""
    import multiprocessing
    import sys

    return "forkserver" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


def compute_tasks(tasks: Sequence[Any], client: Any, progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """Compute dask ``tasks`` (Delayed values, one per tile) here or on ``client``; ``progress(done, total)`` per tile.

    Ctrl-C cancels what is still running on the cluster before it propagates.  Here, where the threaded scheduler
    cannot start a thread (``ulimit -v``), the tasks run again on this thread alone (:func:`_compute_here`).
    """
    total = len(tasks)
    if client is None:
        return _compute_here(tasks, progress)
    distributed = require("distributed", "--scheduler")
    futures = client.compute(list(tasks))
    try:
        for done, _future in enumerate(distributed.as_completed(futures), start=1):
            if progress is not None:
                progress(done, total)
        return client.gather(futures)
    except BaseException as exc:
        client.cancel(futures)
        if isinstance(exc, RuntimeError) and str(exc).startswith("Error during deserialization of the task graph"):
            from ..errors import UsageError

            raise UsageError(f"the cluster at {client.scheduler.address} cannot read this call's tasks: its scheduler or "
                             "workers run another kernelcli (or other packages) than this one; restart them from this "
                             "environment") from None
        raise


def _compute_here(tasks: Sequence[Any], progress: Callable[[int, int], None] | None) -> list[Any]:
    """Compute ``tasks`` in this process on dask's threads; where one cannot start (``can't start new thread``: the
    system will not, as kernelcli's own crews meet it), the tiles the pool is still running are waited for and every
    task runs again on this thread (dask's synchronous scheduler): the same bytes, slower, never 'a bug' (audit 190 #3).
    A tile written twice is written the same; the progress counts each tile once.
    """
    import dask
    from dask.callbacks import Callback
    from dask.threaded import CPU_COUNT, ContextAwareThreadPoolExecutor

    keys, done = {t.key for t in tasks}, set()

    def posttask(key, result, dsk, state, worker_id) -> None:
        if key in keys and key not in done:
            done.add(key)
            if progress is not None:
                progress(len(done), len(keys))

    pool = ContextAwareThreadPoolExecutor(dask.config.get("num_workers", None) or CPU_COUNT)
    try:
        with Callback(posttask=posttask):
            return list(dask.compute(*tasks, scheduler="threads", pool=pool))
    except RuntimeError as exc:
        if "can't start new thread" not in str(exc):
            raise
        pool.shutdown(wait=True, cancel_futures=True)  # (its tiles end before they are written again)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    with Callback(posttask=posttask):
        return list(dask.compute(*tasks, scheduler="synchronous"))


def run_items(items: Sequence[Any], run: Callable[[Any], Any], client: Any, finished: Callable[[int, Any], None],
              failed: Callable[[Any, str], Any]) -> None:
    """Run ``run(item)`` for every item as futures on ``client``; ``finished(index, record)`` as each ends.

    ``run`` returns the item's record and never raises for a bad file; when the cluster
    itself cannot run an item (its workers kept dying), ``failed(item, message)`` makes the
    record, and that item fails alone.  Small files go in groups of up to :data:`GROUP` per
    task (at least 8 tasks per worker), which halves what the scheduler adds to each file.
    A worker that dies mid-group has its group run again elsewhere by the scheduler; a file
    it had written is found in place (see :func:`kernelcli.batch.run`), and none is ever
    half-written (writes are renamed into place).
    """
    distributed = require("distributed", "--scheduler")

    n = len(items)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    size = max(1, min(GROUP, n // (workers * 8)))
    futures = {}
    for start in range(0, n, size):
        indices = list(range(start, min(n, start + size)))
        future = client.submit(run_group, run, [items[i] for i in indices], pure=False,
                               key=f"kernelcli-files-{start}-{os.getpid()}-{id(items)}")
        futures[future] = indices
    try:
        for future in distributed.as_completed(list(futures)):
            indices = futures[future]
            try:
                records = future.result()
            except Exception as exc:  # noqa: BLE001 - the cluster's failure, reported for these files only
                message = f"the cluster could not run it: {type(exc).__name__}: {' '.join(str(exc).split())}"
                records = [failed(items[i], message) for i in indices]
            for index, record in zip(indices, records):
                finished(index, record)
    except BaseException:
        client.cancel(list(futures))
        raise


#: files per task at most (a task of small files costs the scheduler as much as one file)
GROUP = 16
#: Small files of a group run on this many threads of the worker: each output is fsync'ed before
#: it is renamed into place, and a file system commits concurrent fsyncs together (ext4 here: 6.5 ms
#: each one at a time, 1.7 ms with 2 threads, 0.4 ms with 8), so one file's wait hides behind the
#: others' work.  The results are the same bytes (every file is computed alone, whatever the thread).
FILE_THREADS = 4
#: ... when every input of the group is at most this big on disk (a few decoded at once stay small)
SMALL_FILE_BYTES = 1 << 20


def run_group(run: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[run(item) for item in items]`` on a worker: one task for a group of files (small files
    on :data:`FILE_THREADS` threads, see there), the records in the items' order."""
    if len(items) > 1 and all(_small(item) for item in items):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(FILE_THREADS, len(items)), thread_name_prefix="kernelcli-file") as pool:
            return list(pool.map(run, items))
    return [run(item) for item in items]


def _small(item: Any) -> bool:
    try:
        return os.stat(item.input).st_size <= SMALL_FILE_BYTES
    except (OSError, TypeError, ValueError, AttributeError):
        return False
