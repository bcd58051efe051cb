"""The native helpers of :mod:`kernelcli._core.native`: every loop with a C entry point gives, split
over helpers that never take the GIL, the bytes it gives on one thread; the entry points refuse
any argument that is not exactly what they were built for; the helpers really run blocks, sleep
and wake, share the control block with no other caller, and start again in a forked child."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("numba")

from kernelcli import api  # noqa: E402
from kernelcli._core import native, native_rows, pool, threads  # noqa: E402
from kernelcli._core.policy import Paths  # noqa: E402

JIT = Paths(force="jit")


@pytest.fixture
def split_everything(monkeypatch):
    """Every job of 32 rows or more split over two threads, natively, in blocks of 16 rows."""
    monkeypatch.setattr(native, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(threads, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(threads, "count", lambda: 2)
    assert native.prepare()
    jobs = []  # the loops whose jobs ran on the native helpers
    original_entry, original_run = native_rows.entry, native._Pool.run
    entered = []

    def entry(fn, args, found=None):
        got = original_entry(fn, args, found)
        entered.append(fn.py_func.__name__ if got is not None else None)
        return got

    def run(self, *args):
        jobs.append(entered[-1])
        return original_run(self, *args)

    monkeypatch.setattr(native_rows, "entry", entry)
    monkeypatch.setattr(native._Pool, "run", run)
    return jobs


def _serial(monkeypatch, call):
    with monkeypatch.context() as m:
        m.setattr(threads, "count", lambda: 1)
        return call()


def _image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, 256, shape).astype(dtype)
    return (rng.random(shape) * 255).astype(dtype)


DENSE, SEPARABLE = Paths(force="dense"), Paths(force="separable")
GAUSS = np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]) / 256 * 1.1
#: (the loop that must run natively, the call)
CASES = {
    "avg uint8 into uint8": ("avg2_rows_int", lambda x: api.pool2d(x.astype(np.uint8), 2, op="avg", dtype="uint8", paths=JIT)),
    "avg uint8 into float32": ("avg2_rows", lambda x: api.pool2d(x.astype(np.uint8), 2, op="avg", paths=JIT)),
    "avg float32": ("avg2_rows", lambda x: api.pool2d(x.astype(np.float32), 2, op="avg", paths=JIT)),
    "avg float64": ("avg2_rows", lambda x: api.pool2d(x.astype(np.float64), 2, op="avg", paths=JIT)),
    "dense 3x3 same": ("dense_direct", lambda x: api.conv2d(x.astype(np.float32), _kernel(3), paths=DENSE)),
    "dense 5x5 reflect": ("dense_direct", lambda x: api.conv2d(x.astype(np.float32), _kernel(5), pad_mode="reflect", paths=DENSE)),
    "dense 7x7 valid": ("dense_direct", lambda x: api.conv2d(x.astype(np.float32), _kernel(7), padding="valid", paths=DENSE)),
    "dense 2x4 fill 3": ("dense_direct", lambda x: api.conv2d(x.astype(np.float32), _kernel(2, 4), pad_value=3.0, paths=DENSE)),
    "ring uint8 3x3": ("dense_rows", lambda x: api.conv2d(x.astype(np.uint8), _kernel(3), pad_mode="replicate", paths=DENSE)),
    "ring stride 2": ("dense_rows", lambda x: api.conv2d(x.astype(np.float32), _kernel(3), stride=2, paths=DENSE)),
    "separable float32": ("separable_direct", lambda x: api.conv2d(x.astype(np.float32), GAUSS, paths=SEPARABLE)),
    "separable uint8 into uint8": ("separable_cast",
                                   lambda x: api.conv2d(x.astype(np.uint8), GAUSS, dtype="uint8", paths=SEPARABLE)),
    "separable uint8 into float32": ("separable_cast", lambda x: api.conv2d(x.astype(np.uint8), GAUSS, paths=SEPARABLE)),
}


def _kernel(h, w=None):
    return np.random.default_rng(h * 10 + (w or h)).normal(size=(h, w or h))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("shape", [(97, 130), (64, 2050), (70, 40, 3)])
def test_split_over_native_helpers_gives_the_serial_bytes(monkeypatch, split_everything, case, shape):
    loop, call = CASES[case]
    x = _image(shape, np.float32, seed=len(case))
    serial = _serial(monkeypatch, lambda: call(x))
    split = call(x)
    assert split.dtype == serial.dtype and split.tobytes() == serial.tobytes()
    assert loop in split_everything, f"{loop} did not run on the native helpers ({split_everything})"


def test_a_non_finite_input_is_found_on_the_native_path(split_everything):
    """The loops' finiteness screen still reports through ``flags`` when the job runs on the native path."""
    x = _image((256, 256), np.float32)
    x[250, 7] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        api.conv2d(x, _kernel(3), paths=Paths(force="dense"))
    with pytest.raises(ValueError, match="NaN|finite"):
        api.pool2d(x, 2, op="avg", paths=JIT)
    assert split_everything


def test_the_helpers_run_blocks_beside_the_caller(split_everything):
    x = _image((512, 512), np.uint8)
    x.flags.writeable = False
    out = np.empty((256, 256), np.uint8)
    helpers = native._helpers()
    before = int(helpers.control[native.HELPED])
    end = time.monotonic() + 20
    while helpers.control[native.HELPED] == before and time.monotonic() < end:
        native.run_rows(pool.avg2_rows_int, 256, x, 1, out)
    assert helpers.control[native.HELPED] > before, "no helper ever ran a block"


def test_a_sleeping_helper_is_woken_by_the_next_job(split_everything):
    """A job wakes a helper asleep (its poll ran out) and starts without it: the helper takes the blocks
    left when it comes (here a job of 0.1-0.2 ms, a few times a wake-up's time)."""
    x = _image((2048, 2048), np.uint8)
    x.flags.writeable = False
    expected = np.empty((1024, 1024), np.uint8)
    pool.avg2_rows_int(x, 1, expected, 0, 1024)  # one thread, no helper
    out = np.empty((1024, 1024), np.uint8)
    native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)
    helpers = native._pool
    end = time.monotonic() + 10
    while helpers.sleepers < len(helpers.threads) and time.monotonic() < end:  # their polls run out
        time.sleep(0.01)
    assert helpers.sleepers == len(helpers.threads)
    before = int(helpers.control[native.HELPED])
    end = time.monotonic() + 20
    while helpers.control[native.HELPED] == before and time.monotonic() < end:
        while helpers.sleepers < len(helpers.threads) and time.monotonic() < end:
            time.sleep(0.001)  # each job finds it asleep
        native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)
    assert helpers.control[native.HELPED] > before
    assert out.tobytes() == expected.tobytes()


def test_callers_on_several_threads_each_get_their_own_result(split_everything):
    """One job holds the control block at a time: a caller that finds it taken splits through .threads."""
    images = [_image((300, 200), np.float32, seed=s) for s in range(4)]
    k = _kernel(3)
    expected = [api.conv2d(x, k, paths=Paths(force="dense")).tobytes() for x in images]
    errors = []

    def caller(i):
        try:
            for _ in range(30):
                assert api.conv2d(images[i], k, paths=Paths(force="dense")).tobytes() == expected[i]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    callers = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(120)
    assert not any(t.is_alive() for t in callers), "a caller hangs"
    assert not errors


def _read_only(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("change", [
    lambda args: (args[0].astype(np.int8), *args[1:]),  # another dtype
    lambda args: (_read_only(args[0].astype(">u2")), *args[1:]),  # another byte order
    lambda args: (args[0].copy(), *args[1:]),  # writable where the loop takes it read-only
    lambda args: (args[0], args[1], _read_only(args[2].copy())),  # read-only where the loop writes
    lambda args: (args[0], True, *args[2:]),  # a bool for an int
    lambda args: (args[0], np.bool_(True), *args[2:]),
    lambda args: (args[0], 1.0, *args[2:]),  # a float for an int
    lambda args: (args[0], np.int32(1), *args[2:]),  # an int Numba types otherwise
    lambda args: (args[0], 1 << 63, *args[2:]),  # beyond int64
    lambda args: (args[0], args[1], np.empty((8, 16), np.uint8)[:, ::2]),  # not contiguous
    lambda args: (_read_only(np.zeros((16, 32), np.uint8))[:, ::2], *args[1:]),
    lambda args: (args[0][None], *args[1:]),  # another number of dimensions
    lambda args: args[:2],  # an argument short
])
def test_an_entry_point_refuses_what_it_was_not_built_for(change):
    x = _read_only(np.zeros((16, 16), np.uint8))
    args = (x, 1, np.empty((8, 8), np.uint8))
    found = native_rows.entry(pool.avg2_rows_int, args)
    assert found is not None and found[1].tolist() == [x.ctypes.data, 16, 16, 1, args[2].ctypes.data, 8, 8, 0]
    assert native_rows.entry(pool.avg2_rows_int, change(args)) is None
    assert native_rows.entry(pool.avg2_rows, args) is None  # another loop


def test_a_float_argument_travels_as_its_bits():
    from kernelcli._core import conv

    f32, i64 = np.zeros((4, 4), np.float32), np.zeros(4, np.int64)
    for a in (f32, i64):
        a.flags.writeable = False
    runs = np.zeros((1, 3), np.int64)
    runs.flags.writeable = False
    args = (f32, 1, i64, i64, runs, 4, -2.5, 1, 1, 0, 0, i64, i64, np.zeros(4, np.float32), 100.0,
            np.empty((4, 4), np.float32), np.zeros(0, bool))
    args[13].flags.writeable = False
    packed = native_rows.entry(conv.dense_direct, args)[1]
    assert packed[12] == np.float64(-2.5).view(np.int64)
    assert packed[23] == np.float64(100.0).view(np.int64)  # the divisor (after ws: its address and length)
    assert native_rows.entry(conv.dense_direct, (*args[:6], np.float32(-2.5), *args[7:])) is None  # Numba: float32


#: a child process's start: the native helpers on 2 threads for any job, and a 2048^2 uint8 image ``x``, read-only,
#: with ``out`` for its 2x2 average
_SETUP = (
    "from kernelcli._core import native, pool, threads\n"
    "threads.count = lambda: 2\n"
    "native.MIN_WORK_PER_THREAD = 1\n"
    "native.prepare()\n"
    "x = np.arange(2048 * 2048, dtype=np.uint32).reshape(2048, 2048).astype(np.uint8); x.flags.writeable = False\n"
    "out = np.empty((1024, 1024), np.uint8)\n"
)


def test_a_forked_child_starts_its_own_helpers():
    code = (
        "import os, numpy as np\n"
        + _SETUP +
        "native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)  # the parent's helpers exist now\n"
        "expected, parents = out.tobytes(), native._pool\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    import time\n"
        "    end = time.monotonic() + 30  # (the first job starts the child's helper: a thread that may start late)\n"
        "    while time.monotonic() < end and (native._pool is None or native._pool.control[native.HELPED] == 0):\n"
        "        out[:] = 0\n"
        "        native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)\n"
        "        assert out.tobytes() == expected\n"
        "    ours = native._pool\n"
        "    alive = ours is not parents and all(t.is_alive() for t in ours.threads)\n"
        "    os._exit(0 if alive and ours.control[native.HELPED] > 0 else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "0", done.stderr


def test_a_process_that_splits_one_or_two_jobs_does_not_load_the_driver():
    """A command line call splits a job or two: loading the driver and an entry point (8-12 ms) would cost more."""
    code = (
        "import numpy as np\n"
        "from kernelcli import api\n"
        "from kernelcli._core import native, threads\n"
        "threads.count = lambda: 2\n"
        "x = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)\n"
        "for _ in range(threads.SPIN_AFTER_JOBS):\n"
        "    api.pool2d(x, 2, op='avg')\n"
        "print(native._READY, native._pool is None)\n"
        "api.pool2d(x, 2, op='avg')\n"
        "print(native._READY, native._pool is None)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split("\n")[:2] == ["None True", "True False"], done.stderr


def _a_job(rows=64):
    """An avg2_rows_int job's entry point and packed arguments, and its output."""
    x = _read_only(_image((2 * rows, 64), np.uint8))
    out = np.zeros((rows, 32), np.uint8)
    address, packed = native_rows.entry(pool.avg2_rows_int, (x, 1, out))
    return address, packed, out, x


def test_a_late_helper_claims_nothing_of_the_next_job():
    """A helper that comes late to job 5 (all of its 2 blocks claimed) while the caller writes job 6's fields,
    before it publishes job 6's first block: the helper must claim no block (once, it claimed one of job 6
    with job 5's ticket: a block run twice, the count of blocks done wrong, the caller gone early)."""
    assert native.prepare()
    address, packed, out, _ = _a_job()
    keep = [packed]
    control = np.zeros(native.CONTROL, np.int64)
    control[native.NEXT] = native._ticket(5, 2, 2)  # job 5: both blocks claimed
    control[native.ENTRY], control[native.ARGS], control[native.ROWS] = address, packed.ctypes.data, 64  # job 6's fields
    native._run_blocks(control, 5, True)
    assert control[native.DONE] == 0 and control[native.HELPED] == 0 and not out.any() and keep


@pytest.fixture(scope="module")
def counting_entry():
    """A C entry point that counts, for each row of a job, how often it ran, and records which thread ran it."""
    from numba import carray, cfunc, types

    from kernelcli._core.native_rows import SIGNATURE, _int64_at

    thread = types.ExternalFunction("pthread_self", types.uint64())

    @cfunc(SIGNATURE, nopython=True)
    def count(packed, i0, i1):
        w = carray(_int64_at(packed), 3)  # the counts' address, the rows, the runners' address
        counts, runners = carray(_int64_at(w[0]), (w[1],)), carray(_int64_at(w[2]), (w[1],))
        me = thread()
        for i in range(i0, i1):
            counts[i] += 1
            runners[i] = me

    return count


def _counted_jobs(counting_entry, jobs, seats, seed=0):
    """Run ``jobs`` jobs of random rows and block counts on the pool; each row must run once, every block be
    done when the caller returns; the number of distinct threads that ran a job's rows, job by job."""
    rng = np.random.default_rng(seed)
    helpers = native._helpers()
    threads_per_job = []
    with helpers.busy:
        helpers.grow(seats)
        for _ in range(jobs):
            rows = int(rng.integers(32, 4097))
            blocks = int(rng.integers(2, 65))
            counts, runners = np.zeros(rows, np.int64), np.zeros(rows, np.int64)
            packed = np.array([counts.ctypes.data, rows, runners.ctypes.data], np.int64)
            helpers.run(counting_entry.address, packed, blocks, rows, seats)
            assert helpers.control[native.DONE] == blocks and (counts == 1).all()
            threads_per_job.append(len(set(runners.tolist())))
    return threads_per_job


def test_every_row_runs_once_across_the_wrap_of_job_numbers(counting_entry):
    """Many short jobs of varying block counts back to back, across the wrap of the job numbers (the 2^31st
    job once hung): each row runs once, the caller returns with every block done, and the helper takes part
    after the wrap."""
    assert native.prepare()
    helpers = native._helpers()
    helpers.job = native.JOBS - 150
    _counted_jobs(counting_entry, 300, 1)
    assert helpers.job == 150  # JOBS - 149, ..., JOBS, 1, ..., 150
    before = int(helpers.control[native.HELPED])
    end = time.monotonic() + 30
    while helpers.control[native.HELPED] == before and time.monotonic() < end:
        _counted_jobs(counting_entry, 200, 1, seed=int(helpers.job))
    assert helpers.control[native.HELPED] > before, "no helper ran a block after the wrap"


def test_a_job_takes_no_more_helpers_than_its_seats(counting_entry):
    """The pool keeps the helpers a larger thread count started; a job takes at most its own count."""
    assert native.prepare()
    control = np.zeros(native.CONTROL, np.int64)
    control[native.SEATS] = (7 << 32) | 1
    assert native._take_seat(control, 7) and not native._take_seat(control, 7)
    control[native.SEATS] = (7 << 32) | 3
    assert not native._take_seat(control, 8)  # another job's seats
    _counted_jobs(counting_entry, 50, 3)  # three helpers now
    assert len(native._helpers().threads) >= 3
    assert max(_counted_jobs(counting_entry, 400, 1)) <= 2  # the caller and one helper
    assert max(_counted_jobs(counting_entry, 400, 0)) == 1  # the caller alone


def test_a_block_that_raises_raises_the_callers_error(split_everything):
    """A C entry point cannot raise: a block whose loop raised (here an allocation too large) marks the job,
    which runs again through .threads, where the error reaches the caller."""
    from kernelcli._core import conv, engine

    x = _image((128, 96), np.float32)
    api.conv2d(x, _kernel(3), stride=2, paths=DENSE)
    plan = next(p for p in engine._PLANS.table.values() if p.fn is conv.dense_rows and p.out_shape[2] == 1
                and p.args[7] == 2 and p.out_shape[:2] == (64, 48))  # this call's (another test's may be too short to split)
    args = list(plan.args)
    args[6] = 1 << 40  # span: the ring of padded rows cannot be allocated
    src = _read_only(np.ascontiguousarray(x))
    out, flags = np.empty((plan.out_shape[0], plan.out_shape[1]), np.float32), np.zeros(0, bool)
    ran_natively = len(split_everything)
    with pytest.raises(MemoryError):
        native.run_rows(conv.dense_rows, out.shape[0], src, *args, out, flags, work=10**9)
    assert len(split_everything) == ran_natively + 1  # (the native job ran first)


def test_a_uint8_average_splits_natively_and_stays_on_one_thread_without(monkeypatch):
    """2048^2 uint8 into uint8 (1 M outputs) splits on the native helpers (engine._POOL_INT_WORK_NATIVE) but not
    through .threads, whose hand-off loses there (engine._POOL_INT_WORK): a process's first jobs, or no driver."""
    monkeypatch.setattr(threads, "count", lambda: 2)

    def no_python_helpers(*_args):
        raise AssertionError("the Python hand-off split a job it loses on")

    monkeypatch.setattr(threads, "_helpers", no_python_helpers)
    x = _image((2048, 2048), np.uint8)
    assert native.prepare()
    jobs = []
    original = native._Pool.run
    monkeypatch.setattr(native._Pool, "run", lambda self, *args: (jobs.append(args), original(self, *args)))
    split = api.pool2d(x, 2, op="avg", dtype="uint8")
    assert len(jobs) == 1
    monkeypatch.setattr(native, "_READY", False)  # no driver here
    assert api.pool2d(x, 2, op="avg", dtype="uint8").tobytes() == split.tobytes() and len(jobs) == 1


def test_the_helpers_go_home_before_the_interpreter_exits():
    """At exit the helpers leave their poll and end: a daemon thread runs on through the interpreter's teardown
    until it needs the GIL, and a helper still polling would read the control block after it is freed (and
    might call what it then holds).  A job after that runs on the caller alone, with the same bytes."""
    code = (
        "import atexit, sys\n"
        "def after_ours():  # registered first: runs after native's own exit function\n"
        "    from kernelcli._core import native\n"
        "    print('at exit', not any(t.is_alive() for t in native._pool.threads), len(native._pool.threads))\n"
        "    sys.stdout.flush()\n"
        "atexit.register(after_ours)\n"
        "import numpy as np\n"
        + _SETUP +
        "for _ in range(20):\n"
        "    native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)\n"
        "expected = out.tobytes()\n"
        "helpers = native._pool\n"
        "native._stop_helpers()  # (what atexit calls)\n"
        "print(not any(t.is_alive() for t in helpers.threads), helpers.control[native.JOB] == native.STOP)\n"
        "out[:] = 0\n"
        "native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)\n"
        "print(out.tobytes() == expected)\n"
        "native._forget_pool()  # a new pool, its helper polling as the program ends\n"
        "for _ in range(5):\n"
        "    native.run_rows(pool.avg2_rows_int, 1024, x, 1, out)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.split("\n")[:3]) == (0, ["True True", "True", "at exit True 1"]), done.stderr
