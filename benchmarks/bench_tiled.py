"""Past one machine, measured: a large Zarr image tile by tile, and a batch on a LocalCluster.

Tiles (``--size``, default 32768: a 1 GiB uint8 image in a Zarr store of 1024x1024 chunks,
written chunk by chunk so this script never holds it either):

* ``kernelcli convolve big.zarr --kernel gaussian:2 --out out.zarr`` in a child process:
  wall time and the child's peak RSS (``wait4``), target < 600 MiB;
* the in-memory path on a ``--ref`` x ``--ref`` image (default 8192, ``.npy`` in and out):
  wall time; the throughput ratio (tiled s/MP over in-memory s/MP) has the target <= 1.5;
* the same ``--ref`` image as Zarr through the tiled path: identical bytes to in memory.

Batch (``--n`` PNGs of ``--png`` x ``--png``, default 2000 of 128x128), ``convolve --kernel
gaussian:1`` into an output folder with ``--workers 1``, ``--workers 2`` and
``--scheduler local --workers 2`` (the cluster's start-up included): the cluster over
``--workers 2`` (target <= 1.3), identical bytes, and scaling 1 -> 2 workers (target >= 1.7).

NIfTI (``--nii``, default 512: a 512^3 int16 ``.nii``, 256 MiB, written slab by slab),
``convolve --kernel gaussian:1.5mm`` in memory and ``--tiled --chunks 128`` (both to ``.nii``):
wall times, each child's peak RSS (the tiled one bounded by the tiles, not the volume) and
identical bytes.

Every run is a fresh ``python -m kernelcli`` process (Numba's cache warmed first, untimed).
Run it alone on the machine, from the repository root::

    python benchmarks/bench_tiled.py                       # the issue's sizes (minutes)
    python benchmarks/bench_tiled.py --size 4096 --ref 2048 --n 100 --png 64   # a quick check
    python benchmarks/bench_tiled.py --only batch --json
    python benchmarks/bench_tiled.py --only nifti --nii 96 --nii-chunks 32   # a quick check
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHUNK = 1024
GNU_TIME = "/usr/bin/time"


def run(*args: str, cwd: Path | None = None) -> tuple[float, float]:
    """Run ``python -m kernelcli ARGS``; return (seconds, the child's peak RSS in MiB). Fails loudly.

    The peak comes from GNU time (``%M``) where it is installed: ``wait4`` on a direct child of
    this script would also count this script's own peak, which Linux hands to the child at exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        cmd = [sys.executable, "-m", "kernelcli", *args]
        if os.path.exists(GNU_TIME):
            cmd = [GNU_TIME, "-f", "%M", "-o", report.name, *cmd]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        stderr = proc.stderr.read() if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"kernelcli {' '.join(args)} failed ({proc.returncode}):\n{stderr}")
        measured = report.read().split()
        kib = float(measured[-1]) if measured else usage.ru_maxrss
    return seconds, kib / 1024.0


def make_zarr(path: Path, size: int, seed: int = 0) -> None:
    """A size x size uint8 Zarr store, written one band of chunks at a time (smooth-ish noise, like tissue)."""
    import zarr

    z = zarr.open_array(str(path), mode="w", shape=(size, size), chunks=(CHUNK, CHUNK), dtype="uint8")
    rng = np.random.default_rng(seed)
    for r in range(0, size, CHUNK):
        rows = min(CHUNK, size - r)
        band = rng.integers(0, 256, (rows, size), dtype=np.uint8)
        band[:, ::2] //= 2  # a little structure, so the store compresses as real images do
        z[r : r + rows] = band


def tiles(work: Path, size: int, ref: int, kernel: str) -> dict:
    import zarr

    big, small, small_zarr = work / "big.zarr", work / "ref.npy", work / "ref.zarr"
    make_zarr(big, size)
    make_zarr(small_zarr, ref, seed=1)
    np.save(small, zarr.open_array(str(small_zarr), mode="r")[:])
    # warm Numba's cache for both paths (untimed)
    run("convolve", str(small), "-k", kernel, "-o", str(work / "warm.npy"), "--rescale", "none")
    run("convolve", str(small_zarr), "-k", kernel, "-o", str(work / "warm.zarr"))
    mem_s, mem_rss = run("convolve", str(small), "-k", kernel, "-o", str(work / "mem.npy"), "--rescale", "none")
    ref_s, ref_rss = run("convolve", str(small_zarr), "-k", kernel, "-o", str(work / "ref_tiled.zarr"))
    mem, tiled = np.load(work / "mem.npy"), zarr.open_array(str(work / "ref_tiled.zarr"), mode="r")[:]
    same = bool(np.array_equal(mem, tiled))
    # every path, the block FFT included, gives the in-memory bytes: the difference is expected to be 0
    largest_difference = float(np.abs(mem.astype(np.float64) - tiled).max())
    big_s, big_rss = run("convolve", str(big), "-k", kernel, "-o", str(work / "out.zarr"))
    mp_big, mp_ref = size * size / 1e6, ref * ref / 1e6
    return {
        "kernel": kernel,
        "tiled": {"size": size, "seconds": round(big_s, 2), "peak_rss_mib": round(big_rss, 1), "s_per_mp": big_s / mp_big},
        "in_memory": {"size": ref, "seconds": round(mem_s, 2), "peak_rss_mib": round(mem_rss, 1), "s_per_mp": mem_s / mp_ref},
        "tiled_ref": {"size": ref, "seconds": round(ref_s, 2), "peak_rss_mib": round(ref_rss, 1), "identical_bytes": same,
                      "largest_difference": largest_difference},
        "throughput_ratio": round((big_s / mp_big) / (mem_s / mp_ref), 3),
        "targets": {"peak_rss_mib": "< 600", "throughput_ratio": "<= 1.5"},
    }


def batch(work: Path, n: int, side: int, kernel: str) -> dict:
    from PIL import Image

    src = work / "pngs"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).save(src / f"img{i:05d}.png")
    run("convolve", str(src / "img00000.png"), "-k", kernel, "-o", str(work / "warm.png"))  # Numba's cache
    times = {}
    for name, extra in (("workers1", ["--workers", "1"]), ("workers2", ["--workers", "2"]),
                        ("scheduler_local1", ["--scheduler", "local", "--workers", "1"]),
                        ("scheduler_local2", ["--scheduler", "local", "--workers", "2"])):
        times[name], _ = run("convolve", str(src), "-k", kernel, "--out-dir", str(work / name), "-q", *extra)
    match = filecmp.dircmp(work / "workers2", work / "scheduler_local2")
    same = not (match.left_only or match.right_only or match.diff_files) and \
        all(filecmp.cmp(work / "workers2" / f, work / "scheduler_local2" / f, shallow=False) for f in match.common_files)
    return {
        "kernel": kernel, "files": n, "side": side,
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "cluster_over_workers2": round(times["scheduler_local2"] / times["workers2"], 3),
        "scaling_1_to_2": round(times["workers1"] / times["workers2"], 3),
        "cluster_scaling_1_to_2": round(times["scheduler_local1"] / times["scheduler_local2"], 3),
        "identical_bytes": same,
        "targets": {"cluster_over_workers2": "<= 1.3", "scaling_1_to_2": ">= 1.7", "cluster_scaling_1_to_2": ">= 1.7"},
    }


def make_nii(path: Path, side: int, seed: int = 0) -> None:
    """A side^3 int16 ``.nii`` (0.8 x 1 x 2.5 mm voxels), its voxels written one k-slab at a time."""
    import nibabel as nib

    hdr = nib.Nifti1Header()
    hdr.set_data_shape((side,) * 3)
    hdr.set_data_dtype(np.int16)
    hdr.set_zooms((0.8, 1.0, 2.5))
    hdr.set_xyzt_units("mm")
    hdr.set_qform(np.diag([0.8, 1.0, 2.5, 1.0]), code=1)
    hdr.set_sform(np.diag([0.8, 1.0, 2.5, 1.0]), code=1)
    hdr["vox_offset"] = 352
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        hdr.write_to(f)
        f.write(b"\0" * (352 - f.tell()))
        for _ in range(side):  # k slabs: (i, j) in Fortran order is x fastest
            f.write(rng.integers(-1000, 2000, (side, side), dtype=np.int16).T.tobytes(order="F"))


def nifti(work: Path, side: int, chunks: int, kernel: str = "gaussian:1.5mm") -> dict:
    src = work / "vol.nii"
    make_nii(src, side)
    run("convolve", str(src), "-k", kernel, "--tiled", "--chunks", str(chunks), "-o", str(work / "warm.nii"))  # Numba's cache
    mem_s, mem_rss = run("convolve", str(src), "-k", kernel, "-o", str(work / "mem.nii"))
    til_s, til_rss = run("convolve", str(src), "-k", kernel, "--tiled", "--chunks", str(chunks), "-o", str(work / "til.nii"))
    return {
        "kernel": kernel, "side": side, "chunks": chunks, "input_mib": round(src.stat().st_size / 2**20, 1),
        "in_memory": {"seconds": round(mem_s, 2), "peak_rss_mib": round(mem_rss, 1)},
        "tiled": {"seconds": round(til_s, 2), "peak_rss_mib": round(til_rss, 1)},
        "identical_bytes": filecmp.cmp(work / "mem.nii", work / "til.nii", shallow=False),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=32768, help="side of the big Zarr image (default 32768: 1 GiB)")
    parser.add_argument("--ref", type=int, default=8192, help="side of the in-memory reference image")
    parser.add_argument("--n", type=int, default=2000, help="PNGs in the batch")
    parser.add_argument("--png", type=int, default=128, help="side of each PNG")
    parser.add_argument("--kernel", default="gaussian:2")
    parser.add_argument("--nii", type=int, default=512, help="side of the int16 .nii volume (default 512: 256 MiB)")
    parser.add_argument("--nii-chunks", type=int, default=128, help="tile side of the tiled .nii run")
    parser.add_argument("--only", choices=["tiles", "batch", "nifti"])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kernelcli-bench-tiled-"))
    try:
        results = {"cores": os.cpu_count()}
        if args.only in (None, "tiles"):
            (work / "t").mkdir()
            results["tiles"] = tiles(work / "t", args.size, args.ref, args.kernel)
        if args.only in (None, "batch"):
            (work / "b").mkdir()
            results["batch"] = batch(work / "b", args.n, args.png, "gaussian:1")
        if args.only in (None, "nifti"):
            (work / "n").mkdir()
            results["nifti"] = nifti(work / "n", args.nii, args.nii_chunks)
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    if "tiles" in results:
        t = results["tiles"]
        print(f"tiles, {t['kernel']}, {os.cpu_count()} cores")
        print(f"  tiled {t['tiled']['size']}^2 Zarr -> Zarr: {t['tiled']['seconds']} s, peak RSS {t['tiled']['peak_rss_mib']} MiB (target < 600)")
        print(f"  in memory {t['in_memory']['size']}^2 .npy -> .npy: {t['in_memory']['seconds']} s, peak RSS {t['in_memory']['peak_rss_mib']} MiB")
        print(f"  throughput ratio tiled / in memory (s per megapixel): {t['throughput_ratio']} (target <= 1.5)")
        print(f"  tiled {t['tiled_ref']['size']}^2 equals in memory byte for byte: {t['tiled_ref']['identical_bytes']}"
              f" (largest difference {t['tiled_ref']['largest_difference']:.3g})")
    if "batch" in results:
        b = results["batch"]
        print(f"batch, {b['files']} PNGs of {b['side']}^2, convolve {b['kernel']}: " +
              ", ".join(f"{k} {v} s" for k, v in b["seconds"].items()))
        print(f"  --scheduler local / --workers 2: {b['cluster_over_workers2']} (target <= 1.3); "
              f"1 -> 2 workers: {b['scaling_1_to_2']}x, on the cluster {b['cluster_scaling_1_to_2']}x (target >= 1.7); "
              f"identical bytes: {b['identical_bytes']}")
    if "nifti" in results:
        n = results["nifti"]
        print(f"NIfTI {n['side']}^3 int16 ({n['input_mib']} MiB), convolve {n['kernel']} to .nii: in memory "
              f"{n['in_memory']['seconds']} s, peak RSS {n['in_memory']['peak_rss_mib']} MiB; --tiled --chunks {n['chunks']} "
              f"{n['tiled']['seconds']} s, peak RSS {n['tiled']['peak_rss_mib']} MiB; identical bytes: {n['identical_bytes']}")


if __name__ == "__main__":
    main()
