"""One batch call versus one call per file: what batch processing buys.

Makes N random 8-bit greyscale images of SIZE x SIZE (seeded, so every run sees the same
files), then times

* one ``kernelcli <command> DIR --out-dir OUT1`` over all of them (``--workers`` as given,
  default: the number of cores), and
* N separate ``kernelcli <command> FILE --out OUT2/<name>`` calls, one after the other,

checks that both produced the same bytes, and prints the times and the ratio.  The command
is ``convolve --kernel gaussian:1`` when convolve takes several inputs, otherwise
``pool --size 2`` (or whatever ``--command`` says).  An untimed warm-up (one call, one
batch) fills Numba's on-disk cache first.

Run it from the repository root::

    python benchmarks/bench_batch.py                  # 200 images of 512x512
    python benchmarks/bench_batch.py --n 50 --command pad --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

COMMANDS = {
    "convolve": ["--kernel", "gaussian:1"],
    "pool": ["--size", "2"],
    "pad": ["--p", "8", "--mode", "reflect"],
}


def kernelcli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], capture_output=True, text=True, check=check)


def batch_enabled(command: str) -> bool:
    """True when ``command`` takes several inputs (its help lists --out-dir)."""
    return "--out-dir" in kernelcli(command, "--help").stdout


def make_images(folder: Path, n: int, size: int) -> list[Path]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        path = folder / f"img{i:04d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of images (default 200)")
    parser.add_argument("--size", type=int, default=512, help="image side (default 512)")
    parser.add_argument("--command", choices=sorted(COMMANDS), help="default: convolve if batch-enabled, else pool")
    parser.add_argument("--workers", type=int, help="--workers for the batch call (default: kernelcli's, the core count)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    command = args.command or ("convolve" if batch_enabled("convolve") else "pool")
    if not batch_enabled(command):
        sys.exit(f"kernelcli {command} does not take several inputs yet")
    options = COMMANDS[command]
    tmp = Path(tempfile.mkdtemp(prefix="kernelcli-bench-"))
    try:
        images = make_images(tmp / "in", args.n, args.size)
        workers = ["--workers", str(args.workers)] if args.workers else []
        # Warm-up, not timed: a single call and a whole batch, so that Numba's on-disk cache
        # holds every path either of them takes (compiling is a one-off, not throughput).
        kernelcli(command, str(images[0]), *options, "--out", str(tmp / "warmup.png"), "-q")
        kernelcli(command, str(tmp / "in"), *options, "--out-dir", str(tmp / "warmup"), "-q", *workers)

        batch_cmd = [command, str(tmp / "in"), *options, "--out-dir", str(tmp / "batch"), "-q", *workers]
        start = time.perf_counter()
        kernelcli(*batch_cmd)
        batch_s = time.perf_counter() - start

        (tmp / "single").mkdir()
        outputs = sorted(p.name for p in (tmp / "batch").iterdir())
        start = time.perf_counter()
        for image, name in zip(images, outputs):
            kernelcli(command, str(image), *options, "--out", str(tmp / "single" / name), "-q")
        separate_s = time.perf_counter() - start

        same = all((tmp / "batch" / n).read_bytes() == (tmp / "single" / n).read_bytes() for n in outputs)
        result = {
            "command": "kernelcli " + " ".join([command, "DIR", *options, "--out-dir", "OUT", "-q", *workers]),
            "images": args.n,
            "size": f"{args.size}x{args.size}",
            "cores": os.cpu_count(),
            "batch_seconds": round(batch_s, 2),
            "separate_seconds": round(separate_s, 2),
            "ratio": round(separate_s / batch_s, 1),
            "identical_bytes": same,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['command']}  ({args.n} images of {result['size']}, {result['cores']} cores)")
        print(f"  one batch call:    {batch_s:8.2f} s  ({args.n / batch_s:.1f} files/s)")
        print(f"  {args.n} separate calls: {separate_s:8.2f} s  ({args.n / separate_s:.1f} files/s)")
        print(f"  ratio: {result['ratio']}x; outputs identical: {same}")
    if not same:
        sys.exit("the batch and the separate calls wrote different bytes")


if __name__ == "__main__":
    main()
