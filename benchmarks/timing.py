"""Timing shared by the benchmark scripts: the median of repeated runs after a warm-up."""

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
