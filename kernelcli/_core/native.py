"""Split a row loop across threads that never take the GIL: the helpers of the common loops.

:mod:`.threads` hands each job to helper threads through Python: a helper that sees a job
must take the GIL to start its share, and the caller holds it until its own share starts, so
the helper sleeps in the GIL's wait and is woken on an idle vCPU 40-50 us later, the time of a
whole 1 M-value job (a uint8 2x2 average of 2048^2 took 0.19 ms on two threads, as on one;
cv2's 0.11).  Here a job is handed over in memory instead: the caller writes a control block
(:data:`CONTROL`) from jitted code, outside the GIL, and each helper, polling it from jitted
code, claims blocks of rows and runs them by calling the row loop's C entry point
(:mod:`.native_rows`: one per loop and dtypes, with the loop's arguments packed into an int64
array) -- no Python, no GIL, from the job's start to its end.  A job runs here when its loop has
such an entry point and its arguments are of the expected dtypes and contiguous
(:func:`.native_rows.entry` checks every one, before any address is handed over); else, and
while another thread's job holds the block, through :mod:`.threads`.  Every block is the same
loop over the same rows, whoever runs it: the result does not depend on the path.

After a job a helper polls for :data:`.threads.SPIN_US` (as :mod:`.threads`' helpers do), then
returns to Python and sleeps on a condition; a caller that finds one asleep wakes it through
Python and starts without it (the blocks are claimed as threads come: a late helper takes what
is left).  A forked child starts its own helpers; at the interpreter's exit they are sent home
(:meth:`_Pool.stop`, an ``atexit`` function) before the control block is freed.

Example
-------
>>> import numpy as np
>>> from kernelcli._core import pool
>>> x = np.arange(64, dtype=np.uint8).reshape(8, 8); x.flags.writeable = False  # (the loop's types)
>>> out = np.empty((4, 4), np.uint8)
>>> run_rows(pool.avg2_rows_int, 4, x, 1, out, threads=2, work=10**9)  # (4 rows: one thread; see run_rows)
>>> out[0].tolist()
[4, 6, 8, 10]
"""

from __future__ import annotations

import atexit
import os
import threading

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import native_rows
from . import threads as python_threads
from .jit import njit
from .spin import _pause, _sched_yield

#: the control block's words: the job's number (published last), its entry point and packed
#: arguments, the rows, the next block to claim, the helpers' seats, the blocks done and (for tests)
#: the blocks the helpers ran.  A claim reads one word, :data:`NEXT` (the job's number, its block count
#: and the next block: :func:`_ticket`), and takes a block with a compare-and-swap of it, so a helper that
#: comes late to a finished job can claim nothing of the next one, whose fields it reads only after a claim
#: (the caller writes them before it publishes the word, and the job cannot end before the claimed block
#: does).  :data:`SEATS` (the job's number and the seats left) caps the helpers a job takes at the thread
#: count the caller asks for, whatever the size of the pool.
JOB, ENTRY, ARGS, ROWS, NEXT, SEATS, DONE, HELPED = range(8)
CONTROL = 8
#: job numbers run 1 .. JOBS (31 bits: the high half of :data:`NEXT` and :data:`SEATS`), then again
JOBS = (1 << 31) - 1
#: the job number that sends the helpers home (at the interpreter's exit, before it frees the control block)
STOP = -1
#: the most blocks of a job (16 bits of :data:`NEXT`)
MAX_BLOCKS = (1 << 16) - 1
#: blocks per thread of a native job: a claim costs a compare-and-swap, not a Python call, so a
#: thread that is descheduled for a while leaves its blocks to the others
BLOCKS_PER_THREAD = 4
#: jobs below this much work a thread (the callers' unit, as :data:`.threads.MIN_WORK_PER_THREAD`) stay on
#: the caller's thread.  The hand-off itself costs a few microseconds (512^2 3x3, back to back: one thread
#: 132 us, split 102-108), but a helper shares its core with whatever else runs: each call alternating with
#: one of cv2's, whose threads spin after their work, one thread / split (us, 2026-12-04 18:20 UTC):
#: 256^2 3x3 (0.6 M) 37 / 52, 384^2 3x3 (1.3 M) 67 / 75, 256^2 7x7 (3.2 M) 141 / 163, 512^2 3x3 (2.4 M)
#: 148 / 220; a 1024^2 float32 2x2 average (4.2 M) 188 / 121.  So the threshold of :mod:`.threads`.
MIN_WORK_PER_THREAD = 2_000_000


def _word(context, builder, signature, args):
    ary = context.make_array(signature.args[0])(context, builder, args[0])
    return builder.gep(ary.data, [args[1]])


@intrinsic
def _load(typingctx, a, i):
    """``a[i]`` of an int64 array, an acquire load."""
    def codegen(context, builder, signature, args):
        return builder.load_atomic(_word(context, builder, signature, args), "acquire", 8)

    return types.int64(a, types.int64), codegen


@intrinsic
def _store(typingctx, a, i, v):
    """``a[i] = v`` for an int64 array, a release store."""
    def codegen(context, builder, signature, args):
        builder.store_atomic(args[2], _word(context, builder, signature, args), "release", 8)
        return context.get_dummy_value()

    return types.none(a, types.int64, types.int64), codegen


@intrinsic
def _add(typingctx, a, i, v):
    """``a[i] += v`` for an int64 array, atomically."""
    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _word(context, builder, signature, args), args[2], "seq_cst")

    return types.int64(a, types.int64, types.int64), codegen


@intrinsic
def _swap_if(typingctx, a, i, old, new):
    """``a[i] = new`` if it is ``old`` (True), atomically; else False."""
    def codegen(context, builder, signature, args):
        pair = builder.cmpxchg(_word(context, builder, signature, args), args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)

    return types.boolean(a, types.int64, types.int64, types.int64), codegen


@intrinsic
def _call_entry(typingctx, entry, packed, i0, i1):
    """Call the C function at address ``entry`` as ``void f(int64 packed, int64 i0, int64 i1)``."""
    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(ir.VoidType(), [i64, i64, i64])
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), list(args[1:]))
        return context.get_dummy_value()

    return types.none(types.int64, types.int64, types.int64, types.int64), codegen


@njit(nogil=True, cache=True, inline="always")
def _ticket(job, blocks, b):
    """The word :data:`NEXT`: block ``b`` of ``blocks`` of ``job`` is the next to claim."""
    return (job << 32) | (blocks << 16) | b


@njit(nogil=True, cache=True)
def _run_blocks(control, job, helping):
    """Claim and run blocks of ``job`` until none is left (or the block holds another job)."""
    while True:
        ticket = _load(control, NEXT)
        b, n = ticket & 0xFFFF, (ticket >> 16) & 0xFFFF
        if ticket >> 32 != job or b >= n:
            return
        if not _swap_if(control, NEXT, ticket, ticket + 1):
            continue
        rows = control[ROWS]  # read after the claim: the job cannot end (and its fields change) before this block does
        _call_entry(control[ENTRY], control[ARGS], rows * b // n, rows * (b + 1) // n)
        if helping:
            _add(control, HELPED, 1)
        _add(control, DONE, 1)


@njit(nogil=True, cache=True)
def _take_seat(control, job):
    """True when a seat of ``job`` is left and now taken (a helper beyond the job's thread count gets none)."""
    while True:
        seats = _load(control, SEATS)
        if seats >> 32 != job or seats & 0xFFFFFFFF == 0:
            return False
        if _swap_if(control, SEATS, seats, seats - 1):
            return True


@njit(nogil=True, cache=True)
def helper_poll(control, seen, polls):
    """A helper's loop: run the blocks of each new job, return the last job seen after ``polls`` polls find none
    (or :data:`STOP` at once)."""
    while True:
        job = seen
        for _ in range(polls):
            job = _load(control, JOB)
            if job != seen:
                break
            _pause()
            _sched_yield()
        if job == seen or job == STOP:
            return job
        seen = job
        if _take_seat(control, job):
            _run_blocks(control, job, True)


@njit(nogil=True, cache=True)
def drive(control, job, entry, packed, blocks, rows, seats):
    """The caller's side: publish ``job`` (``blocks`` blocks, at most ``seats`` helpers), run blocks of it,
    and return when every block is done."""
    control[ENTRY] = entry
    control[ARGS] = packed
    control[ROWS] = rows
    control[DONE] = 0
    _store(control, SEATS, (job << 32) | seats)
    _store(control, NEXT, _ticket(job, blocks, 0))
    _store(control, JOB, job)
    _run_blocks(control, job, False)
    while _load(control, DONE) < blocks:  # a helper's last block
        _pause()
        _sched_yield()


class _Pool:
    """The helper threads and the control block of one process."""

    def __init__(self) -> None:
        self.control = np.zeros(CONTROL, dtype=np.int64)
        self.job = 0
        self.busy = threading.Lock()  # one job at a time holds the control block
        self.cond = threading.Condition(threading.Lock())
        self.sleepers = 0
        self.polls = max(1, python_threads.prepare())
        self.threads: list[threading.Thread] = []

    def grow(self, size: int) -> None:
        """At least ``size`` helper threads (the caller holds :attr:`busy`)."""
        while len(self.threads) < size:
            t = python_threads.start_helper(self._loop, f"kernelcli-native-{len(self.threads)}")
            if t is None:  # the blocks are claimed as threads come: the caller and the helpers it has run them all
                return
            self.threads.append(t)

    def _loop(self) -> None:
        seen = 0
        while True:
            seen = helper_poll(self.control, seen, self.polls)
            with self.cond:
                while self.job == seen and seen != STOP:
                    self.sleepers += 1
                    self.cond.wait()
                    self.sleepers -= 1
                if seen == STOP or self.job == STOP:
                    return

    def stop(self, timeout: float = 1.0) -> None:
        """Send the helpers home and wait for them (at most ``timeout`` seconds each): at the interpreter's exit,
        a helper still polling would read the control block after it is freed, and might call what it then
        holds (a daemon thread runs on through the interpreter's teardown until it needs the GIL)."""
        with self.busy:  # (no job holds the block now)
            with self.cond:
                self.job = STOP
                self.cond.notify_all()
            self.control[JOB] = STOP  # (a helper polls it with an acquire load)
        for t in self.threads:
            t.join(timeout)

    def run(self, entry: int, packed: np.ndarray, blocks: int, rows: int, seats: int) -> None:
        """Run one job on the caller's thread and at most ``seats`` helpers (the caller holds :attr:`busy`)."""
        if not (0 < blocks <= MAX_BLOCKS and 0 <= seats < 1 << 32):
            raise ValueError(f"a native job of {blocks} blocks and {seats} seats: at most {MAX_BLOCKS} blocks")
        with self.cond:
            self.job = self.job % JOBS + 1
            job = self.job
            if self.sleepers and seats:
                self.cond.notify(min(self.sleepers, seats))
        drive(self.control, job, entry, packed.ctypes.data, blocks, rows, seats)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    # A forked child inherits the pool but not its threads (nor, maybe, a lock a job held).
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


@atexit.register
def _stop_helpers() -> None:
    if _pool is not None and _pool.threads:
        _pool.stop()


def _helpers() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool()
        return _pool


#: True once the driver is loaded (:func:`prepare`), False when it cannot be (then never tried again).  A
#: process runs its first :data:`.threads.SPIN_AFTER_JOBS` split jobs through :mod:`.threads`: loading the
#: driver and an entry point takes 8-12 ms, more than a command line call's one or two jobs save
_READY: bool | None = None
_split_jobs = 0


def prepare(entries: bool = False) -> bool:
    """Load the driver (and with ``entries`` every entry point of :data:`.native_rows.LOOPS`) without
    starting a thread; False when it cannot be loaded here (the jobs then run through :mod:`.threads`).
    The warm worker calls it with ``entries`` before it forks: its calls' processes inherit both.

    >>> prepare()
    True
    """
    global _READY
    if _READY is None:
        try:
            control = np.zeros(CONTROL, dtype=np.int64)
            drive(control, 1, 0, 0, 0, 0, 0)  # a job of no blocks
            helper_poll(control, 1, 1)
            _take_seat(control, 1)
            python_threads.prepare()
            _READY = True
        except Exception:  # noqa: BLE001 - no native helpers here: the jobs run through .threads (the same bytes)
            _READY = False
    if _READY and entries:
        native_rows.load_all()
    return _READY


def run_rows(fn, n_rows: int, *args, threads: int | None = None, work: int | None = None,
             native_work: int | None = None) -> None:
    """:func:`.threads.run_rows`'s call ``fn(*args, i0, i1)`` over ``range(n_rows)``, on helpers that
    never take the GIL where ``fn`` has a C entry point (:mod:`.native_rows`) for these arguments.

    ``work`` as for :func:`.threads.run_rows`, against this module's :data:`MIN_WORK_PER_THREAD`;
    ``native_work``, when given, stands for it here (a loop whose split gains here but not through
    :mod:`.threads`, which still takes ``work``).  A block that raises (a loop's allocation that fails)
    marks the job, which then runs again through :mod:`.threads`, where the error is raised.

    >>> import numpy as np
    >>> from kernelcli._core import pool
    >>> x = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).astype(np.uint8)
    >>> x.flags.writeable = False  # (the types the loop is called with: see .native_rows)
    >>> out = np.empty((32, 32), np.uint8)
    >>> run_rows(pool.avg2_rows_int, 32, x, 1, out, threads=2, work=10**9)
    >>> out[0, :4].tolist()
    [32, 34, 36, 38]
    """
    global _split_jobs
    python = python_threads.run_rows
    t = n_rows // python_threads.MIN_ROWS_PER_THREAD
    estimate = work if native_work is None else native_work
    if estimate is not None:
        t = min(t, estimate // MIN_WORK_PER_THREAD)
    if t > 1:
        t = min(t, python_threads.count() if threads is None else max(1, threads))
    if t <= 1:  # one thread: the loop, called once (no second estimate through .threads)
        fn(*args, 0, n_rows)
        return
    found = native_rows.find(fn, args)
    if found is None:  # no entry point for these arguments: .threads
        python(fn, n_rows, *args, threads=threads, work=work)
        return
    if not _READY:
        _split_jobs += 1
        if _split_jobs <= python_threads.SPIN_AFTER_JOBS or not prepare():
            python(fn, n_rows, *args, threads=threads, work=work)
            return
    entry = native_rows.entry(fn, args, found)
    if entry is None:  # the entry point cannot be built here
        python(fn, n_rows, *args, threads=threads, work=work)
        return
    address, packed = entry
    helpers = _helpers()
    if not helpers.busy.acquire(blocking=False):  # another thread's job holds the block
        python(fn, n_rows, *args, threads=threads, work=work)
        return
    try:
        helpers.grow(t - 1)
        blocks = min(BLOCKS_PER_THREAD * t, n_rows // python_threads.MIN_ROWS_PER_THREAD, MAX_BLOCKS)
        helpers.run(address, packed, blocks, n_rows, t - 1)
    finally:
        helpers.busy.release()
    if packed[-1]:  # a block raised: the whole job again, where the error is raised (or, once more, not)
        python(fn, n_rows, *args, threads=threads, work=work)
