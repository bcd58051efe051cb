"""Split a row loop across threads.

The jitted loops are serial and release the GIL (``nogil=True``); this module runs one
contiguous block of output rows per thread.  Serial loops compile about twice as fast
as ``parallel=True`` ones and need no threading layer, which matters for a CLI that
may compile on its first run.

The thread count follows Numba's: ``numba.set_num_threads(n)`` (or the
``NUMBA_NUM_THREADS`` environment variable) is honoured, without starting Numba's own
thread pool when nothing else has.

Example
-------
>>> import numpy as np
>>> out = np.zeros(10)
>>> def fill(out, i0, i1):
...     out[i0:i1] = 1
>>> run_rows(fill, 10, out)
>>> out.sum()
np.float64(10.0)
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

#: Below this many output rows per thread the work runs on the calling thread alone.
MIN_ROWS_PER_THREAD = 16
#: Nor does a thread start for less than this much work (the caller's estimate, in output
#: values times taps): handing rows to a pool thread and waiting for it costs 15-50 us, the
#: time of a 3x3 on about 256x256 (measured: 2 threads were 1.3x slower than 1 there).
MIN_WORK_PER_THREAD = 1_000_000
#: Blocks of rows per thread (handed out dynamically).
BLOCKS_PER_THREAD = 4

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def count() -> int:
    """The number of threads to use: Numba's setting, read without launching its pool.

    Without Numba loaded (the FFT path of a fresh process) it is what Numba would
    choose: ``NUMBA_NUM_THREADS`` or the CPUs this process may run on.
    """
    if "numba" not in sys.modules:
        env = os.environ.get("NUMBA_NUM_THREADS", "")
        if env.strip().isdigit():
            return max(1, int(env))
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    import numba
    from numba.np.ufunc import parallel

    if getattr(parallel, "_is_initialized", False):
        return max(1, numba.get_num_threads())
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _forget_pool() -> None:
    # A forked child inherits the pool object but not its threads: it would wait forever.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kernelcli")
        return _pool


def run_rows(fn, n_rows: int, *args, threads: int | None = None, work: int | None = None) -> None:
    """Call ``fn(*args, i0, i1)`` on blocks of ``range(n_rows)`` from ``threads`` threads.

    The rows are cut into a few blocks per thread, handed out as threads become free
    (on a shared machine one thread is often descheduled: equal halves would leave the
    other idle).  The calling thread works too, and returns when every block is done,
    whether or not a helper thread ever ran; the first exception of any block propagates.
    ``work``, when given, estimates the whole job (output values times taps): a thread
    is started per :data:`MIN_WORK_PER_THREAD` of it at most.  Every row is computed the
    same way whoever computes it, so the thread count never changes the result.
    """
    t = n_rows // MIN_ROWS_PER_THREAD
    if work is not None:
        t = min(t, work // MIN_WORK_PER_THREAD)
    if t > 1:  # only then ask Numba (a few microseconds)
        t = min(t, count() if threads is None else max(1, threads))
    if t <= 1:
        fn(*args, 0, n_rows)
        return
    blocks = min(BLOCKS_PER_THREAD * t, n_rows // MIN_ROWS_PER_THREAD)
    bounds = [n_rows * b // blocks for b in range(blocks + 1)]
    run_tasks(lambda b: fn(*args, bounds[b], bounds[b + 1]), blocks, t)


def run_tasks(fn, n_tasks: int, threads: int) -> None:
    """Call ``fn(i)`` for each ``i`` in ``range(n_tasks)`` from ``threads`` threads (the caller's among them).

    Tasks are handed out in order as threads become free; the call returns when every task is
    done, and the first exception of any task propagates.  One thread (or one task): a plain loop.

    >>> seen = []
    >>> run_tasks(seen.append, 3, 2)
    >>> sorted(seen)
    [0, 1, 2]
    """
    t = min(max(1, threads), n_tasks)
    if t <= 1:
        for i in range(n_tasks):
            fn(i)
        return
    tickets = itertools.count()  # next() on it is atomic under the GIL
    lock = threading.Lock()
    finished = threading.Event()
    done = [0]
    errors: list[BaseException] = []
    # A helper that starts after the last task holds its work item until it runs: through ``job``
    # (emptied below) it no longer holds ``fn`` and the arrays it closes over.  Otherwise a
    # caller's output outlived the call, the next call's output took fresh memory and the kernel
    # zeroed it (2048^2 float32 3x3 on 2 threads, called back to back: 110-280 page faults a call).
    job = [fn]

    def work() -> None:
        while (b := next(tickets)) < n_tasks:
            try:
                job[0](b)
            except Exception as exc:  # re-raised by the caller
                errors.append(exc)
            finally:
                with lock:
                    done[0] += 1
                    if done[0] == n_tasks:
                        finished.set()

    # The caller waits for the tasks, not for the helper threads: on a busy host a helper may
    # be woken only after the caller has done every task, and waiting for it to run at all
    # would add a scheduler delay (milliseconds) to a job of a fraction of one.  A helper that
    # starts late finds no ticket left and returns.
    pool = _executor(t - 1)
    for _ in range(t - 1):
        pool.submit(work)
    work()
    finished.wait()
    job[0] = None
    if errors:
        raise errors[0]
