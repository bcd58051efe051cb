"""Dense kernels against cv2.filter2D: the grid of issue 17, one run a reader can repeat.

``kernelcli.conv2d`` (the library's default policy: a warm process, the jitted core) against
``cv2.filter2D`` with ``BORDER_CONSTANT``, float32, "same" output, random dense kernels 3..31
on 256^2, 2048^2 and 8192^2 images, both libraries on the same thread count.  The two are
timed in interleaved rounds (three calls of ours, three of cv2, ...: ``timing.paired_ms``, as
``run.py`` and ``bench_calls.py`` time them) after a warm-up call each, and the medians compared,
so a busy spell of a shared host slows both sides of a ratio alike.
The results are checked to agree first.

``--scaling`` adds the thread scaling of dense 7x7 on 1024^2, 2048^2 and 4096^2 (1 -> 2 threads), next to
the scaling of a compute-only control loop and a memory-bound one measured in the same rounds: when the
compute-only control does not reach 2x either, the host gave this process less than two cores; the
memory-bound control is what two threads get of the memory bandwidth (a 4096^2 7x7 scales like it).

``--cpu`` times process CPU time instead of wall time: with ``--threads 1`` it measures the work
itself, blind to waiting for a core, which is what to compare on a shared, busy host.

``--blocked`` instead times the in-place loop's three-row sweeps of full 3x3-7x7 kernels against its flat
passes (1 thread, process CPU time): where ``costs.BLOCKED_MIN_VALUES`` should lie, and (``--dtype float64``)
whether float64 images gain from them too.

``--crossover`` instead times the direct loop against the FFT, both forced, at 1 thread (CPU time) and 2
(wall time): where ``costs.FFT_MIN_TAPS`` should lie.

Run: ``python benchmarks/bench_dense.py [--images 256,2048,8192] [--sizes 3,5,7,9,11,15,21,31]
[--repeat 9] [--threads 2] [--path dense|fft] [--scaling] [--cpu] [--crossover] [--blocked [--dtype float64]]``
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import paired_ms

SIZES = (3, 5, 7, 9, 11, 15, 21, 31)
IMAGES = (256, 2048, 8192)


def set_threads(n: int) -> None:
    import cv2
    import numba

    cv2.setNumThreads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def grid(images, sizes, repeat: int, force: str | None, clock=time.perf_counter) -> dict:
    """``{(n, f): (kernelcli ms, cv2 ms, path)}`` for every image side n and kernel size f."""
    import cv2
    import numpy as np

    import kernelcli.api as api
    from kernelcli._core import costs
    from kernelcli._core.policy import Paths

    paths = Paths(force=force) if force else None
    results = {}
    for n in images:
        x = np.random.default_rng(n).random((n, n), dtype=np.float32)
        reps = repeat if n <= 2048 else max(3, repeat // 3)
        for f in sizes:
            k = np.random.default_rng(f).normal(size=(f, f))
            k32 = k.astype(np.float32)
            ours = api.conv2d(x, k, paths=paths)
            theirs = cv2.filter2D(x, -1, k32, borderType=cv2.BORDER_CONSTANT)
            scale = float(np.abs(k).sum())  # |x| <= 1
            assert np.abs(ours - theirs).max() <= 1e-5 * scale, (n, f)
            del ours, theirs
            ms = paired_ms([lambda: api.conv2d(x, k, paths=paths),
                            lambda: cv2.filter2D(x, -1, k32, borderType=cv2.BORDER_CONSTANT)], reps, clock=clock)
            path = force or costs.choose_path(k, (1, 1), (1, 1), np.dtype("float32"))
            results[n, f] = (ms[0], ms[1], path)
            print(f"  {n}^2 {f}x{f} ({path}): kernelcli {ms[0]:.3f} ms, cv2 {ms[1]:.3f} ms, ratio {ms[0] / ms[1]:.2f}",
                  file=sys.stderr, flush=True)
    return results


def markdown(results: dict, images, sizes) -> str:
    head = "| image | " + " | ".join(f"{f}x{f}" for f in sizes) + " |"
    lines = ["kernelcli / cv2.filter2D (ms: kernelcli, cv2; path)", "", head, "|---" * (len(sizes) + 1) + "|"]
    for n in images:
        cells = []
        for f in sizes:
            ours, cv, path = results[n, f]
            cells.append(f"**{ours / cv:.2f}** ({ours:.3g}, {cv:.3g}; {path})")
        lines.append(f"| {n}^2 | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _spin(n: int) -> float:
    s = 0.0
    for _ in range(n):
        s = s * 0.999999 + 1.0
    return s


def _stream(a, b, c, i0, i1):
    for i in range(i0, i1):
        c[i] = a[i] + b[i]


def scaling(repeat: int) -> str:
    """Dense 7x7 on 1024^2, 2048^2 and 4096^2, 1 and 2 threads, beside two controls in the same rounds: a
    compute-only loop (scales 2x when the host gives this process two cores) and a memory-bound one (c = a + b
    over 3 x 64 MiB: what two threads get of the memory bandwidth).  Medians and minima: on a busy host the
    medians show the host, the minima what the code does when both cores are free."""
    import statistics

    import numba
    import numpy as np

    from kernelcli import api

    spin, stream = numba.njit(nogil=True)(_spin), numba.njit(nogil=True)(_stream)
    n = 64 << 18
    a, b, c = np.ones(n, np.float32), np.ones(n, np.float32), np.zeros(n, np.float32)
    spin(10)
    stream(a, b, c, 0, 10)
    work = 20_000_000

    def together(*jobs):
        helpers = [threading.Thread(target=job) for job in jobs[1:]]
        for h in helpers:
            h.start()
        jobs[0]()
        for h in helpers:
            h.join()

    k = np.random.default_rng(3).normal(size=(7, 7))

    def conv_at(x, t):
        def run():
            set_threads(t)
            api.conv2d(x, k)
        return run

    cases = {"compute-only control": (lambda: spin(work), lambda: together(lambda: spin(work // 2), lambda: spin(work // 2))),
             "memory-bound control": (lambda: stream(a, b, c, 0, n),
                                      lambda: together(lambda: stream(a, b, c, 0, n // 2), lambda: stream(a, b, c, n // 2, n)))}
    for side in (1024, 2048, 4096):
        x = np.random.default_rng(2).random((side, side), dtype=np.float32)
        cases[f"dense 7x7 {side}^2"] = (conv_at(x, 1), conv_at(x, 2))
    times = {name: ([], []) for name in cases}
    for one, two in cases.values():
        one(), two()
    for _ in range(repeat):  # interleaved rounds: each case at 1 thread, then at 2, in turn
        for name, pair in cases.items():
            for fn, acc in zip(pair, times[name]):
                t0 = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t0)
    set_threads(2)
    lines = [(f"Speed-up 1 -> 2 threads, {repeat} interleaved rounds (load {os.getloadavg()[0]:.2f} at the end): "
              "median (ms at 1 and 2 threads); from the minima")]
    for name, (t1, t2) in times.items():
        m1, m2 = statistics.median(t1), statistics.median(t2)
        lines.append(f"  {name}: {m1 / m2:.2f} ({1e3 * m1:.2f}, {1e3 * m2:.2f}); {min(t1) / min(t2):.2f}")
    return "\n".join(lines)


def crossover(images, sizes, repeat: int) -> str:
    """The direct loop against the block FFT, both forced, at 1 thread (process CPU time) and 2 (wall
    time), in interleaved rounds: where ``costs.FFT_MIN_TAPS`` should lie (it may not depend on the
    thread count, so both columns must agree on a side)."""
    import numpy as np

    import kernelcli.api as api
    from kernelcli._core import costs
    from kernelcli._core.policy import Paths

    lines = [f"direct / FFT, ms (FFT_MIN_TAPS = {costs.FFT_MIN_TAPS}); > 1: the FFT is quicker", "",
             "| image | kernel | 1 thread CPU: direct, FFT (ratio) | 2 threads wall: direct, FFT (ratio) |", "|---|---|---|---|"]
    dense, fft = Paths(force="dense"), Paths(force="fft")
    for n in images:
        x = np.random.default_rng(n).random((n, n), dtype=np.float32)
        reps = repeat if n <= 2048 else max(3, repeat // 3)
        for f in sizes:
            k = np.random.default_rng(f).normal(size=(f, f))

            def run(paths, t):
                def call():
                    set_threads(t)
                    api.conv2d(x, k, paths=paths)
                return call

            d1, f1 = paired_ms([run(dense, 1), run(fft, 1)], reps, 1, time.process_time)
            d2, f2 = paired_ms([run(dense, 2), run(fft, 2)], reps, 1)
            lines.append(f"| {n}^2 | {f}x{f} ({f * f} taps) | {d1:.3g}, {f1:.3g} (**{d1 / f1:.2f}**) | {d2:.3g}, {f2:.3g} (**{d2 / f2:.2f}**) |")
            print("  " + lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def blocked(images, sizes, repeat: int, dtype: str = "float32") -> str:
    """The in-place loop's blocked sweeps against its flat passes (the same bytes), 1 thread, process CPU
    time, interleaved rounds: each side's plan is made once with the sweeps allowed for every row
    length, or for none (a kernel of its own each, as plans are remembered per kernel)."""
    import numpy as np

    import kernelcli.api as api
    from kernelcli._core import costs, taps

    set_threads(1)
    lines = [f"blocked / flat, {dtype}, ms, 1 thread CPU (BLOCKED_MIN_VALUES = {costs.BLOCKED_MIN_VALUES}); < 1: blocked is quicker", "",
             "| image | kernel | blocked | flat | ratio |", "|---|---|---|---|---|"]
    rows, kinds = costs.BLOCKED_MIN_VALUES, taps.BLOCKED
    for n in images:
        x = np.random.default_rng(n).random((n, n)).astype(dtype)
        calls = max(1, int(2e6 // (n * n)))  # small images: several calls a sample
        for f in (f for f in sizes if f in kinds):
            rng = np.random.default_rng(f)
            kb, kf = rng.normal(size=(f, f)), rng.normal(size=(f, f))
            try:
                costs.BLOCKED_MIN_VALUES = 0
                api.conv2d(x, kb)
                taps.BLOCKED = ()
                api.conv2d(x, kf)
            finally:
                costs.BLOCKED_MIN_VALUES, taps.BLOCKED = rows, kinds

            def run(k):
                def call():
                    for _ in range(calls):
                        api.conv2d(x, k)
                return call

            b, fl = (t / calls for t in paired_ms([run(kb), run(kf)], repeat, 1, time.process_time))
            lines.append(f"| {n}^2 | {f}x{f} | {b:.3g} | {fl:.3g} | **{b / fl:.2f}** |")
            print("  " + lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default=",".join(map(str, IMAGES)), help="image sides")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="kernel sides")
    parser.add_argument("--repeat", type=int, default=9, help="timed pairs per case (8192^2: a third, at least 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads of both libraries")
    parser.add_argument("--path", choices=("dense", "fft", "jit"), default=None, help="force kernelcli's path")
    parser.add_argument("--scaling", action="store_true", help="also measure 1 -> 2 thread scaling with a control")
    parser.add_argument("--cpu", action="store_true",
                        help="time process CPU time, not wall time (with --threads 1: blind to waiting for a core on a busy host)")
    parser.add_argument("--crossover", action="store_true",
                        help="instead: the direct loop against the FFT, both forced, at 1 and 2 threads (where FFT_MIN_TAPS lies)")
    parser.add_argument("--blocked", action="store_true",
                        help="instead: the dense loop's three-row sweeps against its flat passes, 1 thread (where BLOCKED_MIN_VALUES lies)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="the image dtype of --blocked")
    args = parser.parse_args(argv)
    images = [int(s) for s in args.images.split(",") if s.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.crossover or args.blocked:
        load = os.getloadavg()
        print(f"# load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
        print(crossover(images, sizes, args.repeat) if args.crossover else blocked(images, sizes, args.repeat, args.dtype))
        load = os.getloadavg()
        print(f"\nload average at the end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
        return 0
    set_threads(args.threads)
    load = os.getloadavg()
    clock = time.process_time if args.cpu else time.perf_counter
    print(f"# {args.threads} threads both, {'process CPU' if args.cpu else 'wall'} time, medians of {args.repeat} interleaved pairs; "
          f"load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    results = grid(images, sizes, args.repeat, args.path, clock)
    print(markdown(results, images, sizes))
    if args.scaling:
        print()
        print(scaling(args.repeat))
        set_threads(args.threads)
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
