"""The helper threads of :mod:`kernelcli._core.threads`: hand-off, bounded polling, fork.

Results under every split are compared in test_fastpaths.py / test_overhead.py (1 vs 2
threads, same bytes); here the crew itself: a helper really runs a task beside the caller,
with and without the poll, sleeps once the poll is over, and survives a fork.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from kernelcli._core import threads


def _rendezvous(n_jobs: int = 5) -> None:
    """Jobs of 2 tasks that each wait for the other: done only if a helper ran one beside the caller."""
    for _ in range(n_jobs):
        barrier, seen = threading.Barrier(2, timeout=20), []
        threads.run_tasks(lambda i, barrier=barrier, seen=seen: (barrier.wait(), seen.append(i)), 2, 2)
        assert sorted(seen) == [0, 1]


@pytest.fixture
def fresh_crew(monkeypatch):
    """A crew of this test's own, polling after its first job (a fork test's parent has one too)."""
    monkeypatch.setattr(threads, "_crew", None)
    monkeypatch.setattr(threads, "SPIN_AFTER_JOBS", 1)
    monkeypatch.setattr(threads, "_POLLS", 0)  # measured again: an earlier test's measure would set the poll up at once
    yield
    crew = threads._crew
    if crew is not None:  # its threads sleep for good once forgotten: let them finish the poll first
        _wait_all_asleep(crew)


def _wait_all_asleep(crew, timeout=10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with crew.cond:
            if crew.sleepers == len(crew.threads):
                return True
        time.sleep(0.005)
    return False


def test_a_helper_runs_beside_the_caller_before_and_after_the_poll_is_set_up(fresh_crew):
    pytest.importorskip("numba")
    during = []
    barrier = threading.Barrier(2, timeout=20)
    # Each task reads the poll before the rendezvous: a helper sets it up only after its task,
    # so a read after the barrier raced it (a caller descheduled there saw a helper's poll).
    threads.run_tasks(lambda i: (during.append(threads._crew.polls), barrier.wait()), 2, 2)
    crew = threads._crew
    assert during == [0, 0]  # the first job ran beside a helper with no poll set up yet
    _rendezvous(3)
    end = time.monotonic() + 10
    while crew.polls == 0 and time.monotonic() < end:  # set up by a helper, after its job
        _rendezvous(1)
    assert crew.polls > 0, "the helpers never started polling"
    _rendezvous(20)  # back to back: the helpers are caught polling


def test_the_caller_returns_when_a_helpers_last_task_is_done(fresh_crew, monkeypatch):
    """A helper that does a job's last task reports it from its poll, outside the GIL
    (:func:`kernelcli._core.spin.store_then_poll`): the caller returns once that task is done,
    never before, with the poll set up or not, and a task's error still reaches the caller."""
    pytest.importorskip("numba")
    from kernelcli._core import spin

    main = threading.current_thread()
    reported = []  # the flags the helper set from its poll
    store_then_poll = spin.store_then_poll

    def recording(done, flag, value, polls):
        found = store_then_poll(done, flag, value, polls)
        if done.size:
            reported.append(done)
        return found

    monkeypatch.setattr(spin, "store_then_poll", recording)

    def slow_helper(i, barrier, finished, fail=False):
        barrier.wait()  # one task a thread: the helper's is the last to end
        if threading.current_thread() is not main:
            time.sleep(0.02)
            if fail:
                raise ValueError("the helper's task")
        finished.append(i)

    for round_ in range(12):
        barrier, finished = threading.Barrier(2, timeout=20), []
        t0 = time.monotonic()
        threads.run_tasks(lambda i: slow_helper(i, barrier, finished), 2, 2)
        assert sorted(finished) == [0, 1] and time.monotonic() - t0 >= 0.02, round_
    assert threads._crew.polls > 0  # the later rounds reported through the poll
    assert reported and all(flag.tolist() == [1] for flag in reported)
    barrier = threading.Barrier(2, timeout=20)
    with pytest.raises(ValueError, match="the helper's task"):
        threads.run_tasks(lambda i: slow_helper(i, barrier, [], fail=True), 2, 2)


class _Stop(BaseException):
    """Not an Exception: what a KeyboardInterrupt or SystemExit raised in a task is to run_tasks."""


def test_a_helpers_base_exception_reaches_the_caller_and_the_helper_lives_on(fresh_crew):
    """A task of a helper that raises a BaseException (not an Exception) is the caller's error, as an
    Exception is; it once counted as done (the call returned without an error) and ended that helper."""
    main = threading.current_thread()

    def stop_in_helper(i, barrier):
        barrier.wait()  # one task a thread
        if threading.current_thread() is not main:
            raise _Stop("the helper's task")

    for _ in range(3):
        with pytest.raises(_Stop, match="the helper's task"):
            threads.run_tasks(lambda i, barrier=threading.Barrier(2, timeout=20): stop_in_helper(i, barrier), 2, 2)
    assert all(t.is_alive() for t in threads._crew.threads)
    _rendezvous(2)  # the helper still takes its share
    ran = []

    def first_stops(i):
        if i == 0:
            raise _Stop
        time.sleep(0.001)
        ran.append(i)

    with pytest.raises(_Stop):  # after an error the tasks not yet started are skipped (at most one a helper began)
        threads.run_tasks(first_stops, 50, 2)
    assert len(ran) <= 2, ran


def test_store_then_poll_sets_a_flag_and_leaves_an_empty_array_alone():
    pytest.importorskip("numba")
    from kernelcli._core import spin

    counter, flag, nothing = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    assert not spin.store_then_poll(flag, counter, 0, 3) and flag.tolist() == [1]  # set, then polled in vain
    counter[0] = 5
    assert spin.store_then_poll(nothing, counter, 0, 3) and nothing.size == 0  # the counter moved: found at once


def test_an_idle_crew_sleeps_after_a_bounded_poll(fresh_crew):
    pytest.importorskip("numba")
    _rendezvous(4)
    crew = threads._crew
    assert crew.polls > 0
    # polling ends after about SPIN_US (plus descheduling on a busy host): then every helper waits
    assert _wait_all_asleep(crew), "a helper kept polling: it would hold a core while idle"


def test_without_numba_loaded_the_crew_does_not_load_it():
    code = (
        "import sys\n"
        "from kernelcli._core import threads\n"
        "threads.SPIN_AFTER_JOBS = 0\n"
        "for _ in range(5):\n"
        "    seen = []\n"
        "    threads.run_tasks(seen.append, 8, 2)\n"
        "    assert sorted(seen) == list(range(8))\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_the_job_is_forgotten_when_the_call_returns(fresh_crew):
    import gc
    import weakref

    out = np.zeros(64)
    gone = weakref.ref(out)

    def boom(a, i0, i1):  # an error's traceback holds this frame, and so the array
        raise ValueError(f"rows {i0}:{i1} of {a.size}")

    with pytest.raises(ValueError):
        threads.run_rows(boom, 64, out, threads=2)
    del out
    gc.collect()
    assert gone() is None, "the crew's last job still holds the error and its frames"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_of_a_polling_parent_gets_its_own_helpers():
    code = (
        "import multiprocessing as mp, threading\n"
        "import numba, numpy as np\n"
        "from kernelcli._core import threads\n"
        "threads.SPIN_AFTER_JOBS = 1\n"
        "def meet():\n"
        "    b = threading.Barrier(2, timeout=20)\n"
        "    threads.run_tasks(lambda i: b.wait(), 2, 2)\n"
        "def job(_):\n"
        "    for _ in range(5):\n"
        "        meet()\n"
        "    return threads._crew.polls > 0\n"
        "if __name__ == '__main__':\n"
        "    import time\n"
        "    for _ in range(50):\n"
        "        meet()\n"
        "        if threads._crew.polls:\n"
        "            break\n"
        "    assert threads._crew.polls > 0\n"
        "    with mp.get_context('fork').Pool(1) as pool:\n"
        "        print(pool.map(job, [0])[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


def test_callers_on_several_threads_share_the_crew(fresh_crew):
    # the batch runs groups of files on 4 threads: their jobs replace one another in the crew,
    # and each caller still gets every one of its rows done exactly once
    outs = [np.zeros(512, dtype=int) for _ in range(4)]
    errors = []

    def caller(out):
        try:
            for _ in range(50):
                threads.run_rows(lambda o, i0, i1: o.__setitem__(slice(i0, i1), o[i0:i1] + 1), 512, out, threads=2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=caller, args=(o,)) for o in outs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors
    for o in outs:
        assert (o == 50).all()


def test_a_crew_started_before_numba_polls_once_numba_is_loaded():
    # a batch's first files may take the block FFT without Numba; the poll was then never set up
    code = (
        "import sys, threading\n"
        "from kernelcli._core import threads\n"
        "threads.SPIN_AFTER_JOBS = 1\n"
        "def meet():\n"
        "    b = threading.Barrier(2, timeout=20)\n"
        "    threads.run_tasks(lambda i: b.wait(), 2, 2)\n"
        "for _ in range(3):\n"
        "    meet()\n"
        "assert 'numba' not in sys.modules and threads._crew.polls == 0\n"
        "import numba\n"
        "for _ in range(50):\n"
        "    meet()\n"
        "    if threads._crew.polls:\n"
        "        break\n"
        "print(threads._crew.polls > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


def test_a_helper_outlives_a_poll_that_cannot_be_set_up(fresh_crew, monkeypatch):
    def broken() -> int:
        raise RuntimeError("no spin loop here")

    monkeypatch.setattr(threads, "prepare", broken)
    for _ in range(4):  # each job needs the helper: a helper killed by the set-up breaks the barrier
        barrier = threading.Barrier(2, timeout=20)  # as _rendezvous: a helper descheduled 6 s broke a 5 s barrier
        threads.run_tasks(lambda i, barrier=barrier: barrier.wait(), 2, 2)
    assert threads._crew.polls == 0


@pytest.mark.parametrize("work, per_thread", [(None, threads.BLOCKS_PER_THREAD), (threads.MIN_WORK_PER_THREAD * 2, 1),
                                              (threads.BLOCK_WORK * 2 * 2, 2), (10**12, threads.BLOCKS_PER_THREAD)])
def test_a_short_job_takes_one_block_a_thread(work, per_thread):
    """Each block costs a Python call: a job under a few :data:`threads.BLOCK_WORK` is cut once per thread."""
    blocks = []
    out = np.zeros(4096)

    def fill(out, i0, i1):
        blocks.append((i0, i1))
        out[i0:i1] += 1

    threads.run_rows(fill, out.shape[0], out, threads=2, work=work)
    assert len(blocks) == 2 * per_thread
    assert (out == 1).all()  # every row once, whoever computed it
