"""Benchmark rows: conv_layer, 3 -> 16 (and 64) filters 3x3 on 512x512x3 float32, against torch conv2d.

Measured both ways (issue 17): each side allocating its result every call, and each side
reusing its output memory.  kernelcli: ``conv_layer(...)`` and ``conv_layer(..., out=buf)``, and
for comparison ``out=buf`` through the loop that computes one filter at a time
(``Paths(force="filterwise")``; the default is the register-blocked loop).
torch, three ways, the best of which is the peer: ``F.conv2d`` on the NCHW copy of the image;
``F.conv2d`` on a channels-last tensor (``.contiguous(memory_format=torch.channels_last)``, made
before timing: oneDNN's channels-last kernel, which writes an output laid out as kernelcli's);
and ``torch.ops.aten.convolution.out`` into a preallocated tensor (``F.conv2d`` has no ``out=``).
"same" zero padding, bias, no activation, both on the same thread count; the results are
checked to agree first.  The variants are timed in interleaved rounds (one call of each per
round, medians), so a busy spell of a shared host slows all alike; ``--cpu`` times process CPU
time instead of wall time (use it with ``--threads 1``: it ignores waiting for a core).

Run: ``python benchmarks/bench_layer.py [--filters 16,64] [--threads 2] [--repeat 21] [--cpu]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bench_conv_layer(size: int = 512, channels: int = 3, filters: int = 16, f: int = 3, repeats: int = 21,
                     threads: int = 2, cpu: bool = False) -> dict:
    """Time conv_layer (fresh and ``out=``) and torch's variants on one random input; print and return the row.

    ``torch_ms`` is the fastest torch variant; ``torch`` holds all three.
    """
    import numba
    import numpy as np
    import torch

    from kernelcli._core.policy import Paths
    from kernelcli.layers import conv_layer

    jit = Paths(force="jit")  # the jitted core, not the cold-process numpy fallback
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    rng = np.random.default_rng(0)
    x = rng.random((size, size, channels), dtype=np.float32)
    w = rng.normal(size=(filters, channels, f, f)).astype(np.float32)
    b = rng.normal(size=filters).astype(np.float32)
    pad = f // 2
    nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    # channels-last memory allocated by torch (aligned: the numpy image's own memory, viewed with
    # channels-last strides, is 16 bytes off a cache line and oneDNN runs 1.6x slower on it)
    nhwc = nchw.contiguous(memory_format=torch.channels_last)
    wt, bt = torch.from_numpy(w), torch.from_numpy(b)
    # the buffer a loop reuses is a first result (aligned to a register, as torch aligns its own; a
    # np.empty buffer is 16 bytes off and is written through the caches, not past them)
    buf = conv_layer(x, w, b, padding=pad, paths=jit)
    tbuf = torch.empty((1, filters, size, size)).contiguous(memory_format=torch.channels_last)

    def aten_out():
        return torch.ops.aten.convolution.out(nhwc, wt, bt, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, out=tbuf)

    filterwise = Paths(force="filterwise")  # the loop before the register-blocked one, for comparison
    ours = {"fresh": lambda: conv_layer(x, w, b, padding=pad, paths=jit),
            "out=": lambda: conv_layer(x, w, b, padding=pad, paths=jit, out=buf),
            "filterwise out=": lambda: conv_layer(x, w, b, padding=pad, paths=filterwise, out=buf)}
    theirs = {"NCHW": lambda: torch.nn.functional.conv2d(nchw, wt, bt, padding=pad),
              "channels-last": lambda: torch.nn.functional.conv2d(nhwc, wt, bt, padding=pad),
              "aten out=": aten_out}
    with torch.no_grad():
        want = theirs["NCHW"]()[0].permute(1, 2, 0).numpy()
        for fn in ours.values():
            np.testing.assert_allclose(fn(), want, rtol=1e-4, atol=1e-4)
        for fn in theirs.values():
            np.testing.assert_allclose(fn()[0].permute(1, 2, 0).numpy(), want, rtol=1e-4, atol=1e-4)
        clock = time.process_time if cpu else time.perf_counter
        fns = {**{f"kernelcli {k}": v for k, v in ours.items()}, **{f"torch {k}": v for k, v in theirs.items()}}
        times = {k: [] for k in fns}
        # a new order every round: a call right after torch's runs beside its OpenMP threads, which
        # still spin for the next parallel region (a fixed order put kernelcli's fresh call there
        # every time: 12.7 ms against 4.7 with out=, where alone the two take the same time)
        order, shuffle = list(fns), random.Random(0).shuffle
        for _ in range(repeats):
            shuffle(order)
            for name in order:
                t0 = clock()
                fns[name]()
                times[name].append(clock() - t0)
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    best_torch = min((v, k) for k, v in ms.items() if k.startswith("torch"))
    row = {
        "case": f"{size}x{size}x{channels} -> {filters} filters {f}x{f}, float32, {threads} threads",
        "conv_layer_ms": round(ms["kernelcli fresh"], 2),
        "conv_layer_out_ms": round(ms["kernelcli out="], 2),
        "filterwise_out_ms": round(ms["kernelcli filterwise out="], 2),
        "torch_ms": round(best_torch[0], 2),
        "torch_best": best_torch[1],
        "torch": {k[6:]: round(v, 2) for k, v in ms.items() if k.startswith("torch")},
    }
    cells = ", ".join(f"{k} {v:.2f}" for k, v in ms.items())
    print(f"{row['case']} ({'CPU' if cpu else 'wall'} ms, medians of {repeats}): {cells}; "
          f"kernelcli fresh / best torch {ms['kernelcli fresh'] / best_torch[0]:.2f}, "
          f"out= / best torch {ms['kernelcli out='] / best_torch[0]:.2f}")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filters", default="16,64", help="filter counts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"# load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    for k in (int(s) for s in args.filters.split(",") if s.strip()):
        bench_conv_layer(filters=k, repeats=args.repeat, threads=args.threads, cpu=args.cpu)
    load = os.getloadavg()
    print(f"# load average at the end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
