"""The thread hand-off of the jitted core (issue 17): what splitting a job over 2 threads costs.

Rows, each timed in interleaved rounds in one process (median of many calls), at 1 and 2 threads:

* an empty job split over 2 threads (``run_tasks`` of 2 no-op tasks: the caller often does both);
* a rendezvous: 2 tasks that each wait outside the GIL until both have started (and about
  ``--task-us`` more): from submit to both done, i.e. the hand-off itself, against one such task
  run alone (``1t``);
* average pooling 2x2 float32 on 2048^2 (about 0.7 ms on one thread, memory-bound);
* dense 7x7 on 256^2 float32 (3.2 M multiply-adds, just above the split threshold);
* dense 3x3 on 512^2 float32 (2.4 M multiply-adds).

``--against PATH`` also loads another checkout's ``kernelcli/_core/threads.py`` and times its
``run_rows``/``run_tasks`` interleaved with this one's (a paired before/after on one host).

``--peers`` instead times the issue's rows at 2 threads against OpenCV (2 threads), this
hand-off and split thresholds, the other ones (``--against``: its ``run_rows`` and ``run_tasks``) and cv2 interleaved in one loop: average pooling 2x2
float32 and uint8 on 2048^2 (``cv2.resize`` INTER_AREA) and dense 3..11 on 256^2 and 2048^2
(``cv2.filter2D``, BORDER_CONSTANT), default path policy; then dense 7x7 2048^2 at 1 and 2 threads.

Run: ``python benchmarks/bench_handoff.py [--repeat 400] [--against /work/main] [--peers]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def paired_us(fns, repeat: int) -> list[float]:
    """Medians (us) of each of ``fns``, called in interleaved rounds (in turning order) after a warm-up call."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for r in range(repeat):
        # the order turns each round: a call right after OpenCV's (whose workers poll after a job)
        # or after another split job runs slower, and no function may always sit there
        for i in range(len(fns)):
            j = (i + r) % len(fns)
            t0 = time.perf_counter()
            fns[j]()
            times[j].append(time.perf_counter() - t0)
    return [1e6 * statistics.median(t) for t in times]


def _busy(n: int) -> float:
    s = 0.0
    for _ in range(n):
        s = s * 0.999999 + 1.0
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=400)
    ap.add_argument("--task-us", type=float, default=50.0)
    ap.add_argument("--against", help="another checkout whose threads.py to compare with")
    ap.add_argument("--peers", action="store_true", help="the issue's rows against cv2 (see above)")
    args = ap.parse_args()
    import numba
    import numpy as np

    from kernelcli import api
    from kernelcli._core import threads
    from kernelcli._core.policy import Paths

    impls = {"this": threads}
    if args.against:
        spec = importlib.util.spec_from_file_location("threads_other", Path(args.against) / "kernelcli/_core/threads.py")
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        impls["other"] = other
    if args.peers:
        peers(impls, args.repeat)
        return
    jit = Paths(force="jit")
    x2048 = np.random.default_rng(1).random((2048, 2048), dtype=np.float32)
    x256 = np.random.default_rng(2).random((256, 256), dtype=np.float32)
    x512 = np.random.default_rng(3).random((512, 512), dtype=np.float32)
    k7 = np.random.default_rng(4).normal(size=(7, 7))
    k3 = np.random.default_rng(5).normal(size=(3, 3))
    jobs = {
        "empty job, 2 tasks": None,
        "rendezvous, 2 tasks": "meet",
        "avg pool 2x2 f32 2048^2": lambda: api.pool2d(x2048, 2, op="avg", paths=jit),
        "dense 7x7 f32 256^2": lambda: api.conv2d(x256, k7, paths=jit),
        "dense 3x3 f32 512^2": lambda: api.conv2d(x512, k3, paths=jit),
    }
    from kernelcli._core.spin import while_equal

    busy = numba.njit(nogil=True)(_busy)  # fixed arithmetic, no memory: the same time on 1 or 2 threads
    busy(10)
    t0 = time.perf_counter()
    busy(1_000_000)
    tail = max(1, int(args.task_us * 1_000_000 / (1e6 * (time.perf_counter() - t0))))

    def meet(mod, t):
        arrived = np.zeros(1, dtype=np.int64)

        def task(i):
            arrived[0] += 1  # under the GIL
            if t == 2:
                while_equal(arrived, 1, 10**9)  # outside it: wait for the other task
            busy(tail)

        if t == 1:
            task(0)
        else:
            mod.run_tasks(task, 2, 2)

    print(f"load average {os.getloadavg()}, repeat {args.repeat}")
    for name, job in jobs.items():
        fns, labels = [], []
        for label, mod in impls.items():
            for t in (1, 2):
                if job is None:
                    if t == 1:
                        continue
                    fns.append(lambda mod=mod: mod.run_tasks(lambda i: None, 2, 2))
                elif job == "meet":
                    fns.append(lambda mod=mod, t=t: meet(mod, t))
                else:
                    def call(mod=mod, t=t, job=job):
                        numba.set_num_threads(t)
                        threads.run_rows = mod.run_rows
                        job()
                    fns.append(call)
                labels.append(f"{label} {t}t")
        own = threads.run_rows
        try:
            res = paired_us(fns, args.repeat)
        finally:
            threads.run_rows = own
            numba.set_num_threads(2)
        print(f"{name:28s} " + "  ".join(f"{lab}: {us:8.1f} us" for lab, us in zip(labels, res)))
    print(f"load average {os.getloadavg()}")


def peers(impls: dict, repeat: int) -> None:
    import cv2
    import numba
    import numpy as np

    from kernelcli import api
    from kernelcli._core import threads

    cv2.setNumThreads(2)
    numba.set_num_threads(2)
    own = threads.run_tasks, threads.run_rows
    rng = np.random.default_rng(0)
    x32 = rng.random((2048, 2048), dtype=np.float32)
    x8 = rng.integers(0, 256, (2048, 2048), dtype=np.uint8)
    cases = [("avg pool 2x2 f32 2048^2", lambda: api.pool2d(x32, 2, op="avg"),
              lambda: cv2.resize(x32, (1024, 1024), interpolation=cv2.INTER_AREA), 60),
             ("avg pool 2x2 u8 2048^2", lambda: api.pool2d(x8, 2, op="avg"),
              lambda: cv2.resize(x8, (1024, 1024), interpolation=cv2.INTER_AREA), 60)]
    for n in (256, 2048):
        x = np.random.default_rng(n).random((n, n), dtype=np.float32)
        for f in (3, 5, 7, 9, 11):
            k = np.random.default_rng(f).normal(size=(f, f))
            k32 = k.astype(np.float32)
            cases.append((f"dense {f}x{f} {n}^2", lambda x=x, k=k: api.conv2d(x, k),
                          lambda x=x, k32=k32: cv2.filter2D(x, -1, k32, borderType=cv2.BORDER_CONSTANT),
                          max(5, repeat if n == 256 else repeat // 20)))
    print(f"load average {os.getloadavg()}; ms, 2 threads each; ratio = kernelcli / cv2")
    for name, ours, theirs, reps in cases:
        fns, labels = [], []
        for label, mod in impls.items():
            def call(mod=mod, ours=ours):
                threads.run_tasks, threads.run_rows = mod.run_tasks, mod.run_rows  # its hand-off and thresholds
                ours()
            fns.append(call)
            labels.append(label)
        fns.append(theirs)
        try:
            res = paired_us(fns, reps)
        finally:
            threads.run_tasks, threads.run_rows = own
        cv = res[-1]
        print(f"{name:24s} " + "  ".join(f"{lab} {us / 1e3:7.3f} ({us / cv:.2f})" for lab, us in zip(labels, res))
              + f"  cv2 {cv / 1e3:7.3f}")
    x = np.random.default_rng(2).random((2048, 2048), dtype=np.float32)
    k = np.random.default_rng(3).normal(size=(7, 7))
    for label, mod in impls.items():
        def at(t, mod=mod):
            numba.set_num_threads(t)
            threads.run_tasks, threads.run_rows = mod.run_tasks, mod.run_rows
            api.conv2d(x, k)
        try:
            one, two = paired_us([lambda: at(1), lambda: at(2)], max(5, repeat // 20))
        finally:
            threads.run_tasks, threads.run_rows = own
            numba.set_num_threads(2)
        print(f"scaling dense 7x7 2048^2 {label}: 1t {one / 1e3:.3f} ms, 2t {two / 1e3:.3f} ms, {one / two:.2f}x")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
