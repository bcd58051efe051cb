"""Timing shared by the benchmark scripts: medians of repeated runs after a warm-up.

Against a peer, time both with :func:`paired_ms` (interleaved rounds): every script that compares
kernelcli with OpenCV does (``run.py``, ``bench_dense.py``, ``bench_calls.py``), so the same case gives
the same ratio in each, within noise (issue 17: ``run.py`` timed each side in a block of its own and
``bench_dense.py`` in alternating pairs, and two scripts gave 0.86 and 1.03 for one cell).
"""

from __future__ import annotations

import statistics
import time


def median_ms(fn, repeat: int, budget_s: float = 20.0) -> float:
    """Median wall time of ``fn()`` in ms after one warm-up call; fewer runs when a run is slow."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    n = repeat if first * repeat <= budget_s else max(1, int(budget_s / max(first, 1e-9)))
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


#: timed calls of each function per round in :func:`paired_ms`: the first call of a round follows the
#: other library's (kernelcli's helper threads have gone to sleep by then: 50-80 us to wake one on a quiet
#: 2-vCPU VM), the others follow its own, as in a program's loop of calls; the median takes the latter
PER_ROUND = 3


def paired_ms(fns, repeat: int, per_round: int = PER_ROUND, clock=time.perf_counter) -> list[float]:
    """Medians (ms) of each of ``fns``: ``repeat`` rounds of ``per_round`` timed calls of each, in turn,
    after one warm-up call each (a busy spell of a shared host slows every side of a ratio alike)."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, acc in zip(fns, times):
            for _ in range(per_round):
                t0 = clock()
                fn()
                acc.append(clock() - t0)
    return [1e3 * statistics.median(t) for t in times]
