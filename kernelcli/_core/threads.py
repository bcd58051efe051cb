"""Split a row loop across threads.

The jitted loops are serial and release the GIL (``nogil=True``); this module runs one
contiguous block of output rows per thread.  Serial loops compile about twice as fast
as ``parallel=True`` ones and need no threading layer, which matters for a CLI that
may compile on its first run.

The thread count follows Numba's: ``numba.set_num_threads(n)`` (or the
``NUMBA_NUM_THREADS`` environment variable) is honoured, without starting Numba's own
thread pool when nothing else has.

The helper threads are this module's own (:class:`_Crew`), started on the first split job and
handed each job through one condition; right after a job they poll for the next one for
:data:`SPIN_US`, outside the GIL, so that a loop of calls does not wake a sleeping thread each
time (an empty 2-task job: 17 -> 11 us, ``benchmarks/bench_handoff.py``).  A forked child
starts its own.

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
import time

#: Below this many output rows per thread the work runs on the calling thread alone.
MIN_ROWS_PER_THREAD = 16
#: Nor does a thread start for less than this much work (the caller's estimate, in multiply-adds
#: of a convolution's time): a split job pays a hand-off (a helper that sleeps, or waits for the
#: GIL, is woken on an idle vCPU).  Speed-up of 2 threads over 1 (dense, float32, interleaved
#: pairs, load 0.2-0.3), on the 2-vCPU Intel Xeon that runs CI and the benchmarks since 2026-12-03
#: (hand-off 37 us, ``benchmarks/bench_handoff.py``): 3x3 on 384^2 (1.3 M) 0.71x, 5x5 on 256^2
#: (1.6 M) 0.82x, 3x3 on 512^2 (2.4 M) 1.01x, 7x7 on 256^2 (3.2 M) 1.14x, 5x5 on 384^2 (3.7 M)
#: 1.19x, 9x9 on 256^2 (5.3 M) 1.30x, 3x3 on 768^2 (5.3 M) 1.23x, 5x5 on 512^2 (6.6 M) 1.38x; on the
#: AMD EPYC before it (hand-off 50-80 us) 7x7 on 256^2 0.73x, 9x9 0.99x, 5x5 on 512^2 0.93x, 11x11
#: on 256^2 (7.9 M) 1.14x.  Against the threshold of 3.5 M before (2 threads from 7 M), interleaved
#: rounds in one process (medians of 41 and 21, 2026-12-03 17:00, load 0.5, then with the host busy
#: and every time about 1.8x): from 1.5 M (2 threads from 3 M) 7x7 on 256^2 0.88x the time (busy:
#: 1.05x), 5x5 on 384^2 0.87x (0.95x), a 1024^2 float32 2x2 average, 4.2 M, 0.78x (1.06x); from
#: 5 M 9x9 on 256^2 0.75x (0.82x), 3x3 on 768^2 0.80x (0.92x), 5x5 on 512^2 0.72x (0.81x).  So
#: 2 threads from 4 M: the jobs from 5 M gain on a quiet host and on a busy one (the 4.2 M average
#: splits too).  Callers whose unit of work costs more scale their estimate (pooling).  On the Xeon of
#: 2026-12-04, 2 threads from 3 M gained back to back (256^2 7x7 0.132 -> 0.125 ms, 384^2 5x5 0.153 -> 0.137)
#: but lost when each call alternated with one of cv2's, whose threads spin on the other core after their
#: work (0.138 -> 0.190, 0.150 -> 0.191): kept.
MIN_WORK_PER_THREAD = 2_000_000
#: The most blocks of rows per thread (handed out dynamically): a job with no estimate, or one of at
#: least this many times :data:`BLOCK_WORK` a thread.
BLOCKS_PER_THREAD = 4
#: The least work (the callers' estimate, as :data:`MIN_WORK_PER_THREAD`) worth a block of its own:
#: each block costs a Python call and a ticket, 15-20 us on a 2-vCPU VM, so a shorter job takes one
#: block a thread, a longer one a block per BLOCK_WORK of its share (2048^2 uint8 2x2 average into uint8
#: on 2 threads, interleaved medians of 81: 8 blocks 0.37-0.40 ms, 2 blocks 0.31, two tasks by hand
#: 0.26-0.28, one thread 0.30-0.36, cv2 0.25-0.30).
BLOCK_WORK = 10_000_000

#: After a job, a helper thread polls for the next one this long (microseconds) before it
#: sleeps, outside the GIL; the caller polls for the helpers' last block as long.  A sleeping
#: helper took 30-60 us to wake on a 2-vCPU VM (an idle vCPU), the time of a 256x256 7x7; the
#: poll is bounded and starts only after a job, so an idle process keeps no core busy.
SPIN_US = 150
#: Helpers poll only once the crew has run this many jobs (see :class:`_Crew`).
SPIN_AFTER_JOBS = 2


def count() -> int:
    """The number of threads to use: Numba's setting, read without launching its pool.

    Without Numba loaded (the FFT path of a fresh process) it is what Numba would
    choose: ``NUMBA_NUM_THREADS`` or the CPUs this process may run on.

    >>> count() >= 1
    True
    """
    if "numba" not in sys.modules:
        # Numba's own reading (numba.core.config._readenv): int() or its default (str.isdigit took "²", int() not)
        try:
            return max(1, int(os.environ["NUMBA_NUM_THREADS"]))
        except (KeyError, ValueError):
            return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    import numba
    from numba.np.ufunc import parallel

    if getattr(parallel, "_is_initialized", False):
        return max(1, numba.get_num_threads())
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def start_helper(target, name: str) -> threading.Thread | None:
    """A daemon thread running ``target``, started; None when the system will not start one (``ulimit -v`` leaves
    no room for its stack, a thread limit): the crews then run with the helpers they have, the calling thread
    alone at worst, which computes every row as a helper would -- a slower call, the same bytes, where a
    RuntimeError ("can't start new thread") once ended the run as a bug.  A later job tries again.

    >>> t = start_helper(lambda: None, "kernelcli-example"); t.join(); t.name
    'kernelcli-example'
    """
    t = threading.Thread(target=target, name=name, daemon=True)
    try:
        t.start()
    except (RuntimeError, MemoryError):  # "can't start new thread", or no memory for the thread's own state
        return None
    return t


_crew: _Crew | None = None
_crew_lock = threading.Lock()


class _Crew:
    """Helper threads that run each job handed to :meth:`start`, all of them, until it returns.

    A job is a callable that finds its own tasks (:func:`run_tasks`' ``work``): a helper that
    comes late to a finished job finds none left.  Once the crew has run a few jobs and Numba is
    loaded, a helper polls the job counter (:func:`.spin.store_then_poll`, outside the GIL) for
    :data:`SPIN_US` after each job before it sleeps on the condition: a process that splits one
    or two jobs (a command line call) does not pay the few milliseconds of setting the poll up.
    What a job returns, when it is a writable int64 array of one element (the flag of a job whose
    last task that helper did), is set to 1 there, outside the GIL, before the poll.
    """

    def __init__(self, size: int) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.job = None
        self.generation = 0
        self.sleepers = 0
        self.counter = None  # the generation, in an array the poll reads outside the GIL
        self.polls = 0
        self.zeros = None
        self.nothing = None  # an empty int64 array, once the poll is set up
        self.setting_up = threading.Lock()
        self.threads = []
        self.grow(size)

    def grow(self, size: int) -> None:
        """At least ``size`` helpers, or as many as the system lets start (:func:`start_helper`)."""
        while len(self.threads) < size:
            t = start_helper(self._loop, f"kernelcli-{len(self.threads)}")
            if t is None:
                return
            self.threads.append(t)

    def start(self, job) -> None:
        """Hand ``job`` to every helper (the previous one, if a helper has not taken it yet, is dropped)."""
        with self.cond:
            self.job = job
            self.generation += 1
            if self.counter is not None:
                self.counter[0] = self.generation
            if self.sleepers:
                self.cond.notify_all()

    def finish(self, job) -> None:
        """Forget ``job`` if it is still the one handed out (its errors hold their frames' arrays)."""
        with self.cond:
            if self.job is job:
                self.job = None

    def _loop(self) -> None:
        seen = 0
        report = None  # the flag of a job whose last task this helper did (run_tasks): set outside the GIL
        while True:
            if self.polls:
                _spin().store_then_poll(self.nothing if report is None else report, self.counter, seen, self.polls)
            else:
                if report is not None:
                    report[0] = 1
                if seen >= SPIN_AFTER_JOBS:
                    self._set_up_poll()
            report = None
            with self.cond:
                while self.generation == seen:
                    self.sleepers += 1
                    self.cond.wait()
                    self.sleepers -= 1
                seen = self.generation
                job = self.job
            if job is not None:
                report = job()
                job = None  # a job's closure must not outlive it here (see run_tasks)
                if getattr(report, "shape", None) != (1,) or report.dtype != "int64" or not report.flags.writeable:
                    report = None  # a job may return anything: only run_tasks' flag is set

    def _set_up_poll(self) -> None:
        if not self.setting_up.acquire(blocking=False):
            return  # set up, being set up, or given up
        try:
            polls = prepare()
        except Exception:  # noqa: BLE001 - the poll cannot be loaded here: the helpers only sleep between jobs
            return  # (the lock stays held: never tried again; the helper must live on, or its share of each job is lost)
        if not polls:
            self.setting_up.release()  # Numba not loaded yet: a later job, after it is, sets the poll up
            return
        import numpy as np

        counter = np.zeros(1, dtype=np.int64)
        with self.cond:
            self.nothing = np.zeros(0, dtype=np.int64)
            self.zeros = np.zeros
            counter[0] = self.generation
            self.counter = counter
            self.polls = polls


_POLLS = 0


def prepare() -> int:
    """Load the poll of :mod:`.spin` and measure how many polls last :data:`SPIN_US`; 0 without Numba loaded.

    The helpers call it after a few jobs; a process that forks (the warm worker) calls it
    first, so that its children inherit both.

    >>> import numba
    >>> prepare() > 0
    True
    """
    global _POLLS
    if _POLLS or "numba" not in sys.modules or SPIN_US <= 0:
        return _POLLS  # the block FFT of a fresh process runs without Numba: loading it costs far more
    import numpy as np

    counter = np.zeros(1, dtype=np.int64)
    while_equal = _spin().while_equal
    while_equal(counter, 1, 1)  # loaded from the cache (or compiled)
    _spin().store_then_poll(np.zeros(0, dtype=np.int64), counter, 1, 1)  # the helpers' poll
    best = float("inf")
    for _ in range(3):  # the quickest of three: a descheduled run would overestimate a poll
        t0 = time.perf_counter()
        while_equal(counter, 0, 200)
        best = min(best, (time.perf_counter() - t0) / 200)
    _POLLS = max(1, int(SPIN_US * 1e-6 / max(best, 1e-9)))
    return _POLLS


def _spin():
    from . import spin

    return spin


def _forget_pool() -> None:
    # A forked child inherits the crew object but not its threads: it would wait forever.
    global _crew, _crew_lock
    _crew = None
    _crew_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _helpers(workers: int) -> _Crew:
    global _crew
    with _crew_lock:
        if _crew is None:
            _crew = _Crew(workers)
        else:
            _crew.grow(workers)
        return _crew


def run_rows(fn, n_rows: int, *args, threads: int | None = None, work: int | None = None) -> None:
    """Call ``fn(*args, i0, i1)`` on blocks of ``range(n_rows)`` from ``threads`` threads.

    The rows are cut into one to four blocks per thread (:data:`BLOCK_WORK`), handed out as threads become free
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
    per_thread = BLOCKS_PER_THREAD if work is None else max(1, min(BLOCKS_PER_THREAD, work // (BLOCK_WORK * t)))
    blocks = min(per_thread * t, n_rows // MIN_ROWS_PER_THREAD)
    bounds = [n_rows * b // blocks for b in range(blocks + 1)]
    run_tasks(lambda b: fn(*args, bounds[b], bounds[b + 1]), blocks, t)


def run_tasks(fn, n_tasks: int, threads: int) -> None:
    """Call ``fn(i)`` for each ``i`` in ``range(n_tasks)`` from ``threads`` threads (the caller's among them).

    Tasks are handed out in order as threads become free; the call returns when every task is
    done, and the first exception of any task propagates (a BaseException too), the tasks not yet
    started then skipped.  One thread (or one task): a plain loop.

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
    seats = itertools.count()  # the crew may be larger than this call wants
    lock = threading.Lock()
    finished = threading.Event()
    done = [0]
    errors: list[BaseException] = []
    crew = _helpers(t - 1)
    zeros, polls = crew.zeros, crew.polls  # (read together: set together)
    flag = None if zeros is None else zeros(1, dtype="int64")  # 1 when every task is done, read outside the GIL
    # A helper that starts after the last task holds its work item until it runs: through ``job``
    # (emptied below) it no longer holds ``fn`` and the arrays it closes over.  Otherwise a
    # caller's output outlived the call, the next call's output took fresh memory and the kernel
    # zeroed it (2048^2 float32 3x3 on 2 threads, called back to back: 110-280 page faults a call).
    job = [fn]

    def work(helping: bool = False):
        """Do tasks until none is left; a helper that did the last one returns ``flag``, for its
        loop to set outside the GIL (:func:`.spin.store_then_poll`)."""
        last = False
        while (b := next(tickets)) < n_tasks:
            try:
                if not errors:  # after an error the tasks left are skipped: it is raised once the running ones end
                    job[0](b)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller (a helper's SystemExit too: it
                errors.append(exc)  # once counted as done, the call returned without it and that helper ended)
            finally:
                with lock:
                    done[0] += 1
                    last = done[0] == n_tasks
                if last:
                    finished.set()
                    if flag is not None and not helping:
                        flag[0] = 1
        return flag if last and helping else None

    def helper():
        return work(helping=True) if next(seats) < t - 1 else None

    # The caller waits for the tasks, not for the helper threads: on a busy host a helper may
    # be woken only after the caller has done every task, and waiting for it to run at all
    # would add a scheduler delay (milliseconds) to a job of a fraction of one.  A helper that
    # starts late finds no ticket left and returns.
    crew.start(helper)
    work()
    if flag is not None and not finished.is_set():
        _spin().while_equal(flag, 0, polls)
    finished.wait()
    job[0] = None
    crew.finish(helper)
    if errors:
        raise errors[0]
