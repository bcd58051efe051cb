"""What a call's Python costs after a large job has swept the caches (issue 17's 2x2 average row).

A 2048^2 float32 2x2 average reads 16 MiB and writes 4 MiB: on this host's 2 MiB L2 nothing of
the interpreter's working set survives it, so the next call's Python (argument checks, the path
choice, the hand-off) runs from the L3.  Rows, each a median of many calls in one process:

* ``api.pool2d``'s own Python on 2048^2, the loop replaced by a no-op (``native.run_rows`` and
  ``threads.run_rows``), back to back, and after each of: a one-thread 2x2 average of the image
  (20 MiB through the caller's caches), and one of 4 rows (a few KiB: the control);
* ``cv2.resize`` of an 8x8 image (OpenCV's binding and dispatch, its work negligible) under the
  same three conditions, where cv2 is installed.

Run: ``python benchmarks/bench_python_caches.py [--calls 300]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from kernelcli import api  # noqa: E402
from kernelcli._core import native, pool, threads  # noqa: E402
from kernelcli._core.memo import read_only  # noqa: E402


def median_us(call, before, calls: int) -> float:
    """Median time (us) of ``call()``, each one right after ``before()``."""
    times = []
    for _ in range(calls):
        before()
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    n = 2048
    x = np.random.default_rng(0).random((n, n), dtype=np.float32)
    src, out, flags = read_only(x), np.empty((n // 2, n // 2), np.float32), np.zeros(n // 2, np.bool_)
    for _ in range(30):
        api.pool2d(x, 2, op="avg")
    conditions = (
        ("back to back", lambda: None),
        ("after a 20 MiB sweep", lambda: pool.avg2_rows(src, 1, out, flags, 0, n // 2)),
        ("after 4 rows (control)", lambda: pool.avg2_rows(src, 1, out, flags, 0, 4)),
    )
    rows = []
    saved = native.run_rows, threads.run_rows
    native.run_rows = threads.run_rows = lambda *a, **k: None  # the API's Python alone
    try:
        rows.append(("api.pool2d 2048^2 avg 2x2, its Python alone",
                     [median_us(lambda: api.pool2d(x, 2, op="avg"), before, args.calls) for _, before in conditions]))
    finally:
        native.run_rows, threads.run_rows = saved
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        tiny = x[:8, :8].copy()
        rows.append(("cv2.resize 8x8 INTER_AREA (binding and dispatch)",
                     [median_us(lambda: cv2.resize(tiny, (4, 4), interpolation=cv2.INTER_AREA), before, args.calls)
                      for _, before in conditions]))
    print("| call (us, median of %d) | %s |" % (args.calls, " | ".join(name for name, _ in conditions)))
    print("|---|" + "---|" * len(conditions))
    for name, values in rows:
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |")


if __name__ == "__main__":
    main()
